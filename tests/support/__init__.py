"""Test support shared by every test package (real git repositories, databases)."""

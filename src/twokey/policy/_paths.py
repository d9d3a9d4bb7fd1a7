"""Where a repository keeps its policy; a module of its own so that naming the path (every
command's ``--policy`` help, the trusted-policy resolver) never imports the YAML parser."""

from __future__ import annotations

__all__ = ["DEFAULT_POLICY_PATH"]

DEFAULT_POLICY_PATH = ".twokey/policy.yml"

"""Session-wide keys and template server for the git integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.git._harness import Keys, Server, build_template, server_from


@pytest.fixture(scope="session")
def keys() -> Keys:
    """Signing keys for everyone, generated once."""
    return Keys.generate()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Path:
    """The bare server repository with the policy on main and the hook installed."""
    return build_template(tmp_path_factory.mktemp("template"), keys)


@pytest.fixture
def server(tmp_path: Path, template: Path, keys: Keys) -> Server:
    """A fresh copy of the template server for one test."""
    return server_from(template, tmp_path, keys)

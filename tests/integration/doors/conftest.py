"""Keys for the door tests (generated once per session) and a fresh deploy world per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.doors._deploys import World, make_world
from tests.integration.git._harness import Keys


@pytest.fixture(scope="session")
def keys() -> Keys:
    """Signing keys for everyone in the test policy."""
    return Keys.generate()


@pytest.fixture
def world(tmp_path: Path, keys: Keys) -> World:
    """An origin with a history, and the deploy job's clone of it."""
    return make_world(tmp_path, keys)

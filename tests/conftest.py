"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The ``shared/`` folder beside the checkout (vectors, forge payloads, walkthrough)."""
    override = os.environ.get("TWOKEY_SHARED_DIR")
    return Path(override) if override else REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    """Path of ``shared/``; skips with a reason when it is not beside the checkout."""
    path = shared_dir()
    if not path.is_dir():
        pytest.skip(f"shared/ not found at {path} (set TWOKEY_SHARED_DIR)")
    return path


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's chromium; skips with a reason when absent, fails in CI (TWOKEY_REQUIRE_BROWSER)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not installed (apt-get install -y chromium; .ci/run does it)"
        if os.environ.get("TWOKEY_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


POSTGRES_URL = os.environ.get("TWOKEY_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL with a fresh schema of its own, dropped afterwards.

    Skips with a reason when no server answers; fails instead when TWOKEY_REQUIRE_POSTGRES=1
    (CI), so that CI never silently skips the PostgreSQL tests.
    """
    import psycopg  # noqa: PLC0415 - only the tests that need PostgreSQL import it

    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        admin = psycopg.connect(POSTGRES_URL, connect_timeout=3, autocommit=True)
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}".splitlines()[0]
        if os.environ.get("TWOKEY_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}schema={schema}"
    finally:
        admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.close()

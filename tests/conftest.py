"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO_ROOT = Path(__file__).resolve().parent.parent

# Property tests judge answers, never time: no per-example deadline and no "too slow" health
# check, which a loaded 2-core CI machine trips without any fault in the code (a test's own
# @settings still sets what it names). Speed is measured by the benchmarks under bench/.
settings.register_profile("twokey", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("twokey")


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

"""``twokey serve --demo`` (the README's Quick start) as a newcomer runs it: a real process that
builds the sample, prints the URL and one code per person, and serves; a code signs in once."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.gateway import RunningGateway, start_gateway

_CODE = re.compile(r"^\s+(\w+)\s+([A-Z2-9]{4}-[A-Z2-9]{4})\s", re.M)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    data = tmp_path_factory.mktemp("demo") / "data"
    gateway = start_gateway(data, "--demo", timeout=90)
    try:
        yield gateway
    finally:
        gateway.stop()


def _codes(output: str) -> dict[str, str]:
    return dict(_CODE.findall(output))


def test_the_demo_prints_the_url_and_a_code_per_person(demo: RunningGateway) -> None:
    output = demo.stderr()
    assert f"open {demo.url}/login" in output
    assert set(_codes(output)) == {"dave", "alice", "carol", "erin"}
    assert "7 deploy requests" in output


def _sign_in(url: str, code: str) -> httpx.Client:
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
    answer = client.post("/v1/session", data={"code": code})
    assert answer.status_code == 303, answer.text
    return client


def test_a_printed_code_signs_dave_in_and_shows_what_waits(demo: RunningGateway) -> None:
    code = _codes(demo.stderr())["dave"]
    client = _sign_in(demo.url, code)
    page = client.get("/")
    client.close()
    assert page.status_code == 200
    waiting = page.text.split('data-testid="waiting"')[1].split("</section>")[0]
    assert waiting.count('href="/deploys/d') == 2  # the ready one and Carol's own-approval one
    exceptions = page.text.split('data-testid="exceptions"')[1].split("</section>")[0]
    assert "staging" in exceptions


def test_a_code_works_once(demo: RunningGateway) -> None:
    code = _codes(demo.stderr())["erin"]
    _sign_in(demo.url, code).close()
    with httpx.Client(base_url=demo.url, follow_redirects=False, timeout=30) as client:
        again = client.post("/v1/session", data={"code": code})
    assert again.status_code == 303
    assert again.headers["location"].startswith("/login?error=")
    assert "set-cookie" not in again.headers


def test_the_printed_login_command_gives_a_new_code(demo: RunningGateway, tmp_path: Path) -> None:
    """The line the demo prints for a fresh code works as printed (the demo's SSH key)."""
    line = next(s for s in demo.stderr().splitlines() if "twokey login --gateway" in s)
    argv = shlex.split(line)[1:]
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "twokey", *argv],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    code = re.search(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b", done.stdout + done.stderr)
    assert code is not None, done.stdout + done.stderr
    client = _sign_in(demo.url, code.group(1))
    page = client.get("/")
    client.close()
    assert 'data-testid="who">dave<' in page.text


def test_running_it_again_on_the_same_data_reuses_the_demo(demo: RunningGateway) -> None:
    first = _codes(demo.stderr())
    demo.stop()
    again = start_gateway(demo.data, "--demo", timeout=90)
    try:
        codes = _codes(again.stderr())
        assert set(codes) == set(first)
        assert codes["dave"] != first["dave"]  # new codes
        assert "7 deploy requests" in again.stderr()
        client = _sign_in(again.url, codes["alice"])
        listed = client.get("/deploys").text
        client.close()
        assert listed.count('<td><a href="/deploys/d') == 7  # nothing was requested twice
    finally:
        again.stop()


def test_demo_refuses_a_repository_of_its_own(tmp_path: Path) -> None:
    from twokey.cli import main  # noqa: PLC0415

    assert main(["serve", "--demo", "--repo", str(tmp_path), "--data", str(tmp_path)]) == 2

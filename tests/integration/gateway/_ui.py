"""The web UI tests' world: the demo organisation behind a running ``twokey serve``.

``prepare_demo`` and ``seed_demo`` build it exactly as ``twokey serve --demo`` does (real git,
real signed evidence, requests judged by the deploy service and recorded in the ledger); the
gateway then runs as a real process over it. Sessions are made the way a browser gets one
(a one-time code redeemed at ``POST /v1/session``) or, for HTTP tests of one person's view,
issued straight into the gateway's token table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.support.gateway import RunningGateway, issue_token, start_gateway
from twokey.gateway import GatewayConfig, prepare_demo, seed_demo
from twokey.gateway._auth import SESSION_COOKIE

__all__ = ["UiWorld", "csrf_of", "start_ui_world"]

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]*)"')


@dataclass
class UiWorld:
    """The demo's requests by scenario, and the gateway serving them."""

    gateway: RunningGateway
    data: Path
    requests: dict[str, str]  # scenario -> deploy id
    repo: Path  # the demo's repository (its policy lists the people)

    def session(self, person: str) -> str:
        """A browser session token for ``person`` (as a redeemed code would give)."""
        database = f"sqlite://{self.data / 'gateway.db'}"
        return issue_token(database, "session", person, self.repo, name="ui test")

    def browser(self, person: str = "") -> httpx.Client:
        """An HTTP client with ``person``'s session cookie (none when empty); no redirects."""
        client = httpx.Client(base_url=self.gateway.url, timeout=30, follow_redirects=False)
        if person:
            client.cookies.set(SESSION_COOKIE, self.session(person))
        return client

    def url(self, path: str) -> str:
        """An absolute URL of the gateway."""
        return self.gateway.url + path


SCENARIOS = ("deployed", "ready", "own-approval", "no-provenance", "laptop", "unreviewed", "glass")


def start_ui_world(root: Path, *args: str) -> UiWorld:
    """Build the demo under ``root`` and start a gateway over it."""
    data = root / "data"
    data.mkdir(parents=True)
    demo = prepare_demo(data, datetime.now(UTC))
    ids = seed_demo(GatewayConfig(data=data, repo=demo.repo), demo)
    gateway = start_gateway(data, *args, repo=demo.repo)
    return UiWorld(gateway, data, dict(zip(SCENARIOS, ids, strict=True)), demo.repo)


def csrf_of(page: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF.search(page)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)

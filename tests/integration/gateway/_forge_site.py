"""A forge site for the gateway's forge tests: a bare mirror with the policy, a running
``twokey serve`` mirroring it for GitHub ``octo/shop`` and GitLab ``octo/shop``, fake GitHub
and GitLab APIs (real HTTP servers) that record what the outbox worker calls, and helpers to
sign and send deliveries over HTTP and to read the ledger and the forge's tables."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.integration.forge._send import SECRET, TOKEN, github_headers, gitlab_headers
from tests.integration.forge._world import POLICY, REPO
from tests.integration.git._harness import Keys
from tests.support.fakeforge import Answer, Call, FakeForge, running_forge
from tests.support.gateway import RunningGateway, start_gateway
from tests.support.gitrepo import ERIN, GitRepo, Person
from tests.support.postgres import private_schema
from twokey.forge import Database
from twokey.ledger import ForgeDeliveryRecord, open_ledger, parse_entry, read_record

REPOSITORY = "shop"
GITHUB_TOKEN = "test-github-api-token"
GITLAB_API_TOKEN = "test-gitlab-api-token"
GITLAB_PROJECT = "octo%2Fshop"


def deploy_policy(keys: Keys) -> str:
    """The forge tests' policy, with the people's and the CI's keys and a production environment."""
    pub = keys.public()
    text = POLICY
    for who in ("bob", "carol", "dave"):  # people who sign in to the gateway have keys
        text = text.replace(
            f"github: {who}, gitlab: {who}}}",
            f'github: {who}, gitlab: {who}, keys: ["{pub[who]}"]}}',
        )
    text = text.replace(
        "services:\n",
        f'services:\n  ci: {{name: CI, emails: [ci@example.com], keys: ["{pub["ci"]}"]}}\n',
    )
    return text + (
        "environments:\n"
        "  production:\n"
        "    from: [main]\n"
        "    deployers: [dave, carol, bob]\n"
        "    approvals: 1\n"
        "    approvers: [dave]\n"
        "    separate: [authors, approvers]\n"
        "    builders: [ci]\n"
    )


@dataclass
class Site:
    """Everything one test module shares (one gateway process per engine)."""

    root: Path
    gateway: RunningGateway
    url: str  # the database URL, as the tests read it
    github: FakeForge
    gitlab: FakeForge
    mirror: GitRepo
    work: GitRepo
    keys: Keys
    numbers: Iterator[int] = field(default_factory=lambda: iter(range(100, 10_000)))

    # -- sending ---------------------------------------------------------------------------

    def post_github(
        self, event: str, payload: dict[str, Any] | bytes, delivery: str = ""
    ) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = github_headers(event, body, delivery or f"gh-{uuid.uuid4()}")
        with self.gateway.client() as http:
            return http.post("/v1/forge/github", content=body, headers=headers)

    def post_gitlab(
        self, event: str, payload: dict[str, Any] | bytes, key: str = ""
    ) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = gitlab_headers(event, key or f"gl-{uuid.uuid4()}")
        with self.gateway.client() as http:
            return http.post("/v1/forge/gitlab", content=body, headers=headers)

    # -- the repository --------------------------------------------------------------------

    def branch(self) -> int:
        """A new pull request number, its branch started at the mirror's main."""
        number = next(self.numbers)
        self.work.git("fetch", "-q", "origin")
        self.work.git("checkout", "-q", "-B", f"pr-{number}", "origin/main")
        return number

    def push_head(self, number: int, files: dict[str, str], who: Person) -> str:
        sha = self.work.commit(files, f"change by {who.name}", who)
        self.work.git("push", "-q", "-f", "origin", f"HEAD:refs/pull/{number}/head")
        return sha

    # -- reading ---------------------------------------------------------------------------

    def ledger_size(self) -> int:
        with open_ledger(self.url) as ledger:
            return ledger.size()

    def records(self) -> list[object]:
        with open_ledger(self.url) as ledger:
            return [read_record(parse_entry(data)) for _, data in ledger.entries()]

    def deliveries(self) -> list[ForgeDeliveryRecord]:
        return [r for r in self.records() if isinstance(r, ForgeDeliveryRecord)]

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        from twokey.forge._db import open_database  # noqa: PLC0415 - a test reads the tables

        db: Database = open_database(self.url)
        try:
            return db.rows(sql, params)
        finally:
            db.close()

    def delivery_taken(self, forge: str, delivery: str) -> bool:
        return bool(
            self.rows(
                "SELECT 1 FROM twokey_forge_deliveries WHERE forge = ? AND delivery = ?",
                (forge, delivery),
            )
        )


def wait_for_calls(
    forge: FakeForge, method: str, path: str, count: int, timeout: float = 20.0
) -> list[Call]:
    """The calls to ``method path`` once there are ``count`` of them (the outbox worker makes
    them asynchronously), failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        calls = forge.calls_to(method, path)
        if len(calls) >= count:
            return calls
        time.sleep(0.05)
    calls = forge.calls_to(method, path)
    raise AssertionError(f"{len(calls)} call(s) to {method} {path} after {timeout} s, not {count}")


def pg_schema() -> AbstractContextManager[str]:
    """A PostgreSQL URL with a schema of its own for one module, dropped afterwards."""
    return private_schema("gwforge_t")


@contextmanager
def database_for(engine: str, data: Path) -> Iterator[tuple[str, str]]:
    """``(--database value, URL the test reads)`` for ``engine``."""
    if engine == "sqlite":
        yield "", f"sqlite://{data / 'gateway.db'}"
        return
    with pg_schema() as url:
        yield url, url


def gateway_env(**extra: str) -> dict[str, str]:
    """The webhook secrets and API credentials of the tests' gateways."""
    return {
        "TWOKEY_GITHUB_WEBHOOK_SECRET": SECRET,
        "TWOKEY_GITLAB_WEBHOOK_TOKEN": TOKEN,
        "TWOKEY_GITHUB_TOKEN": GITHUB_TOKEN,
        "TWOKEY_GITLAB_TOKEN": GITLAB_API_TOKEN,
        **extra,
    }


@contextmanager
def forge_site(root: Path, engine: str, *args: str) -> Iterator[Site]:
    """A mirror with the policy on main, fake forges, and ``twokey serve`` on ``engine``."""
    keys = Keys.generate()
    mirror = GitRepo.init(root / "mirror.git", bare=True)
    mirror.git("config", "twokey.repository", REPOSITORY)
    work = mirror.clone(root / "work", ERIN)
    work.commit({".twokey/policy.yml": deploy_policy(keys), "app.py": "v1\n"}, "Policy", ERIN)
    work.git("push", "-q", "origin", "HEAD:refs/heads/main")
    data = root / "data"
    with (
        database_for(engine, data) as (database, url),
        running_forge() as github,
        running_forge("/api/v4") as gitlab,
    ):
        gateway = start_gateway(
            data,
            "--github",
            REPO,
            "--gitlab",
            REPO,
            "--github-api-url",
            github.url,
            "--gitlab-api-url",
            gitlab.url,
            *args,
            repo=mirror.path,
            database=database,
            env=gateway_env(),
        )
        try:
            yield Site(root, gateway, url, github, gitlab, mirror, work, keys)
        finally:
            gateway.stop()


def status_path(sha: str) -> str:
    return f"/repos/{REPO}/statuses/{sha}"


def gitlab_status_path(sha: str) -> str:
    return f"/projects/{GITLAB_PROJECT}/statuses/{sha}"


def answer_statuses(site: Site, sha: str, delay: float = 0.0) -> None:
    """Let both fake forges accept commit statuses for ``sha`` (201)."""
    site.github.answer("POST", status_path(sha), Answer(201, {"state": "ok"}, delay=delay))
    site.gitlab.answer("POST", gitlab_status_path(sha), Answer(201, {"status": "ok"}))


Check = Callable[[Call], bool]

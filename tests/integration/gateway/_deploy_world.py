"""A deploy world served by a gateway, shared by the tests of one module (per database engine).

The origin's policy (pushed by erin on top of the deploy tests' history P, X, Y, Z) lets each
environment count approvals given in the gateway (``accept: [signed, forge]``); environments
``e1``..``e8`` are copies of ``production`` so that a test which authorizes a deploy (and so
moves that environment's release start) does not change another test's release. ``frozen`` is
frozen all week and lets dave and carol break glass; ``pair`` needs two approvals (dave, frank,
bob). CI's provenance for Z is in the origin.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.integration.doors._deploys import ARTIFACT, SIGNED, World, make_world
from tests.integration.git._harness import REPOSITORY, Keys, policy_text
from tests.support.gateway import RunningGateway, issue_token, start_gateway
from tests.support.gitrepo import ERIN
from tests.support.postgres import private_schema
from twokey.evidence import GitEvidenceStore, sign_provenance

PEOPLE = ("alice", "bob", "carol", "dave", "erin", "frank")
COPIES = tuple(f"e{i}" for i in range(1, 9))
_RULE = """\
    from: [main]
    deployers: [dave, carol, ci]
    approvals: 1
    approvers: [dave, carol]
    separate: [authors, approvers]
    accept: [signed, forge]
    builders: [ci]
"""


def environments() -> str:
    """The policy's environments section."""
    text = "environments:\n"
    for name in ("production", *COPIES):
        text += f"  {name}:\n{_RULE}"
    text += f"  pair:\n{_RULE}".replace("approvals: 1", "approvals: 2").replace(
        "approvers: [dave, carol]", "approvers: [dave, frank, bob]"
    )
    text += (
        "  frozen:\n"
        + _RULE
        + '    freeze: ["Mon 00:00 - Sun 23:59 UTC"]\n    break_glass: [dave, carol]\n'
    )
    return text


@dataclass
class DeployWorld:
    """The world, its running gateway, the database URL and everyone's token."""

    world: World
    gateway: RunningGateway
    database: str
    tokens: dict[str, str] = field(default_factory=dict)
    root: Path = Path()

    @property
    def z(self) -> str:
        return self.world.commits["Z"]

    def client(self, who: str = "") -> httpx.Client:
        """An HTTP client as ``who`` ('' for nobody)."""
        return self.gateway.client(self.tokens[who] if who else "")

    def request(self, environment: str, who: str = "ci", **extra: str) -> httpx.Response:
        body = {"environment": environment, "commit": self.z, "artifact": ARTIFACT, **extra}
        with self.client(who) as http:
            return http.post("/v1/deploys", json=body)

    def act(self, deploy_id: str, action: str, who: str, **body: str) -> httpx.Response:
        with self.client(who) as http:
            return http.post(f"/v1/deploys/{deploy_id}/{action}", json=body or None)

    def issue(self, kind: str, subject: str, ttl: int = 3600, credential: str = "") -> str:
        database = self.database or f"sqlite://{self.gateway.data / 'gateway.db'}"
        repo = self.world.origin.path
        return issue_token(database, kind, subject, repo, ttl, credential=credential)

    def env(self, who: str = "") -> dict[str, str]:
        """The environment of a CLI run as ``who`` against this gateway."""
        token = self.tokens[who] if who else ""
        home = str(self.root / "home")  # no saved credentials of the machine's user
        return {
            **os.environ,
            "TWOKEY_GATEWAY": self.gateway.url,
            "TWOKEY_TOKEN": token,
            "XDG_CONFIG_HOME": home,
        }

    def twokey(self, *args: str, who: str = "") -> subprocess.CompletedProcess[str]:
        """``twokey ARGS`` as a subprocess (the CLI over the API), as ``who``."""
        return subprocess.run(
            [sys.executable, "-m", "twokey", *args],
            capture_output=True,
            text=True,
            env=self.env(who),
            check=False,
            timeout=60,
        )


def make_deploy_world(root: Path, keys: Keys, database: str, *args: str) -> DeployWorld:
    """Build the world and start a gateway on ``database`` ('' for SQLite)."""
    world = make_world(root / "world", keys)
    origin = world.origin
    origin.git("config", "twokey.repository", REPOSITORY)
    admin = origin.clone(root / "admin", ERIN)
    policy = policy_text(keys.public()) + environments()
    world.commits["Q"] = admin.commit({".twokey/policy.yml": policy}, "Gateway policy", ERIN)
    admin.git("push", "-q", "origin", "main")
    store = GitEvidenceStore(origin.path)
    for name in ("Z", "Q"):
        envelope = sign_provenance(
            keys.signers["ci"],
            artifact=ARTIFACT,
            repository=REPOSITORY,
            commit=world.commits[name],
            when=SIGNED,
        )
        store.put(envelope, ARTIFACT)
    gateway = start_gateway(root / "data", *args, repo=origin.path, database=database)
    out = DeployWorld(world, gateway, database, root=root)
    out.tokens = {p: out.issue("person", p) for p in PEOPLE}
    out.tokens["ci"] = out.issue("service", "ci")
    return out


def postgres_schema() -> Generator[str, None, None]:
    """A PostgreSQL URL with a private schema, dropped afterwards (skips without a server)."""
    with private_schema("gwdeploy") as url:
        yield url

"""``twokey serve --demo``: a sample organisation behind a real gateway, to see it in a browser.

``prepare_demo(data)`` builds, under ``DATA/demo/``, the walkthrough's company (SSH keys made
here, the policy listing them), a bare repository ``shop.git`` with a real history on ``main``
and one unreviewed branch, and signed evidence in ``refs/twokey/``: approvals, CI's test results
and build provenance, and a deploy approval by a release's own author. ``seed_demo(config)``
then asks the gateway's deploy service for the requests a newcomer should see, each judged by
the engine and recorded in the ledger like any other:

===========  ==========  ============================================================
production   pending     ready: Dave may approve (Alice wrote it, Bob approved it)
production   pending     Carol approved a release she wrote part of: it does not count
production   denied      an artifact with no build provenance (NO_PROVENANCE)
production   denied      an artifact built on Bob's laptop, not by CI (UNTRUSTED_BUILDER)
production   denied      a commit that never landed on main under review (REF_NOT_DEPLOYABLE)
staging      authorized  Dave broke glass in a freeze: an open exception until reviewed
===========  ==========  ============================================================

and one authorized deploy of the first release, so later releases are only what changed since.
Sign-in codes are one-time browser codes issued exactly as ``twokey login --browser`` gets them.
"""

from __future__ import annotations

__all__ = ["DEMO_PEOPLE", "Demo", "prepare_demo", "seed_demo", "sign_in_codes"]

import hashlib
import os
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twokey.errors import InfrastructureError

if TYPE_CHECKING:
    from twokey.gateway._config import GatewayConfig
    from twokey.gateway._state import Gateway

REPOSITORY = "example.com/shop"
# id, name, email (ci is the CI service)
DEMO_PEOPLE = (
    ("alice", "Alice Smith", "alice@example.com"),
    ("bob", "Bob Jones", "bob@example.com"),
    ("carol", "Carol White", "carol@example.com"),
    ("dave", "Dave Ops", "dave@example.com"),
    ("erin", "Erin Admin", "erin@example.com"),
    ("frank", "Frank Admin", "frank@example.com"),
)
_POLICY = """\
# .twokey/policy.yml of the demo company (written by `twokey serve --demo`)
version: 1
people:
{people}
services:
  ci: {{name: CI, emails: [ci@example.com], keys: ["{ci}"]}}
groups:
  developers: [alice, bob]
  reviewers: [bob, carol]
  operators: [dave, carol]
  admins: [erin, frank]
branches:
  main:
    approvals: 1
    approvers: [reviewers, admins]
    exclude: [authors, committers, co-authors]
    checks: {{require: [tests], signers: [ci]}}
environments:
  production:
    from: [main]
    deployers: [operators, ci]
    approvals: 1
    approvers: [operators]
    separate: [authors, approvers]
    builders: [ci]
    checks: {{require: [tests], signers: [ci]}}
    break_glass: [dave]
  staging:
    from: [main]
    deployers: [operators, ci]
    approvals: 1
    approvers: [operators]
    separate: [authors, approvers]
    builders: [ci]
    freeze: ["Mon 00:00 - Sun 23:59 UTC"]
    break_glass: [dave]
policy_changes: {{approvals: 2, approvers: [admins]}}
break_glass_reviewers: [admins]
"""


@dataclass(frozen=True)
class Demo:
    """The demo's files: the repository the gateway judges, everyone's keys, and what to
    deploy (commit id -> artifact digest, by scenario name)."""

    root: Path
    repo: Path
    keys: Path
    commits: dict[str, str]
    artifacts: dict[str, str]


def _artifact(name: str) -> str:
    return "sha256:" + hashlib.sha256(f"shop build {name}".encode()).hexdigest()


class _Builder:
    """Real git and real signatures under ``root``."""

    def __init__(self, root: Path, now: datetime) -> None:
        self.root = root
        self.repo = root / "shop.git"
        self.work = root / "work"
        self.keys = root / "keys"
        self.when = now - timedelta(minutes=30)  # signed before the gateway judges it
        self.env = {
            **os.environ,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
        }

    def git(self, *args: str, cwd: Path | None = None, who: str = "") -> str:
        env = dict(self.env)
        if who:
            name, email = next((n, e) for p, n, e in DEMO_PEOPLE if p == who)
            env.update(
                GIT_AUTHOR_NAME=name,
                GIT_AUTHOR_EMAIL=email,
                GIT_COMMITTER_NAME=name,
                GIT_COMMITTER_EMAIL=email,
            )
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=cwd or self.work,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            raise InfrastructureError(f"demo set-up: git {' '.join(args)}: {detail}") from exc
        return done.stdout.strip()

    def keygen(self) -> dict[str, str]:
        from twokey.evidence import generate_key  # noqa: PLC0415

        self.keys.mkdir(parents=True, exist_ok=True)
        out = {}
        for pid in [p for p, _, _ in DEMO_PEOPLE] + ["ci"]:
            line = generate_key(self.keys / pid, f"{pid}@example.com")
            out[pid] = " ".join(line.split()[:2])
        return out

    def commit(self, who: str, files: dict[str, str], message: str) -> str:
        for path, text in files.items():
            target = self.work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, who=who)
        return self.git("rev-parse", "HEAD")

    def put(self, envelope: bytes, subject: str) -> None:
        from twokey.evidence import GitEvidenceStore  # noqa: PLC0415

        GitEvidenceStore(self.repo).put(envelope, subject)

    def signer(self, who: str) -> Any:
        from twokey.evidence import load_signer  # noqa: PLC0415

        return load_signer(self.keys / who, ssh=True)

    def approve(self, who: str, commit: str) -> None:
        from twokey.evidence import sign_approval  # noqa: PLC0415

        tree = self.git("rev-parse", f"{commit}^{{tree}}")
        envelope = sign_approval(
            self.signer(who),
            repository=REPOSITORY,
            ref="refs/heads/main",
            commit=commit,
            tree=tree,
            when=self.when,
        )
        self.put(envelope, commit)

    def tested(self, subject: str) -> None:
        """CI's passing ``tests`` result for a tree or an artifact digest."""
        from twokey.evidence import sign_check  # noqa: PLC0415

        envelope = sign_check(
            self.signer("ci"),
            name="tests",
            repository=REPOSITORY,
            subject=subject,
            passed=True,
            when=self.when,
        )
        self.put(envelope, subject)

    def built(self, commit: str, artifact: str, builder: str = "ci") -> None:
        from twokey.evidence import sign_provenance  # noqa: PLC0415

        envelope = sign_provenance(
            self.signer(builder),
            artifact=artifact,
            repository=REPOSITORY,
            commit=commit,
            when=self.when,
        )
        self.put(envelope, artifact)

    def deploy_approval(self, who: str, commit: str, artifact: str, environment: str) -> None:
        from twokey.evidence import sign_deploy_approval  # noqa: PLC0415

        envelope = sign_deploy_approval(
            self.signer(who),
            artifact=artifact,
            environment=environment,
            repository=REPOSITORY,
            commit=commit,
            when=self.when,
        )
        self.put(envelope, artifact)


def _people(keys: dict[str, str]) -> str:
    return "\n".join(
        f'  {pid}: {{name: {name}, emails: [{email}], keys: ["{keys[pid]}"]}}'
        for pid, name, email in DEMO_PEOPLE
    )


def prepare_demo(data: Path, now: datetime) -> Demo:
    """Build the demo's repository, keys and evidence under ``DATA/demo`` (once: an existing
    demo is reused as it is)."""
    root = data / "demo"
    b = _Builder(root, now)
    if (b.repo / "HEAD").exists() and (root / "commits").exists():
        return _load(root)
    keys = b.keygen()
    b.git("init", "-q", "--bare", "-b", "main", str(b.repo), cwd=root)
    b.git("config", "twokey.repository", REPOSITORY, cwd=b.repo)
    b.git("init", "-q", "-b", "main", str(b.work), cwd=root)
    policy = _POLICY.format(people=_people(keys), ci=keys["ci"])
    commits = {
        "policy": b.commit(
            "erin",
            {".twokey/policy.yml": policy, "README.md": "# shop\n", "app.py": "print('shop')\n"},
            "Protect main with twokey",
        )
    }
    commits["checkout"] = b.commit("alice", {"app.py": "print('shop v2')\n"}, "Add checkout")
    commits["cache"] = b.commit("carol", {"cache.py": "TTL = 60\n"}, "Cache prices for a minute")
    b.git("push", "-q", str(b.repo), "main")
    b.git("checkout", "-q", "-b", "hotfix")
    commits["hotfix"] = b.commit("bob", {"app.py": "print('shop v2.1')\n"}, "Quick fix, unreviewed")
    b.git("push", "-q", str(b.repo), "hotfix")
    artifacts = {name: _artifact(name) for name in ("v1", "v2", "v3", "laptop", "nobuild", "fix")}
    # Reviews, tests and builds as the team and CI sign them.
    b.approve("frank", commits["policy"])
    b.approve("bob", commits["checkout"])
    b.approve("bob", commits["cache"])
    for name in ("policy", "checkout", "cache"):
        b.tested(b.git("rev-parse", f"{commits[name]}^{{tree}}"))
    for name, commit in (("v1", "policy"), ("v2", "checkout"), ("v3", "cache"), ("fix", "hotfix")):
        b.built(commits[commit], artifacts[name])
        b.tested(artifacts[name])
    b.built(commits["cache"], artifacts["laptop"], builder="bob")
    b.tested(artifacts["laptop"])
    b.tested(artifacts["nobuild"])
    b.deploy_approval("carol", commits["cache"], artifacts["v3"], "production")
    (root / "commits").write_text(
        "\n".join(f"{k} {v}" for k, v in {**commits, **artifacts}.items()) + "\n"
    )
    return Demo(root, b.repo, b.keys, commits, artifacts)


def _load(root: Path) -> Demo:
    pairs = dict(line.split(" ", 1) for line in (root / "commits").read_text().splitlines())
    artifacts = {k: v for k, v in pairs.items() if v.startswith("sha256:")}
    commits = {k: v for k, v in pairs.items() if k not in artifacts}
    return Demo(root, root / "shop.git", root / "keys", commits, artifacts)


def _open(config: GatewayConfig) -> Gateway:
    """A gateway state with every feature's tables (as a serving process would have)."""
    from twokey.gateway._app import FEATURES  # noqa: PLC0415
    from twokey.gateway._state import Gateway  # noqa: PLC0415

    gateway = Gateway(config)
    for name in FEATURES:
        setup = getattr(import_module(f"twokey.gateway.{name}"), "setup", None)
        if setup is not None:
            setup(gateway)
    return gateway


def _close(gateway: Gateway) -> None:
    """Stop what the features started (the forge worker's threads), then close the state: a
    seeding process must leave no timer behind on a closed database."""
    from twokey.gateway._app import FEATURES  # noqa: PLC0415

    for name in reversed(FEATURES):
        stop = getattr(import_module(f"twokey.gateway.{name}"), "shutdown", None)
        if stop is not None:
            stop(gateway)
    gateway.close()


def seed_demo(config: GatewayConfig, demo: Demo) -> list[str]:
    """Ask for the demo's deploy requests (once per data directory); their ids."""
    from twokey.gateway._auth import Caller  # noqa: PLC0415
    from twokey.gateway._deploys import DeployService  # noqa: PLC0415

    gateway = _open(config)
    try:
        service = DeployService(gateway)
        if service.list(None, 1):
            return [v.id for v in service.list(None, 50)]
        ci = Caller("ci", "service", "demo-seed")
        dave = Caller("dave", "person", "demo-seed")
        c, a = demo.commits, demo.artifacts
        first = service.request(ci, "production", c["policy"], a["v1"])
        service.approve(first.id, dave)
        made = [first.id]
        for env, commit, artifact in (
            ("production", "checkout", "v2"),  # ready for Dave
            ("production", "cache", "v3"),  # Carol's own approval does not count
            ("production", "cache", "nobuild"),  # no build provenance
            ("production", "cache", "laptop"),  # built by Bob, not CI
            ("production", "hotfix", "fix"),  # never landed on main
        ):
            made.append(service.request(ci, env, c[commit], a[artifact]).id)
        glass = "demo day: checkout is down and staging is frozen; shipping the cache fix"
        made.append(service.request(dave, "staging", c["cache"], a["v3"], break_glass=glass).id)
        gateway.ledger().checkpoint(gateway.signer)
        return made
    finally:
        _close(gateway)


def sign_in_codes(config: GatewayConfig, people: list[str]) -> dict[str, str]:
    """A one-time browser code per person, issued as ``twokey login --browser`` gets one:
    the person's API token (recorded, revocable) asks for a code (recorded)."""
    from twokey.gateway import _login  # noqa: PLC0415
    from twokey.gateway._auth import Tokens, credential_of  # noqa: PLC0415

    gateway = _open(config)
    try:
        out = {}
        for person in people:
            credential = credential_of(gateway.policy().policy, person)
            token = Tokens(gateway.db).issue(
                "person", person, "demo", gateway.now(), 600, credential=credential
            )
            caller = Tokens(gateway.db).caller(token, gateway.now())
            assert caller is not None
            out[person], _ = _login.issue_code(gateway, caller)
        return out
    finally:
        _close(gateway)

"""WALKTHROUGH.md, run for real: keys, a server repository with the hook, pushes, deploys,
an audit and a tampering attempt. Each step says what happened and whether that was expected."""

from __future__ import annotations

__all__ = ["Step", "Walkthrough", "run_walkthrough"]

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from twokey.demo._policy import policy_text
from twokey.demo._world import COMPANY, REPOSITORY, Actor, Result, World

ALICE, BOB, CAROL, DAVE, ERIN, FRANK, CI = COMPANY


def story_week(now: datetime) -> tuple[str, str]:
    """The story's Wednesday 11:00 and Friday 22:00 (Berlin), in the week after ``now``.

    The deploy door judges signed statements at its own clock and refuses ones dated after it
    (ADR 0013), so the story's deploy days come after the moment the evidence is signed.
    """
    berlin = ZoneInfo("Europe/Berlin")
    today = now.astimezone(berlin).date()
    wednesday = today + timedelta(days=(2 - today.weekday()) % 7 or 7)
    friday = wednesday + timedelta(days=2)
    return (
        datetime.combine(wednesday, time(11), berlin).isoformat(),
        datetime.combine(friday, time(22), berlin).isoformat(),
    )


WEDNESDAY, FRIDAY_NIGHT = story_week(datetime.now(UTC))
_CODE = re.compile(r"\b[A-Z]+(?:_[A-Z]+)+\b")


@dataclass
class Step:
    """One thing someone does in the story, and what twokey answered."""

    number: str
    actor: str
    action: str
    expect: str  # "accepted" or "refused"
    outcome: str
    codes: list[str]
    detail: str
    expect_codes: list[str] = field(default_factory=list)

    @property
    def as_expected(self) -> bool:
        """The outcome and every expected finding code were seen."""
        return self.outcome == self.expect and set(self.expect_codes) <= set(self.codes)

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "number": self.number,
            "actor": self.actor,
            "action": self.action,
            "expect": self.expect,
            "outcome": self.outcome,
            "codes": self.codes,
            "expect_codes": self.expect_codes,
            "as_expected": self.as_expected,
            "detail": self.detail,
        }


class Walkthrough:
    """The story, step by step; ``on_step`` sees each step as it happens."""

    def __init__(self, root: Path, on_step: Callable[[Step], None] | None = None) -> None:
        self.w = World(root)
        self.steps: list[Step] = []
        self.on_step = on_step
        self.base = ""

    # -- recording --------------------------------------------------------------------
    def record(
        self,
        number: str,
        actor: Actor,
        action: str,
        result: Result,
        expect: str,
        codes: tuple[str, ...] = (),
    ) -> Step:
        found = sorted(set(_CODE.findall(result.output)) - {"TWOKEY_PUSHER"})
        lines = [
            ln.strip()
            for ln in result.output.splitlines()
            if any(c in ln for c in found) or "to satisfy" in ln or "ok:" in ln
        ]
        step = Step(
            number,
            actor.id,
            action,
            expect,
            "accepted" if result.code == 0 else "refused",
            found,
            "\n".join(lines[:8]) or result.output[-400:],
            list(codes),
        )
        self.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)
        return step

    # -- actions ----------------------------------------------------------------------
    def commit(self, actor: Actor, files: dict[str, str], message: str) -> None:
        for path, text in files.items():
            self.w.write(actor, path, text)
        self.w.must(["git", "add", "-A"], cwd=self.w.clone(actor), actor=actor)
        self.w.must(["git", "commit", "-q", "-m", message], cwd=self.w.clone(actor), actor=actor)

    def push(self, actor: Actor, refspec: str, *options: str) -> Result:
        opts = [f"--push-option={o}" for o in options]
        return self.w.git(actor, "push", "-q", *opts, "origin", refspec)

    def publish_evidence(self, actor: Actor) -> None:
        self.w.must(
            ["git", "push", "-q", "origin", "refs/twokey/*:refs/twokey/*"],
            cwd=self.w.clone(actor),
            actor=actor,
        )

    def fetch(self, actor: Actor) -> None:
        self.w.must(
            [
                "git",
                "fetch",
                "-q",
                "origin",
                "+refs/heads/*:refs/remotes/origin/*",
                "refs/twokey/*:refs/twokey/*",
            ],
            cwd=self.w.clone(actor),
            actor=actor,
        )

    def approve(self, actor: Actor, rev: str) -> Result:
        self.fetch(actor)
        result = self.w.twokey(
            "approve",
            rev,
            "--ssh-key",
            str(self.w.key(actor)),
            cwd=self.w.clone(actor),
            actor=actor,
        )
        if result.code == 0:
            self.publish_evidence(actor)
        return result

    def ci_tests(self, rev: str) -> None:
        self.fetch(CI)
        self.w.must(
            [
                *self._twokey(),
                "attest",
                "check",
                "--name",
                "tests",
                "--passed",
                rev,
                "--ssh-key",
                str(self.w.key(CI)),
            ],
            cwd=self.w.clone(CI),
            actor=CI,
        )
        self.publish_evidence(CI)

    def _twokey(self) -> list[str]:
        import sys  # noqa: PLC0415

        return [sys.executable, "-m", "twokey"]

    # -- the story --------------------------------------------------------------------
    def setup(self) -> None:
        """1. Keys, the policy, the server with the hook, everyone's clone."""
        w = self.w
        for actor in COMPANY:
            w.key(actor).parent.mkdir(parents=True, exist_ok=True)
            w.must(
                [
                    "ssh-keygen",
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    actor.email,
                    "-f",
                    str(w.key(actor)),
                ]
            )
        keys = {a.id: " ".join(Path(f"{w.key(a)}.pub").read_text().split()[:2]) for a in COMPANY}
        policy = w.root / "policy.yml"
        policy.write_text(policy_text(keys))
        self.record(
            "1",
            ERIN,
            "twokey policy check policy.yml",
            w.twokey("policy", "check", str(policy)),
            "accepted",
        )
        w.must(["git", "init", "-q", "--bare", "-b", "main", str(w.server)])
        name = "ledger.example.com"
        w.must([*self._twokey(), "ledger", "keygen", "--name", name, "--out", str(w.ledger_key)])
        w.must(
            [
                *self._twokey(),
                "hook",
                "install",
                str(w.server),
                "--bootstrap-policy",
                str(policy),
                "--ledger",
                w.ledger,
                "--ledger-key",
                str(w.ledger_key),
                "--repository",
                REPOSITORY,
            ]
        )
        for actor in COMPANY:
            w.must(["git", "clone", "-q", str(w.server), str(w.clone(actor))])
            w.must(["git", "config", "twokey.repository", REPOSITORY], cwd=w.clone(actor))
        (w.clone(ERIN) / ".twokey").mkdir()
        (w.clone(ERIN) / ".twokey" / "policy.yml").write_text(policy.read_text())
        self.commit(
            ERIN, {"README.md": "# shop\n", "app.py": "print('shop')\n"}, "Protect main with twokey"
        )
        self.push(ERIN, "HEAD:refs/heads/bootstrap")
        self.approve(FRANK, "origin/bootstrap")
        self.approve(ERIN, "origin/bootstrap")
        self.ci_tests("origin/bootstrap")
        self.record(
            "1",
            ERIN,
            "push the policy to main (Frank approved, CI tested)",
            self.push(ERIN, "HEAD:main"),
            "accepted",
        )
        self.base = w.git(ERIN, "rev-parse", "HEAD").output

    def change(self) -> None:
        """2-3. Alice's change: refused, self-approval, review, stale approval, merge."""
        w = self.w
        self.fetch(ALICE)
        w.must(["git", "checkout", "-q", "-b", "feature", "origin/main"], cwd=w.clone(ALICE))
        self.commit(ALICE, {"app.py": "print('shop v2')\n"}, "Add checkout")
        self.record(
            "2",
            ALICE,
            "push branch feature (unprotected)",
            self.push(ALICE, "HEAD:refs/heads/feature"),
            "accepted",
        )
        self.record(
            "2",
            ALICE,
            "push straight to main",
            self.push(ALICE, "HEAD:main"),
            "refused",
            ("INSUFFICIENT_APPROVALS",),
        )
        self.approve(ALICE, "HEAD")
        self.record(
            "3",
            ALICE,
            "approve her own change, push to main",
            self.push(ALICE, "HEAD:main"),
            "refused",
            ("INSUFFICIENT_APPROVALS",),
        )
        self.approve(BOB, "origin/feature")
        self.commit(ALICE, {"cart.py": "items = []\n"}, "Add cart")
        self.push(ALICE, "HEAD:refs/heads/feature")
        self.ci_tests("origin/feature")
        self.record(
            "3",
            ALICE,
            "add a commit after Bob's approval, push to main",
            self.push(ALICE, "HEAD:main"),
            "refused",
            ("STALE_APPROVAL",),
        )
        self.approve(BOB, "origin/feature")
        self.record(
            "3",
            ALICE,
            "push to main after Bob approves again and CI passes",
            self.push(ALICE, "HEAD:main"),
            "accepted",
        )

    def sensitive_path(self) -> None:
        """4. deploy/ needs Carol."""
        w = self.w
        self.fetch(BOB)
        w.must(["git", "checkout", "-q", "-b", "ops", "origin/main"], cwd=w.clone(BOB))
        self.commit(BOB, {"deploy/prod.yml": "replicas: 3\n"}, "Scale production")
        self.push(BOB, "HEAD:refs/heads/ops")
        self.approve(BOB, "HEAD")
        self.record(
            "4",
            BOB,
            "approve his own deploy/ change and push",
            self.push(BOB, "HEAD:main"),
            "refused",
            ("SELF_APPROVAL",),
        )
        self.approve(ERIN, "origin/ops")
        self.ci_tests("origin/ops")
        self.record(
            "4",
            BOB,
            "push with Erin's approval but not Carol's",
            self.push(BOB, "HEAD:main"),
            "refused",
            ("OWNER_APPROVAL_MISSING",),
        )
        self.approve(CAROL, "origin/ops")
        self.record(
            "4",
            BOB,
            "push after Carol (owner of deploy/) approves",
            self.push(BOB, "HEAD:main"),
            "accepted",
        )

    def policy_change(self) -> None:
        """5. Erin alone cannot weaken the policy; with Frank she can."""
        w = self.w
        self.fetch(ERIN)
        w.must(["git", "checkout", "-q", "-B", "loosen", "origin/main"], cwd=w.clone(ERIN))
        path = w.clone(ERIN) / ".twokey" / "policy.yml"
        path.write_text(
            path.read_text().replace(
                'tags:\n  "v*": {approvals: 1,', 'tags:\n  "v*": {approvals: 0,'
            )
        )
        self.commit(ERIN, {}, "Tags need no approval")
        self.push(ERIN, "HEAD:refs/heads/loosen")
        self.approve(ERIN, "HEAD")
        self.ci_tests("origin/loosen")
        self.record(
            "5",
            ERIN,
            "change the policy on her own",
            self.push(ERIN, "HEAD:main"),
            "refused",
            ("POLICY_CHANGE_UNAPPROVED",),
        )
        self.approve(FRANK, "origin/loosen")
        self.record(
            "5",
            ERIN,
            "push the policy change with Frank's approval",
            self.push(ERIN, "HEAD:main"),
            "accepted",
        )

    def deploy(self) -> None:
        """6-8. Build, deploy approvals, a fake artifact, a Friday-night break-glass."""
        w = self.w
        self.fetch(CI)
        artifact = w.root / "app.tar.gz"
        w.must(["git", "archive", "-o", str(artifact), "origin/main"], cwd=w.clone(CI))
        w.must(
            [
                *self._twokey(),
                "attest",
                "provenance",
                "--artifact",
                str(artifact),
                "--commit",
                "origin/main",
                "--ssh-key",
                str(w.key(CI)),
            ],
            cwd=w.clone(CI),
        )
        self.publish_evidence(CI)
        self.deploy_approve(BOB, artifact)
        self.record(
            "7",
            BOB,
            "approve the deploy of a release he wrote part of",
            self.deploy_check(artifact, "email:ci@example.com", WEDNESDAY),
            "refused",
            ("INSUFFICIENT_DEPLOY_APPROVALS",),
        )
        self.deploy_approve(DAVE, artifact)
        self.record(
            "7",
            DAVE,
            "approve; the deploy job verifies and deploys",
            self.deploy_check(artifact, "email:ci@example.com", WEDNESDAY),
            "accepted",
        )
        fake = w.root / "untested.tar.gz"
        fake.write_bytes(b"built on a laptop")
        self.record(
            "7",
            DAVE,
            "deploy an artifact CI never built",
            self.deploy_check(fake, "email:dave@example.com", WEDNESDAY),
            "refused",
            ("NO_PROVENANCE",),
        )
        self.record(
            "8",
            DAVE,
            "deploy on Friday night (freeze window)",
            self.deploy_check(artifact, "email:dave@example.com", FRIDAY_NIGHT),
            "refused",
            ("FREEZE_WINDOW",),
        )
        self.record(
            "8",
            DAVE,
            "break glass: production is down",
            self.deploy_check(
                artifact, "email:dave@example.com", FRIDAY_NIGHT, "production is down"
            ),
            "accepted",
            ("BREAK_GLASS",),
        )

    def break_glass_review(self) -> None:
        """8. The break-glass stays open until someone else (Erin, on Monday) reviews it."""
        w = self.w
        options = ["--ledger", w.ledger, "--policy", str(w.clone(DAVE) / ".twokey" / "policy.yml")]
        listed = w.twokey("break-glass", "list", "--format", "json", *options)
        entry = next(str(e["entry"]) for e in json.loads(listed.output) if e["kind"] == "deploy")
        self.record(
            "8",
            DAVE,
            "review his own break-glass",
            w.twokey("break-glass", "review", entry, "--ssh-key", str(w.key(DAVE)), *options),
            "refused",
            ("SELF_APPROVAL",),
        )
        self.record(
            "8",
            ERIN,
            "review the break-glass on Monday (closes the exception)",
            w.twokey(
                "break-glass",
                "review",
                entry,
                "--ssh-key",
                str(w.key(ERIN)),
                "--comment",
                "production was down; the deploy was the release Dave approved",
                *options,
            ),
            "accepted",
        )

    def deploy_approve(self, actor: Actor, artifact: Path) -> None:
        self.fetch(actor)
        self.w.must(
            [
                *self._twokey(),
                "attest",
                "deploy-approval",
                "--artifact",
                str(artifact),
                "--environment",
                "production",
                "--commit",
                "origin/main",
                "--ssh-key",
                str(self.w.key(actor)),
            ],
            cwd=self.w.clone(actor),
        )
        self.publish_evidence(actor)

    def deploy_check(
        self, artifact: Path, deployer: str, now: str, glass: str | None = None
    ) -> Result:
        """The deploy job's check, by the deploy door in this process, at the story's time.

        ``twokey deploy check`` records with the door's own clock and refuses ``--now`` with a
        ledger (invariant 14); the story needs a Wednesday and a Friday night, so it calls the
        door (``twokey.doors``) with its clock instead of a process. The trusted policy is
        the server's main, as Dave's clone sees it with ``git ls-remote origin``.
        """
        import hashlib  # noqa: PLC0415

        from twokey.doors import DeployCheck, answer, exit_code, run_deploy_check  # noqa: PLC0415
        from twokey.errors import TwokeyError  # noqa: PLC0415

        self.fetch(DAVE)
        clone = self.w.clone(DAVE)
        # The deploy job signs a checkpoint after its record, like the hook (ADR 0015).
        self.w.must(["git", "config", "twokey.ledgerKey", str(self.w.ledger_key)], cwd=clone)
        self.w.must(["git", "checkout", "-q", "--detach", "origin/main"], cwd=clone)
        request = DeployCheck(
            repo=clone,
            environment="production",
            artifact="sha256:" + hashlib.sha256(artifact.read_bytes()).hexdigest(),
            commit="origin/main",
            deployer=deployer,
            now=datetime.fromisoformat(now),
            break_glass=glass or "",
            ledger=self.w.ledger,  # recorded: the audit shows who deployed
        )
        try:
            decision, origin = run_deploy_check(request)
        except TwokeyError as exc:
            return Result(int(exc.exit_code), exc.diagnostics())
        return Result(int(exit_code([decision])), answer([decision], "text", origin))

    def audit(self) -> None:
        """9-10. The auditor's export and report; then someone edits the database."""
        w = self.w
        key = w.ledger_key  # the doors signed a checkpoint after every batch they recorded
        export = w.root / "audit-export"
        w.must(
            [
                *self._twokey(),
                "ledger",
                "export",
                str(export),
                "--ledger",
                w.ledger,
                "--key",
                f"{key}.pub",
            ]
        )
        self.record(
            "9",
            ERIN,
            "auditor: twokey ledger verify-export (public key only)",
            w.twokey("ledger", "verify-export", str(export), "--key", f"{key}.pub"),
            "accepted",
        )
        report = w.root / "audit.html"
        self.record(
            "9",
            ERIN,
            f"auditor: twokey audit --format html ({report.name})",
            w.twokey(
                "audit",
                "--repo",
                str(w.server),
                "--policy",
                str(w.clone(DAVE) / ".twokey" / "policy.yml"),
                "--ledger",
                w.ledger,
                "--format",
                "html",
                "--output",
                str(report),
            ),
            "accepted",
        )
        path = w.ledger.removeprefix("sqlite://")
        with sqlite3.connect(path) as db:
            db.execute(
                "UPDATE twokey_entries SET data = CAST(replace(CAST(data AS TEXT), "
                "'\"deny\"', '\"allow\"') AS BLOB) WHERE idx = (SELECT MIN(idx) FROM "
                "twokey_entries WHERE CAST(data AS TEXT) LIKE '%\"deny\"%')"
            )
        self.record(
            "10",
            DAVE,
            "someone edits an old decision in the database; verify",
            w.twokey("ledger", "verify", "--ledger", w.ledger, "--key", f"{key}.pub"),
            "refused",
        )

    def run(self) -> list[Step]:
        """The whole story."""
        for part in (
            self.setup,
            self.change,
            self.sensitive_path,
            self.policy_change,
            self.deploy,
            self.break_glass_review,
            self.audit,
        ):
            part()
        return self.steps


def run_walkthrough(root: Path, on_step: Callable[[Step], None] | None = None) -> list[Step]:
    """Run the walkthrough under ``root`` (which must be empty or missing)."""
    root.mkdir(parents=True, exist_ok=True)
    return Walkthrough(root, on_step).run()

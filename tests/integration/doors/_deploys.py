"""A deploy world: an origin with the policy, a history, and a deploy job's clone."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.integration.git._harness import REPOSITORY, Keys, policy_text
from tests.support.gitrepo import ALICE, CAROL, ERIN, GitRepo
from twokey.cli import main
from twokey.evidence import GitEvidenceStore, sign_deploy_approval, sign_provenance

ARTIFACT = "sha256:" + hashlib.sha256(b"app").hexdigest()
SIGNED = datetime(2026, 11, 25, 10, tzinfo=UTC)
ENVIRONMENTS = """\
environments:
  production:
    from: [main]
    deployers: [dave, carol, ci]
    approvals: 1
    approvers: [dave, carol]
    separate: [authors, approvers]
    builders: [ci]
  frozen:
    from: [main]
    deployers: [dave, carol, ci]
    approvals: 1
    approvers: [dave, carol]
    builders: [ci]
    freeze: ["Mon 00:00 - Sun 23:59 UTC"]
"""


def deploy_policy(keys: Keys) -> str:
    """The git tests' policy with two environments (``frozen`` is frozen all week)."""
    return policy_text(keys.public()) + ENVIRONMENTS


@dataclass
class World:
    """``origin`` (ungated bare), the commits P (policy), X (carol), Y and Z (alice), a job clone.

    The deploy job's clone has fetched everything, evidence included.
    """

    root: Path
    keys: Keys
    origin: GitRepo
    job: GitRepo
    commits: dict[str, str]

    def attest(
        self,
        commit: str,
        approvers: tuple[str, ...] = ("dave",),
        *,
        environment: str = "production",
        repository: str = REPOSITORY,
    ) -> None:
        """CI's provenance for ``commit`` and deploy approvals, stored in the job's clone."""
        store = GitEvidenceStore(self.job.path / ".git")
        sha = self.commits.get(commit, commit)
        provenance = sign_provenance(
            self.keys.signers["ci"],
            artifact=ARTIFACT,
            repository=REPOSITORY,
            commit=sha,
            when=SIGNED,
        )
        store.put(provenance, ARTIFACT)
        for who in approvers:
            envelope = sign_deploy_approval(
                self.keys.signers[who],
                artifact=ARTIFACT,
                environment=environment,
                repository=repository,
                commit=sha,
                when=SIGNED,
            )
            store.put(envelope, ARTIFACT)

    def deploy(self, *extra: str, commit: str = "Z", environment: str = "production") -> int:
        """``twokey deploy check`` in the job's clone, as the deploy job runs it."""
        args = [
            "deploy",
            "check",
            "--repo",
            str(self.job.path),
            "--environment",
            environment,
            "--artifact",
            ARTIFACT,
            "--commit",
            self.commits.get(commit, commit),
            *extra,
        ]
        return main(args)


def make_world(root: Path, keys: Keys) -> World:
    origin = GitRepo.init(root / "origin.git", bare=True)
    seed = origin.clone(root / "seed", ERIN)
    commits = {"P": seed.commit({".twokey/policy.yml": deploy_policy(keys)}, "Policy", ERIN)}
    commits["X"] = seed.commit({"x.py": "x\n"}, "Carol's change", CAROL)
    commits["Y"] = seed.commit({"y.py": "y\n"}, "Alice's change", ALICE)
    commits["Z"] = seed.commit({"z.py": "z\n"}, "Alice's next change", ALICE)
    seed.git("push", "-q", "origin", "main")
    job = origin.clone(root / "job")
    job.git("config", "twokey.repository", REPOSITORY)
    return World(root, keys, origin, job, commits)


def findings(out: str) -> set[str]:
    """The finding codes in a text answer."""
    return {
        line.split()[1].rstrip(":")
        for line in out.splitlines()
        if line.strip()[:1] in ("✗", "!", "·") and len(line.split()) > 1
    }

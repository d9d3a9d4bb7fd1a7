"""A git server with the twokey hook, clones for several people, real pushes and approvals.

The expensive parts are built once per session: signing keys for everyone, and a template
server (a bare repository whose ``main`` already carries the policy, hook installed). Each test
copies the template, so scenarios never share state.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.support.gitrepo import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    ERIN,
    FRANK,
    GitRepo,
    Person,
    git_env,
)
from twokey.doors import install_hook
from twokey.evidence import Ed25519Signer, GitEvidenceStore, sign_approval

REPOSITORY = "shop"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
CI = Person("CI", "ci@example.com")
PEOPLE = {"alice": ALICE, "bob": BOB, "carol": CAROL, "dave": DAVE, "erin": ERIN, "frank": FRANK}
BOB_NOREPLY = Person("Bob Jones", "bob@users.noreply.github.com")


def policy_text(keys: dict[str, str], *, main_approvals: int = 1) -> str:
    """The test policy: the WALKTHROUGH's company, with everyone's public key."""
    people = "\n".join(
        f"  {pid}:\n    name: {p.name}\n    emails: [{p.email}"
        + (", bob@users.noreply.github.com" if pid == "bob" else "")
        + f']\n    keys: ["{keys[pid]}"]'
        for pid, p in PEOPLE.items()
    )
    return f"""\
version: 1
people:
{people}
services:
  ci: {{name: CI, emails: [ci@example.com], keys: ["{keys["ci"]}"]}}
groups:
  developers: [alice, bob]
  reviewers: [bob, carol]
  operators: [dave]
  admins: [erin, frank]
branches:
  main:
    approvals: {main_approvals}
    approvers: [reviewers, admins]
    break_glass: [erin]
    owners:
      "deploy/**": {{approvals: 1, approvers: [carol]}}
tags:
  "v*": {{approvals: 1, approvers: [reviewers]}}
policy_changes: {{approvals: 2, approvers: [admins]}}
"""


@dataclass
class Keys:
    """Ed25519 signers for everyone in the policy, and one nobody registered."""

    signers: dict[str, Ed25519Signer] = field(default_factory=dict)

    @classmethod
    def generate(cls) -> Keys:
        names = [*PEOPLE, "ci", "stranger"]
        return cls({n: Ed25519Signer(ed25519.Ed25519PrivateKey.generate()) for n in names})

    def public(self) -> dict[str, str]:
        """Public key lines by person id."""
        return {n: s.public_key for n, s in self.signers.items()}


@dataclass(frozen=True)
class Pushed:
    """What ``git push`` returned."""

    code: int
    output: str

    @property
    def accepted(self) -> bool:
        """True when git accepted every ref."""
        return self.code == 0

    def findings(self, mark: str = "✗") -> dict[str, str]:
        """Finding code -> message (all messages of that code joined) for one severity mark.

        ``✗`` denies, ``!`` warns, ``·`` informs. Tests assert codes and the facts in the
        message (people, commits, paths), not the engine's exact wording.
        """
        found: dict[str, str] = {}
        for sign, code, message in _FINDING.findall(self.output):
            if sign == mark:
                found[code] = f"{found[code]} | {message}" if code in found else message
        return found


_FINDING = re.compile(r"remote:\s+([✗!·]) ([A-Z_]+): (.*?)\s*$", re.MULTILINE)


class Server:
    """A bare repository with the hook; people clone it and push to it."""

    def __init__(self, root: Path, bare: GitRepo, keys: Keys) -> None:
        self.root = root
        self.bare = bare
        self.keys = keys
        self.url = str(bare.path)

    def clone(self, person: Person, name: str | None = None) -> GitRepo:
        """A clone acting as ``person``."""
        dest = self.root / (name or person.email.split("@")[0])
        return self.bare.clone(dest, person)

    def approve(
        self, clone: GitRepo, who: str, rev: str = "HEAD", ref: str = "refs/heads/main"
    ) -> str:
        """``who`` signs an approval of ``rev``'s content in ``clone``; returns the evidence ref."""
        commit = clone.rev_parse(f"{rev}^{{commit}}")
        tree = clone.rev_parse(f"{commit}^{{tree}}")
        envelope = sign_approval(
            self.keys.signers[who],
            repository=REPOSITORY,
            ref=ref,
            commit=commit,
            tree=tree,
            when=NOW,
        )
        return GitEvidenceStore(clone.path / ".git").put(envelope, commit)

    def head(self, ref: str = "refs/heads/main") -> str:
        """Where ``ref`` points on the server ("" when absent)."""
        return self.bare.git("rev-parse", "-q", "--verify", ref, check=False)


def push(
    clone: GitRepo,
    *refspecs: str,
    env: dict[str, str] | None = None,
    options: tuple[str, ...] = (),
    remote: str = "origin",
) -> Pushed:
    """``git push`` for real; the hook's report comes back on stderr as ``remote:`` lines."""
    args = ["git", "-C", str(clone.path), "push", "--porcelain"]
    args += [f"--push-option={o}" for o in options]
    result = subprocess.run(
        [*args, remote, *refspecs],
        capture_output=True,
        text=True,
        env={**git_env(), **(env or {})},
        check=False,
    )
    return Pushed(result.returncode, result.stdout + result.stderr)


def build_template(root: Path, keys: Keys) -> Path:
    """A bare repository whose main carries the policy (committed without the hook)."""
    bare = GitRepo.init(root / "server.git", bare=True)
    seed = bare.clone(root / "seed", ERIN)
    seed.commit(
        {".twokey/policy.yml": policy_text(keys.public()), "README.md": "shop\n"},
        "Add the twokey policy",
        ERIN,
    )
    seed.git("push", "-q", "origin", "main")
    install_hook(bare.path, repository=REPOSITORY)
    return bare.path


def server_from(template: Path, root: Path, keys: Keys) -> Server:
    """A private copy of the template server."""
    path = root / "server.git"
    shutil.copytree(template, path, symlinks=True)
    return Server(root, GitRepo(path), keys)

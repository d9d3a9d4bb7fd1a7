"""The gate and the audit judge the same histories alike, change by change (issue 15, item 17).

One repository holds, on ``main``, the honest ways to land reviewed work and the attacks of
items 1-3 (merge replay, a revert of a reviewed fix, an old file checked back out, a commit
parked on ``sandbox/**``, a policy edit brought by a replayed merge), plus review trailers under
a rule that accepts them. The gate (``twokey check`` over each first-parent step, the same
``Gate`` as the hook) and the audit (``twokey audit`` with the same policy) must give the same
verdict for every change, and the expected one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.git._harness import NOW, REPOSITORY, Keys, policy_text
from tests.support.gitrepo import ALICE, BOB, CAROL, ERIN, GitRepo
from twokey.audit import AuditOptions, run_audit
from twokey.cli import main
from twokey.evidence import GitEvidenceStore, sign_approval

REF = "refs/heads/main"


def _policy(keys: Keys) -> str:
    text = policy_text(keys.public())
    text = text.replace(
        "    approvers: [reviewers, admins]\n",
        "    approvers: [reviewers, admins]\n    accept: [signed, trailer]\n",
        1,
    )
    return text.replace("tags:\n", "  sandbox/**: {approvals: 0}\ntags:\n", 1)


class World:
    """The repository and the expected verdict of each first-parent change, by commit."""

    def __init__(self, root: Path, keys: Keys) -> None:
        self.repo = GitRepo.init(root / "work")
        self.repo.git("config", "twokey.repository", REPOSITORY)
        self.keys = keys
        self.store = GitEvidenceStore(self.repo.path / ".git")
        self.expected: dict[str, str] = {}
        self.policy = root / "policy.yml"
        self.policy.write_text(_policy(keys))

    def approve(self, who: str, rev: str) -> None:
        commit = self.repo.rev_parse(f"{rev}^{{commit}}")
        tree = self.repo.rev_parse(f"{commit}^{{tree}}")
        envelope = sign_approval(
            self.keys.signers[who],
            repository=REPOSITORY,
            ref=REF,
            commit=commit,
            tree=tree,
            when=NOW,
        )
        self.store.put(envelope, commit)

    def landed(self, verdict: str) -> str:
        head = self.repo.rev_parse("main")
        self.expected[head] = verdict
        return head

    def merge(self, first: str, second: str, message: str) -> None:
        tree = self.repo.git("merge-tree", "--write-tree", first, second).splitlines()[0]
        merge = self.repo.git(
            "commit-tree", tree, "-p", first, "-p", second, "-m", message, person=ALICE
        )
        self.repo.git("update-ref", REF, merge)
        self.repo.git("reset", "-q", "--hard", merge)


def _build(world: World) -> None:
    repo = world.repo
    repo.commit({".twokey/policy.yml": world.policy.read_text()}, "Policy", ERIN)
    # 1. a reviewed change, fast-forward
    repo.commit({"auth.py": "check = False\n"}, "Auth", ALICE)
    world.approve("bob", "HEAD")
    first = world.landed("allow")
    # 2. a reviewed fix, then its revert (item 2)
    repo.commit({"auth.py": "check = True\n"}, "Security fix", ALICE)
    world.approve("bob", "HEAD")
    world.landed("allow")
    repo.git("revert", "--no-edit", "HEAD", person=ALICE)
    world.landed("deny")
    # 3. the old file checked back out after a reviewed fix (item 2)
    repo.commit({"auth.py": "check = True  # again\n"}, "Fix again", ALICE)
    world.approve("bob", "HEAD")
    world.landed("allow")
    repo.git("commit", "-q", "--allow-empty", "-m", "Empty, with the fix's approval", person=ALICE)
    world.landed("deny")  # the approval's tree is the new tree, but landing it is a no-op
    repo.git("checkout", first, "--", "auth.py")
    repo.git("commit", "-q", "-m", "Tidy", person=ALICE)
    world.landed("deny")
    # 4. a clean merge of an approved branch, then a replay of it with unreviewed work (item 1)
    repo.git("checkout", "-q", "-b", "feature")
    feature = repo.commit({"feature.py": "ok\n"}, "Feature", ALICE)
    world.approve("bob", "HEAD")
    repo.git("checkout", "-q", "main")
    world.merge(repo.rev_parse("main"), feature, "Merge feature")
    world.landed("allow")
    repo.commit({"evil.py": "backdoor\n"}, "Unreviewed", ALICE)
    world.landed("deny")
    world.merge(repo.rev_parse("main"), feature, "Merge feature again")
    world.landed("deny")
    # 5. a squash of an approved branch
    repo.git("checkout", "-q", "-b", "feature2")
    repo.commit({"two.py": "2\n"}, "Two", ALICE)
    world.approve("carol", "HEAD")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--squash", "feature2")
    repo.git("commit", "-q", "-m", "Two (squashed)", person=ALICE)
    world.landed("allow")
    # 6. review trailers, accepted by this rule: someone else's counts, one's own does not
    repo.commit({"t.py": "1\n"}, "Trailer\n\nReviewed-by: Carol White <carol@example.com>", ALICE)
    world.landed("allow")
    repo.commit({"t.py": "2\n"}, "Own\n\nReviewed-by: Carol White <carol@example.com>", CAROL)
    world.landed("deny")
    # 7. laundering: Bob parks his commit on sandbox/** and approves it himself (item 3)
    repo.git("checkout", "-q", "-b", "sandbox/bob")
    repo.commit({"bob.py": "mine\n"}, "Bob's change", BOB)
    world.approve("bob", "HEAD")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "sandbox/bob")
    world.landed("deny")
    # 8. a policy edit (one admin's sign-off would do) carried by a replayed merge (item 1)
    text = world.policy.read_text().replace(
        "policy_changes: {approvals: 2", "policy_changes: {approvals: 1"
    )
    repo.commit({".twokey/policy.yml": text}, "Relax", ALICE)
    world.landed("deny")
    world.merge(repo.rev_parse("main"), feature, "Merge feature, once more")
    world.landed("deny")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> World:
    made = World(tmp_path_factory.mktemp("agree"), keys)
    _build(made)
    return made


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys.generate()


def _gate(world: World, commit: str, capsys: pytest.CaptureFixture[str]) -> str:
    parent = world.repo.rev_parse(f"{commit}^1")
    argv = ["check", "--repo", str(world.repo.path), "--base", parent, "--head", commit]
    code = main([*argv, "--ref", "main", "--format", "json"])
    out = capsys.readouterr().out
    assert code in (0, 1), out
    verdicts = {d["verdict"] for d in json.loads(out)["decisions"]}
    return "deny" if code == 1 or "deny" in verdicts else "allow"


def test_gate_and_audit_agree_on_every_change(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    report = run_audit(AuditOptions(world.repo.path, ref="main", policy=world.policy))
    audit = {row.commit: row.verdict for row in report.changes}
    gate = {commit: _gate(world, commit, capsys) for commit in world.expected}
    assert {c: audit[c] for c in world.expected} == gate
    assert gate == world.expected

"""Property (issue 15, "Tests and docs"): over random histories of merges, squashes, rebases,
reverts and re-applied trees in a real repository, ``main`` only ever moves to content whose
every change is covered by an independent approval.

The oracle does not use ``git merge-tree``: it models content as a map of paths to blobs
(``git ls-tree -r``) and an approved feature as the paths its branch set. A move of ``main``
from OLD to NEW is legitimate only when NEW's content is OLD's content with one approved
feature applied (and that feature changes something), approved by someone who wrote none of
the commits the move brings. Every update the gate (``twokey check``, the hook's ``Gate``)
allows is checked against it; a fast-forward to a freshly approved feature must be allowed,
so the property cannot hold vacuously.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.integration.git._harness import NOW, REPOSITORY, Keys, policy_text
from tests.support.gitrepo import ALICE, BOB, CAROL, ERIN, GitRepo, Person
from twokey.cli import main
from twokey.evidence import GitEvidenceStore, sign_approval

WRITERS = {"alice": ALICE, "bob": BOB, "carol": CAROL}
EMAILS = {p.email: pid for pid, p in WRITERS.items()}
APPROVERS = frozenset({"bob", "carol"})  # of the writers, the ones the test policy lets approve
FILES = ("auth.py", "app.py", "lib.py")


@dataclass(frozen=True)
class Feature:
    """An approved branch head: the paths it sets (to blobs) and who approved it."""

    head: str
    sets: dict[str, str]
    approver: str


@dataclass
class World:
    repo: GitRepo
    keys: Keys
    features: list[Feature] = field(default_factory=list)
    counter: int = 0

    def content(self, rev: str) -> dict[str, str]:
        out = self.repo.git("ls-tree", "-r", rev)
        return {line.split("\t")[1]: line.split()[2] for line in out.splitlines()}

    def commit_on(self, base: str, person: Person, files: dict[str, str], message: str) -> str:
        self.repo.git("checkout", "-q", "--detach", base)
        self.counter += 1
        return self.repo.commit(files, f"{message} {self.counter}", person)

    def approve(self, who: str, commit: str) -> None:
        envelope = sign_approval(
            self.keys.signers[who],
            repository=REPOSITORY,
            ref="refs/heads/main",
            commit=commit,
            tree=self.repo.rev_parse(f"{commit}^{{tree}}"),
            when=NOW,
        )
        GitEvidenceStore(self.repo.path / ".git").put(envelope, commit)

    def gate(self, old: str, new: str) -> bool:
        argv = ["check", "--repo", str(self.repo.path), "--base", old, "--head", new]
        with contextlib.redirect_stdout(io.StringIO()):
            code = main([*argv, "--ref", "main"])
        assert code in (0, 1)
        return code == 0

    def legitimate(self, old: str, new: str) -> bool:
        """The oracle: NEW = OLD + one approved feature, approved by a non-author."""
        before, after = self.content(old), self.content(new)
        authors = {
            EMAILS.get(e, e) for e in self.repo.git("log", "--format=%ae", f"{old}..{new}").split()
        }
        for feature in self.features:
            landed = {**before, **feature.sets}
            independent = feature.approver in APPROVERS and feature.approver not in authors
            if landed == after and landed != before and independent:
                return True
        return False


def _blob(world: World, text: str) -> str:
    return world.repo.git("hash-object", "-w", "--stdin", input=text)


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(
            ["feature", "ff", "merge", "squash", "rebase", "revert", "restore", "replay", "direct"]
        ),
        st.sampled_from(sorted(WRITERS)),  # who acts (writes)
        st.sampled_from(sorted(WRITERS)),  # who approves
        st.sampled_from(FILES),
        st.integers(0, 3),  # which feature / which old commit
    ),
    min_size=3,
    max_size=7,
)


def _step(world: World, action: tuple[str, str, str, str, int]) -> None:
    kind, writer, approver, path, pick = action
    repo = world.repo
    old = repo.rev_parse("main")
    person = WRITERS[writer]
    if kind == "feature":
        head = world.commit_on(old, person, {path: f"{writer} {world.counter}\n"}, "Feature")
        world.approve(approver, head)
        world.features.append(
            Feature(head, {path: _blob(world, f"{writer} {world.counter}\n")}, approver)
        )
        allowed = world.gate(old, head)
        if (
            approver in APPROVERS and approver != writer
        ):  # liveness: an independently approved fast-forward lands
            assert allowed
        if allowed:
            repo.git("update-ref", "refs/heads/main", head)
        return
    new = _candidate(world, kind, person, path, pick, old)
    if new is None or new == old:
        return
    if world.gate(old, new):
        assert world.legitimate(old, new), f"{kind}: main moved to uncovered content"
        repo.git("update-ref", "refs/heads/main", new)


def _candidate(
    world: World, kind: str, person: Person, path: str, pick: int, old: str
) -> str | None:
    repo = world.repo
    if kind in ("ff", "merge", "squash", "rebase", "replay") and not world.features:
        return None
    feature = world.features[pick % len(world.features)] if world.features else None
    if kind == "ff":
        return feature.head if feature else None
    if kind in ("merge", "replay"):
        assert feature is not None
        first = old
        if kind == "replay":
            first = world.commit_on(old, person, {path: "unreviewed\n"}, "Unreviewed")
        result = repo.git("merge-tree", "--write-tree", first, feature.head, check=False)
        tree = result.splitlines()[0] if result else ""
        if len(tree) != 40 or "CONFLICT" in result:
            return None
        return repo.git(
            "commit-tree", tree, "-p", first, "-p", feature.head, "-m", "Merge", person=person
        )
    if kind in ("squash", "rebase"):
        assert feature is not None
        repo.git("checkout", "-q", "--detach", old)
        args = ["merge", "--squash"] if kind == "squash" else ["cherry-pick", "--no-commit"]
        if repo.git(*args, feature.head, check=False, person=person) is None:
            return None
        if repo.git("diff", "--cached", "--quiet", check=False) == "" and _conflicted(repo):
            repo.git("reset", "-q", "--hard")
            return None
        repo.git("commit", "-q", "--allow-empty", "-m", kind, person=person)
        return repo.rev_parse("HEAD")
    if kind == "revert":
        repo.git("checkout", "-q", "--detach", old)
        if repo.git("rev-list", "--count", old) == "1":
            return None
        done = repo.git("revert", "--no-edit", "HEAD", check=False, person=person)
        del done
        if _conflicted(repo):
            repo.git("revert", "--abort", check=False)
            return None
        return repo.rev_parse("HEAD")
    if kind == "restore":
        history = repo.git("rev-list", old).split()
        earlier = history[min(pick + 1, len(history) - 1)]
        repo.git("checkout", "-q", "--detach", old)
        repo.git("checkout", earlier, "--", ".")
        repo.git("commit", "-q", "--allow-empty", "-m", "Restore", person=person)
        return repo.rev_parse("HEAD")
    return world.commit_on(old, person, {path: "direct\n"}, "Direct")


def _conflicted(repo: GitRepo) -> bool:
    return bool(repo.git("diff", "--name-only", "--diff-filter=U", check=False))


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys.generate()


@settings(
    max_examples=int(os.environ.get("TWOKEY_PROPERTY_EXAMPLES", "8")),
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # real git: no slow shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=ACTIONS)
def test_main_only_moves_to_independently_approved_content(
    tmp_path_factory: pytest.TempPathFactory,
    keys: Keys,
    actions: list[tuple[str, str, str, str, int]],
) -> None:
    root = tmp_path_factory.mktemp("prop")
    repo = GitRepo.init(root / "work")
    repo.git("config", "twokey.repository", REPOSITORY)
    repo.commit(
        {".twokey/policy.yml": policy_text(keys.public()), **dict.fromkeys(FILES, "0\n")},
        "Seed",
        ERIN,
    )
    world = World(repo, keys)
    for action in actions:
        _step(world, action)


def test_the_oracle_sees_a_revert(tmp_path: Path, keys: Keys) -> None:
    # A sanity check of the oracle itself: a revert of an approved fix is not legitimate.
    repo = GitRepo.init(tmp_path / "work")
    repo.commit({"auth.py": "0\n"}, "Seed", ERIN)
    world = World(repo, keys)
    old = repo.rev_parse("main")
    fix = repo.commit({"auth.py": "1\n"}, "Fix", ALICE)
    world.features.append(Feature(fix, {"auth.py": _blob(world, "1\n")}, "bob"))
    assert world.legitimate(old, fix)
    repo.git("revert", "--no-edit", "HEAD", person=ALICE)
    assert not world.legitimate(fix, repo.rev_parse("HEAD"))

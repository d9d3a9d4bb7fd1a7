"""Authorship is a claim (issue 15, item 4; ADR 0012), tried with real keys and real pushes.

Every person has a real ``ssh-keygen`` key that signs their commits
(``git -c gpg.format=ssh -c user.signingkey=... commit -S``) and their approvals
(``ssh-keygen -Y sign``). Each test pushes through the installed pre-receive hook.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.git._harness import NOW, REPOSITORY, Pushed, push
from tests.support.gitrepo import ALICE, BOB, CAROL, GitRepo, Person
from twokey.cli import main
from twokey.doors import install_hook
from twokey.evidence import GitEvidenceStore, SshKeygenSigner, sign_approval

EVIDENCE = "refs/twokey/*:refs/twokey/*"
MALLORY = Person("Mallory", "mallory@evil.example")
AGENT = Person("Copilot", "198982749+copilot-bot@users.noreply.github.com")
SIGNERS = ("alice", "bob", "carol", "agent", "stranger")


@dataclass(frozen=True)
class World:
    """A template server and everyone's key files."""

    template: Path
    keys: dict[str, Path]


def _policy(public: dict[str, str]) -> str:
    return f"""\
version: 1
people:
  alice: {{name: Alice Smith, emails: [alice@example.com], github: alice,
           keys: ["{public["alice"]}"]}}
  bob: {{name: Bob Jones, emails: [bob@example.com], keys: ["{public["bob"]}"]}}
  carol: {{name: Carol White, emails: [carol@example.com], keys: ["{public["carol"]}"]}}
services:
  copilot: {{name: Coding agent, github: copilot-bot, directed_by: [alice],
             keys: ["{public["agent"]}"]}}
groups:
  reviewers: [alice, bob, carol]
branches:
  main: {{approvals: 1, approvers: [reviewers], signed_commits: true}}
  "plain/**": {{approvals: 1, approvers: [reviewers]}}
  "open/**": {{approvals: 1, approvers: [reviewers], unknown_authors: allow}}
policy_changes: {{approvals: 1, approvers: [carol]}}
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("authorship")
    keys: dict[str, Path] = {}
    for name in SIGNERS:
        path = root / f"{name}_ed25519"
        argv = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)]
        subprocess.run(argv, check=True, capture_output=True)
        keys[name] = path
    public = {n: p.with_suffix(".pub").read_text().strip() for n, p in keys.items()}
    bare = GitRepo.init(root / "server.git", bare=True)
    seed = bare.clone(root / "seed", CAROL)
    seed.commit({".twokey/policy.yml": _policy(public), "README.md": "x\n"}, "policy", CAROL)
    seed.git("push", "-q", "origin", "main")
    seed.git("push", "-q", "origin", "main:refs/heads/plain/x", "main:refs/heads/open/x")
    install_hook(bare.path, repository=REPOSITORY)
    return World(bare.path, keys)


class Repo:
    """A copy of the template server and one clone of it."""

    def __init__(self, world: World, root: Path) -> None:
        self.keys = world.keys
        shutil.copytree(world.template, root / "server.git", symlinks=True)
        self.clone = GitRepo(root / "server.git").clone(root / "work", CAROL)

    def commit(
        self,
        text: str,
        author: Person,
        *,
        signer: str | None = None,
        committer: Person | None = None,
        branch: str = "main",
    ) -> str:
        """A commit by ``author`` (committed by ``committer``), signed with ``signer``'s key."""
        self.clone.git("checkout", "-q", "-B", branch, f"origin/{branch}")
        self.clone.write("app.py", text)
        self.clone.git("add", "-A")
        args = ["commit", "-q", "-m", text]
        if signer is not None:
            key = f"user.signingkey={self.keys[signer]}"
            args = ["-c", "gpg.format=ssh", "-c", key, *args, "-S"]
        args += [f"--author={author.name} <{author.email}>"]
        self.clone.git(*args, person=committer or author)
        return self.clone.rev_parse("HEAD")

    def approve(self, who: str, ref: str = "refs/heads/main") -> None:
        """``who`` signs an approval of HEAD with their ssh-keygen key."""
        commit = self.clone.rev_parse("HEAD")
        envelope = sign_approval(
            SshKeygenSigner(self.keys[who]),
            repository=REPOSITORY,
            ref=ref,
            commit=commit,
            tree=self.clone.rev_parse("HEAD^{tree}"),
            when=NOW,
        )
        GitEvidenceStore(self.clone.path / ".git").put(envelope, commit)

    def push(self, branch: str = "main") -> Pushed:
        return push(self.clone, f"HEAD:refs/heads/{branch}", EVIDENCE)


@pytest.fixture
def repo(world: World, tmp_path: Path) -> Repo:
    return Repo(world, tmp_path)


def _denied(result: Pushed) -> set[str]:
    assert not result.accepted, result.output
    return set(result.findings())


# signed_commits: true on main -------------------------------------------------------------


def test_the_author_s_own_signature_lands(repo: Repo) -> None:
    repo.commit("alice's change", ALICE, signer="alice")
    repo.approve("bob")
    result = repo.push()
    assert result.accepted, result.output


def test_bob_committing_as_alice_and_approving_himself_is_refused(repo: Repo) -> None:
    """The issue's attack: bob writes under alice's name, approves it, carol pushes."""
    sha = repo.commit("bob's change, alice's name", ALICE, signer="bob")
    repo.approve("bob")
    result = repo.push()
    assert _denied(result) == {"AUTHOR_SIGNATURE_MISMATCH"}
    message = result.findings()["AUTHOR_SIGNATURE_MISMATCH"]
    assert sha[:7] in message
    assert "signed by bob, but the author line names alice" in message


def test_the_same_attack_unsigned_is_refused(repo: Repo) -> None:
    repo.commit("bob's change, alice's name", ALICE)
    repo.approve("bob")
    result = repo.push()
    assert _denied(result) == {"UNSIGNED_COMMIT"}
    assert "no signature" in result.findings()["UNSIGNED_COMMIT"]


def test_a_committer_s_signature_does_not_prove_the_author(repo: Repo) -> None:
    """bob commits (and signs) a commit whose author line says alice: a mismatch (ADR 0012)."""
    repo.commit("rebased by bob", ALICE, signer="bob", committer=BOB)
    repo.approve("carol")
    assert _denied(repo.push()) == {"AUTHOR_SIGNATURE_MISMATCH"}


def test_a_signature_by_an_unregistered_key_is_no_signature(repo: Repo) -> None:
    repo.commit("signed by a stranger's key", ALICE, signer="stranger")
    repo.approve("bob")
    result = repo.push()
    assert _denied(result) == {"UNSIGNED_COMMIT"}
    assert "a key the policy does not register" in result.findings()["UNSIGNED_COMMIT"]


def test_every_commit_of_the_push_is_checked(repo: Repo) -> None:
    repo.commit("one", ALICE, signer="alice")
    second = repo.commit("two", ALICE, signer="bob")
    repo.approve("carol")
    result = repo.push()
    assert _denied(result) == {"AUTHOR_SIGNATURE_MISMATCH"}
    assert second[:7] in result.findings()["AUTHOR_SIGNATURE_MISMATCH"]


def test_the_agent_signs_its_own_commits_and_its_director_may_not_approve(repo: Repo) -> None:
    repo.commit("agent's work", AGENT, signer="agent")
    repo.approve("alice")
    result = repo.push()
    assert _denied(result) == {"INSUFFICIENT_APPROVALS"}
    assert "alice" in result.findings("!")["SELF_APPROVAL"]
    repo.approve("bob")
    assert repo.push().accepted


# unknown authors, sub-addresses, no-reply addresses, look-alikes (no signatures) -----------


def test_an_author_nobody_knows_is_refused(repo: Repo) -> None:
    repo.commit("from outside", MALLORY, branch="plain/x")
    repo.approve("bob", "refs/heads/plain/x")
    result = repo.push("plain/x")
    assert _denied(result) == {"UNKNOWN_AUTHOR"}
    assert "mallory@evil.example" in result.findings()["UNKNOWN_AUTHOR"]


def test_unknown_authors_allow_lets_an_outsider_s_commit_land(repo: Repo) -> None:
    repo.commit("from outside", MALLORY, branch="open/x")
    repo.approve("bob", "refs/heads/open/x")
    assert repo.push("open/x").accepted


IMPERSONATIONS = {
    "sub-address": Person("Alice Smith", "alice+wip@example.com"),
    "sub-address-upper-case": Person("Alice Smith", "ALICE+x@Example.COM"),
    "github-noreply-with-id": Person("Alice Smith", "123+alice@users.noreply.github.com"),
    "github-noreply-plain": Person("Alice Smith", "alice@users.noreply.github.com"),
    "cyrillic-a": Person("Alice Smith", "\u0430lice@example.com"),
    "capital-i-for-l": Person("Alice Smith", "aIice@example.com"),
    "zero-width-space": Person("Alice Smith", "al\u200bice@example.com"),
    "look-alike-noreply-login": Person("A", "123+al\u0456ce@users.noreply.github.com"),
}


@pytest.mark.parametrize("author", IMPERSONATIONS.values(), ids=IMPERSONATIONS.keys())
def test_another_spelling_of_alice_is_alice(repo: Repo, author: Person) -> None:
    """alice commits under another spelling of her address and approves: it is still her."""
    repo.commit("alice in disguise", author, branch="plain/x")
    repo.approve("alice", "refs/heads/plain/x")
    result = repo.push("plain/x")
    assert _denied(result) == {"INSUFFICIENT_APPROVALS"}
    assert "alice is an author" in result.findings("!")["SELF_APPROVAL"]


def test_an_agent_s_no_reply_address_counts_its_director_as_author(repo: Repo) -> None:
    repo.commit("agent's work", AGENT, committer=AGENT, branch="plain/x")
    repo.approve("alice", "refs/heads/plain/x")
    result = repo.push("plain/x")
    assert _denied(result) == {"INSUFFICIENT_APPROVALS"}
    repo.approve("bob", "refs/heads/plain/x")
    assert repo.push("plain/x").accepted


def test_a_name_alone_that_looks_like_alice_excludes_her(repo: Repo) -> None:
    """An unknown address under alice's name: alice may not approve it (and it is unknown)."""
    repo.commit("outsider as alice", Person("\u0410lice Smith", "m@evil.example"),
                branch="open/x")  # fmt: skip
    repo.approve("alice", "refs/heads/open/x")
    result = repo.push("open/x")
    assert _denied(result) == {"INSUFFICIENT_APPROVALS"}


# the CI door ------------------------------------------------------------------------------


@pytest.mark.parametrize(("signer", "code"), [("alice", 0), ("bob", 1)], ids=["alice", "bob"])
def test_twokey_check_reads_the_signatures_too(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], signer: str, code: int
) -> None:
    """The same rule through ``twokey check`` in a CI checkout (the policy from the base)."""
    repo = Repo(world, tmp_path)
    repo.clone.git("config", "twokey.repository", REPOSITORY)
    repo.clone.git("checkout", "-q", "-b", "feature")
    repo.clone.write("app.py", "x\n")
    repo.clone.git("add", "-A")
    key = f"user.signingkey={repo.keys[signer]}"
    repo.clone.git("-c", "gpg.format=ssh", "-c", key, "commit", "-q", "-S", "-m", "x",
                   person=ALICE)  # fmt: skip
    repo.approve("carol")
    argv = ["check", "--repo", str(repo.clone.path), "--base", "main", "--head", "feature"]
    assert main([*argv, "--ref", "main"]) == code
    out = capsys.readouterr().out
    assert ("AUTHOR_SIGNATURE_MISMATCH" in out) is (signer == "bob")

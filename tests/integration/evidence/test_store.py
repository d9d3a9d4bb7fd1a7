"""GitEvidenceStore on a real repository: refs per envelope, batch reads, odd refs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.gitrepo import ALICE, GitRepo
from tests.unit.evidence.support import ARTIFACT, BOB, CI, NOW, POLICY, approval
from twokey.errors import InfrastructureError
from twokey.evidence import (
    MAX_ENVELOPE_BYTES,
    GitEvidenceStore,
    ref_for,
    repository_id,
    sign_provenance,
    verify_envelopes,
)


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    work = GitRepo.init(tmp_path / "shop")
    work.commit({"a": "1"}, "first", ALICE)
    return work


def test_put_and_read_back_by_commit_tree_and_artifact(repo: GitRepo) -> None:
    store = GitEvidenceStore(repo.path / ".git")
    commit, tree = repo.rev_parse("HEAD"), repo.rev_parse("HEAD^{tree}")
    by_commit = approval(BOB, commit=commit, tree=tree)
    provenance = sign_provenance(CI, artifact=ARTIFACT, repository="r", commit=commit, when=NOW)
    assert store.put(by_commit, commit) == ref_for(commit, by_commit)
    assert store.put(by_commit, commit) == ref_for(commit, by_commit)  # idempotent
    store.put(provenance, ARTIFACT)
    [found] = store.for_commits([commit, "f" * 40])
    assert (found.data, found.source) == (by_commit, ref_for(commit, by_commit))
    [artifact] = store.for_artifact(ARTIFACT)
    assert artifact.data == provenance
    assert sorted(e.source for e in store.all()) == sorted(
        [ref_for(commit, by_commit), ref_for(ARTIFACT, provenance)]
    )
    result = verify_envelopes(store.all(), POLICY, commit_trees={commit: tree})
    assert (len(result.approvals), len(result.provenance), result.rejected) == (1, 1, ())


def test_read_blob_reads_objects_no_ref_names_yet(repo: GitRepo) -> None:
    """What a pre-receive hook does with evidence objects arriving in the same push."""
    store = GitEvidenceStore(repo.path / ".git")
    oid = repo.git("hash-object", "-w", "--stdin", input="envelope bytes")
    assert store.read_blob(oid) == b"envelope bytes"
    assert store.read_blob("e" * 40) is None
    assert store.read_blobs([oid, "not-an-id", oid]) == {oid: b"envelope bytes"}


def test_odd_refs_are_refused_by_name_not_skipped(repo: GitRepo) -> None:
    store = GitEvidenceStore(repo.path / ".git")
    head = repo.rev_parse("HEAD")
    tree_ref = f"refs/twokey/evidence/{head}/{'1' * 64}"
    repo.git("update-ref", tree_ref, head)  # points at a commit, not a blob
    big = repo.git("hash-object", "-w", "--stdin", input="x" * (MAX_ENVELOPE_BYTES + 10))
    big_ref = f"refs/twokey/evidence/{head}/{'2' * 64}"
    repo.git("update-ref", big_ref, big)
    result = verify_envelopes(store.for_commits([head]), POLICY)
    reasons = dict(result.rejected)
    assert reasons[tree_ref].startswith("MALFORMED_ENVELOPE: ")
    assert reasons[big_ref].startswith("OVERSIZED: ")


def test_a_store_outside_a_repository_is_an_infrastructure_error(tmp_path: Path) -> None:
    with pytest.raises(InfrastructureError, match=r"git for-each-ref .* failed: fatal: not a git"):
        list(GitEvidenceStore(tmp_path / "nothing").all())


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"twokey.repository": "example.com/shop"}, "example.com/shop"),
        ({"remote.origin.url": "git@github.com:org/shop.git"}, "github.com/org/shop"),
        ({"remote.origin.url": "https://bob@example.com/org/shop.git"}, "example.com/org/shop"),
        ({"remote.origin.url": "ssh://git@host:2222/org/shop.git/"}, "host/org/shop"),
        ({}, "shop"),
    ],
    ids=["config", "scp-url", "https-url", "ssh-url-port", "directory"],
)
def test_repository_id(repo: GitRepo, config: dict[str, str], expected: str) -> None:
    for key, value in config.items():
        repo.git("config", key, value)
    assert repository_id(repo.path / ".git") == expected


def test_listed_evidence_is_read_with_one_cat_file(repo: GitRepo) -> None:
    """``for-each-ref`` names each blob's size, so only ``--batch`` runs (issue 10 item 9);
    an oversized blob is still never read, and ids git did not list are still checked."""
    from twokey._evidence_refs import read_bounded  # noqa: PLC0415

    head = repo.rev_parse("HEAD")
    small = repo.git("hash-object", "-w", "--stdin", input="{}")
    big = repo.git("hash-object", "-w", "--stdin", input="x" * (MAX_ENVELOPE_BYTES + 10))
    modes: list[str] = []

    def cat_file(mode: str, stdin: bytes) -> bytes:
        modes.append(mode)
        return repo.git("cat-file", mode, input=stdin.decode()).encode() + b"\n"

    sizes = {small: 2, big: MAX_ENVELOPE_BYTES + 10}
    read = read_bounded(cat_file, [small, big], sizes)
    assert modes == ["--batch"]
    assert (read[small].data, read[big].data, read[big].oversized) == (b"{}", b"", True)
    modes.clear()
    read = read_bounded(cat_file, [small, head], {small: 2})
    assert modes == ["--batch-check", "--batch"]
    assert (read[head].kind, read[head].data, read[small].data) == ("commit", b"", b"{}")

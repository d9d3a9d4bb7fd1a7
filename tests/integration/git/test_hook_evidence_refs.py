"""Nothing under refs/twokey/ can stop other pushes (issue 15 item 13, invariant 8), for real.

Evidence refs are checked on the way in (name, size, depth, DSSE format, digest); what is
already stored and bad is ignored with a warning at read, never an exit 3 for everyone.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.integration.git._harness import NOW, REPOSITORY, Server, push
from tests.support.gitrepo import ALICE, GitRepo
from twokey._evidence_refs import MAX_ENVELOPE_BYTES
from twokey.evidence import GitEvidenceStore, sign_approval
from twokey.ledger import open_ledger, parse_entry

EVIDENCE = "refs/twokey/*:refs/twokey/*"
DEEP = "[" * 30_000 + "]" * 30_000  # within the size limit: only the depth is wrong


def _blob_ref(clone: GitRepo, subject: str, content: str, digest: str | None = None) -> str:
    """Store ``content`` as a blob under an evidence-shaped ref (its real digest by default)."""
    blob = clone.git("hash-object", "-w", "--stdin", input=content)
    name = digest or hashlib.sha256(content.encode()).hexdigest()
    ref = f"refs/twokey/evidence/{subject}/{name}"
    clone.git("update-ref", ref, blob)
    return ref


def _plant_on_server(server: Server, ref: str, content: str) -> None:
    """What an old twokey (before ADR 0013) let in: written straight into the server."""
    blob = server.bare.git("hash-object", "-w", "--stdin", input=content)
    server.bare.git("update-ref", ref, blob)


def test_deeply_nested_json_is_refused_at_push_and_locks_nobody_out(server: Server) -> None:
    alice = server.clone(ALICE)
    head = alice.commit({"app.py": "x\n"}, "Change", ALICE)
    bad = _blob_ref(alice, head, DEEP)
    refused = push(alice, bad)
    assert not refused.accepted
    assert "nested deeper than 32 levels" in refused.findings()["MALFORMED_INPUT"]
    assert server.bare.git("for-each-ref", "refs/twokey/") == ""
    good = server.approve(alice, "bob")
    assert push(alice, "main", good).accepted


def test_a_stored_hostile_blob_is_ignored_with_a_warning(server: Server) -> None:
    alice = server.clone(ALICE)
    head = alice.commit({"app.py": "x\n"}, "Change", ALICE)
    deep = f"refs/twokey/evidence/{head}/{hashlib.sha256(DEEP.encode()).hexdigest()}"
    _plant_on_server(server, deep, DEEP)
    big = "x" * (MAX_ENVELOPE_BYTES + 100)
    huge = f"refs/twokey/evidence/{head}/{hashlib.sha256(big.encode()).hexdigest()}"
    _plant_on_server(server, huge, big)
    server.approve(alice, "bob")
    result = push(alice, "main", EVIDENCE)
    assert result.accepted, result.output
    warned = result.findings("!")["MALFORMED_INPUT"]
    assert "nested deeper than 32 levels" in warned
    assert f"envelope is too big: {len(big)} bytes" in warned


def test_a_plain_ref_cannot_squat_a_commits_evidence_directory(server: Server) -> None:
    alice = server.clone(ALICE)
    head = alice.commit({"app.py": "x\n"}, "Change", ALICE)
    blob = alice.git("hash-object", "-w", "--stdin", input="squat")
    alice.git("update-ref", f"refs/twokey/evidence/{head}", blob)
    refused = push(alice, f"refs/twokey/evidence/{head}")
    assert not refused.accepted
    assert "is not an evidence ref name" in refused.findings()["MALFORMED_INPUT"]
    alice.git("update-ref", "-d", f"refs/twokey/evidence/{head}")
    assert push(alice, "main", server.approve(alice, "bob")).accepted


def test_a_squatter_already_on_the_server_is_named_and_the_tree_still_works(
    server: Server,
) -> None:
    alice = server.clone(ALICE)
    head = alice.commit({"app.py": "x\n"}, "Change", ALICE)
    _plant_on_server(server, f"refs/twokey/evidence/{head}", "squat")
    by_commit = push(alice, "main", server.approve(alice, "bob"))
    assert not by_commit.accepted
    assert f"the existing ref refs/twokey/evidence/{head} blocks" in by_commit.output
    tree = alice.rev_parse("HEAD^{tree}")
    envelope = sign_approval(
        server.keys.signers["bob"],
        repository=REPOSITORY,
        ref="refs/heads/main",
        commit=head,
        tree=tree,
        when=NOW,
    )
    by_tree = GitEvidenceStore(alice.path / ".git").put(envelope, tree)
    result = push(alice, "main", by_tree)
    assert result.accepted, result.output


def test_oversized_misnamed_and_non_blob_evidence_is_refused(server: Server) -> None:
    alice = server.clone(ALICE)
    head = alice.commit({"app.py": "x\n"}, "Change", ALICE)
    big = _blob_ref(alice, head, "x" * (MAX_ENVELOPE_BYTES + 1))
    misnamed = _blob_ref(alice, head, "{}", digest="a" * 64)
    commit_ref = f"refs/twokey/evidence/{head}/{'b' * 64}"
    alice.git("update-ref", commit_ref, head)
    for ref, reason in [
        (big, f"envelope is too big: {MAX_ENVELOPE_BYTES + 1} bytes"),
        (misnamed, "the name must end in the envelope's sha256"),
        (commit_ref, "points at a commit"),
    ]:
        result = push(alice, ref)
        assert not result.accepted
        assert reason in result.findings()["MALFORMED_INPUT"], result.output


def test_an_envelope_filed_under_another_subject_is_refused(server: Server) -> None:
    alice = server.clone(ALICE)
    first = alice.commit({"app.py": "x\n"}, "Change", ALICE)
    alice.commit({"app.py": "y\n"}, "Other", ALICE)
    envelope = sign_approval(
        server.keys.signers["bob"],
        repository=REPOSITORY,
        ref="refs/heads/main",
        commit=first,
        tree=alice.rev_parse(f"{first}^{{tree}}"),
        when=NOW,
    )
    other = alice.rev_parse("HEAD")
    ref = _blob_ref(alice, other, envelope.decode())
    result = push(alice, ref)
    assert not result.accepted
    assert "SUBJECT_MISMATCH" in result.findings()["MALFORMED_INPUT"]


def test_no_evidence_is_recorded_for_a_push_git_did_not_store(
    server: Server, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.db"
    server.bare.git("config", "twokey.ledger", str(ledger))
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    own = server.approve(alice, "alice")  # self-approval: main is denied, nothing is stored
    assert not push(alice, "main", own).accepted
    assert server.bare.git("for-each-ref", "refs/twokey/") == ""
    good = server.approve(alice, "bob")
    assert push(alice, "main", good).accepted
    with open_ledger(str(ledger)) as log:
        entries = [parse_entry(data) for _, data in log.entries()]
    recorded = [e.body["ref"] for e in entries if e.kind.value == "evidence"]
    assert recorded == [good]
    decisions = [e.body["ref"] for e in entries if e.kind.value == "decision"]
    assert own in decisions  # the refused push is still recorded as decisions


def test_a_hostile_tree_index_cache_is_ignored(server: Server) -> None:
    """The index of evidence trees is a cache in ``$GIT_DIR`` (in CI: the checkout's ``.git``)."""
    cache = server.bare.path / "twokey" / "cache" / "evidence-trees.json"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(DEEP)
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    result = push(alice, "main", server.approve(alice, "bob"))
    assert result.accepted, result.output

"""One push cannot take the server's memory with evidence refs (ADR 0041, invariant 8), for real.

Each evidence blob may hold up to 64 KiB, so 10,000 of them in one push would have the hook
hold 640 MB. The hook counts the push's refs under refs/twokey/ and sizes their blobs
(``git cat-file --batch-check``) before it reads any envelope, and refuses the whole push with
one reason when either passes its limit (``twokey.maxPushEvidence``,
``twokey.maxPushEvidenceBytes`` in the repository's git config).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

from tests.integration.git._harness import Pushed, Server, push
from tests.support.gitrepo import ALICE, GitRepo
from twokey._evidence_refs import MAX_PUSH_EVIDENCE_BYTES, MAX_PUSH_EVIDENCE_REFS

EVIDENCE = "refs/twokey/*:refs/twokey/*"


def _evidence_refs(clone: GitRepo, subject: str, contents: list[str]) -> None:
    """One evidence-shaped ref per content (named by its real sha256), made in two git calls."""
    folder = clone.path / "blobs"
    folder.mkdir()
    paths = []
    for i, content in enumerate(contents):
        path = folder / str(i)
        path.write_text(content)
        paths.append(str(path))
    blobs = clone.git("hash-object", "-w", "--stdin-paths", input="\n".join(paths)).split()
    lines = [
        f"create refs/twokey/evidence/{subject}/{hashlib.sha256(c.encode()).hexdigest()} {blob}"
        for c, blob in zip(contents, blobs, strict=True)
    ]
    clone.git("update-ref", "--stdin", input="\n".join(lines) + "\n")


def _only_reason(result: Pushed) -> str:
    """The one deny reason of a refused push, asserting that it is one block for all refs."""
    assert not result.accepted, result.output
    denied = result.findings()
    assert list(denied) == ["MALFORMED_INPUT"], result.output
    assert result.output.count("✗ MALFORMED_INPUT") <= 2, result.output  # main + the evidence
    return denied["MALFORMED_INPUT"]


def test_a_push_of_more_evidence_refs_than_the_limit_is_refused_unread(server: Server) -> None:
    alice = server.clone(ALICE)
    head = alice.commit({"app.py": "x\n"}, "Change", ALICE)
    # Not JSON: had the hook read them, each would be refused by name ("not JSON").
    _evidence_refs(alice, head, [f"junk {i}" for i in range(MAX_PUSH_EVIDENCE_REFS + 1)])
    reason = _only_reason(push(alice, "main", EVIDENCE))
    assert f"updates {MAX_PUSH_EVIDENCE_REFS + 1} refs under refs/twokey/" in reason
    assert f"at most {MAX_PUSH_EVIDENCE_REFS} (git config twokey.maxPushEvidence)" in reason
    assert "not JSON" not in reason
    assert server.bare.git("for-each-ref", "refs/twokey/") == ""
    assert server.head() != head


def test_a_push_of_more_evidence_bytes_than_the_limit_is_refused_unread(server: Server) -> None:
    server.bare.git("config", "twokey.maxPushEvidenceBytes", "100k")
    alice = server.clone(ALICE)
    head = alice.commit({"app.py": "x\n"}, "Change", ALICE)
    _evidence_refs(alice, head, [f"{i}" + "x" * 60_000 for i in range(2)])  # 120,002 bytes
    reason = _only_reason(push(alice, EVIDENCE))
    assert "brings 120002 bytes of evidence envelopes; one push may bring at most 102400" in reason
    assert "envelope" in reason
    assert server.bare.git("for-each-ref", "refs/twokey/") == ""


def test_within_the_limits_every_evidence_ref_is_judged_by_itself(server: Server) -> None:
    server.bare.git("config", "twokey.maxPushEvidence", "2")
    alice = server.clone(ALICE)
    head = alice.commit({"app.py": "x\n"}, "Change", ALICE)
    two = push(alice, "main", server.approve(alice, "bob"), server.approve(alice, "carol"))
    assert two.accepted, two.output
    alice.commit({"app.py": "y\n"}, "More", ALICE)
    refs = [server.approve(alice, who) for who in ("bob", "carol", "erin")]
    three = push(alice, "main", *refs)
    assert "updates 3 refs under refs/twokey/; one push may update at most 2" in _only_reason(three)
    assert server.head() == head
    assert push(alice, "main", *refs[:2]).accepted


def test_a_limit_that_is_not_a_number_refuses_the_push_naming_it(server: Server) -> None:
    server.bare.git("config", "twokey.maxPushEvidence", "lots")
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    result = push(alice, "main", server.approve(alice, "bob"))
    assert not result.accepted
    assert "git config twokey.maxPushEvidence is 'lots', not a positive whole number" in (
        result.output
    )


def test_the_install_help_names_the_limits_the_hook_applies() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twokey", "hook", "install", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    help_text = " ".join(done.stdout.split())
    assert f"at most {MAX_PUSH_EVIDENCE_REFS} refs under refs/twokey/" in help_text
    assert f"at most {MAX_PUSH_EVIDENCE_BYTES // 2**20} MiB of envelopes" in help_text

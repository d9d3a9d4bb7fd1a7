"""The hook's git processes (ADR 0037): each read runs once, none is asked twice, and what is
read early is read from where the late read would read it.

An approved push with its evidence runs seven git processes in the hook: its settings, one
snapshot of the refs (branches, tags and twokey's whole namespace), the policy on the default
branch, the pushed evidence objects (their types and sizes, then their bytes), the change's
log and its paths. ``merge-base`` is not asked when the log shows the old tip as a parent.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.integration.git._harness import Server, push
from tests.support.gitrepo import ALICE


def _hook_processes(trace: Path) -> list[str]:
    """The git commands the pre-receive hook ran (``GIT_TRACE`` of the push)."""
    lines = trace.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "hooks/pre-receive" in line)
    # A refused push runs no post-receive hook.
    end = next((i for i, line in enumerate(lines) if "hooks/post-receive" in line), len(lines))
    return [
        line.split("built-in: git ", 1)[1] for line in lines[start:end] if "built-in: git " in line
    ]


def _command(line: str) -> str:
    words = line.split()
    return " ".join(words[:2]) if words[0] == "cat-file" else words[0]


def test_an_approved_push_runs_seven_git_processes_each_once(
    server: Server, tmp_path: Path
) -> None:
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    evidence = server.approve(alice, "bob")
    trace = tmp_path / "trace"
    pushed = push(alice, "main", evidence, env={"GIT_TRACE": str(trace)})
    assert pushed.accepted, pushed.output
    ran = _hook_processes(trace)
    assert sorted(_command(c) for c in ran) == [
        "cat-file --batch",  # the policy on the default branch
        "cat-file --batch",  # the pushed evidence's bytes
        "cat-file --batch-check",  # the pushed evidence's types and sizes
        "config",
        "diff",
        "for-each-ref",  # one snapshot, read by the gate and the evidence source
        "log",
    ], ran
    (snapshot,) = [c for c in ran if c.startswith("for-each-ref")]
    assert snapshot.endswith("refs/heads/ refs/tags/ refs/twokey/")


def test_a_rewrite_still_asks_merge_base(server: Server, tmp_path: Path) -> None:
    """Not a fast-forward: the log cannot show it, so ``merge-base`` is asked (and the update
    is refused as a force push on a protected branch)."""
    alice = server.clone(ALICE)
    alice.git("commit", "-q", "--amend", "-m", "Rewritten")
    trace = tmp_path / "trace"
    pushed = push(alice, "+main", env={"GIT_TRACE": str(trace)})
    assert not pushed.accepted
    assert "FORCE_PUSH" in pushed.findings()
    assert [c for c in _hook_processes(trace) if c.startswith("merge-base")]


def test_a_squatter_of_an_artifacts_directory_is_found_in_the_one_snapshot(
    server: Server,
) -> None:
    """The snapshot covers all of ``refs/twokey/``, not only evidence: a plain ref on the
    server at an artifact's directory still blocks evidence filed under it."""
    digest = hashlib.sha256(b"app").hexdigest()
    squat = server.bare.git("hash-object", "-w", "--stdin", input="squat")
    server.bare.git("update-ref", f"refs/twokey/artifacts/{digest}", squat)
    alice = server.clone(ALICE)
    content = '{"payloadType": "x"}'
    blob = alice.git("hash-object", "-w", "--stdin", input=content)
    name = hashlib.sha256(content.encode()).hexdigest()
    ref = f"refs/twokey/artifacts/{digest}/{name}"
    alice.git("update-ref", ref, blob)
    refused = push(alice, ref)
    assert not refused.accepted
    assert f"the existing ref refs/twokey/artifacts/{digest} blocks {ref}" in refused.output

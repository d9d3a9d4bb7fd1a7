"""A gated repository audited without ``--policy`` is judged by its own policy (issue 13, item 2).

A real server with the hook: the policy is committed first (before the hook), then every
change is pushed through the hook with signed approvals, and the policy itself is tightened
half-way (two approvals on main, signed off by both admins). The gate allowed every change
that landed; the audit, without ``--policy``, must agree change by change, which it can only
do by judging each change with the version of the policy its gate read: the latest version
would deny the changes made under the first one (one approval each), and the inferred default
would deny every signed-only change (it has no keys).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.integration.git._harness import Keys, Server, policy_text, push
from tests.support.gitrepo import ALICE, ERIN, GitRepo
from twokey.audit import AuditOptions, ReportFormat, render, run_audit
from twokey.cli import main
from twokey.doors import install_hook

EVIDENCE = "refs/twokey/*:refs/twokey/*"
DAY = "2026-02-{:02d}T10:00:00+00:00"
POLICY = ".twokey/policy.yml"


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Server, dict[str, str]]:
    root = tmp_path_factory.mktemp("gated")
    keys = Keys.generate()
    bare = GitRepo.init(root / "server.git", bare=True)
    seed = bare.clone(root / "seed", ERIN)
    first = policy_text(keys.public())
    seed.commit({POLICY: first, "README.md": "shop\n"}, "Add the policy", ERIN, when=DAY.format(1))
    seed.git("push", "-q", "origin", "main")
    install_hook(bare.path, repository="shop")
    server = Server(root, bare, keys)
    alice = server.clone(ALICE)
    landed = {"policy": seed.rev_parse("HEAD")}
    for n, label in ((2, "one-a"), (3, "one-b")):
        landed[label] = alice.commit({f"{label}.py": "x\n"}, label, ALICE, when=DAY.format(n))
        server.approve(alice, "bob")
        assert push(alice, "main", EVIDENCE).accepted
    stricter = policy_text(keys.public(), main_approvals=2)
    landed["tighten"] = alice.commit({POLICY: stricter}, "Two approvals", ALICE, when=DAY.format(4))
    for admin in ("erin", "frank", "bob", "carol"):  # admins sign off; reviewers approve
        server.approve(alice, admin)
    result = push(alice, "main", EVIDENCE)
    assert result.accepted, result.output
    landed["two"] = alice.commit({"two.py": "x\n"}, "two", ALICE, when=DAY.format(5))
    server.approve(alice, "bob")
    refused = push(alice, "main", EVIDENCE)  # one approval no longer does
    assert not refused.accepted
    server.approve(alice, "carol")
    assert push(alice, "main", EVIDENCE).accepted
    return server, landed


def test_each_change_is_judged_by_the_policy_its_gate_read(
    gated: tuple[Server, dict[str, str]],
) -> None:
    server, landed = gated
    report = run_audit(AuditOptions(server.bare.path))
    try:
        rows = {c.commit: c for c in report.changes}
        assert set(rows) == set(landed.values())
        verdicts = {label: rows[sha].verdict for label, sha in landed.items()}
        # the first commit wrote the first policy: nothing gated it (the inferred default)
        assert verdicts == {
            "policy": "deny",
            "one-a": "allow",
            "one-b": "allow",
            "tighten": "allow",
            "two": "allow",
        }
        signed = [a for a in rows[landed["two"]].approvers if a.counted]
        assert sorted(a.who for a in signed) == ["bob", "carol"]
        assert {a.trust for a in signed} == {"signed"}
        info = report.policy
        assert info["default"] is False
        first, second = (
            f"refs/heads/main:{POLICY}@{landed[k][:12]}" for k in ("policy", "tighten")
        )
        assert info["gated"] == {first: 3, second: 1, "default": 1}
        assert "as its gate read it" in info["source"]
        text = render(report, ReportFormat.TEXT)
        assert f"{first}: 3 change(s)" in text
        assert "1 change(s) from before the repository had a policy" in text
        assert f"{second}: 1 change(s)" in render(report, ReportFormat.HTML)
    finally:
        report.close()


def test_the_latest_version_alone_would_deny_the_earlier_changes(
    gated: tuple[Server, dict[str, str]], tmp_path: Path
) -> None:
    """The control: the same history judged by today's policy file disagrees with the gate."""
    server, landed = gated
    latest = tmp_path / "policy.yml"
    latest.write_bytes(server.bare.git("show", f"main:{POLICY}").encode() + b"\n")
    report = run_audit(AuditOptions(server.bare.path, policy=latest))
    try:
        rows = {c.commit: c.verdict for c in report.changes}
        assert rows[landed["one-a"]] == rows[landed["one-b"]] == "deny"
    finally:
        report.close()


def test_the_cli_uses_the_repository_policy_of_its_default_branch(
    gated: tuple[Server, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    server, _ = gated
    assert main(["audit", "--repo", str(server.bare.path)]) == 0
    out = capsys.readouterr().out
    assert "the repository's own policy, as its gate read it" in out
    assert "5 changes, 1 violations" in out


def test_a_backdated_change_cannot_choose_an_older_policy(
    gated: tuple[Server, dict[str, str]], tmp_path: Path
) -> None:
    """A change that bypassed the gate, dated before the policy was tightened, is judged by
    the version below it on the branch (two approvals), not by its date (one would do)."""
    server, landed = gated
    copy = GitRepo(tmp_path / "server.git")
    shutil.copytree(server.bare.path, copy.path, symlinks=True)
    (copy.path / "hooks" / "pre-receive").unlink()  # someone with access to the server
    bypass = Server(tmp_path, copy, server.keys)
    alice = bypass.clone(ALICE, "alice-bypass")
    late = alice.commit({"late.py": "x\n"}, "backdated", ALICE, when=DAY.format(3))
    bypass.approve(alice, "bob")
    assert push(alice, "main", EVIDENCE).accepted
    report = run_audit(AuditOptions(copy.path))
    try:
        rows = {c.commit: c for c in report.changes}
        assert rows[late].verdict == "deny"
        assert "INSUFFICIENT_APPROVALS" in {code for code, _ in rows[late].findings}
        assert rows[landed["one-a"]].verdict == "allow"  # still judged by the first version
    finally:
        report.close()

"""Bad input, bootstrap, break-glass, the ledger, other transports: never an accidental allow."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.git._harness import REPOSITORY, Keys, Server, policy_text, push
from tests.support.gitrepo import ALICE, ERIN, GitRepo, git_env
from twokey.doors import install_hook, uninstall_hook
from twokey.errors import UsageError
from twokey.ledger import open_ledger, parse_entry

EVIDENCE = "refs/twokey/*:refs/twokey/*"


def _empty_server(tmp_path: Path, keys: Keys, *, bootstrap: bool) -> Server:
    bare = GitRepo.init(tmp_path / "server.git", bare=True)
    policy = tmp_path / "bootstrap.yml"
    policy.write_text(policy_text(keys.public()))
    install_hook(bare.path, repository=REPOSITORY, bootstrap_policy=policy if bootstrap else None)
    return Server(tmp_path, bare, keys)


def test_without_any_policy_every_push_is_refused_with_the_bootstrap_step(
    tmp_path: Path, keys: Keys
) -> None:
    server = _empty_server(tmp_path, keys, bootstrap=False)
    erin = server.clone(ERIN)
    erin.commit({"README.md": "x\n"}, "First", ERIN)
    result = push(erin, "main")
    assert not result.accepted
    assert "✗ MALFORMED_INPUT: no policy on refs/heads/main (.twokey/policy.yml)" in result.output
    assert "--bootstrap-policy FILE" in result.output


def test_bootstrap_the_first_policy_needs_both_admins(tmp_path: Path, keys: Keys) -> None:
    server = _empty_server(tmp_path, keys, bootstrap=True)
    erin = server.clone(ERIN)
    erin.commit({".twokey/policy.yml": policy_text(keys.public())}, "Add the policy", ERIN)
    server.approve(erin, "erin")
    refused = push(erin, "main", EVIDENCE)
    # Erin alone: the policy rule (1 of 2 admins) and the branch rule (authors excluded).
    assert set(refused.findings()) == {"INSUFFICIENT_APPROVALS", "POLICY_CHANGE_UNAPPROVED"}
    assert not refused.accepted
    server.approve(erin, "frank")
    accepted = push(erin, "main", EVIDENCE)
    assert accepted.accepted, accepted.output
    # From now on the policy on main is the trusted one (its blob, not the bootstrap file).
    erin.commit({"x.md": "x\n"}, "Unapproved", ERIN)
    again = push(erin, "main")
    assert "rule: refs/heads/main:.twokey/policy.yml:" in again.output


def test_invalid_policy_on_the_default_branch_denies(tmp_path: Path, keys: Keys) -> None:
    bare = GitRepo.init(tmp_path / "server.git", bare=True)
    seed = bare.clone(tmp_path / "seed", ERIN)
    seed.commit({".twokey/policy.yml": "version: 1\npeople: [oops\n"}, "Broken", ERIN)
    seed.git("push", "-q", "origin", "main")
    install_hook(bare.path, repository=REPOSITORY)
    seed.commit({"a.md": "a\n"}, "Anything", ERIN)
    result = push(seed, "main")
    assert not result.accepted
    assert "✗ MALFORMED_INPUT: " in result.output


def test_a_policy_change_must_leave_a_valid_policy(server: Server) -> None:
    erin = server.clone(ERIN)
    erin.commit({".twokey/policy.yml": "version: 1\nbogus: true\n"}, "Break it", ERIN)
    server.approve(erin, "erin")
    server.approve(erin, "frank")
    result = push(erin, "main", EVIDENCE)
    assert not result.accepted
    assert "✗ MALFORMED_INPUT: the new policy is invalid:" in result.output


def test_corrupt_evidence_is_refused_by_name(server: Server) -> None:
    alice = server.clone(ALICE)
    head = alice.commit({"app.py": "x\n"}, "Change", ALICE)
    blob = alice.git("hash-object", "-w", "--stdin", input="{not an envelope")
    ref = f"refs/twokey/evidence/{head}/{'0' * 64}"
    alice.git("update-ref", ref, blob)
    result = push(alice, "main", EVIDENCE)
    assert not result.accepted
    # Refused on the way in (ADR 0013); and on main it is named and does not count.
    assert f"evidence refused: {ref}" in result.findings()["MALFORMED_INPUT"]
    rejected = result.findings("!")["MALFORMED_INPUT"]
    assert ref in rejected
    assert "MALFORMED_ENVELOPE" in rejected
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS", "MALFORMED_INPUT"}


def test_evidence_is_append_only(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    ref = server.approve(alice, "bob")
    assert push(alice, ref).accepted
    deleted = push(alice, f":{ref}")
    assert "✗ REF_DELETION: " in deleted.output
    assert "evidence is append-only" in deleted.output
    other = alice.git("hash-object", "-w", "--stdin", input="other")
    alice.git("update-ref", ref, other)
    overwritten = push(alice, f"+{ref}")
    assert "✗ FORCE_PUSH: " in overwritten.output
    assert not deleted.accepted
    assert not overwritten.accepted


def test_break_glass_by_an_allowed_person_with_a_reason(server: Server) -> None:
    erin = server.clone(ERIN)
    erin.commit({"hotfix.py": "x\n"}, "Hotfix", ERIN)
    env = {"TWOKEY_PUSHER": "email:erin@example.com"}
    result = push(erin, "main", env=env, options=("twokey.break-glass=prod is down",))
    assert result.accepted, result.output
    assert "prod is down" in result.findings("!")["BREAK_GLASS"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "break-glass refused: the transport did not identify the pusher"),
        ({"TWOKEY_PUSHER": "email:alice@example.com"}, "alice"),
    ],
    ids=["unknown-pusher", "not-allowed"],
)
def test_break_glass_refused(server: Server, env: dict[str, str], expected: str) -> None:
    alice = server.clone(ALICE)
    alice.commit({"hotfix.py": "x\n"}, "Hotfix", ALICE)
    result = push(alice, "main", env=env, options=("twokey.break-glass=because",))
    assert not result.accepted
    assert expected in result.findings()["BREAK_GLASS_DENIED"]


def test_a_rule_excluding_the_last_pusher_needs_a_named_pusher(tmp_path: Path, keys: Keys) -> None:
    """Invariant 3 (the last pusher) and 8 (fail closed), through real pushes."""
    bare = GitRepo.init(tmp_path / "server.git", bare=True)
    seed = bare.clone(tmp_path / "seed", ERIN)
    strict = policy_text(keys.public()).replace(
        "    approvers: [reviewers, admins]\n",
        "    approvers: [reviewers, admins]\n    exclude: [authors, committers, last-pusher]\n",
        1,
    )
    seed.commit({".twokey/policy.yml": strict}, "Add the twokey policy", ERIN)
    seed.git("push", "-q", "origin", "main")
    install_hook(bare.path, repository=REPOSITORY)
    server = Server(tmp_path, bare, keys)
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    server.approve(alice, "bob")

    unnamed = push(alice, "main", EVIDENCE)
    assert not unnamed.accepted
    assert "did not say who pushes" in unnamed.findings()["UNKNOWN_PUSHER"]
    as_bob = push(alice, "main", EVIDENCE, env={"TWOKEY_PUSHER": "email:bob@example.com"})
    assert not as_bob.accepted  # bob may not approve what bob pushes
    assert "bob is the pusher of this change" in as_bob.findings("!")["SELF_APPROVAL"]
    as_alice = push(alice, "main", EVIDENCE, env={"TWOKEY_PUSHER": "email:alice@example.com"})
    assert as_alice.accepted, as_alice.output


def test_every_decision_is_written_to_the_ledger(server: Server, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.db"
    server.bare.git("config", "twokey.ledger", str(ledger))
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    assert not push(alice, "main").accepted
    server.approve(alice, "bob")
    assert push(alice, "main", EVIDENCE).accepted
    with open_ledger(str(ledger)) as log:
        entries = [parse_entry(data) for _, data in log.entries()]
    main = [
        e.body for e in entries if e.kind.value == "decision" and e.body["ref"] == "refs/heads/main"
    ]
    assert [b["decision"]["verdict"] for b in main] == ["deny", "allow"]
    assert main[1]["evidence"][0].startswith("sha256:")
    assert main[1]["repository"] == REPOSITORY
    evidence = [e for e in entries if e.kind.value == "evidence"]
    assert len(evidence) == 1
    assert evidence[0].body["ref"].startswith("refs/twokey/evidence/")


def test_an_unwritable_ledger_denies(server: Server, tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    server.bare.git("config", "twokey.ledger", str(tmp_path / "dir.db"))
    alice = server.clone(ALICE)
    alice.git("checkout", "-q", "-b", "topic")
    alice.commit({"app.py": "x\n"}, "WIP", ALICE)
    result = push(alice, "topic")
    assert not result.accepted
    assert "✗ INTERNAL_ERROR: cannot write the ledger" in result.output


def test_install_refuses_a_foreign_hook_and_uninstall_leaves_it(tmp_path: Path) -> None:
    bare = GitRepo.init(tmp_path / "r.git", bare=True)
    hook = bare.path / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nexit 0\n")
    with pytest.raises(UsageError, match="was not installed by twokey"):
        install_hook(bare.path)
    with pytest.raises(UsageError, match="was not installed by twokey"):
        uninstall_hook(bare.path)
    install_hook(bare.path, force=True, ledger="sqlite:///x.db", repository="r")
    assert bare.git("config", "receive.advertisePushOptions") == "true"
    assert bare.git("config", "twokey.repository") == "r"
    assert uninstall_hook(bare.path) is True
    assert not hook.exists()
    assert uninstall_hook(bare.path) is False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def daemon(server: Server) -> Iterator[str]:
    """``git daemon`` serving the server repository (push enabled) on a free local port."""
    port = _free_port()
    base = server.bare.path.parent
    proc = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--listen=127.0.0.1",
            f"--port={port}",
            f"--base-path={base}",
            "--export-all",
            "--enable=receive-pack",
            str(base),
        ],
        env=git_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    try:
        yield f"git://127.0.0.1:{port}/{server.bare.path.name}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_pushes_over_git_daemon_are_judged_the_same(server: Server, daemon: str) -> None:
    alice = server.clone(ALICE)
    alice.git("remote", "add", "daemon", daemon)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    refused = push(alice, "main", remote="daemon")
    assert not refused.accepted
    assert set(refused.findings()) == {"INSUFFICIENT_APPROVALS"}
    server.approve(alice, "bob")
    accepted = push(alice, "main", EVIDENCE, remote="daemon")
    assert accepted.accepted, accepted.output


@pytest.fixture
def hook_server(server: Server, tmp_path: Path) -> Iterator[Path]:
    """``twokey hook serve`` on a socket, and the server's hook pointed at it."""
    sock = tmp_path / "hook.sock"
    proc = subprocess.Popen(
        [sys.executable, "-m", "twokey", "hook", "serve", "--socket", str(sock)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not sock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    install_hook(server.bare.path, repository=REPOSITORY, server_socket=sock)
    try:
        yield sock
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_warm_server_judges_like_the_hook_and_falls_back(
    server: Server, hook_server: Path
) -> None:
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    refused = push(alice, "main")
    assert set(refused.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert not refused.accepted
    server.approve(alice, "bob")
    assert push(alice, "main", EVIDENCE).accepted
    hook_server.unlink()  # no server: the hook judges by itself, with the same answer
    alice.commit({"app.py": "y\n"}, "Unapproved", ALICE)
    fallback = push(alice, "main")
    assert set(fallback.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert not fallback.accepted


def test_a_policy_that_leaves_its_own_branch_open_denies(tmp_path: Path, keys: Keys) -> None:
    """Invariant 7: an unprotected default branch would let anyone rewrite the policy."""
    bare = GitRepo.init(tmp_path / "server.git", bare=True)
    seed = bare.clone(tmp_path / "seed", ERIN)
    open_policy = policy_text(keys.public()).replace(
        "branches:\n  main:", "branches:\n  release/*:"
    )
    seed.commit({".twokey/policy.yml": open_policy}, "Open policy", ERIN)
    seed.git("push", "-q", "origin", "main")
    install_hook(bare.path, repository=REPOSITORY)
    seed.commit({".twokey/policy.yml": "version: 1\n"}, "Take over", ERIN)
    result = push(seed, "main")
    assert not result.accepted
    assert "does not protect refs/heads/main" in result.output

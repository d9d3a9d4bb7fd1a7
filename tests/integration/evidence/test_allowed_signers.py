"""allowed_signers and ssh-agent signing, against the real ssh-keygen."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from twokey.cli import main
from twokey.errors import UsageError
from twokey.evidence import (
    AllowedSigners,
    EvidenceError,
    SshKeygenSigner,
    StoredEnvelope,
    load_signer,
    parse_sshsig,
    ref_for,
    sign_approval,
    signer_of,
    verify_envelope,
)
from twokey.policy import loads

MESSAGE = b"approve this\n"
WHEN = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def keygen(tmp: Path, name: str, passphrase: str = "") -> Path:
    path = tmp / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f", str(path)],
        check=True,
    )
    return path


def ssh_keygen(*args: str, message: bytes = MESSAGE) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["ssh-keygen", *args], input=message, capture_output=True, check=False)


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A key, its signature of MESSAGE in namespace twokey (by ssh-keygen), its pub line."""
    tmp = tmp_path_factory.mktemp("allowed")
    key = keygen(tmp, "bob")
    sig = tmp / "msg.sig"
    sig.write_bytes(ssh_keygen("-Y", "sign", "-f", str(key), "-n", "twokey").stdout)
    return tmp, sig, " ".join(Path(f"{key}.pub").read_text().split()[:2])


CASES = {
    "plain": ("bob@example.com {key}", "bob@example.com", "twokey"),
    "wildcard-principal": ("*@example.com {key}", "bob@example.com", "twokey"),
    "negated-principal": ("*@example.com,!bob@* {key}", "bob@example.com", "twokey"),
    "other-principal": ("carol@example.com {key}", "bob@example.com", "twokey"),
    "namespace-listed": (
        'bob@example.com namespaces="git,twokey" {key}',
        "bob@example.com",
        "twokey",
    ),
    "namespace-not-listed": ('bob@example.com namespaces="git" {key}', "bob@example.com", "twokey"),
    "not-yet-valid": ('bob@example.com valid-after="20270101Z" {key}', "bob@example.com", "twokey"),
    "expired": ('bob@example.com valid-before="20260101Z" {key}', "bob@example.com", "twokey"),
    "inside-window": (
        'bob@example.com valid-after="20260101Z",valid-before="20270101Z" {key}',
        "bob@example.com",
        "twokey",
    ),
    "wrong-namespace": ("bob@example.com {key}", "bob@example.com", "git"),
}


@pytest.mark.parametrize(("line", "principal", "namespace"), CASES.values(), ids=CASES.keys())
def test_verify_agrees_with_ssh_keygen(
    signed: tuple[Path, Path, str], line: str, principal: str, namespace: str
) -> None:
    tmp, sig, key = signed
    allowed = tmp / f"allowed-{abs(hash(line))}"
    allowed.write_text(line.format(key=key) + "\n")
    theirs = ssh_keygen(
        "-Y",
        "verify",
        "-f",
        str(allowed),
        "-I",
        principal,
        "-n",
        namespace,
        "-s",
        str(sig),
        "-O",
        "verify-time=20260601120000Z",
    )
    signers = AllowedSigners.parse(allowed.read_text())
    try:
        signers.verify(
            parse_sshsig(sig.read_bytes()),
            MESSAGE,
            namespace=namespace,
            principal=principal,
            when=WHEN,
        )
        ours = True
    except EvidenceError:
        ours = False
    assert ours == (theirs.returncode == 0), theirs.stderr


def test_find_principals_agrees_with_ssh_keygen(signed: tuple[Path, Path, str]) -> None:
    tmp, sig, key = signed
    allowed = tmp / "allowed-find"
    allowed.write_text(
        f"bob@example.com,bob@work.example {key}\n"
        f'old@example.com valid-before="20200101Z" {key}\n'
        f'git-only@example.com namespaces="git" {key}\n'
    )
    theirs = ssh_keygen(
        "-Y",
        "find-principals",
        "-f",
        str(allowed),
        "-s",
        str(sig),
        "-O",
        "verify-time=20260601120000Z",
    )
    ours = AllowedSigners.parse(allowed.read_text()).find_principals(
        parse_sshsig(sig.read_bytes()), "twokey", WHEN
    )
    assert theirs.returncode == 0, theirs.stderr
    assert sorted(ours) == sorted(theirs.stdout.decode().split())


def test_policy_allowed_signers_work_with_ssh_keygen(
    tmp_path: Path, signed: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, sig, key = signed
    policy = tmp_path / "policy.yml"
    policy.write_text(
        f'version: 1\npeople:\n  bob: {{emails: [bob@example.com], keys: ["{key}"]}}\n'
        "policy_changes: {approvals: 1, approvers: [bob]}\n"
    )
    assert main(["keys", "allowed-signers", str(policy)]) == 0
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(capsys.readouterr().out)
    verified = ssh_keygen(
        "-Y", "verify", "-f", str(allowed), "-I", "bob@example.com", "-n", "twokey", "-s", str(sig)
    )
    assert verified.returncode == 0, verified.stderr


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An ssh-agent of our own (killed by its pid afterwards), holding a passphrase key."""
    socket = tmp_path / "agent.sock"
    done = subprocess.run(
        ["ssh-agent", "-s", "-a", str(socket)], capture_output=True, check=True, text=True
    )
    pid = int(done.stdout.split("SSH_AGENT_PID=")[1].split(";")[0])
    monkeypatch.setenv("SSH_AUTH_SOCK", str(socket))
    try:
        key = keygen(tmp_path, "locked", passphrase="secret passphrase")
        added = subprocess.run(
            ["ssh-add", "-q", str(key)],
            env={
                **os.environ,
                "SSH_ASKPASS": str(_askpass(tmp_path)),
                "SSH_ASKPASS_REQUIRE": "force",
                "DISPLAY": ":0",
            },
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        assert added.returncode == 0, added.stderr
        yield key
    finally:
        os.kill(pid, signal.SIGTERM)


def _askpass(tmp: Path) -> Path:
    script = tmp / "askpass.sh"
    script.write_text("#!/bin/sh\necho 'secret passphrase'\n")
    script.chmod(0o700)
    return script


def test_a_key_in_ssh_agent_signs_through_ssh_keygen(agent: Path) -> None:
    signer = load_signer(Path(f"{agent}.pub"), ssh=True)
    assert isinstance(signer, SshKeygenSigner)
    commit, tree = "a" * 40, "b" * 40
    data = sign_approval(
        signer, repository="r", ref="refs/heads/main", commit=commit, tree=tree, when=WHEN
    )
    key = " ".join(Path(f"{agent}.pub").read_text().split()[:2])
    policy = loads(
        f'version: 1\npeople:\n  bob: {{keys: ["{key}"]}}\n'
        "policy_changes: {approvals: 1, approvers: [bob]}\n"
    )
    [item] = verify_envelope(StoredEnvelope(data, ref_for(commit, data)), policy)
    person = policy.resolve(signer_of(item))
    assert person is not None
    assert person.id == "bob"


def test_a_passphrase_key_without_ssh_flag_is_a_usage_error(tmp_path: Path) -> None:
    key = keygen(tmp_path, "locked", passphrase="pw")
    with pytest.raises(UsageError, match="not an unencrypted OpenSSH private key"):
        load_signer(key, ssh=False)
    assert isinstance(load_signer(key, ssh=True), SshKeygenSigner)

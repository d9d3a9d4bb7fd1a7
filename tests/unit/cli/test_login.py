"""``twokey login``'s signing, offline: what it signs verifies as the gateway verifies it."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import pytest

from twokey.cli._login import _sign
from twokey.errors import UsageError
from twokey.evidence import generate_key, parse_sshsig, verify_sshsig

NONCE = "twokey-login:twokey-gateway:abc"


def _args(**options: str) -> argparse.Namespace:
    return argparse.Namespace(ssh_key=options.get("ssh_key", ""), key=options.get("key", ""))


@pytest.mark.parametrize("option", ["key", "ssh_key"], ids=["twokey-key", "ssh-keygen"])
def test_the_signature_verifies_over_the_nonce_in_the_login_namespace(
    tmp_path: Path, option: str
) -> None:
    path = tmp_path / "id_ed25519"
    public = generate_key(path, "bob@test")
    armored = _sign(_args(**{option: str(path)}), NONCE.encode())
    parsed = parse_sshsig(armored.encode())
    verify_sshsig(parsed, NONCE.encode(), "twokey-login")
    assert parsed.public_key == " ".join(public.split()[:2])


def test_a_passphrase_protected_key_signs_through_ssh_keygen_only(tmp_path: Path) -> None:
    path = tmp_path / "id_ed25519"
    argv = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", str(path)]
    subprocess.run(argv, check=True, capture_output=True)
    with pytest.raises(UsageError, match="not an unencrypted OpenSSH key"):
        _sign(_args(key=str(path)), NONCE.encode())


def test_without_a_key_or_with_a_bad_one_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TWOKEY_KEY", raising=False)
    with pytest.raises(UsageError, match="no key to sign in with"):
        _sign(_args(), NONCE.encode())
    junk = tmp_path / "junk"
    junk.write_text("not a key\n")
    with pytest.raises(UsageError, match="is not an unencrypted OpenSSH key"):
        _sign(_args(key=str(junk)), NONCE.encode())
    with pytest.raises(UsageError, match="ssh-keygen -Y sign failed"):
        _sign(_args(ssh_key=str(junk)), NONCE.encode())

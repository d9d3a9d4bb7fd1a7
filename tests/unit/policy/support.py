"""Test helpers for the policy loader: real ssh-keygen keys and small policy texts."""

from __future__ import annotations

import base64
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

EXAMPLE = Path(__file__).resolve().parents[3] / "src/twokey/policy/examples/walkthrough.yml"

# Two people and the mandatory policy_changes rule: the smallest valid policy, to which each
# test adds the one section it is about.
HEAD = "version: 1\npeople:\n  alice: {emails: [alice@x.org]}\n  bob: {emails: [bob@x.org]}\n"
TAIL = "policy_changes: {approvals: 1, approvers: [bob]}\n"


@cache
def ssh_public_key(kind: str = "ed25519", bits: int = 0, label: str = "") -> str:
    """A fresh OpenSSH public key line made by the real ``ssh-keygen``.

    ``label`` only makes distinct keys of the same kind (it is part of the cache key).
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "key"
        argv = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"{label or kind}@test", "-f"]
        argv.append(str(path))
        if bits:
            argv[2:2] = ["-b", str(bits)]
        subprocess.run(argv, check=True, capture_output=True)
        return path.with_suffix(".pub").read_text().strip()


def compressed_ecdsa_key() -> str:
    """An ecdsa-sha2-nistp256 key line whose point is compressed (cryptography refuses those)."""
    point = (
        ec.derive_private_key(7, ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    )
    blob = b"".join(
        len(part).to_bytes(4, "big") + part for part in (b"ecdsa-sha2-nistp256", b"nistp256", point)
    )
    return "ecdsa-sha2-nistp256 " + base64.b64encode(blob).decode()

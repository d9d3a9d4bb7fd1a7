"""Regenerate the evidence vectors with the real ssh-keygen (run from the repository root).

    .venv/bin/python tests/vectors/evidence/generate.py

The vectors are committed; the tests read them and never run this. Private keys are thrown
away: a vector holds only public keys, signed bytes and signatures made by ssh-keygen itself.
"""

from __future__ import annotations

import base64
import json
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from twokey.evidence import PAYLOAD_TYPE, pae
from twokey.evidence._statements import approval_statement

HERE = Path(__file__).parent
MESSAGE = b"twokey test vector: the exact bytes that were signed\n"
KEYS = {
    "ed25519": ["-t", "ed25519"],
    "ecdsa-p256": ["-t", "ecdsa", "-b", "256"],
    "rsa-2048": ["-t", "rsa", "-b", "2048"],
    "rsa-1024": ["-t", "rsa", "-b", "1024"],
}
COMMIT, TREE = "1f" * 20, "2e" * 20


def keygen(tmp: Path, name: str, args: list[str]) -> Path:
    key = tmp / name
    subprocess.run(["ssh-keygen", "-q", *args, "-N", "", "-C", name, "-f", str(key)], check=True)
    return key


def sign(key: Path, message: bytes, namespace: str = "twokey") -> bytes:
    done = subprocess.run(
        ["ssh-keygen", "-q", "-Y", "sign", "-f", str(key), "-n", namespace],
        input=message,
        capture_output=True,
        check=True,
    )
    return done.stdout


def main() -> None:
    sshsig = HERE / "sshsig"
    sshsig.mkdir(exist_ok=True)
    (sshsig / "message.bin").write_bytes(MESSAGE)
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in KEYS.items():
            key = keygen(Path(tmp), name, args)
            (sshsig / f"{name}.pub").write_text(Path(f"{key}.pub").read_text())
            (sshsig / f"{name}.sig").write_bytes(sign(key, MESSAGE))
        key = keygen(Path(tmp), "reviewer", KEYS["ed25519"])
        payload = approval_statement(
            repository="example.com/shop",
            ref="refs/heads/main",
            commit=COMMIT,
            tree=TREE,
            reviewer=" ".join(Path(f"{key}.pub").read_text().split()[:2]),
            when=datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
            comment="vector",
        )
        armored = sign(key, pae(PAYLOAD_TYPE, payload))
        body = base64.b64decode("".join(armored.decode().strip().splitlines()[1:-1]))
        envelope = {
            "payloadType": PAYLOAD_TYPE,
            "payload": base64.b64encode(payload).decode(),
            "signatures": [{"keyid": "", "sig": base64.b64encode(body).decode()}],
        }
        envelopes = HERE / "envelopes"
        envelopes.mkdir(exist_ok=True)
        (envelopes / "approval-ssh-keygen.json").write_text(json.dumps(envelope, indent=2) + "\n")
        (envelopes / "approval-ssh-keygen.pub").write_text(Path(f"{key}.pub").read_text())


if __name__ == "__main__":
    main()

"""Evidence benchmark: approval verifications per second, Ed25519 DSSE and SSHSIG.

The floor is the raw ``cryptography`` verify loop on the same keys and the same signed bytes,
in the same run. ``verify_envelope`` parses the envelope, verifies the signature over the PAE
bytes, resolves the key through the policy and parses the statement.

    .venv/bin/python bench/bench_evidence.py            # full run
    .venv/bin/python bench/bench_evidence.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from twokey.evidence import (
    Ed25519Signer,
    Envelope,
    SshSigner,
    StoredEnvelope,
    pae,
    parse_sshsig,
    sign_approval,
    verify_envelope,
)
from twokey.evidence._sshsig import _signed_data
from twokey.policy import Policy, loads

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
KEYS = [Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"k%d" % i).digest()) for i in range(8)]


def _pub(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()


def policy_text() -> str:
    people = "".join(
        f'  p{i}: {{emails: [p{i}@x.org], keys: ["{_pub(k)}"]}}\n' for i, k in enumerate(KEYS)
    )
    return f"version: 1\npeople:\n{people}policy_changes: {{approvals: 1, approvers: [p0]}}\n"


def rates(
    ours: Callable[[int], None], floor: Callable[[int], None], rounds: int
) -> tuple[float, float]:
    """Both loops, interleaved in blocks so that load on a shared machine hits them alike."""
    spent = [0.0, 0.0]
    block = 50
    for start in range(0, rounds, block):
        for slot, fn in enumerate((ours, floor)):
            begin = time.perf_counter()
            for i in range(start, start + block):
                fn(i)
            spent[slot] += time.perf_counter() - begin
    done = (rounds // block) * block
    return done / spent[0], done / spent[1]


def _loops(
    policy: Policy,
    envelopes: list[StoredEnvelope],
    publics: list[Ed25519PublicKey],
    sigs: list[bytes],
    messages: list[bytes],
) -> tuple[Callable[[int], None], Callable[[int], None]]:
    n = len(envelopes)

    def ours(i: int) -> None:
        verify_envelope(envelopes[i % n], policy)

    def floor(i: int) -> None:
        publics[i % n].verify(sigs[i % n], messages[i % n])

    return ours, floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 300 if args.quick else 5000
    policy = loads(policy_text(), "bench")
    results = {}
    for label, signer_of in (("ed25519-dsse", Ed25519Signer), ("sshsig-dsse", SshSigner)):
        envelopes = [
            StoredEnvelope(
                sign_approval(
                    signer_of(k),
                    repository="r",
                    ref="refs/heads/main",
                    commit="c" * 40,
                    tree="d" * 40,
                    when=NOW,
                ),
                f"e{i}",
            )
            for i, k in enumerate(KEYS)
        ]
        parsed = [Envelope.parse(e.data) for e in envelopes]
        messages = [pae(p.payload_type, p.payload) for p in parsed]
        publics = [k.public_key() for k in KEYS]
        if label == "ed25519-dsse":
            sigs = [p.signatures[0].sig for p in parsed]
            floor_messages = messages
        else:
            sigs = [parse_sshsig(p.signatures[0].sig).signature for p in parsed]
            floor_messages = [_signed_data("twokey", "sha512", m) for m in messages]
        ours, floor = rates(*_loops(policy, envelopes, publics, sigs, floor_messages), rounds)
        results[label] = (ours, floor)
        print(
            f"{label}: twokey {ours:,.0f} verifications/s; floor (raw cryptography verify) "
            f"{floor:,.0f}/s; ratio {floor / ours:.2f}x"
        )


if __name__ == "__main__":
    main()

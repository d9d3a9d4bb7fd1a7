"""DSSE envelopes and statements: every bad input is a clear error with a code."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.engine.world import POLICY_YAML, policy
from twokey.evidence import (
    PAYLOAD_TYPE,
    Ed25519Signer,
    Envelope,
    EvidenceError,
    Reason,
    SshSigner,
    StoredEnvelope,
    pae,
    parse_sshsig,
    sign_approval,
    sign_check,
    sign_deploy_approval,
    sign_provenance,
    verify_envelope,
    verify_envelopes,
)
from twokey.model import Approval, BuildProvenance, CheckResult, DeployApproval, TrustLevel

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
COMMIT, TREE = "c" * 40, "d" * 40
ARTIFACT = "sha256:" + "ab" * 32


def key_of(name: str, index: int = 0) -> Ed25519PrivateKey:
    """The same deterministic keys the test policy registers."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"{name}/{index}".encode()).digest())


BOB = Ed25519Signer(key_of("bob"))
BOB_SSH = SshSigner(key_of("bob", 1))
CI = Ed25519Signer(key_of("ci"))
MALLORY = Ed25519Signer(key_of("mallory"))
POLICY = policy()


def approval(signer: Ed25519Signer | SshSigner = BOB, **kw: str) -> bytes:
    fields = {
        "repository": "example.com/shop",
        "ref": "refs/heads/main",
        "commit": COMMIT,
        "tree": TREE,
        **kw,
    }
    return sign_approval(signer, when=NOW, **fields)


def stored(data: bytes) -> StoredEnvelope:
    return StoredEnvelope(data, "refs/twokey/evidence/test")


def test_pae_matches_the_dsse_specification_example() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


@pytest.mark.parametrize("signer", [BOB, BOB_SSH], ids=["ed25519", "sshsig"])
def test_approval_round_trip(signer: Ed25519Signer | SshSigner) -> None:
    [item] = verify_envelope(stored(approval(signer)), POLICY)
    assert isinstance(item, Approval)
    assert (item.commit, item.tree, item.trust) == (COMMIT, TREE, TrustLevel.SIGNED)
    assert POLICY.resolve(item.signer) == POLICY.principals["bob"]
    assert item.evidence_id.startswith("sha256:")


def test_every_kind_verifies() -> None:
    kinds = [
        sign_provenance(CI, artifact=ARTIFACT, repository="r", commit=COMMIT, when=NOW),
        sign_check(CI, name="tests", repository="r", subject=TREE, passed=True, when=NOW),
        sign_deploy_approval(
            BOB,
            artifact=ARTIFACT,
            environment="production",
            repository="r",
            commit=COMMIT,
            when=NOW,
        ),
    ]
    result = verify_envelopes([stored(k) for k in kinds], POLICY)
    assert (len(result.provenance), len(result.checks), len(result.deploy_approvals)) == (1, 1, 1)
    assert isinstance(result.provenance[0], BuildProvenance)
    assert isinstance(result.checks[0], CheckResult)
    assert isinstance(result.deploy_approvals[0], DeployApproval)
    assert result.rejected == []


def _mutate(data: bytes, **changes: object) -> bytes:
    raw = json.loads(data)
    raw.update(changes)
    return json.dumps(raw).encode()


def _resign_payload(data: bytes, payload: bytes) -> bytes:
    return _mutate(data, payload=base64.b64encode(payload).decode())


GOOD = approval()
BAD = {
    "not-json": (b"{nope", Reason.MALFORMED_ENVELOPE, "not JSON"),
    "not-an-object": (b"[1]", Reason.MALFORMED_ENVELOPE, "not a JSON object"),
    "bad-base64": (_mutate(GOOD, payload="!!!"), Reason.MALFORMED_ENVELOPE, "not valid base64"),
    "wrong-payload-type": (
        _mutate(GOOD, payloadType="text/plain"),
        Reason.WRONG_PAYLOAD_TYPE,
        "payloadType 'text/plain'",
    ),
    "zero-signatures": (_mutate(GOOD, signatures=[]), Reason.NO_SIGNATURES, "no signature"),
    "signature-over-other-bytes": (
        _resign_payload(
            GOOD, json.loads(base64.b64decode(json.loads(GOOD)["payload"])).__repr__().encode()
        ),
        Reason.BAD_SIGNATURE,
        "does not verify",
    ),
    "unknown-signer": (approval(MALLORY), Reason.UNKNOWN_SIGNER, "no registered key"),
    "oversized": (GOOD + b" " * 70_000, Reason.OVERSIZED, "limit"),
}


@pytest.mark.parametrize(("data", "reason", "message"), BAD.values(), ids=BAD.keys())
def test_bad_envelopes_are_refused_with_a_code(data: bytes, reason: Reason, message: str) -> None:
    with pytest.raises(EvidenceError) as caught:
        verify_envelope(stored(data), POLICY)
    assert caught.value.reason is reason
    assert message in str(caught.value)


def test_unknown_ssh_signer_is_refused() -> None:
    with pytest.raises(EvidenceError) as caught:
        verify_envelope(stored(approval(SshSigner(key_of("mallory")))), POLICY)
    assert caught.value.reason is Reason.UNKNOWN_SIGNER


def test_duplicate_signatures_by_one_key_count_once() -> None:
    env = Envelope.parse(GOOD)
    doubled = replace(env, signatures=env.signatures * 3).to_json()
    assert len(verify_envelope(stored(doubled), POLICY)) == 1


def test_revoked_and_expired_keys() -> None:
    from tests.unit.engine.world import public_key  # noqa: PLC0415

    bob = public_key("bob")
    revoked = POLICY_YAML.replace(f'"{bob}", ', f'{{key: "{bob}", revoked: true}}, ')
    with pytest.raises(EvidenceError) as caught:
        verify_envelope(stored(approval()), policy(revoked))
    assert caught.value.reason is Reason.KEY_REVOKED
    expired = POLICY_YAML.replace(
        f'"{bob}", ', f'{{key: "{bob}", valid_before: 2026-01-01T00:00:00Z}}, '
    )
    with pytest.raises(EvidenceError) as caught:
        verify_envelope(stored(approval()), policy(expired))
    assert caught.value.reason is Reason.KEY_EXPIRED


def test_replayed_approval_for_another_tree_is_refused() -> None:
    result = verify_envelopes([stored(approval())], POLICY, commit_trees={COMMIT: "e" * 40})
    assert result.approvals == []
    assert "SUBJECT_MISMATCH" in result.rejected[0][1]


def test_slsa_provenance_is_accepted() -> None:
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "app", "digest": {"sha256": "ab" * 32}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "x",
                "resolvedDependencies": [
                    {"uri": "git+https://example.com/shop", "digest": {"gitCommit": COMMIT}}
                ],
            },
            "runDetails": {
                "builder": {"id": "ci"},
                "metadata": {"startedOn": "2026-11-25T12:00:00Z"},
            },
        },
    }
    env = CI.envelope(PAYLOAD_TYPE, json.dumps(statement).encode()).to_json()
    [item] = verify_envelope(stored(env), POLICY)
    assert isinstance(item, BuildProvenance)
    assert (item.artifact, item.commit, item.repository) == (
        ARTIFACT,
        COMMIT,
        "https://example.com/shop",
    )


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=2048)
    | st.sampled_from([GOOD, approval(BOB_SSH)]).flatmap(
        lambda good: st.tuples(
            st.just(good), st.integers(0, len(good) - 1), st.integers(0, 255)
        ).map(lambda t: t[0][: t[1]] + bytes([t[2]]) + t[0][t[1] + 1 :])
    )
)
def test_random_and_mutated_envelopes_never_crash(data: bytes) -> None:
    try:
        items = verify_envelope(stored(data), POLICY)
    except EvidenceError:
        return
    # a mutation may survive only where it does not touch signed bytes (e.g. the keyid)
    assert all(POLICY.resolve(i.signer) is not None for i in items)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_random_ssh_signatures_never_crash(data: bytes) -> None:
    with contextlib.suppress(EvidenceError):
        parse_sshsig(b"SSHSIG" + data)

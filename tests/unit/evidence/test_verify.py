"""Verification: signatures, identity resolution, key validity, replay, into model objects."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.unit.evidence.support import (
    ALICE,
    ARTIFACT,
    BOB,
    BOB_SSH,
    CAROL,
    CI,
    COMMIT,
    DAVE,
    ERIN,
    MALLORY,
    NOW,
    POLICY,
    REPOSITORY,
    TREE,
    VECTORS,
    approval,
    key_of,
    stored,
)
from twokey.evidence import (
    PAYLOAD_TYPE,
    Ed25519Signer,
    Envelope,
    EvidenceError,
    Reason,
    SshSigner,
    StoredEnvelope,
    sign_check,
    sign_deploy_approval,
    sign_deploy_record,
    sign_provenance,
    signer_of,
    verify_envelope,
    verify_envelopes,
)
from twokey.evidence._dsse import Signature
from twokey.model import (
    Alias,
    Approval,
    BuildProvenance,
    CheckResult,
    DeployApproval,
    DeployRequest,
    TrustLevel,
)
from twokey.policy import loads


@pytest.mark.parametrize("signer", [BOB, BOB_SSH, CAROL], ids=["ed25519", "sshsig", "sshsig-2"])
def test_approval_round_trip(signer: Ed25519Signer | SshSigner) -> None:
    data = approval(signer, comment="looks good")
    [item] = verify_envelope(stored(data), POLICY)
    assert isinstance(item, Approval)
    assert (item.repository, item.ref, item.commit, item.tree) == (
        REPOSITORY,
        "refs/heads/main",
        COMMIT,
        TREE,
    )
    assert (item.trust, item.time, item.comment) == (TrustLevel.SIGNED, NOW, "looks good")
    assert signer_of(item) == Alias.key(signer.public_key)
    assert item.evidence_id == stored(data).digest
    assert item.source == stored(data).source


def test_every_kind_verifies_into_its_model_object() -> None:
    kinds = [
        (sign_provenance(CI, artifact=ARTIFACT, repository="r", commit=COMMIT, when=NOW), ARTIFACT),
        (sign_check(CI, name="tests", repository="r", subject=TREE, passed=True, when=NOW), TREE),
        (
            sign_check(CI, name="scan", repository="r", subject=ARTIFACT, passed=False, when=NOW),
            ARTIFACT,
        ),
        (
            sign_deploy_approval(
                CAROL,
                artifact=ARTIFACT,
                environment="production",
                repository="r",
                commit=COMMIT,
                when=NOW,
                comment="go",
            ),
            ARTIFACT,
        ),
        (
            sign_deploy_record(
                ALICE,
                artifact=ARTIFACT,
                environment="production",
                repository="r",
                commit=COMMIT,
                when=NOW,
                request="req-7",
            ),
            ARTIFACT,
        ),
    ]
    result = verify_envelopes([stored(data, subject) for data, subject in kinds], POLICY)
    assert result.rejected == ()
    assert result.count == 5
    [provenance] = result.provenance
    assert isinstance(provenance, BuildProvenance)
    assert (provenance.artifact, provenance.commit, provenance.signer) == (
        ARTIFACT,
        COMMIT,
        Alias.key(CI.public_key),
    )
    tests, scan = result.checks
    assert isinstance(tests, CheckResult)
    assert (tests.name, tests.subject, tests.passed) == ("tests", TREE, True)
    assert (scan.name, scan.subject, scan.passed) == ("scan", ARTIFACT, False)
    [deploy_approval] = result.deploy_approvals
    assert isinstance(deploy_approval, DeployApproval)
    assert (deploy_approval.environment, deploy_approval.comment) == ("production", "go")
    [deploy] = result.deploys
    assert isinstance(deploy, DeployRequest)
    assert (deploy.id, deploy.environment, deploy.deployer) == (
        "req-7",
        "production",
        Alias.key(ALICE.public_key),
    )


def test_slsa_provenance_v1_is_accepted() -> None:
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "app", "digest": {"sha256": "ab" * 32}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://example.com/build/v1",
                "resolvedDependencies": [
                    {"uri": "git+https://example.com/shop", "digest": {"gitCommit": COMMIT}}
                ],
            },
            "runDetails": {
                "builder": {"id": "https://example.com/ci"},
                "metadata": {"startedOn": "2026-11-25T12:00:00Z"},
            },
        },
    }
    data = CI.envelope(PAYLOAD_TYPE, json.dumps(statement).encode()).to_json()
    [item] = verify_envelope(stored(data, ARTIFACT), POLICY)
    assert isinstance(item, BuildProvenance)
    assert (item.artifact, item.commit, item.repository, item.time) == (
        ARTIFACT,
        COMMIT,
        "https://example.com/shop",
        NOW,
    )


def test_an_approval_signed_by_the_real_ssh_keygen_verifies() -> None:
    """The vector's signature was made by ``ssh-keygen -Y sign -n twokey`` over the PAE."""
    data = (VECTORS / "envelopes" / "approval-ssh-keygen.json").read_bytes()
    key = " ".join((VECTORS / "envelopes" / "approval-ssh-keygen.pub").read_text().split()[:2])
    policy = loads(
        f'version: 1\npeople:\n  rita: {{keys: ["{key}"]}}\n'
        "policy_changes: {approvals: 1, approvers: [rita]}\n"
    )
    commit = json.loads(base64.b64decode(json.loads(data)["payload"]))["subject"][0]
    [item] = verify_envelope(stored(data, commit["digest"]["gitCommit"]), policy)
    assert policy.resolve(signer_of(item)) == policy.principals["rita"]


def _statement_of(data: bytes) -> dict[str, object]:
    return json.loads(base64.b64decode(json.loads(data)["payload"]))  # type: ignore[no-any-return]


def _swap_payload(data: bytes, payload: bytes) -> bytes:
    raw = json.loads(data)
    raw["payload"] = base64.b64encode(payload).decode()
    return json.dumps(raw).encode()


def _resigned(statement: dict[str, object], signer: Ed25519Signer = BOB) -> bytes:
    return signer.envelope(PAYLOAD_TYPE, json.dumps(statement).encode()).to_json()


GOOD = approval()
STATEMENT = _statement_of(GOOD)
BAD = {
    "signature-over-different-bytes": (
        stored(_swap_payload(GOOD, json.dumps(STATEMENT).encode())),
        Reason.BAD_SIGNATURE,
        "does not verify",
    ),
    "sshsig-over-different-bytes": (
        stored(_swap_payload(approval(BOB_SSH), json.dumps(STATEMENT).encode())),
        Reason.BAD_SIGNATURE,
        "SSH signature does not verify",
    ),
    "unknown-ed25519-key": (stored(approval(MALLORY)), Reason.UNKNOWN_SIGNER, "no registered key"),
    "unknown-ssh-key": (
        stored(approval(SshSigner(key_of("mallory")))),
        Reason.UNKNOWN_SIGNER,
        "not registered to anyone",
    ),
    "revoked-key": (stored(approval(DAVE)), Reason.KEY_REVOKED, "is revoked"),
    "before-validity-window": (
        stored(approval(ERIN, when=datetime(2025, 12, 31, tzinfo=UTC))),
        Reason.KEY_EXPIRED,
        "was not valid at 2025-12-31",
    ),
    "after-validity-window": (
        stored(approval(ERIN, when=datetime(2027, 1, 1, tzinfo=UTC))),
        Reason.KEY_EXPIRED,
        "was not valid at 2027-01-01",
    ),
    "not-a-statement": (
        stored(_resigned({"hello": "world"})),
        Reason.MALFORMED_STATEMENT,
        "not an in-toto Statement v1",
    ),
    "unknown-predicate": (
        stored(_resigned({**STATEMENT, "predicateType": "https://example.com/x"})),
        Reason.MALFORMED_STATEMENT,
        "unknown predicateType",
    ),
    "decision-not-approve": (
        stored(_resigned({**STATEMENT, "predicate": {**STATEMENT["predicate"], "decision": "x"}})),  # type: ignore[dict-item]
        Reason.MALFORMED_STATEMENT,
        "decision is not 'approve'",
    ),
    "time-without-zone": (
        stored(
            _resigned(
                {**STATEMENT, "predicate": {**STATEMENT["predicate"], "time": "2026-11-25T12:00"}}  # type: ignore[dict-item]
            )
        ),
        Reason.MALFORMED_STATEMENT,
        "time has no time zone",
    ),
    "approval-without-tree": (
        stored(_resigned({**STATEMENT, "subject": [{"digest": {"gitCommit": COMMIT}}]})),
        Reason.MALFORMED_STATEMENT,
        "valid gitTree digest",
    ),
    "conflicting-subjects": (
        stored(
            _resigned(
                {
                    **STATEMENT,
                    "subject": [
                        *STATEMENT["subject"],  # type: ignore[misc]
                        {"digest": {"gitCommit": "e" * 40}},
                    ],
                }
            )
        ),
        Reason.SUBJECT_MISMATCH,
        "conflicting gitCommit subjects",
    ),
    "filed-under-another-commit": (
        stored(GOOD, "e" * 40),
        Reason.SUBJECT_MISMATCH,
        "filed under eeeeeeeeeeee",
    ),
    "filed-under-another-artifact": (
        stored(
            sign_provenance(CI, artifact=ARTIFACT, repository="r", commit=COMMIT, when=NOW),
            "sha256:" + "cd" * 32,
        ),
        Reason.SUBJECT_MISMATCH,
        "filed under artifact",
    ),
    "empty-ref": (StoredEnvelope(b"", "refs/twokey/evidence/x/y"), Reason.MALFORMED_ENVELOPE, ""),
}


@pytest.mark.parametrize(("env", "reason", "message"), BAD.values(), ids=BAD.keys())
def test_bad_evidence_is_refused_with_a_code(
    env: StoredEnvelope, reason: Reason, message: str
) -> None:
    with pytest.raises(EvidenceError) as caught:
        verify_envelope(env, POLICY)
    assert caught.value.reason is reason
    assert message in str(caught.value)
    result = verify_envelopes([env], POLICY)  # the batch form never raises, never counts it
    assert result.count == 0
    assert result.rejected == ((env.source, str(caught.value)),)


def test_one_key_signing_twice_counts_once() -> None:
    envelope = Envelope.parse(GOOD)
    doubled = replace(envelope, signatures=envelope.signatures * 3).to_json()
    assert len(verify_envelope(stored(doubled), POLICY)) == 1


def test_one_person_with_two_keys_counts_once() -> None:
    payload = Envelope.parse(GOOD).payload
    message_sigs = [s.signature(Envelope.parse(GOOD).pae()) for s in (BOB, BOB_SSH)]
    both = Envelope(PAYLOAD_TYPE, payload, tuple(message_sigs)).to_json()
    [item] = verify_envelope(stored(both), POLICY)
    assert POLICY.resolve(signer_of(item)) == POLICY.principals["bob"]
    # separately stored approvals by bob's two keys resolve to the same person
    result = verify_envelopes([stored(approval(BOB)), stored(approval(BOB_SSH))], POLICY)
    assert {POLICY.resolve(a.signer).id for a in result.approvals} == {"bob"}  # type: ignore[union-attr]


def test_two_people_signing_one_envelope_are_two_approvals() -> None:
    envelope = Envelope.parse(GOOD)
    extra = CAROL.signature(envelope.pae())
    both = replace(envelope, signatures=(*envelope.signatures, extra)).to_json()
    people = {POLICY.resolve(signer_of(i)).id for i in verify_envelope(stored(both), POLICY)}  # type: ignore[union-attr]
    assert people == {"bob", "carol"}


def test_a_good_signature_next_to_bad_ones_still_counts() -> None:
    envelope = Envelope.parse(GOOD)
    junk = (Signature("SHA256:nothing", b"\x00" * 64), MALLORY.signature(envelope.pae()))
    mixed = replace(envelope, signatures=(*junk, *envelope.signatures)).to_json()
    [item] = verify_envelope(stored(mixed), POLICY)
    assert signer_of(item) == Alias.key(BOB.public_key)


def test_the_keyid_is_only_a_hint() -> None:
    """A raw signature filed under another registered key's id does not verify as that key."""
    envelope = Envelope.parse(approval(MALLORY))
    forged = Signature(Envelope.parse(GOOD).signatures[0].keyid, envelope.signatures[0].sig)
    data = replace(envelope, signatures=(forged,)).to_json()
    with pytest.raises(EvidenceError, match="BAD_SIGNATURE"):
        verify_envelope(stored(data), POLICY)


REPLAYS = {
    "another-repository": (
        approval(repository="example.com/other"),
        {"repository": REPOSITORY},
        "repository 'example.com/other'",
    ),
    "another-tree-for-the-commit": (
        approval(),
        {"commit_trees": {COMMIT: "e" * 40}},
        f"claims tree {TREE[:7]} for {COMMIT[:7]}, whose tree is eeeeeee",
    ),
    "provenance-for-another-repository": (
        sign_provenance(CI, artifact=ARTIFACT, repository="x/y", commit=COMMIT, when=NOW),
        {"repository": REPOSITORY},
        "repository 'x/y'",
    ),
}


@pytest.mark.parametrize(("data", "context", "message"), REPLAYS.values(), ids=REPLAYS.keys())
def test_replayed_evidence_is_refused(
    data: bytes, context: dict[str, object], message: str
) -> None:
    subject = ARTIFACT if b"provenance" in base64.b64decode(json.loads(data)["payload"]) else COMMIT
    result = verify_envelopes([stored(data, subject)], POLICY, **context)  # type: ignore[arg-type]
    assert result.count == 0
    [(_, reason)] = result.rejected
    assert reason.startswith("SUBJECT_MISMATCH: ")
    assert message in reason


def test_matching_context_keeps_the_evidence() -> None:
    result = verify_envelopes(
        [stored(GOOD)], POLICY, repository=REPOSITORY, commit_trees={COMMIT: TREE}
    )
    assert len(result.approvals) == 1


def test_an_approval_for_another_ref_or_commit_verifies_but_says_so() -> None:
    """The binding is in the statement: the engine compares ref and content with the change."""
    [item] = verify_envelope(
        stored(approval(ref="refs/heads/dev", commit="e" * 40), "e" * 40), POLICY
    )
    assert isinstance(item, Approval)
    assert (item.ref, item.commit) == ("refs/heads/dev", "e" * 40)


def test_a_service_key_verifies_as_the_service() -> None:
    [item] = verify_envelope(stored(approval(CI)), POLICY)
    principal = POLICY.resolve(signer_of(item))
    assert principal is not None
    assert (principal.id, principal.is_person) == ("ci", False)

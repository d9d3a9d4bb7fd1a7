"""Typed ledger records: every record written reads back as itself (issue 10, deliverable 2)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from twokey.doors._gate import Judgement
from twokey.doors._landed import landed_entries
from twokey.doors._record import ledger_entries
from twokey.doors._verdicts import door_deny
from twokey.git._updates import parse_updates
from twokey.ledger import (
    RECORD_SCHEMA,
    AccessRecord,
    DecisionRecord,
    DeployRecord,
    Entry,
    EntryKind,
    EvidenceRecord,
    ForgeDeliveryRecord,
    GatewayDeployRecord,
    LandedRecord,
    Record,
    RecordError,
    ReviewRecord,
    parse_entry,
    read_record,
    to_entry,
)
from twokey.model import Alias, FindingCode

NOW = datetime(2026, 12, 4, 17, tzinfo=UTC)
DECISION = {"verdict": "allow", "break_glass": False, "findings": []}
RECORDS: dict[str, Record] = {
    "decision": DecisionRecord(
        "git-hook",
        "shop",
        "refs/heads/main",
        "a" * 40,
        "b" * 40,
        "email:bob@x",
        ("sha256:1",),
        DECISION,
    ),
    "decision-no-pusher": DecisionRecord(
        "ci-check", "shop", "refs/heads/main", "a" * 40, "b" * 40, None, (), DECISION
    ),
    "evidence-ref": EvidenceRecord(
        "git-hook", "shop", ref="refs/twokey/evidence/x", object="c" * 40
    ),
    "evidence-envelope": EvidenceRecord("gateway", "shop", envelope=b'{"dsse":1}', source="forge"),
    "deploy": DeployRecord(
        "deploy-check",
        "shop",
        "production",
        "sha256:ab",
        "c" * 40,
        "email:dave@x",
        "email:dave@x",
        None,
        ("sha256:2",),
        DECISION,
    ),
    "deploy-no-decision": DeployRecord(
        "deploy-check", "shop", "staging", "", "c" * 40, "email:dave@x", "", "v1", ()
    ),
    "review": ReviewRecord("break-glass-review", 7, b"\x00envelope bytes\xff"),
    "forge": ForgeDeliveryRecord(
        "forge-webhook",
        "github",
        "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "pull_request_review",
        "submitted",
        "octo/shop",
        "github:bob",
        "pull/12@" + "c" * 40,
        "d" * 64,
    ),
    "landed": LandedRecord("git-post-receive", "shop", "refs/heads/main", "a" * 40, "b" * 40),
    "gateway": GatewayDeployRecord(
        "gateway",
        "authorized",
        "d0123456789ab",
        "shop",
        "production",
        "c" * 40,
        "sha256:ab",
        "dave",
        {"nonce": "n" * 32, "expires": "2026-12-04T17:15:00+00:00", "indexes": [3, 4]},
    ),
    "gateway-no-detail": GatewayDeployRecord(
        "gateway", "requested", "d1", "shop", "staging", "c" * 40, "sha256:ab", "ci"
    ),
    "access": AccessRecord(
        "gateway", "shop", "sign-in", "bob", "ssh", "0123456789ab", "SHA256:abc"
    ),
    "access-refused": AccessRecord(
        "gateway", "shop", "sign-in-refused", "bob", "ssh", detail="nonce already used"
    ),
}


@pytest.mark.parametrize("record", RECORDS.values(), ids=RECORDS.keys())
def test_every_record_reads_back_as_itself(record: Record) -> None:
    data = to_entry(record, NOW).encode()  # the exact bytes the ledger stores
    entry = parse_entry(data)
    assert entry.kind is record.kind
    assert entry.body["schema"] == RECORD_SCHEMA
    assert read_record(entry) == record


def test_what_the_doors_write_reads_back() -> None:
    updates = parse_updates(
        f"{'0' * 40} {'c' * 40} refs/twokey/evidence/abc\n{'a' * 40} {'b' * 40} refs/heads/main\n"
    )
    judgements = [
        Judgement(u, door_deny(u.subject, FindingCode.MALFORMED_INPUT, "m", "s")) for u in updates
    ]
    entries = ledger_entries(
        judgements, door="git-hook", repository="shop", pusher=Alias.email("bob@x.org"), now=NOW
    )
    entries += landed_entries(updates, "shop", NOW)
    records = [read_record(parse_entry(e.encode())) for e in entries]
    assert [type(r).__name__ for r in records] == [
        "DecisionRecord",
        "DecisionRecord",
        "LandedRecord",
        "LandedRecord",
    ]
    decision = records[1]
    assert isinstance(decision, DecisionRecord)
    assert (decision.pusher, decision.verdict, decision.new) == (
        "email:bob@x.org",
        "deny",
        "b" * 40,
    )


def test_bodies_written_before_the_schema_field_read_as_version_1() -> None:
    legacy = {"ref": "refs/heads/main", "new": "b" * 40, "pusher": None, "decision": DECISION}
    record = read_record(Entry(EntryKind.DECISION, legacy, NOW))
    assert isinstance(record, DecisionRecord)
    assert (record.door, record.old, record.repository) == ("git-hook", "", "")
    assert read_record(Entry(EntryKind.NOTE, {"text": "hi"}, NOW)) is None


@pytest.mark.parametrize(
    ("kind", "body", "message"),
    [
        (EntryKind.DECISION, {"schema": 2, "ref": "r", "new": "n", "decision": {}}, "schema 2"),
        (EntryKind.DECISION, {"ref": "r", "new": "n", "decision": "allow"}, "'decision'"),
        (EntryKind.DECISION, {"ref": 5, "new": "n", "decision": DECISION}, "'ref' must be"),
        (EntryKind.REVIEW, {"entry": True, "envelope": ""}, "'entry' must be a ledger index"),
        (EntryKind.REVIEW, {"entry": 1, "envelope": "%%"}, "not base64"),
        (EntryKind.EVIDENCE, {"envelope": 3}, "'envelope' must be a string"),
        (EntryKind.DEPLOY, {"commit": "c", "deployer": "d", "evidence": [1]}, "list of strings"),
        (EntryKind.LANDED, {"door": "x", "ref": "r", "old": "o"}, "'new' must be a string"),
        (EntryKind.ACCESS, {"door": "g", "repository": "", "action": 1}, "'action' must be"),
        (EntryKind.GATEWAY, {"event": "approved", "detail": []}, "'detail' must be an object"),
        (EntryKind.GATEWAY, {"event": "approved", "request": "d1"}, "'environment' must be"),
    ],
    ids=[
        "newer-schema",
        "decision-not-object",
        "ref-type",
        "bool-index",
        "bad-base64",
        "envelope-type",
        "evidence-type",
        "landed-missing",
        "access-action-type",
        "gateway-detail",
        "gateway-missing",
    ],
)
def test_a_body_that_is_not_its_kinds_record_is_refused(
    kind: EntryKind, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(RecordError, match=message):
        read_record(Entry(kind, body, NOW))


def test_every_kind_that_holds_a_record_has_a_reader() -> None:
    from twokey.ledger._records import _READERS  # noqa: PLC0415 - the table read_record uses

    assert set(_READERS) | {EntryKind.NOTE, EntryKind.POLICY} == set(EntryKind)
    assert {r.kind for r in RECORDS.values()} == set(_READERS)

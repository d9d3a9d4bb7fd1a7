"""in-toto Statement v1 payloads for twokey's evidence kinds (and SLSA provenance v1 input).

Each statement's subjects are git objects (``gitCommit``, ``gitTree``) or artifact digests
(``sha256``); predicates carry the rest. The predicate type URIs are listed in
docs/evidence.md.
"""

from __future__ import annotations

__all__ = [
    "APPROVAL",
    "BREAK_GLASS_REVIEW",
    "CHECK",
    "DEPLOY",
    "DEPLOY_APPROVAL",
    "PROVENANCE",
    "SLSA_PROVENANCE",
    "STATEMENT_TYPE",
    "approval_statement",
    "break_glass_review_statement",
    "check_statement",
    "deploy_approval_statement",
    "deploy_record_statement",
    "provenance_statement",
]

import json
import re
from datetime import UTC, datetime
from typing import Any

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
APPROVAL = "https://twokey.dev/attestation/approval/v1"
PROVENANCE = "https://twokey.dev/attestation/provenance/v1"
SLSA_PROVENANCE = "https://slsa.dev/provenance/v1"
CHECK = "https://twokey.dev/attestation/check/v1"
DEPLOY_APPROVAL = "https://twokey.dev/attestation/deploy-approval/v1"
DEPLOY = "https://twokey.dev/attestation/deploy/v1"
BREAK_GLASS_REVIEW = "https://twokey.dev/attestation/break-glass-review/v1"
SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def stamp(when: datetime) -> str:
    """RFC 3339 UTC, seconds precision."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _statement(
    subjects: list[dict[str, Any]], predicate_type: str, predicate: dict[str, Any]
) -> bytes:
    return json.dumps(
        {
            "_type": STATEMENT_TYPE,
            "subject": subjects,
            "predicateType": predicate_type,
            "predicate": predicate,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def _git(commit: str, tree: str) -> list[dict[str, Any]]:
    return [
        {"name": "commit", "digest": {"gitCommit": commit}},
        {"name": "tree", "digest": {"gitTree": tree}},
    ]


def _artifact(digest: str) -> list[dict[str, Any]]:
    return [{"name": "artifact", "digest": {"sha256": digest.removeprefix("sha256:")}}]


def approval_statement(
    *,
    repository: str,
    ref: str,
    commit: str,
    tree: str,
    reviewer: str,
    when: datetime,
    comment: str = "",
) -> bytes:
    """A reviewer approves the content of ``commit`` (and its ``tree``) for ``ref``."""
    return _statement(
        _git(commit, tree),
        APPROVAL,
        {
            "repository": repository,
            "ref": ref,
            "decision": "approve",
            "reviewer": reviewer,
            "time": stamp(when),
            "comment": comment,
        },
    )


def provenance_statement(
    *, artifact: str, repository: str, commit: str, builder: str, when: datetime
) -> bytes:
    """A builder says ``artifact`` was built from ``commit`` of ``repository``."""
    return _statement(
        _artifact(artifact),
        PROVENANCE,
        {"repository": repository, "commit": commit, "builder": builder, "time": stamp(when)},
    )


def check_statement(
    *, name: str, repository: str, subject: str, passed: bool, when: datetime
) -> bytes:
    """A check passed or failed for a tree (``gitTree``) or an artifact (``sha256:``)."""
    subjects = (
        _artifact(subject)
        if subject.startswith("sha256:")
        else [{"name": "tree", "digest": {"gitTree": subject}}]
    )
    return _statement(
        subjects,
        CHECK,
        {"name": name, "repository": repository, "passed": passed, "time": stamp(when)},
    )


def deploy_approval_statement(
    *,
    artifact: str,
    environment: str,
    repository: str,
    commit: str,
    approver: str,
    when: datetime,
    comment: str = "",
) -> bytes:
    """An operator approves deploying ``artifact`` (built from ``commit``) to ``environment``."""
    return _statement(
        _artifact(artifact),
        DEPLOY_APPROVAL,
        {
            "environment": environment,
            "repository": repository,
            "commit": commit,
            "approver": approver,
            "time": stamp(when),
            "comment": comment,
        },
    )


def deploy_record_statement(
    *,
    artifact: str,
    environment: str,
    repository: str,
    commit: str,
    deployer: str,
    when: datetime,
    request: str = "",
) -> bytes:
    """``deployer`` deployed ``artifact`` (built from ``commit``) to ``environment``.

    ``request`` names the deploy request it carried out, when there was one.
    """
    return _statement(
        _artifact(artifact),
        DEPLOY,
        {
            "environment": environment,
            "repository": repository,
            "commit": commit,
            "deployer": deployer,
            "time": stamp(when),
            "request": request,
        },
    )


def break_glass_review_statement(
    *,
    entry: int,
    entry_sha256: str,
    verdict: str,
    reviewer: str,
    when: datetime,
    comment: str = "",
) -> bytes:
    """``reviewer`` reviewed the break-glass recorded in ledger entry ``entry`` after the fact.

    The subject is the entry's exact bytes (SHA-256), so the review names one record and no
    other, in whatever copy of the ledger it is read.
    """
    return _statement(
        [{"name": f"ledger-entry-{entry}", "digest": {"sha256": entry_sha256}}],
        BREAK_GLASS_REVIEW,
        {
            "entry": entry,
            "verdict": verdict,
            "reviewer": reviewer,
            "time": stamp(when),
            "comment": comment,
        },
    )

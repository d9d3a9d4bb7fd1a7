"""Making evidence: sign a statement and wrap it in a DSSE envelope."""

from __future__ import annotations

__all__ = [
    "sign_approval",
    "sign_break_glass_review",
    "sign_check",
    "sign_deploy_approval",
    "sign_deploy_record",
    "sign_provenance",
]

from datetime import datetime

from twokey.evidence._dsse import PAYLOAD_TYPE
from twokey.evidence._signers import Signer
from twokey.evidence._statements import (
    approval_statement,
    break_glass_review_statement,
    check_statement,
    deploy_approval_statement,
    deploy_record_statement,
    provenance_statement,
)


def sign_approval(
    signer: Signer,
    *,
    repository: str,
    ref: str,
    commit: str,
    tree: str,
    when: datetime,
    comment: str = "",
) -> bytes:
    """An approval envelope for ``commit``'s content on ``ref``."""
    payload = approval_statement(
        repository=repository,
        ref=ref,
        commit=commit,
        tree=tree,
        reviewer=signer.public_key,
        when=when,
        comment=comment,
    )
    return signer.envelope(PAYLOAD_TYPE, payload).to_json()


def sign_provenance(
    signer: Signer, *, artifact: str, repository: str, commit: str, when: datetime
) -> bytes:
    """A build provenance envelope: ``artifact`` was built from ``commit``."""
    payload = provenance_statement(
        artifact=artifact,
        repository=repository,
        commit=commit,
        builder=signer.public_key,
        when=when,
    )
    return signer.envelope(PAYLOAD_TYPE, payload).to_json()


def sign_check(
    signer: Signer, *, name: str, repository: str, subject: str, passed: bool, when: datetime
) -> bytes:
    """A check result envelope for a tree or an artifact digest."""
    payload = check_statement(
        name=name, repository=repository, subject=subject, passed=passed, when=when
    )
    return signer.envelope(PAYLOAD_TYPE, payload).to_json()


def sign_deploy_approval(
    signer: Signer,
    *,
    artifact: str,
    environment: str,
    repository: str,
    commit: str,
    when: datetime,
    comment: str = "",
) -> bytes:
    """A deploy approval envelope."""
    payload = deploy_approval_statement(
        artifact=artifact,
        environment=environment,
        repository=repository,
        commit=commit,
        approver=signer.public_key,
        when=when,
        comment=comment,
    )
    return signer.envelope(PAYLOAD_TYPE, payload).to_json()


def sign_deploy_record(
    signer: Signer,
    *,
    artifact: str,
    environment: str,
    repository: str,
    commit: str,
    when: datetime,
    request: str = "",
) -> bytes:
    """A deploy record envelope: the signer deployed ``artifact`` to ``environment``."""
    payload = deploy_record_statement(
        artifact=artifact,
        environment=environment,
        repository=repository,
        commit=commit,
        deployer=signer.public_key,
        when=when,
        request=request,
    )
    return signer.envelope(PAYLOAD_TYPE, payload).to_json()


def sign_break_glass_review(
    signer: Signer,
    *,
    entry: int,
    entry_sha256: str,
    verdict: str,
    when: datetime,
    comment: str = "",
) -> bytes:
    """A review envelope: the signer reviewed the break-glass of ledger entry ``entry``."""
    payload = break_glass_review_statement(
        entry=entry,
        entry_sha256=entry_sha256,
        verdict=verdict,
        reviewer=signer.public_key,
        when=when,
        comment=comment,
    )
    return signer.envelope(PAYLOAD_TYPE, payload).to_json()

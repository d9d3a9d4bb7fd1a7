"""Pure domain types: identities, git facts, evidence, decisions. No I/O."""

import twokey._dataclass_fast  # noqa: F401 - records from precompiled code (ADR 0031)
from twokey.model._decision import (
    Counted,
    Decision,
    Excluded,
    Finding,
    FindingCode,
    RuleRef,
    Severity,
    Verdict,
)
from twokey.model._evidence import (
    APPLIED,
    REVIEW_VERDICTS,
    Approval,
    BreakGlass,
    BreakGlassReview,
    BuildProvenance,
    CheckResult,
    DeployApproval,
    DeployRequest,
    Evidence,
    TrustLevel,
)
from twokey.model._facts import DeployFacts, Landing, RefUpdateFacts
from twokey.model._git import ZERO_SHA, Change, Commit, CommitSignature, Ident, UpdateKind
from twokey.model._identity import Alias, AliasKind, PrincipalKind

__all__ = [
    "APPLIED",
    "REVIEW_VERDICTS",
    "ZERO_SHA",
    "Alias",
    "AliasKind",
    "Approval",
    "BreakGlass",
    "BreakGlassReview",
    "BuildProvenance",
    "Change",
    "CheckResult",
    "Commit",
    "CommitSignature",
    "Counted",
    "Decision",
    "DeployApproval",
    "DeployFacts",
    "DeployRequest",
    "Evidence",
    "Excluded",
    "Finding",
    "FindingCode",
    "Ident",
    "Landing",
    "PrincipalKind",
    "RefUpdateFacts",
    "RuleRef",
    "Severity",
    "TrustLevel",
    "UpdateKind",
    "Verdict",
]

"""Key validity at receipt, never at the statement's own date; future dates refused (ADR 0013)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.evidence.support import ERIN, POLICY, approval, stored
from twokey.evidence import EvidenceError, Reason, verify_envelope, verify_envelopes

IN_2026 = datetime(2026, 6, 1, tzinfo=UTC)  # erin's key is valid during 2026 only
IN_2027 = datetime(2027, 6, 1, tzinfo=UTC)

CASES = {
    "backdated-after-expiry": (IN_2026, IN_2027, Reason.KEY_EXPIRED, "was not valid at 2027-06"),
    "future-dated": (IN_2026 + timedelta(hours=1), IN_2026, Reason.FUTURE_DATED, "after it was"),
    "beyond-skew": (IN_2026 + timedelta(minutes=6), IN_2026, Reason.FUTURE_DATED, "5 minutes"),
}


@pytest.mark.parametrize(("dated", "at", "reason", "message"), CASES.values(), ids=CASES.keys())
def test_refused(dated: datetime, at: datetime, reason: Reason, message: str) -> None:
    with pytest.raises(EvidenceError) as caught:
        verify_envelope(stored(approval(ERIN, when=dated)), POLICY, at=at)
    assert caught.value.reason is reason
    assert message in str(caught.value)


def test_within_the_skew_and_the_window_it_counts() -> None:
    envelope = stored(approval(ERIN, when=IN_2026 + timedelta(minutes=4)))
    (item,) = verify_envelope(envelope, POLICY, at=IN_2026)
    assert item.time == IN_2026 + timedelta(minutes=4)


def test_an_earlier_receipt_is_the_moment_that_counts() -> None:
    envelope = stored(approval(ERIN, when=IN_2026))
    late = verify_envelopes([envelope], POLICY, at=IN_2027)
    assert late.rejected[0][1].startswith("KEY_EXPIRED")
    early = verify_envelopes([envelope], POLICY, at=IN_2027, received={envelope.digest: IN_2026})
    assert len(early.approvals) == 1


def test_without_a_door_clock_the_statement_time_is_used() -> None:
    """Callers with no clock of their own (an offline check) keep the documented behaviour."""
    assert verify_envelope(stored(approval(ERIN, when=IN_2026)), POLICY)

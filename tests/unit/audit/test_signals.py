"""Risk signals and the default policy, on hand-made report rows."""

from __future__ import annotations

import pytest

from twokey.audit import ApproverRow, AuditChange
from twokey.audit._charts import bar_chart, line_chart
from twokey.audit._default_policy import default_policy
from twokey.audit._model import summarise
from twokey.audit._signals import risk_signals
from twokey.model import Alias


def row(
    n: int,
    author: str,
    approver: str | None,
    *,
    merger: str | None = None,
    glass: bool = False,
    verdict: str = "allow",
) -> AuditChange:
    approvers = (
        (ApproverRow(approver, "trailer:Reviewed-by", "trailer", True, f"{approver}@x.org"),)
        if approver
        else ()
    )
    return AuditChange(
        f"{n:040x}",
        f"2026-0{1 + n % 3}-01T00:00:00+00:00",
        f"2026-0{1 + n % 3}",
        f"change {n}",
        "squash-or-direct",
        (author,),
        approvers,
        merger or author,
        None,
        verdict,
        (),
        glass,
        1,
        (f"{author}@x.org",),
    )


def kinds(changes: list[AuditChange]) -> list[str]:
    return [s.kind for s in risk_signals(changes)]


def test_reciprocal_pairs_and_concentration() -> None:
    changes = [row(i, "ann", "ben") for i in range(4)] + [
        row(10 + i, "ben", "ann") for i in range(2)
    ]
    found = risk_signals(changes)
    assert "reciprocal-approval" in [s.kind for s in found]
    conc = next(s for s in found if s.kind == "reviewer-concentration")
    assert conc.message == "ben approved 4 of ann's 4 changes"


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ([row(1, "ann", None)], "self-merge"),
        (
            [row(1, "ann", "ben", glass=True), row(2, "ann", "ben", glass=True)],
            "break-glass-frequency",
        ),
    ],
    ids=["self-merge", "break-glass"],
)
def test_signals(changes: list[AuditChange], kind: str) -> None:
    assert kind in kinds(changes)


def test_probable_self_approval_needs_the_alias_evidence() -> None:
    change = row(1, "ann", "ann2")
    idents = [("Ann Lee", "ann@x.org"), ("Ann Lee", "ann2@x.org")]
    [signal] = [s for s in risk_signals([change], idents) if s.kind == "probable-self-approval"]
    assert signal.people == ("ann2@x.org",)
    assert "probable-self-approval" not in kinds([change])


def test_summary_by_month_and_rate() -> None:
    s = summarise([row(0, "a", "b"), row(1, "a", None, verdict="deny"), row(3, "a", "b")])
    assert (s["changes"], s["violations"], s["reviewed"]) == (3, 1, 2)
    assert s["by_month"]["2026-01"] == {"changes": 2, "violations": 0, "reviewed": 2}


def test_default_policy_merges_confirmed_aliases() -> None:
    policy = default_policy(
        "refs/heads/main",
        ["ann@x.org", "Ann@Home.example", "ben@x.org"],
        {"ann@home.example": "ann@x.org"},
    )
    ann = policy.resolve(Alias.email("ann@home.example"))
    assert ann is not None
    assert ann == policy.resolve(Alias.email("ann@x.org"))
    assert policy.ref_rule("refs/heads/main") is not None


def test_charts_are_inline_svg() -> None:
    assert line_chart([("2026-01", 0.5), ("2026-02", 1.0)], "t").startswith("<svg")
    assert "<rect" in bar_chart([("SELF_APPROVAL", 3)], "t")
    assert "no data" in line_chart([], "t")

"""Risk signals, totals, the default policy and charts, on hand-made report rows."""

from __future__ import annotations

import pytest

from twokey.audit import (
    ApproverRow,
    AuditChange,
    SignalStats,
    TimedApproval,
    implausibly_fast,
    risk_signals,
    summarise,
)
from twokey.audit._charts import bar_chart, line_chart
from twokey.audit._default_policy import DefaultPolicy, default_policy
from twokey.model import Alias


def row(
    n: int,
    author: str,
    approver: str | None,
    *,
    merger: str | None = None,
    kind: str = "merge",
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
        f"change {n}",
        kind,
        (author,),
        approvers,
        merger or author,
        (),
        verdict,
        (("INSUFFICIENT_APPROVALS", "none"),) if verdict == "deny" else (),
        glass,
        1,
        (f"{author}@x.org",),
    )


SELF_CLAIMED = (
    "1 of 1 reviewed change(s) rest only on Reviewed-by/Acked-by trailers their own author "
    "committed: no code-review system recorded them"
)


def signals(
    changes: list[AuditChange], idents: list[tuple[str, str]] | None = None
) -> dict[str, str]:
    stats = SignalStats()
    for change in changes:
        stats.add(change)
    return {s.kind: s.message for s in risk_signals(stats, idents or [])}


def test_reciprocal_pairs_and_concentration() -> None:
    changes = [row(i, "ann", "ben", merger="ci") for i in range(4)]
    changes += [row(10 + i, "ben", "ann", merger="ci") for i in range(2)]
    assert signals(changes) == {
        "reciprocal-approval": "ann approved ben's changes 2 times and ben approved ann's 4 times",
        "reviewer-concentration": "ben approved 4 of ann's 4 changes",
    }


def test_concentration_needs_enough_changes() -> None:
    assert signals([row(i, "ann", "ben", merger="ci") for i in range(3)]) == {}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            [row(1, "ann", "ben")],
            {
                "self-merge": "1 of 1 changes were merged (or pushed, as recorded) by one of "
                "their authors (ann 1)",
                "self-claimed-trailer-review": SELF_CLAIMED,
            },
        ),
        (
            [row(1, "ann", "ben", kind="squash-or-direct")],
            {"self-claimed-trailer-review": SELF_CLAIMED},  # a claim, not a self-merge
        ),
        (
            [
                row(1, "ann", "ben", merger="ci", glass=True),
                row(2, "ann", "ben", merger="ci", glass=True),
            ],
            {"break-glass-frequency": "break-glass used 2 time(s) in 2 changes"},
        ),
        (
            [row(1, "ann", "ben", merger="ci", glass=True)]
            + [row(i, f"a{i}", f"b{i}", merger="ci") for i in range(2, 40)],
            {},
        ),
    ],
    ids=[
        "self-merge",
        "direct-commit-is-no-self-merge",
        "break-glass-twice",
        "break-glass-once-rarely",
    ],
)
def test_signals(changes: list[AuditChange], expected: dict[str, str]) -> None:
    assert signals(changes) == expected


def test_probable_self_approval_needs_the_alias_evidence() -> None:
    change = row(1, "ann", "ann2", merger="ci")
    idents = [("Ann Lee", "ann@x.org"), ("Ann Lee", "ann2@x.org")]
    found = signals([change], idents)
    assert found == {
        "probable-self-approval": "ann2@x.org approved changes by ann@x.org "
        f"(e.g. {change.commit[:10]}); the two emails probably belong to one person"
    }
    assert signals([change]) == {}


@pytest.mark.parametrize(
    ("seconds", "lines", "fast"),
    [
        (30, 49, False),
        (30, 101, True),
        (60, 200, False),
        (60, 201, True),
        (-5, 1, True),
        (3600, 5000, False),
    ],
    ids=[
        "small",
        "100-lines-in-30s",
        "200-a-minute",
        "201-a-minute",
        "before-commit",
        "slow-review",
    ],
)
def test_implausibly_fast(seconds: float, lines: int, fast: bool) -> None:
    assert implausibly_fast(seconds, lines) is fast


def test_fast_approval_signal_names_an_example() -> None:
    stats = SignalStats()
    change = row(7, "ann", "ben", merger="ci")
    stats.add(change, [TimedApproval("ben", 20.0, 400)])
    [signal] = risk_signals(stats)
    assert signal.kind == "implausibly-fast-approval"
    assert signal.message == (
        f"1 approval(s) came too fast for the size of the change, e.g. ben approved 400 changed "
        f"lines of {change.commit[:10]} 20 s after it was committed"
    )
    assert signal.commits == (change.commit,)


def test_summary_by_month_and_rate() -> None:
    s = summarise([row(0, "a", "b"), row(1, "a", None, verdict="deny"), row(3, "a", "b")])
    assert (s["changes"], s["violations"], s["reviewed"], s["reviewed_rate"]) == (3, 1, 2, 0.6667)
    assert s["by_month"]["2026-01"] == {"changes": 2, "violations": 0, "reviewed": 2}
    assert s["violations_by_finding"] == {"INSUFFICIENT_APPROVALS": 1}
    assert summarise([])["reviewed_rate"] is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("verdict", "maybe", "verdict must be allow or deny"),
        ("kind", "rebase", "kind 'rebase' is unknown"),
    ],
    ids=["verdict", "kind"],
)
def test_rows_check_their_invariants(field: str, value: str, message: str) -> None:
    fields = {"verdict": "allow", "kind": "merge", field: value}
    with pytest.raises(ValueError, match=message):
        AuditChange(
            "c" * 40,
            "t",
            "s",
            fields["kind"],
            (),
            (),
            "x",
            (),
            fields["verdict"],
            (),
            False,
            0,
        )


def test_spool_round_trip() -> None:
    change = row(5, "ann", "ben", glass=True)
    assert AuditChange.from_spool({**change.to_dict(), **change.spool_extras()}) == change


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


def test_the_default_policy_grows_once_per_person() -> None:
    grown = DefaultPolicy("refs/heads/main")
    first = grown.ensure(["ann@x.org"])
    assert grown.ensure(["ANN@x.org "]) is first  # nobody new: the same policy object
    second = grown.ensure(["ben@x.org"])
    assert second is not first
    assert second.resolve(Alias.email("ben@x.org")) is not None


def test_charts_are_inline_svg() -> None:
    assert line_chart([("2026-01", 0.5), ("2026-02", 1.0)], "t").startswith("<svg")
    assert "<rect" in bar_chart([("SELF_APPROVAL", 3)], "t")
    assert "no data" in line_chart([], "t")
    assert "&lt;b&gt;" in bar_chart([("<b>", 1)], "t")


def test_the_spool_appends_after_a_partial_read() -> None:
    from twokey.audit import Spool  # noqa: PLC0415

    spool = Spool()
    spool.add(row(1, "a", "b"))
    spool.add(row(2, "a", "b"))
    reader = spool.rows()
    assert next(reader).commit == row(1, "a", "b").commit
    reader.close()  # a renderer that stopped early
    spool.add(row(3, "a", "b", verdict="deny"))
    assert [r.commit[-1] for r in spool.rows()] == ["3", "1", "2"]  # violations first
    spool.close()


def test_rich_text_on_a_terminal_escapes_markup() -> None:
    import io  # noqa: PLC0415

    from twokey.audit import AuditReport, Spool, Totals  # noqa: PLC0415
    from twokey.audit._text import rich_report  # noqa: PLC0415

    spool = Spool()
    change = row(1, "[red]ann[/]", None, verdict="deny")
    spool.add(change)
    totals = Totals()
    totals.add(change)
    report = AuditReport(
        "r",
        "refs/heads/main",
        None,
        None,
        spool,
        totals,
        ["git"],
        {
            "source": "p.yml",
            "digest": "sha256:00",
            "default": False,
        },
    )
    out = io.StringIO()
    rich_report(report, out)
    text = out.getvalue()
    assert "[red]" in text  # printed, not taken as markup
    assert "1 changes, 1 violations" in text
    assert "source: git" in text


def test_self_claimed_trailer_reviews_and_the_trust_split_of_the_headline() -> None:
    """Issue 14, hole 6: an author who writes ``Reviewed-by: Bob`` into their own pushes."""
    own = [row(i, "ann", "bob", kind="squash-or-direct") for i in range(4)]
    landed_by_review_system = [row(10 + i, "ann", "bob", merger="gerrit") for i in range(2)]
    unreviewed = [row(20, "ann", None, kind="squash-or-direct", verdict="deny")]
    changes = own + landed_by_review_system + unreviewed
    assert signals(changes)["self-claimed-trailer-review"].startswith(
        "4 of 6 reviewed change(s) rest only on Reviewed-by/Acked-by trailers their own author"
    )
    summary = summarise(changes)
    assert (summary["reviewed"], summary["reviewed_by_trust"]) == (
        6,
        {"signed": 0, "forge": 0, "trailer": 6},
    )


def test_the_default_policy_excludes_committers() -> None:
    rule = default_policy("refs/heads/main", ["ann@x.org", "bob@x.org"]).refs[0]
    assert {e.value for e in rule.approval.exclude} == {"authors", "committers", "co-authors"}

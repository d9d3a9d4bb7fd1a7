"""The HTML report's rows, written in Python (``twokey.audit._render.html_rows``), are the
markup the report's Jinja template wrote for them, byte for byte: the reference below is that
template's loop as it was, rendered by Jinja with autoescape for random rows."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import Environment

from twokey.audit._model import KINDS, VERDICTS, ApproverRow, AuditChange, Deployment
from twokey.audit._render import html_rows
from twokey.audit._report import Spool, row_lines
from twokey.git import MergeResolution

# The report template's table rows before html_rows (report.html.j2 at 981192d), verbatim.
REFERENCE = (
    "{% for c in changes %}\n"
    "<tr class=\"{{ 'deny' if c.violation else 'allow' }}"
    "{{ ' glass' if c.break_glass else '' }}\">\n"
    "  <td class=\"verdict\">{{ 'BREAK-GLASS ' if c.break_glass else '' }}{{ c.verdict }}</td>\n"
    "  <td><code>{{ c.commit[:10] }}</code> {{ c.subject }}</td>\n"
    "  <td>{{ c.time[:16] }}</td>\n"
    '  <td>{{ c.authors | join(", ") }}</td>\n'
    "  <td>{% for a in c.approvers %}{{ a.who }} <small>({{ a.trust }}, {{ a.source }}"
    "{% if a.time %}, {{ a.time[:16] }}{% endif %}{% if not a.counted %}, not counted"
    "{% endif %})</small>{% if not loop.last %}<br>{% endif %}{% else %}none{% endfor %}</td>\n"
    "  <td>{{ c.merger }}</td>\n"
    '  <td>{{ c.deployer or "unknown" }}</td>\n'
    '  <td>{{ c.gate or "not recorded" }}</td>\n'
    '  <td>{% if c.findings %}<ul class="findings">{% for code, message in c.findings %}'
    "<li><b>{{ code }}</b>: {{ message }}</li>{% endfor %}</ul>{% endif %}"
    '{% for r in c.resolutions %}<p class="resolution" data-lines="{{ r.lines }}" '
    'data-outside="{{ r.outside | length }}">{{ r.describe() }}</p>{% endfor %}</td>\n'
    "</tr>\n"
    "{% endfor %}"
)
TEMPLATE = Environment(autoescape=True).from_string(REFERENCE)

# HTML's special characters, quotes, non-ASCII and markup-looking text.
text = st.text(alphabet=st.sampled_from(list("ab <>&\"'`=/é\u00a0\n{}%#")), max_size=12)
nonempty = text.filter(bool)
times = st.one_of(st.none(), st.just(""), text, st.just("2026-01-02T03:04:05+01:00"))
approvers = st.builds(ApproverRow, nonempty, text, text, st.booleans(), text, times)
resolutions = st.builds(
    MergeResolution,
    st.text(alphabet="0123456789abcdef<&", min_size=1, max_size=12),
    st.lists(text, max_size=3).map(tuple),
    st.lists(text, max_size=3).map(tuple),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.booleans(),
)
changes = st.builds(
    AuditChange,
    commit=text,
    time=st.one_of(text, st.just("2026-01-02T03:04:05+01:00")),
    subject=text,
    kind=st.sampled_from(sorted(KINDS)),
    authors=st.lists(text, max_size=3).map(tuple),
    approvers=st.lists(approvers, max_size=3).map(tuple),
    merger=text,
    deployments=st.lists(st.builds(Deployment, text, text, text, text), max_size=2).map(tuple),
    verdict=st.sampled_from(sorted(VERDICTS)),
    findings=st.lists(st.tuples(text, text), max_size=3).map(tuple),
    break_glass=st.booleans(),
    files=st.one_of(st.none(), st.integers(0, 9)),
    gate=st.one_of(st.none(), text),
    resolutions=st.lists(resolutions, max_size=2).map(tuple),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(changes, max_size=4))
def test_rows_are_the_templates_markup(rows: list[AuditChange]) -> None:
    assert "".join(html_rows(rows)) == TEMPLATE.render(changes=rows)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(changes, min_size=1, max_size=3), st.lists(st.integers(0, 2), max_size=8))
def test_rows_that_repeat_people_and_findings_are_the_templates_markup(
    rows: list[AuditChange], picks: list[int]
) -> None:
    """html_rows escapes a person, an approver list or findings once: rows that repeat them
    (and rows that share them in part: another commit, the same approvers) read the same."""
    again = [replace(rows[i % len(rows)], commit=f"c{n}") for n, i in enumerate(picks)]
    assert "".join(html_rows([*rows, *again])) == TEMPLATE.render(changes=[*rows, *again])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(changes, max_size=4))
def test_spooled_rows_come_back_as_they_were_written(rows: list[AuditChange]) -> None:
    """The spool's two lines of a row are read back as one JSON object (issue 13)."""
    spool = Spool()
    try:
        for row in rows:
            spool.write(row.section, *row_lines(row))
        back = list(spool.rows())
    finally:
        spool.close()
    assert back == sorted(rows, key=lambda r: r.section)

"""Text someone pushed never drives the reader's terminal (issue 14, item 10).

One helper (:func:`twokey._text.printable`) and every text output that shows pushed text:
``break-glass list``, the plain and the rich text audit, ``explain`` and the hook's messages.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from twokey._text import printable
from twokey.cli import main
from twokey.doors._formats._report import Report
from twokey.doors._formats._text import render_text
from twokey.doors._gate import Judgement
from twokey.doors._verdicts import door_deny
from twokey.engine import explain
from twokey.git._updates import parse_updates
from twokey.ledger import Entry, EntryKind, open_ledger
from twokey.model import FindingCode

# Clear screen, OSC 52 clipboard write, a carriage return over a fake line, an 8-bit CSI,
# a bidi override, and a newline that would forge a line of its own.
HOSTILE = "x\x1b[2J\x1b]52;c;ZXZpbA==\x07\rreviewed by bob\x9b31m\u202egnp.exe\nALLOW: fake"
RAW = ("\x1b", "\x07", "\r", "\x9b", "\u202e")
# rich styles its own output with escapes; none of the pushed ones may get through
PUSHED = ("\x1b[2J", "\x1b]52", "\x07", "\rreviewed", "\x9b", "\u202e")


def _clean(text: str, *, styled: bool = False) -> None:
    for chars in PUSHED if styled else RAW:
        assert chars not in text, repr(chars)
    assert "\\x1b[2J" in text


@pytest.mark.parametrize(
    ("text", "newlines", "expected"),
    [
        ("a\x1b[31mb", False, "a\\x1b[31mb"),
        ("tab\there", False, "tab\\x09here"),
        ("one\ntwo", False, "one\\x0atwo"),
        ("one\ntwo\r", True, "one\ntwo\\x0d"),
        ("\x85\x9b\x7f", False, "\\x85\\x9b\\x7f"),
        ("\u202eabc\u2066\u200b\ufeff", False, "\\u202eabc\\u2066\\u200b\\ufeff"),
        ("Zoë 日本 ✓", False, "Zoë 日本 ✓"),
    ],
    ids=["csi", "tab", "newline", "keep-newlines", "c1-and-del", "bidi", "printable-unicode"],
)
def test_printable(text: str, newlines: bool, expected: str) -> None:
    assert printable(text, newlines=newlines) == expected


def test_hook_messages_and_explain_escape_pushed_text() -> None:
    [update] = parse_updates(f"{'a' * 40} {'b' * 40} refs/heads/main\n")
    decision = door_deny(update.subject, FindingCode.MALFORMED_INPUT, HOSTILE, HOSTILE)
    for text in (render_text(Report((Judgement(update, decision),))), explain(decision)):
        _clean(text)
        assert "\nALLOW: fake" not in text


def _glass_ledger(tmp_path: Path) -> str:
    body = {
        "door": "git-hook",
        "ref": "refs/heads/main",
        "old": "a" * 40,
        "new": "b" * 40,
        "pusher": "email:erin@example.com",
        "decision": {
            "verdict": "allow",
            "break_glass": True,
            "findings": [{"code": "BREAK_GLASS", "message": f"break-glass by erin: {HOSTILE}"}],
        },
    }
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    with open_ledger(url) as ledger:
        ledger.append([Entry(EntryKind.DECISION, body, datetime(2026, 11, 27, tzinfo=UTC))])
    return url


def test_break_glass_list_escapes_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "version: 1\npeople:\n  erin: {emails: [erin@example.com]}\n"
        "policy_changes: {approvals: 1, approvers: [erin]}\n"
    )
    code = main(
        ["break-glass", "list", "--ledger", _glass_ledger(tmp_path), "--policy", str(policy)]
    )
    out = capsys.readouterr().out
    assert code == 1, out  # one open exception
    _clean(out)
    assert "\nALLOW: fake" not in out


@pytest.mark.parametrize("tty", [False, True], ids=["plain", "rich"])
def test_the_text_audit_escapes_subjects_and_reasons(tmp_path: Path, tty: bool) -> None:
    from tests.support.gitrepo import ALICE, GitRepo  # noqa: PLC0415
    from twokey.audit import AuditOptions, ReportFormat, run_audit, write_report  # noqa: PLC0415

    repo = GitRepo.init(tmp_path / "r")
    repo.commit({"a": "1\n"}, f"subject {HOSTILE.replace(chr(10), ' ')}", ALICE)
    report = run_audit(AuditOptions(repo.path, ledger=_glass_ledger(tmp_path)))

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return tty

    out = Terminal()
    try:
        write_report(report, ReportFormat.TEXT, out)
    finally:
        report.close()
    _clean(out.getvalue(), styled=tty)

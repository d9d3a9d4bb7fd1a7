"""``twokey break-glass list|review`` on a real ledger, with real ssh-keygen keys."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from twokey.cli import main
from twokey.evidence import fingerprint, load_signer, sign_approval, sign_break_glass_review
from twokey.ledger import Entry, EntryKind, open_ledger, parse_entry

WHEN = datetime(2026, 11, 27, 21, tzinfo=UTC)
PEOPLE = ("dave", "erin", "ci")


def _glass(actor: str, reason: str) -> dict[str, Any]:
    return {
        "verdict": "allow",
        "break_glass": True,
        "findings": [{"code": "BREAK_GLASS", "message": f"break-glass by {actor}: {reason}"}],
    }


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, str, Path]:
    """Keys for dave, erin and the ci service; a policy; a ledger with two break-glasses."""
    keys = {}
    for name in PEOPLE:
        path = tmp_path / f"{name}_key"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)],
            check=True,
        )
        keys[name] = " ".join(path.with_suffix(".pub").read_text().split()[:2])
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "version: 1\npeople:\n"
        f'  dave: {{emails: [dave@example.com], keys: ["{keys["dave"]}"]}}\n'
        f'  erin: {{emails: [erin@example.com], keys: ["{keys["erin"]}"]}}\n'
        f'services:\n  ci: {{emails: [ci@example.com], keys: ["{keys["ci"]}"]}}\n'
        "policy_changes: {approvals: 1, approvers: [erin]}\n"
    )
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    deploy = {
        "door": "deploy-check",
        "environment": "production",
        "commit": "c" * 40,
        "deployer": "email:dave@example.com",
        "decision": _glass("dave", "prod down"),
    }
    push = {
        "door": "git-hook",
        "ref": "refs/heads/main",
        "old": "a" * 40,
        "new": "b" * 40,
        "pusher": "email:erin@example.com",
        "decision": _glass("erin", "hotfix"),
    }
    plain: dict[str, Any] = {
        "door": "git-hook",
        "ref": "refs/heads/main",
        "new": "d" * 40,
        "pusher": None,
        "decision": {"verdict": "allow", "break_glass": False, "findings": []},
    }
    with open_ledger(url) as ledger:
        ledger.append(
            [
                Entry(EntryKind.DECISION, plain, WHEN),
                Entry(EntryKind.DEPLOY, deploy, WHEN),
                Entry(EntryKind.DECISION, push, WHEN),
            ]
        )
    return tmp_path, url, policy


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_list_then_review_closes_one_exception(
    world: tuple[Path, str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, url, policy = world
    common = ("--ledger", url, "--policy", str(policy))
    code, out = _run(capsys, "break-glass", "list", *common, "--format", "json")
    assert code == 1  # exceptions are open
    rows = json.loads(out)
    assert [(r["entry"], r["kind"], r["actor"], r["reviewed"]) for r in rows] == [
        (1, "deploy", "dave", False),
        (2, "change", "erin", False),
    ]
    erin = str(root / "erin_key")
    code, out = _run(
        capsys, "break-glass", "review", "1", "--ssh-key", erin, "--comment", "ok", *common
    )
    assert code == 0, out
    assert "recorded as entry 3" in out
    code, out = _run(capsys, "break-glass", "list", *common)
    assert code == 1  # erin's own push is still open: she may not review it herself
    assert "REVIEWED EXCEPTION: break-glass deploy of cccccccccc" in out
    assert "reviewed by erin: justified" in out
    assert "OPEN EXCEPTION: break-glass push of bbbbbbbbbb to refs/heads/main by erin" in out
    assert "1 open" in out


@pytest.mark.parametrize(
    ("entry", "who", "code", "words"),
    [
        ("2", "erin", 1, "SELF_APPROVAL: the review by erin does not count: erin broke"),
        ("1", "ci", 1, "SERVICE_APPROVAL: the review by ci does not count"),
        ("0", "erin", 2, "ledger entry 0 records no break-glass"),
        ("9", "erin", 2, "the ledger has no entry 9"),
    ],
    ids=["self-review", "a-service", "not-a-break-glass", "no-such-entry"],
)
def test_reviews_that_do_not_count_are_refused_and_not_recorded(
    world: tuple[Path, str, Path],
    capsys: pytest.CaptureFixture[str],
    entry: str,
    who: str,
    code: int,
    words: str,
) -> None:
    root, url, policy = world
    key = str(root / f"{who}_key")
    args = ("break-glass", "review", entry, "--ssh-key", key, "--ledger", url)
    assert main([*args, "--policy", str(policy)]) == code
    captured = capsys.readouterr()
    assert words in captured.out + captured.err
    with open_ledger(url) as ledger:
        kinds = [parse_entry(data).kind for _, data in ledger.entries()]
    assert EntryKind.REVIEW not in kinds


def test_a_forged_review_entry_is_listed_as_refused(
    world: tuple[Path, str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A review entry someone wrote by hand (here: about other bytes) closes nothing."""
    root, url, policy = world
    common = ("--ledger", url, "--policy", str(policy))
    assert main(["break-glass", "review", "1", "--ssh-key", str(root / "erin_key"), *common]) == 0
    capsys.readouterr()
    with open_ledger(url) as ledger:
        body = parse_entry(ledger.entry(3)).body
        ledger.append([Entry(EntryKind.REVIEW, {**body, "entry": 2}, WHEN)])  # replayed
    code, out = _run(capsys, "break-glass", "list", *common, "--format", "json")
    assert code == 1  # the change exception is still open
    change = json.loads(out)[1]
    assert change["reviewed"] is False
    assert change["refused_reviews"] == ["entry 4: reviews other bytes than entry 2"]


@pytest.mark.parametrize("command", ["list", "review"])
def test_a_ledger_that_does_not_exist_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    missing = tmp_path / "typo.db"
    args = ["break-glass", command, *(["1", "--key", "k"] if command == "review" else [])]
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "version: 1\npeople:\n  erin: {emails: [erin@example.com]}\n"
        "policy_changes: {approvals: 1, approvers: [erin]}\n"
    )
    assert main([*args, "--ledger", f"sqlite://{missing}", "--policy", str(policy)]) == 2
    assert f"no ledger at {missing}" in capsys.readouterr().err
    assert not missing.exists()


def test_review_entries_that_do_not_hold_close_nothing(
    world: tuple[Path, str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Written around the command: another key, another statement, broken bytes."""
    root, url, policy = world
    common = ("--ledger", url, "--policy", str(policy))
    stranger = root / "stranger_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    with open_ledger(url) as ledger:
        data = ledger.entry(1)
        digest = hashlib.sha256(data).hexdigest()
        unknown = sign_break_glass_review(
            load_signer(stranger, ssh=True),
            entry=1,
            entry_sha256=digest,
            verdict="justified",
            when=WHEN,
        )
        approval = sign_approval(
            load_signer(root / "erin_key", ssh=True),
            repository="r",
            ref="refs/heads/main",
            commit="c" * 40,
            tree="d" * 40,
            when=WHEN,
        )
        ledger.append(
            [
                Entry(EntryKind.REVIEW, {"entry": 1, "envelope": _b64(unknown)}, WHEN),
                Entry(EntryKind.REVIEW, {"entry": 1, "envelope": _b64(approval)}, WHEN),
                Entry(EntryKind.REVIEW, {"entry": 1, "envelope": "not base64!"}, WHEN),
                Entry(EntryKind.REVIEW, {"entry": "1", "envelope": _b64(unknown)}, WHEN),
            ]
        )
    code, out = _run(capsys, "break-glass", "list", *common, "--format", "json")
    assert code == 1
    deploy = json.loads(out)[0]
    assert deploy["reviewed"] is False
    assert [why.split(": ", 1)[1] for why in deploy["refused_reviews"]] == [
        f"UNKNOWN_SIGNER: key {fingerprint(_public(stranger))} is not registered to anyone "
        "in the policy",
        "not a break-glass review",
    ]
    code, out = _run(capsys, "break-glass", "list", *common)
    assert "2 unreadable ledger entries ignored" in out


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _public(key: Path) -> str:
    return " ".join(key.with_suffix(".pub").read_text().split()[:2])

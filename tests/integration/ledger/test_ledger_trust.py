"""What `twokey ledger verify` and `verify-export` claim to have proved (issue 14, holes 3-4).

A log verified against its own hashes proves consistency only; without a signed checkpoint it
proves nothing, and without a trusted key from outside the log a checkpoint proves nothing
either. Each outcome is said in the output and in the exit status.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Protocol

import pytest

from twokey.cli import main
from twokey.ledger import generate_signer


class Run(Protocol):
    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]: ...


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    monkeypatch.setenv("TWOKEY_LEDGER", str(tmp_path / "l.db"))
    monkeypatch.delenv("TWOKEY_LEDGER_KEY", raising=False)

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        if argv[:1] == ("append",) and not (tmp_path / "l.db").exists():
            main(["ledger", "init"])  # only `ledger init` creates a ledger (ADR 0016)
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(["ledger", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _notes(start: int, count: int) -> str:
    rows = (json.dumps({"kind": "note", "body": {"n": i}}) for i in range(start, start + count))
    return "".join(row + "\n" for row in rows)


def _keys(tmp_path: Path, name: str = "ledger.test") -> tuple[str, str]:
    signer = generate_signer(name)
    key, pub = tmp_path / f"{name}.key", tmp_path / f"{name}.pub"
    key.write_text(signer.text() + "\n")
    pub.write_text(signer.verifier().text() + "\n")
    return str(key), str(pub)


def test_verify_without_any_checkpoint_says_it_proved_nothing(cli: Run, tmp_path: Path) -> None:
    _, pub = _keys(tmp_path)
    cli("append", stdin=_notes(0, 4))
    for argv in ((), ("--key", pub)):
        code, out, _ = cli("verify", *argv)
        assert code == 1, argv
        assert "NOTHING PROVED: no signed checkpoint exists" in out
    code, out, _ = cli("verify", "--key", pub, "--allow-no-checkpoint", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert (data["ok"], data["proved"]) == (True, "nothing")


def test_a_wholesale_rewrite_without_checkpoints_is_never_reported_ok(
    cli: Run, tmp_path: Path
) -> None:
    cli("append", stdin=_notes(0, 5))
    (tmp_path / "l.db").unlink()  # rewritten with entry 2 changed and every hash recomputed
    cli("append", stdin=_notes(0, 5).replace('{"n": 2}', '{"n": 222}'))
    code, out, _ = cli("verify")
    assert code == 1
    assert not out.startswith("ok")
    assert "NOTHING PROVED" in out


def test_verify_without_a_trusted_key_proves_consistency_only(cli: Run, tmp_path: Path) -> None:
    """An attacker's own key signs a checkpoint over a rewritten log: no key, no proof."""
    key, pub = _keys(tmp_path)
    attacker, _ = _keys(tmp_path, "attacker.test")
    cli("append", stdin=_notes(0, 3))
    cli("checkpoint", "--key", attacker)
    code, out, _ = cli("verify")
    assert code == 1
    assert "CONSISTENCY ONLY: no trusted key was given" in out
    code, out, _ = cli("verify", "--consistency-only", "--format", "json")
    data = json.loads(out)
    assert (code, data["proved"], data["trusted_key"]) == (0, "consistency-only", "")
    code, _, err = cli("verify", "--key", pub)  # the trusted key refuses the attacker's note
    assert (code, "is not signed by ledger.test" in err) == (1, True)
    cli("checkpoint", "--key", key)
    code, _, err = cli("verify", "--key", pub)
    assert code == 1, "a checkpoint signed by another key is still there"


def test_verify_with_the_trusted_key_says_what_it_covers(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, pub = _keys(tmp_path)
    cli("append", stdin=_notes(0, 3))
    cli("checkpoint", "--key", key)
    cli("append", stdin=_notes(3, 2))
    monkeypatch.setenv("TWOKEY_LEDGER_KEY", pub)  # configuration, not the log, names the key
    code, out, _ = cli("verify")
    assert code == 0
    assert out.startswith("ok: 5 entries verify")
    assert "signed by the trusted key ledger.test covers entries 0..2" in out
    assert "entries 3..4 are covered by no signed checkpoint yet" in out


def test_verify_export_never_trusts_the_exports_own_key(cli: Run, tmp_path: Path) -> None:
    attacker, attacker_pub = _keys(tmp_path, "attacker.test")
    _, pub = _keys(tmp_path)
    cli("append", stdin=_notes(0, 3))
    cli("checkpoint", "--key", attacker)
    export = tmp_path / "export"
    cli("export", str(export), "--key", attacker_pub)  # the export carries the attacker's key
    code, out, _ = cli("verify-export", str(export), "--format", "json")
    data = json.loads(out)
    assert (code, data["ok"], data["proved"]) == (1, False, "consistency-only")
    code, out, _ = cli("verify-export", str(export))
    assert code == 1
    assert "signed by the export's own verifier.key" in out
    assert "CONSISTENCY ONLY" in out
    assert cli("verify-export", str(export), "--consistency-only")[0] == 0
    code, _, err = cli("verify-export", str(export), "--key", pub)
    assert (code, "is not signed by ledger.test" in err) == (1, True)


NOT_UTF8 = b"ledger.test\n\xff\xfe\n"


@pytest.mark.parametrize(
    ("argv", "expected", "file"),
    [
        (("checkpoint", "--key", "{bad}"), 2, "private key"),
        (("verify", "--key", "{bad}"), 2, "key"),
        (("verify", "--key", "{pub}", "--since", "{bad}"), 1, "checkpoint"),
        (("consistency", "--from", "{bad}", "--key", "{pub}"), 1, "checkpoint"),
        (("verify-proof", "{bad}", "--key", "{pub}"), 1, "proof"),
    ],
    ids=["private-key", "public-key", "since-checkpoint", "consistency-checkpoint", "proof"],
)
def test_non_utf8_files_are_named_not_a_crash(
    cli: Run, tmp_path: Path, argv: tuple[str, ...], expected: int, file: str
) -> None:
    key, pub = _keys(tmp_path)
    cli("append", stdin=_notes(0, 2))
    cli("checkpoint", "--key", key)
    bad = tmp_path / "bad"
    bad.write_bytes(NOT_UTF8)
    code, _, err = cli(*(a.format(bad=bad, pub=pub) for a in argv))
    assert code == expected, err
    assert f"{file} {bad} is not UTF-8 text (byte 12 is 0xff)" in err


@pytest.mark.parametrize("name", ["entries.jsonl", "checkpoints.jsonl"])
def test_a_non_utf8_export_file_is_a_verify_failure(cli: Run, tmp_path: Path, name: str) -> None:
    key, pub = _keys(tmp_path)
    cli("append", stdin=_notes(0, 2))
    cli("checkpoint", "--key", key)
    export = tmp_path / "export"
    cli("export", str(export), "--key", pub)
    path = export / name
    path.write_bytes(path.read_bytes().replace(b'"', b"\xff", 1))
    code, _, err = cli("verify-export", str(export), "--key", pub)
    assert code == 1, err
    assert "line 1 is malformed" in err


def test_non_utf8_stdin_appends_nothing(cli: Run) -> None:
    code, _, err = cli("append", stdin=_notes(0, 1) + "\udcff\n")
    assert (code, "stdin line 2" in err, "not UTF-8" in err) == (2, True, True)
    assert cli("init")[1].strip() == "ledger ready: 0 entries"


@pytest.mark.parametrize("kind", ["decision", "evidence", "deploy", "review", "policy"])
def test_append_refuses_kinds_only_doors_write(cli: Run, kind: str) -> None:
    forged = {
        "kind": kind,
        "body": {"approval": {"signer": "email:bob@example.com", "commit": "a" * 40}},
    }
    code, _, err = cli("append", stdin=json.dumps(forged) + "\n")
    assert code == 2
    assert f"kind {kind!r} is written only by twokey's doors" in err
    assert cli("init")[1].strip() == "ledger ready: 0 entries"

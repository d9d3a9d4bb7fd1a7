"""``twokey ledger`` end to end through the entry point, on a real SQLite file."""

from __future__ import annotations

import base64
import io
import json
import sqlite3
from pathlib import Path

import pytest

from twokey.cli import main


def run(
    capsys: pytest.CaptureFixture[str],
    *argv: str,
    stdin: str = "",
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[int, str, str]:
    if monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_full_cycle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, key = str(tmp_path / "l.db"), str(tmp_path / "ledger.key")
    monkeypatch.setenv("TWOKEY_LEDGER", db)
    assert run(capsys, "ledger", "keygen", "--name", "ledger.test", "--out", key)[0] == 0
    lines = "".join(json.dumps({"kind": "note", "body": {"n": i}}) + "\n" for i in range(5))
    code, out, _ = run(capsys, "ledger", "append", stdin=lines, monkeypatch=monkeypatch)
    assert (code, out.split()) == (0, ["0", "1", "2", "3", "4"])
    code, note, _ = run(capsys, "ledger", "checkpoint", "--key", key)
    assert code == 0
    assert note.startswith("ledger.test\n5\n")
    (tmp_path / "old.note").write_text(note)
    run(capsys, "ledger", "append", stdin=lines, monkeypatch=monkeypatch)
    code, out, _ = run(
        capsys, "ledger", "consistency", "--from", str(tmp_path / "old.note"), "--key", f"{key}.pub"
    )
    assert (code, "extends the checkpoint of size 5" in out) == (0, True)
    code, out, _ = run(capsys, "ledger", "prove", "--index", "3", "--key", key, "--format", "json")
    data = json.loads(out)
    (tmp_path / "proof.txt").write_text(data["bundle"])
    (tmp_path / "entry.bin").write_bytes(base64.b64decode(data["entry"]))
    code, out, _ = run(
        capsys,
        "ledger",
        "verify-proof",
        str(tmp_path / "proof.txt"),
        "--entry",
        str(tmp_path / "entry.bin"),
        "--key",
        f"{key}.pub",
    )
    assert (code, out.strip()) == (0, "ok: entry 3 is in the log of size 10")
    assert run(capsys, "ledger", "verify", "--key", f"{key}.pub")[0] == 0
    export = tmp_path / "export"
    assert run(capsys, "ledger", "export", str(export), "--key", f"{key}.pub")[0] == 0
    code, out, _ = run(capsys, "ledger", "verify-export", str(export), "--key", f"{key}.pub")
    assert (code, out.strip()) == (0, "ok: 10 entries reproduce 2 signed checkpoint(s)")

    # someone with database access edits one old entry
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE twokey_entries SET data = ? WHERE idx = 2", (b'{"forged":1}',))
    code, _, err = run(capsys, "ledger", "verify", "--key", f"{key}.pub")
    assert code == 1
    assert "entry 2 does not match its recorded hash" in err
    # an edited export is caught by the checkpoints alone
    rows = (export / "entries.jsonl").read_text().splitlines()
    rows[1] = json.dumps({"index": 1, "data": base64.b64encode(b"x").decode()})
    (export / "entries.jsonl").write_text("\n".join(rows) + "\n")
    code, _, err = run(capsys, "ledger", "verify-export", str(export), "--key", f"{key}.pub")
    assert code == 1
    assert "do not produce the signed checkpoint of size 5" in err


def test_bad_input_appends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "l.db")
    code, _, err = run(
        capsys,
        "ledger",
        "append",
        "--ledger",
        db,
        stdin='{"kind": "note", "body": {}}\nnot json\n',
        monkeypatch=monkeypatch,
    )
    assert code == 2
    assert "stdin line 2" in err
    assert run(capsys, "ledger", "init", "--ledger", db)[1].strip() == "ledger ready: 0 entries"


def test_unreachable_database_is_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ledger", "init", "--ledger", "postgresql://nobody@127.0.0.1:1/x")
    assert code == 3
    assert "cannot open ledger" in err

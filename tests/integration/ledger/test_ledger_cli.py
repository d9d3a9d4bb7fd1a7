"""``twokey ledger`` end to end through the entry point, on a real SQLite file."""

from __future__ import annotations

import base64
import io
import json
import sqlite3
from pathlib import Path
from typing import Protocol

import pytest

from twokey.cli import main


class Run(Protocol):
    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]: ...


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    monkeypatch.setenv("TWOKEY_LEDGER", str(tmp_path / "l.db"))
    monkeypatch.delenv("TWOKEY_LEDGER_KEY", raising=False)

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(["ledger", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _lines(start: int, count: int) -> str:
    return "".join(
        json.dumps({"kind": "note", "body": {"n": i}}) + "\n" for i in range(start, start + count)
    )


def _setup(run: Run, tmp_path: Path) -> tuple[str, str]:
    key = str(tmp_path / "ledger.key")
    assert run("keygen", "--name", "ledger.test", "--out", key)[0] == 0
    assert run("init")[0] == 0  # only init creates a ledger
    return key, f"{key}.pub"


def test_keygen_writes_a_secret_key_and_refuses_to_overwrite(cli: Run, tmp_path: Path) -> None:
    key, pub = _setup(cli, tmp_path)
    assert Path(key).read_text().startswith("PRIVATE+KEY+ledger.test+")
    assert Path(key).stat().st_mode & 0o077 == 0
    assert Path(pub).read_text().startswith("ledger.test+")
    code, _, err = cli("keygen", "--name", "ledger.test", "--out", key)
    assert (code, "exists" in err) == (2, True)


def test_full_cycle(cli: Run, tmp_path: Path) -> None:
    run = cli
    key, pub = _setup(run, tmp_path)
    code, out, _ = run("append", stdin=_lines(0, 5))
    assert (code, out.split()) == (0, ["0", "1", "2", "3", "4"])
    code, note, _ = run("checkpoint", "--key", key)
    assert code == 0
    assert note.startswith("ledger.test\n5\n")
    (tmp_path / "old.note").write_text(note)
    run("append", stdin=_lines(5, 5))

    code, out, _ = run("consistency", "--from", str(tmp_path / "old.note"), "--key", pub)
    assert (code, out.strip()) == (0, "ok: the log of size 10 extends the checkpoint of size 5")

    code, out, _ = run("prove", "--index", "3")
    assert code == 0
    assert out.startswith("c2sp.org/tlog-proof@v1\nextra ")
    proof = tmp_path / "entry3.tlog-proof"
    proof.write_text(out)
    code, out, _ = run("verify-proof", str(proof), "--key", pub)
    assert (code, out.strip()) == (0, "ok: entry 3 is in the log of size 5")
    code, out, _ = run("prove", "--index", "7", "--key", key, "--format", "json")
    assert (code, json.loads(out)["size"]) == (0, 10)

    code, out, _ = run("verify", "--key", pub, "--format", "json")
    assert code == 0
    assert json.loads(out)["size"] == 10
    code, out, _ = run("verify", "--key", pub, "--since", str(tmp_path / "old.note"))
    assert (code, "from index 5" in out) == (0, True)

    export = tmp_path / "export"
    assert run("export", str(export), "--key", pub)[0] == 0
    code, out, _ = run("verify-export", str(export), "--key", pub)
    assert (code, out.strip()) == (0, "ok: 10 entries reproduce 2 signed checkpoint(s)")


def test_tampering_is_exit_1_and_names_the_index(cli: Run, tmp_path: Path) -> None:
    run = cli
    key, pub = _setup(run, tmp_path)
    run("append", stdin=_lines(0, 10))
    run("checkpoint", "--key", key)
    with sqlite3.connect(tmp_path / "l.db") as conn:
        conn.execute("UPDATE twokey_entries SET data = ? WHERE idx = 2", (b'{"forged":1}',))
    code, _, err = run("verify", "--key", pub)
    assert code == 1
    assert "entry 2 does not match its recorded hash" in err


def test_an_old_checkpoint_proves_a_consistent_rewrite(cli: Run, tmp_path: Path) -> None:
    """Rewriting an entry and every hash above it still contradicts a handed-out checkpoint."""
    run = cli
    key, pub = _setup(run, tmp_path)
    run("append", stdin=_lines(0, 6))
    _, note, _ = run("checkpoint", "--key", key)
    old = tmp_path / "old.note"
    old.write_text(note)
    (tmp_path / "l.db").unlink()  # the operator re-creates the log with entry 2 changed
    forged = _lines(0, 6).replace('{"n": 2}', '{"n": 222}')
    run("init")
    run("append", stdin=forged + _lines(6, 3))
    code, _, err = run("consistency", "--from", str(old), "--key", pub)
    assert code == 1
    assert "consistency proof does not lead to the old root" in err
    code, _, err = run("verify", "--key", pub, "--since", str(old))
    assert code == 1
    assert "not the one the checkpoint of size 6 signed" in err


def test_a_truncated_log_fails_consistency(cli: Run, tmp_path: Path) -> None:
    run = cli
    key, pub = _setup(run, tmp_path)
    run("append", stdin=_lines(0, 6))
    _, note, _ = run("checkpoint", "--key", key)
    (tmp_path / "old.note").write_text(note)
    (tmp_path / "l.db").unlink()
    run("init")
    run("append", stdin=_lines(0, 4))
    code, _, err = run("consistency", "--from", str(tmp_path / "old.note"), "--key", pub)
    assert (code, "truncated" in err) == (1, True)


def test_an_edited_export_fails_offline(cli: Run, tmp_path: Path) -> None:
    run = cli
    key, pub = _setup(run, tmp_path)
    run("append", stdin=_lines(0, 5))
    run("checkpoint", "--key", key)
    run("append", stdin=_lines(5, 2))
    export = tmp_path / "export"
    code, out, _ = run("export", str(export), "--key", pub)
    assert "entries 5..6 are covered by no signed checkpoint" in out
    rows = (export / "entries.jsonl").read_text().splitlines()
    rows[1] = json.dumps({"index": 1, "data": base64.b64encode(b"x").decode()})
    (export / "entries.jsonl").write_text("\n".join(rows) + "\n")
    code, _, err = run("verify-export", str(export), "--key", pub)
    assert code == 1
    assert "entries 0..4 do not reproduce the signed checkpoint of size 5" in err
    del rows[3]
    (export / "entries.jsonl").write_text("\n".join(rows) + "\n")
    code, _, err = run("verify-export", str(export))
    assert (code, "entry 3 is missing" in err) == (1, True)


def test_a_proof_for_another_entry_fails(cli: Run, tmp_path: Path) -> None:
    run = cli
    key, pub = _setup(run, tmp_path)
    run("append", stdin=_lines(0, 3))
    _, out, _ = run("prove", "--index", "1", "--key", key)
    (tmp_path / "p").write_text(out)
    (tmp_path / "other").write_bytes(b"not the entry")
    code, _, err = run(
        "verify-proof", str(tmp_path / "p"), "--entry", str(tmp_path / "other"), "--key", pub
    )
    assert (code, "differs" in err) == (1, True)
    run("init", "--ledger", str(tmp_path / "empty.db"))
    code, _, err = run("prove", "--index", "2", "--ledger", str(tmp_path / "empty.db"))
    assert (code, "no stored checkpoint covers entry 2" in err) == (2, True)


def test_bad_input_appends_nothing(cli: Run) -> None:
    code, _, err = cli("append", stdin='{"kind": "note", "body": {}}\nnot json\n')
    assert code == 2
    assert "stdin line 2" in err
    code, _, err = cli("append", stdin='{"kind": "note", "body": {"x": 1.5}}\n')
    assert (code, "floats are not allowed" in err) == (2, True)
    assert cli("init")[1].strip() == "ledger ready: 0 entries"


def test_unreachable_database_is_exit_3(cli: Run) -> None:
    code, _, err = cli("init", "--ledger", "postgresql://nobody@127.0.0.1:1/x")
    assert code == 3
    assert "cannot open ledger" in err


def test_help_teaches_with_examples(cli: Run) -> None:
    code, out, _ = cli("verify", "--help")
    assert code == 0
    assert "examples:" in out
    assert "twokey ledger verify-export" in out

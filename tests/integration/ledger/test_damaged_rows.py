"""Rows edited into shapes the store never writes: a clear verify failure, never a crash (issue 14).

Every case runs on SQLite and PostgreSQL, through the command line, and asserts the exit code
(1: the log does not verify; never 3, which is an infrastructure failure) and the named fault.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Protocol

import pytest

from twokey.cli import main
from twokey.ledger import Ledger, generate_signer, open_ledger
from twokey.ledger._sql import SqlStore

SIGNER = generate_signer("damage.test")


class Run(Protocol):
    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]: ...


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, ledger_url: str
) -> Run:
    monkeypatch.setenv("TWOKEY_LEDGER", ledger_url)
    monkeypatch.delenv("TWOKEY_LEDGER_KEY", raising=False)
    assert main(["ledger", "init"]) == 0  # only `ledger init` creates a ledger (ADR 0016)
    capsys.readouterr()

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(["ledger", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _sql(ledger: Ledger, sql: str, params: tuple[Any, ...] = ()) -> None:
    store = ledger.store
    assert isinstance(store, SqlStore)
    store._exec(sql, params)


def _notes(start: int, count: int) -> str:
    return "".join(
        json.dumps({"kind": "note", "body": {"n": i}}) + "\n" for i in range(start, start + count)
    )


@pytest.fixture
def keys(tmp_path: Path) -> tuple[str, str]:
    key = tmp_path / "k"
    key.write_text(SIGNER.text() + "\n")
    pub = tmp_path / "k.pub"
    pub.write_text(SIGNER.verifier().text() + "\n")
    return str(key), str(pub)


def test_text_typed_entry_data_is_a_verify_failure_naming_the_entry(
    cli: Run, ledger_url: str, keys: tuple[str, str], tmp_path: Path
) -> None:
    key, pub = keys
    cli("append", stdin=_notes(0, 5))
    cli("checkpoint", "--key", key)
    with open_ledger(ledger_url) as ledger:
        if ledger_url.startswith("sqlite"):
            _sql(ledger, "UPDATE twokey_entries SET data = CAST(data AS TEXT) WHERE idx = 3")
        else:  # PostgreSQL's column is typed: the closest edit is a leaf hash that is no hash
            _sql(ledger, "UPDATE twokey_entries SET leaf = 'x'::bytea WHERE idx = 3")
    code, _, err = cli("verify", "--key", pub)
    assert code == 1, err
    assert "entry 3" in err
    code, _, err = cli("export", str(tmp_path / "out"), "--key", pub)
    assert code in (0, 1), err  # export copies bytes; it never crashes
    assert "Traceback" not in err


def test_text_typed_head_and_checkpoint_are_named(
    cli: Run, ledger_url: str, keys: tuple[str, str]
) -> None:
    if not ledger_url.startswith("sqlite"):
        pytest.skip("PostgreSQL types its columns; only SQLite stores a TEXT hash")
    key, pub = keys
    cli("append", stdin=_notes(0, 3))
    cli("checkpoint", "--key", key)
    with open_ledger(ledger_url) as ledger:
        _sql(ledger, "UPDATE twokey_checkpoints SET root = 'abc'")
    code, _, err = cli("verify", "--key", pub)
    assert (code, "root of checkpoint 3 is stored as str" in err) == (1, True), err
    with open_ledger(ledger_url) as ledger:
        _sql(ledger, "DELETE FROM twokey_checkpoints")
        _sql(ledger, "UPDATE twokey_head SET frontier = 'abc'")
    for argv in (
        ("verify", "--key", pub),
        ("checkpoint", "--key", key),
        ("prove", "--index", "0", "--key", key),
    ):
        code, _, err = cli(*argv)
        assert (code, "the tree head's frontier is stored as str" in err) == (1, True), argv


def test_a_deleted_head_row_is_named_and_the_next_append_rebuilds_it(
    cli: Run, ledger_url: str, keys: tuple[str, str], tmp_path: Path
) -> None:
    key, pub = keys
    cli("append", stdin=_notes(0, 7))
    cli("checkpoint", "--key", key)
    with open_ledger(ledger_url) as ledger:
        _sql(ledger, "DELETE FROM twokey_head")
    for argv in (
        ("verify", "--key", pub),
        ("checkpoint", "--key", key),
        ("export", str(tmp_path / "out"), "--key", pub),
        ("prove", "--index", "1"),
    ):
        code, _, err = cli(*argv)
        assert code == 1, (argv, err)
        assert "tree head row (twokey_head, id 1) is missing" in err, argv
    code, out, err = cli("append", stdin=_notes(7, 2))
    assert (code, out.split()) == (0, ["7", "8"]), err
    cli("checkpoint", "--key", key)
    code, out, err = cli("verify", "--key", pub)
    assert code == 0, err
    assert "9 entries verify" in out


def test_a_deleted_head_with_missing_entries_is_not_rebuilt(
    cli: Run, ledger_url: str, keys: tuple[str, str]
) -> None:
    cli("append", stdin=_notes(0, 4))
    with open_ledger(ledger_url) as ledger:
        _sql(ledger, "DELETE FROM twokey_head")
        _sql(ledger, "DELETE FROM twokey_entries WHERE idx = 1")
    code, _, err = cli("append", stdin=_notes(4, 1))
    assert (code, "cannot rebuild the head" in err) == (1, True), err

"""``twokey deploy verify``: every way a deploy authorization is refused, offline.

Authorizations are signed here with the library (``sign_authorization``), so expiry and
validity windows are tested with real signatures over past and future times, not a forged
clock; the command itself runs through ``twokey.cli.main``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from twokey.cli import main
from twokey.gateway import Authorization, sign_authorization
from twokey.ledger import NoteSigner, generate_signer

COMMIT = "c" * 40
ARTIFACT = "sha256:" + hashlib.sha256(b"app").hexdigest()


def _now() -> datetime:
    """Now, at each use: the verifier reads the real clock, so the tests do too."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return generate_signer("twokey-gateway")


def _auth(**changes: object) -> Authorization:
    fields: dict[str, object] = {
        "repository": "shop",
        "environment": "production",
        "commit": COMMIT,
        "artifact": ARTIFACT,
        "request": "d0123456789ab",
        "nonce": "0123456789abcdef" * 2,
        "issued": _now() - timedelta(minutes=1),
        "expires": _now() + timedelta(minutes=14),
    }
    fields.update(changes)
    return Authorization(**fields)  # type: ignore[arg-type]


class Verify:
    """Files for one run of ``twokey deploy verify``."""

    def __init__(self, tmp: Path, signer: NoteSigner) -> None:
        self.tmp = tmp
        self.key = tmp / "gateway.pub"
        self.key.write_text(signer.verifier().text() + "\n")
        self.note = tmp / "deploy.auth"
        self.seen = tmp / "seen"

    def run(self, note: str, *extra: str, **options: str) -> int:
        self.note.write_text(note)
        values = {
            "environment": "production",
            "commit": COMMIT,
            "artifact": ARTIFACT,
            "repository": "shop",
            **options,
        }
        args = ["deploy", "verify", "--authorization", str(self.note), "--key", str(self.key)]
        for name, value in values.items():
            args += [f"--{name}", value]
        args += ["--seen", str(self.seen), "--format", "json", *extra]
        return main(args)


@pytest.fixture
def verify(tmp_path: Path, signer: NoteSigner) -> Verify:
    return Verify(tmp_path, signer)


def _run(
    verify: Verify, note: str, capsys: pytest.CaptureFixture[str], **options: str
) -> tuple[int, str]:
    code = verify.run(note, **options)
    out = capsys.readouterr().out
    reason = json.loads(out).get("reason", "") if out.strip().startswith("{") else out
    return code, str(reason)


def test_a_valid_authorization_is_accepted_once(
    verify: Verify, signer: NoteSigner, capsys: pytest.CaptureFixture[str]
) -> None:
    note = sign_authorization(signer, _auth())
    assert _run(verify, note, capsys) == (0, "")
    code, reason = _run(verify, note, capsys)
    assert code == 1
    assert reason.startswith("replay:")
    assert verify.seen.read_text().count("\n") == 1


def test_without_a_journal_the_same_authorization_verifies_again(
    tmp_path: Path, signer: NoteSigner, capsys: pytest.CaptureFixture[str]
) -> None:
    """--seen is what stops replays: documented, and shown here."""
    key = tmp_path / "k.pub"
    key.write_text(signer.verifier().text())
    note = tmp_path / "a"
    note.write_text(sign_authorization(signer, _auth()))
    args = ["deploy", "verify", "--authorization", str(note), "--key", str(key)]
    args += ["--environment", "production", "--commit", COMMIT, "--artifact", ARTIFACT]
    assert main(args) == 0
    assert main(args) == 0
    assert "✓ authorized" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("option", "value", "reason"),
    [
        ("environment", "staging", "environment mismatch"),
        ("commit", "d" * 40, "commit mismatch"),
        ("artifact", "sha256:" + "0" * 64, "artifact mismatch"),
        ("repository", "other", "repository mismatch"),
    ],
)
def test_a_mismatch_is_refused(
    verify: Verify,
    signer: NoteSigner,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    reason: str,
) -> None:
    note = sign_authorization(signer, _auth())
    code, why = _run(verify, note, capsys, **{option: value})
    assert code == 1
    assert why.startswith(reason)
    assert not verify.seen.exists() or verify.seen.read_text() == ""  # a refusal uses no nonce


def test_expired_and_not_yet_valid_are_refused(
    verify: Verify, signer: NoteSigner, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _auth(issued=_now() - timedelta(minutes=30), expires=_now() - timedelta(minutes=15))
    code, why = _run(verify, sign_authorization(signer, old), capsys)
    assert (code, why.split(" at ")[0]) == (1, "expired")
    future = _auth(issued=_now() + timedelta(minutes=10), expires=_now() + timedelta(minutes=25))
    code, why = _run(verify, sign_authorization(signer, future), capsys)
    assert (code, why.split(":")[0]) == (1, "not yet valid")


def test_the_skew_is_small_and_bounded(
    verify: Verify, signer: NoteSigner, capsys: pytest.CaptureFixture[str]
) -> None:
    """Expired 30 s ago: still inside the 60 s skew; expired 2 min ago: refused."""
    recent = _auth(issued=_now() - timedelta(minutes=15), expires=_now() - timedelta(seconds=30))
    assert _run(verify, sign_authorization(signer, recent), capsys)[0] == 0
    stale = _auth(
        nonce="f" * 32, issued=_now() - timedelta(minutes=17), expires=_now() - timedelta(minutes=2)
    )
    assert _run(verify, sign_authorization(signer, stale), capsys)[0] == 1


def test_another_key_is_refused(verify: Verify, capsys: pytest.CaptureFixture[str]) -> None:
    other = generate_signer("twokey-gateway")  # same name, another key
    code, why = _run(verify, sign_authorization(other, _auth()), capsys)
    assert code == 1
    assert why.startswith("bad signature: note is not signed by twokey-gateway+")


def test_every_tampered_byte_is_refused(
    verify: Verify, signer: NoteSigner, capsys: pytest.CaptureFixture[str]
) -> None:
    note = sign_authorization(signer, _auth())
    text_end = note.index("\n\n")
    for at in range(len("twokey"), text_end, 7):  # a byte of every field
        if note[at] == "\n":
            continue
        flipped = note[:at] + chr(ord(note[at]) ^ 1) + note[at + 1 :]
        code, why = _run(verify, flipped, capsys)
        assert code == 1, (at, note[at])
        assert why, at
    signature = note.rindex(" ") + 10  # a byte of the signature itself
    flipped = note[:signature] + ("A" if note[signature] != "A" else "B") + note[signature + 1 :]
    assert _run(verify, flipped, capsys)[0] == 1
    assert not verify.seen.exists() or verify.seen.read_text() == ""


def test_a_signed_note_that_is_not_an_authorization_is_refused(
    verify: Verify, signer: NoteSigner, capsys: pytest.CaptureFixture[str]
) -> None:
    """A checkpoint the same key signs is no authorization (the first line differs)."""
    from twokey.ledger import sign_note  # noqa: PLC0415

    checkpoint = sign_note("twokey-gateway\n5\n" + "A" * 43 + "=\n", signer)
    code, why = _run(verify, checkpoint, capsys)
    assert code == 1
    assert why.startswith("not a deploy authorization")


@pytest.mark.parametrize(
    ("what", "content"),
    [("empty", ""), ("binary", "\udcff"), ("huge", "x" * 70000), ("garbage", "hello\n")],
)
def test_bad_input_is_refused_or_a_usage_error(
    verify: Verify, capsys: pytest.CaptureFixture[str], what: str, content: str
) -> None:
    if what == "binary":
        verify.note.write_bytes(b"\xff\xfe")
        args = ["deploy", "verify", "--authorization", str(verify.note), "--key", str(verify.key)]
        args += ["--environment", "p", "--commit", COMMIT, "--artifact", ARTIFACT]
        assert main(args) == 2
        return
    code, _ = _run(verify, content, capsys)
    assert code == (2 if what == "huge" else 1)


def test_a_bad_key_file_is_a_usage_error(
    verify: Verify, signer: NoteSigner, capsys: pytest.CaptureFixture[str]
) -> None:
    verify.key.write_text("not a key\n")
    code = verify.run(sign_authorization(signer, _auth()))
    assert code == 2
    assert "--key" in capsys.readouterr().err

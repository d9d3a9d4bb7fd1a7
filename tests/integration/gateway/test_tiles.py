"""The gateway's ledger as C2SP tlog-tiles at ``/ledger/v1/``, on SQLite and PostgreSQL:
``twokey ledger verify --url`` follows it after decisions (and after it grows past a full
tile), unauthenticated; a checkpoint is signed by the gateway's key when the log has grown; a
verifier holding another key, or a state from a longer log (a rollback), refuses it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.gateway._api import MAIN, Api, running_api
from tests.integration.git._harness import Keys
from twokey.cli import main
from twokey.ledger import Checkpoint, NoteSigner, generate_signer, open_ledger, sign_note


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, keys: Keys
) -> Iterator[Api]:
    """One gateway per engine for the whole module."""
    with running_api(tmp_path_factory.mktemp("tiles"), keys, request.param) as running:
        yield running


def decide(api: Api, count: int) -> None:
    body = {"ref": MAIN, "old": api.commit("P"), "new": api.commit("Y")}
    with api.gateway.client(api.token) as http:
        for _ in range(count):
            assert http.post("/v1/checks", json=body).status_code == 200


def public_key(api: Api, tmp_path: Path) -> Path:
    with api.gateway.client() as http:
        answer = http.get("/v1/ledger/key")
    assert answer.status_code == 200
    path = tmp_path / "gateway.pub"
    path.write_text(answer.text)
    return path


def verify(api: Api, key: Path, *extra: str) -> int:
    url = f"{api.gateway.url}/ledger/v1/"
    return main(["ledger", "verify", "--url", url, "--key", str(key), *extra])


def test_verify_follows_the_served_log_as_it_grows(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decide(api, 3)
    key = public_key(api, tmp_path)
    state = tmp_path / "ledger.state"
    assert verify(api, key, "--state", str(state)) == 0
    first = state.read_text()
    with open_ledger(api.database) as ledger:
        ledger.append_raw([b"filler %d" % i for i in range(300)])  # past one full tile
    decide(api, 2)
    assert verify(api, key, "--state", str(state)) == 0
    assert state.read_text() != first
    with api.gateway.client() as http:
        checkpoint = http.get("/ledger/v1/checkpoint")
        full = http.get("/ledger/v1/tile/0/000")
    assert checkpoint.status_code == 200
    lines = checkpoint.text.splitlines()
    assert lines[0] == "twokey-gateway"
    with open_ledger(api.database) as ledger:
        assert int(lines[1]) == ledger.size()
    assert full.status_code == 200
    assert len(full.content) == 256 * 32
    assert "immutable" in full.headers["cache-control"]
    capsys.readouterr()


def test_another_key_is_refused(api: Api, tmp_path: Path) -> None:
    decide(api, 1)
    other = tmp_path / "other.pub"
    other.write_text(generate_signer("twokey-gateway").verifier().text() + "\n")
    assert verify(api, other) != 0


def test_a_rolled_back_log_is_refused(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: the server shows an auditor a shorter log than it showed (and signed) before."""
    decide(api, 1)
    key = public_key(api, tmp_path)
    with open_ledger(api.database) as ledger:
        size = ledger.size()
    signer = NoteSigner.parse((api.gateway.data / "ledger.key").read_text())
    longer = Checkpoint(signer.name, size + 50, b"\x07" * 32)  # what it showed before
    state = tmp_path / "ledger.state"
    state.write_text(sign_note(longer.body(), signer))
    capsys.readouterr()
    assert verify(api, key, "--state", str(state)) != 0
    assert "rolled back or forked" in capsys.readouterr().err


def test_paths_outside_the_log_are_404(api: Api) -> None:
    with api.gateway.client() as http:
        for path in ("tile/0/999", "tile/9/000", "nonsense", "tile/entries/x", "../gateway.db"):
            assert http.get(f"/ledger/v1/{path}").status_code == 404, path

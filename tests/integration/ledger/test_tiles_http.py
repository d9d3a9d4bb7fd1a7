"""The ledger as C2SP tlog-tiles over real HTTP, on SQLite and PostgreSQL.

Two servers: ``python -m http.server`` over the directory ``twokey ledger tiles --out`` wrote
(a static web server), and a Starlette app whose route is a five-line wrapper around
:func:`twokey.ledger.tile` (what the gateway mounts at ``/ledger/v1/``), run by uvicorn on a
random port. ``twokey ledger verify --url`` follows both, and refuses every attack.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from twokey.cli import main
from twokey.errors import InfrastructureError, UsageError
from twokey.ledger import (
    EMPTY_ROOT,
    Checkpoint,
    LedgerCorruptError,
    NoteSigner,
    TileError,
    generate_signer,
    open_ledger,
    root,
    sign_note,
    tile,
    write_tiles,
)

SIGNER = generate_signer("ledger.test")
Serve = Callable[[Path], str]


@pytest.fixture
def serve_directory() -> Iterator[Serve]:
    """Start ``python -m http.server`` on a random port over a directory; its URL."""
    servers: list[subprocess.Popen[str]] = []

    def start(directory: Path) -> str:
        server = subprocess.Popen(
            [sys.executable, "-u", "-m", "http.server", "0", "-b", "127.0.0.1", "-d", directory],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        servers.append(server)
        assert server.stdout is not None
        match = re.search(r"port (\d+)", server.stdout.readline())
        assert match, "http.server did not say its port"
        return f"http://127.0.0.1:{match.group(1)}/"

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=10)


def _app(ledger_url: str) -> Starlette:
    def endpoint(request: Request) -> Response:
        with open_ledger(ledger_url) as ledger:
            found = tile(ledger, request.path_params["path"])
        if found is None:
            return Response(status_code=404)
        headers = {"Cache-Control": found.cache_control}
        return Response(found.body, media_type=found.content_type, headers=headers)

    return Starlette(routes=[Route("/ledger/v1/{path:path}", endpoint)])


@pytest.fixture
def serve_ledger() -> Iterator[Callable[[str], str]]:
    """Serve a ledger through :func:`tile` with uvicorn on a random port; the prefix URL."""
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(ledger_url: str) -> str:
        config = uvicorn.Config(_app(ledger_url), host="127.0.0.1", port=0, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        running.append((server, thread))
        return f"http://127.0.0.1:{port}/ledger/v1/"

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=10)


def _grow(ledger_url: str, count: int, signer: NoteSigner = SIGNER, tag: str = "e") -> None:
    """Append ``count`` entries and sign a checkpoint of the log."""
    with open_ledger(ledger_url) as ledger:
        start = ledger.size()
        datas = [f'{{"{tag}":{start + i}}}'.encode() for i in range(count)]
        for at in range(0, count, 1000):
            ledger.append_raw(datas[at : at + 1000])
        ledger.checkpoint(signer)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["ledger", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def key(tmp_path: Path) -> str:
    path = tmp_path / "ledger.key.pub"
    path.write_text(SIGNER.verifier().text() + "\n")
    return str(path)


def _publish(ledger_url: str, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text, err = _run(capsys, "tiles", "--ledger", ledger_url, "--out", str(out))
    assert code == 0, err
    assert f"to {out}" in text


def test_follow_a_static_copy_as_the_log_grows(
    ledger_url: str,
    tmp_path: Path,
    key: str,
    serve_directory: Serve,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _grow(ledger_url, 600)
    out = tmp_path / "public"
    _publish(ledger_url, out, capsys)
    url = serve_directory(out)
    state = tmp_path / "follow.state"
    verify = ("verify", "--url", url, "--key", key, "--state", str(state), "--format", "json")
    code, text, err = _run(capsys, *verify)
    assert code == 0, err
    report = json.loads(text)
    assert (report["size"], report["tiles"], report["bundles"]) == (600, 4, 3)
    assert (report["previous"], report["proved"]) == (None, "signed")
    assert state.read_bytes() == (out / "checkpoint").read_bytes()
    _grow(ledger_url, 300)
    _publish(ledger_url, out, capsys)
    code, text, err = _run(capsys, *verify)
    assert code == 0, err
    assert (json.loads(text)["size"], json.loads(text)["previous"]) == (900, 600)


def test_follow_the_ledger_served_by_tile(
    ledger_url: str,
    key: str,
    serve_ledger: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _grow(ledger_url, 600)
    with open_ledger(ledger_url) as ledger:
        ledger.append_raw([b'{"unsigned":1}'])  # beyond the checkpoint: never served
        signed_root = ledger.root_at(600)
    prefix = serve_ledger(ledger_url)
    code, text, err = _run(capsys, "verify", "--url", prefix, "--key", key)
    assert code == 0, err
    assert "600 entries reproduce the checkpoint signed by ledger.test+" in text
    with httpx.Client(base_url=prefix) as client:
        _check_headers(client)
        level0 = b"".join(client.get(p).content for p in ("tile/0/000", "tile/0/001"))
        level0 += client.get("tile/0/002.p/88").content
    hashes = [level0[i : i + 32] for i in range(0, len(level0), 32)]
    assert root(hashes) == signed_root  # the tiles give the ledger's root


def _check_headers(client: httpx.Client) -> None:
    checkpoint = client.get("checkpoint")
    assert checkpoint.headers["content-type"] == "text/plain; charset=utf-8"
    assert checkpoint.headers["cache-control"] == "no-cache"
    full = client.get("tile/entries/000")
    assert full.headers["content-type"] == "application/octet-stream"
    assert "immutable" in full.headers["cache-control"]
    assert client.get("tile/1/000.p/2").headers["cache-control"] == "public, max-age=60"
    for missing in ("tile/0/002", "tile/0/002.p/89", "tile/entries/002.p/89", "tile/0/x000/001"):
        assert client.get(missing).status_code == 404, missing


def test_nothing_is_served_before_the_first_checkpoint(ledger_url: str) -> None:
    with open_ledger(ledger_url) as ledger:
        ledger.append_raw([b"a", b"b"])
        assert tile(ledger, "checkpoint") is None
        assert tile(ledger, "tile/0/000.p/2") is None
        with pytest.raises(UsageError, match="no signed checkpoint"):
            write_tiles(ledger, Path("/nonexistent"))


def test_an_entry_too_long_for_a_bundle_is_a_clear_error(ledger_url: str, tmp_path: Path) -> None:
    """A uint16 length cannot say 65,536: that bundle is refused, the hash tiles still serve
    (a witness needs only those), and no checkpoint is published over a missing bundle."""
    with open_ledger(ledger_url) as ledger:
        ledger.append_raw([b"small", b"x" * 65_536])
        ledger.checkpoint(SIGNER)
        with pytest.raises(TileError, match="entry 1 is 65536 bytes"):
            tile(ledger, "tile/entries/000.p/2")
        found = tile(ledger, "tile/0/000.p/2")
        assert found is not None
        assert len(found.body) == 64
        with pytest.raises(TileError, match="entry 1 is 65536 bytes"):
            write_tiles(ledger, tmp_path / "public")
    assert not (tmp_path / "public" / "checkpoint").exists()


# -- attacks on a static copy (SQLite: the files are attacked, not the store) ------------


@dataclass(frozen=True)
class Published:
    """A 600-entry SQLite ledger published to ``tmp/public``, and what the tests need."""

    ledger_url: str
    public: Path
    tmp: Path
    key: str
    serve: Serve
    capsys: pytest.CaptureFixture[str]

    def verify(self, *argv: str) -> tuple[int, str, str]:
        return _run(self.capsys, "verify", "--key", self.key, *argv)


@pytest.fixture
def published(
    tmp_path: Path, key: str, serve_directory: Serve, capsys: pytest.CaptureFixture[str]
) -> Published:
    ledger_url = f"sqlite://{tmp_path / 'ledger.db'}"
    _grow(ledger_url, 600)
    _publish(ledger_url, tmp_path / "public", capsys)
    return Published(ledger_url, tmp_path / "public", tmp_path, key, serve_directory, capsys)


def _other_log(
    tmp_path: Path,
    name: str,
    capsys: pytest.CaptureFixture[str],
    signer: NoteSigner = SIGNER,
    tag: str = "other",
) -> Path:
    ledger_url = f"sqlite://{tmp_path / (name + '.db')}"
    _grow(ledger_url, 600, signer, tag)
    _publish(ledger_url, tmp_path / name, capsys)
    return tmp_path / name


def _flip(path: Path, at: int = 40) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 1
    path.write_bytes(bytes(data))


def test_attacks_on_the_served_files_are_refused(published: Published) -> None:
    other = _other_log(published.tmp, "other", published.capsys)
    another_key = generate_signer("ledger.test")
    foreign = _other_log(published.tmp, "foreign", published.capsys, another_key, "e")
    attacks: list[tuple[str, Callable[[Path], object], str]] = [
        ("tampered entry bundle", lambda d: _flip(d / "tile/entries/001"), "tile/0/001 does not"),
        (
            "tile of another log",
            lambda d: shutil.copy(other / "tile/0/000", d / "tile/0/000"),
            "tile/0/000 does not match",
        ),
        (
            "partial tile at a wrong width",
            lambda d: (d / "tile/0/002.p/88").write_bytes(
                (d / "tile/0/002.p/88").read_bytes()[:-32]
            ),
            "tile/0/002.p/88 is 2784 bytes, not 88 hashes",
        ),
        (
            "checkpoint signed by another key",
            lambda d: shutil.copy(foreign / "checkpoint", d / "checkpoint"),
            "not signed by ledger.test+",
        ),
        (
            "a response larger than a tile",
            lambda d: (d / "tile/1/000.p/2").write_bytes(b"\0" * 8193),
            "tile/1/000.p/2 is larger than 8192 bytes",
        ),
    ]
    for name, change, message in attacks:
        copy = published.tmp / f"attack-{name.replace(' ', '-')}"
        shutil.copytree(published.public, copy)
        change(copy)
        code, _, err = published.verify("--url", published.serve(copy))
        assert (code, message in err) == (1, True), f"{name}: {err}"


def test_a_shrunk_or_forked_log_is_refused_against_the_state(published: Published) -> None:
    tmp, capsys = published.tmp, published.capsys
    shrunk = tmp / "shrunk"
    shutil.copytree(published.public, shrunk)  # the 600-entry log, published before it grew
    _grow(published.ledger_url, 100)
    _publish(published.ledger_url, published.public, capsys)
    state = tmp / "follow.state"
    follow = ("--state", str(state), "--url")
    assert published.verify(*follow, published.serve(published.public))[0] == 0
    saved = state.read_bytes()
    code, _, err = published.verify(*follow, published.serve(shrunk))
    assert (code, "smaller than the 700 verified before" in err) == (1, True), err
    forked_url = f"sqlite://{tmp / 'forked.db'}"
    _grow(forked_url, 700, tag="forked")  # the same key signs another history
    _publish(forked_url, tmp / "forked", capsys)
    code, _, err = published.verify(*follow, published.serve(tmp / "forked"))
    assert (code, "the log forked" in err) == (1, True), err
    _grow(forked_url, 50, tag="forked")
    _publish(forked_url, tmp / "forked", capsys)
    code, _, err = published.verify(*follow, published.serve(tmp / "forked"))
    assert (code, "checkpoint of size 700 verified before" in err) == (1, True), err
    assert state.read_bytes() == saved  # a refused log never becomes the new state


def test_bad_invocations_and_an_unreachable_server(
    tmp_path: Path, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "http://127.0.0.1:9/"  # discard port: nothing listens
    assert _run(capsys, "verify", "--url", url)[0] == 2  # no key
    assert _run(capsys, "verify", "--url", "ftp://x/", "--key", key)[0] == 2
    assert _run(capsys, "verify", "--url", url, "--key", key, "--since", key)[0] == 2
    code, _, err = _run(capsys, "verify", "--url", url, "--key", key)
    assert (code, "cannot fetch checkpoint" in err) == (3, True), err
    state = tmp_path / "foreign.state"
    other = generate_signer("ledger.test")  # the same name, another key
    state.write_text(sign_note(Checkpoint("ledger.test", 0, EMPTY_ROOT).body(), other))
    code, _, err = _run(capsys, "verify", "--url", url, "--key", key, "--state", str(state))
    assert (code, "does not hold a checkpoint signed by the key" in err) == (1, True), err


def test_a_damaged_store_is_named_not_served(tmp_path: Path) -> None:
    ledger_url = f"sqlite://{tmp_path / 'ledger.db'}"
    _grow(ledger_url, 600)
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        db.execute("DELETE FROM twokey_nodes WHERE level = 8 AND idx = 1")
        db.execute("DELETE FROM twokey_entries WHERE idx = 300")
    with open_ledger(ledger_url) as ledger:
        with pytest.raises(InfrastructureError, match="level-8 hash 1 is missing"):
            tile(ledger, "tile/1/000.p/2")
        for path in ("tile/0/001", "tile/entries/001"):
            with pytest.raises(InfrastructureError, match="300 is missing"):
                tile(ledger, path)
        assert tile(ledger, "tile/0/000") is not None  # the rest still serves
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        db.execute("UPDATE twokey_checkpoints SET size = 700")
    with (
        open_ledger(ledger_url) as ledger,
        pytest.raises(LedgerCorruptError, match="says size 600 but is stored as 700"),
    ):
        tile(ledger, "tile/0/000")


def test_ledger_tiles_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger_url = f"sqlite://{tmp_path / 'ledger.db'}"
    with open_ledger(ledger_url) as ledger:
        ledger.append_raw([b"a"])
    out = str(tmp_path / "public")
    code, _, err = _run(capsys, "tiles", "--ledger", ledger_url, "--out", out)
    assert (code, "no signed checkpoint" in err) == (2, True), err
    _grow(ledger_url, 299)
    code, text, err = _run(
        capsys, "tiles", "--ledger", ledger_url, "--out", out, "--format", "json"
    )
    assert code == 0, err
    assert json.loads(text) == {"size": 300, "tiles": 3, "bundles": 2, "directory": out}
    files = sorted(str(p.relative_to(out)) for p in Path(out).rglob("*") if p.is_file())
    assert files == [
        "checkpoint",
        "tile/0/000",
        "tile/0/001.p/44",
        "tile/1/000.p/1",
        "tile/entries/000",
        "tile/entries/001.p/44",
    ]

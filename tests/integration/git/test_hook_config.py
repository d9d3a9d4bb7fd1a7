"""In hook mode configuration comes from the server repository's git config, never from the
pusher's environment (issue 15 item 15, ADR 0013). Over the local transport the pusher's
environment reaches the hook, so these pushes try exactly that."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.git._harness import NOW, Server, push
from tests.support.gitrepo import ALICE
from twokey.doors._client import recv_fields, send_fields
from twokey.doors._hook import run_hook
from twokey.evidence import GitEvidenceStore, sign_approval
from twokey.ledger import open_ledger


def _entries(url: Path) -> int:
    with open_ledger(str(url)) as log:
        return len(list(log.entries()))


def test_the_pusher_cannot_redirect_the_ledger(server: Server, tmp_path: Path) -> None:
    real = tmp_path / "real.db"
    server.bare.git("config", "twokey.ledger", str(real))
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    theirs = tmp_path / "theirs.db"
    env = {
        "TWOKEY_LEDGER": str(theirs),
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "twokey.ledger",
        "GIT_CONFIG_VALUE_0": str(theirs),
    }
    assert not push(alice, "main", env=env).accepted
    assert not theirs.exists()
    assert _entries(real) == 1


def test_the_pusher_cannot_rename_the_repository(server: Server) -> None:
    """Approvals are bound to the repository id: an injected ``twokey.repository`` would
    make an approval signed for another repository count here."""
    alice = server.clone(ALICE)
    head = alice.commit({"app.py": "x\n"}, "Change", ALICE)
    envelope = sign_approval(
        server.keys.signers["bob"],
        repository="elsewhere",
        ref="refs/heads/main",
        commit=head,
        tree=alice.rev_parse("HEAD^{tree}"),
        when=NOW,
    )
    ref = GitEvidenceStore(alice.path / ".git").put(envelope, head)
    assert push(alice, "HEAD:refs/heads/topic", ref).accepted  # the objects, on a side ref
    # git drops GIT_CONFIG_* when it spawns receive-pack for the local transport; an sshd
    # with ``AcceptEnv GIT_*`` passes them on: the hook is run with such an environment.
    env = {
        **os.environ,
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "twokey.repository",
        "GIT_CONFIG_VALUE_0": "elsewhere",
    }
    line = f"{server.head()} {head} refs/heads/main\n"
    outcome = run_hook(server.bare.path, line, env, NOW)
    assert not outcome.allowed
    (judgement,) = outcome.judgements
    assert "elsewhere" in str(judgement.decision.to_dict())


@pytest.fixture
def fake_server(tmp_path: Path) -> Iterator[Path]:
    """A socket of the pusher's that answers every hook run with "allowed"."""
    path = tmp_path / "fake.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(4)
    listener.settimeout(0.2)
    stop = threading.Event()

    def answer() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                recv_fields(conn)
                send_fields(conn, ["0", "allowed by a fake server\n"])

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    yield path
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_the_pusher_cannot_name_the_hook_server(server: Server, fake_server: Path) -> None:
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Unapproved", ALICE)
    result = push(alice, "main", env={"TWOKEY_HOOK_SOCKET": str(fake_server)})
    assert not result.accepted
    assert "allowed by a fake server" not in result.output
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}

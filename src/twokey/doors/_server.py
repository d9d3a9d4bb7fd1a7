"""``twokey hook serve``: a warm process that judges pushes for the installed hooks.

It imports the engine, the policy loader and the verifiers once, listens on a Unix socket, and
forks one child per push; the child runs exactly what the in-process hook runs (``run_hook``)
with the hook's environment and working directory, so decisions cannot differ. Only processes
of the server's own user may connect (``SO_PEERCRED``): the socket answers questions about
repositories that user can read.
"""

from __future__ import annotations

__all__ = ["serve"]

import io
import os
import signal
import socket
import struct
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from twokey.doors._client import recv_fields, send_fields
from twokey.errors import ExitCode, UsageError

_CRED = struct.Struct("3i")  # struct ucred: pid, uid, gid (unix(7), SO_PEERCRED)


def serve(path: Path, *, ready: Callable[[], None] | None = None) -> None:
    """Serve hook runs on the Unix socket ``path`` until interrupted.

    Raises:
        UsageError: the socket cannot be created.
    """
    _preload()
    server = _listen(path)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    if ready is not None:
        ready()
    try:
        while True:
            conn, _ = server.accept()
            if os.fork() == 0:  # child: one push, then exit
                server.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os._exit(_child(conn))
            conn.close()
    finally:
        server.close()
        path.unlink(missing_ok=True)


def _preload() -> None:
    """Import everything a hook run needs, so that each forked child starts warm."""
    import twokey.doors._formats._text  # noqa: PLC0415
    import twokey.doors._hook  # noqa: PLC0415
    import twokey.engine  # noqa: PLC0415
    import twokey.evidence  # noqa: PLC0415
    import twokey.ledger  # noqa: PLC0415
    import twokey.policy  # noqa: PLC0415

    twokey.engine.preload()  # its names load on first use (ADR 0040)


def _listen(path: Path) -> socket.socket:
    try:
        path.unlink(missing_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket is created 0600: the server's user only
        try:
            server.bind(str(path))
        finally:
            os.umask(old)
        server.listen(64)
    except OSError as exc:
        raise UsageError(f"cannot listen on {path}: {exc.strerror}") from exc
    return server


def _child(conn: socket.socket) -> int:
    with conn:
        try:
            pid, uid, gid = _CRED.unpack(
                conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size)
            )
            del pid, gid
            if uid != os.getuid():
                return 1  # not our user: no answer at all
            request = recv_fields(conn)
            code, output = _judge(request)
            send_fields(conn, [str(code), output])
        except OSError:
            return 1
    return 0


def _judge(request: list[str]) -> tuple[int, str]:
    """Run the hook as the client would have: its directory, its environment, its input."""
    from twokey.doors._entry import hook_main  # noqa: PLC0415

    if len(request) < 2 or any("=" not in item for item in request[2:]):
        return ExitCode.INTERNAL, "twokey: push refused: malformed request to the hook server\n"
    cwd, stdin = request[0], request[1]
    try:
        os.chdir(cwd)
    except OSError as exc:
        return ExitCode.INTERNAL, f"twokey: push refused: {cwd}: {exc.strerror}\n"
    os.environ.clear()
    os.environ.update({k: v for k, _, v in (item.partition("=") for item in request[2:])})
    out = io.StringIO()
    code = hook_main(io.StringIO(stdin), out, now=datetime.now(UTC))
    return code, out.getvalue()

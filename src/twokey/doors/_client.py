"""The hook's fast path: hand the push to a warm ``twokey hook serve`` process, if one runs.

Importing the engine, the policy loader and the verifiers costs a cold Python process more than
the hook's time budget on a slow machine; a server that has them loaded forks one child per
push instead (``_server``). This module imports only the standard library. When no server
answers, the caller runs the hook in-process: slower, same decision (never an allow by
accident: a broken exchange is an error, and the hook then decides by itself).
"""

from __future__ import annotations

__all__ = ["forward", "recv_fields", "send_fields"]

import os
import socket
import struct

# Not ``typing.TYPE_CHECKING``: the hook's fast path avoids importing typing (~20 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import TextIO

_HEADER = struct.Struct("!I")
MAX_MESSAGE = 64 << 20


def send_fields(sock: socket.socket, fields: Sequence[str]) -> None:
    """One length-prefixed message of NUL-separated UTF-8 fields.

    Not JSON: importing json (and re) would cost the hook's fast path ~15 ms. No field of a
    request or reply can hold a NUL (paths, environment entries, ref lines, the report).
    """
    if any("\0" in f for f in fields):
        raise OSError("a field holds a NUL byte")
    body = "\0".join(fields).encode("utf-8", errors="surrogateescape")
    sock.sendall(_HEADER.pack(len(body)) + body)


def recv_fields(sock: socket.socket) -> list[str]:
    """Read one message; raises ``OSError`` when the peer breaks off or sends too much."""
    (size,) = _HEADER.unpack(_exact(sock, _HEADER.size))
    if size > MAX_MESSAGE:
        raise OSError(f"message of {size} bytes is too large")
    return _exact(sock, size).decode("utf-8", errors="surrogateescape").split("\0")


def _exact(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise OSError("connection closed early")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def forward(
    stdin: TextIO, out: TextIO, path: str, env: Mapping[str, str] | None = None
) -> int | None:
    """Send this hook run to the server listening on ``path``.

    ``path`` comes from the installed hook script (``hook install --server-socket``), never
    from the environment: over some transports the pusher sets the hook's environment, and a
    socket of theirs could answer "allowed" (ADR 0013).

    Returns the exit code for git, or None when no server is configured or reachable (the
    caller then judges in-process, reading ``stdin`` itself: nothing was consumed).
    """
    env = os.environ if env is None else env
    if not path:
        return None
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
    except OSError:
        return None
    with sock:
        request = [os.getcwd(), stdin.read(), *(f"{k}={v}" for k, v in env.items())]
        try:
            send_fields(sock, request)
            code_text, text = recv_fields(sock)
            code = int(code_text)
        except (OSError, ValueError) as exc:
            print(f"twokey: push refused: the hook server failed: {exc}", file=out)
            return 3
    out.write(text)
    out.flush()
    return code

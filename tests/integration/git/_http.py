"""``git http-backend`` behind a tiny WSGI server on 127.0.0.1 that authenticates the pusher.

The server plays the web server of a real git host: HTTP Basic authentication (any password:
the point is the identity it hands on), then git-http-backend(1) as a CGI with ``REMOTE_USER``
set to the authenticated user. Nothing of the client's environment reaches the hook.
"""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        del format, args


def _app(root: Path) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        user = _basic_user(environ.get("HTTP_AUTHORIZATION", ""))
        if user is None:
            start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="git"')])
            return [b"authentication required\n"]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        cgi_env = {
            "PATH": os.environ["PATH"],
            "GIT_PROJECT_ROOT": str(root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REMOTE_USER": user,
            "REMOTE_ADDR": "127.0.0.1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            **{
                k: str(environ.get(k, ""))
                for k in ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE")
            },
            "CONTENT_LENGTH": str(len(body)),
        }
        cgi_env |= {k: str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        out = subprocess.run(
            ["git", "http-backend"], input=body, capture_output=True, env=cgi_env, check=False
        ).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        headers = [tuple(h.split(": ", 1)) for h in head.decode().split("\r\n") if ": " in h]
        status = next((v for k, v in headers if k.lower() == "status"), "200 OK")
        start_response(status, [(k, v) for k, v in headers if k.lower() != "status"])
        return [payload]

    return app


def _basic_user(header: str) -> str | None:
    if not header.startswith("Basic "):
        return None
    user, _, _ = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
    return user or None


@contextmanager
def http_git(root: Path) -> Iterator[str]:
    """Serve the repositories under ``root``; yields ``http://127.0.0.1:<port>``."""
    server: WSGIServer = make_server("127.0.0.1", 0, _app(root), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

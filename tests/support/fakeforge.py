"""A fake forge for tests: a real HTTP server on 127.0.0.1 that answers recorded or scripted
exchanges and records every call it receives.

Recorded exchanges (octokit/fixtures' normalized recordings in
``shared/forge-payloads/github-api/``, found through the ``shared`` fixture) are loaded with
:meth:`FakeForge.load_recording`:
``https://api.github.com`` in their headers and bodies becomes this server's URL, so ``Link``
headers lead back here. Scripted answers (:meth:`FakeForge.answer`) cover what the recordings
lack: reviews, deployment protection rule callbacks, GitLab approvals, a 5xx then a success,
a 403 rate limit with ``Retry-After``, a slow answer.

A request is matched on its method, its path, its query parameters (in any order) and, when
the route names one, its JSON body. Several answers for one route are given in turn; the last
one is repeated. A request that matches nothing gets a 404 and is recorded too.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_RECORDED_ORIGIN = "https://api.github.com"


@dataclass(frozen=True)
class Answer:
    """One answer: status, JSON (or raw bytes) body, headers, and a delay before it; ``hold``:
    an event the answer waits for (at most ``HOLD_LIMIT`` seconds), so a test decides when the
    forge answers instead of guessing how long the code under test takes."""

    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hold: threading.Event | None = field(default=None, compare=False)


HOLD_LIMIT = 30.0  # seconds a held answer waits at most (a test that forgets to release it)


@dataclass(frozen=True)
class Call:
    """One request the fake forge received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any

    @property
    def json(self) -> Any:
        """The request body as JSON (None when empty)."""
        return self.body


Query = tuple[tuple[str, str], ...]


def _key(method: str, target: str) -> tuple[tuple[str, str], Query | None]:
    """``(method, path)`` and the sorted query (None when the target has no ``?``: any)."""
    parts = urlsplit(target)
    query = tuple(sorted(parse_qsl(parts.query))) if "?" in target else None
    return (method.upper(), parts.path.rstrip("/") or "/"), query


class FakeForge:
    """The server; use :func:`running_forge` to start and stop it."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix.rstrip("/")  # e.g. /api/v4 for GitLab
        self.calls: list[Call] = []
        self._routes: dict[tuple[str, str], list[_Route]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.url = self.origin + self.prefix

    def answer(self, method: str, target: str, *answers: Answer, body: Any = None) -> FakeForge:
        """Answer ``method target`` (path and query, without the prefix) with ``answers`` in
        turn. A target without ``?`` matches any query; a ``body`` given must be the
        request's JSON."""
        key, query = _key(method, self.prefix + target)
        route = _Route(body, query, list(answers) or [Answer()])
        with self._lock:
            self._routes.setdefault(key, []).append(route)
        return self

    def load_recording(self, path: Path) -> list[dict[str, Any]]:
        """Serve the recorded exchanges of ``path`` (``github-api/<name>.json``); returns them."""
        exchanges: list[dict[str, Any]] = json.loads(path.read_text())
        for exchange in exchanges:
            text = json.dumps(exchange["response"]).replace(_RECORDED_ORIGIN, self.origin)
            headers = {
                k: str(v).replace(_RECORDED_ORIGIN, self.origin)
                for k, v in exchange["headers"].items()
                if k.lower() not in {"content-length", "transfer-encoding", "connection"}
            }
            body = exchange["body"] or None
            self.answer(
                exchange["method"],
                exchange["path"],
                Answer(exchange["status"], json.loads(text), headers),
                body=body,
            )
        return exchanges

    def calls_to(self, method: str, path: str) -> list[Call]:
        """The calls received for ``method path`` (path without query and prefix)."""
        full = self.prefix + path
        return [c for c in self.calls if c.method == method.upper() and c.path == full]

    def _find(self, method: str, target: str, body: Any) -> Answer:
        key, query = _key(method, target)
        with self._lock:
            routes = self._routes.get(key, [])
            # A route naming this exact query wins over one that takes any query.
            for route in sorted(routes, key=lambda r: r.query is None):
                if route.matches(query or (), body):
                    return route.next()
        return Answer(404, {"message": f"fake forge: no route for {method} {target}"})

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class _Route:
    body: Any
    query: Query | None
    answers: list[Answer]

    def matches(self, query: Query, body: Any) -> bool:
        return (self.query is None or self.query == query) and (
            self.body is None or self.body == body
        )

    def next(self) -> Answer:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def _handler(forge: FakeForge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            parts = urlsplit(self.path)
            forge.calls.append(
                Call(
                    self.command,
                    parts.path,
                    dict(parse_qsl(parts.query)),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
            )
            answer = forge._find(self.command, self.path, body)
            if answer.delay:
                time.sleep(answer.delay)
            if answer.hold is not None:
                answer.hold.wait(HOLD_LIMIT)
            self._reply(answer)

        def _reply(self, answer: Answer) -> None:
            if isinstance(answer.body, bytes):
                data, kind = answer.body, "text/plain"
            elif answer.body is None:
                data, kind = b"", "application/json"
            else:
                data, kind = json.dumps(answer.body).encode(), "application/json"
            self.send_response(answer.status)
            headers = {"content-type": kind, **{k.lower(): v for k, v in answer.headers.items()}}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815 - http.server

    return Handler


@contextmanager
def running_forge(prefix: str = "") -> Iterator[FakeForge]:
    """A started fake forge, stopped afterwards."""
    forge = FakeForge(prefix)
    forge.start()
    try:
        yield forge
    finally:
        forge.stop()

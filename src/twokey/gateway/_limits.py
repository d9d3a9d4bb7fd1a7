"""A request body limit, enforced while the body streams in (a lying Content-Length too).

Forge webhooks may be larger (GitHub caps payloads at 25 MB): paths under ``/v1/forge/`` get
the forge receiver's own limit, which it enforces again with its own message.
"""

from __future__ import annotations

__all__ = ["BodyLimit"]

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FORGE_PREFIX = "/v1/forge/"
FORGE_LIMIT = 26 << 20


class _BodyTooLargeError(Exception):
    pass


class BodyLimit:
    """Answers 413 to a body longer than ``limit`` bytes, before a route reads it whole."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = FORGE_LIMIT if scope["path"].startswith(FORGE_PREFIX) else self.limit
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLargeError
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracking)
        except _BodyTooLargeError:
            if not started:
                await _refuse(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, limit: int) -> None:
    body: dict[str, Any] = {"error": f"request body too large (limit {limit} bytes): nothing done"}
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(data)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})

"""Prometheus metrics: requests, latency, decisions by outcome and finding code.

Doors served by the gateway call :func:`observe_decision` for every decision they record.
:class:`RequestMetrics` (a pure ASGI middleware: no per-request objects beyond the scope)
counts every answer and its latency by method, route template (``/v1/checks``, never the
concrete path: bounded label values) and status. With several worker processes, ``twokey serve``
points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory of the data directory before the
workers start, so ``/metrics`` sums every process (prometheus-client's multiprocess mode); a
single process keeps its metrics in memory.
"""

from __future__ import annotations

__all__ = [
    "DECISIONS",
    "FINDINGS",
    "LATENCY",
    "REQUESTS",
    "RequestMetrics",
    "observe_decision",
    "router",
]

import os
import time
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from twokey.model import Decision

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter("twokey_http_requests", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "twokey_http_request_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
DECISIONS = Counter(
    "twokey_decisions", "Decisions recorded, by door and outcome", ["door", "outcome"]
)
FINDINGS = Counter(
    "twokey_findings", "Findings in recorded decisions, by door and code", ["door", "code"]
)

router = APIRouter(tags=["health"])


def observe_decision(door: str, decision: Decision) -> None:
    """Count one recorded decision and its findings."""
    DECISIONS.labels(door, decision.verdict.value).inc()
    for finding in decision.findings:
        FINDINGS.labels(door, str(finding.code)).inc()


class RequestMetrics:
    """Count each HTTP answer and time it, by method, route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the server answers when the app raises before it starts a response

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            LATENCY.labels(method, template).observe(time.perf_counter() - start)
            REQUESTS.labels(method, template, str(status)).inc()


@router.get("/metrics", summary="Prometheus metrics (every worker process summed)")
def metrics() -> Response:
    """The text exposition format; in multiprocess mode, collected from every worker's files."""
    registry = REGISTRY
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import CollectorRegistry, multiprocess  # noqa: PLC0415

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

"""Prometheus metrics: requests, latency, decisions by outcome and finding code.

Doors served by the gateway call :func:`observe_decision` for every decision they record.
With several worker processes, ``twokey serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a
directory of the data directory, so ``/metrics`` sums every process (prometheus-client's
multiprocess mode); a single process keeps its metrics in memory.
"""

from __future__ import annotations

__all__ = ["DECISIONS", "FINDINGS", "LATENCY", "REQUESTS", "observe_decision"]

from typing import TYPE_CHECKING

from prometheus_client import Counter, Histogram

if TYPE_CHECKING:
    from twokey.model import Decision

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


def observe_decision(door: str, decision: Decision) -> None:
    """Count one recorded decision and its findings."""
    DECISIONS.labels(door, decision.verdict.value).inc()
    for finding in decision.findings:
        FINDINGS.labels(door, str(finding.code)).inc()

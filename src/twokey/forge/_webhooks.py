"""Webhook deliveries: authenticated over the exact bytes received, before anything is parsed.

A delivery is refused with one HTTP status and one reason, and nothing changes, when:

1. the forge's secret is not configured (403: a forge twokey cannot authenticate is refused,
   never trusted);
2. the body is larger than the limit (413, before any hashing);
3. the signature (GitHub ``X-Hub-Signature-256``: HMAC-SHA256 of the raw body) or the token
   (GitLab ``X-Gitlab-Token``) is missing (401) or wrong (401), compared in constant time;
4. the event header is missing, or names an event twokey does not handle (400, after the
   signature: an unauthenticated caller learns nothing);
5. the delivery id is missing or malformed (400);
6. the body is not a UTF-8 JSON object (400).

Only then does the receiver parse the event (``_events``) and de-duplicate it.
"""

from __future__ import annotations

__all__ = [
    "GITHUB",
    "GITLAB",
    "MAX_BODY_BYTES",
    "Delivery",
    "Refusal",
    "WebhookSecrets",
    "verify_delivery",
]

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GITHUB = "github"
GITLAB = "gitlab"
MAX_BODY_BYTES = 1024 * 1024  # GitHub caps payloads at 25 MB; the events twokey reads are KBs
_DELIVERY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_SIGNATURE = re.compile(r"sha256=([0-9a-f]{64})")

# The events each forge sends that twokey reads (docs/forges.md); anything else is refused.
GITHUB_EVENTS = frozenset(
    {
        "ping",
        "pull_request",
        "pull_request_review",
        "push",
        "deployment",
        "deployment_protection_rule",
        "deployment_status",
        "check_suite",
        "check_run",
        "status",
    }
)
GITLAB_EVENTS = frozenset({"Merge Request Hook", "Push Hook", "Pipeline Hook", "Deployment Hook"})


@dataclass(frozen=True)
class WebhookSecrets:
    """The shared secrets, per forge; "" means not configured (every delivery refused)."""

    github: str = ""
    gitlab: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebhookSecrets:
        """``TWOKEY_GITHUB_WEBHOOK_SECRET`` and ``TWOKEY_GITLAB_WEBHOOK_TOKEN``."""
        return cls(
            env.get("TWOKEY_GITHUB_WEBHOOK_SECRET", ""), env.get("TWOKEY_GITLAB_WEBHOOK_TOKEN", "")
        )

    def for_forge(self, forge: str) -> str:
        """The secret of ``forge`` ("" for none or an unknown forge)."""
        return {GITHUB: self.github, GITLAB: self.gitlab}.get(forge, "")


@dataclass(frozen=True)
class Refusal:
    """A delivery refused: the HTTP status to answer and the one reason."""

    status: int
    reason: str


@dataclass(frozen=True)
class Delivery:
    """An authenticated delivery: who sent it, which event, its id, its bytes and its JSON."""

    forge: str
    event: str
    delivery: str
    body: bytes
    payload: Mapping[str, Any]

    @property
    def body_sha256(self) -> str:
        """The SHA-256 of the exact bytes received (recorded in the ledger)."""
        return hashlib.sha256(self.body).hexdigest()


def verify_delivery(
    forge: str,
    headers: Mapping[str, str],
    body: bytes,
    secrets: WebhookSecrets,
    limit: int = MAX_BODY_BYTES,
) -> Delivery | Refusal:
    """Steps 1-6 of the module docstring; ``headers`` may be in any letter case."""
    lower = {k.lower(): v for k, v in headers.items()}
    refused = _refused(forge, lower, body, secrets.for_forge(forge), limit)  # steps 1-3
    if refused is not None:
        return refused
    event = lower.get("x-github-event" if forge == GITHUB else "x-gitlab-event", "")
    known = GITHUB_EVENTS if forge == GITHUB else GITLAB_EVENTS
    if event not in known:  # step 4
        what = f"event {event!r}" if event else "no event header"
        return Refusal(400, f"{what}: twokey handles {', '.join(sorted(known))}")
    delivery = _delivery_id(forge, lower)  # step 5
    if isinstance(delivery, Refusal):
        return delivery
    payload = _json_object(body)  # step 6
    if isinstance(payload, Refusal):
        return payload
    return Delivery(forge, event, delivery, body, payload)


def _refused(
    forge: str, headers: Mapping[str, str], body: bytes, secret: str, limit: int
) -> Refusal | None:
    """Steps 1-3: a configured secret, a body within the limit, a matching signature."""
    if forge not in (GITHUB, GITLAB):
        return Refusal(404, f"no webhook receiver for {forge!r} (github or gitlab)")
    if not secret:
        return Refusal(
            403, f"no webhook secret is configured for {forge}: every delivery is refused"
        )
    if len(body) > limit:
        return Refusal(413, f"the body has {len(body)} bytes, more than the limit of {limit}")
    return _authentic(forge, headers, body, secret)


def _authentic(forge: str, headers: Mapping[str, str], body: bytes, secret: str) -> Refusal | None:
    """None when the signature (GitHub) or the token (GitLab) matches, in constant time."""
    if forge == GITHUB:
        sent = headers.get("x-hub-signature-256", "")
        if not sent:
            return Refusal(401, "no X-Hub-Signature-256 header: the delivery is not signed")
        match = _SIGNATURE.fullmatch(sent)
        # HMAC-SHA256 over the raw body, as GitHub computes it ("Validating webhook deliveries").
        mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if match is None or not hmac.compare_digest(match[1], mac):
            return Refusal(401, "X-Hub-Signature-256 does not match the body under our secret")
        return None
    token = headers.get("x-gitlab-token", "")
    if not token:
        return Refusal(401, "no X-Gitlab-Token header: the delivery is not authenticated")
    # Digests of both, so the comparison takes the same time whatever the sent token's length.
    sent_digest = hashlib.sha256(token.encode()).digest()
    if not hmac.compare_digest(sent_digest, hashlib.sha256(secret.encode()).digest()):
        return Refusal(401, "X-Gitlab-Token is not our token")
    return None


def _delivery_id(forge: str, headers: Mapping[str, str]) -> str | Refusal:
    """GitHub: ``X-GitHub-Delivery``; GitLab: ``Idempotency-Key`` (the same across retries,
    GitLab 17.4+), else ``X-Gitlab-Event-UUID``."""
    github = forge == GITHUB
    names = ("x-github-delivery",) if github else ("idempotency-key", "x-gitlab-event-uuid")
    value = next((headers[n] for n in names if headers.get(n)), "")
    if not value:
        wanted = (
            "X-GitHub-Delivery" if forge == GITHUB else "Idempotency-Key or X-Gitlab-Event-UUID"
        )
        return Refusal(400, f"no {wanted} header: a delivery without an id cannot be de-duplicated")
    if not _DELIVERY_ID.fullmatch(value):
        return Refusal(400, "the delivery id is not 1-128 letters, digits and . _ : -")
    return value


def _json_object(body: bytes) -> Mapping[str, Any] | Refusal:
    try:
        value = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return Refusal(400, "the body is not UTF-8")
    except json.JSONDecodeError as exc:
        return Refusal(400, f"the body is not JSON ({exc.msg} at byte {exc.pos})")
    except RecursionError:
        return Refusal(400, "the body is not JSON (nested too deeply)")
    if not isinstance(value, dict):
        return Refusal(400, f"the body is JSON but not an object ({type(value).__name__})")
    return value

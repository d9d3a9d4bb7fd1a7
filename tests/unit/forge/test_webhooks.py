"""Authenticating a delivery before it is parsed: every refusal has one status and one reason."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from twokey.forge import Delivery, Refusal, WebhookSecrets, verify_delivery

SECRET = "It's a Secret to Everybody"
SECRETS = WebhookSecrets(github=SECRET, gitlab="gl-token")
BODY = b'{"zen": "Keep it logically awesome.", "hook_id": 1}'


def _signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _github(body: bytes = BODY, over: dict[str, str] | None = None) -> dict[str, str]:
    headers = {
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-Hub-Signature-256": _signature(body),
    }
    headers.update(over or {})
    return {k: v for k, v in headers.items() if v}


def test_githubs_documented_example_signature_verifies() -> None:
    # docs.github.com "Validating webhook deliveries": secret and payload with this digest.
    body = b"Hello, World!"
    sent = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    headers = _github(body, {"X-Hub-Signature-256": sent})
    refused = verify_delivery("github", headers, body, SECRETS)
    # The signature verifies; the body is then refused as not JSON, which comes after it.
    assert refused == Refusal(400, "the body is not JSON (Expecting value at byte 0)")


def test_a_signed_github_delivery_is_accepted_with_its_exact_bytes() -> None:
    delivery = verify_delivery("github", _github(), BODY, SECRETS)
    assert isinstance(delivery, Delivery)
    assert (delivery.event, delivery.delivery, delivery.body) == (
        "ping",
        "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        BODY,
    )
    assert delivery.body_sha256 == hashlib.sha256(BODY).hexdigest()


def test_headers_are_read_in_any_letter_case() -> None:
    lower = {k.lower(): v for k, v in _github().items()}
    assert isinstance(verify_delivery("github", lower, BODY, SECRETS), Delivery)


CASES = {
    "no-secret-configured": (
        "github",
        _github(),
        BODY,
        WebhookSecrets(gitlab="x"),
        403,
        "no webhook secret is configured for github",
    ),
    "unknown-forge": ("gitea", _github(), BODY, SECRETS, 404, "no webhook receiver for 'gitea'"),
    "too-large": (
        "github",
        _github(),
        b" " * (1024 * 1024 + 1),
        SECRETS,
        413,
        "more than the limit",
    ),
    "several-megabytes": (
        "github",
        _github(b"{}" * 2_000_000),
        b"{}" * 2_000_000,
        SECRETS,
        413,
        "4000000 bytes",
    ),
    "missing-signature": (
        "github",
        _github(BODY, {"X-Hub-Signature-256": ""}),
        BODY,
        SECRETS,
        401,
        "no X-Hub-Signature-256 header",
    ),
    "signature-of-other-secret": (
        "github",
        _github(BODY, {"X-Hub-Signature-256": _signature(BODY, "guess")}),
        BODY,
        SECRETS,
        401,
        "does not match the body",
    ),
    "body-changed-after-signing": (
        "github",
        _github(),
        BODY.replace(b"awesome", b"AWESOME"),
        SECRETS,
        401,
        "does not match the body",
    ),
    "sha1-signature-only": (
        "github",
        _github(BODY, {"X-Hub-Signature-256": "sha1=" + "0" * 40}),
        BODY,
        SECRETS,
        401,
        "does not match",
    ),
    "unknown-event": (
        "github",
        _github(BODY, {"X-GitHub-Event": "issues"}),
        BODY,
        SECRETS,
        400,
        "event 'issues': twokey handles",
    ),
    "no-event": (
        "github",
        _github(BODY, {"X-GitHub-Event": ""}),
        BODY,
        SECRETS,
        400,
        "no event header",
    ),
    "no-delivery-id": (
        "github",
        _github(BODY, {"X-GitHub-Delivery": ""}),
        BODY,
        SECRETS,
        400,
        "no X-GitHub-Delivery header",
    ),
    "bad-delivery-id": (
        "github",
        _github(BODY, {"X-GitHub-Delivery": "a\nb"}),
        BODY,
        SECRETS,
        400,
        "delivery id is not",
    ),
    "truncated-json": (
        "github",
        _github(BODY[:20]),
        BODY[:20],
        SECRETS,
        400,
        "the body is not JSON",
    ),
    "not-utf8": ("github", _github(b"\xff\xfe"), b"\xff\xfe", SECRETS, 400, "not UTF-8"),
    "json-array": ("github", _github(b"[1, 2]"), b"[1, 2]", SECRETS, 400, "not an object (list)"),
    "deeply-nested": (
        "github",
        _github(b"[" * 100_000),
        b"[" * 100_000,
        SECRETS,
        400,
        "the body is not JSON",
    ),
    "gitlab-no-token": (
        "gitlab",
        {"X-Gitlab-Event": "Push Hook", "Idempotency-Key": "k1"},
        BODY,
        SECRETS,
        401,
        "no X-Gitlab-Token header",
    ),
    "gitlab-wrong-token": (
        "gitlab",
        {"X-Gitlab-Event": "Push Hook", "Idempotency-Key": "k1", "X-Gitlab-Token": "gl-tokem"},
        BODY,
        SECRETS,
        401,
        "X-Gitlab-Token is not our token",
    ),
    "gitlab-no-id": (
        "gitlab",
        {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "gl-token"},
        BODY,
        SECRETS,
        400,
        "no Idempotency-Key or X-Gitlab-Event-UUID header",
    ),
    "gitlab-unknown-event": (
        "gitlab",
        {"X-Gitlab-Event": "Note Hook", "Idempotency-Key": "k", "X-Gitlab-Token": "gl-token"},
        BODY,
        SECRETS,
        400,
        "event 'Note Hook'",
    ),
}


@pytest.mark.parametrize(
    ("forge", "headers", "body", "secrets", "status", "reason"), CASES.values(), ids=CASES.keys()
)
def test_bad_deliveries_are_refused_with_one_reason(
    forge: str,
    headers: dict[str, str],
    body: bytes,
    secrets: WebhookSecrets,
    status: int,
    reason: str,
) -> None:
    refused = verify_delivery(forge, headers, body, secrets)
    assert isinstance(refused, Refusal)
    assert refused.status == status
    assert reason in refused.reason


def test_gitlab_prefers_the_idempotency_key_which_stays_the_same_across_retries() -> None:
    headers = {
        "X-Gitlab-Event": "Push Hook",
        "X-Gitlab-Token": "gl-token",
        "X-Gitlab-Event-UUID": "13792a34-cac6-4fda-95a8-c58e00a3954e",
        "Idempotency-Key": "f5e5f430-f57b-4e6e-9fac-d9128cd7232f",
    }
    delivery = verify_delivery("gitlab", headers, json.dumps({}).encode(), SECRETS)
    assert isinstance(delivery, Delivery)
    assert delivery.delivery == "f5e5f430-f57b-4e6e-9fac-d9128cd7232f"


def test_secrets_come_from_the_environment() -> None:
    env = {"TWOKEY_GITHUB_WEBHOOK_SECRET": "s1", "TWOKEY_GITLAB_WEBHOOK_TOKEN": "t1"}
    assert WebhookSecrets.from_env(env) == WebhookSecrets("s1", "t1")
    assert WebhookSecrets.from_env({}).for_forge("github") == ""

"""Signing and sending deliveries to a receiver, as GitHub and GitLab do."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import shared_dir
from twokey.doors import record
from twokey.forge import ForgeStore, Handler, Receipt, Receiver, WebhookSecrets
from twokey.ledger import Entry, ForgeDeliveryRecord, open_ledger, parse_entry, read_record

PAYLOADS = shared_dir() / "forge-payloads"
LOCAL = Path(__file__).with_name("payloads")
SECRET = "test-webhook-secret"
TOKEN = "test-gitlab-token"
SECRETS = WebhookSecrets(github=SECRET, gitlab=TOKEN)
NOW = datetime(2026, 12, 4, 18, tzinfo=UTC)


def github_headers(event: str, body: bytes, delivery: str = "") -> dict[str, str]:
    mac = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={mac}",
        "Content-Type": "application/json",
    }


def gitlab_headers(event: str, key: str = "") -> dict[str, str]:
    return {
        "X-Gitlab-Event": event,
        "X-Gitlab-Token": TOKEN,
        "X-Gitlab-Event-UUID": str(uuid.uuid4()),
        "X-Gitlab-Webhook-UUID": "02affd2d-2cba-4033-917d-ec22d5dc4b38",
        "Idempotency-Key": key or str(uuid.uuid4()),
    }


def receiver(url: str, handler: Handler | None = None) -> tuple[Receiver, ForgeStore]:
    store = ForgeStore(url)

    def append(entries: Sequence[Entry]) -> None:
        record(url, entries, key="")

    return Receiver(SECRETS, store, append, handler), store


def deliveries_recorded(url: str) -> list[ForgeDeliveryRecord]:
    with open_ledger(url) as ledger:
        found = [read_record(parse_entry(data)) for _, data in ledger.entries()]
    return [r for r in found if isinstance(r, ForgeDeliveryRecord)]


def send_github(rx: Receiver, event: str, body: bytes, delivery: str = "") -> Receipt:
    return rx.receive("github", github_headers(event, body, delivery), body, NOW)

"""The webhook receiver, independent of any web framework: bytes and headers in, a status out.

The gateway's route reads the body (no more than ``MAX_BODY_BYTES`` + 1 bytes) and the headers
and calls :meth:`Receiver.receive`; the answer carries the HTTP status and one reason. Steps:

1. authenticate the exact bytes, then parse (``verify_delivery``; 4xx, nothing changed);
2. read the typed event (``parse_event``; 422 for a payload without a field twokey needs);
3. de-duplicate by delivery id (``DeliveryLog.first_time``; a replay is 409, nothing changed);
4. append a ``forge`` entry to the ledger *before* the delivery takes effect (invariant 9); a
   ledger that cannot be written is 503 and the delivery is forgotten, so the forge's retry is
   not refused as a replay;
5. hand the event to the handler (reviews stored, pull requests judged, deployments answered);
   a handler that fails (503) leaves the delivery forgotten, so a redelivery applies it.
"""

from __future__ import annotations

__all__ = ["Handler", "Receipt", "Receiver"]

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from twokey.errors import TwokeyError
from twokey.forge._events import ForgeEvent, PayloadError, parse_event
from twokey.forge._store import DeliveryLog
from twokey.forge._webhooks import (
    MAX_BODY_BYTES,
    Delivery,
    Refusal,
    WebhookSecrets,
    verify_delivery,
)

if TYPE_CHECKING:
    from twokey.ledger import Entry

DOOR = "forge-webhook"


@dataclass(frozen=True)
class Receipt:
    """The answer to one delivery: the HTTP status, one reason, the event when accepted."""

    status: int
    reason: str
    event: ForgeEvent | None = None


class Handler(Protocol):
    """What takes effect once a delivery is recorded (``_effects.ForgeEffects``)."""

    def handle(self, delivery: Delivery, event: ForgeEvent, now: datetime) -> str:
        """Apply the event; returns what was done, in a few words."""
        ...


def _no_effect(delivery: Delivery, event: ForgeEvent, now: datetime) -> str:
    return "recorded"


@dataclass
class Receiver:
    """Authenticates, de-duplicates and records deliveries, then lets the handler act."""

    secrets: WebhookSecrets
    deliveries: DeliveryLog
    record: Callable[[Sequence[Entry]], object]
    handler: Handler | None = None
    limit: int = MAX_BODY_BYTES

    def receive(
        self, forge: str, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> Receipt:
        """Steps 1-5 of the module docstring."""
        delivery = verify_delivery(forge, headers, body, self.secrets, self.limit)  # step 1
        if isinstance(delivery, Refusal):
            return Receipt(delivery.status, delivery.reason)
        try:
            event = parse_event(forge, delivery.event, delivery.payload)  # step 2
        except PayloadError as exc:
            return Receipt(422, exc.message)
        refused = self._recorded(delivery, event, now)  # steps 3 and 4
        if refused is not None:
            return refused
        handle = self.handler.handle if self.handler is not None else _no_effect
        try:
            done = handle(delivery, event, now)  # step 5
        except TwokeyError as exc:
            # Recorded but not applied: forgotten, so the forge's redelivery applies it (and is
            # recorded again, as the second receipt it is); the effects are idempotent.
            self.deliveries.forget(delivery.forge, delivery.delivery)
            return Receipt(503, f"recorded, but not applied: {exc.message}", event)
        return Receipt(202, done, event)

    def _recorded(self, delivery: Delivery, event: ForgeEvent, now: datetime) -> Receipt | None:
        """None once the delivery is new and in the ledger; else why not (nothing changed)."""
        forge, key = delivery.forge, delivery.delivery
        try:
            if not self.deliveries.first_time(forge, key):
                return Receipt(409, f"delivery {key} was already received")
        except TwokeyError as exc:
            return Receipt(503, f"cannot de-duplicate the delivery: {exc.message}")
        try:
            self.record([_entry(delivery, event, now)])
        except TwokeyError as exc:
            self.deliveries.forget(forge, key)
            return Receipt(503, f"cannot record the delivery in the ledger: {exc.message}")
        return None


def _entry(delivery: Delivery, event: ForgeEvent, now: datetime) -> Entry:
    from twokey.ledger import ForgeDeliveryRecord, to_entry  # noqa: PLC0415

    record = ForgeDeliveryRecord(
        DOOR,
        delivery.forge,
        delivery.delivery,
        delivery.event,
        event.action,
        event.repository,
        str(event.sender),
        event.subject,
        delivery.body_sha256,
    )
    return to_entry(record, now)

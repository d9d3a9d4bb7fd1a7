"""Writing decisions (and the evidence pushed with them) to the ledger (invariant 9).

The hook appends before it answers; a ledger that cannot be written turns every decision of
the push into a deny (fail closed, invariant 8).
"""

from __future__ import annotations

__all__ = ["ledger_entries", "record"]

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from twokey.errors import InfrastructureError, TwokeyError
from twokey.git._gate import Judgement
from twokey.model import ZERO_SHA, Alias

if TYPE_CHECKING:
    from twokey.ledger import Entry


def ledger_entries(
    judgements: Sequence[Judgement],
    *,
    door: str,
    repository: str,
    pusher: Alias | None,
    now: datetime,
) -> list[Entry]:
    """One ``evidence`` entry per evidence ref created, then one ``decision`` entry per update."""
    from twokey.ledger import Entry, EntryKind  # noqa: PLC0415 - lazy: hook start-up time

    entries = []
    for j in judgements:
        if j.update.is_evidence and j.update.old == ZERO_SHA and j.decision.allowed:
            body: dict[str, Any] = {
                "door": door,
                "repository": repository,
                "ref": j.update.ref,
                "object": j.update.new,
            }
            entries.append(Entry(EntryKind.EVIDENCE, body, now))
    for j in judgements:
        body = {
            "door": door,
            "repository": repository,
            "ref": j.update.ref,
            "old": j.update.old,
            "new": j.update.new,
            "pusher": str(pusher) if pusher is not None else None,
            "evidence": list(j.evidence),
            "decision": j.decision.to_dict(),
        }
        entries.append(Entry(EntryKind.DECISION, body, now))
    return entries


def record(url: str, entries: Sequence[Entry]) -> list[int]:
    """Append ``entries`` to the ledger at ``url`` in one transaction; their indices.

    Raises:
        InfrastructureError: the ledger cannot be opened or written.
    """
    from twokey.ledger import open_ledger  # noqa: PLC0415

    try:
        with open_ledger(url) as ledger:
            return ledger.append(entries)
    except TwokeyError as exc:
        raise InfrastructureError(f"cannot write the ledger {url}: {exc.message}") from exc
    except Exception as exc:  # any driver error: fail closed with the reason
        raise InfrastructureError(
            f"cannot write the ledger {url}: {type(exc).__name__}: {exc}"
        ) from exc

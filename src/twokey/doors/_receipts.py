"""When the gate first received a piece of evidence, as the ledger proves it (ADR 0013).

A key is judged at the time the gate first received the evidence it signed, never at the date
the statement gives itself. That is the door's clock for evidence arriving now; for evidence
pushed earlier, the hook's ``evidence`` entry in the ledger (written only for pushes git
stored) proves the earlier receipt. Looked up only for evidence whose key is not valid now, or
has a window start (evidence received before it must not count):
the common path never reads the ledger.
"""

from __future__ import annotations

__all__ = ["ledger_receipts"]

from collections.abc import Collection
from datetime import datetime

from twokey.errors import TwokeyError


def ledger_receipts(url: str, refs: Collection[str]) -> dict[str, datetime]:
    """The earliest ``evidence`` entry time for each of ``refs`` in the ledger at ``url``.

    An unreadable ledger proves nothing: the evidence is then judged at the door's clock
    (fail closed: never later validity than now).
    """
    from twokey.ledger import EntryKind, open_ledger, parse_entry  # noqa: PLC0415

    wanted = set(refs)
    found: dict[str, datetime] = {}
    try:
        with open_ledger(url) as ledger:
            for _, data in ledger.entries():
                entry = parse_entry(data)
                ref = entry.body.get("ref") if entry.kind is EntryKind.EVIDENCE else None
                if isinstance(ref, str) and ref in wanted:
                    found[ref] = min(found.get(ref, entry.time), entry.time)
    except TwokeyError:
        return {}
    return found

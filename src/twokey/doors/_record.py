"""Writing decisions (and the evidence pushed with them) to the ledger (invariant 9).

The hook appends before it answers; a ledger that cannot be written turns every decision of
the push into a deny (fail closed, invariant 8). Every recording door (the hook, ``check
--ledger``, ``deploy check --ledger``, and the post-receive record) writes through
:func:`record`, which signs a checkpoint after each batch when a signing key is configured
(ADR 0015): without checkpoints signed as the log grows, a log rewritten wholesale verifies.
"""

from __future__ import annotations

__all__ = ["SIGNING_KEY_ENV", "ledger_entries", "record"]

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from twokey.errors import InfrastructureError, TwokeyError
from twokey.model import ZERO_SHA, Alias

if TYPE_CHECKING:
    from twokey.doors._gate import Judgement  # a type only: the deploy door needs no gate
    from twokey.ledger import Entry, NoteSigner

# The doors' checkpoint signing key (a signed-note private key file) when git config
# ``twokey.ledgerKey`` does not name one: a CI job's secret, for ``check`` and ``deploy check``.
SIGNING_KEY_ENV = "TWOKEY_LEDGER_SIGNING_KEY"


def ledger_entries(
    judgements: Sequence[Judgement],
    *,
    door: str,
    repository: str,
    pusher: Alias | None,
    now: datetime,
) -> list[Entry]:
    """One ``evidence`` record per evidence ref created, then one ``decision`` per update."""
    from twokey.ledger import DecisionRecord, EvidenceRecord, to_entry  # noqa: PLC0415 - lazy

    entries = []
    for j in judgements:
        if j.update.is_evidence and j.update.old == ZERO_SHA and j.decision.allowed:
            evidence = EvidenceRecord(door, repository, ref=j.update.ref, object=j.update.new)
            entries.append(to_entry(evidence, now))
    for j in judgements:
        decision = DecisionRecord(
            door,
            repository,
            j.update.ref,
            j.update.old,
            j.update.new,
            str(pusher) if pusher is not None else None,
            tuple(j.evidence),
            j.decision.to_dict(),
        )
        entries.append(to_entry(decision, now))
    return entries


def record(url: str, entries: Sequence[Entry], *, key: str | None = None) -> list[int]:
    """Append ``entries`` to the ledger at ``url`` in one transaction, then sign a checkpoint.

    Args:
        url: the ledger.
        entries: one batch (one push, one check, one deploy).
        key: the signed-note private key file that signs a checkpoint of the log once the batch
            is committed; None: ``$TWOKEY_LEDGER_SIGNING_KEY``; "" or unset: no checkpoint
            (``twokey ledger verify`` then says it proved nothing).

    Returns:
        The batch's indices.

    Raises:
        InfrastructureError: the key cannot be read (nothing is written), or the ledger cannot
            be opened, written or signed.
    """
    from twokey.ledger import open_ledger  # noqa: PLC0415

    signer = _signer(os.environ.get(SIGNING_KEY_ENV, "") if key is None else key)
    try:
        with open_ledger(url) as ledger:
            indices = ledger.append(entries)
            if signer is not None:
                ledger.checkpoint(signer)
            return indices
    except TwokeyError as exc:
        raise InfrastructureError(f"cannot write the ledger {url}: {exc.message}") from exc
    except Exception as exc:  # any driver error: fail closed with the reason
        raise InfrastructureError(
            f"cannot write the ledger {url}: {type(exc).__name__}: {exc}"
        ) from exc


def _signer(path: str) -> NoteSigner | None:
    """The checkpoint signer in the key file at ``path`` (None for no path).

    Read before anything is appended, so that a misconfigured key writes nothing and denies.
    """
    if not path:
        return None
    from twokey.ledger import NoteError, NoteSigner  # noqa: PLC0415

    try:
        return NoteSigner.parse(Path(path).read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, NoteError) as exc:
        reason = exc.message if isinstance(exc, NoteError) else str(exc)
        raise InfrastructureError(
            f"cannot read the ledger signing key {path}: {reason}",
            hint="git config twokey.ledgerKey (or $TWOKEY_LEDGER_SIGNING_KEY) names a "
            "private key from `twokey ledger keygen`",
        ) from exc

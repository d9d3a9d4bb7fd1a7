"""What a verification proved: signed, consistency only, or nothing (issue 14, ADR 0015).

A log that verifies against its own hashes proves only that it is internally consistent: whoever
can write the database can rewrite it wholesale and recompute every hash. Only a checkpoint
signed by a key the verifier trusts from outside the log (a flag, the verifier's own
configuration, never the thing verified) makes a rewrite detectable. Every command and report
that verifies says which of the three it achieved, in words and in its exit status.
"""

from __future__ import annotations

__all__ = ["Assurance", "Level", "assess"]

import enum
from dataclasses import dataclass

from twokey.ledger._note import NoteVerifier


class Level(enum.StrEnum):
    """How much a verification proved."""

    SIGNED = "signed"  # the entries reproduce a checkpoint signed by a trusted key
    CONSISTENCY_ONLY = "consistency-only"  # checkpoints exist; no trusted key checked them
    NOTHING = "nothing"  # no checkpoint at all: a wholesale rewrite would verify too


@dataclass(frozen=True)
class Assurance:
    """The level, the log's size, and how many entries the largest checkpoint covers."""

    level: Level
    size: int
    signed: int
    key: str = ""  # the trusted key's name

    @property
    def uncovered(self) -> str:
        """The entries no signed checkpoint covers (``""`` when none)."""
        if self.level is not Level.SIGNED or self.signed >= self.size:
            return ""
        return f"entries {self.signed}..{self.size - 1} are covered by no signed checkpoint yet"

    def summary(self) -> str:
        """One sentence saying what was proved and what was not."""
        if self.level is Level.SIGNED:
            text = (
                f"the checkpoint of size {self.signed} signed by the trusted key {self.key} "
                f"covers entries 0..{self.signed - 1}"
            )
            return text + (f"; {self.uncovered}" if self.uncovered else "")
        if self.level is Level.CONSISTENCY_ONLY:
            return (
                "CONSISTENCY ONLY: no trusted key was given (--key FILE or $TWOKEY_LEDGER_KEY), "
                "so whoever rewrote the log could have signed its checkpoints too"
            )
        return (
            "NOTHING PROVED: no signed checkpoint exists, so a log rewritten wholesale with "
            "every hash recomputed verifies too; the doors sign one after each recorded batch "
            "when git config twokey.ledgerKey (or $TWOKEY_LEDGER_KEY) names the key"
        )

    def to_dict(self) -> dict[str, object]:
        """JSON form: ``proved``, ``signed_entries``, ``trusted_key``."""
        return {"proved": self.level.value, "signed_entries": self.signed, "trusted_key": self.key}


def assess(size: int, checkpoints: int, signed: int, verifier: NoteVerifier | None) -> Assurance:
    """The assurance of a log of ``size`` entries that verified with ``checkpoints`` of them.

    ``signed``: entries covered by the largest checkpoint; ``verifier``: the trusted key the
    checkpoints' signatures were checked with, or None.
    """
    if checkpoints == 0:
        return Assurance(Level.NOTHING, size, 0)
    if verifier is None:
        return Assurance(Level.CONSISTENCY_ONLY, size, signed)
    return Assurance(Level.SIGNED, size, signed, verifier.name)

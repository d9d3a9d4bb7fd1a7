"""Ref updates as git hands them to a pre-receive hook: ``<old> <new> <ref>`` per line."""

from __future__ import annotations

__all__ = ["RefUpdate", "parse_updates"]

import re
from dataclasses import dataclass

from twokey._evidence_refs import NAMESPACE
from twokey.errors import UsageError
from twokey.model import ZERO_SHA

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class RefUpdate:
    """One proposed ref update, ``old -> new`` (``ZERO_SHA`` for none).

    ``via`` is the name that was pushed when it is a symbolic ref on the server: ``ref`` is
    then the ref that really moves, and the update is judged as that ref (the hook door).
    """

    ref: str
    old: str
    new: str
    via: str = ""

    def __post_init__(self) -> None:
        for sha in (self.old, self.new):
            if not _SHA.fullmatch(sha):
                raise ValueError(f"not an object id: {sha!r}")
        if not self.ref.startswith("refs/") or any(c.isspace() for c in self.ref):
            raise ValueError(f"not a full ref name: {self.ref!r}")
        if self.old == ZERO_SHA and self.new == ZERO_SHA:
            raise ValueError(f"{self.ref}: both old and new are the null id")

    @property
    def is_evidence(self) -> bool:
        """True for a ref in twokey's evidence namespace (``refs/twokey/...``)."""
        return self.ref.startswith(NAMESPACE)

    @property
    def is_creation(self) -> bool:
        """True when the ref does not exist yet."""
        return self.old == ZERO_SHA

    @property
    def subject(self) -> str:
        """``ref old..new`` with short ids: how decisions about this update are named."""
        through = f" (pushed as {self.via})" if self.via else ""
        return f"{self.ref} {self.old[:7]}..{self.new[:7]}{through}"


def parse_updates(text: str) -> list[RefUpdate]:
    """Parse a pre-receive hook's standard input (githooks(5), "pre-receive").

    Raises:
        UsageError: a line is not ``<old-oid> <new-oid> <ref-name>``.
    """
    updates = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(" ", 2)
        try:
            if len(parts) != 3:
                raise ValueError("expected '<old> <new> <ref>'")
            updates.append(RefUpdate(parts[2], parts[0], parts[1]))
        except ValueError as exc:
            raise UsageError(f"bad ref update on line {number}: {exc}") from exc
    return updates

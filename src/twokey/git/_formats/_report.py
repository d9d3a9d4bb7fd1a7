"""What every output format renders: the judgements of one push or one check."""

from __future__ import annotations

__all__ = ["Report"]

from dataclasses import dataclass

from twokey.git._gate import Judgement


@dataclass(frozen=True)
class Report:
    """The judgements, and the repository and policy they were made under."""

    judgements: tuple[Judgement, ...]
    repository: str = ""
    policy_origin: str = ""

    @property
    def allowed(self) -> bool:
        """True when every update is allowed."""
        return all(j.decision.allowed for j in self.judgements)

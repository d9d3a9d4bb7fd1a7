"""What every output format renders: the judgements of one push or one check."""

from __future__ import annotations

__all__ = ["Report", "repo_path"]

from dataclasses import dataclass

from twokey.doors._gate import Judgement


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


def repo_path(file: str) -> str:
    """A policy location as a repository path: ``<rev>:.twokey/policy.yml`` -> the path part.

    Code-scanning UIs and annotations want a path in the checkout; a policy read from a git
    revision is named ``<rev>:<path>`` in findings.
    """
    rev, sep, path = file.partition(":")
    return path if sep and rev and not rev.startswith("/") else file

"""What twokey tells a forge: a commit status, and the answer to a waiting deployment.

The forge logic decides *what* to say; :class:`ForgeActions` says it (the forge API clients
implement it over GitHub's and GitLab's REST APIs, off the webhook's request path). The
payloads here are the exact request bodies those APIs document.
"""

from __future__ import annotations

__all__ = [
    "STATUS_CONTEXT",
    "CommitStatus",
    "DeploymentReview",
    "ForgeActions",
    "ForgeClient",
    "MergedChange",
    "ReviewRecord",
    "check_repository",
    "check_sha",
    "summary",
]

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from twokey.errors import UsageError
from twokey.model import Decision, FindingCode, Severity

STATUS_CONTEXT = "twokey/separation-of-duties"
_DESCRIPTION_MAX = 140  # GitHub refuses a longer commit status description
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_STATES = frozenset({"success", "failure", "error", "pending"})


@dataclass(frozen=True)
class CommitStatus:
    """A commit status for ``commit`` (GitHub: POST /repos/{owner}/{repo}/statuses/{sha};
    GitLab: POST /projects/:id/statuses/:sha, where ``failure`` is ``failed``)."""

    forge: str
    repository: str  # the forge's name: owner/repo, group/project
    commit: str
    state: str
    description: str
    target_url: str
    context: str = STATUS_CONTEXT

    def __post_init__(self) -> None:
        if self.state not in _STATES:
            raise ValueError(f"CommitStatus.state must be one of {sorted(_STATES)}")
        if len(self.description) > _DESCRIPTION_MAX:
            raise ValueError(f"CommitStatus.description is over {_DESCRIPTION_MAX} characters")

    def github_body(self) -> dict[str, str]:
        """The request body of GitHub's "Create a commit status"."""
        return {
            "state": self.state,
            "target_url": self.target_url,
            "description": self.description,
            "context": self.context,
        }

    def gitlab_body(self) -> dict[str, str]:
        """The request body of GitLab's "Set the pipeline status of a commit"."""
        state = {"failure": "failed", "error": "failed", "pending": "pending"}
        return {
            "state": state.get(self.state, self.state),
            "name": self.context,
            "target_url": self.target_url,
            "description": self.description,
        }


@dataclass(frozen=True)
class DeploymentReview:
    """twokey's answer to a deployment waiting for it: approved or rejected, with a comment
    naming the findings. ``callback`` is GitHub's ``deployment_callback_url``."""

    forge: str
    repository: str
    deployment: str
    environment: str
    approved: bool
    comment: str
    callback: str = ""

    def github_body(self) -> dict[str, str]:
        """The body POSTed to the ``deployment_callback_url`` ("Review custom deployment
        protection rules for a workflow run")."""
        state = "approved" if self.approved else "rejected"
        return {"environment_name": self.environment, "state": state, "comment": self.comment}

    def gitlab_body(self) -> dict[str, str]:
        """The body of GitLab's POST /projects/:id/deployments/:deployment_id/approval."""
        return {"status": "approved" if self.approved else "rejected", "comment": self.comment}


class ForgeActions(Protocol):
    """The outgoing calls; implementations retry, time out and run off the request path."""

    def set_status(self, status: CommitStatus) -> None:
        """Publish a commit status."""
        ...

    def review_deployment(self, review: DeploymentReview) -> None:
        """Approve or reject a deployment that waits for twokey."""
        ...


def summary(decision: Decision, limit: int = _DESCRIPTION_MAX) -> str:
    """One line for a status or a comment: the verdict and the codes of its deny findings."""
    denies = [f for f in decision.findings if f.severity is Severity.DENY]
    if decision.allowed:
        text = "allowed: separation of duties holds"
    elif any(f.code is FindingCode.INTERNAL_ERROR for f in denies):
        text = "twokey could not judge: " + "; ".join(f.message for f in denies)
    else:
        codes = ", ".join(dict.fromkeys(str(f.code) for f in denies))
        text = f"denied: {codes}: {denies[0].message}" if denies else "denied"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ForgeClient(Protocol):
    """One forge's REST API: the raw calls behind :class:`ForgeActions` (the outbox's worker
    makes them, off the webhook's request path)."""

    def set_status(
        self,
        repo: str,
        sha: str,
        state: str,
        description: str,
        target_url: str,
        context: str,
    ) -> None:
        """Publish a commit status (``success``, ``failure``, ``pending`` or ``error``)."""
        ...

    def review_deployment(
        self, callback_url: str, environment: str, approve: bool, comment: str
    ) -> None:
        """Approve or reject a deployment waiting on twokey (GitHub's protection rule
        callback; GitLab's deployment approval URL)."""
        ...


@dataclass(frozen=True)
class MergedChange:
    """A merged pull or merge request, as the forge reports it.

    Attributes:
        number: the PR number (GitHub) or MR iid (GitLab).
        base_ref: the branch it was merged into, ``refs/heads/<name>``.
        head: the reviewed head commit.
        landed: the commit that landed on the base branch (merge or squash commit).
        merged_at: when it was merged.
        updated_at: when the forge last changed it (the import's resume cursor).
        author: the forge login that opened it.
    """

    number: int
    base_ref: str
    head: str
    landed: str
    merged_at: datetime
    updated_at: datetime
    author: str


@dataclass(frozen=True)
class ReviewRecord:
    """One approval on the forge: who approved which head commit, and when.

    ``bot`` is the forge's own word that the account is a bot or an app; such an account never
    counts (invariant 10), and is kept for the record.
    """

    review_id: str
    login: str
    bot: bool
    commit: str
    time: datetime


def check_repository(name: str) -> str:
    """``OWNER/REPO`` (GitLab: ``GROUP/SUBGROUP/PROJECT``), refusing anything that could
    change the API path (``..``, ``?``, ``#``, spaces, a leading slash)."""
    if not _REPOSITORY.fullmatch(name) or ".." in name:
        raise UsageError(f"not a repository name OWNER/REPO: {name!r}")
    return name


def check_sha(sha: str) -> str:
    """A full lower-case commit id (SHA-1 or SHA-256) or :class:`UsageError`."""
    if not _SHA.fullmatch(sha):
        raise UsageError(f"not a full commit id: {sha!r}")
    return sha

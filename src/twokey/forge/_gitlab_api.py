"""The GitLab REST API (v4): commit statuses, deployment approvals, merged merge requests and
their approvals.

Credentials: ``TWOKEY_GITLAB_TOKEN``, a project, group or personal access token with the
``api`` scope, sent as ``PRIVATE-TOKEN`` (docs/forges.md). GitLab answers pages with ``Link``
and ``X-Next-Page`` headers and limits with ``RateLimit-*`` headers; :mod:`._http` reads both.
"""

from __future__ import annotations

__all__ = ["GITLAB_API", "GitLabApi", "gitlab_auth"]

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from twokey.errors import ConfigError
from twokey.forge._actions import MergedChange, ReviewRecord, check_repository, check_sha
from twokey.forge._http import (
    ForgeClient,
    answer_field,
    answer_sha,
    answer_time,
)

GITLAB_API = "https://gitlab.com/api/v4"
# twokey's commit status states, in GitLab's words (GitLab has no "failure"/"error").
_STATES = {"success": "success", "failure": "failed", "error": "failed", "pending": "pending"}
_PER_PAGE = {"per_page": "100"}


def gitlab_auth(env: Mapping[str, str]) -> Callable[[], Mapping[str, str]]:
    """The ``PRIVATE-TOKEN`` header from ``TWOKEY_GITLAB_TOKEN``.

    Raises:
        ConfigError: no token configured.
    """
    token = env.get("TWOKEY_GITLAB_TOKEN", "").strip()
    if not token:
        raise ConfigError("no GitLab credentials: set TWOKEY_GITLAB_TOKEN (scope api)")
    return lambda: {"PRIVATE-TOKEN": token}


def _project(repo: str) -> str:
    """The URL-encoded project path GitLab takes in place of a numeric id."""
    return quote(check_repository(repo), safe="")


class GitLabApi(ForgeClient):
    """GitLab's REST API for one token (implements ``ForgeClient``)."""

    default_url = GITLAB_API

    def set_status(
        self, repo: str, sha: str, state: str, description: str, target_url: str, context: str
    ) -> None:
        """``POST /projects/:id/statuses/:sha`` (the status is named by ``context``)."""
        if state not in _STATES:
            raise ValueError(f"no commit status {state!r}")
        body = {
            "state": _STATES[state],
            "name": context,
            "description": description,
            "target_url": target_url,
        }
        self.http.json("POST", f"projects/{_project(repo)}/statuses/{check_sha(sha)}", body)

    def review_deployment(
        self, callback_url: str, environment: str, approve: bool, comment: str
    ) -> None:
        """``POST /projects/:id/deployments/:deployment_id/approval``; ``callback_url`` is
        that URL (the gateway builds it from the deployment event)."""
        del environment  # the deployment id in the URL names it
        body = {"status": "approved" if approve else "rejected", "comment": comment}
        self.http.json("POST", callback_url, body)

    def merged(self, repo: str, since: datetime) -> Iterator[MergedChange]:
        """Merged merge requests updated at or after ``since`` (GitLab filters them)."""
        params = {
            "state": "merged",
            "order_by": "updated_at",
            "sort": "desc",
            "updated_after": since.isoformat(),
            **_PER_PAGE,
        }
        for page in self.http.pages(f"projects/{_project(repo)}/merge_requests", params):
            for item in page.items:
                if answer_time(answer_field(item, "updated_at", str)) < since:
                    return  # an older one: GitLab ignored the filter; the rest are older
                yield _merge_request(item)

    def approvals_of(self, repo: str, change: MergedChange) -> list[ReviewRecord]:
        """Who approved the merge request (``GET …/merge_requests/:iid/approvals``).

        GitLab names no commit per approval: the approval is taken for the head that merged,
        which holds only when the project removes approvals on new commits (docs/forges.md).
        """
        iid = change.number
        data = self.http.json("GET", f"projects/{_project(repo)}/merge_requests/{iid}/approvals")
        records = []
        for entry in answer_field(data, "approved_by", list):
            user = answer_field(entry, "user", dict)
            login = answer_field(user, "username", str).lower()
            when = entry.get("approved_at") if isinstance(entry, dict) else None
            records.append(
                ReviewRecord(
                    review_id=f"{iid}:{login}",
                    login=login,
                    bot=bool(user.get("bot")) or _is_bot(login),
                    commit=change.head,
                    time=answer_time(when) if isinstance(when, str) else change.merged_at,
                )
            )
        return records


def _is_bot(login: str) -> bool:
    """GitLab's project and group access tokens act as ``project_<id>_bot_<hash>`` users."""
    return login.startswith(("project_", "group_")) and "_bot" in login


def _merge_request(item: dict[str, Any]) -> MergedChange:
    landed = item.get("squash_commit_sha") or item.get("merge_commit_sha") or item.get("sha")
    return MergedChange(
        number=answer_field(item, "iid", int),
        base_ref="refs/heads/" + answer_field(item, "target_branch", str),
        head=answer_sha(answer_field(item, "sha", str)),
        landed=answer_sha(landed) if isinstance(landed, str) else "",
        merged_at=answer_time(answer_field(item, "merged_at", str)),
        updated_at=answer_time(answer_field(item, "updated_at", str)),
        author=answer_field(answer_field(item, "author", dict), "username", str).lower(),
    )

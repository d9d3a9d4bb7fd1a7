"""The GitHub REST API: commit statuses, deployment protection rule answers, merged pull
requests and their reviews.

Credentials (docs/forges.md): a token (``TWOKEY_GITHUB_TOKEN``: a personal or fine-grained
token), or a GitHub App (``TWOKEY_GITHUB_APP_ID``, ``TWOKEY_GITHUB_APP_KEY`` the path of the
app's private key PEM, ``TWOKEY_GITHUB_INSTALLATION_ID``). The app signs a short JWT (RS256,
``iss`` the app id, ``exp`` at most 10 minutes ahead) and exchanges it at
``POST /app/installations/{id}/access_tokens`` for an installation token, kept until five
minutes before its ``expires_at``.
"""

from __future__ import annotations

__all__ = ["GITHUB_API", "AppCredentials", "GitHubApi", "github_auth"]

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from twokey.errors import ConfigError
from twokey.forge._actions import MergedChange, ReviewRecord, check_repository, check_sha
from twokey.forge._http import (
    ForgeApiError,
    ForgeClient,
    ForgeHttp,
    answer_field,
    answer_sha,
    answer_time,
)

GITHUB_API = "https://api.github.com"
_JWT_LIFETIME = 540  # seconds; GitHub refuses more than 600
_CLOCK_SKEW = 60  # iat this far in the past, as GitHub advises against clock drift
_RENEW_BEFORE = 300  # seconds before expiry an installation token is renewed
_STATES = {"success", "failure", "pending", "error"}
_DESCRIPTION_LIMIT = 140  # GitHub truncates longer descriptions with an error
_PER_PAGE = {"per_page": "100"}


@dataclass(frozen=True)
class AppCredentials:
    """A GitHub App: its id, private key and the installation acting on the repositories."""

    app_id: str
    private_key: rsa.RSAPrivateKey
    installation_id: str

    @classmethod
    def load(cls, app_id: str, key_file: Path, installation_id: str) -> AppCredentials:
        """Read the app's private key PEM.

        Raises:
            ConfigError: the file is unreadable or not an RSA private key.
        """
        try:
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"GitHub App key {key_file}: {exc}") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigError(f"GitHub App key {key_file}: not an RSA private key")
        if not app_id.isdigit() or not installation_id.isdigit():
            raise ConfigError("GitHub App and installation ids are numbers")
        return cls(app_id, key, installation_id)

    def jwt(self, now: float) -> str:
        """The app's JWT (RFC 7519, RS256) valid for nine minutes from ``now``."""
        header = {"alg": "RS256", "typ": "JWT"}
        claims = {
            "iat": int(now) - _CLOCK_SKEW,
            "exp": int(now) + _JWT_LIFETIME,
            "iss": self.app_id,
        }
        signing_input = f"{_b64(header)}.{_b64(claims)}".encode()
        signature = self.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode()}.{_b64url(signature)}"


def _b64(data: dict[str, Any]) -> str:
    return _b64url(json.dumps(data, separators=(",", ":")).encode())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class _InstallationToken:
    """An installation token, renewed a few minutes before it expires (thread-safe)."""

    def __init__(self, app: AppCredentials, api_url: str, clock: Callable[[], float]) -> None:
        self._app = app
        self._api_url = api_url
        self._clock = clock
        self._lock = threading.Lock()
        self._token = ""
        self._expires = 0.0

    def headers(self) -> dict[str, str]:
        with self._lock:
            if self._clock() >= self._expires - _RENEW_BEFORE:
                self._renew()
            return {"Authorization": f"token {self._token}"}

    def _renew(self) -> None:
        jwt = self._app.jwt(self._clock())
        http = ForgeHttp(self._api_url, lambda: {"Authorization": f"Bearer {jwt}"})
        try:
            data = http.json("POST", f"app/installations/{self._app.installation_id}/access_tokens")
        finally:
            http.close()
        token, expires = (data or {}).get("token"), (data or {}).get("expires_at")
        if not isinstance(token, str) or not token or not isinstance(expires, str):
            raise ForgeApiError("GitHub gave no installation token")
        self._token = token
        self._expires = answer_time(expires).timestamp()


def github_auth(
    env: Mapping[str, str], api_url: str = GITHUB_API, clock: Callable[[], float] = time.time
) -> Callable[[], Mapping[str, str]]:
    """The headers supplier configured by the environment (an app wins over a token).

    Raises:
        ConfigError: nothing configured, or an app half configured.
    """
    app_vars = ("TWOKEY_GITHUB_APP_ID", "TWOKEY_GITHUB_APP_KEY", "TWOKEY_GITHUB_INSTALLATION_ID")
    present = [name for name in app_vars if env.get(name)]
    if present and len(present) < len(app_vars):
        missing = ", ".join(n for n in app_vars if n not in present)
        raise ConfigError(f"GitHub App half configured: set {missing} too")
    if present:
        app = AppCredentials.load(env[app_vars[0]], Path(env[app_vars[1]]), env[app_vars[2]])
        return _InstallationToken(app, api_url, clock).headers
    token = env.get("TWOKEY_GITHUB_TOKEN", "").strip()
    if not token:
        raise ConfigError(
            "no GitHub credentials: set TWOKEY_GITHUB_TOKEN, or the GitHub App's "
            + ", ".join(app_vars)
        )
    return lambda: {"Authorization": f"token {token}"}


class GitHubApi(ForgeClient):
    """GitHub's REST API for one installation or token (implements ``ForgeClient``)."""

    default_url = GITHUB_API

    def set_status(
        self, repo: str, sha: str, state: str, description: str, target_url: str, context: str
    ) -> None:
        """``POST /repos/{repo}/statuses/{sha}``."""
        if state not in _STATES:
            raise ValueError(f"GitHub has no commit status {state!r}")
        body = {
            "state": state,
            "description": description[:_DESCRIPTION_LIMIT],
            "target_url": target_url,
            "context": context,
        }
        self.http.json("POST", f"repos/{check_repository(repo)}/statuses/{check_sha(sha)}", body)

    def review_deployment(
        self, callback_url: str, environment: str, approve: bool, comment: str
    ) -> None:
        """Answer a ``deployment_protection_rule`` event at its ``deployment_callback_url``."""
        state = "approved" if approve else "rejected"
        body = {"environment_name": environment, "state": state, "comment": comment}
        self.http.json("POST", callback_url, body)

    def merged(self, repo: str, since: datetime) -> Iterator[MergedChange]:
        """Merged pull requests updated at or after ``since``, newest first.

        The list is read by ``updated_at`` descending and stops at the first older one, so a
        resumed import reads only the pages with something new.
        """
        path = f"repos/{check_repository(repo)}/pulls"
        params = {"state": "closed", "sort": "updated", "direction": "desc", **_PER_PAGE}
        for page in self.http.pages(path, params):
            for item in page.items:
                if answer_time(answer_field(item, "updated_at", str)) < since:
                    return
                if item.get("merged_at"):
                    yield _pull(item)

    def approvals_of(self, repo: str, change: MergedChange) -> list[ReviewRecord]:
        """The APPROVED reviews of one pull request that are still in force.

        A reviewer's later review (changes requested, dismissed) replaces their approval, as
        GitHub's own branch protection counts them.
        """
        path = f"repos/{check_repository(repo)}/pulls/{change.number}/reviews"
        latest: dict[str, tuple[str, ReviewRecord]] = {}
        for page in self.http.pages(path, _PER_PAGE):
            for item in page.items:
                state, review = _review(item)
                if state in {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}:
                    latest[review.login] = (state, review)
        return [review for state, review in latest.values() if state == "APPROVED"]


def _pull(item: dict[str, Any]) -> MergedChange:
    base = answer_field(item, "base", dict)
    head = answer_field(item, "head", dict)
    landed = item.get("merge_commit_sha")
    return MergedChange(
        number=answer_field(item, "number", int),
        base_ref="refs/heads/" + answer_field(base, "ref", str),
        head=answer_sha(answer_field(head, "sha", str)),
        landed=answer_sha(landed) if isinstance(landed, str) else "",
        merged_at=answer_time(answer_field(item, "merged_at", str)),
        updated_at=answer_time(answer_field(item, "updated_at", str)),
        author=answer_field(answer_field(item, "user", dict), "login", str).lower(),
    )


def _review(item: dict[str, Any]) -> tuple[str, ReviewRecord]:
    user = answer_field(item, "user", dict)
    review = ReviewRecord(
        review_id=str(answer_field(item, "id", int)),
        login=answer_field(user, "login", str).lower(),
        bot=user.get("type") == "Bot",
        commit=answer_sha(answer_field(item, "commit_id", str)),
        time=answer_time(answer_field(item, "submitted_at", str)),
    )
    return answer_field(item, "state", str), review

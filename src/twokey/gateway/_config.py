"""The gateway's configuration: one data directory, a database URL, a repository, secrets."""

from __future__ import annotations

__all__ = ["GatewayConfig"]

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

_CONFIG_ENV = "TWOKEY_GATEWAY_CONFIG"


@dataclass(frozen=True)
class GatewayConfig:
    """What ``twokey serve`` was told; every process of one gateway shares it.

    ``data`` holds the SQLite database (unless ``database`` names one) and the ledger's signing
    key (``ledger.key``, created on the first start; several processes on one PostgreSQL share
    it through ``key``). ``repo`` is the git directory whose protected default branch holds the
    trusted policy, and whose commits the gateway judges; ``repository`` is its id in evidence
    (default: ``git config twokey.repository``, else the directory's name without ``.git``).
    """

    data: Path
    database: str = ""
    repo: Path | None = None
    repository: str = ""
    key: Path | None = None
    base_url: str = "http://127.0.0.1:8080"
    origin: str = "twokey-gateway"
    token_ttl: int = 8 * 3600  # seconds a person's API token lives
    session_ttl: int = 8 * 3600  # seconds a browser session lives
    max_body: int = 1 << 20  # bytes of a JSON request body
    github_secret: str = ""
    gitlab_token: str = ""
    # Forges (docs/forges.md): the forge's name of the repository ``repo`` mirrors (deliveries
    # for it are judged; others only recorded), the API roots ("" for github.com/gitlab.com),
    # and how often pending forge deployments are judged again (seconds).
    github_repository: str = ""
    gitlab_repository: str = ""
    github_api_url: str = ""
    gitlab_api_url: str = ""
    forge_reevaluate: float = 60.0
    # OpenID Connect sign-in (ADR 0025): the provider, this gateway's client at it, and the
    # ID token claim that names a person through the policy's ``sso:`` aliases.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_claim: str = "email"
    extra: dict[str, Any] = field(default_factory=dict)  # feature settings (run commands, SSO)

    @property
    def database_url(self) -> str:
        """The database URL: ``database``, else ``gateway.db`` in the data directory."""
        return self.database or f"sqlite://{self.data / 'gateway.db'}"

    @property
    def key_path(self) -> Path:
        """The ledger's note signing key (private; 0600)."""
        return self.key or self.data / "ledger.key"

    def with_environment(self, env: os._Environ[str] | dict[str, str]) -> GatewayConfig:
        """Secrets from the environment when the configuration leaves them empty."""
        values = asdict(self)
        values["github_secret"] = self.github_secret or env.get("TWOKEY_GITHUB_WEBHOOK_SECRET", "")
        values["gitlab_token"] = self.gitlab_token or env.get("TWOKEY_GITLAB_WEBHOOK_TOKEN", "")
        values["oidc_client_secret"] = self.oidc_client_secret or env.get(
            "TWOKEY_OIDC_CLIENT_SECRET", ""
        )
        return GatewayConfig(**values)

    def to_json(self) -> str:
        """The configuration as JSON (how ``twokey serve`` hands it to worker processes)."""
        values = asdict(self)
        for name in ("data", "repo", "key"):
            values[name] = None if values[name] is None else str(values[name])
        return json.dumps(values, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> GatewayConfig:
        """The inverse of :meth:`to_json`."""
        values = json.loads(text)
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in values.items() if k in known}
        for name in ("data", "repo", "key"):
            if values.get(name) is not None:
                values[name] = Path(values[name])
        return cls(**values)

    @classmethod
    def from_environment(cls) -> GatewayConfig:
        """The configuration ``twokey serve`` put in ``$TWOKEY_GATEWAY_CONFIG``."""
        return cls.from_json(os.environ[_CONFIG_ENV])


CONFIG_ENV = _CONFIG_ENV

"""The gateway (``twokey serve``): where operators deploy and everyone sees the chain of custody.

An ASGI service (FastAPI + uvicorn) on one database (SQLite in a data directory, or
PostgreSQL); stateless apart from it, so several processes serve one database. Each feature is
a module with a router; every decision goes through the doors' pipeline and is recorded in the
ledger before it takes effect. See docs/gateway.md and ADR 0024.
"""

from __future__ import annotations

__all__ = [
    "CONFIG_ENV",
    "ApprovalView",
    "Authorization",
    "AuthorizationRefused",
    "Caller",
    "DeployRefused",
    "DeployService",
    "DeployView",
    "Expected",
    "Gateway",
    "GatewayConfig",
    "Tokens",
    "create_app",
    "credential_of",
    "prepare_demo",
    "seed_demo",
    "sign_authorization",
    "sign_in_codes",
    "verify_authorization",
]

from twokey.gateway._app import create_app
from twokey.gateway._auth import Caller, Tokens, credential_of
from twokey.gateway._authorization import (
    Authorization,
    AuthorizationRefused,
    Expected,
    sign_authorization,
    verify_authorization,
)
from twokey.gateway._config import CONFIG_ENV, GatewayConfig
from twokey.gateway._demo import prepare_demo, seed_demo, sign_in_codes
from twokey.gateway._deploys import ApprovalView, DeployRefused, DeployService, DeployView
from twokey.gateway._state import Gateway

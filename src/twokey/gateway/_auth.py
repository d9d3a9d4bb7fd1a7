"""Who is calling: API tokens, browser sessions and their CSRF tokens.

A token is 32 random bytes, shown once, stored only as its SHA-256 (``twokey_gateway_tokens``),
revocable, with an expiry, and bound to the credential it was issued for
(``twokey_gateway_token_credentials``): the SSH key that signed the login (``key:...``; a
browser session opened with a one-time code inherits the key of the token that asked for the
code), the single sign-on identity (``sso:...``) or the service (``service:<id>``). Every
request checks that credential against the trusted policy (read again at most once a second):
a key taken out of a person's entry, revoked or past its validity, an ``sso:`` alias removed,
or a service no longer listed ends the tokens issued for it, although the person may still be
listed. A token without a recorded credential is refused.

Kinds: ``person`` (``twokey login``), ``session`` (the browser's cookie, from a one-time code
or single sign-on) and ``service`` (CI; a service never counts as a person). A state-changing
request made with the session cookie must carry the session's CSRF token (header
``X-CSRF-Token`` or form field ``csrf``): an HMAC of the session under the gateway's key, so
every process of the gateway computes the same one without storing it.
"""

from __future__ import annotations

__all__ = [
    "SESSION_COOKIE",
    "Caller",
    "Tokens",
    "authenticated",
    "credential_of",
    "csrf_token",
    "optional_caller",
    "person",
    "refusal",
    "still_trusted",
]

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request

from twokey.model import Alias, AliasKind

if TYPE_CHECKING:
    from twokey.forge import Database
    from twokey.gateway._state import Gateway
    from twokey.policy import Policy

SESSION_COOKIE = "twokey_session"
KINDS = ("person", "session", "service")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

TABLES = (
    """CREATE TABLE IF NOT EXISTS twokey_gateway_tokens (
        hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        name TEXT NOT NULL,
        created TEXT NOT NULL,
        expires TEXT NOT NULL,
        revoked TEXT NOT NULL DEFAULT ''
    )""",
    # A table of its own (not a column) so a database from before needs no migration: its
    # tokens have no credential and are refused (their holders sign in again).
    """CREATE TABLE IF NOT EXISTS twokey_gateway_token_credentials (
        hash TEXT PRIMARY KEY,
        credential TEXT NOT NULL
    )""",
)


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: a person (token or session) or a service."""

    subject: str
    kind: str
    token_hash: str
    cookie: bool = False
    credential: str = ""  # what the token was issued for: key:..., sso:... or service:<id>

    @property
    def person(self) -> str | None:
        """The policy id of the person calling; None for a service."""
        return None if self.kind == "service" else self.subject


@dataclass(frozen=True)
class TokenInfo:
    """A token as ``twokey tokens list`` shows it (never the token itself)."""

    id: str  # the first 12 hex digits of its hash
    kind: str
    subject: str
    name: str
    created: str
    expires: str
    revoked: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    """The token table of one gateway database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def issue(
        self, kind: str, subject: str, name: str, now: datetime, ttl: int, *, credential: str
    ) -> str:
        """A new token bound to ``credential`` (returned once; only its hash is kept)."""
        if kind not in KINDS:
            raise ValueError(f"unknown token kind {kind!r}")
        if not credential.startswith(_CREDENTIAL_KINDS):
            raise ValueError(
                f"a token is bound to a key:, sso: or service: credential, not {credential!r}"
            )
        token = "tk_" + secrets.token_urlsafe(32)
        expires = now + timedelta(seconds=ttl)
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO twokey_gateway_tokens (hash, kind, subject, name, created, expires)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (_hash(token), kind, subject, name, now.isoformat(), expires.isoformat()),
            )
            self.db.execute(
                "INSERT INTO twokey_gateway_token_credentials (hash, credential) VALUES (?, ?)",
                (_hash(token), credential),
            )
        return token

    def caller(self, token: str, now: datetime, *, cookie: bool = False) -> Caller | None:
        """The caller a token stands for; None when unknown, expired or revoked."""
        digest = _hash(token)
        rows = self.db.rows(
            "SELECT t.kind, t.subject, t.expires, t.revoked, c.credential"
            " FROM twokey_gateway_tokens t JOIN twokey_gateway_token_credentials c"
            " ON c.hash = t.hash WHERE t.hash = ?",
            (digest,),
        )
        if not rows:
            return None  # unknown, or from before credentials were recorded
        kind, subject, expires, revoked, credential = rows[0]
        if revoked or datetime.fromisoformat(expires) <= now:
            return None
        if cookie != (kind == "session"):
            return None  # a session is only a cookie; an API token is never a cookie
        return Caller(subject, kind, digest, cookie, credential)

    def revoke(self, token_id: str, now: datetime, subject: str | None = None) -> int:
        """Revoke the tokens whose hash starts with ``token_id`` (12+ hex digits); only the
        ``subject``'s own when given. Returns how many were revoked."""
        if len(token_id) < 12 or any(c not in "0123456789abcdef" for c in token_id):
            raise ValueError("a token id is at least 12 hex digits (twokey tokens list)")
        sql = "UPDATE twokey_gateway_tokens SET revoked = ? WHERE hash LIKE ? AND revoked = ''"
        params: list[str] = [now.isoformat(), token_id + "%"]
        if subject is not None:
            sql += " AND subject = ?"
            params.append(subject)
        return self.db.execute(sql, params)

    def revoke_hash(self, digest: str, now: datetime) -> None:
        """Revoke one token by its full hash (sign-out)."""
        self.db.execute(
            "UPDATE twokey_gateway_tokens SET revoked = ? WHERE hash = ? AND revoked = ''",
            (now.isoformat(), digest),
        )

    def list(self, subject: str | None = None) -> list[TokenInfo]:
        """Every token (of ``subject`` when given), newest first."""
        sql = (
            "SELECT hash, kind, subject, name, created, expires, revoked FROM twokey_gateway_tokens"
        )
        params: tuple[str, ...] = ()
        if subject is not None:
            sql += " WHERE subject = ?"
            params = (subject,)
        rows = self.db.rows(sql + " ORDER BY created DESC", params)
        return [TokenInfo(r[0][:12], *r[1:]) for r in rows]


def csrf_token(gateway: Gateway, caller: Caller) -> str:
    """The CSRF token of a browser session (empty for API tokens, which need none)."""
    if not caller.cookie:
        return ""
    key = hashlib.sha256(b"twokey-csrf\0" + gateway.signer.seed).digest()
    return hmac.new(key, caller.token_hash.encode(), hashlib.sha256).hexdigest()


def gateway_of(request: Request) -> Gateway:
    """The gateway state the app's lifespan opened."""
    gateway: Gateway = request.app.state.gateway
    return gateway


def optional_caller(request: Request) -> Caller | None:
    """The caller, or None when the request carries no valid credentials."""
    gateway = gateway_of(request)
    tokens = Tokens(gateway.db)
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return tokens.caller(value.strip(), gateway.now())
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return tokens.caller(cookie, gateway.now(), cookie=True)
    return None


async def authenticated(request: Request) -> Caller:
    """The caller; 401 without valid credentials, 403 for a cookie request without its CSRF
    token (on every method that changes state)."""
    from starlette.concurrency import run_in_threadpool  # noqa: PLC0415

    caller = await run_in_threadpool(optional_caller, request)
    if caller is None:
        raise HTTPException(
            401,
            "sign in first: an API token (Authorization: Bearer, from twokey login) or a "
            "browser session",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if caller.cookie and request.method not in _SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        if not sent and "form" in request.headers.get("content-type", ""):
            form = await request.form()
            value = form.get("csrf", "")
            sent = value if isinstance(value, str) else ""
        expected = csrf_token(gateway_of(request), caller)
        if not sent or not hmac.compare_digest(sent, expected):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page and retry")
    reason = await run_in_threadpool(still_trusted, request, caller)
    if reason is not None:
        raise HTTPException(403, reason)
    return caller


def still_trusted(request: Request, caller: Caller) -> str | None:
    """Why the trusted policy no longer stands behind the caller's token, or None."""
    gateway = gateway_of(request)
    return refusal(_trusted(gateway), caller, gateway.now())


_POLICY_TTL = 1.0  # seconds a process trusts the policy it read (reading it costs ~10 ms)
_policy_lock = threading.Lock()
_policy_cache: dict[int, tuple[float, Policy]] = {}
_CREDENTIAL_KINDS = ("key:", "sso:", "service:")


def _trusted(gateway: Gateway) -> Policy:
    """The trusted policy, read again at most once a second."""
    now = time.monotonic()
    with _policy_lock:
        cached = _policy_cache.get(id(gateway))
    if cached is not None and cached[0] > now:
        return cached[1]
    policy = gateway.policy().policy
    with _policy_lock:
        _policy_cache[id(gateway)] = (now + _POLICY_TTL, policy)
    return policy


def credential_of(policy: Policy, subject: str) -> str:
    """A credential the policy gives ``subject`` (a service, or a person's first key or
    ``sso:`` alias): for tokens the server issues on its own (the demo, tests).

    Raises:
        ValueError: the policy lists no such principal, or a person with no key or sso alias.
    """
    principal = policy.principals.get(subject)
    if principal is None:
        raise ValueError(f"{subject!r} is not in the policy")
    if not principal.is_person:
        return f"service:{subject}"
    for alias in principal.aliases:
        if alias.kind in (AliasKind.KEY, AliasKind.SSO):
            return str(alias)
    raise ValueError(f"{subject} has no key and no sso alias in the policy")


def refusal(policy: Policy, caller: Caller, now: datetime) -> str | None:
    """Why the trusted policy no longer stands behind a caller's token, or None.

    A person must still be listed, and the key or sso identity the token was issued for must
    still be theirs (and the key valid now); a service must still be a service of the policy.
    """
    if caller.kind == "service":
        return _service_refusal(policy, caller)
    principal = policy.principals.get(caller.subject)
    if principal is None or not principal.is_person:
        return f"{caller.subject} is no longer a person in the trusted policy: sign-in refused"
    kind, _, value = caller.credential.partition(":")
    if kind not in ("key", "sso") or not value:
        return "this token names no credential: sign in again"
    alias = Alias(AliasKind(kind), value)
    if policy.aliases.get(alias) != caller.subject:
        what = "key" if kind == "key" else "single sign-on identity"
        return (
            f"the {what} this token was issued for is no longer {caller.subject}'s in the "
            "trusted policy: sign in again"
        )
    validity = policy.key_validity.get(alias)
    if validity is not None and not validity.valid_at(now):
        return "the key this token was issued for is revoked or not valid now: sign in again"
    return None


def _service_refusal(policy: Policy, caller: Caller) -> str | None:
    principal = policy.principals.get(caller.subject)
    listed = principal is not None and not principal.is_person
    if not listed or caller.credential != f"service:{caller.subject}":
        return f"{caller.subject} is no longer a service in the trusted policy: token refused"
    return None


def person(request: Request, caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
    """A person the trusted policy lists now (``authenticated`` checked that); 403 for a
    service token (services never count as a person)."""
    if caller.person is None:
        raise HTTPException(
            403,
            f"{caller.subject} is a service: only a person may do this (services never "
            "count as a person)",
        )
    return caller


def setup(gateway: Gateway) -> None:
    """Create the token table."""
    gateway.create_tables(TABLES)

"""Who is calling: API tokens, browser sessions and their CSRF tokens.

A token is 32 random bytes, shown once, stored only as its SHA-256 (``twokey_gateway_tokens``),
revocable, with an expiry. Kinds: ``person`` (``twokey login``), ``session`` (the browser's
cookie, from a one-time code or single sign-on) and ``service`` (CI; a service never counts
as a person). A state-changing request made with the session cookie must carry the session's
CSRF token (header ``X-CSRF-Token`` or form field ``csrf``): an HMAC of the session under the
gateway's key, so every process of the gateway computes the same one without storing it.
"""

from __future__ import annotations

__all__ = [
    "SESSION_COOKIE",
    "Caller",
    "Tokens",
    "authenticated",
    "csrf_token",
    "optional_caller",
    "person",
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

if TYPE_CHECKING:
    from twokey.forge import Database
    from twokey.gateway._state import Gateway

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
)


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: a person (token or session) or a service."""

    subject: str
    kind: str
    token_hash: str
    cookie: bool = False

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

    def issue(self, kind: str, subject: str, name: str, now: datetime, ttl: int) -> str:
        """A new token (returned once; only its hash is kept)."""
        if kind not in KINDS:
            raise ValueError(f"unknown token kind {kind!r}")
        token = "tk_" + secrets.token_urlsafe(32)
        expires = now + timedelta(seconds=ttl)
        self.db.execute(
            "INSERT INTO twokey_gateway_tokens (hash, kind, subject, name, created, expires)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (_hash(token), kind, subject, name, now.isoformat(), expires.isoformat()),
        )
        return token

    def caller(self, token: str, now: datetime, *, cookie: bool = False) -> Caller | None:
        """The caller a token stands for; None when unknown, expired or revoked."""
        digest = _hash(token)
        rows = self.db.rows(
            "SELECT kind, subject, expires, revoked FROM twokey_gateway_tokens WHERE hash = ?",
            (digest,),
        )
        if not rows:
            return None
        kind, subject, expires, revoked = rows[0]
        if revoked or datetime.fromisoformat(expires) <= now:
            return None
        if cookie != (kind == "session"):
            return None  # a session is only a cookie; an API token is never a cookie
        return Caller(subject, kind, digest, cookie)

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
    return caller


_PEOPLE_TTL = 1.0  # seconds a process trusts its list of people (reading the policy costs ~10 ms)
_people_lock = threading.Lock()
_people_cache: dict[int, tuple[float, frozenset[str]]] = {}


def _people(gateway: Gateway) -> frozenset[str]:
    """The ids of the people the trusted policy lists, read again at most once a second."""
    now = time.monotonic()
    with _people_lock:
        cached = _people_cache.get(id(gateway))
    if cached is not None and cached[0] > now:
        return cached[1]
    policy = gateway.policy().policy
    people = frozenset(pid for pid, p in policy.principals.items() if p.is_person)
    with _people_lock:
        _people_cache[id(gateway)] = (now + _PEOPLE_TTL, people)
    return people


def person(request: Request, caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
    """A person the trusted policy lists now; 403 for a service token (services never count
    as a person) and for someone the policy no longer lists (their tokens die with them)."""
    if caller.person is None:
        raise HTTPException(
            403,
            f"{caller.subject} is a service: only a person may do this (services never "
            "count as a person)",
        )
    if caller.person not in _people(gateway_of(request)):
        raise HTTPException(
            403, f"{caller.person} is no longer a person in the trusted policy: sign-in refused"
        )
    return caller


def setup(gateway: Gateway) -> None:
    """Create the token table."""
    gateway.create_tables(TABLES)

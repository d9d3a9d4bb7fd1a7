"""Signing in: SSH-key sign-in for the CLI, one-time browser codes, service tokens (ADR 0025).

A person proves who they are with a key the trusted policy lists for them:

1. ``POST /v1/login/nonce`` gives a one-time nonce (random, bound to this gateway's origin,
   two minutes, single use; only its hash is stored);
2. the CLI signs the nonce's exact bytes with ``ssh-keygen -Y sign -n twokey-login``;
3. ``POST /v1/login`` consumes the nonce (once, atomically, whatever follows), verifies the
   SSHSIG over those bytes, resolves its key through the policy to a person (not a service,
   not revoked, valid now) and issues a ``person`` token.

A person may then ask for a one-time browser code (``ABCD-EFGH``, five minutes, single use,
stored hashed) which a browser redeems for a ``session`` cookie. Every sign-in, refusal,
code, session, token creation and revocation is an ``access`` entry in the ledger.
"""

from __future__ import annotations

__all__ = [
    "CODE_TTL",
    "NAMESPACE",
    "NONCE_TTL",
    "SignInError",
    "SignedIn",
    "create_service_token",
    "digest",
    "is_person",
    "issue_code",
    "issue_token",
    "new_nonce",
    "open_session",
    "record_access",
    "redeem_code",
    "revoke_token",
    "sign_in",
    "sign_out",
    "sweep",
    "tokens_of",
]

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from twokey.errors import TwokeyError, UsageError
from twokey.evidence import EvidenceError, fingerprint, parse_sshsig, verify_sshsig
from twokey.gateway._auth import Caller, Tokens
from twokey.ledger import AccessRecord, to_entry
from twokey.model import Alias

if TYPE_CHECKING:
    from twokey.gateway._state import Gateway
    from twokey.policy import Policy

NAMESPACE = "twokey-login"  # the SSHSIG namespace: a login signature is nothing else
NONCE_TTL = 120
CODE_TTL = 300
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # A-Z 2-9 without I and O (32 symbols)
MAX_SIGNATURE = 16 * 1024
SERVICE_TTL_DAYS = 90

TABLES = (
    """CREATE TABLE IF NOT EXISTS twokey_gateway_nonces (
        hash TEXT PRIMARY KEY,
        person TEXT NOT NULL,
        expires TEXT NOT NULL,
        used TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE TABLE IF NOT EXISTS twokey_gateway_codes (
        hash TEXT PRIMARY KEY,
        person TEXT NOT NULL,
        expires TEXT NOT NULL,
        used TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE TABLE IF NOT EXISTS twokey_gateway_token_creators (
        hash TEXT PRIMARY KEY,
        creator TEXT NOT NULL
    )""",
    # The credential a browser code's session inherits (the asking token's key or identity).
    """CREATE TABLE IF NOT EXISTS twokey_gateway_code_credentials (
        hash TEXT PRIMARY KEY,
        credential TEXT NOT NULL
    )""",
)


# The two one-time tables, spelt out (never formatted from input).
_SELECT = {
    t: f"SELECT person, expires FROM {t} WHERE hash = ?"  # noqa: S608 - constant names
    for t in ("twokey_gateway_nonces", "twokey_gateway_codes")
}
_USE = {
    t: f"UPDATE {t} SET used = ? WHERE hash = ? AND used = ''"  # noqa: S608 - constant names
    for t in ("twokey_gateway_nonces", "twokey_gateway_codes")
}


_SWEEP = {
    t: f"DELETE FROM {t} WHERE expires < ?"  # noqa: S608 - constant names
    for t in ("twokey_gateway_nonces", "twokey_gateway_codes", "twokey_gateway_sso")
}


def sweep(gateway: Gateway, table: str) -> None:
    """Forget one-time secrets that expired over an hour ago (so the table stays small; an
    expired one is refused either way). Times are UTC ISO 8601, so text order is time order."""
    cutoff = gateway.now() - timedelta(hours=1)
    gateway.db.execute(_SWEEP[table], (cutoff.isoformat(),))


class SignInError(TwokeyError):
    """A sign-in refused (401): the message is the one clear reason."""


@dataclass(frozen=True)
class SignedIn:
    """A token just issued (shown once) and whom it stands for."""

    token: str
    person: str
    expires: datetime

    def to_dict(self) -> dict[str, str]:
        """The answer of ``POST /v1/login``."""
        return {"token": self.token, "person": self.person, "expires": self.expires.isoformat()}


def digest(text: str) -> str:
    """SHA-256 hex of a secret (tokens, nonces, codes are stored only as this)."""
    return hashlib.sha256(text.encode()).hexdigest()


def record_access(gateway: Gateway, action: str, person: str, method: str, **more: str) -> None:
    """Append an ``access`` entry (before what it records takes effect; 503 when it cannot)."""
    record = AccessRecord("gateway", gateway.repository, action, person, method, **more)
    gateway.record([to_entry(record, gateway.now())])


def new_nonce(gateway: Gateway, person: str = "") -> tuple[str, datetime]:
    """A one-time nonce (and its expiry), bound to this gateway and, when named, ``person``."""
    sweep(gateway, "twokey_gateway_nonces")
    nonce = f"{NAMESPACE}:{gateway.config.origin}:{secrets.token_urlsafe(24)}"
    expires = gateway.now() + timedelta(seconds=NONCE_TTL)
    gateway.db.execute(
        "INSERT INTO twokey_gateway_nonces (hash, person, expires) VALUES (?, ?, ?)",
        (digest(nonce), person, expires.isoformat()),
    )
    return nonce, expires


def _consume(gateway: Gateway, table: str, secret: str, what: str) -> str:
    """Use a one-time secret (nonce or code) once, atomically; the person it was bound to.

    Steps: (1) it must exist; (2) mark it used (only one caller wins, across processes);
    (3) it must not have expired by the gateway's clock.
    """
    hashed = digest(secret)
    rows = gateway.db.rows(_SELECT[table], (hashed,))
    if not rows:  # step 1
        raise SignInError(f"unknown {what}: ask for a new one")
    now = gateway.now()
    used = gateway.db.execute(_USE[table], (now.isoformat(), hashed))
    if used != 1:  # step 2
        raise SignInError(f"this {what} was already used: ask for a new one")
    person, expires = rows[0]
    if datetime.fromisoformat(expires) <= now:  # step 3
        raise SignInError(f"this {what} expired: ask for a new one")
    return str(person)


def _key_owner(policy: Policy, public_key: str, person: str, now: datetime) -> str:
    """The person a verified key belongs to, through the trusted policy (never the caller)."""
    alias = Alias.key(public_key)
    principal = policy.resolve(alias)
    if principal is None:
        raise SignInError(f"key {fingerprint(public_key)} is not in the policy")
    if not principal.is_person:
        raise SignInError(
            f"key {fingerprint(public_key)} belongs to the service {principal.id}: "
            "services never sign in as a person (they use service tokens)"
        )
    if person and principal.id != person:
        raise SignInError(f"key {fingerprint(public_key)} is not one of {person}'s keys")
    validity = policy.key_validity.get(alias)
    if validity is not None and not validity.valid_at(now):
        raise SignInError(f"key {fingerprint(public_key)} is revoked or not valid now")
    return principal.id


def _verified_person(gateway: Gateway, person: str, nonce: str, signature: str) -> str:
    """Steps 2-4 of a sign-in: the SSHSIG verifies over the nonce's exact bytes in the
    ``twokey-login`` namespace, and its key is one of ``person``'s keys in the trusted policy."""
    if len(signature) > MAX_SIGNATURE:
        raise SignInError("the signature is too large")
    try:
        parsed = parse_sshsig(signature.encode())
        verify_sshsig(parsed, nonce.encode(), NAMESPACE)
    except EvidenceError as exc:
        raise SignInError(
            f"the signature does not verify over this nonce ({exc}); sign it with "
            f"ssh-keygen -Y sign -n {NAMESPACE}"
        ) from exc
    return _key_owner(gateway.policy().policy, parsed.public_key, person, gateway.now())


def sign_in(gateway: Gateway, person: str, nonce: str, signature: str) -> SignedIn:
    """Sign ``person`` (or, when empty, whoever the key belongs to) in with a signed nonce.

    Raises:
        SignInError: the one reason the sign-in is refused (recorded once the nonce was used).
        InfrastructureError: the ledger cannot be written (nothing was issued).
    """
    bound = _consume(gateway, "twokey_gateway_nonces", nonce, "nonce")  # step 1
    if bound and person and bound != person:
        raise SignInError(f"this nonce was issued for {bound}, not {person}")
    try:
        who = _verified_person(gateway, person or bound, nonce, signature)
    except SignInError as exc:
        record_access(gateway, "sign-in-refused", person or bound, "ssh", detail=exc.message)
        raise
    parsed = parse_sshsig(signature.encode())
    key = str(Alias.key(parsed.public_key))
    return issue_token(
        gateway, "person", who, "twokey login", "ssh", key, fingerprint(parsed.public_key)
    )


def issue_token(
    gateway: Gateway,
    kind: str,
    person: str,
    name: str,
    method: str,
    credential: str,
    detail: str = "",
) -> SignedIn:
    """Issue a token bound to ``credential``, record it, and only then hand it out (revoked
    when it cannot be recorded: nobody ever saw it)."""
    now = gateway.now()
    ttl = gateway.config.session_ttl if kind == "session" else gateway.config.token_ttl
    tokens = Tokens(gateway.db)
    token = tokens.issue(kind, person, name, now, ttl, credential=credential)
    hashed = digest(token)
    action = "session" if kind == "session" else "sign-in"
    try:
        record_access(gateway, action, person, method, token=hashed[:12], detail=detail)
    except Exception:
        tokens.revoke_hash(hashed, now)
        raise
    return SignedIn(token, person, now + timedelta(seconds=ttl))


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _normal_code(code: str) -> str:
    raw = "".join(c for c in code.upper() if c not in "- \t")
    return f"{raw[:4]}-{raw[4:]}"


def issue_code(gateway: Gateway, caller: Caller) -> tuple[str, datetime]:
    """A one-time browser code for a signed-in person (recorded before it is handed out)."""
    assert caller.person is not None  # the route's `person` dependency
    sweep(gateway, "twokey_gateway_codes")
    code = _new_code()
    expires = gateway.now() + timedelta(seconds=CODE_TTL)
    record_access(gateway, "browser-code", caller.person, "token", token=caller.token_hash[:12])
    hashed = digest(_normal_code(code))
    with gateway.db.transaction():
        gateway.db.execute(
            "INSERT INTO twokey_gateway_codes (hash, person, expires) VALUES (?, ?, ?)",
            (hashed, caller.person, expires.isoformat()),
        )
        gateway.db.execute(
            "INSERT INTO twokey_gateway_code_credentials (hash, credential) VALUES (?, ?)",
            (hashed, caller.credential),
        )
    return code, expires


def is_person(gateway: Gateway, person: str) -> bool:
    """True when the trusted policy lists ``person`` as a person now."""
    principal = gateway.policy().policy.principals.get(person)
    return principal is not None and principal.is_person


def open_session(gateway: Gateway, code: str) -> SignedIn:
    """Redeem a browser code (once) for a ``session`` token.

    Raises:
        SignInError: an unknown, used or expired code, or a person the policy no longer lists.
    """
    if not code or len(code) > 32:
        raise SignInError("a sign-in code looks like ABCD-EFGH (twokey login --browser)")
    hashed = digest(_normal_code(code))
    who = _consume(gateway, "twokey_gateway_codes", _normal_code(code), "sign-in code")
    if not is_person(gateway, who):
        raise SignInError(f"{who} is no longer a person in the trusted policy")
    rows = gateway.db.rows(
        "SELECT credential FROM twokey_gateway_code_credentials WHERE hash = ?", (hashed,)
    )
    if not rows:
        raise SignInError("this sign-in code names no credential: ask for a new one")
    return issue_token(gateway, "session", who, "browser (code)", "code", str(rows[0][0]))


def redeem_code(gateway: Gateway, code: str) -> str | None:
    """The session token a one-time browser code opens, or None when it opens none (for the
    web UI; :func:`open_session` says why)."""
    try:
        return open_session(gateway, code).token
    except SignInError:
        return None


def create_service_token(
    gateway: Gateway, caller: Caller, service: str, name: str, days: int
) -> SignedIn:
    """A token for a service the policy lists, created by a person (who may revoke it).

    Raises:
        UsageError: not a service of the policy, or a bad lifetime (400).
        InfrastructureError: the ledger cannot be written (503; the token was revoked).
    """
    assert caller.person is not None
    principal = gateway.policy().policy.principals.get(service)
    if principal is None or principal.is_person:
        raise UsageError(
            f"{service!r} is not a service of the trusted policy",
            hint="service tokens are for the ids listed under services: in the policy",
        )
    if not 1 <= days <= 366:
        raise UsageError("a service token lives 1 to 366 days")
    now = gateway.now()
    tokens = Tokens(gateway.db)
    token = tokens.issue(
        "service", service, name or service, now, days * 86400, credential=f"service:{service}"
    )
    hashed = digest(token)
    try:
        record_access(
            gateway,
            "token-create",
            caller.person,
            "token",
            token=hashed[:12],
            detail=f"service {service}",
        )
        gateway.db.execute(
            "INSERT INTO twokey_gateway_token_creators (hash, creator) VALUES (?, ?)",
            (hashed, caller.person),
        )
    except Exception:
        tokens.revoke_hash(hashed, now)
        raise
    return SignedIn(token, service, now + timedelta(days=days))


def _mine(gateway: Gateway, person: str) -> list[tuple[Any, ...]]:
    """(hash, kind, subject, name, created, expires, revoked) of a person's own tokens and of
    the service tokens they created."""
    return gateway.db.rows(
        "SELECT t.hash, t.kind, t.subject, t.name, t.created, t.expires, t.revoked"
        " FROM twokey_gateway_tokens t LEFT JOIN twokey_gateway_token_creators c"
        " ON c.hash = t.hash WHERE (t.subject = ? AND t.kind <> 'service') OR c.creator = ?"
        " ORDER BY t.created DESC",
        (person, person),
    )


def tokens_of(gateway: Gateway, person: str) -> list[dict[str, str]]:
    """What ``GET /v1/tokens`` lists: never a token, only its id (12 hex digits of its hash)."""
    keys = ("kind", "subject", "name", "created", "expires", "revoked")
    return [
        {"id": row[0][:12], **dict(zip(keys, row[1:], strict=True))}
        for row in _mine(gateway, person)
    ]


def revoke_token(gateway: Gateway, caller: Caller, token_id: str) -> dict[str, str]:
    """Revoke one of the caller's tokens (or a service token they created); recorded first.

    Raises:
        UsageError: not a token id.
        LookupError: no such token of theirs (404: whose tokens exist is not told).
    """
    assert caller.person is not None
    if not 12 <= len(token_id) <= 64 or any(c not in "0123456789abcdef" for c in token_id):
        raise UsageError("a token id is 12 to 64 hex digits (twokey tokens list)")
    found = [r for r in _mine(gateway, caller.person) if r[0].startswith(token_id)]
    if len(found) != 1:
        raise LookupError(f"no token of yours has the id {token_id}")
    hashed, kind, subject = found[0][0], found[0][1], found[0][2]
    if found[0][6]:
        return {"id": hashed[:12], "revoked": found[0][6]}
    record_access(
        gateway,
        "token-revoke",
        caller.person,
        "token",
        token=hashed[:12],
        detail=f"{kind} {subject}",
    )
    now = gateway.now()
    Tokens(gateway.db).revoke_hash(hashed, now)
    return {"id": hashed[:12], "revoked": now.isoformat()}


def sign_out(gateway: Gateway, caller: Caller) -> None:
    """Revoke the credentials a request came with (recorded first)."""
    record_access(gateway, "sign-out", caller.subject, caller.kind, token=caller.token_hash[:12])
    Tokens(gateway.db).revoke_hash(caller.token_hash, gateway.now())


def setup(gateway: Gateway) -> None:
    """Create the nonce, code and token-creator tables."""
    gateway.create_tables(TABLES)

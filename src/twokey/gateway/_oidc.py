"""Single sign-on with OpenID Connect: authorization code + PKCE S256 (ADR 0025).

``begin``: a random browser secret goes into a short-lived cookie (``twokey_sso``); the
``state``, the PKCE verifier and the OIDC ``nonce`` are derived from it, so the database
keeps only hashes (a stolen row opens nothing) and a callback only counts in the browser
that started it (login CSRF). ``finish`` then:

1. consumes the state once (bound to that cookie, ten minutes, atomically across processes);
2. exchanges the code at the provider's token endpoint with the client secret and the PKCE
   verifier (authlib's OAuth2 client);
3. verifies the ID token: its signature against the provider's JWKS (asymmetric algorithms
   only, never ``none`` or an HMAC), then ``iss``, ``aud``/``azp``, ``exp``/``iat`` by the
   gateway's clock and the ``nonce`` (authlib's ``CodeIDToken``);
4. reads the configured claim (an email only when ``email_verified`` is true) and maps it to
   a person through the trusted policy's ``sso:`` aliases; a service or nobody is refused.
"""

from __future__ import annotations

__all__ = ["SsoError", "begin", "configured", "finish"]

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from twokey.errors import InfrastructureError, TwokeyError
from twokey.gateway._login import SignedIn, digest, issue_token, record_access, sweep
from twokey.model import Alias

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

    from twokey.gateway._state import Gateway

COOKIE = "twokey_sso"
STATE_TTL = 600
_CACHE_SECONDS = 3600
_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
_TIMEOUT = 10.0

TABLES = (
    """CREATE TABLE IF NOT EXISTS twokey_gateway_sso (
        hash TEXT PRIMARY KEY,
        binding TEXT NOT NULL,
        expires TEXT NOT NULL,
        used TEXT NOT NULL DEFAULT ''
    )""",
)


class SsoError(TwokeyError):
    """A single sign-on refused: the message is the one clear reason."""


@dataclass(frozen=True)
class Provider:
    """What the provider's discovery document says (the endpoints this flow uses)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


_lock = threading.Lock()
_providers: dict[str, tuple[float, Provider]] = {}
_keys: dict[str, tuple[float, KeySet]] = {}


def configured(gateway: Gateway) -> bool:
    """True when the gateway was started with an OpenID Connect provider."""
    return bool(gateway.config.oidc_issuer and gateway.config.oidc_client_id)


def _get_json(url: str) -> dict[str, Any]:
    import httpx  # noqa: PLC0415

    try:
        response = httpx.get(url, timeout=_TIMEOUT)
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise InfrastructureError(f"single sign-on: cannot read {url}: {exc}") from exc
    if not isinstance(data, dict):
        raise InfrastructureError(f"single sign-on: {url} is not a JSON object")
    return data


def _secure(url: object) -> str:
    from authlib.common.security import is_secure_transport  # noqa: PLC0415

    if not isinstance(url, str) or not is_secure_transport(url):
        raise InfrastructureError(f"single sign-on: {url!r} is not an https (or loopback) URL")
    return url


def provider(issuer: str) -> Provider:
    """The provider's endpoints from its discovery document (cached for an hour).

    Raises:
        InfrastructureError: unreachable, not JSON, another issuer, or insecure endpoints.
    """
    with _lock:
        cached = _providers.get(issuer)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    doc = _get_json(_secure(issuer) + "/.well-known/openid-configuration")
    if doc.get("issuer") != issuer:  # OpenID Connect Discovery 1.0 §4.3
        raise InfrastructureError(
            f"single sign-on: the discovery document names issuer {doc.get('issuer')!r}, "
            f"not {issuer!r}"
        )
    found = Provider(
        issuer,
        _secure(doc.get("authorization_endpoint")),
        _secure(doc.get("token_endpoint")),
        _secure(doc.get("jwks_uri")),
    )
    with _lock:
        _providers[issuer] = (time.monotonic() + _CACHE_SECONDS, found)
    return found


def _key_set(found: Provider, refresh: bool = False) -> KeySet:
    """The provider's signing keys (cached; fetched again once for an unknown key id)."""
    from joserfc.jwk import KeySet  # noqa: PLC0415

    with _lock:
        cached = _keys.get(found.jwks_uri)
    if cached and cached[0] > time.monotonic() and not refresh:
        return cached[1]
    try:
        keys = KeySet.import_key_set(_get_json(found.jwks_uri))  # type: ignore[arg-type]
    except (ValueError, TypeError, KeyError) as exc:
        raise InfrastructureError(f"single sign-on: unusable JWKS: {exc}") from exc
    with _lock:
        _keys[found.jwks_uri] = (time.monotonic() + _CACHE_SECONDS, keys)
    return keys


def _derived(secret: str, state: str, label: bytes) -> str:
    mac = hmac.new(secret.encode(), label + b"\0" + state.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _redirect_uri(gateway: Gateway) -> str:
    return gateway.config.base_url + "/login/sso/callback"


def _client(gateway: Gateway) -> Any:
    from authlib.integrations.httpx_client import OAuth2Client  # noqa: PLC0415

    config = gateway.config
    return OAuth2Client(
        client_id=config.oidc_client_id,
        client_secret=config.oidc_client_secret or None,
        scope="openid email profile",
        redirect_uri=_redirect_uri(gateway),
        code_challenge_method="S256",
        timeout=_TIMEOUT,
    )


def begin(gateway: Gateway) -> tuple[str, str]:
    """Start a sign-in: (the provider's authorization URL, the browser cookie's value)."""
    found = provider(gateway.config.oidc_issuer)
    sweep(gateway, "twokey_gateway_sso")
    secret = secrets.token_urlsafe(32)
    state = secrets.token_urlsafe(24)
    expires = gateway.now() + timedelta(seconds=STATE_TTL)
    gateway.db.execute(
        "INSERT INTO twokey_gateway_sso (hash, binding, expires) VALUES (?, ?, ?)",
        (digest(state), digest(secret), expires.isoformat()),
    )
    with _client(gateway) as client:
        url, _ = client.create_authorization_url(
            found.authorization_endpoint,
            state=state,
            code_verifier=_derived(secret, state, b"pkce"),
            nonce=_derived(secret, state, b"nonce"),
        )
    return str(url), secret


def _consume_state(gateway: Gateway, state: str, secret: str) -> None:
    """Step 1: the state exists, belongs to this browser, is unused (now used) and fresh."""
    hashed = digest(state)
    rows = gateway.db.rows(
        "SELECT binding, expires FROM twokey_gateway_sso WHERE hash = ?", (hashed,)
    )
    if not rows:
        raise SsoError("unknown sign-in state: start again at /login/sso")
    binding, expires = rows[0]
    if not secret or not hmac.compare_digest(str(binding), digest(secret)):
        raise SsoError("this sign-in was started in another browser: start again at /login/sso")
    now = gateway.now()
    used = gateway.db.execute(
        "UPDATE twokey_gateway_sso SET used = ? WHERE hash = ? AND used = ''",
        (now.isoformat(), hashed),
    )
    if used != 1:
        raise SsoError("this sign-in state was already used: start again at /login/sso")
    if datetime.fromisoformat(str(expires)) <= now:
        raise SsoError("this sign-in took too long: start again at /login/sso")


def _exchange(gateway: Gateway, found: Provider, code: str, verifier: str) -> dict[str, Any]:
    """Step 2: the code for tokens, with the client secret and the PKCE verifier."""
    import httpx  # noqa: PLC0415
    from authlib.integrations.base_client import OAuthError  # noqa: PLC0415

    try:
        with _client(gateway) as client:
            token = client.fetch_token(
                found.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
            )
    except OAuthError as exc:
        raise SsoError(f"the provider refused the code: {exc.error}") from exc
    except httpx.HTTPError as exc:
        raise InfrastructureError(f"single sign-on: cannot reach the provider: {exc}") from exc
    if not isinstance(token, dict) or not isinstance(token.get("id_token"), str):
        raise SsoError("the provider sent no ID token")
    return dict(token)


def _verify_id_token(
    gateway: Gateway, found: Provider, token: dict[str, Any], nonce: str
) -> dict[str, Any]:
    """Step 3: signature (JWKS), issuer, audience, expiry and nonce of the ID token."""
    from authlib.oidc.core import CodeIDToken  # noqa: PLC0415
    from joserfc import jwt  # noqa: PLC0415
    from joserfc.errors import JoseError  # noqa: PLC0415

    try:
        try:
            decoded = jwt.decode(token["id_token"], _key_set(found), algorithms=_ALGORITHMS)
        except JoseError:  # perhaps a rotated key: read the JWKS again, once
            decoded = jwt.decode(token["id_token"], _key_set(found, True), algorithms=_ALGORITHMS)
        client_id = gateway.config.oidc_client_id
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            options={
                "iss": {"essential": True, "value": found.issuer},
                "aud": {"essential": True, "value": client_id},
            },
            params={
                "nonce": nonce,
                "client_id": client_id,
                "access_token": token.get("access_token"),
            },
        )
        claims.validate(now=int(gateway.now().timestamp()), leeway=30)
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        reason = getattr(exc, "description", "") or str(exc).strip(": ") or type(exc).__name__
        raise SsoError(f"the ID token does not verify: {reason}") from exc
    return dict(claims)


def _identity(gateway: Gateway, claims: dict[str, Any]) -> str:
    """Step 4a: the configured claim, trusted as an email only when the provider verified it."""
    name = gateway.config.oidc_claim
    value = claims.get(name)
    if not isinstance(value, str) or not value.strip():
        raise SsoError(f"the ID token has no {name!r} claim")
    if name == "email" and claims.get("email_verified") is not True:
        raise SsoError(f"the provider has not verified the email {value}: not trusted")
    return value.strip()


def _person_of(gateway: Gateway, identity: str) -> str:
    """Step 4b: the person the trusted policy's ``sso:`` aliases name."""
    principal = gateway.policy().policy.resolve(Alias.sso(identity))
    if principal is None:
        raise SsoError(f"{identity} is nobody in the policy (no person has sso: {identity})")
    if not principal.is_person:
        raise SsoError(f"{identity} is the service {principal.id}: services never sign in")
    return principal.id


def finish(gateway: Gateway, state: str, code: str, secret: str) -> SignedIn:
    """Complete a sign-in: a ``session`` token for the person the provider vouched for.

    Raises:
        SsoError: the one reason it is refused (recorded once the state was spent).
        InfrastructureError: the provider or the ledger cannot be reached (503).
    """
    _consume_state(gateway, state, secret)  # step 1
    found = provider(gateway.config.oidc_issuer)
    identity = ""
    try:
        if not code:
            raise SsoError("the provider sent no code")
        token = _exchange(gateway, found, code, _derived(secret, state, b"pkce"))  # step 2
        claims = _verify_id_token(gateway, found, token, _derived(secret, state, b"nonce"))
        identity = _identity(gateway, claims)  # step 4
        person = _person_of(gateway, identity)
    except SsoError as exc:
        record_access(gateway, "sign-in-refused", identity, "sso", detail=exc.message)
        raise
    detail = f"{found.issuer} {gateway.config.oidc_claim}={identity}"
    credential = str(Alias.sso(identity))
    return issue_token(gateway, "session", person, "browser (sso)", "sso", credential, detail)


def setup(gateway: Gateway) -> None:
    """Create the table of started sign-ins."""
    gateway.create_tables(TABLES)

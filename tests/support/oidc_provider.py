"""A small, real OpenID Connect provider for the single sign-on tests (an HTTP server thread).

It serves discovery (``/.well-known/openid-configuration``), its JWKS (an RSA key made with
``cryptography`` through joserfc), an authorization endpoint that signs the configured user in
at once and redirects back with a one-time code, and a token endpoint that checks the client
secret (HTTP Basic or form), the redirect URI and the PKCE S256 verifier before it returns an
ID token signed with its key. ``Misbehave`` makes it lie the ways an attacker or a broken
provider would (another audience, an expired token, another key...), so the gateway's
verification can be shown to refuse each.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey


@dataclass
class Misbehave:
    """What the provider gets wrong on purpose (all off by default)."""

    audience: str = ""  # another client's audience
    issuer: str = ""  # another issuer
    expired: bool = False  # exp an hour ago
    nonce: str = ""  # a nonce the gateway never sent
    forged: bool = False  # signed with a key not in the JWKS (same kid)
    algorithm: str = ""  # e.g. HS256 with the public key as secret
    skip_pkce: bool = False  # accept any verifier (so the gateway's own checks are tested)


@dataclass
class User:
    """Who signs in at the provider."""

    sub: str = "user-1"
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass
class Grant:
    """An authorization code's binding."""

    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    user: User


class OidcProvider:
    """The provider; ``start()`` serves it on a free port of 127.0.0.1."""

    def __init__(self, client_id: str = "twokey", client_secret: str = "s3cret") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = RSAKey.generate_key(2048, {"kid": "k1", "use": "sig", "alg": "RS256"})
        self.user = User()
        self.misbehave = Misbehave()
        self.grants: dict[str, Grant] = {}
        self.codes_issued: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> OidcProvider:
        """Serve in a background thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    def reset(self, **claims: Any) -> None:
        """Behave again, with a user whose claims are ``claims``."""
        self.misbehave = Misbehave()
        self.user = User(claims.pop("sub", "user-1"), claims)

    def discovery(self) -> dict[str, Any]:
        """The discovery document."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """Sign the user in at once: (status, redirect location or error)."""
        if query.get("client_id") != self.client_id:
            return 400, "unknown client"
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            return 400, "authorization code with PKCE S256 only"
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.grants[code] = Grant(
                self.client_id,
                query.get("redirect_uri", ""),
                query.get("code_challenge", ""),
                query.get("nonce", ""),
                self.user,
            )
            self.codes_issued.append(code)
        back = {"code": code, "state": query.get("state", "")}
        return 302, f"{query.get('redirect_uri', '')}?{urlencode(back)}"

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        """Exchange a code: client secret, redirect URI and PKCE verifier checked."""
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if authorization.startswith("Basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        if client_id != self.client_id or not secrets.compare_digest(secret, self.client_secret):
            return 401, {"error": "invalid_client"}
        with self.lock:
            grant = self.grants.pop(form.get("code", ""), None)  # one use
        if grant is None or grant.redirect_uri != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if challenge.rstrip(b"=").decode() != grant.challenge and not self.misbehave.skip_pkce:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verifier"}
        access = secrets.token_urlsafe(16)
        return 200, {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 3600,
            "id_token": self.id_token(grant),
        }

    def id_token(self, grant: Grant) -> str:
        """The ID token of a grant, as signed (or mis-signed) by this provider."""
        now = int(time.time())
        bad = self.misbehave
        claims = {
            "iss": bad.issuer or self.issuer,
            "sub": grant.user.sub,
            "aud": bad.audience or grant.client_id,
            "iat": now - 3600 * 2 if bad.expired else now,
            "exp": now - 3600 if bad.expired else now + 300,
            "nonce": bad.nonce or grant.nonce,
            **grant.user.claims,
        }
        if bad.algorithm == "HS256":  # the old confusion: the public key as an HMAC secret
            return _hs256(claims, self.key.as_pem(private=False))
        key = RSAKey.generate_key(2048, {"kid": "k1"}) if bad.forged else self.key
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)

    def jwks(self) -> dict[str, Any]:
        """The public keys."""
        return {"keys": [self.key.as_dict(private=False)]}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256(claims: dict[str, Any], secret: bytes) -> str:
    """A JWS that joserfc refuses to make: HS256 keyed with an RSA public key's PEM."""
    header = _b64(json.dumps({"alg": "HS256", "kid": "k1", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims).encode())
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(mac)}"


def _handler(provider: OidcProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self._json(200, provider.discovery())
            elif url.path == "/jwks":
                self._json(200, provider.jwks())
            elif url.path == "/authorize":
                status, where = provider.authorize(query)
                if status != 302:
                    self._json(status, {"error": where})
                    return
                self.send_response(302)
                self.send_header("Location", where)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._json(404, {"error": "not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length).decode()
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            if urlsplit(self.path).path != "/token":
                self._json(404, {"error": "not found"})
                return
            status, body = provider.token(form, self.headers.get("Authorization", ""))
            self._json(status, body)

    return Handler

"""Single sign-on over real HTTP: the gateway against a real OpenID Connect provider (a thread
of this test process), a browser played by httpx following redirects, and the attacks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.integration.doors._deploys import make_world
from tests.integration.gateway._signin import access_records
from tests.integration.git._harness import Keys
from tests.support.gateway import RunningGateway, start_gateway
from tests.support.gitrepo import ERIN
from tests.support.oidc_provider import OidcProvider


@dataclass
class Sso:
    """A gateway configured for single sign-on at ``provider``."""

    gateway: RunningGateway
    provider: OidcProvider


def _with_sso_aliases(policy: str) -> str:
    """Each person's ``sso:`` is <id>@corp.example; the ci service's is ci-bot@corp.example."""
    policy = re.sub(
        r"^  ([a-z]+):\n    name: ",
        r"  \1:\n    sso: \1@corp.example\n    name: ",
        policy,
        flags=re.M,
    )
    return policy.replace("ci: {name: CI,", "ci: {name: CI, sso: ci-bot@corp.example,")


@pytest.fixture(scope="module")
def sso(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Iterator[Sso]:
    root = tmp_path_factory.mktemp("sso")
    world = make_world(root / "world", keys)
    seed = world.origin.clone(root / "edit", ERIN)
    policy = seed.path / ".twokey/policy.yml"
    policy.write_text(_with_sso_aliases(policy.read_text()))
    seed.git("commit", "-qam", "single sign-on identities")
    seed.git("push", "-q", "origin", "main")
    provider = OidcProvider().start()
    gateway = start_gateway(
        root / "data",
        "--oidc-issuer",
        provider.issuer,
        "--oidc-client-id",
        provider.client_id,
        repo=world.origin.path,
        env={"TWOKEY_OIDC_CLIENT_SECRET": provider.client_secret},
    )
    try:
        yield Sso(gateway, provider)
    finally:
        gateway.stop()
        provider.stop()


@pytest.fixture
def provider(sso: Sso) -> Iterator[OidcProvider]:
    """The provider, behaving, with bob (verified email) signing in."""
    sso.provider.reset(email="bob@corp.example", email_verified=True)
    yield sso.provider
    sso.provider.reset()


def _browser(sso: Sso) -> httpx.Client:
    return httpx.Client(base_url=sso.gateway.url, follow_redirects=False, timeout=30)


def _to_callback(browser: httpx.Client) -> str:
    """Start at /login/sso and follow the provider's redirect: the callback URL it sends."""
    start = browser.get("/login/sso")
    assert start.status_code == 302, start.text
    authorize = httpx.get(start.headers["location"])
    assert authorize.status_code == 302, authorize.text
    return str(authorize.headers["location"])


def _sign_in(sso: Sso, browser: httpx.Client) -> httpx.Response:
    callback = _to_callback(browser)
    return browser.get(callback)


def test_a_verified_identity_of_a_person_opens_a_session(sso: Sso, provider: OidcProvider) -> None:
    with httpx.Client(base_url=sso.gateway.url, follow_redirects=True, timeout=30) as browser:
        landed = browser.get("/login/sso")
        hops = [str(r.url.path) for r in landed.history]
        assert hops == ["/login/sso", "/authorize", "/login/sso/callback"]
        callback = landed.history[-1]
        assert callback.status_code == 303
        assert callback.headers["location"] == "/"
        assert "HttpOnly" in callback.headers["set-cookie"]
        me = browser.get("/v1/me").json()
    assert me["person"] == "bob"
    assert me["kind"] == "session"
    assert me["csrf"]
    sso_records = [
        r
        for r in access_records(f"sqlite://{sso.gateway.data / 'gateway.db'}")
        if r.method == "sso"
    ]
    assert sso_records[-1].action == "session"
    assert sso_records[-1].detail == f"{provider.issuer} email=bob@corp.example"


def test_the_authorization_request_uses_pkce_s256_state_and_nonce(
    sso: Sso, provider: OidcProvider
) -> None:
    with _browser(sso) as browser:
        start = browser.get("/login/sso")
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["state"][0]
    assert query["nonce"][0]
    assert query["redirect_uri"] == [sso.gateway.url + "/login/sso/callback"]
    cookie = start.headers["set-cookie"]
    assert "twokey_sso=" in cookie
    assert "Path=/login/sso" in cookie
    assert "HttpOnly" in cookie


def _refused(answer: httpx.Response, reason: str) -> None:
    assert answer.status_code == 401, answer.text
    assert reason in answer.json()["error"]
    assert "twokey_session" not in answer.headers.get("set-cookie", "")


def _with_cookie(sso: Sso, secret: str) -> httpx.Client:
    client = _browser(sso)
    client.cookies.set("twokey_sso", secret, path="/login/sso")
    return client


def test_wrong_or_replayed_state_and_a_foreign_browser_are_refused(
    sso: Sso, provider: OidcProvider
) -> None:
    with _browser(sso) as browser:
        start = browser.get("/login/sso")
    secret = start.cookies["twokey_sso"]
    callback = str(httpx.get(start.headers["location"]).headers["location"])
    with _with_cookie(sso, secret) as browser:
        _refused(browser.get(callback.replace("state=", "state=x")), "unknown sign-in state")
    _refused(httpx.get(callback), "started in another browser")  # no cookie: login CSRF
    with _with_cookie(sso, "another-browsers-secret") as other:
        _refused(other.get(callback), "started in another browser")
    with _with_cookie(sso, secret) as browser:
        assert browser.get(callback).status_code == 303
    with _with_cookie(sso, secret) as browser:
        _refused(browser.get(callback), "already used")


def test_a_code_injected_into_another_flow_fails_pkce(sso: Sso, provider: OidcProvider) -> None:
    with _browser(sso) as victim, _browser(sso) as attacker:
        victims = _to_callback(victim)
        attackers = _to_callback(attacker)
        code = parse_qs(urlsplit(attackers).query)["code"][0]
        state = parse_qs(urlsplit(victims).query)["state"][0]
        injected = victim.get("/login/sso/callback", params={"code": code, "state": state})
    _refused(injected, "the provider refused the code: invalid_grant")


@pytest.mark.parametrize(
    ("lie", "value", "reason"),
    [
        ("audience", "another-client", "does not verify: Invalid claim: 'aud'"),
        ("issuer", "https://evil.example", "does not verify: Invalid claim: 'iss'"),
        ("expired", True, "does not verify: The token is expired"),
        ("nonce", "not-the-one-sent", "does not verify: Invalid claim: 'nonce'"),
        ("forged", True, "does not verify: bad_signature"),
        ("algorithm", "HS256", "does not verify: Algorithm of 'HS256' is not allowed"),
    ],
    ids=[
        "wrong-audience",
        "wrong-issuer",
        "expired",
        "wrong-nonce",
        "forged-key",
        "hmac-with-public-key",
    ],
)
def test_an_id_token_that_does_not_verify_is_refused(
    sso: Sso, provider: OidcProvider, lie: str, value: object, reason: str
) -> None:
    setattr(provider.misbehave, lie, value)
    with _browser(sso) as browser:
        _refused(_sign_in(sso, browser), reason)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"email": "bob@corp.example", "email_verified": False}, "has not verified the email"),
        ({"email": "bob@corp.example"}, "has not verified the email"),
        ({"email": "bob@corp.example", "email_verified": "true"}, "has not verified the email"),
        ({"email": "mallory@corp.example", "email_verified": True}, "is nobody in the policy"),
        ({"email": "ci-bot@corp.example", "email_verified": True}, "is the service ci"),
        ({"email_verified": True}, "has no 'email' claim"),
        ({"email": "bob@example.com", "email_verified": True}, "is nobody in the policy"),
    ],
    ids=[
        "unverified",
        "no-verification",
        "verified-as-string",
        "unknown",
        "service",
        "no-claim",
        "policy-email-not-sso",
    ],
)
def test_an_identity_that_is_not_a_person_is_refused(
    sso: Sso, provider: OidcProvider, claims: dict[str, object], reason: str
) -> None:
    provider.reset(**claims)
    with _browser(sso) as browser:
        _refused(_sign_in(sso, browser), reason)


def test_a_browser_refused_goes_back_to_the_login_page(sso: Sso, provider: OidcProvider) -> None:
    provider.reset(email="mallory@corp.example", email_verified=True)
    with _browser(sso) as browser:
        callback = _to_callback(browser)
        answer = browser.get(callback, headers={"Accept": "text/html"})
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(
        "/login?error=mallory%40corp.example%20is%20nobody"
    )


def test_without_configuration_there_is_no_sso(tmp_path: Path, keys: Keys) -> None:
    world = make_world(tmp_path / "world", keys)
    gateway = start_gateway(tmp_path / "data", repo=world.origin.path)
    try:
        with gateway.client() as http:
            answer = http.get("/login/sso")
        assert answer.status_code == 404
        assert answer.json()["error"] == "single sign-on is not configured on this gateway"
    finally:
        gateway.stop()

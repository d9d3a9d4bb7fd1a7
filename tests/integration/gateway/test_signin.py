"""Who is calling, over real HTTP: SSH-key sign-in, its attacks, browser codes and sessions."""

from __future__ import annotations

import hashlib
import json
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tests.integration.gateway._signin import (
    Served,
    access_records,
    login,
    nonce,
    serve,
    served,
    signature,
    token,
)
from tests.integration.gateway.conftest import GatewayWorld, pg_url
from tests.integration.git._harness import Keys
from tests.support.gitrepo import ERIN
from twokey.cli import main

__all__ = ["pg_url", "served"]


def test_sign_in_with_a_policy_key_gives_a_person_token(
    gateway_world: GatewayWorld, keys: Keys
) -> None:
    with gateway_world.gateway.client() as http:
        value = nonce(http, "bob")
        assert value.startswith("twokey-login:twokey-gateway:")
        body = {"person": "bob", "nonce": value, "signature": signature(keys, "bob", value)}
        answer = http.post("/v1/login", json=body)
        assert answer.status_code == 200, answer.text
        signed = answer.json()
        assert signed["person"] == "bob"
        assert datetime.fromisoformat(signed["expires"]) > datetime.now(UTC) + timedelta(hours=7)
        me = http.get("/v1/me", headers={"Authorization": f"Bearer {signed['token']}"})
        assert me.json() == {"person": "bob", "subject": "bob", "kind": "person", "csrf": ""}
        replay = http.post("/v1/login", json=body)
    assert replay.status_code == 401
    assert replay.json()["error"] == "this nonce was already used: ask for a new one"
    url = gateway_world.database or f"sqlite://{gateway_world.gateway.data / 'gateway.db'}"
    records = access_records(url)
    assert [(r.action, r.person, r.method) for r in records] == [("sign-in", "bob", "ssh")]
    assert records[0].token == hashlib.sha256(signed["token"].encode()).hexdigest()[:12]
    assert records[0].detail.startswith("SHA256:")


def _expired_nonce(served: Served, http: httpx.Client) -> str:
    """A nonce whose expiry the gateway's database says has passed."""
    value = nonce(http)
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    digest = hashlib.sha256(value.encode()).hexdigest()
    served.sql("UPDATE twokey_gateway_nonces SET expires = ? WHERE hash = ?", (past, digest))
    return value


ATTACKS = {
    "someone-elses-key": ("alice", "bob", "", "is not one of bob's keys"),
    "key-not-in-policy": ("stranger", "bob", "", "is not in the policy"),
    "service-key": ("ci", "ci", "", "belongs to the service ci: services never sign in"),
    "other-bytes": ("bob", "bob", "other", "does not verify over this nonce"),
    "wrong-namespace": (
        "bob",
        "bob",
        "wrong-namespace",
        "namespace 'git', expected 'twokey-login'",
    ),
    "garbage": ("bob", "bob", "garbage", "does not verify over this nonce"),
    "unknown-nonce": ("bob", "bob", "unknown", "unknown nonce: ask for a new one"),
    "expired-nonce": ("bob", "bob", "expired", "this nonce expired: ask for a new one"),
    "nonce-for-another": ("bob", "bob", "for-carol", "was issued for carol, not bob"),
}


@pytest.mark.parametrize(
    ("signer", "person", "twist", "reason"), ATTACKS.values(), ids=ATTACKS.keys()
)
def test_a_sign_in_that_proves_nothing_is_refused_with_its_reason(
    served: Served, keys: Keys, signer: str, person: str, twist: str, reason: str
) -> None:
    with served.gateway.client() as http:
        value = nonce(http, "carol" if twist == "for-carol" else "")
        if twist == "expired":
            value = _expired_nonce(served, http)
        message = value + "x" if twist == "other" else value
        namespace = "git" if twist == "wrong-namespace" else "twokey-login"
        sig = signature(keys, signer, message, namespace)
        if twist == "garbage":
            sig = "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n"
        if twist == "unknown":
            value = value[:-4] + "AAAA"
        body = {"person": person, "nonce": value, "signature": sig}
        answer = http.post("/v1/login", json=body)
        assert answer.status_code == 401, answer.text
        assert reason in answer.json()["error"]
        assert answer.headers["www-authenticate"] == "Bearer"
        again = http.post("/v1/login", json=body | {"signature": signature(keys, "bob", value)})
    assert again.status_code == 401  # a refused nonce is spent too


def test_refusals_after_a_nonce_was_spent_are_recorded(served: Served, keys: Keys) -> None:
    with served.gateway.client() as http:
        assert login(http, keys, "stranger", "bob").status_code == 401
    refused = [r for r in access_records(f"sqlite://{served.db}") if r.action != "sign-in"]
    assert any(
        r.action == "sign-in-refused" and r.person == "bob" and "not in the policy" in r.detail
        for r in refused
    )


def test_without_a_person_the_key_names_its_owner(served: Served, keys: Keys) -> None:
    with served.gateway.client() as http:
        answer = login(http, keys, "carol", person="")
    assert answer.status_code == 200, answer.text
    assert answer.json()["person"] == "carol"


def test_tokens_are_stored_only_as_hashes(served: Served, keys: Keys) -> None:
    with served.gateway.client() as http:
        secret = token(http, keys, "dave")
        code = http.post(
            "/v1/login/browser-code", headers={"Authorization": f"Bearer {secret}"}
        ).json()["code"]
    raw = b"".join(p.read_bytes() for p in served.db.parent.glob("gateway.db*"))
    assert secret.encode() not in raw
    assert code.encode() not in raw
    assert code.replace("-", "").encode() not in raw
    assert hashlib.sha256(secret.encode()).hexdigest().encode() in raw


def test_a_browser_code_opens_one_session_with_csrf(served: Served, keys: Keys) -> None:
    with served.gateway.client(token(served.gateway.client(), keys, "bob")) as cli:
        issued = cli.post("/v1/login/browser-code").json()
    assert issued["url"].endswith("/login")
    assert len(issued["code"]) == 9
    assert issued["code"][4] == "-"
    with served.gateway.client() as browser:
        opened = browser.post("/v1/session", json={"code": issued["code"].lower()})
        assert opened.status_code == 200, opened.text
        cookie = opened.headers["set-cookie"]
        assert "twokey_session=" in cookie
        assert "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()
        assert "Path=/" in cookie
        assert "Secure" not in cookie  # plain http in the test
        csrf = opened.json()["csrf"]
        me = browser.get("/v1/me").json()
        assert me == {"person": "bob", "subject": "bob", "kind": "session", "csrf": csrf}
        again = httpx.post(served.gateway.url + "/v1/session", json={"code": issued["code"]})
        assert again.status_code == 401
        assert "already used" in again.json()["error"]
        no_csrf = browser.post("/v1/session/logout")
        assert no_csrf.status_code == 403
        assert "CSRF" in no_csrf.json()["error"]
        out = browser.post("/v1/session/logout", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 200, out.text
        session = opened.cookies["twokey_session"]
    after = httpx.get(served.gateway.url + "/v1/me", cookies={"twokey_session": session})
    assert after.status_code == 401


def test_the_login_form_redirects_to_the_dashboard_or_back_with_the_reason(
    served: Served, keys: Keys
) -> None:
    with served.gateway.client(token(served.gateway.client(), keys, "carol")) as cli:
        code = cli.post("/v1/login/browser-code").json()["code"]
    with served.gateway.client() as browser:
        bad = browser.post("/v1/session", data={"code": "AAAA-AAAA"})
        assert bad.status_code == 303
        assert bad.headers["location"].startswith("/login?error=unknown%20sign-in%20code")
        good = browser.post("/v1/session", data={"code": code})
        assert good.status_code == 303
        assert good.headers["location"] == "/"
        assert browser.get("/v1/me").json()["person"] == "carol"
        form = browser.post("/v1/session/logout", data={"csrf": "wrong"})
        assert form.status_code == 403


def test_a_session_is_only_a_cookie_and_a_token_never_one(served: Served, keys: Keys) -> None:
    secret = token(served.gateway.client(), keys, "bob")
    with served.gateway.client(secret) as cli:
        code = cli.post("/v1/login/browser-code").json()["code"]
    session = httpx.post(served.gateway.url + "/v1/session", json={"code": code}).cookies[
        "twokey_session"
    ]
    with served.gateway.client(session) as as_bearer:
        assert as_bearer.get("/v1/me").status_code == 401
    as_cookie = httpx.get(served.gateway.url + "/v1/me", cookies={"twokey_session": secret})
    assert as_cookie.status_code == 401


def test_revoked_and_expired_tokens_are_refused(served: Served, keys: Keys) -> None:
    secret = token(served.gateway.client(), keys, "erin")
    digest = hashlib.sha256(secret.encode()).hexdigest()
    with served.gateway.client(secret) as http:
        assert http.get("/v1/tokens").status_code == 200
        past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        served.sql("UPDATE twokey_gateway_tokens SET expires = ? WHERE hash = ?", (past, digest))
        assert http.get("/v1/tokens").status_code == 401
    secret = token(served.gateway.client(), keys, "erin")
    with served.gateway.client(secret) as http:
        assert http.post("/v1/session/logout").status_code == 200
        refused = http.get("/v1/me")
    assert refused.status_code == 401
    assert "sign in first" in refused.json()["error"]


ROUTES = [
    ("POST", "/v1/login/browser-code"),
    ("POST", "/v1/session/logout"),
    ("GET", "/v1/me"),
    ("GET", "/v1/tokens"),
    ("POST", "/v1/tokens"),
    ("POST", "/v1/tokens/0123456789ab/revoke"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_route_refuses_a_caller_without_credentials(
    served: Served, method: str, path: str
) -> None:
    with served.gateway.client() as http:
        answer = http.request(method, path, json={"service": "ci"})
    assert answer.status_code == 401
    assert "sign in first" in answer.json()["error"]


PERSON_ROUTES = [r for r in ROUTES if r[1] not in ("/v1/me", "/v1/session/logout")]


@pytest.mark.parametrize(
    ("method", "path"), PERSON_ROUTES, ids=[f"{m} {p}" for m, p in PERSON_ROUTES]
)
def test_a_service_token_never_counts_as_a_person(
    served: Served, keys: Keys, method: str, path: str
) -> None:
    with served.gateway.client(token(served.gateway.client(), keys, "frank")) as http:
        service = http.post("/v1/tokens", json={"service": "ci"}).json()["token"]
    with served.gateway.client(service) as http:
        answer = http.request(method, path, json={"service": "ci"})
        me = http.get("/v1/me").json()
    assert answer.status_code == 403
    assert "ci is a service" in answer.json()["error"]
    assert me == {"person": None, "subject": "ci", "kind": "service", "csrf": ""}


def test_bad_bodies_are_a_clear_4xx(served: Served) -> None:
    with served.gateway.client() as http:
        assert http.post("/v1/login", content=b"{not json").status_code == 422
        assert http.post("/v1/login", json={"nonce": "x"}).status_code == 422
        huge = http.post("/v1/login", json={"nonce": "x" * 300, "signature": "s"})
        assert huge.status_code == 422
        assert http.post("/v1/session", json={"code": 5}).status_code == 422
        assert http.post("/v1/session", json={"code": "x" * 40}).status_code == 401


def test_a_person_the_policy_no_longer_lists_is_refused(tmp_path: Path, keys: Keys) -> None:
    with serve(tmp_path, keys) as served, served.gateway.client() as http:
        secret = token(http, keys, "alice")
        assert http.get("/v1/tokens", headers=_bearer(secret)).status_code == 200
        seed = served.world.origin.clone(tmp_path / "edit", ERIN)
        policy = seed.path / ".twokey/policy.yml"
        policy.write_text(policy.read_text().replace("alice", "alicia"))
        seed.git("commit", "-qam", "alice leaves")
        seed.git("push", "-q", "origin", "main")
        deadline = time.monotonic() + 5  # each process reads the list of people once a second
        while (refused := http.get("/v1/tokens", headers=_bearer(secret))).status_code == 200:
            assert time.monotonic() < deadline, "the removed person was still served"
            time.sleep(0.1)
        assert refused.status_code == 403
        assert "alice is no longer a person in the trusted policy" in refused.json()["error"]
        assert login(http, keys, "alice").status_code == 401


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _key_file(keys: Keys, who: str, path: Path) -> Path:
    private = keys.signers[who].key.private_bytes(
        Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()
    )
    path.write_bytes(private)
    path.chmod(0o600)
    Path(f"{path}.pub").write_text(keys.signers[who].public_key + "\n")
    return path


def test_twokey_login_signs_with_ssh_keygen_and_saves_the_token(
    served: Served,
    keys: Keys,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("TWOKEY_TOKEN", raising=False)
    monkeypatch.delenv("TWOKEY_GATEWAY", raising=False)
    key = _key_file(keys, "dave", tmp_path / "id_ed25519")
    url = served.gateway.url
    assert main(["login", "--gateway", url, "--ssh-key", str(key), "--format", "json"]) == 0
    signed = json.loads(capsys.readouterr().out)
    assert signed["person"] == "dave"
    assert signed["gateway"] == url
    saved = json.loads((tmp_path / "config/twokey/credentials.json").read_text())
    secret = saved["gateways"][url]["token"]
    assert stat.S_IMODE((tmp_path / "config/twokey/credentials.json").stat().st_mode) == 0o600
    assert main(["tokens", "list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert hashlib.sha256(secret.encode()).hexdigest()[:12] in [t["id"] for t in listed]
    assert main(["login", "--browser", "--key", str(key), "--person", "dave"]) == 0
    out = capsys.readouterr().out
    assert "signed in to" in out
    assert f"open {url}/login" in out
    code = out.split("browser code: ")[1].split()[0]
    assert httpx.post(url + "/v1/session", json={"code": code}).json()["person"] == "dave"
    assert main(["logout"]) == 0
    assert main(["tokens", "list"]) == 2  # the saved token is gone


def test_twokey_login_refused_names_the_reason(
    served: Served,
    keys: Keys,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    key = _key_file(keys, "stranger", tmp_path / "id_ed25519")
    code = main(["login", "--gateway", served.gateway.url, "--ssh-key", str(key)])
    assert code == 2
    assert "is not in the policy" in capsys.readouterr().err


def test_spent_secrets_are_swept_an_hour_after_they_expire(served: Served) -> None:
    old = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    served.sql(
        "INSERT INTO twokey_gateway_nonces (hash, person, expires) VALUES ('old', '', ?)", (old,)
    )
    with served.gateway.client() as http:
        nonce(http)
    assert served.sql("SELECT hash FROM twokey_gateway_nonces WHERE hash = 'old'") == []


def test_a_cookie_request_without_its_csrf_token_changes_nothing(
    served: Served, keys: Keys
) -> None:
    with served.gateway.client(token(served.gateway.client(), keys, "carol")) as cli:
        code = cli.post("/v1/login/browser-code").json()["code"]
    with served.gateway.client() as browser:
        csrf = browser.post("/v1/session", json={"code": code}).json()["csrf"]
        before = served.sql("SELECT COUNT(*) FROM twokey_gateway_codes")
        for path in ("/v1/login/browser-code", "/v1/tokens", "/v1/session/logout"):
            answer = browser.post(path, json={"service": "ci"})
            assert answer.status_code == 403, path
            assert "CSRF" in answer.json()["error"]
        assert served.sql("SELECT COUNT(*) FROM twokey_gateway_codes") == before
        made = browser.post("/v1/login/browser-code", headers={"X-CSRF-Token": csrf})
        assert made.status_code == 200


def test_a_nonce_is_spent_once_across_processes(tmp_path: Path, keys: Keys, pg_url: str) -> None:
    with serve(tmp_path, keys, "--workers", "2", database=pg_url) as running:
        with running.gateway.client() as http:
            value = nonce(http)
        body = {"person": "bob", "nonce": value, "signature": signature(keys, "bob", value)}

        def attempt(_: int) -> int:
            with running.gateway.client() as http:
                return http.post("/v1/login", json=body).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = sorted(pool.map(attempt, range(8)))
    assert statuses == [200] + [401] * 7


def test_a_code_posted_from_another_site_is_refused(served: Served, keys: Keys) -> None:
    with served.gateway.client(token(served.gateway.client(), keys, "carol")) as cli:
        code = cli.post("/v1/login/browser-code").json()["code"]
    with served.gateway.client() as browser:
        evil = browser.post(
            "/v1/session", data={"code": code}, headers={"Origin": "https://evil.example"}
        )
        assert evil.status_code == 403
        assert "posted from https://evil.example" in evil.json()["error"]
        assert "twokey_session" not in evil.headers.get("set-cookie", "")
        same = browser.post(
            "/v1/session", data={"code": code}, headers={"Origin": served.gateway.url}
        )
        assert same.status_code == 303


def test_behind_https_the_session_cookie_is_secure(tmp_path: Path, keys: Keys) -> None:
    with serve(tmp_path, keys, "--base-url", "https://twokey.example.com") as running:
        with running.gateway.client(token(running.gateway.client(), keys, "bob")) as cli:
            issued = cli.post("/v1/login/browser-code").json()
        assert issued["url"] == "https://twokey.example.com/login"
        with running.gateway.client() as browser:
            opened = browser.post("/v1/session", json={"code": issued["code"]})
    assert opened.status_code == 200, opened.text
    assert "Secure" in opened.headers["set-cookie"]


def _push_policy(served: Served, tmp_path: Path, edit: dict[str, str], message: str) -> None:
    """Change the trusted policy on the origin's main (erin, an admin, pushes it)."""
    seed = served.world.origin.clone(tmp_path / "edit", ERIN)
    policy = seed.path / ".twokey/policy.yml"
    text = policy.read_text()
    for old, new in edit.items():
        assert old in text, old
        text = text.replace(old, new)
    policy.write_text(text)
    seed.git("commit", "-qam", message)
    seed.git("push", "-q", "origin", "main")


def _refused_soon(http: httpx.Client, path: str, **kwargs: object) -> httpx.Response:
    """The first non-200 answer within 5 s (each process reads the policy once a second)."""
    deadline = time.monotonic() + 5
    while (answer := http.get(path, **kwargs)).status_code == 200:  # type: ignore[arg-type]
        assert time.monotonic() < deadline, f"{path} was still served"
        time.sleep(0.1)
    return answer


def test_a_key_taken_from_a_person_ends_its_tokens_and_sessions(tmp_path: Path, keys: Keys) -> None:
    """Attack: alice's laptop key leaks; she is still listed, her entry gets a new key. A token
    (and a browser session) the thief obtained with the old key must die with it, not live on
    for its 8 hours because alice is still a person."""
    with serve(tmp_path, keys) as served, served.gateway.client() as http:
        stolen = token(http, keys, "alice")
        with served.gateway.client(stolen) as thief:
            code = thief.post("/v1/login/browser-code").json()["code"]
        opened = http.post("/v1/session", json={"code": code})
        assert opened.status_code == 200, opened.text
        session = opened.cookies["twokey_session"]
        new_key = keys.signers["stranger"].public_key  # alice's new key
        _push_policy(served, tmp_path, {keys.signers["alice"].public_key: new_key}, "rotate")
        refused = _refused_soon(http, "/v1/tokens", headers=_bearer(stolen))
        assert refused.status_code == 403
        assert refused.json()["error"] == (
            "the key this token was issued for is no longer alice's in the trusted policy: "
            "sign in again"
        )
        cookie = {"twokey_session": session}
        assert httpx.get(served.gateway.url + "/v1/me", cookies=cookie).status_code == 403
        page = httpx.get(served.gateway.url + "/", cookies=cookie, follow_redirects=False)
        assert page.status_code == 303  # the web UI treats it as signed out
        assert login(http, keys, "alice").status_code == 401  # the old key signs in no more
        fresh = login(http, keys, "stranger", person="alice")  # the new key does
        assert fresh.status_code == 200, fresh.text
        mine = http.get("/v1/me", headers=_bearer(fresh.json()["token"]))
        assert mine.json()["person"] == "alice"


def test_a_service_taken_out_of_the_policy_loses_its_tokens(tmp_path: Path, keys: Keys) -> None:
    from tests.support.gateway import issue_token  # noqa: PLC0415

    with serve(tmp_path, keys) as served, served.gateway.client() as http:
        ci = issue_token(f"sqlite://{served.db}", "service", "ci")
        assert http.get("/v1/me", headers=_bearer(ci)).status_code == 200
        edit = {"  ci: {": "  robot: {", "[ci]": "[robot]", "carol, ci]": "carol, robot]"}
        _push_policy(served, tmp_path, edit, "ci is now robot")
        refused = _refused_soon(http, "/v1/me", headers=_bearer(ci))
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == (
            "ci is no longer a service in the trusted policy: token refused"
        )


def test_a_token_with_no_recorded_credential_is_refused(served: Served, keys: Keys) -> None:
    """A token from a database before credentials were recorded (or a row an operator
    inserted by hand) is refused: fail closed, its holder signs in again."""
    secret = token(served.gateway.client(), keys, "bob")
    hashed = hashlib.sha256(secret.encode()).hexdigest()
    served.sql("DELETE FROM twokey_gateway_token_credentials WHERE hash = ?", (hashed,))
    with served.gateway.client(secret) as http:
        assert http.get("/v1/me").status_code == 401


def test_a_credential_of_another_kind_than_the_token_is_refused(served: Served, keys: Keys) -> None:
    """A person's token whose credential row says ``service:ci`` (a tampered row) does not
    make bob a service, and a service token bound to a person's key is no service."""
    secret = token(served.gateway.client(), keys, "bob")
    hashed = hashlib.sha256(secret.encode()).hexdigest()
    served.sql(
        "UPDATE twokey_gateway_token_credentials SET credential = 'service:ci' WHERE hash = ?",
        (hashed,),
    )
    with served.gateway.client(secret) as http:
        answer = http.get("/v1/me")
    assert answer.status_code == 403
    assert answer.json()["error"] == "this token names no credential: sign in again"

"""The forge API clients over real HTTP, against the fake forge: recorded GitHub exchanges,
and scripted cases for what the recordings lack (retries, rate limits, timeouts, tokens)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.support.fakeforge import Answer, FakeForge, running_forge
from twokey.errors import ConfigError, UsageError
from twokey.forge import (
    ForgeApiError,
    ForgeHttp,
    GitHubApi,
    GitLabApi,
    RetryPolicy,
    github_auth,
    gitlab_auth,
)

SHA = "0000000000000000000000000000000000000001"
TOKEN = {"TWOKEY_GITHUB_TOKEN": "t0ken"}
FAST = RetryPolicy(attempts=3, backoff=0.01, max_wait=5.0, timeout=2.0)


@pytest.fixture
def forge() -> Iterator[FakeForge]:
    with running_forge() as f:
        yield f


@pytest.fixture
def recordings(shared: Path) -> Path:
    return shared / "forge-payloads" / "github-api"


def _github(forge: FakeForge, sleeps: list[float] | None = None) -> GitHubApi:
    waits = sleeps if sleeps is not None else []
    return GitHubApi(github_auth(TOKEN), forge.url, FAST, sleep=waits.append)


def test_set_status_sends_the_recorded_requests(forge: FakeForge, recordings: Path) -> None:
    forge.load_recording(recordings / "create-status.json")
    api = _github(forge)
    repo = "octokit-fixture-org/create-status"
    api.set_status(
        repo, SHA, "failure", "create-status failure test", "https://example.com", "example/1"
    )
    api.set_status(
        repo, SHA, "success", "create-status success test", "https://example.com", "example/2"
    )
    posts = forge.calls_to("POST", f"/repos/{repo}/statuses/{SHA}")
    assert [c.body["state"] for c in posts] == ["failure", "success"]
    assert all(c.headers["authorization"] == "token t0ken" for c in posts)
    assert len(forge.calls) == 2  # each matched a recording: no 404, no retry


def test_pagination_follows_link_headers_to_the_last_page(
    forge: FakeForge, recordings: Path
) -> None:
    forge.load_recording(recordings / "paginate-issues.json")
    http = ForgeHttp(forge.url, dict, FAST)
    pages = list(http.pages("repos/octokit-fixture-org/paginate-issues/issues", {"per_page": "3"}))
    assert len(pages) == 5
    assert pages[-1].next_url is None
    assert [c.query.get("page") for c in forge.calls] == [None, "2", "3", "4", "5"]


def test_a_page_that_links_to_itself_is_an_error_not_a_loop(forge: FakeForge) -> None:
    forge.answer("GET", "/items", Answer(200, [1], {"X-Next-Page": "2"}))  # every page says 2
    http = ForgeHttp(forge.url, dict, FAST)
    with pytest.raises(ForgeApiError, match="the next page repeats"):
        list(http.pages("items"))
    assert [c.query.get("page") for c in forge.calls] == [None, "2"]


def test_a_validation_error_is_one_clear_error_without_retry(
    forge: FakeForge, recordings: Path
) -> None:
    forge.load_recording(recordings / "errors.json")
    http = ForgeHttp(forge.url, dict, FAST)
    with pytest.raises(ForgeApiError, match=r"POST .*/labels: HTTP 422: Validation Failed") as err:
        http.json(
            "POST", "repos/octokit-fixture-org/errors/labels", {"name": "foo", "color": "invalid"}
        )
    assert err.value.status == 422
    assert len(forge.calls) == 1


def test_5xx_is_retried_with_backoff_then_succeeds(forge: FakeForge) -> None:
    forge.answer("GET", "/x", Answer(502), Answer(503), Answer(200, {"ok": True}))
    sleeps: list[float] = []
    http = ForgeHttp(forge.url, dict, FAST, sleep=sleeps.append)
    assert http.json("GET", "/x") == {"ok": True}
    assert sleeps == [0.01, 0.02]  # exponential


def test_5xx_for_good_fails_after_the_attempts(forge: FakeForge) -> None:
    forge.answer("GET", "/x", Answer(500, {"message": "boom"}))
    http = ForgeHttp(forge.url, dict, FAST, sleep=lambda s: None)
    with pytest.raises(ForgeApiError, match="HTTP 500: boom"):
        http.json("GET", "/x")
    assert len(forge.calls) == 3


def test_a_403_rate_limit_waits_retry_after(forge: FakeForge) -> None:
    limited = Answer(403, {"message": "secondary rate limit"}, {"Retry-After": "3"})
    forge.answer("GET", "/x", limited, Answer(200, [1]))
    sleeps: list[float] = []
    assert ForgeHttp(forge.url, dict, FAST, sleep=sleeps.append).json("GET", "/x") == [1]
    assert sleeps == [3.0]


def test_an_exhausted_quota_waits_until_its_reset(forge: FakeForge) -> None:
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1004"}
    forge.answer(
        "GET", "/x", Answer(403, {"message": "API rate limit exceeded"}, headers), Answer(200, {})
    )
    sleeps: list[float] = []
    http = ForgeHttp(forge.url, dict, FAST, sleep=sleeps.append, clock=lambda: 1000.0)
    http.json("GET", "/x")
    assert sleeps == [4.0]


def test_gitlab_ratelimit_headers_are_read(forge: FakeForge) -> None:
    headers = {"RateLimit-Remaining": "0", "RateLimit-Reset": "1002"}
    forge.answer("GET", "/x", Answer(429, {"message": "Retry later"}, headers), Answer(200, {}))
    sleeps: list[float] = []
    ForgeHttp(forge.url, dict, FAST, sleep=sleeps.append, clock=lambda: 1000.0).json("GET", "/x")
    assert sleeps == [2.0]


def test_a_wait_longer_than_allowed_is_an_error_not_a_hang(forge: FakeForge) -> None:
    forge.answer("GET", "/x", Answer(429, {"message": "slow down"}, {"Retry-After": "3600"}))
    sleeps: list[float] = []
    with pytest.raises(ForgeApiError, match="HTTP 429: slow down"):
        ForgeHttp(forge.url, dict, FAST, sleep=sleeps.append).json("GET", "/x")
    assert sleeps == []


def test_a_403_that_is_no_rate_limit_is_final(forge: FakeForge) -> None:
    forge.answer("GET", "/x", Answer(403, {"message": "Resource not accessible by integration"}))
    with pytest.raises(ForgeApiError, match="HTTP 403: Resource not accessible"):
        ForgeHttp(forge.url, dict, FAST).json("GET", "/x")
    assert len(forge.calls) == 1


def test_a_slow_answer_times_out_and_is_retried(forge: FakeForge) -> None:
    forge.answer("GET", "/x", Answer(200, {"late": True}, delay=1.0), Answer(200, {"ok": 1}))
    quick = RetryPolicy(attempts=2, backoff=0.0, timeout=0.3)
    assert ForgeHttp(forge.url, dict, quick).json("GET", "/x") == {"ok": 1}


def test_a_slow_answer_for_good_is_a_timeout_error(forge: FakeForge) -> None:
    forge.answer("GET", "/x", Answer(200, {}, delay=1.0))
    once = RetryPolicy(attempts=1, timeout=0.2)
    with pytest.raises(ForgeApiError, match="timed out"):
        ForgeHttp(forge.url, dict, once).json("GET", "/x")


def test_a_next_link_to_another_host_does_not_get_the_token(forge: FakeForge) -> None:
    """Attack: a Link header (data from the answer) naming another host would collect the
    token; the client refuses to follow it."""
    evil = '<http://127.0.0.1:9/steal?page=2>; rel="next"'
    forge.answer("GET", "/items", Answer(200, [1], {"Link": evil}))
    http = ForgeHttp(forge.url, lambda: {"Authorization": "token secret"}, FAST)
    pages = http.pages("/items")
    assert next(pages).items == [1]
    with pytest.raises(ForgeApiError, match="refusing to send the forge token"):
        next(pages)


def test_a_callback_url_on_another_host_is_refused(forge: FakeForge) -> None:
    api = _github(forge)
    with pytest.raises(ForgeApiError, match="refusing to send the forge token"):
        api.review_deployment("https://evil.example/callback", "production", True, "ok")
    assert forge.calls == []


@pytest.mark.parametrize(
    ("repo", "sha"),
    [
        ("owner/../admin", SHA),
        ("owner/repo?x=1", SHA),
        ("/owner/repo", SHA),
        ("owner/repo", "HEAD"),
    ],
    ids=["dot-dot", "query", "leading-slash", "not-a-sha"],
)
def test_names_that_would_change_the_api_path_are_refused(
    forge: FakeForge, repo: str, sha: str
) -> None:
    with pytest.raises(UsageError):
        _github(forge).set_status(repo, sha, "success", "d", "https://x", "c")
    assert forge.calls == []


def test_a_malformed_answer_is_one_clear_error(forge: FakeForge) -> None:
    when = "2030-01-01T00:00:00Z"
    pull = {
        "number": True,  # a bool is no number
        "updated_at": when,
        "merged_at": when,
        "base": {"ref": "main"},
        "head": {"sha": SHA},
        "user": {"login": "alice"},
    }
    forge.answer("GET", "/repos/o/r/pulls", Answer(200, [pull]))
    with pytest.raises(ForgeApiError, match="'number' missing or not a int"):
        list(_github(forge).merged("o/r", datetime(2020, 1, 1, tzinfo=UTC)))


def test_deployment_review_answers_the_callback(forge: FakeForge) -> None:
    callback = "/repos/o/r/actions/runs/42/deployment_protection_rule"
    forge.answer("POST", callback, Answer(204))
    _github(forge).review_deployment(forge.url + callback, "production", False, "SELF_APPROVAL")
    (call,) = forge.calls_to("POST", callback)
    assert call.body == {
        "environment_name": "production",
        "state": "rejected",
        "comment": "SELF_APPROVAL",
    }


def test_no_credentials_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="TWOKEY_GITHUB_TOKEN"):
        github_auth({})
    with pytest.raises(ConfigError, match="TWOKEY_GITLAB_TOKEN"):
        gitlab_auth({})
    with pytest.raises(ConfigError, match="half configured"):
        github_auth({"TWOKEY_GITHUB_APP_ID": "1"})


def _app_env(tmp_path: Path) -> tuple[dict[str, str], rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "app.pem").write_bytes(pem)
    env = {
        "TWOKEY_GITHUB_APP_ID": "1234",
        "TWOKEY_GITHUB_APP_KEY": str(tmp_path / "app.pem"),
        "TWOKEY_GITHUB_INSTALLATION_ID": "77",
    }
    return env, key


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_github_app_jwt_is_exchanged_for_a_cached_installation_token(
    forge: FakeForge, tmp_path: Path
) -> None:
    env, key = _app_env(tmp_path)
    now = [1_000_000.0]
    forge.answer(
        "POST",
        "/app/installations/77/access_tokens",
        Answer(201, {"token": "ghs_one", "expires_at": "1970-01-12T14:46:40Z"}),  # 1_000_000 + 3600
        Answer(201, {"token": "ghs_two", "expires_at": "1970-01-12T16:46:40Z"}),
    )
    forge.answer("POST", f"/repos/o/r/statuses/{SHA}", Answer(201, {}))
    auth = github_auth(env, forge.url, clock=lambda: now[0])
    api = GitHubApi(auth, forge.url, FAST)
    for _ in range(3):
        api.set_status("o/r", SHA, "pending", "d", "https://x", "c")
    now[0] += 3400  # within five minutes of the expiry: renewed
    api.set_status("o/r", SHA, "pending", "d", "https://x", "c")
    exchanges = forge.calls_to("POST", "/app/installations/77/access_tokens")
    assert len(exchanges) == 2
    statuses = forge.calls_to("POST", f"/repos/o/r/statuses/{SHA}")
    assert [c.headers["authorization"] for c in statuses] == ["token ghs_one"] * 3 + [
        "token ghs_two"
    ]
    jwt = exchanges[0].headers["authorization"].removeprefix("Bearer ")
    header, claims, signature = jwt.split(".")
    key.public_key().verify(
        _unb64(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    assert json.loads(_unb64(header)) == {"alg": "RS256", "typ": "JWT"}
    assert json.loads(_unb64(claims)) == {
        "iat": 1_000_000 - 60,
        "exp": 1_000_000 + 540,
        "iss": "1234",
    }


def test_a_bad_app_key_is_a_configuration_error(tmp_path: Path) -> None:
    env, _ = _app_env(tmp_path)
    (tmp_path / "app.pem").write_text("not a key")
    with pytest.raises(ConfigError, match="GitHub App key"):
        github_auth(env)


def test_gitlab_status_and_deployment_approval(forge: FakeForge, shared: Path) -> None:
    api_dir = shared / "forge-payloads" / "gitlab" / "api"
    approved = json.loads((api_dir / "deployment_approval.response.json").read_text())
    with running_forge("/api/v4") as gitlab:
        gitlab.answer("POST", f"/projects/group%2Fsub%2Fproject/statuses/{SHA}", Answer(201, {}))
        gitlab.answer("POST", "/projects/1/deployments/15/approval", Answer(200, approved))
        api = GitLabApi(gitlab_auth({"TWOKEY_GITLAB_TOKEN": "glpat-x"}), gitlab.url, FAST)
        api.set_status("group/sub/project", SHA, "failure", "1 finding", "https://gw/x", "twokey")
        api.review_deployment(
            gitlab.url + "/projects/1/deployments/15/approval", "staging", True, "ok"
        )
        status, review = gitlab.calls
        assert status.path == f"/api/v4/projects/group%2Fsub%2Fproject/statuses/{SHA}"
        assert status.body["state"] == "failed"
        assert status.body["name"] == "twokey"
        assert status.headers["private-token"] == "glpat-x"
        request = json.loads((api_dir / "deployment_approval.request.json").read_text())
        assert review.body == {"status": "approved", "comment": "ok"}
        assert set(review.body) <= set(request)

"""``POST /v1/checks`` over real HTTP, on SQLite and PostgreSQL: the verdict, the policy that
decides (the default branch's, never the base's), the evidence refs, the ledger, the formats,
and what a caller cannot do (no credentials, unknown commits, bad bodies)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.integration.gateway._api import MAIN, Api, running_api
from tests.integration.git._harness import Keys
from tests.support.gitrepo import ALICE
from twokey.cli import main
from twokey.evidence import GitEvidenceStore, sign_approval
from twokey.ledger import open_ledger

ZERO = "0" * 40


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, keys: Keys
) -> Iterator[Api]:
    """One gateway per engine for the whole module."""
    with running_api(tmp_path_factory.mktemp("checks"), keys, request.param) as running:
        yield running


def check(api: Api, old: str, new: str, *, ref: str = MAIN, fmt: str = "") -> dict[str, object]:
    with api.gateway.client(api.token) as http:
        params = {"format": fmt} if fmt else {}
        answer = http.post("/v1/checks", json={"ref": ref, "old": old, "new": new}, params=params)
    assert answer.status_code == 200, answer.text
    data: dict[str, object] = answer.json()
    return data


def approve(api: Api, commit: str, who: str = "bob") -> None:
    """A reviewer's approval of ``commit``, stored in the gateway's repository's evidence refs."""
    origin = api.world.origin
    tree = origin.git("rev-parse", f"{commit}^{{tree}}").strip()
    envelope = sign_approval(
        api.world.keys.signers[who],
        repository="shop",
        ref=MAIN,
        commit=commit,
        tree=tree,
        when=datetime.now(UTC),
    )
    GitEvidenceStore(origin.path).put(envelope, commit)


def codes(answer: dict[str, object]) -> set[str]:
    findings = answer["findings"]
    assert isinstance(findings, list)
    return {f["code"] for f in findings}


def test_an_unapproved_change_is_denied_and_recorded(api: Api) -> None:
    answer = check(api, api.commit("P"), api.commit("Y"))
    assert answer["verdict"] == "deny"
    assert "INSUFFICIENT_APPROVALS" in codes(answer), answer
    assert answer["policy"] == "refs/heads/main:.twokey/policy.yml"
    for finding in answer["findings"]:  # type: ignore[attr-defined]
        assert finding["message"]
        assert "satisfy" in finding
        assert "rule" in finding
    index = answer["ledger_index"]
    assert isinstance(index, int)
    with open_ledger(api.database) as ledger:
        entry = json.loads(ledger.entry(index))
    assert entry["body"]["door"] == "gateway-check"
    assert entry["body"]["new"] == api.commit("Y")
    assert entry["body"]["decision"]["verdict"] == "deny"


def test_an_approved_change_is_allowed_with_the_evidence_counted(api: Api) -> None:
    approve(api, api.commit("X"), "bob")
    answer = check(api, api.commit("P"), api.commit("X"))
    assert answer["verdict"] == "allow", answer
    counted = answer["counted"]
    assert isinstance(counted, list), answer
    assert counted, answer
    assert answer["evidence"], answer


def test_a_self_approval_does_not_count(api: Api) -> None:
    approve(api, api.commit("X"), "carol")  # carol wrote X: her approval is excluded
    answer = check(api, api.commit("P"), api.commit("X"))
    assert answer["verdict"] == "allow"  # bob's still counts
    assert any("carol" in json.dumps(e) for e in answer["excluded"]), answer  # type: ignore[attr-defined]


def test_other_formats_come_from_the_doors_renderer(api: Api) -> None:
    with api.gateway.client(api.token) as http:
        body = {"ref": MAIN, "old": api.commit("P"), "new": api.commit("Y")}
        sarif = http.post("/v1/checks", json=body, params={"format": "sarif"})
        junit = http.post("/v1/checks", json=body, params={"format": "junit"})
        github = http.post("/v1/checks", json=body, params={"format": "github"})
        text = http.post("/v1/checks", json=body, params={"format": "text"})
        bad = http.post("/v1/checks", json=body, params={"format": "yaml"})
    assert sarif.json()["version"] == "2.1.0"
    assert junit.text.lstrip().startswith("<?xml")
    assert "INSUFFICIENT_APPROVALS" in junit.text
    assert "::error" in github.text
    assert "INSUFFICIENT_APPROVALS" in text.text
    assert bad.status_code == 422


def test_the_policy_is_the_default_branch_s_not_the_base_s(api: Api, tmp_path: Path) -> None:
    """Attack: name as base an old commit whose policy is looser (here: no approvals at all).

    The gateway judges with the policy on the default branch as it is now."""
    origin = api.world.origin
    seed = origin.clone(tmp_path / "loose")
    loose = seed.git("show", f"{api.commit('P')}:.twokey/policy.yml").replace(
        "approvals: 1\n    approvers: [reviewers, admins]", "approvals: 0\n    approvers: []"
    )
    seed.git("checkout", "-q", "-b", "loose", api.commit("P"))
    weak = seed.commit({".twokey/policy.yml": loose}, "loosen", ALICE)
    change = seed.commit({"evil.py": "x\n"}, "unreviewed change", ALICE)
    seed.git("push", "-q", "origin", "loose")
    # With the base's policy the change would pass: the attack is real.
    argv = ["check", "--repo", str(origin.path), "--ref", MAIN, "--old", weak, "--new", change]
    assert main([*argv, "--repository", "shop"]) == 0
    answer = check(api, weak, change)
    assert answer["verdict"] == "deny", answer
    assert answer["policy"] == "refs/heads/main:.twokey/policy.yml"


def test_commits_not_in_the_repository_are_a_clear_422(api: Api) -> None:
    missing = "1234567890" * 4
    with api.gateway.client(api.token) as http:
        answer = http.post("/v1/checks", json={"ref": MAIN, "old": api.commit("P"), "new": missing})
    assert answer.status_code == 422
    assert "not a commit of the gateway's repository" in answer.json()["error"]
    assert missing in answer.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"ref": "refs/heads/main"}',
        b'{"ref": "main", "old": "' + b"a" * 40 + b'", "new": "' + b"b" * 40 + b'"}',
        b'{"ref": "refs/heads/main", "old": "HEAD", "new": "HEAD"}',
        b'{"ref": "refs/heads/main", "old": "'
        + b"a" * 40
        + b'", "new": "'
        + b"b" * 40
        + b'", "extra": 1}',
        b"[1, 2]",
    ],
)
def test_bad_bodies_are_4xx_and_record_nothing(api: Api, body: bytes) -> None:
    with open_ledger(api.database) as ledger:
        before = ledger.size()
    with api.gateway.client(api.token) as http:
        answer = http.post("/v1/checks", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["error"]
    with open_ledger(api.database) as ledger:
        assert ledger.size() == before


def test_a_check_needs_credentials(api: Api) -> None:
    body = {"ref": MAIN, "old": api.commit("P"), "new": api.commit("Y")}
    with api.gateway.client() as http:
        assert http.post("/v1/checks", json=body).status_code == 401
    with api.gateway.client("tk_forged") as http:
        assert http.post("/v1/checks", json=body).status_code == 401


def test_a_created_ref_is_judged(api: Api) -> None:
    answer = check(api, ZERO, api.commit("Y"), ref="refs/heads/feature")
    assert answer["verdict"] in ("allow", "deny")
    assert isinstance(answer["ledger_index"], int)


def test_the_git_cache_never_hides_a_new_ref(api: Api) -> None:
    """The gateway caches git's answers while the refs stay put: an approval stored after a
    cached deny counts at once, and again once the cache could have settled."""
    commit = api.commit("Z")
    for _ in range(2):
        time.sleep(0.3)  # past the racy window: the second answer comes from the cache
        assert check(api, api.commit("Y"), commit)["verdict"] == "deny"
    approve(api, commit, "bob")
    assert check(api, api.commit("Y"), commit)["verdict"] == "allow"
    time.sleep(0.3)
    assert check(api, api.commit("Y"), commit)["verdict"] == "allow"
    ref = next(
        r
        for r in api.world.origin.git("for-each-ref", "--format=%(refname)").split()
        if r.startswith(f"refs/twokey/evidence/{commit}/")
    )
    api.world.origin.git("update-ref", "-d", ref)  # the approval is withdrawn
    time.sleep(0.3)
    assert check(api, api.commit("Y"), commit)["verdict"] == "deny"


def test_a_second_name_for_the_protected_branch_is_judged_as_the_branch(api: Api) -> None:
    """A symbolic ref on the server (``refs/heads/release`` -> ``main``): a push to it moves
    ``main``, so a check of it is judged under ``main``'s rule, as the hook judges it."""
    origin = api.world.origin
    origin.git("symbolic-ref", "refs/heads/release", MAIN)
    try:
        answer = check(api, api.commit("P"), api.commit("Y"), ref="refs/heads/release")
    finally:
        origin.git("symbolic-ref", "--delete", "refs/heads/release")
    assert answer["verdict"] == "deny", answer
    assert "INSUFFICIENT_APPROVALS" in codes(answer), answer
    assert answer["ref"] == MAIN


def _both_paths(api: Api, body: dict[str, str]) -> tuple[object, object]:
    """The same check answered by the fast path and by the FastAPI route (``?format=json``
    is the route's: the fast path takes no query string)."""
    answers = []
    with api.gateway.client(api.token) as http:
        for params in ({}, {"format": "json"}):
            answer = http.post("/v1/checks", json=body, params=params)
            data = answer.json()
            if isinstance(data, dict) and isinstance(data.get("ledger_index"), int):
                data["ledger_index"] = "recorded"
            answers.append((answer.status_code, data))
    return answers[0], answers[1]


@pytest.mark.parametrize("case", ["allowed", "denied", "created", "unknown-commit"], ids=str)
def test_the_fast_path_answers_exactly_as_the_route(api: Api, case: str) -> None:
    commit = api.commit("X")
    approve(api, commit, "bob")
    bodies = {
        "allowed": {"ref": MAIN, "old": api.commit("P"), "new": commit},
        "denied": {"ref": MAIN, "old": api.commit("P"), "new": api.commit("Y")},
        "created": {"ref": "refs/heads/other", "old": ZERO, "new": commit},
        "unknown-commit": {"ref": MAIN, "old": api.commit("P"), "new": "1234567890" * 4},
    }
    with open_ledger(api.database) as ledger:
        before = ledger.size()
    fast, slow = _both_paths(api, bodies[case])
    assert fast == slow
    with open_ledger(api.database) as ledger:
        assert ledger.size() == before + (0 if case == "unknown-commit" else 2)


def test_a_revoked_expired_or_untrusted_token_is_refused_at_once(api: Api) -> None:
    """The fast path looks the token up on every check and asks the trusted policy about it,
    as the route does: a revocation counts from the next request; an expired token, a session
    cookie's token or none is the route's 401 with its header; a service the policy does not
    list is the route's 403."""
    from tests.support.gateway import issue_token  # noqa: PLC0415
    from twokey.forge import ForgeStore  # noqa: PLC0415
    from twokey.gateway._auth import Tokens  # noqa: PLC0415

    body = {"ref": MAIN, "old": api.commit("P"), "new": api.commit("Y")}
    token = issue_token(api.database, "service", "ci")
    with api.gateway.client(token) as http:
        assert http.post("/v1/checks", json=body).status_code == 200
    expired = issue_token(api.database, "service", "ci", ttl=-60)
    session = issue_token(api.database, "session", "ci", credential="service:ci")
    ghost = issue_token(api.database, "service", "ghost")
    store = ForgeStore(api.database)
    try:
        digest = hashlib.sha256(token.encode()).hexdigest()
        Tokens(store.db).revoke_hash(digest, datetime.now(UTC))
    finally:
        store.close()
    for refused in (token, expired, session):
        with api.gateway.client(refused) as http:
            answer = http.post("/v1/checks", json=body)
        assert answer.status_code == 401, refused
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["error"].startswith("sign in first")
    with api.gateway.client(ghost) as http:
        answer = http.post("/v1/checks", json=body)
    assert answer.status_code == 403
    assert answer.json()["error"] == (
        "ghost is no longer a service in the trusted policy: token refused"
    )


def test_evidence_received_before_its_keys_window_does_not_count(
    tmp_path: Path, keys: Keys
) -> None:
    """Attack: bob's key is only valid from D on (say it was alice's laptop's until D). An
    approval the gate received before D must not count after D, although the key is valid at
    the gateway's clock: the gateway judges the key at the ledger's receipt, as the hook does."""
    from datetime import timedelta  # noqa: PLC0415

    from twokey.ledger import EvidenceRecord, to_entry  # noqa: PLC0415

    opens = datetime.now(UTC) - timedelta(hours=1)
    with running_api(tmp_path, keys, "sqlite") as api:
        origin = api.world.origin
        bob = api.world.keys.public()["bob"]
        admin = origin.clone(tmp_path / "admin", ALICE)
        policy = admin.path / ".twokey/policy.yml"
        window = f"valid_after: '{opens.isoformat(timespec='seconds')}'"
        text = policy.read_text().replace(f'keys: ["{bob}"]', f'keys: [{{key: "{bob}", {window}}}]')
        policy.write_text(text)
        admin.git("commit", "-qam", "bob's key is valid from D on")
        admin.git("push", "-q", "origin", "main")
        base = admin.rev_parse("HEAD")
        admin.commit({"app.py": "early\n"}, "Change", ALICE)
        admin.git("push", "-q", "origin", "HEAD:refs/heads/early")
        early = admin.rev_parse("HEAD")
        admin.commit({"app.py": "late\n"}, "Change again", ALICE)
        admin.git("push", "-q", "origin", "HEAD:refs/heads/late")
        late = admin.rev_parse("HEAD")
        tree = origin.git("rev-parse", f"{early}^{{tree}}").strip()
        signed = sign_approval(
            api.world.keys.signers["bob"], repository="shop", ref=MAIN, commit=early,
            tree=tree, when=datetime.now(UTC),
        )  # fmt: skip
        ref = GitEvidenceStore(origin.path).put(signed, early)
        received = opens - timedelta(hours=1)  # the hook recorded it before D
        with open_ledger(api.database) as ledger:
            ledger.append([to_entry(EvidenceRecord("git-hook", "shop", ref=ref), received)])
        approve(api, late)  # received now (no receipt): judged at the gateway's clock
        assert check(api, base, late)["verdict"] == "allow"  # the key's window is open now
        answer = check(api, base, early)
    assert answer["verdict"] == "deny", answer
    assert "INSUFFICIENT_APPROVALS" in codes(answer)

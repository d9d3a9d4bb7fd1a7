"""The gateway's forge worker: the durable outbox performed by several gateway processes, each
row once, rows queued before a (re)start included; and an operator's approval given in the
gateway answering a pending forge deployment (``on_operator_approval``), exactly once."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.forge._send import LOCAL, SECRET, github_headers
from tests.integration.forge._world import REPO, _user, pull_payload, review_payload
from tests.integration.gateway._forge_site import (
    GITHUB_TOKEN,
    REPOSITORY,
    database_for,
    deploy_policy,
    gateway_env,
    status_path,
    wait_for_calls,
)
from tests.integration.git._harness import Keys
from tests.support.fakeforge import Answer, FakeForge, running_forge
from tests.support.gateway import start_gateway
from tests.support.gitrepo import ALICE, ERIN, GitRepo
from twokey.evidence import GitEvidenceStore, sign_provenance
from twokey.forge import GitHubApi, Outbox
from twokey.gateway import Gateway, GatewayConfig
from twokey.gateway._forge_worker import (
    ForgeService,
    on_operator_approval,
    register,
    set_approvals_source,
    unregister,
)
from twokey.model import Alias, DeployApproval, TrustLevel

ARTIFACT = "sha256:" + hashlib.sha256(b"shop-2.0.tar").hexdigest()
SIGNED = datetime(2026, 12, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_several_processes_perform_each_queued_call_once(tmp_path: Path, engine: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    count = 60
    shas = [hashlib.sha1(f"c{i}".encode()).hexdigest() for i in range(count)]
    with database_for(engine, data) as (database, url), running_forge() as github:
        for sha in shas:  # a little slow, so both processes' workers are busy at once
            github.answer("POST", status_path(sha), Answer(201, {}, delay=0.05))
        # Queued while no gateway runs (as a crash or a restart leaves them): durable.
        outbox = Outbox(url)
        for sha in shas:
            args = {
                "repo": REPO,
                "sha": sha,
                "state": "success",
                "description": "allowed",
                "target_url": "https://twokey.example/changes/1",
                "context": "twokey/separation-of-duties",
            }
            outbox.add("github", "set_status", args, time.time())
        gateway = start_gateway(
            data,
            "--workers",
            "2",
            "--github-api-url",
            github.url,
            database=database,
            env=gateway_env(),
        )
        try:
            calls = []
            for sha in shas:
                calls += wait_for_calls(github, "POST", status_path(sha), 1)
            time.sleep(1.0)  # time for a second claim of any row, if there were one
            assert sorted(c.path for c in github.calls) == sorted(
                f"/repos/{REPO}/statuses/{sha}" for sha in shas
            )  # every row performed, none twice
            assert all(c.headers["authorization"] == f"token {GITHUB_TOKEN}" for c in calls)
            assert outbox.counts() == {"done": count}
        finally:
            gateway.stop()
            outbox.close()


# -- operator approvals in the gateway answer pending forge deployments -----------------------


@dataclass
class Local:
    """A gateway's state and forge service in this process (the hook is an internal call)."""

    gateway: Gateway
    service: ForgeService
    github: FakeForge
    mirror: GitRepo
    work: GitRepo
    keys: Keys

    def send(self, event: str, payload: dict[str, Any]) -> str:
        body = json.dumps(payload).encode()
        receipt = self.service.receive("github", github_headers(event, body), body)
        assert receipt.status == 202, receipt.reason
        return receipt.reason


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Local]:
    keys = Keys.generate()
    mirror = GitRepo.init(tmp_path / "mirror.git", bare=True)
    work = mirror.clone(tmp_path / "work", ERIN)
    work.commit({".twokey/policy.yml": deploy_policy(keys), "app.py": "v1\n"}, "Policy", ERIN)
    work.git("push", "-q", "origin", "HEAD:refs/heads/main")
    with running_forge() as github:
        config = GatewayConfig(
            data=tmp_path / "data",
            repo=mirror.path,
            repository=REPOSITORY,
            github_secret=SECRET,
            github_repository=REPO,
            github_api_url=github.url,
            forge_reevaluate=3600,
        )
        gateway = Gateway(config)
        client = GitHubApi(lambda: {"Authorization": f"token {GITHUB_TOKEN}"}, github.url)
        service = ForgeService(gateway, {"github": client}, poll=0.05)
        service.start()
        register(gateway, service)
        try:
            yield Local(gateway, service, github, mirror, work, keys)
        finally:
            unregister(gateway)
            service.stop()
            gateway.close()


def _release(local: Local) -> str:
    """A change bob reviewed on the forge, landed on main, with the CI's provenance."""
    head = local.work.commit({"app.py": "v2\n"}, "change by alice", ALICE)
    local.work.git("push", "-q", "origin", "HEAD:refs/pull/7/head")
    for sha in (head,):
        local.github.answer("POST", status_path(sha), Answer(201, {}))
    local.send("pull_request", pull_payload(7, head, "opened", "alice"))
    assert local.send("pull_request_review", review_payload(7, head, "bob", "approved", 1)) == (
        "review approved; status success"
    )
    local.work.git("push", "-q", "origin", "HEAD:refs/heads/main")
    provenance = sign_provenance(
        local.keys.signers["ci"], artifact=ARTIFACT, repository=REPOSITORY, commit=head, when=SIGNED
    )
    GitEvidenceStore(local.mirror.path).put(provenance, ARTIFACT)
    return head


def _callback(run: int) -> str:
    return f"/repos/{REPO}/actions/runs/{run}/deployment_protection_rule"


def _request_deploy(local: Local, head: str, creator: str, run: int) -> str:
    data: dict[str, Any] = json.loads(
        (LOCAL / "deployment_protection_rule.requested.json").read_text()
    )
    data["repository"]["full_name"] = REPO
    data["environment"] = "production"
    data["deployment_callback_url"] = local.github.url + _callback(run)
    deploy = data["deployment"]
    deploy.update(id=run, sha=head, ref="main", creator=_user(creator), environment="production")
    deploy["payload"] = {"artifact": ARTIFACT}
    data["sender"] = _user(creator)
    local.github.answer("POST", _callback(run), Answer(204))
    return local.send("deployment_protection_rule", data)


def _approval(person: str, commit: str) -> DeployApproval:
    """An approval as the gateway's deploy service records one (trust ``forge``)."""
    return DeployApproval(
        ARTIFACT,
        "production",
        commit,
        Alias.email(f"{person}@example.com"),  # the person's first alias in the policy
        SIGNED,
        TrustLevel.FORGE,
        f"gateway:test-{uuid.uuid4().hex[:8]}:{person}",
        repository=REPOSITORY,
    )


def test_an_operator_approval_in_the_gateway_answers_the_forge_once(local: Local) -> None:
    head = _release(local)
    waiting = "deployment pending: waits for an operator's approval"
    assert _request_deploy(local, head, "carol", 1) == waiting
    # Approvals that must not count: the deployer's own (carol is no approver of production
    # either); another commit or another repository selects nothing.
    [denied] = on_operator_approval(
        local.gateway, REPOSITORY, "production", head, [_approval("carol", head)]
    )
    assert not denied.allowed
    assert {"NOT_AN_APPROVER", "INSUFFICIENT_DEPLOY_APPROVALS"} <= {
        str(f.code) for f in denied.findings
    }
    other = "0" * 40
    assert (
        on_operator_approval(
            local.gateway, REPOSITORY, "production", other, [_approval("dave", other)]
        )
        == []
    )
    assert (
        on_operator_approval(
            local.gateway, "elsewhere", "production", head, [_approval("dave", head)]
        )
        == []
    )
    time.sleep(0.5)
    assert local.github.calls_to("POST", _callback(1)) == []
    # dave, an approver of production, approves in the gateway: the forge is answered.
    [allowed] = on_operator_approval(
        local.gateway, REPOSITORY, "production", head, [_approval("dave", head)]
    )
    assert allowed.allowed
    [call] = wait_for_calls(local.github, "POST", _callback(1), 1)
    assert call.json["state"] == "approved"
    # Once answered, nothing waits: a second approval answers nothing more.
    assert (
        on_operator_approval(
            local.gateway, REPOSITORY, "production", head, [_approval("dave", head)]
        )
        == []
    )
    time.sleep(0.5)
    assert len(local.github.calls_to("POST", _callback(1))) == 1
    assert local.gateway.store.pending() == []


def test_the_periodic_re_evaluation_counts_the_gateway_approvals(local: Local) -> None:
    head = _release(local)
    _request_deploy(local, head, "bob", 2)  # bob reviewed the release: he may not deploy it
    assert len(wait_for_calls(local.github, "POST", _callback(2), 1)) == 1
    _request_deploy(local, head, "carol", 3)
    assert local.service.reevaluate() != []  # still waiting: nobody approved
    assert local.github.calls_to("POST", _callback(3)) == []
    set_approvals_source(local.gateway, lambda pending: [_approval("dave", pending.commit)])
    [answer] = local.service.reevaluate()
    assert answer.decision.allowed
    [call] = wait_for_calls(local.github, "POST", _callback(3), 1)
    assert call.json["state"] == "approved"
    [rejected] = local.github.calls_to("POST", _callback(2))
    assert rejected.json["state"] == "rejected"


def test_a_mirror_with_an_origin_is_fetched_before_a_delivery_is_judged(tmp_path: Path) -> None:
    keys = Keys.generate()
    upstream = GitRepo.init(tmp_path / "forge.git", bare=True)  # the forge's repository
    work = upstream.clone(tmp_path / "work", ERIN)
    work.commit({".twokey/policy.yml": deploy_policy(keys), "app.py": "v1\n"}, "Policy", ERIN)
    work.git("push", "-q", "origin", "HEAD:refs/heads/main")
    mirror = tmp_path / "mirror.git"
    upstream.git("clone", "-q", "--mirror", str(upstream.path), str(mirror))
    # Pushed to the forge after the mirror was made: only a fetch brings the head.
    head = work.commit({"app.py": "v2\n"}, "change by alice", ALICE)
    work.git("push", "-q", "origin", "HEAD:refs/pull/7/head")
    config = GatewayConfig(
        data=tmp_path / "data",
        repo=mirror,
        repository=REPOSITORY,
        github_secret=SECRET,
        github_repository=REPO,
    )
    gateway = Gateway(config)
    service = ForgeService(gateway, {})
    service.start()
    try:
        body = json.dumps(pull_payload(7, head, "opened", "alice")).encode()
        receipt = service.receive("github", github_headers("pull_request", body), body)
        assert (receipt.status, receipt.reason) == (202, "status failure")  # judged: no review
        body = json.dumps(review_payload(7, head, "bob", "approved", 1)).encode()
        receipt = service.receive("github", github_headers("pull_request_review", body), body)
        assert receipt.reason == "review approved; status success"
    finally:
        service.stop()
        gateway.close()


def test_the_forge_settings_reach_every_worker_process(tmp_path: Path) -> None:
    config = GatewayConfig(
        data=tmp_path,
        github_repository=REPO,
        gitlab_repository="group/sub/shop",
        github_api_url="https://ghe.example/api/v3",
        gitlab_api_url="https://git.example/api/v4",
        forge_reevaluate=15.0,
    )
    assert GatewayConfig.from_json(config.to_json()) == config


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--github", "../../etc"], "not a repository name"),
        (["--gitlab", "group/pro ject"], "not a repository name"),
        (["--forge-reevaluate", "0"], "--forge-reevaluate must be a positive"),
    ],
    ids=["github-path", "gitlab-space", "reevaluate-zero"],
)
def test_serve_refuses_bad_forge_options(
    tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from twokey.cli import main  # noqa: PLC0415

    code = main(["serve", "--data", str(tmp_path / "data"), *args])
    assert code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_one_process_per_period_judges_pending_deployments_again(
    tmp_path: Path, engine: str
) -> None:
    from twokey.gateway._forge_worker import _take_turn  # noqa: PLC0415

    with database_for(engine, tmp_path) as (database, _):
        config = GatewayConfig(data=tmp_path, database=database)
        first, second = Gateway(config), Gateway(config)  # two processes' states
        try:
            for gateway in (first, second):
                ForgeService(gateway, {}).stop()  # creates the tables, as setup does
            turns = [_take_turn(g, "test-timer", 60.0) for g in (first, second, first, second)]
            assert turns == [True, False, False, False]  # the period is taken once
            assert _take_turn(first, "another-timer", 0.0)  # each timer on its own
        finally:
            first.close()
            second.close()

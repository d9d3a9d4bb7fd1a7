"""``twokey deploy check`` against real repositories: each attack of issue 15 item 10 first."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from tests.integration.doors._deploys import World, findings
from tests.support.gitrepo import ALICE
from twokey.cli import build_parser, main
from twokey.ledger import EntryKind, open_ledger, parse_entry


def _ledger(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'ledger.db'}"


# -- the release: every commit since the last recorded deploy ----------------------------------


def test_a_deployers_own_commit_two_back_is_in_the_release(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Carol wrote X; alice wrote Y and Z on top. Carol deploying Z deploys her own X."""
    world.attest("Z")
    assert world.deploy("--deployer", "carol@example.com") == 1
    out = capsys.readouterr().out
    assert "DEPLOYER_IS_AUTHOR" in findings(out)
    assert world.commits["X"][:7] in out


def test_since_cannot_cut_the_release_without_a_ledger_that_records_it(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.attest("Z")
    assert world.deploy("--deployer", "carol@example.com", "--since", world.commits["Y"]) == 2
    assert "--since needs a ledger" in capsys.readouterr().err


def test_since_must_be_a_recorded_deploy(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = _ledger(tmp_path)
    world.attest("Z")
    assert (
        world.deploy(
            "--deployer", "carol@example.com", "--since", world.commits["Y"], "--ledger", ledger
        )
        == 2
    )
    assert "is no recorded deploy to production" in capsys.readouterr().err


def test_the_release_starts_at_the_last_recorded_deploy(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Once X is deployed (and recorded), carol may deploy Y..Z, which she did not write."""
    ledger = _ledger(tmp_path)
    world.attest("X")
    assert world.deploy("--deployer", "ci@example.com", "--ledger", ledger, commit="X") == 0
    world.attest("Z")
    assert world.deploy("--deployer", "carol@example.com", "--ledger", ledger) == 0
    with open_ledger(ledger) as log:
        entries = [parse_entry(data) for _, data in log.entries()]
    assert [e.kind for e in entries] == [EntryKind.DEPLOY, EntryKind.DEPLOY]
    assert entries[0].body["since"] is None
    assert entries[1].body["since"] == world.commits["X"]
    assert entries[1].body["deployer"] == "email:carol@example.com"
    assert "origin refs/heads/main:.twokey/policy.yml" in entries[1].body["policy"]
    assert "ALLOW" in capsys.readouterr().out


def test_a_denied_deploy_does_not_move_the_release_start(world: World, tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    world.attest("Y", approvers=())  # no deploy approval: denied, recorded
    assert world.deploy("--deployer", "ci@example.com", "--ledger", ledger, commit="Y") == 1
    world.attest("Z")
    assert world.deploy("--deployer", "carol@example.com", "--ledger", ledger) == 1  # X still in it


# -- deploy approvals: this repository, never the deployer or the requester --------------------


def test_a_deploy_approval_signed_for_another_repository_does_not_count(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.attest("Z", repository="example.com/other")
    assert world.deploy("--deployer", "ci@example.com") == 1
    assert "INSUFFICIENT_DEPLOY_APPROVALS" in findings(capsys.readouterr().out)


def test_the_repository_id_can_be_pinned(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """A job step rewrote .git/config's twokey.repository: the pinned id still decides."""
    world.attest("Z")  # evidence for "shop"
    world.job.git("config", "twokey.repository", "example.com/other")
    assert world.deploy("--deployer", "ci@example.com") == 1  # the clone's config is believed
    assert "statement is for repository 'shop'" in capsys.readouterr().out
    assert world.deploy("--deployer", "ci@example.com", "--repository", "shop") == 0


def test_the_deployer_cannot_approve_their_own_deploy(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = _ledger(tmp_path)
    world.attest("X")
    assert world.deploy("--deployer", "ci@example.com", "--ledger", ledger, commit="X") == 0
    world.attest("Z", approvers=("carol",))
    assert world.deploy("--deployer", "carol@example.com", "--ledger", ledger) == 1
    found = findings(capsys.readouterr().out)
    assert {"DEPLOY_SELF_APPROVAL", "INSUFFICIENT_DEPLOY_APPROVALS"} <= found


def test_the_requester_cannot_approve_the_deploy_they_asked_for(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.attest("Z", approvers=("dave",))
    assert world.deploy("--deployer", "ci@example.com", "--requester", "dave@example.com") == 1
    found = findings(capsys.readouterr().out)
    assert {"DEPLOY_SELF_APPROVAL", "INSUFFICIENT_DEPLOY_APPROVALS"} <= found


# -- the policy: the environment's from ref as the remote has it -------------------------------


def test_a_relaxed_policy_on_the_jobs_branch_is_not_trusted(
    world: World, keys: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """The job runs on alice's branch: she lets herself deploy without approvals, points the
    clone's main and origin/main at it and edits the working tree; none of it is trusted."""
    job = world.job
    relaxed = (job.path / ".twokey" / "policy.yml").read_text()
    relaxed = relaxed.replace("deployers: [dave, carol, ci]", "deployers: [alice, dave, carol, ci]")
    relaxed = relaxed.replace(
        "    approvals: 1\n    approvers: [dave, carol]\n",
        "    approvals: 0\n    approvers: [dave, carol]\n",
    )
    job.git("checkout", "-q", "-b", "alice/relax")
    evil = job.commit({".twokey/policy.yml": relaxed}, "Relax deploys", ALICE)
    job.git("branch", "-f", "main", evil)
    job.git("update-ref", "refs/remotes/origin/main", evil)
    (job.path / ".twokey" / "policy.yml").write_text(relaxed)
    world.attest(evil, approvers=())
    assert world.deploy("--deployer", "alice@example.com", commit=evil) == 1
    out = capsys.readouterr().out
    assert {"UNAUTHORIZED_DEPLOYER", "REF_NOT_DEPLOYABLE", "INSUFFICIENT_DEPLOY_APPROVALS"} <= (
        findings(out)
    )
    assert "(policy: origin refs/heads/main:.twokey/policy.yml" in out


def test_the_policy_comes_from_the_remote_even_when_the_clone_is_stale(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The remote's main moved on (a policy change the clone never fetched): that one decides."""
    admin = world.origin.clone(tmp_path / "admin")
    text = (admin.path / ".twokey" / "policy.yml").read_text()
    admin.commit(
        {".twokey/policy.yml": text.replace("deployers: [dave, carol, ci]", "deployers: [dave]")},
        "Only dave deploys",
        ALICE,
    )
    admin.git("push", "-q", "origin", "main")
    world.attest("Z")
    assert world.deploy("--deployer", "ci@example.com") == 1
    assert "UNAUTHORIZED_DEPLOYER" in findings(capsys.readouterr().out)


def test_remote_dot_is_refused_in_a_checkout(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert world.deploy("--deployer", "ci@example.com", "--remote", ".") == 2
    assert "only on the server" in capsys.readouterr().err


# -- the clock ----------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["option", "git-config", "environment"])
def test_now_is_refused_with_a_ledger(
    world: World,
    tmp_path: Path,
    how: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ledger = _ledger(tmp_path)
    extra: tuple[str, ...] = ()
    if how == "option":
        extra = ("--ledger", ledger)
    elif how == "git-config":
        world.job.git("config", "twokey.ledger", ledger)
    else:
        monkeypatch.setenv("TWOKEY_LEDGER", ledger)
    world.attest("Z")
    wednesday = "2026-11-25T11:00:00+01:00"
    assert (
        world.deploy(
            "--deployer", "ci@example.com", "--now", wednesday, *extra, environment="frozen"
        )
        == 2
    )
    assert "--now is refused with a ledger" in capsys.readouterr().err
    assert not (tmp_path / "ledger.db").exists()


def test_a_recorded_deploy_uses_the_doors_clock(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world.attest("Z", environment="frozen")
    assert (
        world.deploy(
            "--deployer", "ci@example.com", "--ledger", _ledger(tmp_path), environment="frozen"
        )
        == 1
    )
    assert "FREEZE_WINDOW" in findings(capsys.readouterr().out)


def test_now_simulates_without_a_ledger(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.attest("Z", environment="frozen")
    args = (
        "--deployer",
        "ci@example.com",
        "--now",
        "2026-11-25T11:00:00+01:00",
        "--format",
        "json",
    )
    assert world.deploy(*args, environment="frozen") == 1  # frozen all week
    data = json.loads(capsys.readouterr().out)
    assert data["allowed"] is False
    assert [f["code"] for f in data["decisions"][0]["findings"]] == ["FREEZE_WINDOW"]


# -- identities ---------------------------------------------------------------------------------


def test_a_bare_policy_id_names_that_person(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.attest("Z")
    assert world.deploy("--deployer", "ci") == 0
    assert world.deploy("--deployer", "bob") == 1
    out = capsys.readouterr().out
    assert "bob may not deploy to production" in out
    assert "email:bob" not in out


def test_an_unknown_bare_id_is_a_usage_error(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert world.deploy("--deployer", "nobody") == 2
    assert "'nobody' is no person or service in the policy" in capsys.readouterr().err


def test_help_explains_every_option_an_example_and_the_exit_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["deploy", "check", "--help"]) == 0
    out = capsys.readouterr().out
    assert "may this artifact be deployed" in out or "Judge a deploy" in out
    assert "examples:" in out
    assert "exit codes: 0 allow, 1 deny, 2 usage or policy error, 3 internal error" in out
    parser = build_parser()
    deploy = _subparser(_subparser(parser, "deploy"), "check")
    for action in deploy._actions:
        assert action.help, action.option_strings  # every option explained
        assert action.option_strings[0] in out


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    [group] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    found = group.choices[name]
    assert isinstance(found, argparse.ArgumentParser)
    return found

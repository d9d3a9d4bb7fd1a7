"""What landed, not only what was allowed (issue 14, hole 5; ADR 0015).

Real pushes through the installed pre-receive and post-receive hooks. git may refuse an update
the pre-receive hook allowed (here a server-side ``update`` hook refuses it, as a lost ref race
or a failed atomic push would); the ledger then holds an ``allow`` with no ``landed`` record,
and ``break-glass list`` shows that break-glass as never landed, not as an open exception.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.git._harness import Server, policy_text, push
from tests.support.gitrepo import ALICE, ERIN
from twokey.cli import main
from twokey.doors import install_hook, uninstall_hook
from twokey.ledger import EntryKind, open_ledger, parse_entry, read_record

ERIN_PUSHES = {"TWOKEY_PUSHER": "email:erin@example.com"}


def _kinds(ledger: str) -> list[tuple[str, str]]:
    with open_ledger(ledger) as log:
        entries = [parse_entry(data) for _, data in log.entries()]
    return [(e.kind.value, str(e.body.get("ref"))) for e in entries]


@pytest.fixture
def ledger(server: Server, tmp_path: Path) -> str:
    url = str(tmp_path / "ledger.db")
    install_hook(server.bare.path, ledger=url, force=True)
    assert (server.bare.path / "hooks" / "post-receive").exists()
    return url


def test_every_ref_git_updated_gets_a_landed_entry(server: Server, ledger: str) -> None:
    erin = server.clone(ERIN)
    erin.git("checkout", "-q", "-b", "topic")
    erin.commit({"a.py": "x\n"}, "Topic", ERIN)
    assert push(erin, "topic").accepted
    assert _kinds(ledger) == [("decision", "refs/heads/topic"), ("landed", "refs/heads/topic")]
    with open_ledger(ledger) as log:
        landed = parse_entry(log.entry(1))
    assert landed.kind is EntryKind.LANDED
    assert (landed.body["new"], landed.body["door"]) == (erin.rev_parse("HEAD"), "git-post-receive")


def test_a_break_glass_git_refused_after_the_hook_is_not_an_open_exception(
    server: Server, ledger: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(policy_text(server.keys.public()))
    erin = server.clone(ERIN)
    erin.commit({"hotfix.py": "1\n"}, "Hotfix 1", ERIN)
    assert push(erin, "main", env=ERIN_PUSHES, options=("twokey.break-glass=prod down",)).accepted

    refuse = server.bare.path / "hooks" / "update"  # git refuses after pre-receive allowed
    refuse.write_text('#!/bin/sh\n[ "$1" = refs/heads/main ] && exit 1\nexit 0\n')
    refuse.chmod(0o755)
    erin.commit({"hotfix.py": "2\n"}, "Hotfix 2", ERIN)
    second = push(erin, "main", env=ERIN_PUSHES, options=("twokey.break-glass=db down",))
    assert not second.accepted
    assert "db down" in second.findings("!")["BREAK_GLASS"]  # the hook allowed it
    alice = server.clone(ALICE)
    alice.git("checkout", "-q", "-b", "later")
    alice.commit({"b.py": "x\n"}, "Later", ALICE)
    assert push(alice, "later").accepted  # a newer post-receive record

    code = main(["break-glass", "list", "--ledger", ledger, "--policy", str(policy)])
    out = capsys.readouterr().out
    assert code == 1  # the first one landed and is open
    assert "OPEN EXCEPTION: break-glass push" in out
    assert "prod down" in out
    assert "NEVER LANDED" in out
    assert "db down" in out
    assert "2 break-glass exception(s), 1 open" in out
    with open_ledger(ledger) as log:  # every entry the doors wrote is a typed record
        records = [read_record(parse_entry(data)) for _, data in log.entries()]
    assert {type(r).__name__ for r in records} == {"DecisionRecord", "LandedRecord"}
    main(["break-glass", "list", "--ledger", ledger, "--policy", str(policy), "--format", "json"])
    rows = json.loads(capsys.readouterr().out)
    assert [(r["reason"], r["landed"]) for r in rows] == [("prod down", True), ("db down", False)]


def test_without_a_later_landed_record_a_break_glass_stays_open(
    server: Server, ledger: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No post-receive record after it (an old install, or one that failed): fail closed."""
    policy = tmp_path / "policy.yml"
    policy.write_text(policy_text(server.keys.public()))
    (server.bare.path / "hooks" / "post-receive").unlink()
    erin = server.clone(ERIN)
    erin.commit({"hotfix.py": "1\n"}, "Hotfix", ERIN)
    assert push(erin, "main", env=ERIN_PUSHES, options=("twokey.break-glass=prod down",)).accepted
    assert main(["break-glass", "list", "--ledger", ledger, "--policy", str(policy)]) == 1
    assert "1 break-glass exception(s), 1 open" in capsys.readouterr().out


def test_uninstall_removes_the_post_receive_hook_and_a_foreign_one_is_kept(
    server: Server, tmp_path: Path
) -> None:
    post = server.bare.path / "hooks" / "post-receive"
    assert uninstall_hook(server.bare.path)
    assert not post.exists()
    post.write_text("#!/bin/sh\necho mine\n")
    from twokey.errors import UsageError  # noqa: PLC0415

    with pytest.raises(UsageError, match="post-receive exists and was not installed by twokey"):
        install_hook(server.bare.path)
    assert post.read_text() == "#!/bin/sh\necho mine\n"
    assert not (server.bare.path / "hooks" / "pre-receive").exists()  # nothing half-installed


def test_a_forged_landed_record_cannot_close_a_break_glass_that_is_in_the_history(
    server: Server, ledger: str, tmp_path: Path
) -> None:
    """A `landed` record is an unsigned door statement: the audit checks it against git."""
    from datetime import UTC, datetime  # noqa: PLC0415

    from twokey.audit import AuditOptions, run_audit  # noqa: PLC0415
    from twokey.ledger import LandedRecord, to_entry  # noqa: PLC0415

    policy = tmp_path / "policy.yml"
    policy.write_text(policy_text(server.keys.public()))
    (server.bare.path / "hooks" / "post-receive").unlink()  # its record never arrives
    erin = server.clone(ERIN)
    erin.commit({"hotfix.py": "1\n"}, "Hotfix", ERIN)
    assert push(erin, "main", env=ERIN_PUSHES, options=("twokey.break-glass=prod down",)).accepted
    forged = LandedRecord("git-post-receive", "shop", "refs/heads/other", "0" * 40, "1" * 40)
    with open_ledger(ledger) as log:  # anyone with the database's credentials
        log.append([to_entry(forged, datetime.now(UTC))])
    report = run_audit(AuditOptions(server.bare.path, policy=policy, ledger=ledger))
    try:
        [exception] = report.exceptions
    finally:
        report.close()
    assert (exception["reason"], exception["landed"], exception["reviewed"]) == (
        "prod down",
        True,  # the commit is on main: it landed, whatever the ledger says
        False,
    )


def test_without_a_ledger_the_post_receive_hook_starts_no_python(tmp_path: Path) -> None:
    """Python's start-up is skipped when the repository's own config names no ledger."""
    import os  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    bare = tmp_path / "shop.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    marker = tmp_path / "python-ran"
    fake = tmp_path / "fake-python"
    fake.write_text(f"#!/bin/sh\ntouch {marker}\n")
    fake.chmod(0o755)
    install_hook(bare, repository="shop", python=str(fake))
    hook = bare / "hooks" / "post-receive"
    env = {**os.environ, "GIT_DIR": ".", "GIT_CONFIG_PARAMETERS": "'twokey.ledger'='x'"}
    subprocess.run([str(hook)], cwd=bare, env=env, input=b"", check=True)
    assert not marker.exists()  # the pusher's environment cannot switch it on either
    # A ledger named in a file the repository's config includes counts, as for the hook.
    (bare / "twokey.inc").write_text("[twokey]\n\tledger = sqlite:///x.db\n")
    subprocess.run(["git", "config", "include.path", "twokey.inc"], cwd=bare, check=True)
    subprocess.run([str(hook)], cwd=bare, env=env, input=b"", check=True)
    assert marker.exists()

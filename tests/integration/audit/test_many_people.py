"""The default policy on a history of hundreds of people (issue 13, item 1).

A Gerrit-shaped history (one commit per change, a ``Reviewed-by:`` trailer naming another
person, a few self-reviews and unreviewed changes) written by ``git fast-import``: the audit's
inferred policy is built once for the whole range, not once per new email, each person keeps
one id in the whole report, and every verdict is the one an explicit policy file with the same
people gives.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.gitrepo import git_env
from twokey.audit import AuditOptions, AuditReport, run_audit
from twokey.audit import _default_policy as default_module

PEOPLE = 300
CHANGES = 1200
REF = "refs/heads/main"


def _who(n: int) -> tuple[str, str]:
    # the same local part across domains: ids must still be one per email
    return f"Dev {n}", f"dev{n % 150}@team{n // 150}.example"


def _commit(i: int, mark: int) -> bytes:
    name, email = _who(i % PEOPLE)
    reviewer = _who((i * 7 + 1) % PEOPLE)
    if i % 11 == 0:
        trailer = ""  # unreviewed
    elif i % 13 == 0:
        trailer = f"\n\nReviewed-by: {name} <{email}>"  # a self-review
    else:
        trailer = f"\n\nReviewed-by: {reviewer[0]} <{reviewer[1]}>"
    message = f"change {i}\n\nBody {i}.{trailer}\n".encode()
    stamp = 1_700_000_000 + i * 60
    lines = [
        f"commit {REF}".encode(),
        b"mark :%d" % mark,
        f"author {name} <{email}> {stamp} +0000".encode(),
        f"committer Gerrit <gerrit@review.example> {stamp} +0000".encode(),
        b"data %d" % len(message),
        message,
        *([b"from :%d" % (mark - 1)] if mark > 1 else []),
        b"M 644 inline f%d.txt" % (i % 50),
        b"data 8",
        b"%08d" % i,
        b"",
    ]
    return b"\n".join(lines) + b"\n"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("people") / "r.git"
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True, env=git_env())
    stream = b"".join(_commit(i, i + 1) for i in range(CHANGES))
    subprocess.run(
        ["git", "--git-dir", str(path), "fast-import", "--quiet"],
        input=stream,
        check=True,
        env=git_env(),
    )
    return path


def _verdicts(report: AuditReport) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {
        c.commit: (c.verdict, tuple(sorted(code for code, _ in c.findings))) for c in report.changes
    }


def test_the_inferred_policy_is_built_once_for_hundreds_of_people(
    history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[default_module.DefaultPolicy] = []
    original = default_module.DefaultPolicy.__init__

    def spy(self: default_module.DefaultPolicy, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        made.append(self)

    monkeypatch.setattr(default_module.DefaultPolicy, "__init__", spy)
    report = run_audit(AuditOptions(history))
    try:
        assert report.summary()["changes"] == CHANGES
        (grown,) = made
        # one empty policy at the start, one with the range's people: never one per person
        assert grown.builds == 2
        assert len(grown.emails) == PEOPLE + 1  # and Gerrit, the committer
    finally:
        report.close()


def test_every_person_keeps_one_id_and_the_verdicts_match_a_policy_file(
    history: Path, tmp_path: Path
) -> None:
    inferred = run_audit(AuditOptions(history))
    people = inferred.policy["people"]
    ids_of = {email: pid for pid, emails in people.items() for email in emails}
    assert len(ids_of) == PEOPLE + 1
    assert len(people) == PEOPLE + 1
    for change in inferred.changes:  # the id of an author is the id of that email, always
        assert change.authors == tuple(sorted(ids_of[e] for e in change.author_emails))
    listed = "".join(f"  {pid}: {{emails: [{', '.join(e)}]}}\n" for pid, e in people.items())
    policy = tmp_path / "policy.yml"
    policy.write_text(
        f"version: 1\npeople:\n{listed}groups:\n  everyone: [{', '.join(people)}]\n"
        f"branches:\n  {REF}:\n    approvals: 1\n    approvers: [everyone]\n"
        "    exclude: [authors, committers, co-authors]\n"
        "    accept: [signed, forge, trailer]\n"
        "policy_changes: {approvals: 1, approvers: [everyone]}\n"
    )
    explicit = run_audit(AuditOptions(history, policy=policy))
    try:
        got, want = _verdicts(inferred), _verdicts(explicit)
        assert got == want
        denied = sum(1 for verdict, _ in got.values() if verdict == "deny")
        # unreviewed (every 11th) and self-reviewed (every 13th, not 11th) changes
        assert denied == len([i for i in range(CHANGES) if i % 11 == 0 or i % 13 == 0])
    finally:
        inferred.close()
        explicit.close()

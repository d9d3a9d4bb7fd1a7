"""``twokey audit identities``: precise groups, one per person, fed back as ``--identities``.

Issue 13, item 5, on a real history: strangers who share a common local part across domains
(``hello@``, ``dave@``, ``me@``, ``t@``, ``mail@``) are not grouped without name evidence; one
person's four emails, linked by different evidence, are one group listed once; and the JSON
the command prints is a valid ``--identities`` file that turns the self-review under a second
email into the ``SELF_APPROVAL`` it is.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.gitrepo import GitRepo, Person
from twokey.cli import main

ALICE = Person("Alice Smith", "alice@example.com")
ALICE_HOME = Person("Alice Smith", "alice@home.example")
ALICE_WORK = Person("Alice Smith", "alice.smith@corp.example")
ALICE_OLD = Person("A. Smith", "alice.smith@old.example")  # same distinctive local part
STRANGERS = [  # pairs of different people who share a common local part
    (Person("Hello Corp", "hello@a.example"), Person("Hi There", "hello@b.example")),
    (Person("Dave Smith", "dave@a.example"), Person("Dave Jones", "dave@b.example")),
    (Person("Tom T", "t@a.example"), Person("Tina T", "t@b.example")),
    (Person("Me One", "me@a.example"), Person("Me Two", "me@b.example")),
    (Person("Mail Bot", "mail@a.example"), Person("Post Office", "mail@b.example")),
]
DAVE_HOME = Person("D Smith", "dave@home.example")  # dave@a.example, by initial and surname
BOB = Person("Bob Jones", "bob@example.com")


def _review(who: Person) -> str:
    return f"\n\nReviewed-by: {who.name} <{who.email}>"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    repo = GitRepo.init(tmp_path_factory.mktemp("ids") / "r")
    people = [ALICE, ALICE_WORK, ALICE_OLD, DAVE_HOME, *(p for pair in STRANGERS for p in pair)]
    for n, person in enumerate(people):
        repo.commit({f"f{n}": "x\n"}, f"change {n}{_review(BOB)}", person)
    # alice approves her own change under her second email: the case the groups exist for
    repo.commit({"self": "x\n"}, f"self review{_review(ALICE_HOME)}", ALICE)
    return repo


def _identities(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    assert main(["audit", "identities", "--repo", str(repo.path), "--format", "json"]) == 0
    groups: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return groups


def test_strangers_sharing_a_common_local_part_are_not_grouped(
    repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    groups = [set(g["emails"]) for g in _identities(repo, capsys)]  # type: ignore[call-overload]
    for one, other in STRANGERS:
        assert not any({one.email, other.email} <= group for group in groups), one.email
    grouped = set().union(*groups)
    assert "hello@a.example" not in grouped
    assert "dave@b.example" not in grouped


def test_one_group_per_person_with_every_reason(
    repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    groups = _identities(repo, capsys)
    assert [g["emails"] for g in groups] == [
        [
            "alice.smith@corp.example",
            "alice.smith@old.example",
            "alice@example.com",
            "alice@home.example",
        ],
        ["dave@a.example", "dave@home.example"],  # the names agree: D Smith, Dave Smith
    ]
    alice, dave = groups
    assert alice["reason"] == "same local part across domains; same name, several emails"
    assert dave["reason"] == "same local part across domains, and the names agree"
    every = [e for g in groups for e in g["emails"]]  # type: ignore[attr-defined]
    assert len(every) == len(set(every))  # nobody listed twice


def test_the_json_is_a_valid_identities_file(
    repo: GitRepo, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    before_argv = ["audit", "--repo", str(repo.path), "--format", "json"]
    assert main(before_argv) == 0
    before = json.loads(capsys.readouterr().out)
    assert "probable-self-approval" in {s["kind"] for s in before["signals"]}
    confirmed = tmp_path / "identities.json"
    confirmed.write_text(json.dumps(_identities(repo, capsys)))
    assert main([*before_argv, "--identities", str(confirmed)]) == 0
    after = json.loads(capsys.readouterr().out)
    selfish = next(c for c in after["changes"] if c["subject"] == "self review")
    assert selfish["verdict"] == "deny"
    assert "SELF_APPROVAL" in {f["code"] for f in selfish["findings"]}
    assert after["summary"]["violations"] == before["summary"]["violations"] + 1
    assert after["policy"]["people"]["alice.smith"] == [  # the first email names the person
        "alice.smith@corp.example",
        "alice.smith@old.example",
        "alice@example.com",
        "alice@home.example",
    ]

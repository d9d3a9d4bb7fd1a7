"""A small real history with every kind of change, for the audit tests."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.support.gitrepo import ALICE, BOB, CAROL, DAVE, ERIN, GitRepo, Person
from twokey.evidence import Ed25519Signer, GitEvidenceStore, sign_approval

ALICE_HOME = Person("Alice Smith", "alice@home.example")
T = "2026-03-{:02d}T10:00:00+00:00"
REF = "refs/heads/main"


def key_of(name: str) -> Ed25519PrivateKey:
    """A deterministic Ed25519 key per person."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"{name}/audit".encode()).digest())


def public_key(name: str) -> str:
    """The OpenSSH public key line of :func:`key_of`."""
    return Ed25519Signer(key_of(name)).public_key


def build_history(repo: GitRepo) -> dict[str, str]:
    """The history; returns label -> landing (first-parent) commit.

    ====== ============================================================ ======================
    label  what                                                         default policy
    ====== ============================================================ ======================
    init   alice, no review                                             deny (no approval)
    rev    alice, ``Reviewed-by: bob``                                  allow
    self   alice, ``Reviewed-by:`` her second email                      allow (alias unknown)
    merge  carol's topic, merged by bob with ``Acked-by: bob``           allow
    unrev  bob, no review                                               deny
    signed carol, signed approval by bob (an evidence ref)              deny (no keys known)
    kernel dave's two-commit topic, the head ``Reviewed-by: carol``,     allow (merged head)
           merged by dave himself
    owners erin changes deploy/app.yml, ``Reviewed-by: bob``             allow
    ====== ============================================================ ======================
    """
    c: dict[str, str] = {}
    c["init"] = repo.commit({"README": "x\n"}, "init", ALICE, when=T.format(1))
    c["rev"] = repo.commit(
        {"a.py": "1\n"},
        "feature a\n\nReviewed-by: Bob Jones <bob@example.com>",
        ALICE,
        when=T.format(2),
    )
    c["self"] = repo.commit(
        {"b.py": "2\n"},
        "feature b\n\nReviewed-by: Alice Smith <alice@home.example>",
        ALICE,
        when=T.format(3),
    )
    repo.git("checkout", "-q", "-b", "topic")
    repo.commit({"c.py": "3\n"}, "topic work", CAROL, when=T.format(4))
    repo.git("checkout", "-q", "main")
    repo.git(
        "merge",
        "-q",
        "--no-ff",
        "topic",
        "-m",
        "Merge topic\n\nAcked-by: Bob Jones <bob@example.com>",
        person=BOB,
        when=T.format(5),
    )
    c["merge"] = repo.rev_parse("HEAD")
    c["unrev"] = repo.commit({"d.py": "4\n"}, "hotfix", BOB, when=T.format(6))
    c["signed"] = repo.commit({"e.py": "5\n"}, "feature e", CAROL, when=T.format(7))
    repo.git("checkout", "-q", "-b", "kernel")
    repo.commit({"k1.c": "1\n"}, "driver part 1", DAVE, when=T.format(8))
    repo.commit(
        {"k2.c": "2\n"},
        "driver part 2\n\nReviewed-by: Carol White <carol@example.com>",
        DAVE,
        when=T.format(9),
    )
    repo.git("checkout", "-q", "main")
    repo.git(
        "merge", "-q", "--no-ff", "kernel", "-m", "Merge driver", person=DAVE, when=T.format(10)
    )
    c["kernel"] = repo.rev_parse("HEAD")
    c["owners"] = repo.commit(
        {"deploy/app.yml": "replicas: 2\n"},
        "scale\n\nReviewed-by: Bob Jones <bob@example.com>",
        ERIN,
        when="2026-04-02T10:00:00+00:00",
    )
    store = GitEvidenceStore(repo.path / ".git")
    envelope = sign_approval(
        Ed25519Signer(key_of("bob")),
        repository=repo.path.name,
        ref=REF,
        commit=c["signed"],
        tree=repo.rev_parse(f"{c['signed']}^{{tree}}"),
        when=datetime(2026, 3, 7, 11, tzinfo=UTC),
    )
    store.put(envelope, c["signed"])
    return c


def policy_file(
    tmp: Path, *, accept: str = "", owners: bool = False, break_glass: str = ""
) -> Path:
    """A policy naming everyone, with bob's key; ``accept``, owners, break-glass optional."""
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "policy.yml"
    rule = "{approvals: 1, approvers: [reviewers]" + (f", accept: [{accept}]" if accept else "")
    if owners:
        rule += ', owners: {"deploy/**": {approvals: 1, approvers: [carol]}}'
    if break_glass:
        rule += f", break_glass: [{break_glass}]"
    path.write_text(
        "version: 1\npeople:\n"
        "  alice: {emails: [alice@example.com, alice@home.example]}\n"
        f'  bob: {{emails: [bob@example.com], keys: ["{public_key("bob")}"]}}\n'
        "  carol: {emails: [carol@example.com]}\n"
        "  dave: {emails: [dave@example.com]}\n"
        "  erin: {emails: [erin@example.com]}\n"
        "groups:\n  reviewers: [alice, bob, carol, dave, erin]\n"
        f"branches:\n  main: {rule}}}\n"
        "policy_changes: {approvals: 1, approvers: [reviewers]}\n"
    )
    return path

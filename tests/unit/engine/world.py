"""A small company (the WALKTHROUGH's) as a policy, with real keys, and fact builders."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from twokey.model import (
    Alias,
    Approval,
    Change,
    CheckResult,
    Commit,
    Ident,
    TrustLevel,
)
from twokey.policy import Policy, loads

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
REPO = "example.com/shop"
MAIN = "refs/heads/main"
PEOPLE = ("alice", "bob", "carol", "dave", "erin", "frank")


def public_key(name: str, index: int = 0) -> str:
    """A deterministic real Ed25519 OpenSSH public key for ``name``."""
    seed = hashlib.sha256(f"{name}/{index}".encode()).digest()
    key = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()


def key(name: str, index: int = 0) -> Alias:
    """The key alias of ``name``'s ``index``-th key."""
    return Alias.key(public_key(name, index))


def email(name: str) -> str:
    """The work email of ``name``."""
    return f"{name}@example.com"


def _person(name: str) -> str:
    keys = f'["{public_key(name)}", "{public_key(name, 1)}"]'
    return (
        f"  {name}: {{name: {name.title()}, emails: [{email(name)}, {name}@home.example], "
        f"github: {name}, keys: {keys}}}\n"
    )


POLICY_YAML = (
    "version: 1\npeople:\n"
    + "".join(_person(n) for n in PEOPLE)
    + f"""services:
  ci: {{name: CI, emails: [ci@example.com], keys: ["{public_key("ci")}"]}}
  agent: {{name: Coding agent, emails: [agent@example.com], directed_by: [bob]}}
groups:
  developers: [alice, bob]
  reviewers: [bob, carol]
  operators: [dave]
  admins: [erin, frank]
branches:
  main:
    approvals: 1
    approvers: [reviewers, admins]
    exclude: [authors, committers, co-authors, last-pusher]
    checks: {{require: [tests], signers: [ci]}}
    break_glass: [erin]
    owners:
      "deploy/**": {{approvals: 1, approvers: [carol]}}
  "release/*":
    approvals: 2
    approvers: [reviewers]
tags:
  "v*": {{approvals: 1, approvers: [reviewers]}}
environments:
  production:
    from: [main]
    deployers: [operators, ci]
    approvals: 1
    approvers: [operators, admins]
    builders: [ci]
    freeze: ["Fri 16:00 - Mon 08:00 Europe/Berlin"]
    break_glass: [dave]
policy_changes: {{approvals: 2, approvers: [admins]}}
"""
)


def policy(text: str = POLICY_YAML) -> Policy:
    """The company's policy."""
    return loads(text, "policy.yml")


def sha(label: str) -> str:
    """A fake but well-formed object id derived from ``label``."""
    return hashlib.sha1(label.encode()).hexdigest()


def commit(
    label: str,
    author: str,
    *,
    parents: tuple[str, ...] = (),
    co_authors: tuple[str, ...] = (),
    committer: str | None = None,
    tree: str | None = None,
    clean_merge: bool | None = None,
    paths: tuple[str, ...] = ("src/app.py",),
) -> Commit:
    """A commit by ``author`` (a person id or a full email)."""

    def ident(who: str) -> Ident:
        return Ident(who.title(), who if "@" in who else email(who))

    return Commit(
        sha(label),
        tree or sha(f"tree-{label}"),
        parents or (sha(f"parent-{label}"),),
        ident(author),
        ident(committer or author),
        tuple(ident(c) for c in co_authors),
        f"{label}\n",
        paths,
        None,
        clean_merge,
    )


HEAD_AUTHOR = "\x00head-author"  # change(): the default pusher


def change(
    *commits: Commit,
    ref: str = MAIN,
    old: str | None = None,
    fast_forward: bool = True,
    paths: tuple[str, ...] | None = None,
    pusher: str | None = HEAD_AUTHOR,
) -> Change:
    """The update of ``ref`` to the last of ``commits``.

    The pusher is the head's author unless named; None: the transport named nobody (a rule
    excluding the last pusher then fails closed, UNKNOWN_PUSHER).
    """
    head = commits[-1]
    if pusher == HEAD_AUTHOR:
        who: Alias | None = Alias.email(head.author.email)
    else:
        who = Alias.email(email(pusher)) if pusher else None
    touched = paths if paths is not None else tuple(sorted({p for c in commits for p in c.paths}))
    return Change(
        REPO,
        ref,
        old or sha("old"),
        head.sha,
        head.tree,
        commits,
        fast_forward,
        touched,
        who,
    )


def approve(
    who: str,
    target: Commit,
    *,
    ref: str = MAIN,
    repo: str = REPO,
    index: int = 0,
    trust: TrustLevel = TrustLevel.SIGNED,
    signer: Alias | None = None,
) -> Approval:
    """A signed approval of ``target``'s content by ``who``."""
    return Approval(
        repo,
        ref,
        target.sha,
        target.tree,
        signer or key(who, index),
        NOW,
        trust,
        "test",
        "",
        f"sha256:{sha(who + target.sha + str(index))}",
    )


def passing_tests(target: Commit, *, passed: bool = True, signer: str = "ci") -> CheckResult:
    """CI's signed result of the 'tests' check for ``target``'s tree."""
    return CheckResult("tests", REPO, target.tree, passed, key(signer), NOW)

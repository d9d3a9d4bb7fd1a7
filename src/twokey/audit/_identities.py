"""Probable aliases in a history, for a human to confirm into the policy.

A self-approval under a second email must not pass as independent review, so the audit lists
emails that probably belong to one person: the same name with several emails, the same local
part across domains, and GitHub noreply addresses (``123+login@users.noreply.github.com``).

A local part alone is weak evidence: strangers share ``hello@``, ``me@``, ``dave@``, ``t@``
(issue 13). Across domains it links two emails only when it is *distinctive* (at least
:data:`MIN_LOCAL` characters and not a generic mailbox name) or when their names agree too.
Every link joins groups, so each person is one group, listed once, with every reason.
"""

from __future__ import annotations

__all__ = ["Candidate", "history_idents", "identities_map", "probable_aliases"]

import re
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from twokey.git import GitError, parse_ident
from twokey.git import GitRunner as Git

_NOREPLY = re.compile(r"^(?:\d+\+)?([^@]+)@users\.noreply\.github\.com$")
MIN_LOCAL = 6  # a shorter local part (t, me, dave, alex) is shared by strangers
GENERIC = frozenset(
    (
        "admin",
        "bot",
        "code",
        "contact",
        "dev",
        "developer",
        "devnull",
        "email",
        "git",
        "github",
        "github-actions",
        "hacker",
        "hello",
        "help",
        "hi",
        "info",
        "mail",
        "me",
        "no-reply",
        "nobody",
        "none",
        "noreply",
        "office",
        "postmaster",
        "root",
        "security",
        "support",
        "team",
        "test",
        "user",
        "webmaster",
    )
)
SAME_NAME = "same name, several emails"
SAME_LOCAL = "same local part across domains"
SAME_LOCAL_AND_NAME = "same local part across domains, and the names agree"


@dataclass(frozen=True)
class Candidate:
    """Emails that probably belong to one person, and why."""

    emails: tuple[str, ...]
    names: tuple[str, ...]
    reason: str

    def to_dict(self) -> dict[str, object]:
        """JSON form (a list of these is also an ``--identities`` file: first email canonical)."""
        return {"emails": list(self.emails), "names": list(self.names), "reason": self.reason}


def _key_name(name: str) -> str:
    return " ".join(name.lower().split())


def _distinctive(local: str) -> bool:
    return len(local) >= MIN_LOCAL and local not in GENERIC


def _names_agree(a: set[str], b: set[str]) -> bool:
    """Some name of one is some name of the other (case and spacing aside), or one is the
    other's initial and surname (``D. Smith``, ``Dave Smith``; a surname of 3 letters or more,
    so ``Tom T`` and ``Tina T`` do not agree)."""
    keys_a, keys_b = {_key_name(n) for n in a if n.strip()}, {_key_name(n) for n in b if n.strip()}
    if keys_a & keys_b:
        return True
    return any(_initialled(x, y) or _initialled(y, x) for x in keys_a for y in keys_b)


def _initialled(short: str, full: str) -> bool:
    """``short`` is ``D. Smith`` (an initial, then a surname) for ``full``, ``Dave Smith``."""
    first, *_, last = short.split() if len(short.split()) > 1 else ("", "")
    whole = full.split()
    return (
        len(first.rstrip(".")) == 1
        and len(last) >= 3
        and len(whole) > 1
        and whole[-1] == last
        and whole[0][0] == first[0]
    )


class _Groups:
    """Union-find over emails; each link remembers its reason."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.reasons: defaultdict[str, set[str]] = defaultdict(set)

    def root(self, email: str) -> str:
        self.parent.setdefault(email, email)
        while self.parent[email] != email:
            self.parent[email] = self.parent[self.parent[email]]
            email = self.parent[email]
        return email

    def link(self, emails: Iterable[str], reason: str) -> None:
        first, *rest = list(emails)
        for email in rest:
            a, b = self.root(first), self.root(email)
            if a != b:
                self.parent[b] = a
                self.reasons[a] |= self.reasons.pop(b, set())
        self.reasons[self.root(first)].add(reason)


def probable_aliases(idents: Iterable[tuple[str, str]]) -> list[Candidate]:
    """Group ``(name, email)`` pairs into probable same-person candidates, one per person."""
    by_name: defaultdict[str, set[str]] = defaultdict(set)
    by_local: defaultdict[str, set[str]] = defaultdict(set)
    names: defaultdict[str, set[str]] = defaultdict(set)
    for name, raw_email in idents:
        email = raw_email.strip().lower()
        if "@" not in email:
            continue
        names[email].add(name.strip())
        if name.strip():
            by_name[_key_name(name)].add(email)
        noreply = _NOREPLY.match(email)
        local = noreply.group(1) if noreply else email.split("@")[0]
        by_local[local].add(email)
    groups = _Groups()
    for emails in by_name.values():
        if len(emails) > 1:
            groups.link(sorted(emails), SAME_NAME)
    for local, emails in by_local.items():
        _link_local(groups, local, sorted(emails), names)
    members: defaultdict[str, list[str]] = defaultdict(list)
    for email in sorted(groups.parent):
        members[groups.root(email)].append(email)
    out = [
        Candidate(
            tuple(emails),
            tuple(sorted({n for e in emails for n in names[e] if n})),
            "; ".join(sorted(groups.reasons[root])),
        )
        for root, emails in members.items()
        if len(emails) > 1
    ]
    return sorted(out, key=lambda c: c.emails)


def _link_local(
    groups: _Groups, local: str, emails: list[str], names: Mapping[str, set[str]]
) -> None:
    """Link emails sharing ``local``: all of them when it is distinctive, else in pairs
    whose names agree (two people's ``hello@`` addresses are not one person)."""
    if len(emails) < 2:
        return
    if _distinctive(local):
        groups.link(emails, SAME_LOCAL)
        return
    for i, a in enumerate(emails):
        for b in emails[i + 1 :]:
            if groups.root(a) != groups.root(b) and _names_agree(names[a], names[b]):
                groups.link([a, b], SAME_LOCAL_AND_NAME)


def identities_map(data: object) -> dict[str, str]:
    """An ``--identities`` file: ``{email: canonical email}``, or the JSON that ``twokey audit
    identities --format json`` writes (a list of groups; each group's first email canonical).

    Raises:
        ValueError: neither shape, or an email in two groups.
    """
    if isinstance(data, dict):
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            raise ValueError("expected a JSON object of email -> canonical email")
        return {k.lower(): v.lower() for k, v in data.items()}
    if not isinstance(data, list):
        raise ValueError("expected a JSON object of email -> canonical email, or a list of groups")
    out: dict[str, str] = {}
    for group in data:
        emails = group.get("emails") if isinstance(group, dict) else None
        if not isinstance(emails, list) or not all(isinstance(e, str) and "@" in e for e in emails):
            raise ValueError(
                "expected a JSON object of email -> canonical email, or a list of groups "
                '{"emails": [...]} as `twokey audit identities --format json` writes'
            )
        for email in emails:
            if email.lower() in out:
                raise ValueError(f"{email} is in two groups: keep it in one")
            out[email.lower()] = emails[0].lower()
    return out


_IDENT_FORMAT = (
    "%an%x00%ae%n%cn%x00%ce%n%(trailers:key=Reviewed-by,key=Acked-by,key=Approved-by,"
    "key=Co-authored-by,valueonly,separator=%x0a)"
)


def history_idents(
    git: Git, ref: str, since: str | None = None, until: str | None = None
) -> set[tuple[str, str]]:
    """Every (name, email) of ``ref``'s history: authors, committers, trailers' people.

    Streamed from one ``git log`` (every commit, merged ones too; ``since``/``until`` as git's
    date filters); the result grows with the number of people only.

    Raises:
        GitError: git failed.
    """
    command = ["git", "--git-dir", str(git.git_dir), "log", f"--format={_IDENT_FORMAT}"]
    command += [f"--since={since}"] if since else []
    command += [f"--until={until}", ref] if until else [ref]
    out: set[tuple[str, str]] = set()
    for line in _unique_lines([*command, "--"], git.env):
        if "\0" in line:
            name, _, email = line.partition("\0")
            out.add((name, email.lower()))
        else:
            ident = parse_ident(line.strip())
            if ident is not None and ident.email:
                out.add((ident.name, ident.email.lower()))
    return out


def _unique_lines(command: list[str], env: Mapping[str, str]) -> set[str]:
    """The distinct lines of ``command``'s output, read in blocks.

    A history repeats its few thousand identities over and over: the set grows with people,
    not with commits, and each identity is parsed once (issue 13: parsing every line was most
    of the time of reading a history's people).

    Raises:
        GitError: git failed.
    """
    try:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from exc
    assert proc.stdout is not None
    lines: set[bytes] = set()
    rest = b""
    with proc.stdout:
        while block := proc.stdout.read(1 << 20):
            *whole, rest = (rest + block).split(b"\n")
            lines.update(whole)
    lines.add(rest)
    if proc.wait() != 0:
        raise GitError(f"{' '.join(command[3:5])} failed")
    return {line.decode("utf-8", "replace") for line in lines if line}

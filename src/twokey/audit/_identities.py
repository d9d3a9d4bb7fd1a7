"""Probable aliases in a history, for a human to confirm into the policy.

A self-approval under a second email must not pass as independent review, so the audit lists
emails that probably belong to one person: the same name with several emails, the same local
part across domains, and GitHub noreply addresses (``123+login@users.noreply.github.com``).
"""

from __future__ import annotations

__all__ = ["Candidate", "history_idents", "probable_aliases"]

import re
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from twokey.git._run import Git, GitError
from twokey.git._trailers import parse_ident

_NOREPLY = re.compile(r"^(?:\d+\+)?([^@]+)@users\.noreply\.github\.com$")


@dataclass(frozen=True)
class Candidate:
    """Emails that probably belong to one person, and why."""

    emails: tuple[str, ...]
    names: tuple[str, ...]
    reason: str

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"emails": list(self.emails), "names": list(self.names), "reason": self.reason}


def _key_name(name: str) -> str:
    return " ".join(name.lower().split())


def probable_aliases(idents: Iterable[tuple[str, str]]) -> list[Candidate]:
    """Group ``(name, email)`` pairs into probable same-person candidates."""
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
    out: list[Candidate] = []
    seen: set[tuple[str, ...]] = set()
    for reason, groups in (
        ("same name, several emails", by_name),
        ("same local part across domains", by_local),
    ):
        for _, emails in sorted(groups.items()):
            key = tuple(sorted(emails))
            if len(key) > 1 and key not in seen:
                seen.add(key)
                out.append(
                    Candidate(key, tuple(sorted({n for e in key for n in names[e]})), reason)
                )
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

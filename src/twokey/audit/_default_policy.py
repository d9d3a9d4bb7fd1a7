"""The policy an audit applies when the repository has none: one independent approval.

It is synthesised from the history itself: every distinct email becomes a provisional person
(merged where ``identities`` confirms two emails are one person), all of them approvers, with
authors, committers and co-authors excluded (issue 14: whoever committed a ``Reviewed-by``
claim cannot be its reviewer), accepting signed, forge and trailer evidence.
This is an inference, and the report says so.

The policy is built as the compiled model directly (no YAML text and no parser): issue 13
measured the old way, a YAML document re-parsed for every new email, at 185 of 188 seconds
of an audit of 540 people. Person ids are given in the order people appear and never change,
so one person has one id in the whole report.
"""

from __future__ import annotations

__all__ = ["DefaultPolicy", "default_policy"]

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType

from twokey.model import Alias, PrincipalKind, RuleRef, TrustLevel
from twokey.policy import ApprovalRule, Exclusion, Policy, Principal, RefRule, ref_glob

SOURCE = "<default audit policy>"
GROUP = "everyone"
_EXCLUDE = frozenset({Exclusion.AUTHORS, Exclusion.COMMITTERS, Exclusion.CO_AUTHORS})
_ACCEPT = frozenset({TrustLevel.SIGNED, TrustLevel.FORGE, TrustLevel.TRAILER})
_NOBODY = ("nobody", "nobody@invalid.example")  # a rule needs approvers: nobody can approve


def _person_id(email: str, taken: Mapping[str, object]) -> str:
    base = re.sub(r"[^a-z0-9._-]", "-", email.lower().split("@")[0]).strip("-._") or "person"
    base = base if base[0].isalnum() else f"p{base}"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _usable(email: str) -> str | None:
    """The email as the policy keys it (trimmed, lower case, as ``Alias.email`` reads an
    author's), or None when no policy could hold it."""
    email = email.strip()
    if "@" not in email or " " in email:
        return None
    return email.lower()


def default_policy(
    ref: str, emails: Iterable[str], same_person: Mapping[str, str] | None = None
) -> Policy:
    """One approval from someone other than the author on ``ref``, for these emails.

    ``same_person`` maps an email to the canonical email of the person it belongs to.
    """
    grown = DefaultPolicy(ref, same_person)
    return grown.ensure(sorted(emails))


class DefaultPolicy:
    """The default policy, grown while the history streams past.

    ``ensure`` adds the people of a change before it is judged; a new :class:`Policy` object is
    made only when someone new appears (callers key their caches on the object). ``seed``
    adds many at once (the emails of a range read up front), so that a history's people cost
    one policy, not one per person.
    """

    def __init__(self, ref: str, same_person: Mapping[str, str] | None = None) -> None:
        self.ref = ref
        self.same_person = {k.lower(): v.lower() for k, v in (same_person or {}).items()}
        self.emails: set[str] = set()
        self.builds = 0  # policies made (tests and benchmarks: once per growth, not per change)
        self._ids: dict[str, str] = {}  # canonical email -> person id
        self._members: dict[str, list[str]] = {}  # person id -> emails, in order seen
        self._rule = RefRule(
            ref,
            ref_glob(ref),
            _approval((_NOBODY[0],), _EXCLUDE, _ACCEPT, f"branches.{ref}.approvals"),
            (),
            None,
            allow_force_push=False,
            allow_deletion=False,
            rule=RuleRef(SOURCE, 3, 3, f"branches.{ref}"),
        )
        self.policy = self._build()

    def ensure(self, emails: Iterable[str]) -> Policy:
        """The policy, with every one of ``emails`` a person."""
        if self._add(emails):
            self.policy = self._build()
        return self.policy

    seed = ensure  # many emails at once: the same thing, said where it is meant

    def people(self) -> dict[str, list[str]]:
        """Person id -> their emails (for the report: ids beside the emails they stand for)."""
        return {pid: list(emails) for pid, emails in self._members.items()}

    def _add(self, emails: Iterable[str]) -> bool:
        grew = False
        for raw in emails:
            if raw.lower() in self.emails:
                continue
            email = _usable(raw)
            if email is None or email in self.emails:
                continue
            self.emails.add(email)
            canonical = self.same_person.get(email, email)
            pid = self._ids.get(canonical)
            if pid is None:
                pid = self._ids[canonical] = _person_id(canonical, self._members)
                self._members[pid] = []
            self._members[pid].append(email)
            grew = True
        return grew

    def _build(self) -> Policy:
        """The compiled policy for the people so far (linear in people, no parsing)."""
        self.builds += 1
        members = self._members or {_NOBODY[0]: [_NOBODY[1]]}
        principals, aliases = {}, {}
        for line, (pid, emails) in enumerate(members.items(), start=10):
            own = tuple(Alias.email(e) for e in emails)
            rule = RuleRef(SOURCE, line, 3, f"people.{pid}")
            principals[pid] = Principal(pid, pid, PrincipalKind.PERSON, own, rule)
            aliases.update(dict.fromkeys(own, pid))
        ids = tuple(members)
        approval = _approval(ids, _EXCLUDE, _ACCEPT, f"branches.{self.ref}.approvals")
        change = _approval(ids, frozenset(), _ACCEPT - {TrustLevel.TRAILER}, "policy_changes")
        return Policy(
            version=1,
            source=SOURCE,
            digest=_digest(self.ref, members),
            principals=MappingProxyType(principals),
            groups=MappingProxyType({GROUP: frozenset(ids)}),
            refs=(replace(self._rule, approval=approval),),
            environments=MappingProxyType({}),
            policy_change=change,
            aliases=MappingProxyType(aliases),
        )


def _approval(
    ids: tuple[str, ...],
    exclude: frozenset[Exclusion],
    accept: frozenset[TrustLevel],
    path: str,
) -> ApprovalRule:
    line = 4 if path.startswith("branches.") else 6
    return ApprovalRule(
        1, frozenset(ids), (GROUP,), exclude, accept, RuleRef(SOURCE, line, 5, path)
    )


def _digest(ref: str, members: Mapping[str, list[str]]) -> str:
    """SHA-256 of the policy's content (its ref and people): equal people, equal digest."""
    body = json.dumps([ref, sorted((p, sorted(e)) for p, e in members.items())])
    return "sha256:" + hashlib.sha256(body.encode()).hexdigest()

"""The policy an audit applies when the repository has none: one independent approval.

It is synthesised from the history itself: every distinct email becomes a provisional person
(merged where ``identities`` confirms two emails are one person), all of them approvers, with
authors, committers and co-authors excluded (issue 14: whoever committed a ``Reviewed-by``
claim cannot be its reviewer), accepting signed, forge and trailer evidence.
This is an inference, and the report says so.
"""

from __future__ import annotations

__all__ = ["DefaultPolicy", "default_policy"]

import json
import re
from collections.abc import Iterable, Mapping

from twokey.policy import Policy, loads


def _person_id(email: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9._-]", "-", email.lower().split("@")[0]).strip("-._") or "person"
    base = base if base[0].isalnum() else f"p{base}"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


def default_policy(
    ref: str, emails: Iterable[str], same_person: Mapping[str, str] | None = None
) -> Policy:
    """One approval from someone other than the author on ``ref``, for these emails.

    ``same_person`` maps an email to the canonical email of the person it belongs to.
    """
    same_person = same_person or {}
    groups: dict[str, set[str]] = {}
    for email in emails:
        if "@" in email and email == email.strip() and " " not in email:
            groups.setdefault(same_person.get(email.lower(), email.lower()), set()).add(
                email.lower()
            )
    taken: set[str] = set()
    people = []
    for canonical, members in sorted(groups.items()):
        pid = _person_id(canonical, taken)
        people.append(f"  {pid}: {{emails: {json.dumps(sorted(members))}}}\n")
    if not people:
        people.append("  nobody: {emails: [nobody@invalid.example]}\n")
    ids = sorted(taken) or ["nobody"]
    text = (
        "version: 1\npeople:\n"
        + "".join(people)
        + f"groups:\n  everyone: {json.dumps(ids)}\n"
        + f"branches:\n  {json.dumps(ref)}:\n    approvals: 1\n    approvers: [everyone]\n"
        + "    exclude: [authors, committers, co-authors]\n"
        + "    accept: [signed, forge, trailer]\n"
        + "policy_changes: {approvals: 1, approvers: [everyone]}\n"
    )
    return loads(text, "<default audit policy>")


class DefaultPolicy:
    """The default policy, grown while the history streams past.

    Reading every email before the walk would cost a second pass over history (as long as the
    walk itself); instead the policy is rebuilt when a change brings an email not seen yet,
    which happens once per person, not per change.
    """

    def __init__(self, ref: str, same_person: Mapping[str, str] | None = None) -> None:
        self.ref = ref
        self.same_person = {k.lower(): v.lower() for k, v in (same_person or {}).items()}
        self.emails: set[str] = set()
        self.policy = default_policy(ref, (), self.same_person)

    def ensure(self, emails: Iterable[str]) -> Policy:
        """The policy, with every one of ``emails`` a person."""
        new = {e.strip().lower() for e in emails if e.strip()} - self.emails
        if new:
            self.emails |= new
            self.policy = default_policy(self.ref, self.emails, self.same_person)
        return self.policy

"""The inferred default policy, built as the compiled model (issue 13, item 1)."""

from __future__ import annotations

import json

from twokey.audit._default_policy import DefaultPolicy, default_policy
from twokey.model import Alias
from twokey.policy import Policy, loads

EMAILS = ["ann@x.org", "Ann@Home.example", "bob@x.org", "bob@y.org", "-x@z.org"]


def _yaml(people: dict[str, list[str]]) -> Policy:
    listed = "".join(f"  {pid}: {{emails: {json.dumps(e)}}}\n" for pid, e in people.items())
    return loads(
        f"version: 1\npeople:\n{listed}groups:\n  everyone: {json.dumps(list(people))}\n"
        "branches:\n  refs/heads/main:\n    approvals: 1\n    approvers: [everyone]\n"
        "    exclude: [authors, committers, co-authors]\n"
        "    accept: [signed, forge, trailer]\n"
        "policy_changes: {approvals: 1, approvers: [everyone]}\n"
    )


def _meaning(policy: Policy) -> tuple[object, ...]:
    rule = policy.refs[0]
    return (
        {pid: (p.kind, p.aliases) for pid, p in policy.principals.items()},
        dict(policy.aliases),
        dict(policy.groups),
        (rule.pattern, rule.approval.count, rule.approval.approvers, rule.approval.exclude),
        rule.approval.accept,
        (rule.allow_force_push, rule.allow_deletion, rule.allow_unknown_authors),
        (policy.policy_change.approvers, policy.policy_change.accept),
        policy.policy_change.exclude,
    )


def test_the_model_means_what_the_yaml_policy_meant() -> None:
    grown = DefaultPolicy("refs/heads/main", {"ann@home.example": "ann@x.org"})
    policy = grown.ensure(EMAILS)
    people = grown.people()
    assert people == {
        "ann": ["ann@x.org", "ann@home.example"],
        "bob": ["bob@x.org"],
        "bob-2": ["bob@y.org"],
        "x": ["-x@z.org"],
    }
    assert _meaning(policy) == _meaning(_yaml(people))


def test_ids_never_change_as_people_appear() -> None:
    grown = DefaultPolicy("refs/heads/main")
    first = grown.ensure(["bob@y.org"])
    assert first.resolve(Alias.email("bob@y.org")).id == "bob"  # type: ignore[union-attr]
    later = grown.ensure(["bob@a.org"])  # sorts first, but came later: bob-2
    assert later.resolve(Alias.email("bob@y.org")).id == "bob"  # type: ignore[union-attr]
    assert later.resolve(Alias.email("bob@a.org")).id == "bob-2"  # type: ignore[union-attr]
    assert grown.builds == 3  # the empty start, then one per growth


def test_no_usable_email_leaves_nobody_who_could_approve() -> None:
    policy = default_policy("refs/heads/main", ["not an email", "a b@x.org", ""])
    assert set(policy.principals) == {"nobody"}
    assert policy.resolve(Alias.email("nobody@invalid.example")) is not None


def test_padding_is_trimmed_as_an_author_alias_is() -> None:
    policy = default_policy("refs/heads/main", [" Pad@X.org "])
    assert policy.resolve(Alias.email("pad@x.org")) is not None


def test_equal_people_give_equal_digests_whatever_the_order() -> None:
    one = default_policy("refs/heads/main", ["a@x.org", "b@x.org"])
    two = default_policy("refs/heads/main", ["b@x.org", "a@x.org"])
    assert one.digest == two.digest != default_policy("refs/heads/main", ["a@x.org"]).digest

"""The demo company's policy, with everyone's real SSH public keys."""

from __future__ import annotations

__all__ = ["policy_text"]

from collections.abc import Mapping

_TEMPLATE = """\
# .twokey/policy.yml of the WALKTHROUGH's company (written by `twokey demo`)
version: 1
people:
  alice: {{name: Alice Smith, emails: [alice@example.com], keys: ["{alice}"]}}
  bob:   {{name: Bob Jones,   emails: [bob@example.com],   keys: ["{bob}"]}}
  carol: {{name: Carol White, emails: [carol@example.com], keys: ["{carol}"]}}
  dave:  {{name: Dave Ops,    emails: [dave@example.com],  keys: ["{dave}"]}}
  erin:  {{name: Erin Admin,  emails: [erin@example.com],  keys: ["{erin}"]}}
  frank: {{name: Frank Admin, emails: [frank@example.com], keys: ["{frank}"]}}
services:
  ci: {{name: CI, emails: [ci@example.com], keys: ["{ci}"]}}
groups:
  developers: [alice, bob]
  reviewers: [bob, carol]
  operators: [dave]
  admins: [erin, frank]
branches:
  main:
    approvals: 1
    approvers: [reviewers, admins]
    exclude: [authors, committers, co-authors]
    checks: {{require: [tests], signers: [ci]}}
    owners:
      "deploy/**": {{approvals: 1, approvers: [carol]}}
tags:
  "v*": {{approvals: 1, approvers: [reviewers]}}
environments:
  production:
    from: [main]
    deployers: [operators, ci]
    approvals: 1
    approvers: [operators]
    separate: [authors, approvers]
    builders: [ci]
    freeze: ["Fri 16:00 - Mon 08:00 Europe/Berlin"]
    break_glass: [dave]
policy_changes: {{approvals: 2, approvers: [admins]}}
break_glass_reviewers: [admins]
"""


def policy_text(keys: Mapping[str, str]) -> str:
    """The policy with each person's ``"type base64"`` public key filled in."""
    return _TEMPLATE.format(**keys)

"""``twokey policy check|show``: validate a policy file and show its resolved rules."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from twokey.cli._output import add_format, print_json
from twokey.errors import ExitCode
from twokey.policy import (
    DEFAULT_POLICY_PATH,
    ApprovalRule,
    EnvironmentRule,
    Policy,
    PolicyError,
    RefRule,
    load,
)

_EPILOG = """\
examples:
  twokey policy check                      # checks .twokey/policy.yml
  twokey policy check ops/policy.yml --format json
  twokey policy show                       # who can approve what, after groups are resolved

exit codes: 0 valid, 2 invalid or unreadable (every problem is listed with file:line:column)"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``twokey policy``."""
    parser = subparsers.add_parser(
        "policy",
        help="check a policy file or show its resolved rules",
        description="Check a policy file, or show the rules it resolves to.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(title="policy commands", metavar="COMMAND")
    for name, handler, text in (
        ("check", _check, "validate a policy file"),
        ("show", _show, "print the resolved rules"),
    ):
        sub = commands.add_parser(
            name,
            help=text,
            description=text.capitalize() + ".",
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument(
            "file",
            nargs="?",
            default=DEFAULT_POLICY_PATH,
            help=f"policy file (default: {DEFAULT_POLICY_PATH})",
        )
        add_format(sub)
        sub.set_defaults(handler=handler)
    parser.set_defaults(handler=lambda _args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return ExitCode.USAGE


def _check(args: argparse.Namespace) -> int:
    try:
        policy = load(args.file)
    except PolicyError as exc:
        if args.format == "json":
            print_json({"ok": False, "problems": [p.to_dict() for p in exc.problems]})
        else:
            print(exc.diagnostics())
        return ExitCode.USAGE
    people = sum(1 for p in policy.principals.values() if p.is_person)
    summary = {
        "ok": True,
        "file": args.file,
        "digest": policy.digest,
        "people": people,
        "services": len(policy.principals) - people,
        "groups": len(policy.groups),
        "protected_refs": len(policy.refs),
        "environments": len(policy.environments),
        "problems": [],
    }
    if args.format == "json":
        print_json(summary)
    else:
        print(
            f"ok: {args.file}: {people} people, {summary['services']} services, "
            f"{len(policy.groups)} groups, {len(policy.refs)} protected ref rules, "
            f"{len(policy.environments)} environments ({policy.digest})"
        )
    return ExitCode.ALLOW


def _show(args: argparse.Namespace) -> int:
    policy = load(args.file)
    if args.format == "json":
        print_json(policy_summary(policy))
    else:
        print("\n".join(_lines(policy)))
    return ExitCode.ALLOW


def _approval(rule: ApprovalRule) -> dict[str, object]:
    return {
        "approvals": rule.count,
        "approvers": sorted(rule.approvers),
        "as_written": list(rule.approver_names),
        "exclude": sorted(e.value for e in rule.exclude),
        "accept": sorted(t.value for t in rule.accept),
        "rule": str(rule.rule),
    }


def _ref(rule: RefRule) -> dict[str, object]:
    return {
        "pattern": rule.pattern,
        **_approval(rule.approval),
        "force_push": rule.allow_force_push,
        "deletion": rule.allow_deletion,
        "owners": {o.pattern: _approval(o.approval) for o in rule.owners},
        "checks": {"require": list(rule.checks.names), "signers": sorted(rule.checks.signers)}
        if rule.checks
        else None,
        "break_glass": sorted(rule.break_glass),
    }


def _env(env: EnvironmentRule) -> dict[str, object]:
    return {
        "from": list(env.from_refs),
        "deployers": sorted(env.deployers),
        **_approval(env.approval),
        "builders": sorted(env.builders),
        "freeze": [w.text for w in env.freeze],
        "break_glass": sorted(env.break_glass),
    }


def policy_summary(policy: Policy) -> dict[str, object]:
    """The resolved policy as JSON-ready data."""
    return {
        "digest": policy.digest,
        "people": sorted(p.id for p in policy.principals.values() if p.is_person),
        "services": sorted(p.id for p in policy.principals.values() if not p.is_person),
        "groups": {name: sorted(members) for name, members in sorted(policy.groups.items())},
        "refs": [_ref(rule) for rule in policy.refs],
        "environments": {name: _env(env) for name, env in sorted(policy.environments.items())},
        "policy_changes": _approval(policy.policy_change),
    }


def _describe(rule: ApprovalRule) -> str:
    if rule.count == 0:
        return "no approval needed"
    excluded = ", ".join(sorted(e.value for e in rule.exclude)) or "nobody"
    return (
        f"{rule.count} of {', '.join(sorted(rule.approvers))} "
        f"(excluding {excluded}; accepts {', '.join(sorted(t.value for t in rule.accept))})"
    )


def _lines(policy: Policy) -> Iterator[str]:
    yield f"policy {policy.source} ({policy.digest})"
    for rule in policy.refs:
        yield f"\n{rule.pattern}  [{rule.rule.file}:{rule.rule.line}]"
        yield f"  approvals: {_describe(rule.approval)}"
        yield (
            f"  force-push: {'allowed' if rule.allow_force_push else 'refused'}; "
            f"deletion: {'allowed' if rule.allow_deletion else 'refused'}"
        )
        for owner in rule.owners:
            yield f"  owners of {owner.pattern}: {_describe(owner.approval)}"
        if rule.checks:
            yield (
                f"  checks: {', '.join(rule.checks.names)} signed by "
                f"{', '.join(sorted(rule.checks.signers))}"
            )
        if rule.break_glass:
            yield f"  break-glass: {', '.join(sorted(rule.break_glass))}"
    for name, env in sorted(policy.environments.items()):
        yield f"\nenvironment {name}  [{env.rule.file}:{env.rule.line}]"
        yield f"  from: {', '.join(env.from_refs)}; deployers: {', '.join(sorted(env.deployers))}"
        yield f"  deploy approvals: {_describe(env.approval)}"
        yield f"  builders: {', '.join(sorted(env.builders))}"
        for window in env.freeze:
            yield f"  freeze: {window.text}"
        if env.break_glass:
            yield f"  break-glass: {', '.join(sorted(env.break_glass))}"
    yield f"\npolicy changes: {_describe(policy.policy_change)}"

"""``twokey policy check|show``: validate a policy file and show its resolved rules."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from twokey.cli._output import (
    Subparsers,
    add_command,
    add_format,
    exit_codes,
    help_handler,
    print_json,
)
from twokey.errors import ConfigError, ExitCode
from twokey.policy import (
    DEFAULT_POLICY_PATH,
    ApprovalRule,
    EnvironmentRule,
    Policy,
    PolicyError,
    RefRule,
    break_glass_reviewers,
    load,
    loosenings,
    policy_summary,
    roles,
    schema_text,
)

if TYPE_CHECKING:  # rich is imported only when a terminal shows a table (start-up time)
    from rich.console import Console
    from rich.table import Table

_EPILOG = f"""\
examples:
  twokey policy check                      # checks .twokey/policy.yml
  twokey policy check ops/policy.yml --format json
  twokey policy show                       # who can approve what, after groups are resolved
  twokey policy show --format json | jq '.environments.production'
  twokey policy schema > .twokey/policy.schema.json   # for editors

{exit_codes("valid", bad="an invalid or unreadable policy, every problem listed")}
reference: docs/policy.md"""

_CHECK = f"""\
examples:
  twokey policy check                      # checks .twokey/policy.yml
  twokey policy check ops/policy.yml --format json

Every problem is listed at once as file:line:column with a hint: the structure (the JSON
Schema `twokey policy schema` prints) and the meaning (names that exist, thresholds that can
be met, keys that parse). A valid policy that loosens a default invariant says so.
{exit_codes("valid", bad="an invalid or unreadable policy, every problem listed")}
reference: docs/policy.md"""

_SHOW = f"""\
examples:
  twokey policy show                       # who can approve what, after groups are resolved
  twokey policy show --format json | jq '.environments.production'

A table on a terminal, plain text otherwise; json for machines.
{exit_codes("shown", bad="an invalid or unreadable policy, every problem listed")}
reference: docs/policy.md"""

_SCHEMA = f"""\
examples:
  twokey policy schema > .twokey/policy.schema.json
  # then, first line of .twokey/policy.yml (editors with the YAML language server):
  # yaml-language-server: $schema=policy.schema.json

The JSON Schema (draft 2020-12) of the policy's structure. twokey's loader enforces the same
schema, so what an editor accepts and what `twokey policy check` accepts do not drift apart;
the check also verifies the meaning (names, thresholds, keys), which no schema can.
{exit_codes("printed")}
reference: docs/policy.md"""


def register(subparsers: Subparsers) -> None:
    """Register ``twokey policy check``, ``show`` and ``schema``."""
    parser = add_command(
        subparsers,
        "policy",
        "check a policy file, show its resolved rules, print its schema",
        _EPILOG,
        description="Check a policy file, show the rules it resolves to, or print its JSON Schema.",
    )
    commands = parser.add_subparsers(title="policy commands", metavar="COMMAND")
    for name, handler, text, epilog in (
        ("check", _check, "validate a policy file and list every problem in it", _CHECK),
        ("show", _show, "print the resolved rules: who can approve, deploy, break glass", _SHOW),
    ):
        sub = add_command(
            commands, name, text, epilog, description=text[0].upper() + text[1:] + "."
        )
        sub.add_argument(
            "file",
            nargs="?",
            default=DEFAULT_POLICY_PATH,
            help=f"policy file (default: {DEFAULT_POLICY_PATH})",
        )
        add_format(sub)
        sub.set_defaults(handler=handler)
    schema = add_command(
        commands,
        "schema",
        "print the policy's JSON Schema (for editors)",
        _SCHEMA,
        description="Print the JSON Schema of .twokey/policy.yml, as published in the package.",
    )
    schema.set_defaults(handler=_schema)
    parser.set_defaults(handler=help_handler(parser))


def _schema(args: argparse.Namespace) -> int:
    del args
    sys.stdout.write(schema_text())
    return ExitCode.ALLOW


def _check(args: argparse.Namespace) -> int:
    try:
        policy = load(args.file)
    except PolicyError as exc:
        if args.format == "json":
            print_json({"ok": False, "problems": [p.to_dict() for p in exc.problems]})
        else:
            print(exc.diagnostics())
        return ExitCode.USAGE
    except ConfigError as exc:
        if args.format != "json":
            raise
        problem = {"file": args.file, "line": 0, "column": 0, "message": exc.message}
        print_json({"ok": False, "problems": [{**problem, "hint": exc.hint}]})
        return ExitCode.USAGE
    summary = _counts(policy)
    if args.format == "json":
        print_json({"ok": True, "file": args.file, "digest": policy.digest, **summary})
    else:
        print(
            f"ok: {args.file}: {summary['people']} people, {summary['services']} services, "
            f"{summary['groups']} groups, {summary['protected_refs']} protected ref rules, "
            f"{summary['environments']} environments ({policy.digest})"
        )
        # DESIGN: a policy may loosen an invariant only if it says so loudly; we say it each time.
        for loosening in loosenings(policy):
            print(f"note: {loosening}")
    return ExitCode.ALLOW


def _counts(policy: Policy) -> dict[str, object]:
    people = sum(1 for p in policy.principals.values() if p.is_person)
    return {
        "people": people,
        "services": len(policy.principals) - people,
        "groups": len(policy.groups),
        "protected_refs": len(policy.refs),
        "environments": len(policy.environments),
        "problems": [],
        "loosenings": [loosening.to_dict() for loosening in loosenings(policy)],
    }


def _show(args: argparse.Namespace) -> int:
    policy = load(args.file)  # PolicyError -> exit 2 with every problem, via cli.main
    if args.format == "json":
        print_json(policy_summary(policy))
    elif sys.stdout.isatty():
        from rich.console import Console  # noqa: PLC0415

        render_rich(policy, Console())
    else:
        print("\n".join(_lines(policy)))
    return ExitCode.ALLOW


# --- plain text ------------------------------------------------------------------------------


def _describe(rule: ApprovalRule) -> str:
    if rule.count == 0:
        return "no approval needed"
    excluded = ", ".join(sorted(e.value for e in rule.exclude)) or "nobody"
    return (
        f"{rule.count} of {', '.join(sorted(rule.approvers))} "
        f"(excluding {excluded}; accepts {', '.join(sorted(t.value for t in rule.accept))}"
        f"{'; counts applied patches' if rule.count_applied else ''})"
    )


def _yes(allowed: bool) -> str:
    return "allowed" if allowed else "refused"


def _ref_lines(rule: RefRule) -> Iterator[str]:
    yield f"\n{rule.pattern}  [{rule.rule.file}:{rule.rule.line}]"
    yield f"  approvals: {_describe(rule.approval)}"
    yield f"  force-push: {_yes(rule.allow_force_push)}; deletion: {_yes(rule.allow_deletion)}"
    signed = "required" if rule.signed_commits else "not required"
    yield f"  signed commits: {signed}; unknown authors: {_yes(rule.allow_unknown_authors)}"
    for owner in rule.owners:
        yield f"  owners of {owner.pattern}: {_describe(owner.approval)}"
    if rule.checks:
        signers = ", ".join(sorted(rule.checks.signers))
        yield f"  checks: {', '.join(rule.checks.names)} signed by {signers}"
    if rule.break_glass:
        yield f"  break-glass: {', '.join(sorted(rule.break_glass))}"


def _env_lines(env: EnvironmentRule) -> Iterator[str]:
    yield f"\nenvironment {env.name}  [{env.rule.file}:{env.rule.line}]"
    yield f"  from: {', '.join(env.from_refs)}; deployers: {', '.join(sorted(env.deployers))}"
    yield f"  deploy approvals: {_describe(env.approval)}"
    yield f"  builders: {', '.join(sorted(env.builders))}"
    if env.checks:
        signers = ", ".join(sorted(env.checks.signers))
        yield f"  checks: {', '.join(env.checks.names)} signed by {signers}"
    for window in env.freeze:
        yield f"  freeze: {window.text}"
    if env.break_glass:
        yield f"  break-glass: {', '.join(sorted(env.break_glass))}"


def _lines(policy: Policy) -> Iterator[str]:
    yield f"policy {policy.source} ({policy.digest})"
    for rule in policy.refs:
        yield from _ref_lines(rule)
    for _name, env in sorted(policy.environments.items()):
        yield from _env_lines(env)
    yield f"\npolicy changes: {_describe(policy.policy_change)}"
    reviewers = break_glass_reviewers(policy) or ["any other person"]
    yield f"break-glass reviewed by: {', '.join(reviewers)}"
    yield "\nwho can do what:"
    for pid, can in roles(policy).items():
        kind = "" if policy.principals[pid].is_person else " (service)"
        yield f"  {pid}{kind}: {'; '.join(can) or 'author only'}"
    loose = loosenings(policy)
    if loose:
        yield "\nlooser than the default invariants:"
        yield from (f"  {loosening}" for loosening in loose)


# --- rich (a terminal) -----------------------------------------------------------------------


def _names(ids: frozenset[str]) -> str:
    return ", ".join(sorted(ids)) or "-"


def _short(rule: ApprovalRule) -> str:
    return f"{rule.count} of {_names(rule.approvers)}" if rule.count else "none"


def _table(title: str, *columns: str) -> Table:
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=title, show_lines=True, highlight=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _row(table: Table, *cells: str) -> None:
    from rich.text import Text  # noqa: PLC0415

    # Text() keeps policy strings from being read as rich markup.
    table.add_row(*(Text(cell) for cell in cells))


def render_rich(policy: Policy, console: Console) -> None:
    """Print the resolved policy as tables (used when stdout is a terminal)."""
    from rich.text import Text  # noqa: PLC0415

    console.print(Text(f"policy {policy.source} ({policy.digest})", style="bold"))
    refs = _table("Protected refs", "ref", "approvals", "excluding", "owners", "checks", "line")
    for rule in policy.refs:
        history = [f"force-push {_yes(rule.allow_force_push)}"]
        history.append(f"deletion {_yes(rule.allow_deletion)}")
        _row(
            refs,
            rule.pattern + "\n" + "\n".join(history),
            _short(rule.approval),
            ", ".join(sorted(e.value for e in rule.approval.exclude)) or "-",
            "\n".join(f"{o.pattern}: {_short(o.approval)}" for o in rule.owners) or "-",
            ", ".join(rule.checks.names) if rule.checks else "-",
            str(rule.rule.line),
        )
    console.print(refs)
    envs = _table("Environments", "environment", "deployers", "approvals", "freeze", "glass")
    for name, env in sorted(policy.environments.items()):
        _row(
            envs,
            f"{name}\nfrom {', '.join(env.from_refs)}\nbuilt by {_names(env.builders)}",
            _names(env.deployers),
            _short(env.approval) + "\nseparate: " + _names(frozenset(env.approval.exclude)),
            "\n".join(w.text for w in env.freeze) or "-",
            _names(env.break_glass),
        )
    console.print(envs)
    console.print(Text(f"policy changes: {_describe(policy.policy_change)}"))
    reviewers = ", ".join(break_glass_reviewers(policy) or ["any other person"])
    console.print(Text(f"break-glass reviewed by: {reviewers}"))
    who = _table("Who can do what", "principal", "may")
    for pid, can in roles(policy).items():
        _row(who, pid, "\n".join(can) or "author only")
    console.print(who)
    for loosening in loosenings(policy):
        console.print(Text(f"note: {loosening}", style="yellow"))

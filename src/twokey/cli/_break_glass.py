"""``twokey break-glass list|review``: the exceptions in the ledger, and closing them.

Invariant 6: a break-glass (a push with ``-o twokey.break-glass=...``, a deploy with
``--break-glass``) stays an open exception until someone else reviews it after the fact. The
review is a signed statement about the exact ledger entry, appended to the ledger as a
``review`` entry; the engine decides whether it counts (a person, not the one who broke glass).
"""

from __future__ import annotations

import argparse
import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twokey._text import printable
from twokey.cli._client import add_gateway_option, client_from
from twokey.cli._output import Subparsers, add_command, add_format, help_handler, print_json
from twokey.cli._signing import add_signing, signer_from
from twokey.errors import ExitCode, UsageError
from twokey.evidence import (
    Signer,
    StoredEnvelope,
    load_signer,
    sign_break_glass_review,
    verify_envelope,
)
from twokey.model import Alias, BreakGlassReview
from twokey.policy import DEFAULT_POLICY_PATH, Policy, load

if TYPE_CHECKING:
    from twokey.audit import GlassException
    from twokey.ledger import Ledger

_EPILOG = """\
examples:
  twokey break-glass list --ledger sqlite:///var/lib/twokey/ledger.db
  twokey break-glass review 41 --ledger sqlite:///var/lib/twokey/ledger.db \\
      --ssh-key ~/.ssh/id_ed25519 --comment "prod was down, INC-42; fix reviewed"
  twokey break-glass review 41 --verdict unjustified --comment "could have waited" ...
  twokey break-glass list --gateway https://twokey.example.com     # the gateway's ledger
  twokey break-glass review 17 --gateway https://twokey.example.com \
      --ssh-key ~/.ssh/id_ed25519 --comment "INC-42: hotfix reviewed, tests added"

With --gateway (or $TWOKEY_GATEWAY), the gateway's own ledger and policy decide: sign in first
(twokey login); the review is signed here with your key and checked by the gateway, which
appends it (403 with the reason when it does not count, e.g. your own break-glass).

An exception is open until a person other than the one who broke glass (and one of the
policy's break_glass_reviewers, when it names them) reviews it; either verdict closes it, and
the audit report shows which. Reviews are verified against the policy
(--policy, default .twokey/policy.yml); a refused review is not recorded.
exit codes: 0 done (list: none open), 1 review refused (list: some open), 2 usage error"""


def register(subparsers: Subparsers) -> None:
    """Register ``twokey break-glass``."""
    parser = add_command(
        subparsers,
        "break-glass",
        "list break-glass exceptions, review them after the fact",
        _EPILOG,
        description="Break-glass exceptions recorded in the ledger, and their reviews.",
    )
    commands = parser.add_subparsers(title="break-glass commands", metavar="COMMAND")
    listing = add_command(
        commands,
        "list",
        "every break-glass in the ledger, open or reviewed",
        _EPILOG,
        description="List every break-glass in the ledger, open or reviewed (and by whom).",
    )
    _common(listing)
    listing.add_argument(
        "--ledger-key",
        metavar="FILE",
        help="the ledger's public key, obtained separately (default: $TWOKEY_LEDGER_KEY)",
    )
    add_format(listing)
    listing.set_defaults(handler=_list)
    review = add_command(
        commands,
        "review",
        "sign a review of one break-glass and append it to the ledger",
        _EPILOG,
        description="Sign an after-the-fact review of one break-glass and append it to the "
        "ledger, if the policy lets you review it.",
    )
    review.add_argument("entry", type=int, help="the ledger index of the break-glass")
    review.add_argument(
        "--verdict",
        choices=["justified", "unjustified"],
        default="justified",
        help="what the review concluded; either closes the exception (default: justified)",
    )
    review.add_argument("--comment", default="", help="what the review found")
    _common(review)
    add_signing(review)
    add_format(review)
    review.set_defaults(handler=_review)
    parser.set_defaults(handler=help_handler(parser))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ledger",
        metavar="URL",
        help="sqlite:///path or postgresql://... (or --gateway: the gateway's ledger)",
    )
    add_gateway_option(parser)
    parser.add_argument(
        "--policy",
        type=Path,
        default=Path(DEFAULT_POLICY_PATH),
        metavar="FILE",
        help=f"the policy whose people and keys decide (default: {DEFAULT_POLICY_PATH})",
    )


def _policy(path: Path) -> Policy:
    if not path.exists():
        raise UsageError(f"no policy at {path}", hint="pass --policy FILE")
    return load(path)


def _where(args: argparse.Namespace) -> str:
    """'ledger' or 'gateway': exactly one of --ledger and --gateway (or $TWOKEY_GATEWAY)."""
    gateway = args.gateway or os.environ.get("TWOKEY_GATEWAY", "")
    if args.ledger and args.gateway:
        raise UsageError("name --ledger or --gateway, not both")
    if args.ledger:
        return "ledger"
    if gateway:
        return "gateway"
    raise UsageError(
        "name the ledger: --ledger URL, or --gateway URL for a gateway's",
        hint="e.g. --ledger sqlite:///var/lib/twokey/ledger.db",
    )


def _list(args: argparse.Namespace) -> int:
    if _where(args) == "gateway":
        rows = client_from(args).get("/v1/break-glass")["exceptions"]
        return _print_list(args, rows, [])
    from twokey.audit import read_exceptions  # noqa: PLC0415

    policy = _policy(args.policy)
    exceptions = read_exceptions(args.ledger, policy, args.ledger_key)
    rows = [e.to_dict(_name(policy, e.actor)) for e in exceptions.resolve(policy)]
    notes = []
    if exceptions.assurance is not None:
        notes.append(f"ledger verified; {exceptions.assurance.summary()}")
    if exceptions.unreadable:
        notes.append(
            f"{exceptions.unreadable} unreadable ledger entries ignored (twokey ledger verify)"
        )
    return _print_list(args, rows, notes)


def _print_list(args: argparse.Namespace, rows: list[dict[str, Any]], notes: list[str]) -> int:
    """Print the exceptions (text or JSON); exit 1 while any is open."""
    from twokey.audit import exception_text, is_open  # noqa: PLC0415

    if args.format == "json":
        print_json(rows)
    else:
        for row in rows:
            print(exception_text(row))
            for why in row["refused_reviews"]:
                print(printable(f"  refused review: {why}"))
        still = sum(1 for r in rows if is_open(r))
        print(f"{len(rows)} break-glass exception(s), {still} open")
        for note in notes:
            print(note)
    return ExitCode.DENY if any(is_open(r) for r in rows) else ExitCode.ALLOW


def _review_gateway(args: argparse.Namespace) -> int:
    """``review --gateway``: sign a review of the exception the gateway lists, and hand it in."""
    client = client_from(args)
    rows = client.get("/v1/break-glass")["exceptions"]
    row = next((r for r in rows if r["entry"] == args.entry), None)
    if row is None:
        raise UsageError(
            f"the gateway's ledger has no break-glass at entry {args.entry}",
            hint="twokey break-glass list --gateway URL shows them",
        )
    envelope = sign_break_glass_review(
        _signer(args),
        entry=args.entry,
        entry_sha256=str(row["entry_sha256"]),
        verdict=args.verdict,
        when=datetime.now(UTC),
        comment=args.comment,
    )
    status, answer = client.request(
        "POST",
        f"/v1/break-glass/{args.entry}/review",
        {"envelope": envelope.decode()},
        ok=(201, 403),
    )
    if status == 403:
        print(printable(f"review refused: {answer.get('error', answer)}"))
        return ExitCode.DENY
    result = answer | {"actor": row["actor"], "reason": row["reason"]}
    if args.format == "json":
        print_json(result)
    else:
        print(
            printable(
                f"reviewed the break-glass of ledger entry {args.entry} by {row['actor']} "
                f"({row['reason']}): {args.verdict}; recorded as entry {answer['review_entry']}"
            )
        )
    return ExitCode.ALLOW


def _review(args: argparse.Namespace) -> int:
    if _where(args) == "gateway":
        return _review_gateway(args)
    from twokey.audit import require_ledger  # noqa: PLC0415
    from twokey.doors import record as append_and_sign  # noqa: PLC0415
    from twokey.engine import evaluate_review, explain  # noqa: PLC0415
    from twokey.ledger import ReviewRecord, open_ledger, to_entry  # noqa: PLC0415

    policy = _policy(args.policy)
    require_ledger(args.ledger)
    with open_ledger(args.ledger) as ledger:
        data, exception = _exception_at(ledger, args.entry)
        envelope, review = _signed_review(args, data, policy)
        decision = evaluate_review(policy, exception.actor, review)
        if not decision.allowed:
            print(explain(decision))
            return ExitCode.DENY
    record = ReviewRecord("break-glass-review", args.entry, envelope)
    # Appended like every door's batch: a checkpoint is signed after it when a key is set
    # ($TWOKEY_LEDGER_SIGNING_KEY, ADR 0015).
    [index] = append_and_sign(args.ledger, [to_entry(record, review.time)])
    result = {
        "entry": args.entry,
        "review_entry": index,
        "reviewer": decision.counted[0].person,
        "verdict": args.verdict,
        "actor": _name(policy, exception.actor),
        "reason": exception.reason,
    }
    if args.format == "json":
        print_json(result)
    else:
        print(
            f"reviewed the break-glass of ledger entry {args.entry} by {result['actor']} "
            f"({exception.reason}): {args.verdict}; recorded as entry {index}"
        )
    return ExitCode.ALLOW


def _exception_at(ledger: Ledger, entry: int) -> tuple[bytes, GlassException]:
    """The exact bytes of ledger entry ``entry`` and the break-glass it records."""
    from twokey.audit import exception_of  # noqa: PLC0415
    from twokey.ledger import DecisionRecord, DeployRecord, parse_entry, read_record  # noqa: PLC0415

    if not 0 <= entry < ledger.size():
        raise UsageError(f"the ledger has no entry {entry} (size {ledger.size()})")
    data = ledger.entry(entry)
    parsed = parse_entry(data)
    record = read_record(parsed)
    exception = None
    if isinstance(record, DecisionRecord | DeployRecord):
        exception = exception_of(entry, data, parsed.time, record)
    if exception is None:
        raise UsageError(
            f"ledger entry {entry} records no break-glass",
            hint="twokey break-glass list shows the exceptions",
        )
    return data, exception


def _signed_review(
    args: argparse.Namespace, data: bytes, policy: Policy
) -> tuple[bytes, BreakGlassReview]:
    """The review envelope, and what it says once verified against the policy."""
    envelope = sign_break_glass_review(
        _signer(args),
        entry=args.entry,
        entry_sha256=hashlib.sha256(data).hexdigest(),
        verdict=args.verdict,
        when=datetime.now(UTC),
        comment=args.comment,
    )
    items = verify_envelope(StoredEnvelope(envelope, "this review"), policy)
    return envelope, next(i for i in items if isinstance(i, BreakGlassReview))


def _signer(args: argparse.Namespace) -> Signer:
    """The reviewer's key; only the defaults (git config user.signingkey) need a repository."""
    if args.key or args.ssh_key:
        return load_signer(Path(args.key or args.ssh_key).expanduser(), ssh=bool(args.ssh_key))
    from twokey.git import GitRunner as Git  # noqa: PLC0415

    return signer_from(args, Git.discover(args.repo))


def _name(policy: Policy, alias: Alias) -> str:
    principal = policy.resolve(alias)
    return principal.id if principal is not None else str(alias)

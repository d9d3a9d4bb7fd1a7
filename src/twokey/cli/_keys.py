"""``twokey keys``: create a signing key; print git's allowed_signers from the policy."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from twokey.cli._output import (
    Subparsers,
    add_command,
    add_format,
    exit_codes,
    help_handler,
    print_json,
)
from twokey.errors import ExitCode
from twokey.evidence import allowed_signers_text, fingerprint, generate_key
from twokey.policy import DEFAULT_POLICY_PATH, load

_EPILOG = f"""\
examples:
  twokey keys generate --out ~/.config/twokey/id_ed25519
  twokey keys allowed-signers .twokey/policy.yml > .git/allowed_signers
  git config gpg.ssh.allowedSignersFile .git/allowed_signers   # git verify-commit agrees

Reviewers may also use the SSH key they already sign commits with: add its .pub line to
their `keys:` in the policy and approve with `twokey approve --ssh-key ~/.ssh/id_ed25519`.
{exit_codes("done")}"""

_GENERATE = f"""\
examples:
  twokey keys generate                                   # ~/.config/twokey/id_ed25519
  twokey keys generate --out ci.key --comment ci@example.com --format json

Writes the private key (mode 0600) and FILE.pub, and prints the line to add to your `keys:`
in the policy. An SSH key you already sign commits with works too (--ssh-key).
{exit_codes("written")}"""

_SIGNERS = f"""\
examples:
  twokey keys allowed-signers > .git/allowed_signers
  twokey keys allowed-signers ops/policy.yml > allowed_signers
  git config gpg.ssh.allowedSignersFile .git/allowed_signers   # git verify-commit agrees

One line per SSH key of each person in the policy, in git's allowed_signers format.
{exit_codes("printed", bad="an invalid policy: every problem listed")}"""


def register(subparsers: Subparsers) -> None:
    """Register ``twokey keys``."""
    parser = add_command(
        subparsers,
        "keys",
        "create signing keys; export allowed_signers",
        _EPILOG,
        description="Signing keys for approvals and attestations.",
    )
    commands = parser.add_subparsers(title="keys commands", metavar="COMMAND")
    gen = add_command(
        commands,
        "generate",
        "write a new Ed25519 key pair",
        _GENERATE,
        description="Write a new Ed25519 key pair for signing approvals and attestations.",
    )
    gen.add_argument(
        "--out",
        default=str(Path.home() / ".config" / "twokey" / "id_ed25519"),
        help="private key file; the public key goes to FILE.pub "
        "(default: ~/.config/twokey/id_ed25519)",
    )
    gen.add_argument(
        "--comment",
        default=f"{getpass.getuser()}@{os.uname().nodename}",
        help="comment on the public key line",
    )
    add_format(gen)
    gen.set_defaults(handler=_generate)
    signers = add_command(
        commands,
        "allowed-signers",
        "print git's allowed_signers file for every person's keys in the policy",
        _SIGNERS,
        description="Print git's allowed_signers file for every person's SSH keys in the policy.",
    )
    signers.add_argument("policy", nargs="?", help="policy file (default: .twokey/policy.yml)")
    signers.add_argument("--policy", dest="policy_option", metavar="FILE", help=argparse.SUPPRESS)
    signers.set_defaults(handler=_allowed_signers)
    parser.set_defaults(handler=help_handler(parser))


def _generate(args: argparse.Namespace) -> int:
    public = generate_key(Path(args.out), args.comment)
    snippet = f'keys: ["{" ".join(public.split()[:2])}"]'
    if args.format == "json":
        print_json({"private": args.out, "public": public, "fingerprint": fingerprint(public)})
    else:
        print(f"wrote {args.out} (secret, mode 0600) and {args.out}.pub")
        print(f"fingerprint: {fingerprint(public)}")
        print(f"add to your entry in the policy's people:  {snippet}")
    return ExitCode.ALLOW


def _allowed_signers(args: argparse.Namespace) -> int:
    policy = load(args.policy or args.policy_option or DEFAULT_POLICY_PATH)
    sys.stdout.write(allowed_signers_text(policy))
    return ExitCode.ALLOW

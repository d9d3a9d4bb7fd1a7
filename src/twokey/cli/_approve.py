"""``twokey approve``: sign an approval of a revision's content and store it in git."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from twokey.cli._output import Subparsers, add_command, add_format, exit_codes, print_json
from twokey.cli._revs import commit_of, protected_ref, repo_at, tree_of
from twokey.cli._signing import add_signing, signer_from
from twokey.errors import ExitCode
from twokey.evidence import GitEvidenceStore, fingerprint, repository_id, sign_approval

_EPILOG = f"""\
examples:
  twokey approve                        # approve HEAD's content for the default branch
  twokey approve feature --ref refs/heads/main --ssh-key ~/.ssh/id_ed25519
  twokey approve origin/feature --push  # and publish: git push origin 'refs/twokey/*'

The approval names the repository, the ref, the commit and its tree: it covers that content,
so a squash or rebase with the same tree still counts, and any new content makes it stale.
The default --ref is the repository's default branch: the one origin/HEAD names; on a
server, the one HEAD names; else main; else the branch checked out (docs/evidence.md).
{exit_codes("approval signed and stored", bad="a REV or --ref that does not exist")}"""


def register(subparsers: Subparsers) -> None:
    """Register ``twokey approve``."""
    parser = add_command(
        subparsers,
        "approve",
        "sign an approval of REV's content and store it in the repository",
        _EPILOG,
        description="Sign an in-toto approval of REV's content (commit and tree) for REF and "
        "store it under refs/twokey/evidence/.",
    )
    parser.add_argument(
        "rev", nargs="?", default="HEAD", help="revision whose content to approve (default: HEAD)"
    )
    parser.add_argument(
        "--ref",
        default=None,
        help="the protected ref it may land on; a name without refs/ means refs/heads/NAME, "
        "HEAD the branch HEAD names (default: the repository's default branch, see below)",
    )
    parser.add_argument(
        "--repository",
        help="repository id (default: twokey.repository "
        "config, else the origin URL, else the directory name)",
    )
    parser.add_argument("--comment", default="", help="a note for the record (signed with it)")
    parser.add_argument(
        "--push",
        nargs="?",
        const="origin",
        metavar="REMOTE",
        help="push the evidence refs to REMOTE (default origin)",
    )
    add_signing(parser)
    add_format(parser)
    parser.set_defaults(handler=_approve)


def _approve(args: argparse.Namespace) -> int:
    git = repo_at(args.repo)
    commit = commit_of(git, args.rev)
    tree = tree_of(git, commit)
    target = protected_ref(git, args.ref)
    signer = signer_from(args, git)
    repository = args.repository or repository_id(git.git_dir)
    envelope = sign_approval(
        signer,
        repository=repository,
        ref=target,
        commit=commit,
        tree=tree,
        when=datetime.now(UTC),
        comment=args.comment,
    )
    ref = GitEvidenceStore(git.git_dir).put(envelope, commit)
    if args.push:
        git.run("push", "--quiet", args.push, f"{ref}:{ref}")
    result = {
        "ref": ref,
        "repository": repository,
        "target_ref": target,
        "commit": commit,
        "tree": tree,
        "signer": fingerprint(signer.public_key),
        "pushed": bool(args.push),
    }
    if args.format == "json":
        print_json(result)
    else:
        print(f"approved {commit[:7]} (tree {tree[:7]}) for {target} in {repository}")
        print(f"  signed by {fingerprint(signer.public_key)}; stored as {ref}")
        if not args.push:
            print("  publish it: git push origin 'refs/twokey/*:refs/twokey/*'")
    return ExitCode.ALLOW

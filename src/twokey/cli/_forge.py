"""``twokey forge import``: merged pull/merge requests and their reviews, for the audit."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime

from twokey.cli._output import (
    Subparsers,
    add_command,
    add_format,
    exit_codes,
    help_handler,
    print_json,
)
from twokey.cli._revs import repo_at
from twokey.errors import ExitCode, UsageError
from twokey.forge import (
    GITHUB_API,
    GITLAB_API,
    GitHubApi,
    GitLabApi,
    github_auth,
    gitlab_auth,
    import_history,
)

_EPILOG = f"""\
examples:
  twokey forge import --github octo/app --since 2026-01-01
  twokey forge import --gitlab group/sub/app --since 2026-01-01 --api-url https://git.corp/api/v4
  twokey audit --since 2026-01-01        # the imported reviews count, with trust: forge

Credentials come from the environment: TWOKEY_GITHUB_TOKEN (or a GitHub App:
TWOKEY_GITHUB_APP_ID, TWOKEY_GITHUB_APP_KEY, TWOKEY_GITHUB_INSTALLATION_ID), TWOKEY_GITLAB_TOKEN.
What is read is kept in $GIT_DIR/twokey/forge/; a second run reads only what changed since.
For squash merges, fetch the reviewed heads too: git fetch origin '+refs/pull/*/head:refs/pull/*'
{exit_codes("imported", bad="a bad repository name or date, no credentials")}"""


def register(subparsers: Subparsers) -> None:
    """Register ``twokey forge``."""
    parser = add_command(
        subparsers,
        "forge",
        "import merged pull/merge requests and their reviews from GitHub or GitLab",
        _EPILOG,
        description="Read what a forge knows about the history, for twokey audit.",
    )
    commands = parser.add_subparsers(title="forge commands", metavar="COMMAND")
    imp = add_command(
        commands,
        "import",
        "read merged PRs/MRs and their approvals into $GIT_DIR/twokey/forge/",
        _EPILOG,
        description="Read the merged pull requests (GitHub) or merge requests (GitLab) "
        "updated since a date, with their approvals, into the repository's forge evidence "
        "(trust: forge). Resumable: what was imported is not read again.",
    )
    which = imp.add_mutually_exclusive_group(required=True)
    which.add_argument("--github", metavar="OWNER/REPO", help="a GitHub repository")
    which.add_argument("--gitlab", metavar="GROUP/PROJECT", help="a GitLab project")
    imp.add_argument("--since", required=True, help="ISO date or time, e.g. 2026-01-01 (UTC)")
    imp.add_argument(
        "--api-url",
        help=f"API root for GitHub Enterprise or self-managed GitLab (default: {GITHUB_API}, "
        f"{GITLAB_API})",
    )
    imp.add_argument("--repo", default=".", help="the clone to import into (default: .)")
    add_format(imp)
    imp.set_defaults(handler=_import)
    parser.set_defaults(handler=help_handler(parser))


def _since(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--since {text!r}: not an ISO date or time (2026-01-01)") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _import(args: argparse.Namespace) -> int:
    since = _since(args.since)
    git = repo_at(args.repo)
    if args.github:
        forge, repo, url = "github", args.github, args.api_url or GITHUB_API
        client: GitHubApi | GitLabApi = GitHubApi(github_auth(os.environ, url), url)
    else:
        forge, repo, url = "gitlab", args.gitlab, args.api_url or GITLAB_API
        client = GitLabApi(gitlab_auth(os.environ), url)
    try:
        report = import_history(
            client, git.git_dir, forge=forge, repo=repo, api_url=url, since=since
        )
    finally:
        client.close()
    if args.format == "json":
        print_json(report.to_dict())
    else:
        print(
            f"{report.path}: {report.listed} merged request(s) listed, {report.imported} "
            f"imported ({report.approvals} approval(s)), {report.unchanged} already imported"
        )
    return ExitCode.ALLOW

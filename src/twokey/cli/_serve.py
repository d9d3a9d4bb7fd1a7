"""``twokey serve``: run the gateway (an ASGI service under uvicorn)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twokey.cli._output import Subparsers, add_command, exit_codes
from twokey.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from twokey.gateway import GatewayConfig

_EPILOG = f"""\
examples:
  twokey serve --demo                                   # a sample organisation; open the URL
  twokey serve --repo /srv/git/shop.git                 # SQLite in ./twokey-gateway/
  twokey serve --repo /srv/git/shop.git --data /var/lib/twokey --port 8080
  twokey serve --repo /srv/git/shop.git --workers 4 \\
      --database postgresql://twokey@db/twokey --key /etc/twokey/ledger.key
  twokey serve --repo /srv/git/shop.git --run 'production=/srv/deploy/prod.sh'

--demo builds a sample company (keys, policy, a repository with signed evidence) in a new
temporary directory (or --data DIR, reused when run again), asks for deploy requests (one ready
to approve, others blocked for each main reason, a break-glass exception) and prints the URL
and a one-time sign-in code per person.
The gateway keeps nothing but its database: any number of processes (--workers, or several
hosts) serve one PostgreSQL database; they must share the signing key (--key).
Single sign-on's client secret comes from TWOKEY_OIDC_CLIENT_SECRET:
  twokey serve --repo shop.git --base-url https://twokey.example.com \
      --oidc-issuer https://login.example.com --oidc-client-id twokey
Forges (docs/forges.md): webhooks at POST /v1/forge/github and /v1/forge/gitlab, secrets
from TWOKEY_GITHUB_WEBHOOK_SECRET and TWOKEY_GITLAB_WEBHOOK_TOKEN (unset: that forge's
deliveries are all refused); --github OWNER/REPO names the repository --repo mirrors; API
credentials from TWOKEY_GITHUB_TOKEN (or TWOKEY_GITHUB_APP_ID, TWOKEY_GITHUB_APP_KEY,
TWOKEY_GITHUB_INSTALLATION_ID) and TWOKEY_GITLAB_TOKEN.
  twokey serve --repo /srv/mirrors/shop.git --github octo/shop
Endpoints: /docs (OpenAPI), /healthz, /readyz, /metrics, /v1/checks, /v1/evidence,
/v1/deploys, /ledger/v1/ (the public log as tlog-tiles); see docs/gateway.md.
{exit_codes("stopped cleanly", bad="a bad option, an unusable data directory or port")}"""


def register(subparsers: Subparsers) -> None:
    """Register ``twokey serve``."""
    parser = add_command(
        subparsers,
        "serve",
        "run the gateway: deploy requests, approvals, checks, the web UI and the ledger",
        _EPILOG,
        description="Serve the gateway over HTTP until interrupted. Every decision is made by "
        "the engine with the policy on the repository's protected default branch and recorded "
        "in the ledger (in the gateway's database) before it takes effect.",
    )
    parser.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="the data directory: the SQLite database and the signing key "
        "(default: ./twokey-gateway, created when missing; with --demo a new temporary one)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="serve a sample organisation, repository and deploy requests; print the URL "
        "and a sign-in code per person (see docs/gateway.md, Quick start)",
    )
    parser.add_argument(
        "--database",
        default="",
        metavar="URL",
        help="postgresql://... (or sqlite:///path) instead of DIR/gateway.db",
    )
    parser.add_argument(
        "--repo",
        type=Path,
        metavar="GIT-DIR",
        help="the repository judged: its protected default branch holds the trusted policy",
    )
    parser.add_argument(
        "--repository",
        default="",
        metavar="ID",
        help="the repository's id in evidence (default: git config twokey.repository, "
        "else the directory name)",
    )
    parser.add_argument(
        "--key",
        type=Path,
        metavar="FILE",
        help="the gateway's signing key (default DIR/ledger.key, created on first start); "
        "every process of one gateway must use the same one",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N", help="worker processes (default 1)"
    )
    parser.add_argument(
        "--base-url",
        default="",
        metavar="URL",
        help="the URL people reach the gateway at, for links (default http://HOST:PORT)",
    )
    _deploy_options(parser)
    parser.add_argument(
        "--oidc-issuer",
        default="",
        metavar="URL",
        help="single sign-on: the OpenID Connect provider (its discovery document is at "
        "URL/.well-known/openid-configuration); people map to it by their sso: alias",
    )
    parser.add_argument(
        "--oidc-client-id", default="", metavar="ID", help="this gateway's client id there"
    )
    parser.add_argument(
        "--oidc-claim",
        default="email",
        metavar="CLAIM",
        help="the ID token claim matched against sso: aliases (default email; an email "
        "counts only when email_verified is true)",
    )
    _forge_options(parser)
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=("critical", "error", "warning", "info", "debug"),
        help="uvicorn's log level (default warning)",
    )
    parser.set_defaults(handler=_serve)


def _deploy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run",
        action="append",
        default=[],
        metavar="ENV=COMMAND",
        help="once a deploy to ENV is authorized, the gateway runs COMMAND itself (sh -c; "
        "DEPLOY_* variables name the deploy); repeat for each environment",
    )
    parser.add_argument(
        "--run-timeout",
        type=int,
        default=600,
        metavar="SECONDS",
        help="kill a --run command's process group after this long (default 600)",
    )
    parser.add_argument(
        "--deploy-ttl",
        type=int,
        default=900,
        metavar="SECONDS",
        help="how long a deploy authorization is valid (default 900)",
    )


def _deploy_extra(args: argparse.Namespace) -> dict[str, object]:
    """``--run``, ``--run-timeout`` and ``--deploy-ttl`` as the configuration's ``extra``."""
    runs: dict[str, str] = {}
    for item in args.run:
        env, sep, command = item.partition("=")
        if not sep or not env.strip() or not command.strip():
            raise UsageError(f"--run {item!r}: expected ENV=COMMAND")
        if env in runs:
            raise UsageError(f"--run: environment {env!r} named twice")
        runs[env.strip()] = command
    if args.run_timeout < 1 or args.deploy_ttl < 1:
        raise UsageError("--run-timeout and --deploy-ttl must be at least 1 second")
    return {"run": runs, "run_timeout": args.run_timeout, "deploy_ttl": args.deploy_ttl}


def _forge_options(parser: argparse.ArgumentParser) -> None:
    forges = parser.add_argument_group("forges (docs/forges.md)")
    forges.add_argument(
        "--github",
        default="",
        metavar="OWNER/REPO",
        help="the GitHub repository that --repo mirrors: its pull requests and deployments are "
        "judged (deliveries for others are only recorded)",
    )
    forges.add_argument(
        "--gitlab", default="", metavar="GROUP/PROJECT", help="the same for a GitLab project"
    )
    forges.add_argument(
        "--github-api-url",
        default="",
        metavar="URL",
        help="GitHub's API root (default https://api.github.com; GitHub Enterprise: "
        "https://HOST/api/v3)",
    )
    forges.add_argument(
        "--gitlab-api-url",
        default="",
        metavar="URL",
        help="GitLab's API root (default https://gitlab.com/api/v4)",
    )
    forges.add_argument(
        "--forge-reevaluate",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how often deployments waiting for an operator are judged again (default 60)",
    )


def _forge_config(args: argparse.Namespace) -> dict[str, Any]:
    from twokey.forge import check_repository  # noqa: PLC0415

    for name in ("github", "gitlab"):
        value = getattr(args, name)
        if value:
            check_repository(value)
    if args.forge_reevaluate <= 0:
        raise UsageError("--forge-reevaluate must be a positive number of seconds")
    return {
        "github_repository": args.github,
        "gitlab_repository": args.gitlab,
        "github_api_url": args.github_api_url.rstrip("/"),
        "gitlab_api_url": args.gitlab_api_url.rstrip("/"),
        "forge_reevaluate": args.forge_reevaluate,
    }


def _config(args: argparse.Namespace) -> GatewayConfig:
    from twokey.gateway import GatewayConfig  # noqa: PLC0415 - FastAPI is slow to import

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.repo is not None and not args.repo.is_dir():
        raise UsageError(f"--repo {args.repo}: not a directory")
    if args.demo and args.repo is not None:
        raise UsageError("--demo serves its own sample repository: leave out --repo")
    if args.data is None:
        args.data = (
            Path(tempfile.mkdtemp(prefix="twokey-demo-")) if args.demo else Path("twokey-gateway")
        )
    data = args.data.resolve()
    try:
        data.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise UsageError(f"cannot create the data directory {data}: {exc.strerror}") from exc
    base_url = args.base_url or f"http://{args.host}:{args.port}"
    if bool(args.oidc_issuer) != bool(args.oidc_client_id):
        raise UsageError("single sign-on needs both --oidc-issuer and --oidc-client-id")
    return GatewayConfig(
        data=data,
        database=args.database,
        repo=args.repo.resolve() if args.repo else None,
        repository=args.repository,
        key=args.key.resolve() if args.key else None,
        base_url=base_url.rstrip("/"),
        extra=_deploy_extra(args),
        oidc_issuer=args.oidc_issuer.rstrip("/"),
        oidc_client_id=args.oidc_client_id,
        oidc_claim=args.oidc_claim,
        **_forge_config(args),
    ).with_environment(os.environ)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415

    from twokey.gateway import CONFIG_ENV  # noqa: PLC0415

    config = _config(args)
    if args.demo:
        config = _demo(config)
    os.environ[CONFIG_ENV] = config.to_json()
    metrics = _metrics_dir(config.data) if args.workers > 1 else None
    print(
        f"twokey gateway on {config.base_url} (OpenAPI at /docs; Ctrl-C stops it)",
        file=sys.stderr,
        flush=True,
    )
    try:
        uvicorn.run(
            "twokey.gateway._app:app_from_environment",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=args.log_level,
            access_log=False,
            lifespan="on",
        )
    finally:
        if metrics is not None:
            shutil.rmtree(metrics, ignore_errors=True)
    return ExitCode.ALLOW


def _demo(config: GatewayConfig) -> GatewayConfig:
    """Build and seed the sample organisation; print where to sign in and with which code."""
    from twokey.gateway import prepare_demo, seed_demo, sign_in_codes  # noqa: PLC0415

    print(f"building the demo in {config.data} ...", flush=True)
    demo = prepare_demo(config.data, datetime.now(UTC))
    config = dataclasses.replace(config, repo=demo.repo, repository="")
    requests = seed_demo(config, demo)
    codes = sign_in_codes(config, ["dave", "alice", "carol", "erin"])
    print(f"\ntwokey demo gateway: open {config.base_url}/login and sign in with a code\n")
    roles = {
        "dave": "operator: approve the ready deploy",
        "alice": "developer: wrote the release, may not approve it",
        "carol": "operator and reviewer: her own release's approval does not count",
        "erin": "admin: may review the break-glass exception",
    }
    for person, code in codes.items():
        print(f"  {person:6} {code}   {roles[person]}")
    print(
        f"\nEach code works once, for 5 minutes. A new one, with the demo's key of that person:\n"
        f"  twokey login --gateway {config.base_url} --ssh-key {demo.keys / 'dave'} --browser\n"
        f"{len(requests)} deploy requests; repository {demo.repo}; data in {config.data}\n",
        flush=True,
    )
    return config


def _metrics_dir(data: Path) -> Path:
    """A fresh directory for prometheus-client's multiprocess files (one per ``serve``), named
    in ``$PROMETHEUS_MULTIPROC_DIR`` before any worker starts, so ``/metrics`` sums them all."""
    path = Path(tempfile.mkdtemp(prefix="metrics-", dir=data))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path

"""The forges inside a gateway process: the webhook receiver's parts, the outbox worker, and
the re-evaluation of deployments that wait for an operator (docs/forges.md, ADR 0029).

One :class:`ForgeService` per process, started by the routes' ``setup`` and stopped by their
``shutdown``:

1. deliveries are received by ``twokey.forge.Receiver`` with the gateway's secrets, its forge
   store (delivery ids, reviews, pending deployments), a ``BatchedLedger`` (group commit: the
   request threads share one durable transaction) and ``ForgeEffects`` on the mirror ``--repo``;
2. what the forge must be told (commit statuses, deployment reviews) is only queued in the
   durable outbox (``twokey_forge_outbox``, same database); a daemon thread (``OutboxWorker``)
   claims each row under a lease and calls the forge's API, off the request path. Claiming is
   one atomic statement (PostgreSQL: ``FOR UPDATE SKIP LOCKED``), so with any number of
   processes a row is performed by one of them; the lease outlasts the slowest call the API
   client can make (its retries included), so a slow call is never claimed a second time;
3. a second daemon thread judges pending deployments again every ``forge_reevaluate`` seconds;
   one process per period does it (a row of ``twokey_forge_timers`` taken atomically), so the
   ledger does not get one decision per process per period;
4. :func:`on_operator_approval` (the gateway's deploy approvals) judges at once the pending
   deployments of that repository, environment and commit, with the gateway's approvals
   counting, and answers the forge of each decided one exactly once.
"""

from __future__ import annotations

__all__ = [
    "ForgeService",
    "deploy_service_approvals",
    "forge_service",
    "on_operator_approval",
    "set_approvals_source",
]

import logging
import os
import subprocess
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from twokey.errors import ConfigError, TwokeyError, UsageError
from twokey.forge import (
    GITHUB_API,
    GITLAB_API,
    BatchedLedger,
    ForgeClient,
    ForgeEffects,
    GitHubApi,
    GitLabApi,
    Mirror,
    Outbox,
    OutboxActions,
    OutboxWorker,
    Receipt,
    Receiver,
    RetryPolicy,
    WebhookSecrets,
    github_auth,
    gitlab_auth,
    reevaluate_pending,
)
from twokey.gateway._metrics import observe_decision

if TYPE_CHECKING:
    from twokey.forge import (
        CommitStatus,
        DeployAnswer,
        DeploymentReview,
        PendingDeployment,
    )
    from twokey.gateway._config import GatewayConfig
    from twokey.gateway._state import Gateway
    from twokey.model import Decision, DeployApproval

log = logging.getLogger("twokey.gateway.forge")

# The gateway's own deploy approvals for a pending deployment (set by its deploy service).
ApprovalsSource = Callable[["PendingDeployment"], Sequence["DeployApproval"]]

_TIMERS = """CREATE TABLE IF NOT EXISTS twokey_forge_timers (
    name TEXT PRIMARY KEY, due DOUBLE PRECISION NOT NULL)"""
_REEVALUATE = "reevaluate-pending"
_RETRY = RetryPolicy()
# Longer than the slowest call the API client makes: every attempt timing out on connect,
# write and read, and the longest wait between attempts; plus a margin.
_LEASE = _RETRY.attempts * 3 * _RETRY.timeout + (_RETRY.attempts - 1) * _RETRY.max_wait + 120
_DEPLOY_DOOR = "forge-deployment"

_SERVICES: weakref.WeakKeyDictionary[Gateway, ForgeService] = weakref.WeakKeyDictionary()


class _Queued:
    """``ForgeActions`` that queue each call in the outbox, for the forge it concerns."""

    def __init__(self, outbox: Outbox) -> None:
        self._by = {forge: OutboxActions(outbox, forge) for forge in ("github", "gitlab")}

    def set_status(self, status: CommitStatus) -> None:
        self._by[status.forge].set_status(status)

    def review_deployment(self, review: DeploymentReview) -> None:
        self._by[review.forge].review_deployment(review)


class ForgeService:
    """The receiver, the outbox and its worker, the re-evaluation timer of one process."""

    def __init__(
        self,
        gateway: Gateway,
        clients: Mapping[str, ForgeClient] | None = None,
        *,
        poll: float = 0.2,
    ) -> None:
        config = gateway.config
        self.gateway = gateway
        self.url = config.database_url
        gateway.create_tables([*Outbox.tables(gateway.db.postgres), _TIMERS])
        self.outbox = Outbox(self.url, lease=_LEASE)
        plain = _mirrors(config, gateway.repository)
        # The repository id of each forge repository, read without fetching its mirror.
        self.repositories = {key: mirror.repository for key, mirror in plain.items()}
        fetched = config.repo is not None and bool(plain) and _has_origin(config.repo)
        self.mirrors: Mapping[tuple[str, str], Mirror] = (
            _FetchedMirrors(plain) if fetched else plain
        )
        self.actions = _Queued(self.outbox)
        self.key = str(config.key_path)  # decisions sign a checkpoint with the gateway's key
        # Group commit; a signed checkpoint at most once a second; on SQLite the store's writes
        # in this process wait on the ledger's commit through a Python lock, not in SQLite's
        # sleeping busy handler (bench/forge-webhooks.md: 373/s -> 584/s over HTTP).
        lock = None if gateway.db.postgres else gateway.db.lock
        self.ledger = BatchedLedger(self.url, gateway.signer, sign_every=1.0, lock=lock)
        self.clients = dict(clients) if clients is not None else _clients(config, os.environ)
        self.worker = OutboxWorker(self.outbox, self.clients, poll=poll)
        self.interval = config.forge_reevaluate
        self.approvals: ApprovalsSource | None = None
        effects = ForgeEffects(
            gateway.store,
            self.mirrors,
            self.actions,
            self.url,
            config.base_url,
            self.key,
            observe=observe_decision,
        )
        secrets = WebhookSecrets(config.github_secret, config.gitlab_token)
        self.receiver = Receiver(secrets, gateway.store, self.ledger.append, effects)
        self._stop = threading.Event()
        self._started = False
        self._timer = threading.Thread(target=self._tick, name="twokey-forge-timer", daemon=True)

    def start(self) -> None:
        """Start the ledger's writer, the outbox worker and the re-evaluation timer."""
        self.ledger.__enter__()
        self._started = True
        self.worker.start()
        self._timer.start()

    def stop(self) -> None:
        """Stop the threads (each after its current step) and close the connections."""
        self._stop.set()
        if self._started:
            self.worker.stop()
            self._timer.join(10)
            self.ledger.__exit__(None, None, None)
        for client in self.clients.values():
            close = getattr(client, "close", None)
            if close is not None:
                close()
        self.outbox.close()

    def receive(self, forge: str, headers: Mapping[str, str], body: bytes) -> Receipt:
        """One delivery, at the gateway's clock (never the forge's)."""
        return self.receiver.receive(forge, headers, body, self.gateway.now())

    def reevaluate(
        self,
        only: Callable[[PendingDeployment], bool] | None = None,
        given: Sequence[DeployApproval] = (),
    ) -> list[DeployAnswer]:
        """Judge pending deployments again (those ``only`` selects), with the gateway's
        approvals (its source's and ``given``); decided ones are answered once."""
        source = self.approvals

        def approvals(pending: PendingDeployment) -> Sequence[DeployApproval]:
            found = list(source(pending)) if source is not None else []
            return [*found, *given]

        answers = reevaluate_pending(
            self.mirrors,
            self.gateway.store,
            self.actions,
            self.gateway.now(),
            self.url,
            self.key,
            approvals=approvals,
            only=only,
        )
        for answer in answers:
            observe_decision(_DEPLOY_DOOR, answer.decision)
        return answers

    def _tick(self) -> None:
        """Step 3: every period, one process judges the pending deployments again."""
        while not self._stop.wait(min(self.interval, 5.0)):
            try:
                if _take_turn(self.gateway, _REEVALUATE, self.interval):
                    self.reevaluate()
            except TwokeyError as exc:  # the database or the mirror: try again next period
                if self._stop.is_set():
                    return  # the process is stopping: its connections are closing
                log.warning("re-evaluating pending forge deployments failed: %s", exc.message)
            except Exception:  # never let the timer die: the next period tries again
                log.exception("re-evaluating pending forge deployments failed")


def _take_turn(gateway: Gateway, name: str, interval: float) -> bool:
    """True for the one process whose atomic update moves the timer a period ahead."""
    now = time.time()
    db = gateway.db
    db.execute(
        "INSERT INTO twokey_forge_timers (name, due) VALUES (?, 0) ON CONFLICT DO NOTHING",
        (name,),
    )
    moved = db.execute(
        "UPDATE twokey_forge_timers SET due = ? WHERE name = ? AND due <= ?",
        (now + interval * 0.9, name, now),
    )
    return moved == 1


def _mirrors(config: GatewayConfig, repository: str) -> dict[tuple[str, str], Mirror]:
    """``--repo`` as the mirror of ``--github`` and ``--gitlab`` (named ``repository``)."""
    if config.repo is None:
        return {}
    mirror = Mirror(config.repo, repository)
    named = {"github": config.github_repository, "gitlab": config.gitlab_repository}
    return {(forge, name): mirror for forge, name in named.items() if name}


def _has_origin(repo: Path) -> bool:
    found = subprocess.run(
        ["git", "--git-dir", str(repo), "config", "--get", "remote.origin.url"],
        capture_output=True,
        check=False,
        env=_git_env(),
    )
    return found.returncode == 0 and bool(found.stdout.strip())


def _git_env() -> dict[str, str]:
    """The process's environment without git's repository variables (they would win)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}


class _FetchedMirrors(Mapping[tuple[str, str], Mirror]):
    """Mirrors with a remote ``origin`` (``git clone --mirror`` of the forge's repository),
    fetched before each use: a pull request's new head, its base and the policy on it are then
    the forge's own when the delivery is judged. Callers waiting while a fetch runs share the
    next one (one that started after they asked); a failed fetch is logged and the mirror is
    used as it is (a head it lacks gives an ``error`` status, never a success)."""

    def __init__(self, mirrors: Mapping[tuple[str, str], Mirror], timeout: float = 120.0) -> None:
        self._mirrors = dict(mirrors)
        self._timeout = timeout
        self._lock = threading.Lock()
        self._fetched = float("-inf")  # when the last fetch started

    def __getitem__(self, key: tuple[str, str]) -> Mirror:
        mirror = self._mirrors[key]
        self._fetch(mirror)
        return mirror

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._mirrors)

    def __len__(self) -> int:
        return len(self._mirrors)

    def _fetch(self, mirror: Mirror) -> None:
        asked = time.monotonic()
        with self._lock:
            if self._fetched >= asked:
                return  # a fetch that started after we asked has just completed
            self._fetched = time.monotonic()
            argv = ["git", "--git-dir", str(mirror.git_dir), "fetch", "--quiet", "origin"]
            try:
                done = subprocess.run(
                    argv, capture_output=True, timeout=self._timeout, check=False, env=_git_env()
                )
            except subprocess.TimeoutExpired:
                log.warning("git fetch of %s timed out", mirror.git_dir)
                return
            if done.returncode != 0:
                error = done.stderr.decode(errors="replace").strip()[:300]
                log.warning("git fetch of %s failed: %s", mirror.git_dir, error)


def _clients(config: GatewayConfig, env: Mapping[str, str]) -> dict[str, ForgeClient]:
    """The API clients whose credentials are configured (the environment, as ``twokey forge
    import`` reads it); a forge without them keeps its outbox rows until they are."""
    clients: dict[str, ForgeClient] = {}
    github = config.github_api_url or GITHUB_API
    gitlab = config.gitlab_api_url or GITLAB_API
    makers: dict[str, Callable[[], ForgeClient]] = {
        "github": lambda: GitHubApi(github_auth(env, github), github, _RETRY),
        "gitlab": lambda: GitLabApi(gitlab_auth(env), gitlab, _RETRY),
    }
    for forge, make in makers.items():
        try:
            clients[forge] = make()
        except ConfigError as exc:
            log.info("no %s API client: %s", forge, exc.message)
    return clients


def forge_service(gateway: Gateway) -> ForgeService:
    """The process's forge service (started by the routes' ``setup``).

    Raises:
        ConfigError: the forge feature was not set up in this process.
    """
    service = _SERVICES.get(gateway)
    if service is None:
        raise ConfigError("the gateway's forge service is not running")
    return service


def register(gateway: Gateway, service: ForgeService) -> None:
    """Make ``service`` the process's forge service."""
    _SERVICES[gateway] = service


def unregister(gateway: Gateway) -> ForgeService | None:
    """Forget the process's forge service; returns it (None when there was none)."""
    return _SERVICES.pop(gateway, None)


# Operators' approvals of the gateway's deploy requests (``_deploys``) for one artifact,
# environment, commit and repository; a rejected or cancelled request's approvals never count.
_DEPLOY_APPROVALS = """SELECT a.deploy, a.person, a.time FROM twokey_gateway_deploy_approvals a
    JOIN twokey_gateway_deploys d ON d.id = a.deploy
    WHERE d.repository = ? AND d.environment = ? AND d.commit_sha = ? AND d.artifact = ?
      AND d.state NOT IN ('rejected', 'cancelled') ORDER BY a.time, a.person"""


def deploy_service_approvals(
    gateway: Gateway, repositories: Mapping[tuple[str, str], str]
) -> ApprovalsSource:
    """The approvals operators gave in the gateway's deploy requests, as deploy approvals
    (trust ``forge``, as the deploy service counts them) for a pending forge deployment of the
    same artifact, environment, commit and repository. The engine checks each one against the
    forge deployment (its deployer, the environment's approvers) as for any approval."""
    from datetime import datetime  # noqa: PLC0415

    from twokey.doors import parse_identity  # noqa: PLC0415
    from twokey.model import DeployApproval, TrustLevel  # noqa: PLC0415

    def source(pending: PendingDeployment) -> list[DeployApproval]:
        repository = repositories.get((pending.forge, pending.repository))
        if repository is None:
            return []
        key = (repository, pending.environment, pending.commit, pending.artifact)
        rows = gateway.db.rows(_DEPLOY_APPROVALS, key)
        if not rows:
            return []
        policy = gateway.policy().policy
        found = []
        for deploy, person, when in rows:
            try:  # someone the policy no longer names approves nothing
                signer = parse_identity(str(person), policy, "approver")
            except UsageError:
                continue
            found.append(
                DeployApproval(
                    pending.artifact,
                    pending.environment,
                    pending.commit,
                    signer,
                    datetime.fromisoformat(str(when)),
                    TrustLevel.FORGE,
                    f"gateway:{deploy}:{person}",
                    repository=repository,
                )
            )
        return found

    return source


def set_approvals_source(gateway: Gateway, source: ApprovalsSource) -> None:
    """Where the gateway's deploy service keeps its operators' approvals: asked for each
    pending deployment whenever one is judged again (periodically and on approval)."""
    forge_service(gateway).approvals = source


def on_operator_approval(
    gateway: Gateway,
    repository: str,
    environment: str,
    commit: str,
    approvals: Sequence[DeployApproval] = (),
) -> list[Decision]:
    """An operator approved deploying ``commit`` of ``repository`` (the gateway's id) to
    ``environment`` in the gateway: judge the forge deployments waiting for that at once, with
    ``approvals`` (and the approvals source's) counting; each decided one is answered once.

    Called after the deploy service recorded the approval. A failure here is logged, not
    raised: the approval stands, and the periodic re-evaluation answers the forge later.
    Returns the decisions taken (empty when nothing waited, or on a failure).
    """
    service = _SERVICES.get(gateway)
    if service is None:
        return []

    def waiting(pending: PendingDeployment) -> bool:
        return (
            service.repositories.get((pending.forge, pending.repository)) == repository
            and pending.environment == environment
            and pending.commit == commit
        )

    try:
        return [a.decision for a in service.reevaluate(waiting, approvals)]
    except TwokeyError as exc:
        log.warning("forge deployments of %s not re-evaluated: %s", commit[:12], exc.message)
        return []

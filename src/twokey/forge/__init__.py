"""Forge adapters: GitHub and GitLab webhooks, API clients, the outbox and the history import.

Webhook deliveries become recorded deliveries, evidence and verdicts: the receiver
(``Receiver``) is independent of any web framework; the gateway's route hands it the headers and
the raw body and answers with the status it returns. Outgoing calls (commit statuses,
deployment reviews) go through ``ForgeActions``; the outbox queues them and its worker makes
them with each forge's ``ForgeClient`` (GitHub's and GitLab's REST APIs), off the request path.
Names are imported on first use (PEP 562), as in ``twokey.doors``.
"""

from __future__ import annotations

# Not ``typing.TYPE_CHECKING``: see twokey.doors.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from twokey.forge._actions import (
        STATUS_CONTEXT,
        CommitStatus,
        DeploymentReview,
        ForgeActions,
        ForgeClient,
        MergedChange,
        ReviewRecord,
        check_repository,
        check_sha,
        summary,
    )
    from twokey.forge._approvals import forge_approvals
    from twokey.forge._batch import BatchedLedger
    from twokey.forge._db import Database, open_database
    from twokey.forge._deployments import DeployAnswer, judge_deployment, reevaluate_pending
    from twokey.forge._effects import ForgeEffects
    from twokey.forge._events import (
        CheckEvent,
        DeploymentEvent,
        ForgeEvent,
        Login,
        PayloadError,
        Ping,
        PullRequestEvent,
        PushEvent,
        ReviewEvent,
        parse_event,
    )
    from twokey.forge._github_api import GITHUB_API, AppCredentials, GitHubApi, github_auth
    from twokey.forge._gitlab_api import GITLAB_API, GitLabApi, gitlab_auth
    from twokey.forge._http import ForgeApiError, ForgeHttp, RetryPolicy
    from twokey.forge._import import ImportReport, import_history
    from twokey.forge._judge import Mirror, Verdict, judge_change
    from twokey.forge._outbox import Outbox, OutboxActions, OutboxItem, OutboxWorker
    from twokey.forge._receiver import Handler, Receipt, Receiver
    from twokey.forge._store import (
        ChangeState,
        DeliveryLog,
        ForgeReview,
        ForgeStore,
        PendingDeployment,
    )
    from twokey.forge._webhooks import (
        MAX_BODY_BYTES,
        Delivery,
        Refusal,
        WebhookSecrets,
        verify_delivery,
    )

_LAZY = {
    "AppCredentials": "twokey.forge._github_api",
    "BatchedLedger": "twokey.forge._batch",
    "ChangeState": "twokey.forge._store",
    "Database": "twokey.forge._db",
    "open_database": "twokey.forge._db",
    "CheckEvent": "twokey.forge._events",
    "CommitStatus": "twokey.forge._actions",
    "Delivery": "twokey.forge._webhooks",
    "DeliveryLog": "twokey.forge._store",
    "DeployAnswer": "twokey.forge._deployments",
    "DeploymentEvent": "twokey.forge._events",
    "DeploymentReview": "twokey.forge._actions",
    "ForgeActions": "twokey.forge._actions",
    "ForgeApiError": "twokey.forge._http",
    "ForgeClient": "twokey.forge._actions",
    "ForgeEffects": "twokey.forge._effects",
    "ForgeEvent": "twokey.forge._events",
    "ForgeHttp": "twokey.forge._http",
    "ForgeReview": "twokey.forge._store",
    "ForgeStore": "twokey.forge._store",
    "GITHUB_API": "twokey.forge._github_api",
    "GITLAB_API": "twokey.forge._gitlab_api",
    "GitHubApi": "twokey.forge._github_api",
    "GitLabApi": "twokey.forge._gitlab_api",
    "Handler": "twokey.forge._receiver",
    "ImportReport": "twokey.forge._import",
    "Login": "twokey.forge._events",
    "MAX_BODY_BYTES": "twokey.forge._webhooks",
    "MergedChange": "twokey.forge._actions",
    "Mirror": "twokey.forge._judge",
    "Outbox": "twokey.forge._outbox",
    "OutboxActions": "twokey.forge._outbox",
    "OutboxItem": "twokey.forge._outbox",
    "OutboxWorker": "twokey.forge._outbox",
    "PayloadError": "twokey.forge._events",
    "PendingDeployment": "twokey.forge._store",
    "Ping": "twokey.forge._events",
    "PullRequestEvent": "twokey.forge._events",
    "PushEvent": "twokey.forge._events",
    "Receipt": "twokey.forge._receiver",
    "Receiver": "twokey.forge._receiver",
    "Refusal": "twokey.forge._webhooks",
    "RetryPolicy": "twokey.forge._http",
    "ReviewEvent": "twokey.forge._events",
    "ReviewRecord": "twokey.forge._actions",
    "STATUS_CONTEXT": "twokey.forge._actions",
    "Verdict": "twokey.forge._judge",
    "WebhookSecrets": "twokey.forge._webhooks",
    "check_repository": "twokey.forge._actions",
    "check_sha": "twokey.forge._actions",
    "forge_approvals": "twokey.forge._approvals",
    "github_auth": "twokey.forge._github_api",
    "gitlab_auth": "twokey.forge._gitlab_api",
    "import_history": "twokey.forge._import",
    "judge_change": "twokey.forge._judge",
    "judge_deployment": "twokey.forge._deployments",
    "parse_event": "twokey.forge._events",
    "reevaluate_pending": "twokey.forge._deployments",
    "summary": "twokey.forge._actions",
    "verify_delivery": "twokey.forge._webhooks",
}

__all__ = [
    "GITHUB_API",
    "GITLAB_API",
    "MAX_BODY_BYTES",
    "STATUS_CONTEXT",
    "AppCredentials",
    "BatchedLedger",
    "ChangeState",
    "CheckEvent",
    "CommitStatus",
    "Database",
    "Delivery",
    "DeliveryLog",
    "DeployAnswer",
    "DeploymentEvent",
    "DeploymentReview",
    "ForgeActions",
    "ForgeApiError",
    "ForgeClient",
    "ForgeEffects",
    "ForgeEvent",
    "ForgeHttp",
    "ForgeReview",
    "ForgeStore",
    "GitHubApi",
    "GitLabApi",
    "Handler",
    "ImportReport",
    "Login",
    "MergedChange",
    "Mirror",
    "Outbox",
    "OutboxActions",
    "OutboxItem",
    "OutboxWorker",
    "PayloadError",
    "PendingDeployment",
    "Ping",
    "PullRequestEvent",
    "PushEvent",
    "Receipt",
    "Receiver",
    "Refusal",
    "RetryPolicy",
    "ReviewEvent",
    "ReviewRecord",
    "Verdict",
    "WebhookSecrets",
    "check_repository",
    "check_sha",
    "forge_approvals",
    "github_auth",
    "gitlab_auth",
    "import_history",
    "judge_change",
    "judge_deployment",
    "open_database",
    "parse_event",
    "reevaluate_pending",
    "summary",
    "verify_delivery",
]

if not TYPE_CHECKING:
    from twokey._lazy import lazy_names

    __getattr__ = lazy_names(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)

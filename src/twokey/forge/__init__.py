"""Forge adapters: GitHub and GitLab webhooks become recorded deliveries, evidence and verdicts.

The webhook receiver (``Receiver``) is independent of any web framework: the gateway's route
hands it the headers and the raw body and answers with the status it returns. Outgoing calls
(commit statuses, deployment reviews) go through the ``ForgeActions`` interface. Names load
on first use (PEP 562), as in ``twokey.doors``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from twokey.forge._actions import (
        STATUS_CONTEXT,
        CommitStatus,
        DeploymentReview,
        ForgeActions,
        summary,
    )
    from twokey.forge._approvals import forge_approvals
    from twokey.forge._batch import BatchedLedger
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
    from twokey.forge._judge import Mirror, Verdict, judge_change
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
    "BatchedLedger": "twokey.forge._batch",
    "ChangeState": "twokey.forge._store",
    "CheckEvent": "twokey.forge._events",
    "CommitStatus": "twokey.forge._actions",
    "Delivery": "twokey.forge._webhooks",
    "DeliveryLog": "twokey.forge._store",
    "DeployAnswer": "twokey.forge._deployments",
    "DeploymentEvent": "twokey.forge._events",
    "DeploymentReview": "twokey.forge._actions",
    "ForgeActions": "twokey.forge._actions",
    "ForgeEffects": "twokey.forge._effects",
    "ForgeEvent": "twokey.forge._events",
    "ForgeReview": "twokey.forge._store",
    "ForgeStore": "twokey.forge._store",
    "Handler": "twokey.forge._receiver",
    "Login": "twokey.forge._events",
    "MAX_BODY_BYTES": "twokey.forge._webhooks",
    "Mirror": "twokey.forge._judge",
    "PayloadError": "twokey.forge._events",
    "PendingDeployment": "twokey.forge._store",
    "Ping": "twokey.forge._events",
    "PullRequestEvent": "twokey.forge._events",
    "PushEvent": "twokey.forge._events",
    "Receipt": "twokey.forge._receiver",
    "Receiver": "twokey.forge._receiver",
    "Refusal": "twokey.forge._webhooks",
    "ReviewEvent": "twokey.forge._events",
    "STATUS_CONTEXT": "twokey.forge._actions",
    "Verdict": "twokey.forge._judge",
    "WebhookSecrets": "twokey.forge._webhooks",
    "forge_approvals": "twokey.forge._approvals",
    "judge_change": "twokey.forge._judge",
    "judge_deployment": "twokey.forge._deployments",
    "parse_event": "twokey.forge._events",
    "reevaluate_pending": "twokey.forge._deployments",
    "summary": "twokey.forge._actions",
    "verify_delivery": "twokey.forge._webhooks",
}

__all__ = [
    "MAX_BODY_BYTES",
    "STATUS_CONTEXT",
    "BatchedLedger",
    "ChangeState",
    "CheckEvent",
    "CommitStatus",
    "Delivery",
    "DeliveryLog",
    "DeployAnswer",
    "DeploymentEvent",
    "DeploymentReview",
    "ForgeActions",
    "ForgeEffects",
    "ForgeEvent",
    "ForgeReview",
    "ForgeStore",
    "Handler",
    "Login",
    "Mirror",
    "PayloadError",
    "PendingDeployment",
    "Ping",
    "PullRequestEvent",
    "PushEvent",
    "Receipt",
    "Receiver",
    "Refusal",
    "ReviewEvent",
    "Verdict",
    "WebhookSecrets",
    "forge_approvals",
    "judge_change",
    "judge_deployment",
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

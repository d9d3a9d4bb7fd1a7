"""The doors: every way a request reaches the engine (hook, CI check, deploy check, gateway).

Each door gathers facts, and then goes through one pipeline (``_pipeline``): the engine decides,
the decision is recorded in the ledger before it takes effect, and the door answers with the
documented exit codes. The trusted policy comes from one resolver (``_trusted``): the protected
branch as the server or the remote has it, never the checkout or the change.
"""

from twokey.doors._deploy import DeployCheck, DeployDoor, parse_identity, run_deploy_check
from twokey.doors._pipeline import (
    Door,
    Gathered,
    answer,
    decide,
    door_deny,
    exit_code,
    record,
    recorded,
)
from twokey.doors._trusted import RemoteRefs, policy_at, remote_refs

__all__ = [
    "DeployCheck",
    "DeployDoor",
    "Door",
    "Gathered",
    "RemoteRefs",
    "answer",
    "decide",
    "door_deny",
    "exit_code",
    "parse_identity",
    "policy_at",
    "record",
    "recorded",
    "remote_refs",
    "run_deploy_check",
]

"""The doors: every way a request reaches the engine (hook, CI check, deploy check, gateway).

Each door gathers facts, and then goes through one pipeline (``_pipeline``): the engine decides,
the decision is recorded in the ledger before it takes effect, and the door answers with the
documented exit codes. The trusted policy comes from one resolver (``_trusted``): the protected
branch as the server or the remote has it, never the checkout or the change.

Names are imported on first use (PEP 562): ``python -m twokey.doors hook-run`` (what an
installed hook runs) must start fast, and importing every door would cost it time.
"""

from __future__ import annotations

# Not ``typing.TYPE_CHECKING``: importing typing costs the hook's start-up ~20 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from twokey.doors._base_policy import base_policy
    from twokey.doors._check import CheckRequest, read_evidence_files, run_check
    from twokey.doors._deploy import DeployCheck, DeployDoor, parse_identity, run_deploy_check
    from twokey.doors._entry import end_process, hook_main, process_main
    from twokey.doors._formats import Report, ReportFormat, render
    from twokey.doors._gate import Gate, Judgement
    from twokey.doors._hook import HookOutcome, push_options, run_hook
    from twokey.doors._install import install_hook, resolve_git_dir, uninstall_hook
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
    from twokey.doors._policy_source import NoPolicyError, TrustedPolicy, load_blob, trusted_policy
    from twokey.doors._pusher import key_fingerprint, pusher_from_env
    from twokey.doors._receipts import ledger_receipts
    from twokey.doors._record import ledger_entries
    from twokey.doors._server import serve
    from twokey.doors._symrefs import through_symrefs
    from twokey.doors._trusted import RemoteRefs, policy_at, remote_refs

_LAZY = {
    "CheckRequest": "twokey.doors._check",
    "DeployCheck": "twokey.doors._deploy",
    "DeployDoor": "twokey.doors._deploy",
    "Door": "twokey.doors._pipeline",
    "Gate": "twokey.doors._gate",
    "Gathered": "twokey.doors._pipeline",
    "HookOutcome": "twokey.doors._hook",
    "Judgement": "twokey.doors._gate",
    "NoPolicyError": "twokey.doors._policy_source",
    "RemoteRefs": "twokey.doors._trusted",
    "Report": "twokey.doors._formats",
    "ReportFormat": "twokey.doors._formats",
    "TrustedPolicy": "twokey.doors._policy_source",
    "answer": "twokey.doors._pipeline",
    "through_symrefs": "twokey.doors._symrefs",
    "ledger_receipts": "twokey.doors._receipts",
    "base_policy": "twokey.doors._base_policy",
    "decide": "twokey.doors._pipeline",
    "door_deny": "twokey.doors._pipeline",
    "exit_code": "twokey.doors._pipeline",
    "end_process": "twokey.doors._entry",
    "hook_main": "twokey.doors._entry",
    "process_main": "twokey.doors._entry",
    "install_hook": "twokey.doors._install",
    "key_fingerprint": "twokey.doors._pusher",
    "ledger_entries": "twokey.doors._record",
    "load_blob": "twokey.doors._policy_source",
    "parse_identity": "twokey.doors._deploy",
    "policy_at": "twokey.doors._trusted",
    "push_options": "twokey.doors._hook",
    "pusher_from_env": "twokey.doors._pusher",
    "read_evidence_files": "twokey.doors._check",
    "record": "twokey.doors._pipeline",
    "recorded": "twokey.doors._pipeline",
    "remote_refs": "twokey.doors._trusted",
    "render": "twokey.doors._formats",
    "resolve_git_dir": "twokey.doors._install",
    "run_check": "twokey.doors._check",
    "run_deploy_check": "twokey.doors._deploy",
    "run_hook": "twokey.doors._hook",
    "serve": "twokey.doors._server",
    "trusted_policy": "twokey.doors._policy_source",
    "uninstall_hook": "twokey.doors._install",
}

__all__ = [
    "CheckRequest",
    "DeployCheck",
    "DeployDoor",
    "Door",
    "Gate",
    "Gathered",
    "HookOutcome",
    "Judgement",
    "NoPolicyError",
    "RemoteRefs",
    "Report",
    "ReportFormat",
    "TrustedPolicy",
    "answer",
    "base_policy",
    "decide",
    "door_deny",
    "end_process",
    "exit_code",
    "hook_main",
    "install_hook",
    "key_fingerprint",
    "ledger_entries",
    "ledger_receipts",
    "load_blob",
    "parse_identity",
    "policy_at",
    "process_main",
    "push_options",
    "pusher_from_env",
    "read_evidence_files",
    "record",
    "recorded",
    "remote_refs",
    "render",
    "resolve_git_dir",
    "run_check",
    "run_deploy_check",
    "run_hook",
    "serve",
    "through_symrefs",
    "trusted_policy",
    "uninstall_hook",
]


# mypy sees only the typed imports above, so a name that is not exported is an error there;
# at run time the names load on first use (PEP 562).
if not TYPE_CHECKING:
    from twokey._lazy import lazy_names

    __getattr__ = lazy_names(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)

"""Deploy requests through the gateway: request, approve, reject, cancel, authorize.

Public interface (the web UI and the API routes use only this):

``DeployService(gateway)``
    ``request(caller, environment, commit, artifact, break_glass=None) -> DeployView``
        A new request by ``caller`` (a person or a service; the requester is always the
        authenticated caller, never a body field), judged at once by the deploy door.
    ``approve(id, caller) -> DeployView``
        ``caller`` (a person) approves; the engine re-decides with the approval included.
        403 (``DeployRefused``) with the reason when the caller may not approve.
    ``reject(id, caller, reason) -> DeployView``, ``cancel(id, caller) -> DeployView``
    ``get(id) -> DeployView`` (404 when unknown), ``list(state=None, limit=50)``
    ``waiting_for(person) -> list[DeployView]``: pending requests this person may approve
    ``may_act(view, person) -> tuple[bool, str]``: may this person approve, and if not, why
    ``may_reject(view, person)``, ``may_cancel(view, caller)``: the same for the other buttons
    ``authorization(id) -> str``: the signed authorization (409 unless authorized)
    ``mark(view, old, new, indexes) -> bool``: compare-and-set of the state (the runner)

``DeployView`` (frozen): ``id, repository, environment, commit, artifact, requester,
requester_kind, deployer, state, created, updated, decision`` (the engine's decision as a dict:
``verdict``, ``findings`` with ``code, message, satisfy, rule {file, line}, people, commits``,
``counted``, ``excluded``, ``break_glass``), ``approvals`` (``ApprovalView``: person, time,
ledger index), ``break_glass`` (the reason, "" for none), ``ledger`` (every ledger index
recorded for this request), ``reason`` (why rejected or cancelled), ``custody`` (the release's
commits with authors, their approvals, checks, provenance: see :meth:`DeployView.timeline`),
``authorization`` (nonce, issued, expires when authorized), ``policy`` (where the trusted
policy came from). ``timeline()`` is the chain of custody, oldest first.

States: ``pending`` (the engine's only objection is a missing deploy approval: waiting for an
eligible operator), ``denied`` (any other finding), ``authorized`` (the engine allows; the
gateway signed an authorization), ``rejected``, ``cancelled``; with ``twokey serve --run``:
``running``, ``deployed``, ``failed``.

Who deploys: the requester (a CI identity or an operator) carries the deploy out with the
authorization, so the requester is the engine's deployer, and every approval given here is a
deploy approval by another person (ADR 0026). Approvals given in the gateway are evidence at
trust level ``forge`` (recorded over an authenticated API, not signed by the approver's key):
an environment counts them only when its policy says ``accept: [signed, forge]``.

Every state change is appended to the ledger before it takes effect: a ``gateway`` entry
(:class:`twokey.ledger.GatewayDeployRecord`) for the event and a ``deploy`` entry (door
``gateway``) for each decision. Two gateway processes never decide one request at once: a
decision first claims the row (compare-and-set), so concurrent approvals give one
authorization.
"""

from __future__ import annotations

__all__ = [
    "STATES",
    "ApprovalView",
    "DeployRefused",
    "DeployService",
    "DeployView",
    "setup",
]

import builtins
import json
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException

from twokey.errors import TwokeyError, UsageError
from twokey.gateway._authorization import new_authorization, sign_authorization
from twokey.gateway._metrics import observe_decision
from twokey.model import DeployApproval, DeployFacts, FindingCode, Severity, TrustLevel

if TYPE_CHECKING:
    from twokey.doors import Gathered
    from twokey.gateway._auth import Caller
    from twokey.gateway._state import Gateway
    from twokey.ledger import Entry
    from twokey.model import Decision
    from twokey.policy import EnvironmentRule, Policy

STATES = (
    "pending",
    "denied",
    "authorized",
    "rejected",
    "cancelled",
    "running",
    "deployed",
    "failed",
)
DOOR = "gateway"
AUTHORIZATION_TTL = 15 * 60  # seconds an authorization is valid (config: deploy_ttl)
_CLAIM_STALE = timedelta(seconds=120)  # a claim older than this was left by a dead process
_ID = re.compile(r"d[0-9a-f]{12}")
_ENVIRONMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_COMMIT = re.compile(r"[0-9a-f]{7,64}")
_ARTIFACT = re.compile(r"sha256:[0-9a-f]{64}")
_MAX_REASON = 1000

TABLES = (
    """CREATE TABLE IF NOT EXISTS twokey_gateway_deploys (
        id TEXT PRIMARY KEY,
        repository TEXT NOT NULL,
        environment TEXT NOT NULL,
        commit_sha TEXT NOT NULL,
        artifact TEXT NOT NULL,
        requester TEXT NOT NULL,
        requester_kind TEXT NOT NULL,
        break_glass TEXT NOT NULL,
        state TEXT NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        decision TEXT NOT NULL,
        custody TEXT NOT NULL,
        ledger TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        policy TEXT NOT NULL DEFAULT '',
        auth_note TEXT NOT NULL DEFAULT '',
        claim TEXT NOT NULL DEFAULT '',
        claimed TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE INDEX IF NOT EXISTS twokey_gateway_deploys_state
        ON twokey_gateway_deploys (state, created)""",
    """CREATE TABLE IF NOT EXISTS twokey_gateway_deploy_approvals (
        deploy TEXT NOT NULL,
        person TEXT NOT NULL,
        time TEXT NOT NULL,
        ledger INTEGER NOT NULL,
        PRIMARY KEY (deploy, person)
    )""",
)
_COLUMNS = (
    "id, repository, environment, commit_sha, artifact, requester, requester_kind, "
    "break_glass, state, created, updated, decision, custody, ledger, reason, policy, "
    "auth_note"
)


class DeployRefused(HTTPException):
    """A request the service refuses: ``status_code`` (400, 403, 404, 409) and one reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(status, reason)
        self.reason = reason


@dataclass(frozen=True)
class ApprovalView:
    """A deploy approval given in the gateway: who, when, and its ledger entry."""

    person: str
    time: str
    ledger: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"person": self.person, "time": self.time, "ledger": self.ledger}


@dataclass(frozen=True)
class DeployView:
    """One deploy request as every reader sees it (see the module docstring)."""

    id: str
    repository: str
    environment: str
    commit: str
    artifact: str
    requester: str
    requester_kind: str
    state: str
    created: str
    updated: str
    decision: dict[str, Any]
    approvals: tuple[ApprovalView, ...]
    break_glass: str
    ledger: tuple[int, ...]
    reason: str
    custody: dict[str, Any] = field(hash=False)
    authorization: dict[str, str] = field(hash=False)
    policy: str = ""

    @property
    def deployer(self) -> str:
        """Who carries the deploy out: the requester (ADR 0026)."""
        return self.requester

    @property
    def findings(self) -> list[dict[str, Any]]:
        """The decision's findings (code, severity, message, satisfy, rule, people, commits)."""
        found = self.decision.get("findings", [])
        return list(found) if isinstance(found, list) else []

    def timeline(self) -> list[dict[str, Any]]:
        """The chain of custody, oldest first: commits and authors, their approvals, checks,
        build provenance, the request, deploy approvals, the decision, the authorization.

        Each step is ``{"step": ..., "what": ..., "who": ..., "time": ..., ...}``.
        """
        steps: list[dict[str, Any]] = []
        for commit in self.custody.get("release", []):
            steps.append({"step": "commit", **commit})
        for approval in self.custody.get("release_approvals", []):
            steps.append({"step": "approval", **approval})
        for check in self.custody.get("checks", []):
            steps.append({"step": "check", **check})
        for built in self.custody.get("provenance", []):
            steps.append({"step": "provenance", **built})
        steps.append(
            {
                "step": "request",
                "who": self.requester,
                "time": self.created,
                "break_glass": self.break_glass,
            }
        )
        for approval in self.approvals:
            steps.append({"step": "deploy-approval", "who": approval.person, **approval.to_dict()})
        steps.append({"step": "decision", "state": self.state, "time": self.updated})
        if self.authorization:
            steps.append({"step": "authorization", **self.authorization})
        return steps

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``GET /v1/deploys/{id}`` answers)."""
        return {
            "id": self.id,
            "repository": self.repository,
            "environment": self.environment,
            "commit": self.commit,
            "artifact": self.artifact,
            "requester": self.requester,
            "requester_kind": self.requester_kind,
            "deployer": self.deployer,
            "state": self.state,
            "created": self.created,
            "updated": self.updated,
            "decision": self.decision,
            "approvals": [a.to_dict() for a in self.approvals],
            "break_glass": self.break_glass,
            "ledger": list(self.ledger),
            "reason": self.reason,
            "custody": self.custody,
            "authorization": self.authorization,
            "policy": self.policy,
            "timeline": self.timeline(),
        }


@dataclass(frozen=True)
class _Judged:
    """One evaluation: the decision, the new state, the ledger entries, the custody."""

    decision: Decision
    state: str
    entries: list[Entry]
    custody: dict[str, Any]
    commit: str
    policy: str


class DeployService:
    """Deploy requests on one gateway (see the module docstring)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    # -- reading ------------------------------------------------------------------------------

    def get(self, deploy_id: str) -> DeployView:
        """The request ``deploy_id``; 404 when there is none."""
        if not _ID.fullmatch(deploy_id):
            raise DeployRefused(404, f"no deploy request {deploy_id[:40]!r}")
        rows = self.gateway.db.rows(
            f"SELECT {_COLUMNS} FROM twokey_gateway_deploys WHERE id = ?",  # noqa: S608 - constant
            (deploy_id,),
        )
        if not rows:
            raise DeployRefused(404, f"no deploy request {deploy_id!r}")
        return self._view(rows[0])

    def list(self, state: str | None = None, limit: int = 50) -> list[DeployView]:
        """The newest requests (in ``state`` when given), at most ``limit``."""
        if state is not None and state not in STATES:
            raise DeployRefused(400, f"unknown state {state[:40]!r} (one of {', '.join(STATES)})")
        limit = max(1, min(int(limit), 500))
        sql = f"SELECT {_COLUMNS} FROM twokey_gateway_deploys"  # noqa: S608 - constant columns
        params: tuple[Any, ...] = ()
        if state is not None:
            sql += " WHERE state = ?"
            params = (state,)
        rows = self.gateway.db.rows(sql + " ORDER BY created DESC, id LIMIT ?", (*params, limit))
        return [self._view(r) for r in rows]

    def waiting_for(self, person: str) -> builtins.list[DeployView]:
        """Pending requests ``person`` may approve now, oldest first."""
        pending = reversed(self.list("pending", 500))
        return [v for v in pending if self.may_act(v, person)[0]]

    def may_act(self, view: DeployView, person: str) -> tuple[bool, str]:
        """May ``person`` approve ``view`` now, and if not, why (one line).

        From the facts of the request's last evaluation (who is an approver of the
        environment, who wrote or approved the release); the engine has the last word when
        the approval is given (:meth:`approve`).
        """
        if view.state != "pending":
            return False, f"the request is {view.state}, not waiting for approval"
        if any(a.person == person for a in view.approvals):
            return False, f"{person} already approved this deploy"
        eligible = view.custody.get("eligible", {})
        approvers = eligible.get("approvers", [])
        excluded = eligible.get("excluded", {})
        if person in excluded:
            return False, f"{person} {excluded[person]}"
        if person not in approvers:
            names = ", ".join(approvers) or "nobody"
            return False, (
                f"{person} is not an approver of deploys to {view.environment} (approvers: {names})"
            )
        return True, ""

    def authorization(self, deploy_id: str) -> str:
        """The signed authorization of an authorized request (409 before that)."""
        view = self.get(deploy_id)
        note = self._note(deploy_id)
        if not note or view.state in ("pending", "denied", "rejected", "cancelled"):
            raise DeployRefused(409, f"deploy request {deploy_id} is {view.state}, not authorized")
        return note

    def _note(self, deploy_id: str) -> str:
        rows = self.gateway.db.rows(
            "SELECT auth_note FROM twokey_gateway_deploys WHERE id = ?", (deploy_id,)
        )
        return str(rows[0][0]) if rows else ""

    # -- changing -----------------------------------------------------------------------------

    def request(
        self,
        caller: Caller,
        environment: str,
        commit: str,
        artifact: str,
        break_glass: str | None = None,
    ) -> DeployView:
        """A new deploy request by ``caller``, judged and recorded before it exists."""
        _check_request(environment, commit, artifact, break_glass)
        glass = (break_glass or "").strip()
        now = self.gateway.now()
        deploy_id = "d" + secrets.token_hex(6)
        row = _NewRow(deploy_id, environment, commit, artifact, caller.subject, glass)
        judged = self._judge(row, (), now)
        requested = self._event(
            "requested",
            row.fields(self.gateway.repository, judged.commit),
            caller.subject,
            {"requester_kind": caller.kind, "break_glass": glass},
            now,
        )
        entries, note = self._with_authorization(
            [requested, *judged.entries],
            judged,
            row.fields(self.gateway.repository, judged.commit),
            now,
        )
        indexes = self.gateway.record(entries)
        observe_decision(DOOR, judged.decision)
        stamp = now.isoformat()
        self.gateway.db.execute(
            f"INSERT INTO twokey_gateway_deploys ({_COLUMNS}) "  # noqa: S608 - constant columns
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                deploy_id,
                self.gateway.repository,
                environment,
                judged.commit,
                artifact,
                caller.subject,
                caller.kind,
                glass,
                judged.state,
                stamp,
                stamp,
                json.dumps(judged.decision.to_dict()),
                json.dumps(judged.custody),
                json.dumps(indexes),
                "",
                judged.policy,
                note,
            ),
        )
        return self.get(deploy_id)

    def approve(self, deploy_id: str, caller: Caller) -> DeployView:
        """``caller`` approves: 403 unless the engine counts their approval."""
        person = _person(caller, "approve a deploy")
        view = self.get(deploy_id)
        ok, why = self.may_act(view, person)
        if not ok:
            if view.state == "pending" and any(a.person == person for a in view.approvals):
                # Read while another process records this person's approval (state and
                # approvals are two reads)? Then the row is claimed or has moved on: 409, as
                # for any approval racing a decision. A settled second approval stays 403.
                with self._claimed(view):
                    pass
            raise DeployRefused(409 if view.state != "pending" else 403, why)
        with self._claimed(view):
            now = self.gateway.now()
            given = ApprovalView(person, now.isoformat(), -1)
            row = _NewRow.of(view)
            judged = self._judge(row, (*view.approvals, given), now)
            refusal = _not_counted(judged.decision, person, _source(view.id, person))
            if refusal:
                raise DeployRefused(403, refusal)
            fields = row.fields(view.repository, view.commit)
            approved = self._event("approved", fields, person, {}, now)
            entries, note = self._with_authorization(
                [approved, *judged.entries], judged, fields, now
            )
            indexes = self.gateway.record(entries)
            observe_decision(DOOR, judged.decision)
            self.gateway.db.execute(
                "INSERT INTO twokey_gateway_deploy_approvals (deploy, person, time, ledger) "
                "VALUES (?, ?, ?, ?)",
                (view.id, person, given.time, indexes[0]),
            )
            self._update(view, judged.state, now, indexes, judged=judged, note=note)
        # The approval also answers forge deployments waiting for it (docs/forges.md).
        from twokey.gateway._forge_worker import on_operator_approval  # noqa: PLC0415

        on_operator_approval(self.gateway, view.repository, view.environment, view.commit)
        return self.get(deploy_id)

    def reject(self, deploy_id: str, caller: Caller, reason: str) -> DeployView:
        """An operator of the environment refuses the request, with a reason."""
        person = _person(caller, "reject a deploy")
        reason = _reason(reason, "a rejection")
        view = self.get(deploy_id)
        ok, why = self.may_reject(view, person)
        if not ok:
            raise DeployRefused(409 if view.state != "pending" else 403, why)
        self._close(view, "rejected", person, reason)
        return self.get(deploy_id)

    def may_reject(self, view: DeployView, person: str) -> tuple[bool, str]:
        """May ``person`` reject ``view`` now (an approver or deployer of its environment)?"""
        if view.state != "pending":
            return False, f"the request is {view.state}, not waiting for approval"
        operators = set(view.custody.get("eligible", {}).get("operators", []))
        if person not in operators:
            return False, (
                f"{person} is neither an approver nor a deployer of {view.environment}: only "
                "they may reject its deploys"
            )
        return True, ""

    def may_cancel(self, view: DeployView, caller: Caller) -> tuple[bool, str]:
        """May ``caller`` cancel ``view`` now (its requester, while pending or authorized)?"""
        same = (caller.subject, caller.kind == "service") == (
            view.requester,
            view.requester_kind == "service",
        )
        if not same:
            return False, f"only the requester ({view.requester}) may cancel it"
        if view.state not in ("pending", "authorized"):
            return False, f"the request is {view.state}: nothing to cancel"
        return True, ""

    def cancel(self, deploy_id: str, caller: Caller) -> DeployView:
        """The requester withdraws the request (pending or authorized, not yet run)."""
        view = self.get(deploy_id)
        ok, why = self.may_cancel(view, caller)
        if not ok:
            raise DeployRefused(403 if why.startswith("only") else 409, why)
        self._close(view, "cancelled", caller.subject, "cancelled by the requester")
        return self.get(deploy_id)

    def mark(self, view: DeployView, old: str, new: str, indexes: builtins.list[int]) -> bool:
        """Move ``view`` from state ``old`` to ``new`` (its ledger entries ``indexes`` already
        recorded); False when its state is no longer ``old`` (compare-and-set)."""
        changed = self.gateway.db.execute(
            "UPDATE twokey_gateway_deploys SET state = ?, updated = ?, ledger = ? "
            "WHERE id = ? AND state = ?",
            (
                new,
                self.gateway.now().isoformat(),
                json.dumps([*view.ledger, *indexes]),
                view.id,
                old,
            ),
        )
        return changed == 1

    def _close(self, view: DeployView, state: str, actor: str, reason: str) -> None:
        with self._claimed(view):
            now = self.gateway.now()
            fields = _NewRow.of(view).fields(view.repository, view.commit)
            entry = self._event(state, fields, actor, {"reason": reason}, now)
            indexes = self.gateway.record([entry])
            self._update(view, state, now, indexes, reason=reason)

    # -- the engine ---------------------------------------------------------------------------

    def _judge(self, row: _NewRow, approvals: tuple[ApprovalView, ...], now: datetime) -> _Judged:
        """Gather with the deploy door, add the gateway's approvals, decide (no recording)."""
        from twokey.doors import DeployCheck, DeployDoor  # noqa: PLC0415
        from twokey.engine import evaluate_safely  # noqa: PLC0415

        gateway = self.gateway
        check = DeployCheck(
            repo=gateway.config.repo or gateway.config.data,
            environment=row.environment,
            artifact=row.artifact,
            commit=row.commit,
            deployer=row.requester,
            now=now,
            requester=row.requester,
            break_glass=row.break_glass,
            ledger=gateway.config.database_url,
            remote=".",
            repository=gateway.repository,
        )
        door = DeployDoor(gateway.reader(), gateway.repository, now, door=DOOR)
        try:
            gathered = door.gather(check)
        except UsageError as exc:
            if "is no person or service in the policy" in exc.message:
                raise DeployRefused(403, f"{row.requester} is not in the policy") from exc
            raise
        gathered = _with_approvals(gathered, row, approvals)
        decision = evaluate_safely(gathered.policy, gathered.facts, now)
        facts = gathered.facts
        assert isinstance(facts, DeployFacts)
        return _Judged(
            decision,
            _state_of(decision),
            door.entries(check, gathered, decision, now),
            _custody(gathered.policy, facts, row),
            facts.request.commit,
            gathered.policy_origin,
        )

    def _event(
        self, event: str, fields: dict[str, str], actor: str, detail: dict[str, Any], now: datetime
    ) -> Entry:
        from twokey.ledger import GatewayDeployRecord, to_entry  # noqa: PLC0415

        record = GatewayDeployRecord(
            DOOR,
            event,
            fields["id"],
            fields["repository"],
            fields["environment"],
            fields["commit"],
            fields["artifact"],
            actor,
            detail,
        )
        return to_entry(record, now)

    def _with_authorization(
        self, entries: builtins.list[Entry], judged: _Judged, fields: dict[str, str], now: datetime
    ) -> tuple[builtins.list[Entry], str]:
        """When the engine allows: sign an authorization and add its ``authorized`` entry."""
        if judged.state != "authorized":
            return entries, ""
        import hashlib  # noqa: PLC0415

        ttl = int(self.gateway.config.extra.get("deploy_ttl", AUTHORIZATION_TTL))
        auth = new_authorization(
            fields["repository"],
            fields["environment"],
            fields["commit"],
            fields["artifact"],
            fields["id"],
            secrets.token_hex(16),
            now,
            ttl,
        )
        note = sign_authorization(self.gateway.signer, auth)
        detail = {
            "nonce": auth.nonce,
            "issued": auth.to_dict()["issued"],
            "expires": auth.to_dict()["expires"],
            "sha256": hashlib.sha256(note.encode()).hexdigest(),
        }
        return [*entries, self._event("authorized", fields, DOOR, detail, now)], note

    # -- the rows -----------------------------------------------------------------------------

    def _claimed(self, view: DeployView) -> _Claim:
        return _Claim(self.gateway, view)

    def _update(
        self,
        view: DeployView,
        state: str,
        now: datetime,
        indexes: builtins.list[int],
        *,
        judged: _Judged | None = None,
        note: str = "",
        reason: str = "",
    ) -> None:
        sets = ["state = ?", "updated = ?", "ledger = ?"]
        params: list[Any] = [state, now.isoformat(), json.dumps([*view.ledger, *indexes])]
        if judged is not None:
            sets += ["decision = ?", "custody = ?", "policy = ?"]
            params += [
                json.dumps(judged.decision.to_dict()),
                json.dumps(judged.custody),
                judged.policy,
            ]
        if note:
            sets.append("auth_note = ?")
            params.append(note)
        if reason:
            sets.append("reason = ?")
            params.append(reason)
        self.gateway.db.execute(
            f"UPDATE twokey_gateway_deploys SET {', '.join(sets)} WHERE id = ?",  # noqa: S608
            (*params, view.id),
        )

    def _view(self, row: tuple[Any, ...]) -> DeployView:
        deploy_id = str(row[0])
        approvals = tuple(
            ApprovalView(str(p), str(t), int(i))
            for p, t, i in self.gateway.db.rows(
                "SELECT person, time, ledger FROM twokey_gateway_deploy_approvals "
                "WHERE deploy = ? ORDER BY time, person",
                (deploy_id,),
            )
        )
        auth: dict[str, str] = {}
        if row[16]:
            from twokey.gateway._authorization import Authorization  # noqa: PLC0415

            auth = Authorization.parse(str(row[16]).split("\n\n")[0] + "\n").to_dict()
        return DeployView(
            deploy_id,
            str(row[1]),
            str(row[2]),
            str(row[3]),
            str(row[4]),
            str(row[5]),
            str(row[6]),
            str(row[8]),
            str(row[9]),
            str(row[10]),
            json.loads(row[11]),
            approvals,
            str(row[7]),
            tuple(json.loads(row[13])),
            str(row[14]),
            json.loads(row[12]),
            auth,
            str(row[15]),
        )


class _Claim:
    """The right to decide one request: a compare-and-set on its row, released on exit.

    A claim older than ``_CLAIM_STALE`` was left by a process that died mid-decision and may
    be taken over. Whoever loses the race gets 409: the request is being decided elsewhere.
    """

    def __init__(self, gateway: Gateway, view: DeployView) -> None:
        self.gateway = gateway
        self.view = view
        self.token = secrets.token_hex(8)

    def __enter__(self) -> None:
        now = self.gateway.now()
        stale = (now - _CLAIM_STALE).isoformat()
        won = self.gateway.db.execute(
            "UPDATE twokey_gateway_deploys SET claim = ?, claimed = ? "
            "WHERE id = ? AND state = ? AND updated = ? AND (claim = '' OR claimed < ?)",
            (self.token, now.isoformat(), self.view.id, self.view.state, self.view.updated, stale),
        )
        if won != 1:
            raise DeployRefused(
                409, f"deploy request {self.view.id} changed or is being decided: reload it"
            )

    def __exit__(self, *exc: object) -> None:
        try:
            self.gateway.db.execute(
                "UPDATE twokey_gateway_deploys SET claim = '' WHERE id = ? AND claim = ?",
                (self.view.id, self.token),
            )
        except TwokeyError:
            if exc[0] is None:
                raise
            # The database failed mid-decision: the original error answers (503); the claim
            # goes stale and another process may take the request over after _CLAIM_STALE.


@dataclass(frozen=True)
class _NewRow:
    """The request's own fields (what the door is asked)."""

    id: str
    environment: str
    commit: str
    artifact: str
    requester: str
    break_glass: str

    @classmethod
    def of(cls, view: DeployView) -> _NewRow:
        return cls(
            view.id, view.environment, view.commit, view.artifact, view.requester, view.break_glass
        )

    def fields(self, repository: str, commit: str) -> dict[str, str]:
        return {
            "id": self.id,
            "repository": repository,
            "environment": self.environment,
            "commit": commit,
            "artifact": self.artifact,
        }


def _check_request(environment: str, commit: str, artifact: str, glass: str | None) -> None:
    if not _ENVIRONMENT.fullmatch(environment):
        raise DeployRefused(400, "environment: a name of letters, digits, '.', '_' or '-'")
    if not _COMMIT.fullmatch(commit):
        raise DeployRefused(400, "commit: a commit id in lower-case hex (7 to 64 digits)")
    if not _ARTIFACT.fullmatch(artifact):
        raise DeployRefused(400, "artifact: a digest 'sha256:' and 64 lower-case hex digits")
    if glass is not None:
        _reason(glass, "break-glass")


def _reason(text: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise DeployRefused(400, f"{what} needs a reason")
    if len(text) > _MAX_REASON or any(ord(c) < 32 and c not in "\t" for c in text):
        raise DeployRefused(400, f"{what} reason: one line of at most {_MAX_REASON} characters")
    return text


def _person(caller: Caller, what: str) -> str:
    if caller.person is None:
        raise DeployRefused(
            403, f"{caller.subject} is a service: only a person may {what} (invariant 10)"
        )
    return caller.person


def _source(deploy_id: str, person: str) -> str:
    return f"gateway:{deploy_id}:{person}"


def _with_approvals(
    gathered: Gathered, row: _NewRow, approvals: tuple[ApprovalView, ...]
) -> Gathered:
    """The gathered facts plus the deploy approvals given in the gateway (trust ``forge``)."""
    if not approvals:
        return gathered
    from twokey.doors import parse_identity  # noqa: PLC0415

    facts = gathered.facts
    assert isinstance(facts, DeployFacts)
    request = facts.request
    added = tuple(
        DeployApproval(
            request.artifact,
            request.environment,
            request.commit,
            parse_identity(a.person, gathered.policy, "approver"),
            datetime.fromisoformat(a.time),
            TrustLevel.FORGE,
            _source(row.id, a.person),
            repository=request.repository,
        )
        for a in approvals
    )
    facts = replace(facts, deploy_approvals=(*facts.deploy_approvals, *added))
    return replace(gathered, facts=facts)


def _state_of(decision: Decision) -> str:
    """``authorized`` on allow; ``pending`` when only a deploy approval is missing."""
    if decision.allowed:
        return "authorized"
    denies = [f for f in decision.findings if f.severity is Severity.DENY]
    if denies and all(f.code is FindingCode.INSUFFICIENT_DEPLOY_APPROVALS for f in denies):
        return "pending"
    return "denied"


def _not_counted(decision: Decision, person: str, source: str) -> str:
    """Why the engine did not count ``person``'s approval ("" when it counted)."""
    if any(c.person == person and c.evidence == source for c in decision.counted):
        return ""
    for finding in decision.findings:
        if person in finding.people and finding.severity is not Severity.INFO:
            return f"{person}'s approval does not count: {finding.message}"
    for excluded in decision.excluded:
        if excluded.who == person:
            return f"{person}'s approval does not count: {person} {excluded.reason}"
    return f"{person}'s approval does not count for this deploy"


def _custody(policy: Policy, facts: DeployFacts, row: _NewRow) -> dict[str, Any]:
    """The release's chain of custody, and who may approve it (for views and ``may_act``)."""

    def who(alias: Any) -> str:
        principal = policy.resolve(alias)
        return principal.id if principal is not None else str(alias or "")

    release: list[dict[str, Any]] = [
        {
            "sha": c.sha,
            "subject": c.message.split("\n", 1)[0][:200],
            "author": f"{c.author.name} <{c.author.email}>",
            "who": who(c.author.alias),
            "co_authors": [who(i.alias) for i in c.co_authors],
            "time": c.author.time.isoformat() if c.author.time else "",
        }
        for c in facts.release
    ]
    approvals = [
        {
            "commit": a.commit,
            "who": who(a.signer),
            "trust": str(a.trust),
            "time": a.time.isoformat(),
        }
        for a in facts.release_approvals
    ]
    checks = [
        {"name": c.name, "passed": c.passed, "who": who(c.signer), "trust": str(c.trust)}
        for c in facts.checks
    ]
    provenance = [
        {
            "commit": p.commit,
            "who": who(p.signer),
            "trust": str(p.trust),
            "time": p.time.isoformat(),
        }
        for p in facts.provenance
    ]
    env = policy.environments.get(facts.request.environment)
    return {
        "release": release,
        "release_approvals": approvals,
        "checks": checks,
        "provenance": provenance,
        "eligible": _eligible(policy, env, release, approvals, row.requester),
    }


def _eligible(
    policy: Policy,
    env: EnvironmentRule | None,
    release: list[dict[str, Any]],
    approvals: list[dict[str, Any]],
    requester: str,
) -> dict[str, Any]:
    """Who may approve (``approvers``), reject (``operators``), and who may not, and why
    (``excluded``): the requester, and the release's authors and approvers where the
    environment separates them. What ``may_act`` answers from; the engine has the last word."""
    from twokey.policy import Exclusion  # noqa: PLC0415

    excluded: dict[str, str] = {requester: "requested this deploy (and carries it out)"}
    people = {p for p, principal in policy.principals.items() if principal.is_person}
    if env is None:
        return {"approvers": [], "operators": [], "excluded": excluded}
    exclude = env.approval.exclude
    if Exclusion.AUTHORS in exclude or Exclusion.CO_AUTHORS in exclude:
        for c in release:
            for author in [c["who"], *c["co_authors"]]:
                excluded.setdefault(
                    author, f"wrote commit {c['sha'][:12]} in this release (the author)"
                )
    if Exclusion.APPROVERS in exclude:
        for a in approvals:
            excluded.setdefault(a["who"], f"approved commit {a['commit'][:12]} in this release")
    return {
        "approvers": sorted(env.approval.approvers & people),
        "operators": sorted((env.approval.approvers | env.deployers) & people),
        "excluded": excluded,
    }


def setup(gateway: Gateway) -> None:
    """Create the deploy tables."""
    gateway.create_tables(TABLES)

"""What a deploy releases: every commit since the environment's last recorded deploy.

The release decides who may neither approve nor carry out a deploy (invariant 5), so the door
never takes it from the caller: it is every commit reachable from the deployed commit and not
from the commit of the environment's last *allowed* deploy in the ledger (from the root when the
ledger has none, or when there is no ledger). ``--since`` may only narrow it to a commit whose
deploy the ledger records too, so a deployer's own commit two commits back is always in it.
"""

from __future__ import annotations

__all__ = ["Deployed", "recorded_deploys", "release_base"]

from collections.abc import Iterator
from dataclasses import dataclass

from twokey.errors import InfrastructureError, TwokeyError, UsageError


@dataclass(frozen=True)
class Deployed:
    """An allowed deploy of ``commit`` to ``environment``, recorded in ledger entry ``index``."""

    index: int
    commit: str


def recorded_deploys(url: str, repository: str, environment: str) -> list[Deployed]:
    """Every allowed ``deploy`` entry of ``repository`` to ``environment``, oldest first.

    Raises:
        InfrastructureError: the ledger cannot be read (fail closed: no guessed release).
    """
    return [
        Deployed(index, str(body["commit"]))
        for index, body in _deploy_bodies(url)
        if (body.get("repository"), body.get("environment")) == (repository, environment)
        and _allowed(body.get("decision"))
        and isinstance(body.get("commit"), str)
    ]


def _allowed(decision: object) -> bool:
    return isinstance(decision, dict) and decision.get("verdict") == "allow"


def _deploy_bodies(url: str) -> Iterator[tuple[int, dict[str, object]]]:
    from twokey.ledger import EntryKind, open_ledger, parse_entry  # noqa: PLC0415

    try:
        with open_ledger(url) as ledger:
            for index, data in ledger.entries():
                entry = parse_entry(data)
                if entry.kind is EntryKind.DEPLOY and isinstance(entry.body, dict):
                    yield index, entry.body
    except TwokeyError as exc:
        raise InfrastructureError(f"cannot read the ledger {url}: {exc.message}") from exc
    except Exception as exc:  # any driver error: fail closed with the reason
        raise InfrastructureError(
            f"cannot read the ledger {url}: {type(exc).__name__}: {exc}"
        ) from exc


def release_base(deploys: list[Deployed], since: str | None, environment: str) -> list[str]:
    """The commits whose history is already deployed: the last deploy's, and ``since``.

    Raises:
        UsageError: ``since`` is no recorded deploy of ``environment`` (it could only widen
            the release's blind spot, never prove anything).
    """
    base = [deploys[-1].commit] if deploys else []
    if since is None:
        return base
    if since not in {d.commit for d in deploys}:
        raise UsageError(
            f"--since {since[:12]} is no recorded deploy to {environment}",
            hint="leave --since out: the release starts at the last deploy the ledger records",
        )
    return [*base, since] if since not in base else base

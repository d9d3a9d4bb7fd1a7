"""What a deploy releases: every commit since the environment's last recorded deploy.

The release decides who may neither approve nor carry out a deploy (invariant 5), so the door
never takes it from the caller: it is every commit reachable from the deployed commit and not
from the commit of the environment's last *allowed* deploy in the ledger (from the root when the
ledger has none, or when there is no ledger). ``--since`` may only narrow it to a commit whose
deploy the ledger records too, so a deployer's own commit two commits back is always in it.
"""

from __future__ import annotations

__all__ = ["Deployed", "recorded_deploys", "release_base"]

import threading
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
        Deployed(index, commit)
        for index, repo, env, commit in _deploys(url)
        if (repo, env) == (repository, environment)
    ]


_Found = tuple[int, str | None, str | None, str]  # (index, repository, environment, commit)


@dataclass(frozen=True)
class _Scan:
    """What one process read of a ledger: its first ``size`` entries (the last one's exact
    bytes, to notice a ledger that is not the one read before) and their allowed deploys."""

    size: int
    last: bytes
    deploys: tuple[_Found, ...]


_SCANS: dict[str, _Scan] = {}  # by ledger URL: a long-lived process (the gateway) reads on
_SCANS_LOCK = threading.Lock()  # from where it stopped, since a ledger only grows


def _deploys(url: str) -> tuple[_Found, ...]:
    from twokey.ledger import EntryKind, open_ledger, parse_entry  # noqa: PLC0415

    try:
        with open_ledger(url) as ledger:
            size = ledger.size()
            with _SCANS_LOCK:
                scan = _SCANS.get(url)
            if (
                scan is None
                or scan.size > size
                or (scan.size and ledger.entry(scan.size - 1) != scan.last)
            ):
                scan = _Scan(0, b"", ())  # another ledger at this URL: read it all
            found = list(scan.deploys)
            last = scan.last
            for index, data in ledger.entries(scan.size, size):
                last = data
                entry = parse_entry(data)
                body = entry.body
                if entry.kind is not EntryKind.DEPLOY or not isinstance(body, dict):
                    continue
                commit, repo, env = (
                    body.get("commit"),
                    body.get("repository"),
                    body.get("environment"),
                )
                if _allowed(body.get("decision")) and isinstance(commit, str):
                    found.append((index, _text(repo), _text(env), commit))
    except TwokeyError as exc:
        raise InfrastructureError(f"cannot read the ledger {url}: {exc.message}") from exc
    except Exception as exc:  # any driver error: fail closed with the reason
        raise InfrastructureError(
            f"cannot read the ledger {url}: {type(exc).__name__}: {exc}"
        ) from exc
    scanned = _Scan(size, last, tuple(found))
    with _SCANS_LOCK:
        _SCANS[url] = scanned
    return scanned.deploys


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _allowed(decision: object) -> bool:
    return isinstance(decision, dict) and decision.get("verdict") == "allow"


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

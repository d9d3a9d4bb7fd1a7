"""``twokey forge import``: merged pull/merge requests and their approvals, into a cache file
the audit reads as forge evidence (trust ``forge``).

One file per forge repository, ``$GIT_DIR/twokey/forge/<forge>-<owner>--<repo>.json``
(docs/forges.md, "History import", gives the format). The import is resumable:

- each request is written to the file as soon as its approvals are read (atomically: a
  temporary file renamed over the old one), so an interrupted run keeps what it read;
- a request already in the file with the same ``updated_at`` is not read again;
- once a run completes, ``cursor`` (the newest ``updated_at`` seen) and ``since`` record the
  range covered: the next run lists only requests updated after the cursor, unless it asks
  for an earlier ``--since``.
"""

from __future__ import annotations

__all__ = ["ImportReport", "Importer", "cache_path", "import_history"]

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from twokey.errors import UsageError
from twokey.forge._actions import MergedChange, ReviewRecord, check_repository

FORMAT_VERSION = 1


class Importer(Protocol):
    """What the import needs of a forge's API client."""

    def merged(self, repo: str, since: datetime) -> Iterator[MergedChange]:
        """Merged requests updated at or after ``since``, newest first."""
        ...

    def approvals_of(self, repo: str, change: MergedChange) -> list[ReviewRecord]:
        """The approvals in force when the request merged."""
        ...


@dataclass(frozen=True)
class ImportReport:
    """What one run did: requests listed, read (new or changed), already imported."""

    path: Path
    listed: int
    imported: int
    unchanged: int
    approvals: int

    def to_dict(self) -> dict[str, object]:
        """For ``--format json``."""
        return {**asdict(self), "path": str(self.path)}


def cache_path(git_dir: Path, forge: str, repo: str) -> Path:
    """Where the import of ``repo`` on ``forge`` is kept."""
    name = check_repository(repo).replace("/", "--")
    return git_dir / "twokey" / "forge" / f"{forge}-{name}.json"


def import_history(
    client: Importer,
    git_dir: Path,
    *,
    forge: str,
    repo: str,
    api_url: str,
    since: datetime,
) -> ImportReport:
    """Read merged requests updated since ``since`` and their approvals into the cache file.

    Raises:
        UsageError: the cache file belongs to another forge or API URL, or is unreadable.
        ForgeApiError: the forge failed (what was read so far is kept).
    """
    if since.tzinfo is None:
        raise UsageError("--since needs a time zone (a date is taken as UTC midnight)")
    path = cache_path(git_dir, forge, repo)
    cache = _load(path, forge, repo, api_url)
    covered = cache.get("since")
    resume = covered is not None and datetime.fromisoformat(covered) <= since
    stop = datetime.fromisoformat(cache["cursor"]) if resume and cache.get("cursor") else since
    listed = imported = unchanged = approvals = 0
    newest = stop
    for change in client.merged(repo, stop):
        listed += 1
        newest = max(newest, change.updated_at)
        known = cache["changes"].get(str(change.number))
        if known is not None and known["updated_at"] == change.updated_at.isoformat():
            unchanged += 1
            continue
        reviews = client.approvals_of(repo, change)
        cache["changes"][str(change.number)] = _change_entry(change, reviews)
        _save(path, cache)
        imported += 1
        approvals += len(reviews)
    cache["cursor"] = newest.isoformat()
    cache["since"] = covered if resume else since.isoformat()
    _save(path, cache)
    return ImportReport(path, listed, imported, unchanged, approvals)


def _change_entry(change: MergedChange, reviews: list[ReviewRecord]) -> dict[str, Any]:
    entry: dict[str, Any] = asdict(change)
    for key in ("merged_at", "updated_at"):
        entry[key] = entry[key].isoformat()
    entry["approvals"] = [{**asdict(r), "time": r.time.isoformat()} for r in reviews]
    return entry


def _load(path: Path, forge: str, repo: str, api_url: str) -> dict[str, Any]:
    header = {"version": FORMAT_VERSION, "forge": forge, "repository": repo, "api_url": api_url}
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {**header, "since": None, "cursor": None, "changes": {}}
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"{path}: unreadable import cache ({exc}); remove it to start over"
        ) from exc
    mismatch = [k for k, v in header.items() if not isinstance(data, dict) or data.get(k) != v]
    if mismatch or not isinstance(data.get("changes"), dict):
        raise UsageError(
            f"{path}: an import of something else ({', '.join(mismatch) or 'changes'} differ); "
            "remove it to start over"
        )
    return dict(data)


def _save(path: Path, cache: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(cache, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)

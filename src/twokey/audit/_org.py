"""The organisation-wide audit: many repositories, one summary across them (ADR 0020).

Each repository is audited on its own (in a worker process, ``twokey.cli._audit_org``); what
comes back is a :class:`RepoSummary`, a few numbers and names, so the parent's memory grows
with the number of repositories, never with their histories. A repository that cannot be
audited is a failed row with its one reason, and the others go on.
"""

from __future__ import annotations

__all__ = [
    "OrgReport",
    "RepoSummary",
    "find_repositories",
    "repo_summary",
    "write_org_report",
]

import csv
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from twokey._text import printable
from twokey.audit._phrases import open_exceptions
from twokey.audit._report import CANONICAL, AuditReport
from twokey.errors import UsageError

TOP_SIGNALS = 3  # signal kinds named per repository, the most frequent first


@dataclass(frozen=True)
class RepoSummary:
    """One repository's line in the organisation report.

    ``reason`` is set (and the numbers are zero) when the repository could not be audited.
    ``signals`` are the most frequent risk-signal kinds with their counts.
    """

    path: str
    ref: str = ""
    repository: str = ""
    policy: str = ""
    changes: int = 0
    violations: int = 0
    reviewed: int = 0
    break_glass: int = 0
    open_exceptions: int = 0
    signals: tuple[tuple[str, int], ...] = ()
    reason: str | None = None

    @property
    def failed(self) -> bool:
        """True when the repository could not be audited (``reason`` says why)."""
        return self.reason is not None

    @property
    def reviewed_rate(self) -> float | None:
        """Share of changes with at least one counted approval (None: no changes)."""
        return round(self.reviewed / self.changes, 4) if self.changes else None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (docs/audit-json.md, "Organisation report")."""
        return {
            "path": self.path,
            "status": "failed" if self.failed else "ok",
            "reason": self.reason,
            "repository": self.repository,
            "ref": self.ref,
            "policy": self.policy,
            "changes": self.changes,
            "violations": self.violations,
            "reviewed": self.reviewed,
            "reviewed_rate": self.reviewed_rate,
            "break_glass": self.break_glass,
            "open_exceptions": self.open_exceptions,
            "top_signals": [{"kind": k, "count": n} for k, n in self.signals],
        }


def repo_summary(path: str, report: AuditReport) -> RepoSummary:
    """What the organisation report keeps of one repository's full report."""
    totals = report.totals
    kinds = Counter(s.kind for s in report.signals)
    ranked = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_SIGNALS]
    policy = report.policy
    source = "inferred default" if policy.get("default") else str(policy.get("source", ""))
    return RepoSummary(
        path,
        report.ref,
        report.repository,
        source,
        totals.changes,
        totals.violations,
        totals.reviewed,
        totals.break_glass,
        open_exceptions(report),
        tuple(ranked),
    )


@dataclass
class OrgReport:
    """Every repository's summary (sorted by path) and the totals across them."""

    repos: list[RepoSummary] = field(default_factory=list)
    since: str | None = None
    until: str | None = None

    def add(self, summary: RepoSummary) -> None:
        """Keep one repository's summary (in path order)."""
        self.repos.append(summary)
        self.repos.sort(key=lambda r: r.path)

    @property
    def failed(self) -> list[RepoSummary]:
        """The repositories that could not be audited."""
        return [r for r in self.repos if r.failed]

    def totals(self) -> dict[str, Any]:
        """Sums across the repositories audited (failed ones count only as failed)."""
        ok = [r for r in self.repos if not r.failed]
        changes = sum(r.changes for r in ok)
        reviewed = sum(r.reviewed for r in ok)
        kinds: Counter[str] = Counter()
        for r in ok:
            kinds.update(dict(r.signals))
        return {
            "repositories": len(self.repos),
            "audited": len(ok),
            "failed": len(self.repos) - len(ok),
            "changes": changes,
            "violations": sum(r.violations for r in ok),
            "reviewed": reviewed,
            "reviewed_rate": round(reviewed / changes, 4) if changes else None,
            "break_glass": sum(r.break_glass for r in ok),
            "open_exceptions": sum(r.open_exceptions for r in ok),
            "signals": dict(sorted(kinds.items())),
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (docs/audit-json.md, "Organisation report")."""
        return {
            "version": 1,
            "kind": "organisation",
            "period": {"since": self.since, "until": self.until},
            "summary": self.totals(),
            "repositories": [r.to_dict() for r in self.repos],
        }


def _rate(rate: float | None) -> str:
    return f"{rate:.0%}" if rate is not None else "n/a"


def _signals_text(signals: Iterable[tuple[str, int]]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in signals) or "-"


def _text_lines(report: OrgReport) -> Iterator[str]:
    t = report.totals()
    yield (
        f"organisation audit of {t['repositories']} repositories ({t['failed']} failed): "
        f"{t['changes']} changes, {t['violations']} violations, reviewed "
        f"{_rate(t['reviewed_rate'])}, break-glass {t['break_glass']}, "
        f"open exceptions {t['open_exceptions']}"
    )
    for r in report.repos:
        if r.failed:
            yield f"FAILED    {r.path}: {r.reason}"
            continue
        mark = "VIOLATION" if r.violations else "ok       "
        yield (
            f"{mark} {r.path} {r.ref}: {r.changes} changes, {r.violations} violations, "
            f"reviewed {_rate(r.reviewed_rate)}, break-glass {r.break_glass}, "
            f"open exceptions {r.open_exceptions}; signals: {_signals_text(r.signals)}; "
            f"policy: {r.policy}"
        )
    yield "details: twokey audit --repo PATH for one repository's changes"


CSV_COLUMNS = (
    "path",
    "status",
    "reason",
    "ref",
    "changes",
    "violations",
    "reviewed_rate",
    "break_glass",
    "open_exceptions",
    "top_signals",
    "policy",
)


def _csv(report: OrgReport, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in report.repos:
        d = r.to_dict()
        d["top_signals"] = _signals_text(r.signals)
        d["reason"] = r.reason or ""
        writer.writerow(["" if d[c] is None else d[c] for c in CSV_COLUMNS])


def _html(report: OrgReport, out: TextIO) -> None:
    from jinja2 import Environment, PackageLoader  # noqa: PLC0415 - only for HTML

    env = Environment(loader=PackageLoader("twokey.audit", "templates"), autoescape=True)
    template = env.get_template("org.html.j2")
    for piece in template.generate(report=report, totals=report.totals(), rate=_rate):
        out.write(piece)


def write_org_report(report: OrgReport, fmt: str, out: TextIO) -> None:
    """Write the organisation report as ``fmt`` (text, json, csv or html) to ``out``."""
    if fmt == "json":
        out.write(json.dumps(report.to_dict(), **CANONICAL) + "\n")
    elif fmt == "csv":
        _csv(report, out)
    elif fmt == "html":
        _html(report, out)
    else:  # every line escaped: paths, refs and reasons are not ours
        out.writelines(f"{printable(line)}\n" for line in _text_lines(report))


def _is_repository(path: Path) -> bool:
    """A work tree (``.git`` folder or file) or a bare repository (HEAD, objects, refs)."""
    if (path / ".git").exists():
        return True
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


def _listed(file: Path) -> list[Path]:
    """Paths listed one per line; blank lines and ``#`` comments skipped; relative paths are
    relative to the list's own folder (so a list travels with the folder it describes)."""
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the repository list {file}: {exc}") from exc
    out = []
    for line in lines:
        text = line.strip()
        if text and not text.startswith("#"):
            path = Path(text).expanduser()
            out.append(path if path.is_absolute() else file.parent / path)
    return out


def find_repositories(where: Path) -> list[Path]:
    """The repositories ``--repos`` names: a FILE lists them; a DIR holds them (one level).

    In a folder, every child that is a git repository (bare or with a work tree; ``*.git``
    included) is audited, in name order; other children are not repositories and are skipped.
    A listed path that is no repository is kept: its audit fails and says so.

    Raises:
        UsageError: ``where`` does not exist, cannot be read, or names no repository.
    """
    if where.is_dir():
        found = sorted(p for p in where.iterdir() if p.is_dir() and _is_repository(p))
    elif where.is_file():
        found = _listed(where)
    else:
        raise UsageError(f"--repos {where}: no such file or folder")
    if not found:
        raise UsageError(
            f"--repos {where}: no repositories found",
            hint="a folder of git repositories (one level), or a file listing one path per line",
        )
    return list(dict.fromkeys(found))  # each once, in order

"""The audit's start-up reads begun before the walk is imported (``twokey.audit._early``).

The reads are the walk's own (the policy file's versions, the range's people), begun in threads
while the engine and the renderers are imported: the report must be the same byte for byte as
when the walk reads them itself, in a gated repository and under the inferred default, and
``twokey audit`` must not import the walk before it has begun them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.audit.support import build_history
from tests.integration.audit.test_gated_default import gated  # noqa: F401 - the fixture
from tests.integration.git._harness import Server
from tests.support.gitrepo import ALICE, GitRepo
from twokey.audit import AuditOptions, ReportFormat, render, run_audit
from twokey.audit import _early as early_module
from twokey.audit._early import StartReads, start
from twokey.audit._run import walk_audit
from twokey.errors import UsageError
from twokey.git import GitRunner


def _reports(options: AuditOptions) -> list[tuple[str, str]]:
    """Each format's report with the reads begun early and read by the walk itself."""
    early = run_audit(options)
    inline = walk_audit(GitRunner.discover(options.repo), options, None)
    try:
        return [
            (render(early, ReportFormat(f)), render(inline, ReportFormat(f)))
            for f in ("json", "text", "html", "csv")
        ]
    finally:
        early.close()
        inline.close()


def test_a_gated_repository_reports_the_same_with_its_reads_begun_early(
    gated: tuple[Server, dict[str, str]],  # noqa: F811 - the fixture
) -> None:
    server, _ = gated
    for early, inline in _reports(AuditOptions(server.bare.path)):
        assert early == inline


def test_the_inferred_default_reports_the_same_with_its_reads_begun_early(
    tmp_path: Path,
) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    build_history(repo)
    for since in (None, "2020-01-01"):
        for early, inline in _reports(AuditOptions(repo.path, since=since)):
            assert early == inline


@pytest.mark.parametrize("newest", [1, 2, 3, 5, 256])
def test_runs_of_merges_begun_early_give_the_same_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, newest: int
) -> None:
    """The merges of the newest ``EARLY_COMMITS`` first-parent commits are read before the
    walk; the others by the walk: wherever the line falls, the report is the same."""
    monkeypatch.setattr(early_module, "EARLY_COMMITS", newest)
    monkeypatch.setattr(early_module, "FIRST_RUN", 1)
    repo = GitRepo.init(tmp_path / "repo")
    build_history(repo)
    options = AuditOptions(repo.path)
    reads = StartReads(GitRunner.discover(repo.path), options)
    chain = repo.git("log", "--first-parent", "--format=%H %P", f"-n{newest}").splitlines()
    merges = {line.split()[0] for line in chain if len(line.split()) > 2}
    begun = reads.runs()
    assert set(begun) == merges
    assert len(set(begun.values())) == len(merges)  # FIRST_RUN 1, then one run for the rest
    for early, inline in _reports(options):
        assert early == inline


def test_with_a_policy_file_the_policy_and_people_are_not_read_ahead(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit({"a": "1\n"}, "one", ALICE)
    reads = StartReads(GitRunner.discover(repo.path), AuditOptions(repo.path, policy=tmp_path))
    assert reads.versions is None
    assert reads.idents is None
    assert reads.runs() == {}  # no merges


def test_a_missing_ref_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit({"a": "1\n"}, "one", ALICE)
    with pytest.raises(UsageError, match="does not exist"):
        start(AuditOptions(repo.path, ref="refs/heads/nothing"))


def test_the_cli_imports_the_walk_after_it_began_the_reads() -> None:
    """What ``twokey audit`` imports from ``twokey.audit`` before ``run_audit`` starts the
    reads: not the engine, the walk, the ledger or cryptography (~0.1-0.2 s)."""
    code = (
        "import sys\n"
        "from twokey.audit import AuditOptions, ReportFormat, run_audit, text_errors, "
        "write_report\n"
        "import twokey.audit._early\n"
        "heavy = ('twokey.engine', 'twokey.audit._walk', 'twokey.ledger', 'cryptography')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"

"""The fast lane reads each change's shape as the walk's facts give it (twokey.engine.shape_of).

The lane keys its row templates on the engine's ``ChangeShape`` of a change, read from the raw
record; the walk builds the engine's facts. On the seeded random history of
``test_fast_lane`` (people, aliases, review, co-author and other trailers, legacy bytes,
merges, a root commit) both must give every non-merge change the same shape.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tests.integration.audit.support import policy_file
from tests.integration.audit.test_fast_lane import _history
from twokey.audit import AuditOptions, SignalStats, Totals, run_audit
from twokey.audit._default_policy import DefaultPolicy
from twokey.audit._fast import FastLane
from twokey.audit._judgement import Judgement, judge
from twokey.engine import ChangeShape, shape_of
from twokey.evidence import repository_id
from twokey.git._history import first_parent_batches
from twokey.git._run import Git
from twokey.model import RefUpdateFacts
from twokey.policy import Policy

REF = "refs/heads/main"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _history(tmp_path_factory.mktemp("shape") / "repo", 300, seed=11)


def _walk_shapes(
    options: AuditOptions, monkeypatch: pytest.MonkeyPatch
) -> dict[str, ChangeShape | None]:
    """The shape of the facts the walk gives the engine, per landed commit (the slow way)."""
    seen: dict[str, ChangeShape | None] = {}

    def spy(policy: Policy, facts: RefUpdateFacts, now: datetime) -> Judgement:
        seen[facts.change.new] = shape_of(facts)
        return judge(policy, facts, now)

    monkeypatch.setattr("twokey.audit._walk.judge", spy)
    run_audit(options, memo=False).close()
    return seen


@pytest.mark.parametrize("paths", [False, True], ids=["default-policy", "policy-with-paths"])
def test_the_lane_reads_the_shape_the_walk_gives_the_engine(
    history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, paths: bool
) -> None:
    policy = policy_file(tmp_path, accept="trailer", owners=True) if paths else None
    walked = _walk_shapes(AuditOptions(history, policy=policy), monkeypatch)
    git = Git.discover(history)
    rules = DefaultPolicy(REF, None).policy
    lane = FastLane(set(), rules, Totals(), SignalStats(), repository_id(git.git_dir), REF)
    compared = []
    for batch in first_parent_batches(git, REF, paths=paths):
        for record in batch:
            if " " in record[0][2]:
                continue  # merges never take the lane
            commit = record[0][0][1:]
            assert lane.shape(record) == walked[commit], commit
            compared.append(commit)
    assert len(compared) > 250
    assert all(walked[c] for c in compared)  # simple, all of them: the lane can take each

"""The fast lane reads each change's shape as the walk's facts give it (twokey.engine.shape_of).

The lane keys its row templates on the engine's ``ChangeShape`` of a change, read from the raw
record; the walk builds the engine's facts. On the seeded random history of
``test_fast_lane`` (people, aliases, review, co-author and other trailers, legacy bytes,
merges, a root commit) both must give every non-merge change the same shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest

from tests.integration.audit.support import policy_file
from tests.integration.audit.test_fast_lane import _history
from twokey.audit import AuditOptions, run_audit
from twokey.audit._fast import FastLane
from twokey.audit._judgement import Judgement, judge
from twokey.engine import ChangeShape, shape_of
from twokey.model import RefUpdateFacts
from twokey.policy import Policy


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


def _lane_shapes(
    options: AuditOptions, monkeypatch: pytest.MonkeyPatch
) -> dict[str, ChangeShape | None]:
    """The shape the fast lane reads from each record it is offered (the fast way)."""
    seen: dict[str, ChangeShape | None] = {}
    real = FastLane.shape

    def spy(lane: FastLane, record: tuple[Sequence[str], Sequence[str]]) -> ChangeShape | None:
        found = real(lane, record)
        seen[record[0][0][1:]] = found
        return found

    monkeypatch.setattr(FastLane, "shape", spy)
    report = run_audit(options)
    assert report.fast_rows > 0
    report.close()
    return seen


@pytest.mark.parametrize("paths", [False, True], ids=["default-policy", "policy-with-paths"])
def test_the_lane_reads_the_shape_the_walk_gives_the_engine(
    history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, paths: bool
) -> None:
    policy = policy_file(tmp_path, accept="trailer", owners=True) if paths else None
    options = AuditOptions(history, policy=policy)
    walked = _walk_shapes(options, monkeypatch)
    read = _lane_shapes(options, monkeypatch)
    assert len(read) > 250  # every non-merge change of the 300 is offered to the lane
    for commit, shape in read.items():
        assert shape == walked[commit], commit
    assert all(read.values())  # simple, all of them: the lane can take each

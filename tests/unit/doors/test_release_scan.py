"""The release reader reads a ledger on from where it stopped, and notices another ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from twokey.doors._release import recorded_deploys
from twokey.ledger import DeployRecord, open_ledger, to_entry

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def _deploy(commit: str, verdict: str = "allow", environment: str = "production") -> object:
    record = DeployRecord(
        "gateway",
        "shop",
        environment,
        "sha256:ab",
        commit,
        "email:ci@x",
        "",
        None,
        (),
        {"verdict": verdict, "findings": []},
    )
    return to_entry(record, NOW)


def _append(url: str, *entries: object) -> None:
    with open_ledger(url) as ledger:
        ledger.append(list(entries))  # type: ignore[arg-type]


def test_new_deploys_are_read_and_old_ones_kept(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    _append(url, _deploy("a" * 40), _deploy("b" * 40, "deny"), _deploy("c" * 40, environment="qa"))
    assert [d.commit for d in recorded_deploys(url, "shop", "production")] == ["a" * 40]
    _append(url, _deploy("d" * 40))
    found = recorded_deploys(url, "shop", "production")
    assert [(d.index, d.commit) for d in found] == [(0, "a" * 40), (3, "d" * 40)]
    assert [d.commit for d in recorded_deploys(url, "shop", "qa")] == ["c" * 40]
    assert recorded_deploys(url, "other", "production") == []


def test_another_ledger_at_the_same_url_is_read_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    url = f"sqlite://{path}"
    _append(url, _deploy("a" * 40), _deploy("b" * 40))
    assert len(recorded_deploys(url, "shop", "production")) == 2
    for leftover in tmp_path.glob("ledger.db*"):
        leftover.unlink()
    _append(url, _deploy("e" * 40, "deny"), _deploy("f" * 40))  # same size, other entries
    assert [d.commit for d in recorded_deploys(url, "shop", "production")] == ["f" * 40]
    for leftover in tmp_path.glob("ledger.db*"):
        leftover.unlink()
    _append(url, _deploy("9" * 40, "deny"))  # a shorter ledger
    assert recorded_deploys(url, "shop", "production") == []

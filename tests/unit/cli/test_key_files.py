"""Key files are secret from the first byte and never written through a symlink (issue 14, 11)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from twokey.cli import main


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """The worst umask: anything not created 0600 shows up as world-readable."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _keys(out: Path, *extra: str) -> int:
    return main(["keys", "generate", "--out", str(out), "--comment", "t", *extra])


def _ledger_keygen(out: Path, *extra: str) -> int:
    return main(["ledger", "keygen", "--name", "l.test", "--out", str(out), *extra])


KEYGENS = {"keys-generate": _keys, "ledger-keygen": _ledger_keygen}


@pytest.mark.parametrize("generate", KEYGENS.values(), ids=KEYGENS.keys())
def test_the_secret_is_created_0600_with_o_excl_and_o_nofollow(
    generate: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, int, int]] = []
    real_open = os.open

    def spy(path: Any, flags: int, mode: int = 0o777, *args: Any, **kwargs: Any) -> int:
        calls.append((os.fspath(path), flags, mode))
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)  # the module calls os.open at run time
    out = tmp_path / "k"
    assert generate(out) == 0
    [(_, flags, mode)] = [c for c in calls if c[0] == str(out)]
    assert flags & os.O_CREAT
    assert flags & os.O_EXCL
    assert flags & os.O_NOFOLLOW
    assert mode == 0o600
    assert _mode(out) == 0o600
    assert _mode(Path(f"{out}.pub")) == 0o644


@pytest.mark.parametrize("generate", KEYGENS.values(), ids=KEYGENS.keys())
def test_a_dangling_symlink_at_out_is_refused_not_followed(
    generate: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "elsewhere" / "stolen"
    target.parent.mkdir()
    out = tmp_path / "k"
    out.symlink_to(target)
    assert generate(out) == 2
    assert "exists" in capsys.readouterr().err
    assert not target.exists()
    assert not Path(f"{out}.pub").exists()


@pytest.mark.parametrize("generate", KEYGENS.values(), ids=KEYGENS.keys())
def test_a_symlinked_pub_never_overwrites_its_target(
    generate: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "authorized_keys"
    victim.write_text("precious\n")
    out = tmp_path / "k"
    Path(f"{out}.pub").symlink_to(victim)
    assert generate(out) == 2
    assert "exists" in capsys.readouterr().err
    assert victim.read_text() == "precious\n"
    assert not out.exists()


def test_ledger_keygen_force_replaces_a_0644_file_with_a_0600_one(tmp_path: Path) -> None:
    out = tmp_path / "ledger.key"
    out.write_text("old secret\n")
    out.chmod(0o644)
    assert _ledger_keygen(out) == 2
    assert out.read_text() == "old secret\n"
    assert _ledger_keygen(out, "--force") == 0
    assert out.read_text().startswith("PRIVATE+KEY+l.test+")
    assert _mode(out) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_ledger_keygen_force_replaces_symlinks_themselves_not_their_targets(
    tmp_path: Path,
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    out = tmp_path / "ledger.key"
    out.symlink_to(victim)
    Path(f"{out}.pub").symlink_to(victim)
    assert _ledger_keygen(out, "--force") == 0
    assert victim.read_text() == "precious\n"
    assert not out.is_symlink()
    assert not Path(f"{out}.pub").is_symlink()
    assert _mode(out) == 0o600

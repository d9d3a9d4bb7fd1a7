"""Per-repository settings from git config (``twokey.*``), read with one git process."""

from __future__ import annotations

__all__ = ["RepositorySettings", "repository_settings"]

from collections.abc import Mapping
from dataclasses import dataclass

from twokey.git._process import Git


@dataclass(frozen=True, slots=True)
class RepositorySettings:
    """``repository``: the id approvals are bound to; ``ledger``: URL, or "" for none."""

    repository: str
    ledger: str = ""


def repository_settings(git: Git, env: Mapping[str, str]) -> RepositorySettings:
    """Read ``twokey.repository`` and ``twokey.ledger``; ``TWOKEY_LEDGER`` overrides the latter.

    Without ``twokey.repository`` the id is the repository directory's name without ``.git``
    (``/srv/git/shop.git`` -> ``shop``), which is what a clone's origin URL ends in.
    """
    result = git.run(["config", "--get-regexp", r"^twokey\."], ok=(0, 1))
    values: dict[str, str] = {}
    for line in result.out.decode(errors="replace").splitlines():
        key, _, value = line.partition(" ")
        values[key.lower()] = value.strip()
    repository = values.get("twokey.repository") or default_repository_id(git)
    ledger = env.get("TWOKEY_LEDGER", "").strip() or values.get("twokey.ledger", "")
    return RepositorySettings(repository, ledger)


def default_repository_id(git: Git) -> str:
    """The repository directory's name, without ``.git`` (also for a work tree's ``.git``)."""
    path = git.git_dir.resolve()
    if path.name == ".git":
        path = path.parent
    return path.name.removesuffix(".git")

"""Running git plumbing: one place that spawns ``git`` and turns failures into our errors."""

from __future__ import annotations

__all__ = ["GitResult", "Plumbing"]

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from twokey._spawn import spawn_git
from twokey.errors import InfrastructureError

# No user or system configuration may change what plumbing prints (aliases, log.showSignature,
# diff.renames...); the repository's own config still applies.
_CLEAN_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C"}
_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class GitResult:
    """What a git process returned."""

    code: int
    out: bytes
    err: str


class Plumbing:
    """Runs ``git`` against one repository (a bare repository or a ``.git`` directory).

    Args:
        git_dir: the repository's git directory.
        env: the environment git runs in; the hook passes its own, so that git sees the
            quarantine object directory of a push (git-receive-pack(1), "QUARANTINE").
    """

    def __init__(self, git_dir: Path, env: Mapping[str, str] | None = None) -> None:
        self.git_dir = git_dir
        base = dict(os.environ if env is None else env)
        base.update(_CLEAN_ENV)
        base["GIT_DIR"] = str(git_dir)
        self._env = base

    def run(
        self, args: Sequence[str], *, stdin: bytes | None = None, ok: Sequence[int] = (0,)
    ) -> GitResult:
        """Run ``git ARGS``; any exit code outside ``ok`` raises :class:`InfrastructureError`."""
        proc = spawn_git(args, env=self._env, stdin=stdin, timeout=_TIMEOUT)
        err = proc.stderr.decode(errors="replace").strip()
        if proc.returncode not in ok:
            raise InfrastructureError(
                f"git {' '.join(args[:3])} failed ({proc.returncode}): {err or 'no message'}"
            )
        return GitResult(proc.returncode, proc.stdout, err)

    def text(self, *args: str, stdin: bytes | None = None) -> str:
        """Run git and return its standard output as stripped text."""
        return self.run(args, stdin=stdin).out.decode(errors="replace").strip()

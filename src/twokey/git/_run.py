"""Running git: one place that turns git failures into InfrastructureError."""

from __future__ import annotations

__all__ = ["Git", "GitError"]

import os
from collections.abc import Mapping
from pathlib import Path

from twokey._spawn import spawn_git
from twokey.errors import InfrastructureError

_ENV = {"LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}


class GitError(InfrastructureError):
    """git failed or is missing; its stderr is in the message."""


class Git:
    """A repository, addressed by its git directory (bare or ``.git``)."""

    def __init__(self, git_dir: Path, env: Mapping[str, str] | None = None) -> None:
        self.git_dir = git_dir
        self.env = {**os.environ, **_ENV, **(env or {})}

    @classmethod
    def discover(cls, path: Path | str = ".") -> Git:
        """The repository containing ``path`` (a work tree or a bare repository)."""
        out = spawn_git(["-C", str(path), "rev-parse", "--absolute-git-dir"])
        if out.returncode != 0:
            raise GitError(
                f"{path} is not a git repository", hint="run inside a clone, or pass --repo PATH"
            )
        return cls(Path(out.stdout.decode().strip()))

    def run(self, *args: str, stdin: bytes | None = None, check: bool = True) -> bytes:
        """Run ``git args`` and return stdout; a failure raises :class:`GitError`."""
        result = spawn_git(["--git-dir", str(self.git_dir), *args], env=self.env, stdin=stdin)
        if check and result.returncode != 0:
            message = result.stderr.decode(errors="replace").strip()
            raise GitError(f"git {' '.join(args[:3])} failed: {message}")
        return result.stdout

    def text(self, *args: str) -> str:
        """``run`` decoded and stripped."""
        return self.run(*args).decode(errors="replace").strip()

    def ok(self, *args: str) -> bool:
        """True when ``git args`` exits 0."""
        return spawn_git(["--git-dir", str(self.git_dir), *args], env=self.env).returncode == 0

    def rev_parse(self, rev: str) -> str:
        """The full object id of ``rev``."""
        return self.text("rev-parse", "--verify", "--end-of-options", f"{rev}^{{object}}")

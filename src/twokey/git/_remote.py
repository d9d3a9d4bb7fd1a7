"""The one command line that asks a remote for its branches and tags (``git ls-remote``).

The trusted-policy resolver (``twokey.doors._trusted``, invariant 14) runs it; a door that
knows its repository and remote before it imports the resolver starts it with the same
runner (``GitRunner.start``, ADR 0035 and 0037), so the remote answers while Python imports.
Standard library and the runner only: ``twokey deploy check`` imports it at start-up.
"""

from __future__ import annotations

__all__ = ["ls_remote_args", "start_first_reads", "start_ls_remote"]

from pathlib import Path

from twokey._gitrunner import GitConfig, GitRunner
from twokey.git._repository import start_settings


def ls_remote_args(git_dir: Path, remote: str) -> tuple[str, ...]:
    """``git ls-remote`` of ``remote``'s default branch (``--symref HEAD``), branches and tags;
    ``.`` is the repository at ``git_dir`` itself, wherever the process runs (git would read
    ``.`` as the current directory)."""
    target = str(git_dir) if remote == "." else remote
    return (
        "ls-remote",
        "--symref",
        "--end-of-options",
        target,
        "HEAD",
        "refs/heads/*",
        "refs/tags/*",
    )


def start_ls_remote(git: GitRunner, remote: str) -> None:
    """Start :func:`ls_remote_args`' process now for a later call of the same runner. Never for
    ``.``: the resolver first checks that this is a bare repository."""
    if remote != ".":
        git.start(*ls_remote_args(git.git_dir, remote))


def start_first_reads(repo: Path, remote: str) -> Path:
    """The git directory of ``repo`` (:meth:`GitRunner.discover`), with a door's first reads
    started there as its reader (``GitReader``: isolated, this process's environment) will run
    them: the remote's refs and the repository's settings (``repository_settings``)."""
    git = GitRunner(GitRunner.discover(repo).git_dir, config=GitConfig.ISOLATED)
    start_ls_remote(git, remote)
    start_settings(git)
    return git.git_dir

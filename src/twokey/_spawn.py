"""Spawning git: the one place that starts the process and says why it could not start.

The three ways twokey runs git keep their own policies (the gate's plumbing ignores the
user's configuration and has a time limit; porcelain for the command line runs in the user's
configuration; the evidence store sits below the git package) but start git here.
"""

from __future__ import annotations

__all__ = ["spawn_git"]

import subprocess
from collections.abc import Mapping, Sequence

from twokey.errors import InfrastructureError


def spawn_git(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git ARGS`` to completion, output captured; any exit code is returned.

    Raises:
        InfrastructureError: git could not be started, or ran past ``timeout`` seconds.
    """
    try:
        return subprocess.run(
            ["git", *args],
            input=stdin,
            capture_output=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        command = f"git {args[0]}" if args else "git"
        raise InfrastructureError(
            f"cannot run {command}: {exc}", hint="is git installed and on PATH?"
        ) from exc

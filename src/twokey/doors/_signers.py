"""The allowed-signers file git needs to check signed pushes, written from the trusted policy.

``git push --signed`` with SSH keys needs ``gpg.format=ssh`` and ``gpg.ssh.allowedSignersFile``
on the server (git-config(1)); ``hook install`` sets both and writes the file from the policy.
The hook rewrites it whenever it judges a signed push and the policy's keys changed, so it
follows the trusted policy. git's verdict is only a courtesy to the pusher: the hook verifies
every certificate itself against the trusted policy (``_pushcert``), so a file one push behind
never lets a removed key through.
"""

from __future__ import annotations

__all__ = ["SIGNERS_FILE", "refresh_allowed_signers"]

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twokey.policy import Policy

SIGNERS_FILE = "twokey/allowed_signers"


def refresh_allowed_signers(git_dir: Path, policy: Policy | None) -> Path:
    """Write ``$GIT_DIR/twokey/allowed_signers`` for ``policy`` (empty without one), if changed.

    Best effort: an unwritable file only costs the pusher git's courtesy verdict.
    """
    from twokey.evidence import allowed_signers_text  # noqa: PLC0415

    path = git_dir / SIGNERS_FILE
    text = allowed_signers_text(policy, ("git",)) if policy is not None else ""
    try:
        if path.is_file() and path.read_text() == text:
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.replace(path)
    except OSError:
        pass
    return path

"""Writing key files safely: secret from the first byte, never through a symlink (issue 14).

A private key written with the umask's mode and then ``chmod``-ed is readable by others for a
moment; one written through a symlink planted at ``--out`` (or at its ``.pub``) lands wherever
the link points, or overwrites that file. So every key file is created with
``O_CREAT | O_EXCL | O_NOFOLLOW`` and its final mode, and replacing one (``--force``) writes a
fresh file beside it the same way and renames it over the old name: ``rename(2)`` replaces the
directory entry (a symlink itself, not its target), so an old 0644 file never keeps its mode.
"""

from __future__ import annotations

__all__ = ["PUBLIC", "SECRET", "write_new"]

import os
from pathlib import Path

from twokey.errors import UsageError

SECRET = 0o600
PUBLIC = 0o644
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _create(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` (it must not exist, not even as a dangling link) holding ``data``."""
    fd = os.open(path, _FLAGS, mode)
    try:
        os.fchmod(fd, mode)  # the umask may only have narrowed it; never wider than asked
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_new(path: Path, data: bytes, mode: int, *, replace: bool = False) -> None:
    """Write a key file with ``mode`` from the start, never following a symlink.

    Args:
        path: the file; its directory is created (mode 0700) when missing.
        data: the whole content.
        mode: :data:`SECRET` or :data:`PUBLIC`.
        replace: replace an existing file (or link) at ``path`` through a renamed temp file;
            without it an existing name (a dangling symlink included) is refused.

    Raises:
        UsageError: ``path`` exists (without ``replace``) or cannot be written.
    """
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not replace:
            _create(path, data, mode)
            return
        temp = path.with_name(f".{path.name}.{os.urandom(8).hex()}.tmp")
        _create(temp, data, mode)
        try:
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    except FileExistsError as exc:
        raise UsageError(
            f"{path} exists (or is a symlink); refusing to overwrite a key file",
            hint="move it aside, or pass --force where the command offers it",
        ) from exc
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from exc

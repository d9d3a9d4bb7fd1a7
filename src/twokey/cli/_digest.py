"""An artifact named on the command line: ``sha256:<hex>`` or a file whose digest is taken.

A module of its own so that ``twokey deploy check`` reads it without importing ``twokey
attest`` (which loads the signing libraries: start-up time, issue 10 item 9).
"""

from __future__ import annotations

__all__ = ["artifact_digest"]

import re
from pathlib import Path

from twokey.errors import UsageError

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def artifact_digest(value: str) -> str:
    """``sha256:<hex>`` as given, or the digest of the named file."""
    if value.startswith("sha256:"):
        if not _DIGEST.match(value):
            raise UsageError(f"bad digest {value!r}: expected sha256:<64 hex digits>")
        return value
    import hashlib  # noqa: PLC0415 - OpenSSL, for files only (a digest given needs none)

    try:
        return "sha256:" + hashlib.sha256(Path(value).read_bytes()).hexdigest()
    except OSError as exc:
        raise UsageError(f"cannot read artifact {value}: {exc.strerror}") from exc

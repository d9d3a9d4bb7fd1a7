"""SHA-256 and SHA-512 without loading OpenSSL (issue 10 item 9, ADR 0031).

``import hashlib`` loads OpenSSL's ``libcrypto`` and lists every digest it provides: about 2 ms
of a door's start-up, for the two digests twokey uses on small inputs (envelopes, policies,
keys). CPython's own implementations give the same digests; ``hashlib`` (OpenSSL, faster on
large inputs) is the fallback where they are missing, and stays in use for artifact files.
"""

from __future__ import annotations

__all__ = ["sha256", "sha512"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hashlib import sha256, sha512
else:
    try:  # CPython 3.11 (3.12 and later: _sha2)
        from _sha256 import sha256
        from _sha512 import sha512
    except ImportError:  # another Python
        try:
            from _sha2 import sha256, sha512
        except ImportError:
            from hashlib import sha256, sha512

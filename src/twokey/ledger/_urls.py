"""PostgreSQL URLs: the ``schema=NAME`` parameter and passwords kept out of messages.

Apart from the store so that other stores on the same database (the forge's deliveries and
evidence) read URLs the same way without importing psycopg.
"""

from __future__ import annotations

__all__ = ["redact", "split_schema"]

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from twokey.errors import UsageError

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def split_schema(url: str) -> tuple[str, str | None]:
    """Take a ``schema=NAME`` query parameter out of a PostgreSQL URL."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    if schema is not None and not _SCHEMA.match(schema):
        raise UsageError(f"bad schema name {schema!r} in the ledger URL")
    return urlunsplit(parts._replace(query=rest)), schema


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))

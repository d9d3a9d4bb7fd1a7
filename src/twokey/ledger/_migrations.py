"""Numbered schema migrations of the ledger tables (applied in order, once, recorded).

Each migration is a list of SQL statements; ``{blob}`` becomes ``BLOB`` (SQLite) or ``BYTEA``
(PostgreSQL). ``twokey_migrations`` records what was applied; a database newer than this code
is refused rather than guessed at. Never edit a released migration: add the next number.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "Migration"]

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    """One schema step."""

    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "entries, interior nodes, the single-row head, signed checkpoints",
        (
            # The exact entry bytes and their RFC 6962 leaf hash (level 0 of the tree).
            "CREATE TABLE twokey_entries (idx BIGINT PRIMARY KEY, data {blob} NOT NULL, "
            "leaf {blob} NOT NULL)",
            # Every complete perfect subtree above the leaves: covers [idx << level, ...).
            "CREATE TABLE twokey_nodes (level INTEGER NOT NULL, idx BIGINT NOT NULL, "
            "hash {blob} NOT NULL, PRIMARY KEY (level, idx))",
            # One row: the lock appenders queue on, and the tree they extend.
            "CREATE TABLE twokey_head (id INTEGER PRIMARY KEY CHECK (id = 1), "
            "size BIGINT NOT NULL, root {blob} NOT NULL, frontier {blob} NOT NULL)",
            "INSERT INTO twokey_head (id, size, root, frontier) "
            "VALUES (1, 0, {empty_root}, {empty})",
            "CREATE TABLE twokey_checkpoints (size BIGINT NOT NULL, root {blob} NOT NULL, "
            "note TEXT NOT NULL)",
            "CREATE INDEX twokey_checkpoints_size ON twokey_checkpoints (size)",
        ),
    ),
)

"""Following a remote log from its C2SP tlog-tiles: verify everything it serves.

The network stays outside: :func:`follow` takes a ``fetch(path, limit)`` function (the CLI
gives it one over HTTP; tests can give it a directory), so this module only decides.
"""

from __future__ import annotations

__all__ = ["Fetch", "FollowReport", "RemoteLogError", "follow", "parse_bundle"]

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from twokey.errors import VerificationError
from twokey.ledger._compact import fold, grow
from twokey.ledger._merkle import EMPTY_ROOT, HASH_SIZE, leaf_hash
from twokey.ledger._note import MAX_NOTE_BYTES, Checkpoint, NoteError, NoteVerifier, open_note
from twokey.ledger._tiles import (
    MAX_BUNDLED_ENTRY,
    TILE_HEIGHT,
    TILE_WIDTH,
    TileRef,
    level_refs,
    tile_refs,
)

# fetch(path relative to the log's prefix, most bytes accepted) -> body, or None for a 404.
Fetch = Callable[[str, int], bytes | None]
MAX_BUNDLE_BYTES = TILE_WIDTH * (2 + MAX_BUNDLED_ENTRY)


class RemoteLogError(VerificationError):
    """The remote log serves something its signed checkpoint does not vouch for."""

    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            hint="the log, or whatever serves it, is lying or broken: keep the last verified "
            "state and report it to the log's operator",
        )


@dataclass(frozen=True)
class FollowReport:
    """What :func:`follow` verified: the new checkpoint (and its note), from what, how much."""

    checkpoint: Checkpoint
    note: str
    previous: Checkpoint | None
    tiles: int
    bundles: int


def follow(
    fetch: Fetch, verifier: NoteVerifier, previous: Checkpoint | None = None
) -> FollowReport:
    """Verify a tlog-tiles log completely against ``verifier`` (and ``previous``).

    Steps: (1) the checkpoint is a note signed by ``verifier`` whose origin is the key's name;
    (2) against ``previous`` (a checkpoint verified earlier): not smaller (a rollback), not a
    different root at the same size (a fork); (3) every entry bundle holds exactly its width
    of length-prefixed entries and nothing else; (4) every tile at every level equals the
    hashes recomputed from those entries (RFC 6962 §2.1); (5) the entries reproduce the
    checkpoint's root, and ``previous``'s root at its size (so the log extends it).

    Raises:
        RemoteLogError, NoteError: what failed, naming the path.
    """
    note, checkpoint = _checkpoint(fetch, verifier)  # step 1
    if previous is not None:
        _no_rollback(previous, checkpoint)  # step 2
    rebuild = _Rebuild(previous)
    tiles = bundles = 0
    for ref in level_refs(None, checkpoint.size):  # steps 3 and 4 (level 0: the leaf hashes)
        leaves = [leaf_hash(data) for data in _entries(fetch, ref)]
        _check_tile(fetch, TileRef(0, ref.index, ref.width), b"".join(leaves))
        rebuild.add(leaves)
        tiles, bundles = tiles + 1, bundles + 1
    for ref in tile_refs(checkpoint.size):  # step 4, the levels above
        if ref.level:
            start = ref.index << TILE_HEIGHT
            hashes = rebuild.level(ref.height)[start : start + ref.width]
            _check_tile(fetch, ref, b"".join(hashes))
            tiles += 1
    if rebuild.root() != checkpoint.root:  # step 5
        raise RemoteLogError(
            f"the served entries do not reproduce the root of the checkpoint of size "
            f"{checkpoint.size}"
        )
    return FollowReport(checkpoint, note, previous, tiles, bundles)


def _checkpoint(fetch: Fetch, verifier: NoteVerifier) -> tuple[str, Checkpoint]:
    body = _require(fetch, "checkpoint", MAX_NOTE_BYTES)
    try:
        note = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError("the served checkpoint is not UTF-8 text") from exc
    checkpoint = Checkpoint.parse(open_note(note, verifier))
    if checkpoint.origin != verifier.name:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not {verifier.name!r}")
    return note, checkpoint


def _no_rollback(previous: Checkpoint, checkpoint: Checkpoint) -> None:
    if checkpoint.size < previous.size:
        raise RemoteLogError(
            f"the log now serves a checkpoint of size {checkpoint.size}, smaller than the "
            f"{previous.size} verified before: it was rolled back or forked"
        )
    if checkpoint.size == previous.size and checkpoint.root != previous.root:
        raise RemoteLogError(
            f"the checkpoint of size {checkpoint.size} has another root than the one verified "
            "before: the log forked"
        )


def _require(fetch: Fetch, path: str, limit: int) -> bytes:
    body = fetch(path, limit)
    if body is None:
        raise RemoteLogError(f"{path} is not served (404)")
    return body


def _fetch_ref(fetch: Fetch, ref: TileRef, limit: int) -> tuple[str, bytes, bool]:
    """(path, body, from the full tile): tlog-tiles lets a client fall back to the full tile
    when a partial one was deleted after the log grew."""
    body = fetch(ref.path(), limit)
    if body is None and ref.partial:
        full = fetch(ref.full().path(), limit)
        if full is not None:
            return ref.full().path(), full, True
    if body is None:
        raise RemoteLogError(f"{ref.path()} is not served (404)")
    return ref.path(), body, False


def _entries(fetch: Fetch, ref: TileRef) -> list[bytes]:
    path, body, full = _fetch_ref(fetch, ref, MAX_BUNDLE_BYTES)
    entries = parse_bundle(body, TILE_WIDTH if full else ref.width, path)
    return entries[: ref.width]


def parse_bundle(body: bytes, width: int, path: str = "entry bundle") -> list[bytes]:
    """Exactly ``width`` entries, each a big-endian uint16 length and its bytes, nothing more."""
    entries: list[bytes] = []
    at = 0
    while at < len(body) and len(entries) < width:
        if at + 2 > len(body):
            break
        length = int.from_bytes(body[at : at + 2], "big")
        entry = body[at + 2 : at + 2 + length]
        if len(entry) != length:
            break
        entries.append(entry)
        at += 2 + length
    if len(entries) != width or at != len(body):
        raise RemoteLogError(
            f"{path} does not hold exactly {width} length-prefixed entries ({len(body)} bytes, "
            f"{len(entries)} entries read, {len(body) - at} bytes left over)"
        )
    return entries


def _check_tile(fetch: Fetch, ref: TileRef, expected: bytes) -> None:
    path, body, full = _fetch_ref(fetch, ref, TILE_WIDTH * HASH_SIZE)
    served = TILE_WIDTH if full else ref.width
    if len(body) != served * HASH_SIZE:
        raise RemoteLogError(
            f"{path} is {len(body)} bytes, not {served} hashes of {HASH_SIZE} bytes"
        )
    if body[: ref.width * HASH_SIZE] != expected:
        raise RemoteLogError(f"{path} does not match the hashes of the served entries")


@dataclass
class _Rebuild:
    """The tree grown from the served leaves: its frontier and the hashes upper tiles hold
    (the leaves themselves are checked bundle by bundle and not kept)."""

    previous: Checkpoint | None
    size: int = 0
    frontier: list[bytes] = field(default_factory=list)
    levels: dict[int, list[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.previous is not None and self.previous.size == 0:
            self._check_previous()

    def add(self, leaves: list[bytes]) -> None:
        """Grow by ``leaves``, stopping at ``previous``'s size to check its root."""
        for part in self._split(leaves):
            nodes, self.frontier = grow(self.size, self.frontier, part)
            for level, _, value in nodes:
                if level % TILE_HEIGHT == 0:
                    self.levels.setdefault(level, []).append(value)
            self.size += len(part)
            if self.previous is not None and self.size == self.previous.size:
                self._check_previous()

    def _split(self, leaves: list[bytes]) -> Iterator[list[bytes]]:
        cut = (self.previous.size if self.previous else 0) - self.size
        if 0 < cut < len(leaves):
            yield leaves[:cut]
            leaves = leaves[cut:]
        yield leaves

    def _check_previous(self) -> None:
        if self.previous is not None and self.root() != self.previous.root:
            raise RemoteLogError(
                f"the served entries do not reproduce the checkpoint of size "
                f"{self.previous.size} verified before: the log was rewritten (a fork)"
            )

    def level(self, height: int) -> list[bytes]:
        """The recomputed hashes at tree level ``height`` (complete subtrees only)."""
        return self.levels.get(height, [])

    def root(self) -> bytes:
        """MTH of the leaves so far."""
        return fold(self.frontier) if self.frontier else EMPTY_ROOT

"""The log as C2SP tlog-tiles: static tiles, entry bundles and the signed checkpoint.

c2sp.org/tlog-tiles serves a log as immutable files any verifier or witness can fetch:

- ``checkpoint``: the signed note (``text/plain; charset=utf-8``, cached a few seconds at most);
- ``tile/<L>/<N>[.p/<W>]``: hashes ``N*256 .. N*256+W-1`` of tree level ``8*L`` (level 0: the
  leaf hashes), 32 bytes each; a full tile holds 256, a partial one ``W`` (1..255);
- ``tile/entries/<N>[.p/<W>]``: the entries of level-0 tile ``N``, each a big-endian uint16
  length and the exact entry bytes.

``N`` is written in zero-padded 3-digit path elements, all but the last prefixed with ``x``
(1234067 is ``x001/x234/067``). Everything is served from the stored log at its latest signed
checkpoint, never beyond its size, reading the stored subtree hashes (nothing is recomputed).
"""

from __future__ import annotations

__all__ = [
    "MAX_BUNDLED_ENTRY",
    "TILE_WIDTH",
    "TileError",
    "TileRef",
    "TileResponse",
    "TilesWritten",
    "encode_bundle",
    "level_refs",
    "tile",
    "tile_refs",
    "write_tiles",
]

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from twokey.errors import InfrastructureError, UsageError
from twokey.ledger._ledger import Ledger
from twokey.ledger._note import Checkpoint, NoteError
from twokey.ledger._store import LedgerCorruptError, MissingHashError, StoredCheckpoint

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes
MAX_LEVEL = 63
MAX_BUNDLED_ENTRY = 0xFFFF  # a uint16 length prefix
HASH_TYPE = "application/octet-stream"
CHECKPOINT_TYPE = "text/plain; charset=utf-8"
IMMUTABLE = "public, max-age=31536000, immutable"
PARTIAL = "public, max-age=60"  # the full tile replaces it; a log may then delete it
CHECKPOINT_CACHE = "no-cache"  # tlog-tiles: no caching beyond a few seconds
_PATH = re.compile(
    r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/){0,6}[0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?"
)


class TileError(InfrastructureError):
    """A tile cannot be produced from the stored log (not an attack on the request)."""


@dataclass(frozen=True)
class TileRef:
    """One tile or entry bundle: ``level`` None for an entry bundle, ``width`` 1..256."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    @property
    def partial(self) -> bool:
        """True for a partial tile (its path ends in ``.p/<W>``)."""
        return self.width < TILE_WIDTH

    @property
    def height(self) -> int:
        """The tree level of the tile's hashes (entry bundles sit at level 0)."""
        return TILE_HEIGHT * (self.level or 0)

    def path(self) -> str:
        """The tlog-tiles path, e.g. ``tile/0/x001/234.p/7`` or ``tile/entries/000``."""
        level = "entries" if self.level is None else str(self.level)
        suffix = f".p/{self.width}" if self.partial else ""
        return f"tile/{level}/{encode_index(self.index)}{suffix}"

    def full(self) -> TileRef:
        """The full tile this partial tile is a prefix of."""
        return TileRef(self.level, self.index)

    def fits(self, size: int) -> bool:
        """True when a tree of ``size`` entries holds every hash of this tile."""
        return (self.index << TILE_HEIGHT) + self.width <= size >> self.height

    @classmethod
    def parse(cls, path: str) -> TileRef | None:
        """The tile a path names, or None unless it is exactly a canonical tlog-tiles path."""
        match = _PATH.fullmatch(path) if len(path) <= 64 else None
        if match is None:
            return None
        level_text, index_text, width_text = match.groups()
        level = None if level_text == "entries" else int(level_text)
        width = int(width_text) if width_text else TILE_WIDTH
        index = int(index_text.replace("x", "").replace("/", ""))
        ref = cls(level, index, width)
        if (level or 0) > MAX_LEVEL or width > TILE_WIDTH or ref.path() != path:
            return None  # out of range, x255/.p/256 or not canonical (x000/001 for 1)
        return ref


def encode_index(index: int) -> str:
    """tlog-tiles ``<N>``: zero-padded 3-digit elements, all but the last prefixed with x."""
    digits = str(index)
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def tile_refs(size: int) -> Iterator[TileRef]:
    """Every tile and entry bundle of a tree of ``size`` entries: bundles, then tiles by level
    (lazily: a checkpoint claiming a huge size costs nothing until its tiles are fetched)."""
    yield from level_refs(None, size)
    level = 0
    while size >> (TILE_HEIGHT * level):
        yield from level_refs(level, size >> (TILE_HEIGHT * level))
        level += 1


def level_refs(level: int | None, count: int) -> Iterator[TileRef]:
    """The tiles of one level holding ``count`` hashes: full ones, then the partial one."""
    for index in range(count >> TILE_HEIGHT):
        yield TileRef(level, index)
    if count % TILE_WIDTH:
        yield TileRef(level, count >> TILE_HEIGHT, count % TILE_WIDTH)


@dataclass(frozen=True)
class TileResponse:
    """What to send for a tlog-tiles path: the bytes, their content type and cache policy."""

    body: bytes
    content_type: str
    cache_control: str


def tile(ledger: Ledger, path: str) -> TileResponse | None:
    """The response for ``path`` (``checkpoint`` or a ``tile/...`` path), None for a 404.

    A malformed path, a tile beyond the latest signed checkpoint and a log with no checkpoint
    are all None: nothing is served that no signed checkpoint covers.

    Raises:
        TileError: an entry of the bundle is too long for a uint16 length prefix.
        LedgerCorruptError, MissingHashError: the store is damaged.
        InfrastructureError: the database failed.
    """
    ref = None if path == "checkpoint" else TileRef.parse(path)
    if ref is None and path != "checkpoint":
        return None
    with ledger.store.snapshot():
        latest = ledger.store.latest_checkpoint()
        if latest is None:
            return None
        size = signed_size(latest)
        if ref is None:
            return TileResponse(latest.note.encode(), CHECKPOINT_TYPE, CHECKPOINT_CACHE)
        if not ref.fits(size):
            return None
        body = _bundle(ledger, ref) if ref.level is None else _hashes(ledger, ref)
    return TileResponse(body, HASH_TYPE, PARTIAL if ref.partial else IMMUTABLE)


def signed_size(checkpoint: StoredCheckpoint) -> int:
    """The size the stored checkpoint's note signs (what clients see), checked against its row."""
    try:
        size = Checkpoint.parse(checkpoint.note[: checkpoint.note.rfind("\n\n") + 1]).size
    except NoteError as exc:
        raise LedgerCorruptError(f"the latest stored checkpoint is malformed: {exc}", None) from exc
    if size != checkpoint.size:
        raise LedgerCorruptError(
            f"the latest stored checkpoint says size {size} but is stored as {checkpoint.size}",
            None,
        )
    return size


def _hashes(ledger: Ledger, ref: TileRef) -> bytes:
    """The tile's hashes by one range read: leaf hashes for level 0, stored nodes above."""
    start = ref.index << TILE_HEIGHT
    end = start + ref.width
    rows: Iterator[tuple[int, bytes]]
    if ref.level == 0:
        rows = ((index, leaf) for index, _, leaf in ledger.store.entries(start, end))
    else:
        rows = ledger.store.nodes(ref.height, start, end)
    return b"".join(_contiguous(rows, start, ref.width, f"level-{ref.height} hash"))


def _bundle(ledger: Ledger, ref: TileRef) -> bytes:
    start = ref.index << TILE_HEIGHT
    rows = ((index, data) for index, data, _ in ledger.store.entries(start, start + ref.width))
    return encode_bundle(_contiguous(rows, start, ref.width, "entry"), start)


def _contiguous(
    rows: Iterator[tuple[int, bytes]], start: int, width: int, what: str
) -> list[bytes]:
    """The values of rows ``start .. start + width - 1``, or the store is damaged."""
    values: list[bytes] = []
    for index, value in rows:
        if index != start + len(values):
            break
        values.append(value)
    if len(values) != width:
        raise MissingHashError(
            f"the ledger store is damaged: {what} {start + len(values)} is missing",
            hint="run `twokey ledger verify` to find the first bad index",
        )
    return values


def encode_bundle(datas: list[bytes], start: int = 0) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length and its exact bytes."""
    out = []
    for offset, data in enumerate(datas):
        if len(data) > MAX_BUNDLED_ENTRY:
            raise TileError(
                f"entry {start + offset} is {len(data)} bytes; a tlog-tiles entry bundle holds "
                f"entries of at most {MAX_BUNDLED_ENTRY} bytes",
                hint="see docs/adr/0022-tlog-tiles.md: its bundle cannot be served",
            )
        out.append(len(data).to_bytes(2, "big") + data)
    return b"".join(out)


@dataclass(frozen=True)
class TilesWritten:
    """What :func:`write_tiles` wrote: the checkpoint's size, tiles and entry bundles."""

    size: int
    tiles: int
    bundles: int


def write_tiles(ledger: Ledger, out: Path) -> TilesWritten:
    """Write every tile, entry bundle and then the checkpoint under ``out`` for a static server.

    The checkpoint is written last and each file is renamed into place, so a server never
    hands out a checkpoint whose tiles are not there yet, nor half a file.

    Raises:
        UsageError: the log has no signed checkpoint yet.
        TileError: an entry is too long for a bundle, or a file cannot be written (no
            checkpoint is written then).
    """
    with ledger.store.snapshot():
        latest = ledger.store.latest_checkpoint()
        if latest is None:
            raise UsageError(
                "the ledger has no signed checkpoint to publish",
                hint="run `twokey ledger checkpoint --key KEY` first",
            )
        tiles = bundles = 0
        for ref in tile_refs(signed_size(latest)):
            if ref.level is None:
                _write(out / ref.path(), _bundle(ledger, ref))
                bundles += 1
            else:
                _write(out / ref.path(), _hashes(ledger, ref))
                tiles += 1
    _write(out / "checkpoint", latest.note.encode())
    return TilesWritten(latest.size, tiles, bundles)


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600; the files are public
        os.replace(temporary, path)
    except OSError as exc:
        raise TileError(f"cannot write {path}: {exc.strerror}") from exc

"""C2SP tlog-tiles conventions: paths, which tiles a tree has, entry bundles, and following a
log through a fetch function (the HTTP tests are in tests/integration/ledger/test_tiles_http.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twokey.ledger import (
    EMPTY_ROOT,
    Checkpoint,
    Fetch,
    NoteError,
    NoteSigner,
    RemoteLogError,
    TileRef,
    follow,
    generate_signer,
    leaf_hash,
    root,
    sign_note,
)
from twokey.ledger._follow import parse_bundle
from twokey.ledger._tiles import encode_bundle, encode_index, tile_refs

SPEC_INDICES = [
    (0, "000"),
    (7, "007"),
    (999, "999"),
    (1000, "x001/000"),
    (1234067, "x001/x234/067"),  # the example of c2sp.org/tlog-tiles
    (10**18, "x001/x000/x000/x000/x000/x000/000"),
]


@pytest.mark.parametrize(("index", "text"), SPEC_INDICES, ids=[t for _, t in SPEC_INDICES])
def test_index_encoding_follows_the_spec(index: int, text: str) -> None:
    assert encode_index(index) == text
    assert TileRef.parse(f"tile/0/{text}") == TileRef(0, index)


VALID = [
    ("tile/0/x001/x234/067", TileRef(0, 1234067)),
    ("tile/0/000.p/5", TileRef(0, 0, 5)),
    ("tile/63/001.p/255", TileRef(63, 1, 255)),
    ("tile/entries/x001/002", TileRef(None, 1002)),
    ("tile/entries/000.p/1", TileRef(None, 0, 1)),
]


@pytest.mark.parametrize(("path", "ref"), VALID, ids=[p for p, _ in VALID])
def test_valid_paths_parse_and_print_back(path: str, ref: TileRef) -> None:
    assert TileRef.parse(path) == ref
    assert ref.path() == path


MALFORMED = [
    "tile/0/1",  # not 3 digits
    "tile/0/0001",
    "tile/00/000",  # leading zero in the level
    "tile/64/000",  # level above 63
    "tile/0/x000/001",  # not canonical: 1 is 001
    "tile/0/x001",  # last element prefixed
    "tile/0/001/002",  # inner element not prefixed
    "tile/0/X001/002",
    "tile/0/000.p/0",  # empty tiles are never served
    "tile/0/000.p/256",  # a 256-wide tile is full, not partial
    "tile/0/000.p/007",
    "tile/0/000.p/",
    "tile/0/000.p/5/",
    "tile/0/000/",
    "/tile/0/000",
    "tile/-1/000",
    "tile/0/\u0660\u0660\u0660",  # Arabic-Indic digits are not ASCII digits
    "tile/entry/000",
    "tile/entries/000.p/1a",
    "tile/0/../000",
    "tile/0/000\n",
    "tile/0/" + "x001/" * 30 + "000",
    "checkpoint/",
    "",
]


@pytest.mark.parametrize("path", MALFORMED)
def test_malformed_paths_are_refused(path: str) -> None:
    assert TileRef.parse(path) is None


@given(
    st.one_of(st.none(), st.integers(0, 63)),
    st.integers(0, 10**15),
    st.integers(1, 256),
)
def test_every_tile_path_parses_back_to_itself(level: int | None, index: int, width: int) -> None:
    ref = TileRef(level, index, width)
    assert TileRef.parse(ref.path()) == ref


def _summary(size: int) -> list[tuple[int | None, int, int]]:
    return [(r.level, r.index, r.width) for r in tile_refs(size)]


def test_tiles_of_the_spec_example_tree_of_70000() -> None:
    """c2sp.org/tlog-tiles: 273 full level-0 tiles, a partial one of width 112, one full
    level-1 tile, a partial one of width 17 and a partial level-2 tile of width 1."""
    refs = list(tile_refs(70_000))
    level0 = [r for r in refs if r.level == 0]
    assert len(level0) == 274
    assert [r.width for r in level0].count(256) == 273
    assert level0[-1] == TileRef(0, 273, 112)
    assert [r for r in refs if r.level == 1] == [TileRef(1, 0), TileRef(1, 1, 17)]
    assert [r for r in refs if r.level == 2] == [TileRef(2, 0, 1)]
    assert [r for r in refs if r.level is None] == [TileRef(None, r.index, r.width) for r in level0]


def test_tree_of_256_has_a_full_tile_and_a_partial_level_1_tile() -> None:
    assert _summary(256) == [(None, 0, 256), (0, 0, 256), (1, 0, 1)]
    assert _summary(0) == []
    assert _summary(1) == [(None, 0, 1), (0, 0, 1)]


def test_fits_only_within_the_tree() -> None:
    assert TileRef(0, 2, 88).fits(600)
    assert not TileRef(0, 2, 89).fits(600)
    assert not TileRef(0, 2).fits(600)
    assert TileRef(1, 0, 2).fits(600)
    assert not TileRef(1, 0, 3).fits(600)


def test_bundle_round_trip_and_malformed_bundles() -> None:
    datas = [b"", b"a", b"x" * 300, b"\x00\xff"]
    body = encode_bundle(datas)
    assert body[:5] == b"\x00\x00\x00\x01a"
    assert parse_bundle(body, 4) == datas
    for bad, width in [
        (body, 3),  # bytes left over
        (body, 5),  # too few entries
        (body[:-1], 4),  # truncated last entry
        (body + b"\x00", 4),  # a stray byte
        (b"\x00", 1),  # half a length
    ]:
        with pytest.raises(RemoteLogError, match="does not hold exactly"):
            parse_bundle(bad, width)


# -- following a log through a fetch function ---------------------------------------------

SIGNER = generate_signer("log.test")
KEY = SIGNER.verifier()
DATAS = [f"entry {i}".encode() for i in range(600)]


def _files(datas: list[bytes], signer: NoteSigner = SIGNER) -> dict[str, bytes]:
    """The tlog-tiles files of a log of ``datas``, computed with the plain tree functions."""
    leaves = [leaf_hash(d) for d in datas]
    files = {"checkpoint": _note(datas, len(datas), signer).encode()}
    for ref in tile_refs(len(datas)):
        start = ref.index << 8
        if ref.level is None:
            files[ref.path()] = encode_bundle(datas[start : start + ref.width])
            continue
        span = 256**ref.level
        hashes = [
            root(leaves[(start + i) * span : (start + i + 1) * span]) for i in range(ref.width)
        ]
        files[ref.path()] = b"".join(hashes)
    return files


def _note(datas: list[bytes], size: int, signer: NoteSigner = SIGNER) -> str:
    body = Checkpoint(signer.name, size, root([leaf_hash(d) for d in datas[:size]])).body()
    return sign_note(body, signer)


def _checkpoint(datas: list[bytes], size: int) -> Checkpoint:
    return Checkpoint(KEY.name, size, root([leaf_hash(d) for d in datas[:size]]))


def _fetch(files: dict[str, bytes]) -> Fetch:
    return lambda path, limit: files.get(path)


def test_follow_verifies_a_log_and_that_it_extends_an_earlier_checkpoint() -> None:
    files = _files(DATAS)
    report = follow(_fetch(files), KEY)
    assert (report.checkpoint.size, report.tiles, report.bundles) == (600, 4, 3)
    assert report.note == files["checkpoint"].decode()
    for size in (0, 1, 256, 300, 512, 600):
        assert follow(_fetch(files), KEY, _checkpoint(DATAS, size)).previous is not None


def test_follow_a_level_2_tree() -> None:
    datas = [i.to_bytes(3, "big") for i in range(65_536 + 300)]
    report = follow(_fetch(_files(datas)), KEY, _checkpoint(datas, 65_536))
    assert (report.tiles, report.bundles) == (258 + 2 + 1, 258)


def test_a_deleted_partial_tile_falls_back_to_the_full_one() -> None:
    """tlog-tiles lets a log delete a partial tile once the full one exists."""
    grown = _files(DATAS[:512] + [b"later"] * 256)
    files = _files(DATAS)
    for path in ("tile/0/002.p/88", "tile/entries/002.p/88"):
        del files[path]
        files[path.removesuffix(".p/88")] = grown[path.removesuffix(".p/88")]
    with pytest.raises(RemoteLogError, match="do not reproduce the root"):
        follow(_fetch(files), KEY)  # the full tile and bundle are another log's: refused
    grown = _files([*DATAS, *[b"later"] * 168])
    files = _files(DATAS)
    for path in ("tile/0/002.p/88", "tile/entries/002.p/88"):
        del files[path]
        files[path.removesuffix(".p/88")] = grown[path.removesuffix(".p/88")]
    assert follow(_fetch(files), KEY).checkpoint.size == 600


def _tampered(change: Callable[[dict[str, bytes]], object]) -> dict[str, bytes]:
    files = _files(DATAS)
    change(files)
    return files


ATTACKS: list[tuple[str, Callable[[dict[str, bytes]], object], str]] = [
    (
        "entry edited",
        lambda f: f.update({"tile/entries/001": f["tile/entries/001"].replace(b"300", b"301")}),
        "tile/0/001 does not match",
    ),
    (
        "entry and its level-0 tile edited",
        lambda f: f.update(
            {
                "tile/entries/001": _files([*DATAS[:300], b"entry 999", *DATAS[301:]])[
                    "tile/entries/001"
                ],
                "tile/0/001": _files([*DATAS[:300], b"entry 999", *DATAS[301:]])["tile/0/001"],
            }
        ),
        "tile/1/000.p/2 does not match",
    ),
    (
        "tile of another log",
        lambda f: f.update({"tile/0/000": _files([b"x"] * 600)["tile/0/000"]}),
        "tile/0/000 does not match",
    ),
    (
        "partial tile one hash short",
        lambda f: f.update({"tile/0/002.p/88": f["tile/0/002.p/88"][:-32]}),
        r"tile/0/002.p/88 is 2784 bytes, not 88 hashes",
    ),
    (
        "partial bundle with an extra entry",
        lambda f: f.update({"tile/entries/002.p/88": f["tile/entries/002.p/88"] + b"\x00\x01x"}),
        "does not hold exactly 88",
    ),
    ("a bundle missing", lambda f: f.pop("tile/entries/000"), "tile/entries/000 is not served"),
    ("a tile missing", lambda f: f.pop("tile/1/000.p/2"), "tile/1/000.p/2 is not served"),
    (
        "checkpoint of a bigger tree than served",
        lambda f: f.update({"checkpoint": _note([*DATAS, b"more"], 601).encode()}),
        "tile/entries/002.p/89 is not served",
    ),
]


@pytest.mark.parametrize(
    ("change", "message"), [a[1:] for a in ATTACKS], ids=[a[0] for a in ATTACKS]
)
def test_attacks_are_refused_naming_the_path(
    change: Callable[[dict[str, bytes]], object], message: str
) -> None:
    with pytest.raises(RemoteLogError, match=message):
        follow(_fetch(_tampered(change)), KEY)


def test_another_key_and_another_origin_are_refused() -> None:
    with pytest.raises(NoteError, match="not signed by"):
        follow(_fetch(_files(DATAS, generate_signer("log.test"))), KEY)
    other = generate_signer("other.test")
    files = _files(DATAS, other)
    body = _note(DATAS, 600, other).split("\n\n")[0] + "\n"
    files["checkpoint"] = sign_note(body, SIGNER).encode()  # our key, another log's origin
    with pytest.raises(NoteError, match=r"origin 'other\.test' is not 'log\.test'"):
        follow(_fetch(files), KEY)
    with pytest.raises(NoteError, match="not UTF-8"):
        follow(_fetch({"checkpoint": b"\xff"}), KEY)


def test_a_checkpoint_claiming_a_huge_log_costs_one_missing_bundle() -> None:
    """Refs are made lazily: 2**62 entries would be 2**54 tile objects in a list."""
    files = _files(DATAS)
    files["checkpoint"] = sign_note(
        Checkpoint(KEY.name, 1 << 62, EMPTY_ROOT).body(), SIGNER
    ).encode()
    with pytest.raises(RemoteLogError, match="tile/entries/002 is not served"):
        follow(_fetch(files), KEY)


def test_rollback_and_fork_against_the_previous_checkpoint() -> None:
    files = _files(DATAS)
    with pytest.raises(RemoteLogError, match="smaller than the 601 verified before"):
        follow(_fetch(files), KEY, _checkpoint([*DATAS, b"x"], 601))
    forked = [b"forked", *DATAS[1:]]
    with pytest.raises(RemoteLogError, match="the log forked"):
        follow(_fetch(files), KEY, _checkpoint(forked, 600))
    for size in (1, 300, 512):
        with pytest.raises(RemoteLogError, match=f"checkpoint of size {size} verified before"):
            follow(_fetch(files), KEY, _checkpoint(forked, size))

"""Evidence envelopes stored in git refs, found for one change without reading them all.

Evidence lives at ``refs/twokey/evidence/<commit>/<digest>`` (a blob holding a DSSE envelope).
For a change we need the envelopes about the commits it brings and, for squash and rebase
(invariant 2), those about any commit whose *tree* is the tree that lands. The ref name gives
the commit; the tree is inside the envelope, so a small index (blob id -> subject trees) in
``$GIT_DIR/twokey/cache/evidence-trees.json`` remembers what was read once. Blob ids name
content, so the index is never stale; it is only a cache and is rebuilt when unreadable.

Nothing here trusts an envelope: the index only selects candidates, and every selected envelope
is verified by ``twokey.evidence.verify_envelopes`` against the trusted policy.
"""

from __future__ import annotations

__all__ = ["EVIDENCE_PREFIX", "EnvelopeSource", "RawEnvelope"]

import base64
import binascii
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from twokey.git._reader import GitReader, RefTip

EVIDENCE_PREFIX = "refs/twokey/evidence/"
_INDEX = "twokey/cache/evidence-trees.json"
MAX_ENVELOPE_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class RawEnvelope:
    """Envelope bytes and where they came from (a ref or a file); not yet verified."""

    data: bytes
    source: str


class EnvelopeSource:
    """Reads evidence envelopes from a repository's evidence refs.

    Args:
        reader: the repository (in the hook, with the push's quarantine environment).
        pending: evidence refs created by the push being judged: not yet refs, but their
            objects are readable, and the ref updates in the same push must see them.
    """

    def __init__(self, reader: GitReader, pending: Sequence[RefTip] = ()) -> None:
        self.reader = reader
        self.git = reader.git
        self.pending = list(pending)
        self._tips: list[RefTip] | None = None
        self._trees: dict[str, list[str]] | None = None
        self._blobs: dict[str, bytes] = {}

    def tips(self) -> list[RefTip]:
        """Every evidence ref (existing and pending), read once."""
        if self._tips is None:
            self._tips = self.reader.refs(EVIDENCE_PREFIX) + self.pending
        return self._tips

    def for_change(self, subjects: Iterable[str], trees: Iterable[str]) -> list[RawEnvelope]:
        """Envelopes filed under any of ``subjects`` or whose subject tree is in ``trees``."""
        wanted_commits = set(subjects)
        wanted_trees = set(trees)
        index = self._tree_index()
        chosen = [
            tip
            for tip in self.tips()
            if _commit_of(tip.ref) in wanted_commits
            or wanted_trees.intersection(index.get(tip.sha, ()))
        ]
        blobs = self._read({t.sha for t in chosen})
        # A ref that names no readable blob is corrupt evidence: handed on empty, so that
        # verification refuses it by name and the decision says so.
        return [RawEnvelope(blobs.get(t.sha, b""), t.ref) for t in chosen]

    def _tree_index(self) -> dict[str, list[str]]:
        if self._trees is None:
            path = self.git.git_dir / _INDEX
            index = _load_index(path)
            missing = {t.sha for t in self.tips()} - index.keys()
            if missing:
                read = self._read(missing)
                for sha in missing:
                    index[sha] = _subject_trees(read[sha]) if sha in read else []
                _save_index(path, {t.sha: index[t.sha] for t in self.tips() if t.sha in index})
            self._trees = index
        return self._trees

    def _read(self, shas: set[str]) -> dict[str, bytes]:
        """Blob contents by id, with one ``git cat-file --batch`` (git-cat-file(1)).

        Blobs read once (for the tree index) are kept: envelopes are small and few per push.
        """
        order = sorted(shas - self._blobs.keys())
        if order:
            stdin = "".join(f"{s}\n" for s in order).encode()
            self._blobs.update(
                _parse_batch(self.git.run(["cat-file", "--batch"], stdin=stdin).out, order)
            )
        return {s: self._blobs[s] for s in shas if s in self._blobs}


def _commit_of(ref: str) -> str:
    return ref.removeprefix(EVIDENCE_PREFIX).split("/", 1)[0]


def _parse_batch(data: bytes, order: list[str]) -> dict[str, bytes]:
    blobs: dict[str, bytes] = {}
    pos = 0
    for sha in order:
        end = data.index(b"\n", pos)
        header = data[pos:end].decode(errors="replace").split()
        pos = end + 1
        if len(header) != 3:
            continue  # "<sha> missing": a corrupt ref, refused by name later
        size = int(header[2])
        if header[1] == "blob" and size <= MAX_ENVELOPE_BYTES:
            blobs[sha] = data[pos : pos + size]
        pos += size + 1
    return blobs


def _subject_trees(data: bytes) -> list[str]:
    """The ``gitTree`` subjects an envelope claims (unverified; used only to select)."""
    try:
        envelope = json.loads(data)
        statement = json.loads(base64.b64decode(envelope["payload"], validate=True))
        subjects = statement["subject"]
        return sorted(
            str(s["digest"]["gitTree"]) for s in subjects if "gitTree" in s.get("digest", {})
        )
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        return []  # malformed: it is still selected by commit, and verification rejects it


def _load_index(path: Path) -> dict[str, list[str]]:
    try:
        raw = json.loads(path.read_bytes())
        return {str(k): [str(t) for t in v] for k, v in raw.items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def _save_index(path: Path, index: dict[str, list[str]]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(index, sort_keys=True))
        tmp.replace(path)
    except OSError:
        pass  # a read-only repository (CI checkout) works without the cache

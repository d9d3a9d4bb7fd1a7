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

__all__ = ["EnvelopeSource", "RawEnvelope"]

import base64
import binascii
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from twokey import _sha2
from twokey._evidence_refs import (
    EVIDENCE_PREFIX,
    MAX_ENVELOPE_BYTES,
    NAMESPACE,
    BlobInfo,
    filed_parts,
    loads_bounded,
    ref_shape_problem,
    start_read_bounded,
)
from twokey.git._reader import GitReader, RefTip

TYPE_CHECKING = False  # not typing's: importing typing costs the hook's start-up
if TYPE_CHECKING:
    from twokey.evidence import GitEvidenceStore

_INDEX = "twokey/cache/evidence-trees.json"


@dataclass(frozen=True, slots=True)
class RawEnvelope:
    """Envelope bytes and where they came from (a ref or a file); not yet verified.

    ``size`` is the object's real size when it was too big to read (``data`` is then empty).
    """

    data: bytes
    source: str
    size: int | None = None


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
        self._objects: dict[str, BlobInfo] = {}
        self._sizes: dict[str, int] = {}  # blobs' sizes known before their bytes are read
        self._namespace: set[str] | None = None

    @staticmethod
    def start_pending(reader: GitReader, shas: Iterable[str]) -> None:
        """Start the first read of a push's evidence objects (``shas``: what its new evidence
        refs point at) now, as :meth:`objects` of a source on ``reader`` asks for it when the
        tree index knows every existing evidence ref (a usual push): ``git cat-file
        --batch-check`` of them, sorted, and ``--batch`` of them as it is when all are blobs
        within the limit (``start_read_bounded``; ``GitRunner.start``, ADR 0037)."""
        git = reader.git
        start_read_bounded(
            lambda mode, stdin: git.start("cat-file", mode, stdin=stdin), sorted(set(shas))
        )

    def pending_bytes(self) -> int:
        """How many bytes of envelopes the push's new evidence refs would have the gate read:
        the blobs they name within the envelope limit, as ``git cat-file --batch-check`` sizes
        them (the first read ``start_pending`` began). Nothing is read yet; the sizes are kept,
        so that the read of the same objects later needs only its second pass (ADR 0041)."""
        found = self._store().sizes(sorted({t.sha for t in self.pending}))
        blobs = {oid: info.size for oid, info in found.items() if info.kind == "blob"}
        self._sizes.update(blobs)
        return sum(size for size in blobs.values() if size <= MAX_ENVELOPE_BYTES)

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
        found = self.objects({t.sha for t in chosen})
        # A ref that names no readable blob is corrupt evidence: handed on empty, so that
        # verification refuses it by name and the decision says so; an oversized one unread,
        # with its size, so that it is refused as too big.
        return [_raw(found.get(t.sha), t.ref) for t in chosen]

    def _tree_index(self) -> dict[str, list[str]]:
        if self._trees is None:
            path = self.git.git_dir / _INDEX
            index = _load_index(path)
            missing = {t.sha for t in self.tips()} - index.keys()
            if missing:
                read = self.objects(missing)
                for sha in missing:
                    info = read.get(sha)
                    index[sha] = _subject_trees(info.data) if info is not None else []
                _save_index(path, {t.sha: index[t.sha] for t in self.tips() if t.sha in index})
            self._trees = index
        return self._trees

    def objects(self, shas: Iterable[str]) -> dict[str, BlobInfo]:
        """Objects by id, bounded by the one envelope size limit (``twokey._evidence_refs``).

        Objects read once (for the tree index, or the check of a pushed evidence ref) are
        kept: envelopes are small and few per push.
        """
        wanted = set(shas)
        order = sorted(wanted - self._objects.keys())
        if order:
            self._objects.update(self._store().objects(order, self._sizes))
        return {s: self._objects[s] for s in wanted if s in self._objects}

    def _store(self) -> GitEvidenceStore:
        """The one reader of evidence blobs, run by this reader's (quarantine-aware) git."""
        from twokey.evidence import GitEvidenceStore  # noqa: PLC0415 (the hook starts fast)

        return GitEvidenceStore(self.git.git_dir, self.git)

    def refusal(self, ref: str, sha: str) -> str:
        """Why a pushed evidence ref ``ref -> sha`` may not be stored ("" when it may).

        Checked on the way in (invariant 8, fail small): the name's shape, no existing ref
        squatting its directory, a blob within the size limit whose sha256 is the name's
        digest, and a well-formed envelope about the subject the name files it under.
        """
        shape = ref_shape_problem(ref)
        if shape:
            return shape
        squatter = self._squatter(ref)
        if squatter:
            return f"the existing ref {squatter} blocks {ref}; an admin must delete it"
        # Every evidence object of the push in one pair of cat-file calls, read once.
        info = self.objects({sha} | {t.sha for t in self.pending}).get(sha)
        if info is None or info.kind != "blob":
            kind = info.kind if info is not None else "missing object"
            return f"{ref} points at a {kind}; evidence is a blob holding a DSSE envelope"
        return _content_problem(ref, info)

    def _squatter(self, ref: str) -> str:
        """An existing ref that is a directory of ``ref`` (git could not create ``ref``)."""
        parents = {ref[:i] for i in range(len(NAMESPACE), len(ref)) if ref[i] == "/"}
        if self._namespace is None:  # one for-each-ref per push, however many refs it brings
            self._namespace = {t.ref for t in self.reader.refs(NAMESPACE)}
        return min(parents & self._namespace, default="")


def _content_problem(ref: str, info: BlobInfo) -> str:
    from twokey.evidence import EvidenceError, StoredEnvelope, check_shape  # noqa: PLC0415

    if info.oversized:
        return (
            f"{ref}: OVERSIZED: envelope is too big: {info.size} bytes (limit {MAX_ENVELOPE_BYTES})"
        )
    parts = filed_parts(ref)
    digest = _sha2.sha256(info.data).hexdigest()
    if parts is None or parts[1] != digest:
        return f"{ref}: the name must end in the envelope's sha256 ({digest})"
    try:
        check_shape(StoredEnvelope(info.data, ref, info.size))
    except EvidenceError as exc:
        return f"{ref}: {exc.message}"
    return ""


def _commit_of(ref: str) -> str:
    return ref.removeprefix(EVIDENCE_PREFIX).split("/", 1)[0]


def _raw(info: BlobInfo | None, ref: str) -> RawEnvelope:
    if info is None or info.kind != "blob":
        return RawEnvelope(b"", ref)
    return RawEnvelope(info.data, ref, info.size)


def _subject_trees(data: bytes) -> list[str]:
    """The ``gitTree`` subjects an envelope claims (unverified; used only to select)."""
    try:
        envelope = loads_bounded(data)
        statement = loads_bounded(base64.b64decode(envelope["payload"], validate=True))
        subjects = statement["subject"]
        return sorted(
            str(s["digest"]["gitTree"]) for s in subjects if "gitTree" in s.get("digest", {})
        )
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        return []  # malformed: it is still selected by commit, and verification rejects it


def _load_index(path: Path) -> dict[str, list[str]]:
    """The cached index; in a CI checkout ``.git`` may hold anything: bounded, never trusted
    (it only selects candidates, each verified)."""
    try:
        raw = loads_bounded(path.read_bytes())
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

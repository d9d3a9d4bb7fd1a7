"""Where evidence lives in git and how much of it anyone reads: one layout, one limit.

Both readers of ``refs/twokey/`` (the gate's ``twokey.git._evidence`` and the store in
``twokey.evidence._gitstore``), the DSSE parser and the hook's check of evidence refs on the
way in use these names and bounds, so that a blob accepted by one is never refused (or
crashes) in the other. Standard library only: the hook imports it at start-up.

Layout (``twokey.evidence.ref_for``)::

    refs/twokey/evidence/<commit or tree id>/<sha256 hex of the envelope bytes>
    refs/twokey/artifacts/<sha256 hex of the artifact>/<sha256 hex of the envelope bytes>
"""

from __future__ import annotations

__all__ = [
    "ARTIFACT_PREFIX",
    "EVIDENCE_PREFIX",
    "LISTING_FORMAT",
    "MAX_ENVELOPE_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_PUSH_EVIDENCE_BYTES",
    "MAX_PUSH_EVIDENCE_REFS",
    "NAMESPACE",
    "BlobInfo",
    "filed_parts",
    "listing_args",
    "loads_bounded",
    "read_bounded",
    "read_sizes",
    "ref_shape_problem",
    "start_read_bounded",
]

# Before dataclasses: it imports dataclasses with a deferred inspect (ADR 0036).
import twokey._dataclass_fast  # noqa: F401 - records from precompiled code (ADR 0031)

# isort: split
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from twokey._lazy import lazy_pattern

NAMESPACE = "refs/twokey/"
EVIDENCE_PREFIX = "refs/twokey/evidence/"
ARTIFACT_PREFIX = "refs/twokey/artifacts/"
# An approval is ~1-2 KiB; 16 signatures of RSA-4096 SSHSIG stay far below this.
MAX_ENVELOPE_BYTES = 64 * 1024
# What one push may bring under refs/twokey/ (ADR 0041): the hook refuses a push over either
# limit before it reads one envelope, so that one push (10,000 refs of 64 KiB: 640 MB) cannot
# take the server's memory. An approval is ~1-2 KiB: 16 MiB is eight times 1,000 of them.
# git config twokey.maxPushEvidence and twokey.maxPushEvidenceBytes change them per repository.
MAX_PUSH_EVIDENCE_REFS = 1000
MAX_PUSH_EVIDENCE_BYTES = 16 * 1024 * 1024
# An envelope is 3 levels deep, a statement ~6; json's recursion must never be the limit.
MAX_JSON_DEPTH = 32

_GIT_OID = r"[0-9a-f]{40}(?:[0-9a-f]{24})?"
# Compiled when first used (a deploy check never names a ref by them: ADR 0040).
_EVIDENCE_REF = lazy_pattern(rf"refs/twokey/evidence/({_GIT_OID})/([0-9a-f]{{64}})", globals())
_ARTIFACT_REF = lazy_pattern(r"refs/twokey/artifacts/([0-9a-f]{64})/([0-9a-f]{64})", globals())


# git-for-each-ref(1) format of a listing: each ref's blob id, type and size come with its name,
# so reading the blobs needs one ``cat-file`` only.
LISTING_FORMAT = "--format=%(objectname) %(objecttype) %(objectsize) %(refname)"


def listing_args(subjects: Iterable[str]) -> tuple[str, ...]:
    """The ``git for-each-ref`` that lists the evidence filed under ``subjects`` (commits,
    trees, ``sha256:<hex>`` artifacts), each subject once, in first-seen order; no patterns
    (nothing to list) when there are no subjects.

    The one command line of that listing: the evidence store runs it, and a door that knows its
    subjects before it imports the store starts it (``GitRunner.start``, ADR 0037).
    """
    patterns = []
    for subject in dict.fromkeys(subjects):
        if subject.startswith("sha256:"):
            patterns.append(f"{ARTIFACT_PREFIX}{subject.removeprefix('sha256:')}/")
        else:
            patterns.append(f"{EVIDENCE_PREFIX}{subject}/")
    return ("for-each-ref", LISTING_FORMAT, *patterns) if patterns else ()


def ref_shape_problem(ref: str) -> str:
    """Why ``ref`` is not a well-formed evidence ref name ("" when it is one).

    Only the two layouts above exist: anything else under ``refs/twokey/`` (a plain
    ``refs/twokey/evidence/<commit>`` would squat the directory every later approval of that
    commit is filed in) is refused at push.
    """
    if _EVIDENCE_REF.fullmatch(ref) or _ARTIFACT_REF.fullmatch(ref):
        return ""
    return (
        f"{ref} is not an evidence ref name: evidence lives at "
        f"{EVIDENCE_PREFIX}<commit or tree id>/<sha256 of the envelope> or "
        f"{ARTIFACT_PREFIX}<sha256 of the artifact>/<sha256 of the envelope>"
    )


def filed_parts(ref: str) -> tuple[str, str] | None:
    """``(subject, envelope digest)`` of a well-formed evidence ref name, else None."""
    found = _EVIDENCE_REF.fullmatch(ref) or _ARTIFACT_REF.fullmatch(ref)
    return (found.group(1), found.group(2)) if found else None


def loads_bounded(data: bytes) -> Any:
    """``json.loads`` for untrusted bytes: UTF-8, at most ``MAX_JSON_DEPTH`` levels deep.

    Raises:
        ValueError: not UTF-8, not JSON, or nested too deeply (never ``RecursionError``: one
            hostile blob must not crash a door for everyone, invariant 8).
    """
    try:
        value = json.loads(data.decode())  # str: skips json's encoding detection
    except RecursionError as exc:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from exc
    if _depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _depth(value: Any) -> int:
    """Nesting depth, iteratively (a recursive walk would hit the limit it checks)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level > MAX_JSON_DEPTH:
                return level
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """An object as ``git cat-file`` told it: its type, its real size, and its bytes.

    ``data`` is empty for anything but a blob of at most ``MAX_ENVELOPE_BYTES``: an oversized
    blob is refused as too big (never as "not JSON"), without ever being read.
    """

    kind: str
    size: int
    data: bytes

    @property
    def oversized(self) -> bool:
        """True when the object is larger than any envelope may be."""
        return self.size > MAX_ENVELOPE_BYTES


def read_bounded(
    cat_file: Callable[[str, bytes], bytes],
    oids: Iterable[str],
    blob_sizes: Mapping[str, int] | None = None,
) -> dict[str, BlobInfo]:
    """Objects by id, never reading one larger than ``MAX_ENVELOPE_BYTES`` into memory.

    Args:
        cat_file: runs ``git cat-file <mode>`` (``--batch-check`` or ``--batch``) with the
            given standard input and returns its standard output.
        oids: object ids; anything that is not one is skipped, missing objects are absent.
        blob_sizes: sizes of objects git already named as blobs (``for-each-ref``'s
            ``%(objecttype)`` and ``%(objectsize)`` of a ref): those need no first pass.

    Two passes (git-cat-file(1)): ``--batch-check`` for every type and size, then ``--batch``
    for the small blobs only. An oversized object comes back with its size and no bytes.
    """
    wanted = _wanted(oids)
    if not wanted:
        return {}
    known = blob_sizes or {}
    out = {o: BlobInfo("blob", known[o], b"") for o in wanted if o in known}
    unknown = [o for o in wanted if o not in known]
    if unknown:  # one git process less for a door that listed its refs (issue 10 item 9)
        out.update(read_sizes(cat_file, unknown))
    small = [o for o, i in out.items() if i.kind == "blob" and not i.oversized]
    if small:
        data = cat_file("--batch", _lines(small))
        for oid, info in _parse_batch(data, small).items():
            out[oid] = info
    return out


def read_sizes(cat_file: Callable[[str, bytes], bytes], oids: Iterable[str]) -> dict[str, BlobInfo]:
    """Each object's type and size, no bytes: the first pass of :func:`read_bounded`
    (``git cat-file --batch-check``, the same input), for a caller that must know how much
    there is before it reads any of it (the hook's evidence limits, ADR 0041)."""
    wanted = _wanted(oids)
    if not wanted:
        return {}
    out: dict[str, BlobInfo] = {}
    checked = cat_file("--batch-check", _lines(wanted))
    for oid, line in zip(wanted, checked.decode(errors="replace").splitlines(), strict=False):
        header = line.split()
        if len(header) == 3 and header[0] == oid:
            out[oid] = BlobInfo(header[1], int(header[2]), b"")
    return out


def start_read_bounded(start: Callable[[str, bytes], None], oids: Iterable[str]) -> None:
    """Start :func:`read_bounded` of ``oids`` (no sizes known) now, with ``start``
    (``GitRunner.start`` of ``git cat-file <mode>``, ADR 0037): its first pass, and its second
    as it is when every id names a blob within the limit (a push's evidence, as a rule).

    The read of the same ids takes both. When an id names anything else, the second pass asks
    for fewer ids and runs its own process; the one started here is then never read but ended
    (``GitRunner.discard_started`` kills it and drains at most what the pipe holds), so no
    oversized blob is ever read into memory.
    """
    wanted = _wanted(oids)
    if wanted:
        start("--batch-check", _lines(wanted))
        start("--batch", _lines(wanted))


def _wanted(oids: Iterable[str]) -> list[str]:
    return [o for o in dict.fromkeys(oids) if _OID.fullmatch(o)]


def _lines(oids: list[str]) -> bytes:
    return "".join(f"{o}\n" for o in oids).encode()


_OID = re.compile(_GIT_OID)


def _parse_batch(data: bytes, order: list[str]) -> dict[str, BlobInfo]:
    """Parse ``git cat-file --batch`` output for the ids in ``order`` (all present, small)."""
    out: dict[str, BlobInfo] = {}
    pos = 0
    for sha in order:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        pos = end + 1
        if len(header) != 3:
            continue
        size = int(header[2])
        out[sha] = BlobInfo(header[1].decode(), size, data[pos : pos + size])
        pos += size + 1
    return out

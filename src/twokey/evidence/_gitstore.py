"""Evidence stored in git: one ref per envelope, so concurrent pushes never conflict.

``refs/twokey/evidence/<subject>/<sha256 of the envelope>`` holds approvals and checks, keyed
by the commit or tree they are about; ``refs/twokey/artifacts/<sha256 hex>/<sha256>`` holds
provenance and deploy approvals of an artifact. Each ref points at a blob with the envelope.
Publishing is ``git push origin 'refs/twokey/*:refs/twokey/*'``; fetching the reverse.
"""

from __future__ import annotations

__all__ = [
    "GitEvidenceStore",
    "normalise_url",
    "ref_for",
    "repository_id",
]

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from twokey import _sha2
from twokey._evidence_refs import (
    ARTIFACT_PREFIX,
    EVIDENCE_PREFIX,
    LISTING_FORMAT,
    BlobInfo,
    listing_args,
    read_bounded,
    read_sizes,
)
from twokey._gitrunner import GitConfig, GitRunner
from twokey._lazy import lazy_pattern
from twokey.errors import InfrastructureError
from twokey.evidence._verify import StoredEnvelope

_OID = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
# Compiled when first used: a deploy check names no subject by it (ADR 0040).
_SUBJECT = lazy_pattern(r"^[0-9a-f]{40}([0-9a-f]{24})?$|^sha256:[0-9a-f]{64}$", globals())


def _git(git_dir: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return GitRunner(git_dir, config=GitConfig.USER).run(*args, stdin=stdin)


def ref_for(subject: str, envelope: bytes) -> str:
    """The ref that stores ``envelope`` about ``subject`` (a git object id or sha256 digest)."""
    if not _SUBJECT.match(subject):
        raise ValueError(f"not a git object id or sha256 digest: {subject!r}")
    digest = _sha2.sha256(envelope).hexdigest()
    if subject.startswith("sha256:"):
        return f"{ARTIFACT_PREFIX}{subject.removeprefix('sha256:')}/{digest}"
    return f"{EVIDENCE_PREFIX}{subject}/{digest}"


class GitEvidenceStore:
    """Envelopes in a repository's ``refs/twokey/`` namespace: the one reader of evidence blobs.

    Args:
        git_dir: the repository's git directory.
        git: how to run git there; the hook passes its own isolated runner, whose
            environment sees the objects of the push being received. By default, git runs
            in the user's configuration (the command line's ``approve``, ``attest``...).
    """

    def __init__(self, git_dir: Path, git: GitRunner | None = None) -> None:
        self.git_dir = git_dir
        self._git = git or GitRunner(git_dir, config=GitConfig.USER)

    def put(self, envelope: bytes, subject: str) -> str:
        """Store ``envelope`` as a blob under its own ref; returns the ref name.

        The ref is created, never moved: storing the same envelope twice is a no-op, and two
        writers never touch one ref (the ref name is the envelope's own digest).
        """
        ref = ref_for(subject, envelope)
        blob = self._git.run("hash-object", "-w", "--stdin", stdin=envelope).decode().strip()
        try:
            self._git.run("update-ref", ref, blob, "0" * len(blob))  # create only
        except InfrastructureError:
            existing = self._git.run("for-each-ref", "--format=%(objectname)", ref).strip()
            if existing.decode() != blob:
                raise
        return ref

    def _refs(self, args: tuple[str, ...]) -> tuple[list[tuple[str, str]], dict[str, int]]:
        """``(refname, blob id)`` pairs (no id for a ref that names no blob), and each blob's
        size, from the listing ``args`` (``for-each-ref`` in ``LISTING_FORMAT``): git names
        them with the refs, so reading them needs one ``cat-file`` only."""
        out = self._git.run(*args).decode()
        refs, sizes = [], {}
        for line in out.splitlines():
            oid, kind, size, name = line.split(" ", 3)
            refs.append((name, oid if kind == "blob" else ""))
            if kind == "blob":
                sizes[oid] = int(size)
        return refs, sizes

    def read(
        self, refs: list[tuple[str, str]], blob_sizes: Mapping[str, int] | None = None
    ) -> list[StoredEnvelope]:
        """The envelopes behind ``(refname, blob id)`` pairs (two ``git cat-file`` for all;
        one when ``blob_sizes`` has every blob's size from the ref listing).

        A ref that names no blob (empty id) is corrupt evidence: it is returned empty, so that
        verification refuses it by name instead of it silently vanishing; an oversized blob is
        returned unread with its size, and refused as too big.
        """
        objects = self.objects((oid for _, oid in refs if oid), blob_sizes)
        out = []
        for name, oid in refs:
            info = objects.get(oid)
            if info is None or info.kind != "blob":
                out.append(StoredEnvelope(b"", name))
            else:
                out.append(StoredEnvelope(info.data, name, info.size))
        return out

    def objects(
        self, oids: Iterable[str], blob_sizes: Mapping[str, int] | None = None
    ) -> dict[str, BlobInfo]:
        """Objects by id, bounded by the one envelope size limit (``_evidence_refs``).

        In a pre-receive hook (with the quarantine environment) this reads the objects of the
        push being received, before any ref names them.
        """
        return read_bounded(
            lambda mode, stdin: self._git.run("cat-file", mode, stdin=stdin), oids, blob_sizes
        )

    def sizes(self, oids: Iterable[str]) -> dict[str, BlobInfo]:
        """Objects' types and sizes by id, without reading any (``read_sizes``)."""
        return read_sizes(lambda mode, stdin: self._git.run("cat-file", mode, stdin=stdin), oids)

    def read_blobs(self, oids: Iterable[str]) -> dict[str, bytes]:
        """Blob contents by id (at most the envelope size limit); others are absent."""
        return {
            oid: info.data
            for oid, info in self.objects(oids).items()
            if info.kind == "blob" and not info.oversized
        }

    def read_blob(self, oid: str) -> bytes | None:
        """One blob's content (e.g. an evidence object in a push), or None when absent."""
        return self.read_blobs([oid]).get(oid)

    def for_subjects(self, subjects: Iterable[str]) -> list[StoredEnvelope]:
        """Every envelope about the given commits, trees or artifact digests (one
        ``for-each-ref``, ``listing_args``, and one ``cat-file``)."""
        args = listing_args(subjects)
        return self.read(*self._refs(args)) if args else []

    def for_commits(self, shas: Iterable[str]) -> list[StoredEnvelope]:
        """Every envelope filed under the given commits (or trees)."""
        return self.for_subjects(s for s in shas if _OID.match(s))

    def for_artifact(self, digest: str) -> list[StoredEnvelope]:
        """Every envelope about an artifact (``sha256:<hex>``)."""
        if not _SUBJECT.match(digest) or not digest.startswith("sha256:"):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        return self.for_subjects([digest])

    def all(self) -> Iterator[StoredEnvelope]:
        """Every envelope in the namespace."""
        yield from self.read(
            *self._refs(("for-each-ref", LISTING_FORMAT, EVIDENCE_PREFIX, ARTIFACT_PREFIX))
        )


def repository_id(git_dir: Path) -> str:
    """The repository's identity in approvals (the same rule everywhere).

    In order: git config ``twokey.repository``; else the ``origin`` remote URL, normalised
    (scheme, user and ``.git`` dropped: ``git@host:org/x.git`` -> ``host/org/x``); else the
    repository directory's name.
    """
    for args in (
        ("config", "--get", "twokey.repository"),
        ("config", "--get", "remote.origin.url"),
    ):
        try:
            value = _git(git_dir, *args).decode().strip()
        except InfrastructureError:
            continue
        if value:
            return value if args[2] == "twokey.repository" else normalise_url(value)
    path = git_dir.resolve()
    name = path.parent.name if path.name == ".git" else path.name
    return name.removesuffix(".git")


def normalise_url(url: str) -> str:
    """A remote URL as a repository id: scheme, user, port and ``.git`` dropped.

    ``https://user@host/org/x.git``, ``ssh://git@host:2222/org/x.git`` and the scp-like
    ``git@host:org/x.git`` all become ``host/org/x``, so every clone computes the same id.
    """
    text = url.strip()
    has_scheme = re.match(r"^[a-z][a-z0-9+.-]*://", text) is not None
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = re.sub(r"^[^@/]+@", "", text)
    host, slash, path = text.partition("/")
    if has_scheme:
        host = re.sub(r":\d*$", "", host)  # a port
    elif ":" in host:  # scp-like host:path
        host, _, first = host.partition(":")
        path = f"{first}{slash}{path}" if first else path
        slash = "/"
    return f"{host}{slash}{path}".rstrip("/").removesuffix(".git")

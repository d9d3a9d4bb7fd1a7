"""Evidence stored in git: one ref per envelope, so concurrent pushes never conflict.

``refs/twokey/evidence/<subject>/<sha256 of the envelope>`` holds approvals and checks, keyed
by the commit or tree they are about; ``refs/twokey/artifacts/<sha256 hex>/<sha256>`` holds
provenance and deploy approvals of an artifact. Each ref points at a blob with the envelope.
Publishing is ``git push origin 'refs/twokey/*:refs/twokey/*'``; fetching the reverse.
"""

from __future__ import annotations

__all__ = ["EVIDENCE_PREFIX", "GitEvidenceStore", "repository_id"]

import hashlib
import re
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

from twokey.errors import InfrastructureError
from twokey.evidence._verify import StoredEnvelope

EVIDENCE_PREFIX = "refs/twokey/evidence/"
ARTIFACT_PREFIX = "refs/twokey/artifacts/"
_SUBJECT = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$|^sha256:[0-9a-f]{64}$")


def _git(git_dir: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        result = subprocess.run(
            ["git", "--git-dir", str(git_dir), *args], input=stdin, capture_output=True, check=False
        )
    except OSError as exc:
        raise InfrastructureError(f"cannot run git: {exc}") from exc
    if result.returncode != 0:
        raise InfrastructureError(
            f"git {' '.join(args[:2])} failed: {result.stderr.decode(errors='replace').strip()}"
        )
    return result.stdout


def ref_for(subject: str, envelope: bytes) -> str:
    """The ref that stores ``envelope`` about ``subject`` (a git object id or sha256 digest)."""
    if not _SUBJECT.match(subject):
        raise ValueError(f"not a git object id or sha256 digest: {subject!r}")
    digest = hashlib.sha256(envelope).hexdigest()
    if subject.startswith("sha256:"):
        return f"{ARTIFACT_PREFIX}{subject.removeprefix('sha256:')}/{digest}"
    return f"{EVIDENCE_PREFIX}{subject}/{digest}"


class GitEvidenceStore:
    """Envelopes in a repository's ``refs/twokey/`` namespace."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir

    def put(self, envelope: bytes, subject: str) -> str:
        """Store ``envelope`` as a blob under its own ref; returns the ref name."""
        ref = ref_for(subject, envelope)
        blob = _git(self.git_dir, "hash-object", "-w", "--stdin", stdin=envelope).decode().strip()
        _git(self.git_dir, "update-ref", ref, blob, "0" * 40)  # create only, never overwrite
        return ref

    def _refs(self, patterns: list[str]) -> list[tuple[str, str]]:
        out = _git(
            self.git_dir,
            "for-each-ref",
            "--format=%(objectname) %(objecttype) %(refname)",
            *patterns,
        ).decode()
        refs = []
        for line in out.splitlines():
            oid, kind, name = line.split(" ", 2)
            refs.append((name, oid if kind == "blob" else ""))
        return refs

    def read(self, refs: list[tuple[str, str]]) -> list[StoredEnvelope]:
        """Read the blobs behind ``refs`` with one ``git cat-file --batch``."""
        wanted = [(name, oid) for name, oid in refs if oid]
        if not wanted:
            return [StoredEnvelope(b"", name) for name, oid in refs if not oid]
        data = _git(
            self.git_dir,
            "cat-file",
            "--batch",
            stdin="".join(f"{oid}\n" for _, oid in wanted).encode(),
        )
        out, pos = [], 0
        for name, _ in wanted:
            header_end = data.index(b"\n", pos)
            size = int(data[pos:header_end].split()[2])
            out.append(StoredEnvelope(data[header_end + 1 : header_end + 1 + size], name))
            pos = header_end + 1 + size + 1
        # a ref that points at a non-blob is corrupt evidence: kept, so verification refuses it
        return out + [StoredEnvelope(b"", name) for name, oid in refs if not oid]

    def for_subjects(self, subjects: Iterable[str]) -> list[StoredEnvelope]:
        """Every envelope about the given commits, trees or artifact digests."""
        patterns = []
        for subject in dict.fromkeys(subjects):
            if subject.startswith("sha256:"):
                patterns.append(f"{ARTIFACT_PREFIX}{subject.removeprefix('sha256:')}/")
            else:
                patterns.append(f"{EVIDENCE_PREFIX}{subject}/")
        return self.read(self._refs(patterns)) if patterns else []

    def all(self) -> Iterator[StoredEnvelope]:
        """Every envelope in the namespace."""
        yield from self.read(self._refs([EVIDENCE_PREFIX, ARTIFACT_PREFIX]))


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
    """``https://user@host/org/x.git`` / ``git@host:org/x.git`` -> ``host/org/x``."""
    text = re.sub(r"^[a-z+]+://", "", url.strip())
    text = re.sub(r"^[^@/]+@", "", text)
    if ":" in text.split("/", 1)[0]:
        text = text.replace(":", "/", 1)
    return text.removesuffix("/").removesuffix(".git")

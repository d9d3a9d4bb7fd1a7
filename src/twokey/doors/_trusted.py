"""The one trusted-policy resolver: the policy as the server or the remote has it.

Invariant 14: a door trusts the policy on the protected ref *as the gated server or remote has
it*, never the checkout's working tree, its local branches, its remote-tracking refs (any step
of a job can move them) or the change being judged. On the server (the hook) that is the
repository's own default branch; in a clone (a deploy job, CI) it is what ``git ls-remote``
says the named remote holds right now, fetched when the clone lacks the objects.
"""

from __future__ import annotations

__all__ = [
    "GitObject",
    "RemoteRefs",
    "policy_at",
    "policy_name",
    "read_objects",
    "remote_refs",
    "start_objects",
    "start_remote_refs",
]

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from twokey._lazy import lazy_pattern
from twokey.doors._policy_source import NoPolicyError, TrustedPolicy, load_blob
from twokey.errors import UsageError
from twokey.git import GitReader, ls_remote_args, start_ls_remote
from twokey.policy import DEFAULT_POLICY_PATH

_GLOB = lazy_pattern(r"[*?\[]", globals())  # compiled when first used (ADR 0040)
# git-cat-file(1), BATCH OUTPUT: "<oid> SP <type> SP <size> LF <contents> LF" for an object,
# "<name> SP missing LF" (or "ambiguous") for none; the name is the caller's, so it is never
# parsed as a header: only a line of exactly this shape is one.
_HEADER = re.compile(rb"([0-9a-f]{40}|[0-9a-f]{64}) (blob|commit|tree|tag) (\d+)")


@dataclass(frozen=True)
class GitObject:
    """One object read by :func:`read_objects`."""

    sha: str
    kind: str
    data: bytes


def read_objects(reader: GitReader, names: Sequence[str]) -> list[GitObject | None]:
    """The objects ``names`` name (``rev:path``, ``rev^{commit}``...), None where none is,
    through one ``git cat-file --batch`` (one process for all of a door's reads).

    Raises:
        UsageError: a name holds a line break (it would be read as two names).
    """
    out = reader.git.run("cat-file", "--batch", stdin=_batch_input(names))
    found: list[GitObject | None] = []
    at = 0
    for _ in names:
        end = out.index(b"\n", at)
        header = _HEADER.fullmatch(out[at:end])
        at = end + 1
        if header is None:
            found.append(None)
            continue
        size = int(header[3])
        found.append(GitObject(header[1].decode(), header[2].decode(), out[at : at + size]))
        at += size + 1
    return found


def start_objects(reader: GitReader, names: Sequence[str]) -> None:
    """Start :func:`read_objects`' ``git cat-file --batch`` of ``names`` now
    (``GitRunner.start``, ADR 0037): the read of the same names takes its answer. Names it
    refuses are not started (the read says why)."""
    try:
        stdin = _batch_input(names)
    except UsageError:
        return
    reader.git.start("cat-file", "--batch", stdin=stdin)


def _batch_input(names: Sequence[str]) -> bytes:
    for name in names:
        if not name or "\n" in name or "\r" in name:
            raise UsageError(f"not a revision: {name!r}")
    return "".join(f"{name}\n" for name in names).encode()


def policy_name(refs: RemoteRefs, ref: str) -> str:
    """The name of the policy file on the remote's tip of ``ref``, for :func:`read_objects`."""
    return f"{refs.tip(ref)}:{DEFAULT_POLICY_PATH}"


@dataclass(frozen=True)
class RemoteRefs:
    """The branches and tags of ``remote`` as it has them now (``git ls-remote --symref``).

    ``head`` is the remote's default branch (what its ``HEAD`` names), "" when it says none.
    """

    remote: str
    head: str
    tips: Mapping[str, str]

    def tip(self, ref: str) -> str:
        """Where ``ref`` points on the remote.

        Raises:
            UsageError: the remote has no such ref.
        """
        sha = self.tips.get(ref)
        if sha is None:
            raise UsageError(f"the remote {self.remote!r} has no {ref}", hint="check --remote")
        return sha


def remote_refs(reader: GitReader, remote: str) -> RemoteRefs:
    """Ask ``remote`` for its refs; ``.`` means this repository is the server (bare only).

    Raises:
        UsageError: ``.`` in a clone with a work tree (its branches are not a server's).
        InfrastructureError: the remote cannot be reached.
    """
    if remote == "." and reader.git.text("rev-parse", "--is-bare-repository") != "true":
        raise UsageError(
            "--remote . trusts this repository's own branches: only on the server (a bare "
            "repository), never in a checkout",
            hint="name the remote the protected branches live on (default: origin)",
        )
    out = reader.git.text(*ls_remote_args(reader.git.git_dir, remote))
    head, tips = "", {}
    for line in out.splitlines():
        left, _, name = line.partition("\t")
        if left.startswith("ref: ") and name == "HEAD":
            head = left.removeprefix("ref: ")
        elif name.startswith("refs/") and not name.endswith("^{}"):
            tips[name] = left
    return RemoteRefs(remote, head, tips)


def start_remote_refs(reader: GitReader, remote: str) -> None:
    """Start :func:`remote_refs`' ``git ls-remote`` now (``GitRunner.start``, ADR 0035): the
    remote answers while the door does other work. Not for ``.`` (checked first)."""
    start_ls_remote(reader.git, remote)


def fetched(reader: GitReader, refs: RemoteRefs, ref: str) -> str:
    """The remote's tip of ``ref``, its objects fetched into the clone when missing."""
    sha = refs.tip(ref)
    if refs.remote != "." and reader.resolve(f"{sha}^{{object}}") is None:
        reader.git.call(
            ["fetch", "-q", "--no-tags", "--no-write-fetch-head", refs.remote, ref],
        )
    return sha


def policy_at(
    reader: GitReader, refs: RemoteRefs, ref: str, read: GitObject | None = None
) -> TrustedPolicy:
    """The policy file on the remote's tip of ``ref``, which it must protect (invariant 7).

    ``read`` is that file when the caller already read it (``read_objects`` of
    ``policy_name(refs, ref)``, in one batch with its other reads); None: read it here.

    Raises:
        UsageError: the remote has no such ref.
        NoPolicyError: the ref carries no policy.
        PolicyError, ConfigError: the policy is invalid or leaves ``ref`` unprotected.
    """
    sha = refs.tip(ref)
    # One read in the usual case: the tip's objects are here when its policy blob is.
    if read is not None and read.kind == "blob":
        found: tuple[str, bytes] | None = (read.sha, read.data)
    else:
        found = reader.blob_at(sha, DEFAULT_POLICY_PATH)
    if found is None:
        found = reader.blob_at(fetched(reader, refs, ref), DEFAULT_POLICY_PATH)
    # On the server itself (remote ".") the ref alone names it; else the remote's name first.
    where = "" if refs.remote == "." else f"{refs.remote} "
    origin = f"{where}{ref}:{DEFAULT_POLICY_PATH}"
    if found is None:
        raise NoPolicyError(f"no policy at {origin} ({sha[:12]})")
    policy = load_blob(reader.git.git_dir, found[0], found[1], origin)
    if policy.ref_rule(ref) is None:
        raise NoPolicyError(
            f"the policy at {origin} does not protect {ref}, the branch it lives on",
            hint=f"add a rule for {ref} under branches: (a policy must guard its own changes)",
        )
    return TrustedPolicy(policy, f"{origin} ({sha[:12]})", found[0])


def is_literal(ref: str) -> bool:
    """True when ``ref`` names one ref (no glob)."""
    return not _GLOB.search(ref)

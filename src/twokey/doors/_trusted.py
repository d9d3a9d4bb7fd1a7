"""The one trusted-policy resolver: the policy as the server or the remote has it.

Invariant 14: a door trusts the policy on the protected ref *as the gated server or remote has
it*, never the checkout's working tree, its local branches, its remote-tracking refs (any step
of a job can move them) or the change being judged. On the server (the hook) that is the
repository's own default branch; in a clone (a deploy job, CI) it is what ``git ls-remote``
says the named remote holds right now, fetched when the clone lacks the objects.
"""

from __future__ import annotations

__all__ = ["RemoteRefs", "policy_at", "remote_refs"]

import re
from collections.abc import Mapping
from dataclasses import dataclass

from twokey.errors import UsageError
from twokey.git import GitReader, NoPolicyError, TrustedPolicy, load_blob
from twokey.policy import DEFAULT_POLICY_PATH

_GLOB = re.compile(r"[*?\[]")


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
    out = reader.git.text(
        "ls-remote", "--symref", "--end-of-options", remote, "HEAD", "refs/heads/*", "refs/tags/*"
    )
    head, tips = "", {}
    for line in out.splitlines():
        left, _, name = line.partition("\t")
        if left.startswith("ref: ") and name == "HEAD":
            head = left.removeprefix("ref: ")
        elif name.startswith("refs/") and not name.endswith("^{}"):
            tips[name] = left
    return RemoteRefs(remote, head, tips)


def fetched(reader: GitReader, refs: RemoteRefs, ref: str) -> str:
    """The remote's tip of ``ref``, its objects fetched into the clone when missing."""
    sha = refs.tip(ref)
    if refs.remote != "." and reader.resolve(f"{sha}^{{object}}") is None:
        reader.git.run(
            ["fetch", "-q", "--no-tags", "--no-write-fetch-head", refs.remote, ref],
        )
    return sha


def policy_at(reader: GitReader, refs: RemoteRefs, ref: str) -> TrustedPolicy:
    """The policy file on the remote's tip of ``ref``, which it must protect (invariant 7).

    Raises:
        UsageError: the remote has no such ref.
        NoPolicyError: the ref carries no policy.
        PolicyError, ConfigError: the policy is invalid or leaves ``ref`` unprotected.
    """
    sha = refs.tip(ref)
    # One read in the usual case: the tip's objects are here when its policy blob is.
    found = reader.blob_at(sha, DEFAULT_POLICY_PATH)
    if found is None:
        found = reader.blob_at(fetched(reader, refs, ref), DEFAULT_POLICY_PATH)
    origin = f"{refs.remote} {ref}:{DEFAULT_POLICY_PATH}"
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

"""The policy a client-side command trusts by default: the base's, as the remote has it.

A checkout (a pull request's, a CI job's) carries whatever policy its author wrote; the policy
that decides is the one on the protected default branch of the gated remote (invariant 14).
``twokey evidence verify`` reads it from the remote-tracking ref of ``origin``'s default branch,
never from the work tree, a local branch or a cache in ``.git``, and says which it used.
"""

from __future__ import annotations

__all__ = ["base_policy"]

from typing import TYPE_CHECKING

from twokey._gitrunner import GitRunner
from twokey.doors._policy_source import POLICY_PATH
from twokey.errors import UsageError

if TYPE_CHECKING:
    from twokey.policy import Policy

_REMOTE_HEAD = "refs/remotes/origin/HEAD"
_GUESSES = ("refs/remotes/origin/main", "refs/remotes/origin/master")


def base_policy(git: GitRunner) -> tuple[Policy, str]:
    """The trusted policy and where it came from (``<ref>:.twokey/policy.yml``).

    Raises:
        UsageError: the remote's default branch is unknown, or carries no policy.
        PolicyError: that policy is invalid.
    """
    from twokey.policy import loads  # noqa: PLC0415

    ref = _default_ref(git)
    origin = f"{ref}:{POLICY_PATH}"
    if not git.ok("cat-file", "-e", origin):
        raise UsageError(f"no policy at {origin}", hint="pass --policy FILE")
    return loads(git.run("cat-file", "blob", origin), origin), origin  # never a cached pickle


def _default_ref(git: GitRunner) -> str:
    """``origin``'s default branch as fetched; in a bare repository without one, HEAD's."""
    if git.ok("symbolic-ref", "-q", _REMOTE_HEAD):
        return git.text("symbolic-ref", "-q", _REMOTE_HEAD)
    found = [ref for ref in _GUESSES if git.ok("rev-parse", "-q", "--verify", ref)]
    if len(found) == 1:
        return found[0]
    if not git.ok("config", "--get", "remote.origin.url") and _bare(git):
        return git.text("symbolic-ref", "-q", "HEAD")  # the server's own repository
    raise UsageError(
        "cannot tell which policy to trust: no default branch of the remote 'origin' is known",
        hint="git remote set-head origin --auto (then fetch), or pass --policy FILE",
    )


def _bare(git: GitRunner) -> bool:
    return git.text("rev-parse", "--is-bare-repository") == "true"

"""Revisions and refs named on the command line, resolved once, with bad input said plainly.

A revision that does not exist is the user's mistake (exit 2 with the name they typed), not
git failing (exit 3 with ``git rev-parse``'s own words). Defaults that used to say ``main``
come from the repository itself: the branch its ``origin/HEAD`` names (a clone), else the
branch ``HEAD`` names (a server's bare repository, or a clone without ``origin/HEAD``).
"""

from __future__ import annotations

__all__ = ["commit_of", "default_branch", "protected_ref", "repo_at", "tree_of"]

from pathlib import Path

from twokey.errors import UsageError
from twokey.git import GitError
from twokey.git import GitRunner as Git

_HINT = "name a branch, tag or commit id that exists here (git log --oneline shows them)"


def repo_at(path: Path | str) -> Git:
    """The repository ``--repo`` names; a path that is none is bad input (exit 2).

    git that cannot run at all stays an infrastructure error (exit 3).
    """
    try:
        return Git.discover(path)
    except GitError as exc:
        raise UsageError(exc.message, hint=exc.hint) from exc


def _object(git: Git, rev: str, kind: str) -> str:
    """The id of ``rev`` peeled to ``kind``; an unknown revision is a :class:`UsageError`."""
    if rev.startswith("-") or not rev.strip():
        raise UsageError(f"{rev!r} is not a revision", hint=_HINT)
    out = git.run(
        "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{{kind}}}", check=False
    )
    value = out.decode(errors="replace").strip()
    if not value:
        raise UsageError(f"no {kind} {rev!r} in this repository", hint=_HINT)
    return value


def commit_of(git: Git, rev: str) -> str:
    """The commit ``rev`` names (a tag is peeled to its commit)."""
    return _object(git, rev, "commit")


def tree_of(git: Git, rev: str) -> str:
    """The tree ``rev`` names (a commit's tree, or a tree id)."""
    return _object(git, rev, "tree")


def _symbolic(git: Git, name: str) -> str:
    out = git.run("symbolic-ref", "--quiet", name, check=False)
    return out.decode(errors="replace").strip()


def default_branch(git: Git) -> str:
    """The branch a default ``--ref`` means, the first of:

    1. the branch ``origin/HEAD`` names (a clone: the remote's default branch);
    2. in a bare repository (a server), the branch ``HEAD`` names, when it has a commit;
    3. ``main``, when this repository or its origin has it (a clone of an empty repository
       has no ``origin/HEAD``, and its ``HEAD`` is often a topic branch);
    4. the branch ``HEAD`` names, when it has a commit;
    5. the only branch there is;
    6. the branch ``HEAD`` names though it has no commit (an empty repository).

    Raises:
        UsageError: none of these names a branch (a detached ``HEAD`` among several branches).
    """
    remote = _symbolic(git, "refs/remotes/origin/HEAD")
    if remote.startswith("refs/remotes/origin/") and _exists(git, remote):
        return "refs/heads/" + remote.removeprefix("refs/remotes/origin/")
    local = _symbolic(git, "HEAD")
    born = local.startswith("refs/heads/") and _exists(git, local)
    if born and git.text("rev-parse", "--is-bare-repository") == "true":
        return local
    if _exists(git, "refs/heads/main") or _exists(git, "refs/remotes/origin/main"):
        return "refs/heads/main"
    if born:
        return local
    branches = git.text("for-each-ref", "--count=2", "--format=%(refname)", "refs/heads/").split()
    if len(branches) == 1:
        return branches[0]
    if local.startswith("refs/heads/") and not branches:
        return local
    why = "HEAD is detached" if not local else f"HEAD names {local}, which has no commit"
    raise UsageError(
        f"cannot tell which branch is protected: {why}, there is no origin/HEAD and no main, "
        "and there are several branches",
        hint="pass --ref refs/heads/NAME (or git remote set-head origin --auto)",
    )


def _exists(git: Git, ref: str) -> bool:
    return git.ok("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")


def protected_ref(git: Git, value: str | None) -> str:
    """The full ref ``--ref`` names: none means :func:`default_branch`; ``HEAD`` means the
    branch HEAD names; a name without ``refs/`` means ``refs/heads/NAME``."""
    if value is None:
        return default_branch(git)
    if value == "HEAD":
        local = _symbolic(git, "HEAD")
        if not local.startswith("refs/heads/"):
            raise UsageError("--ref HEAD: HEAD is detached", hint="pass --ref refs/heads/NAME")
        return local
    full = value if value.startswith("refs/") else f"refs/heads/{value}"
    if value.startswith("-") or not git.ok("check-ref-format", full):
        raise UsageError(f"--ref {value!r} is not a ref name", hint="e.g. --ref refs/heads/main")
    return full

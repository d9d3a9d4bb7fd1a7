"""Ref updates through symbolic refs, judged as the ref that really moves (issue 15 item 9).

git-receive-pack updates the *target* of a symbolic ref (it dereferences, as ``git
update-ref`` does): with ``refs/heads/master`` a server-side symref to ``refs/heads/main``, a
push to ``master`` moves ``main``. The pre-receive hook is handed the name that was pushed, so
every update is rewritten to the ref it lands on before anything is judged; a rule can then
never be side-stepped by a second name for a protected ref.
"""

from __future__ import annotations

__all__ = ["through_symrefs"]

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from twokey._gitrunner import GitRunner
from twokey.git import RefUpdate

_MAX_HOPS = 5  # git itself gives up after 5 levels of symbolic refs (SYMREF_MAXDEPTH)


def through_symrefs(
    git: GitRunner, updates: Sequence[RefUpdate], default_ref: str = ""
) -> tuple[list[RefUpdate], str]:
    """``updates``, each renamed to the ref it would move (``via`` keeps the pushed name), and
    ``default_ref`` resolved the same way (the branch whose policy is trusted), in one go.

    Raises:
        InfrastructureError: git cannot list the refs; or a chain of symbolic refs is
            longer than git follows (the hook then denies the push with the reason).
    """
    names = {u.ref for u in updates} | ({default_ref} if default_ref else set())
    targets: dict[str, str] = {}
    for _ in range(_MAX_HOPS + 1):
        found = _symrefs(git, names)
        if not found:
            break
        targets.update(found)
        names = set(found.values())
    else:
        from twokey.errors import InfrastructureError  # noqa: PLC0415

        raise InfrastructureError(f"symbolic refs nested deeper than {_MAX_HOPS} levels")
    return [_follow(u, targets) for u in updates], _final(default_ref, targets)


def _final(ref: str, targets: dict[str, str]) -> str:
    for _ in range(_MAX_HOPS + 1):
        if ref not in targets:
            break
        ref = targets[ref]
    return ref


def _follow(update: RefUpdate, targets: dict[str, str]) -> RefUpdate:
    ref = _final(update.ref, targets)
    return update if ref == update.ref else replace(update, ref=ref, via=update.ref)


def _symrefs(git: GitRunner, names: set[str]) -> dict[str, str]:
    """Which of ``names`` are symbolic refs, and what they point at (one level).

    In the files backend a symbolic ref is always a loose file ``ref: <target>`` under
    ``$GIT_DIR`` (gitrepository-layout(5); ``packed-refs`` cannot hold one), also when its
    target does not exist yet: read without a git process. A reftable repository is asked
    through ``git symbolic-ref``, one name at a time.
    """
    found: dict[str, str] = {}
    reftable = (git.git_dir / "reftable").is_dir()
    for name in sorted(names):
        if reftable:
            result = git.call(["symbolic-ref", "-q", name], ok=(0, 1, 128))
            target = result.out.decode(errors="replace").strip() if result.code == 0 else ""
        else:
            target = _loose_target(git.git_dir / name)
        if target and (not target.startswith("refs/") or ".." in target.split("/")):
            from twokey.errors import InfrastructureError  # noqa: PLC0415

            raise InfrastructureError(f"{name} is a symbolic ref to {target!r}, not to a ref")
        if target:
            found[name] = target
    return found


def _loose_target(path: Path) -> str:
    try:
        with path.open("rb") as file:
            head = file.read(4096)
    except OSError:  # absent, a directory, unreadable: not a symbolic ref
        return ""
    if not head.startswith(b"ref: "):
        return ""
    return head[5:].decode(errors="replace").strip()

"""Installing the pre-receive hook in a (bare) repository, and removing it again."""

from __future__ import annotations

__all__ = ["HOOK_MARKER", "install_hook", "resolve_git_dir", "uninstall_hook"]

import secrets
import shlex
import shutil
import sys
from pathlib import Path

from twokey._gitrunner import GitConfig, GitRunner
from twokey.doors._policy_source import BOOTSTRAP_FILE
from twokey.errors import ConfigError, TwokeyError, UsageError

HOOK_MARKER = "# installed by twokey hook install"
_SCRIPT = """\
#!/bin/sh
{marker} -- remove with: twokey hook uninstall
# Judges every ref update of a push against the policy on the default branch (docs/hook.md).
exec {python} -m twokey.git hook-run{server}
"""
_POST_RECEIVE = """\
#!/bin/sh
{marker} -- remove with: twokey hook uninstall
# Records in the ledger which ref updates git actually made (docs/hook.md, ADR 0015).
# Without a ledger in the repository's own config there is nothing to record: skip Python's
# start-up (~100 ms a push). --file reads that one file, never the pusher's environment.
git config --includes --file "${{GIT_DIR:-.}}/config" --get twokey.ledger >/dev/null || exit 0
exec {python} -m twokey.git post-receive-run
"""


def resolve_git_dir(path: Path) -> Path:
    """The git directory of ``path`` (a bare repository, or a work tree with ``.git``).

    Raises:
        UsageError: ``path`` is not a git repository.
    """
    candidate = path / ".git" if (path / ".git").is_dir() else path
    if not (candidate / "HEAD").is_file() or not (candidate / "objects").is_dir():
        raise UsageError(f"{path} is not a git repository", hint="pass the bare repository path")
    return candidate.resolve()


def install_hook(
    path: Path,
    *,
    bootstrap_policy: Path | None = None,
    ledger: str | None = None,
    repository: str | None = None,
    python: str | None = None,
    server_socket: Path | None = None,
    force: bool = False,
    ledger_key: Path | None = None,
) -> Path:
    """Install the pre-receive hook; returns the hook's path.

    Also installs the ``post-receive`` hook that records what landed, and sets
    ``receive.advertisePushOptions`` (for ``git push -o twokey.break-glass=...``), what
    ``git push --signed`` needs (a ``receive.certNonceSeed`` and ``certNonceSlop`` when unset,
    ``gpg.format=ssh``, ``gpg.ssh.allowedSignersFile`` written from the policy's keys), and
    ``twokey.ledger`` / ``twokey.repository`` / ``twokey.ledgerKey`` when given. With
    ``server_socket`` the hook first asks a warm ``twokey hook serve`` on that socket, and
    judges by itself when none answers.

    Raises:
        UsageError: not a repository, or another pre-receive hook exists (without ``force``).
        PolicyError: the bootstrap policy is invalid.
    """
    git_dir = resolve_git_dir(path)
    hook = git_dir / "hooks" / "pre-receive"
    if hook.exists() and HOOK_MARKER not in _read(hook) and not force:
        raise UsageError(
            f"{hook} exists and was not installed by twokey",
            hint="move it aside, or pass --force to replace it",
        )
    _check_post_receive(git_dir, force=force)  # before anything is written
    if bootstrap_policy is not None:
        _install_bootstrap(git_dir, bootstrap_policy)
    git = GitRunner(git_dir, config=GitConfig.ISOLATED)
    git.call(["config", "receive.advertisePushOptions", "true"])
    if git.call(["config", "--get", "receive.certNonceSeed"], ok=(0, 1)).code == 1:
        git.call(["config", "receive.certNonceSeed", secrets.token_hex(16)])
    _signed_pushes(git, git_dir)
    for key, value in (("twokey.ledger", ledger), ("twokey.repository", repository)):
        if value:
            git.call(["config", key, value])
    if ledger_key is not None:  # signs a checkpoint after each recorded push (ADR 0015)
        git.call(["config", "twokey.ledgerKey", str(ledger_key.resolve())])
    hook.parent.mkdir(exist_ok=True)
    server = ""
    if server_socket is not None:
        server = f" --socket {shlex.quote(str(server_socket.resolve()))}"
    hook.write_text(
        _SCRIPT.format(
            marker=HOOK_MARKER, python=shlex.quote(python or sys.executable), server=server
        )
    )
    hook.chmod(0o755)
    _install_post_receive(git_dir, python or sys.executable, force=force)
    return hook


def _check_post_receive(git_dir: Path, *, force: bool) -> None:
    hook = git_dir / "hooks" / "post-receive"
    if hook.exists() and HOOK_MARKER not in _read(hook) and not force:
        raise UsageError(
            f"{hook} exists and was not installed by twokey",
            hint="chain it from a script, or pass --force to replace it",
        )


def _install_post_receive(git_dir: Path, python: str, *, force: bool) -> None:
    """The post-receive hook beside pre-receive: what landed, not only what was allowed."""
    _check_post_receive(git_dir, force=force)
    hook = git_dir / "hooks" / "post-receive"
    hook.write_text(_POST_RECEIVE.format(marker=HOOK_MARKER, python=shlex.quote(python)))
    hook.chmod(0o755)


def uninstall_hook(path: Path) -> bool:
    """Remove twokey's pre-receive hook; False when none was installed.

    The bootstrap policy, caches and ``twokey.*`` config stay (reinstalling keeps them).

    Raises:
        UsageError: the pre-receive hook there is not twokey's.
    """
    hooks = resolve_git_dir(path) / "hooks"
    hook = hooks / "pre-receive"
    post = hooks / "post-receive"
    if post.exists() and HOOK_MARKER in _read(post):
        post.unlink()
    if not hook.exists():
        return False
    if HOOK_MARKER not in _read(hook):
        raise UsageError(f"{hook} was not installed by twokey; leaving it alone")
    hook.unlink()
    return True


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc


def _signed_pushes(git: GitRunner, git_dir: Path) -> None:
    """What ``git push --signed`` with SSH keys needs on the server (docs/hook.md).

    Over HTTP every request gets a new nonce; ``receive.certNonceSlop`` lets git call a nonce
    of the same repository up to 60 s old ``OK`` (git-config(1)). The hook also checks the
    nonce's age against its own clock (``_pushcert``).
    """
    from twokey.doors._policy_source import trusted_policy  # noqa: PLC0415
    from twokey.doors._signers import refresh_allowed_signers  # noqa: PLC0415
    from twokey.git import GitReader  # noqa: PLC0415

    if git.call(["config", "--get", "receive.certNonceSlop"], ok=(0, 1)).code == 1:
        git.call(["config", "receive.certNonceSlop", "60"])
    reader = GitReader(git_dir)
    try:
        policy = trusted_policy(reader, reader.head_ref()).policy
    except TwokeyError:
        policy = None  # no policy yet: an empty file; the first signed push writes it
    path = refresh_allowed_signers(git_dir, policy)
    git.call(["config", "gpg.format", "ssh"])
    git.call(["config", "gpg.ssh.allowedSignersFile", str(path)])


def _install_bootstrap(git_dir: Path, source: Path) -> None:
    from twokey.policy import load  # noqa: PLC0415

    load(source)  # raises PolicyError (file:line) or ConfigError before anything is copied
    target = git_dir / BOOTSTRAP_FILE
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    except OSError as exc:
        raise ConfigError(f"cannot install the bootstrap policy: {exc}") from exc

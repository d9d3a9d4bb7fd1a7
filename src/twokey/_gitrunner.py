"""Running git: the one place that starts ``git`` and turns its failures into ``GitError``.

One runner, two configuration policies, chosen explicitly by every caller:

- ``GitConfig.ISOLATED``: what the gate's plumbing reads must not depend on the user's or the
  system's configuration (aliases, ``log.showSignature``, ``diff.renames``...); only the
  repository's own config applies, git runs with ``GIT_DIR`` set and a time limit. The hook
  passes its own environment so that git sees the quarantine object directory of a push
  (git-receive-pack(1), "QUARANTINE").
- ``GitConfig.USER``: porcelain for the command line (``push``, ``config user.signingkey``,
  revision names) runs in the user's configuration, never prompting for credentials.

It sits below every package (the evidence store uses it too), so it imports ``errors`` only.
"""

from __future__ import annotations

__all__ = ["GitConfig", "GitError", "GitResult", "GitRunner"]

# Before dataclasses: it imports dataclasses with a deferred inspect (ADR 0036).
import twokey._dataclass_fast  # noqa: F401 - records from precompiled code (ADR 0031)

# isort: split
import enum
import errno
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from twokey.errors import InfrastructureError

# The gate judges the objects git stores, as they are (ADR 0041): git-replace(1) objects are
# refs (``refs/replace/<id>``) anyone with push access creates, and grafts rewrite a commit's
# parents; honoured, they would make the gate judge another commit, tree or blob (the policy
# file too) than the one the ref moves to, or hide commits (and their authors) from a change.
# So replacements are off, grafts are read from a file that cannot exist (never
# ``info/grafts``, which an earlier step of a CI job can write), and the variables that point
# git at other replacements or a shallow file (git(1), "ENVIRONMENT"; a pusher's over an sshd
# with AcceptEnv, a CI job's) are dropped.
_ISOLATED_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_GRAFT_FILE": f"{os.devnull}/no-grafts",  # missing: no grafts, and no deprecation hint
    "GIT_NO_REPLACE_OBJECTS": "1",
    "LC_ALL": "C",
}
_ISOLATED_DROPPED = ("GIT_REPLACE_REF_BASE", "GIT_SHALLOW_FILE")
# A commit-graph file (``objects/info/commit-graph``) is a cache git trusts for a commit's
# parents without reading the commit: one forged by an earlier step of a CI or deploy job
# makes git show another history (a commit's parent moved past the deployer's own commit,
# which then leaves the release). The gate reads parents from the commits themselves.
_ISOLATED_ARGS = ("-c", "core.commitGraph=false")
_USER_ENV = {"LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
_ISOLATED_TIMEOUT = 300.0


class GitError(InfrastructureError):
    """git failed, could not start, or ran too long; its stderr is in the message."""


class GitConfig(enum.Enum):
    """Whose configuration git reads (see the module docstring)."""

    ISOLATED = "isolated"
    USER = "user"


@dataclass(frozen=True, slots=True)
class GitResult:
    """What a git process returned."""

    code: int
    out: bytes
    err: str


class GitRunner:
    """Runs ``git`` against one repository (a bare repository or a ``.git`` directory).

    Args:
        git_dir: the repository's git directory.
        config: whose configuration git reads.
        env: the environment git runs in (default: this process's).
        commit_graph: an isolated git may read parents from the repository's commit-graph
            (the audit, in the repository its auditor names; never a gate: see
            ``_ISOLATED_ARGS``).
    """

    def __init__(
        self,
        git_dir: Path,
        *,
        config: GitConfig,
        env: Mapping[str, str] | None = None,
        commit_graph: bool = False,
    ) -> None:
        self.git_dir = git_dir
        self.config = config
        base = dict(os.environ if env is None else env)
        if config is GitConfig.ISOLATED:
            for name in _ISOLATED_DROPPED:
                base.pop(name, None)
            base.update(_ISOLATED_ENV)
            base["GIT_DIR"] = str(git_dir)
            self._prefix: tuple[str, ...] = () if commit_graph else _ISOLATED_ARGS
            self._timeout: float | None = _ISOLATED_TIMEOUT
        else:
            base.update(_USER_ENV)
            self._prefix = ("--git-dir", str(git_dir))
            self._timeout = None
        self.env = base

    @staticmethod
    def start_discover(path: Path | str = ".") -> None:
        """Start :meth:`discover`'s ``git`` for ``path`` now (ADR 0035): a door that knows its
        repository before it imports its modules lets git work on another core meanwhile. The
        next :meth:`discover` of the same path takes its answer (see :meth:`start`)."""
        args = _discover_args(path)
        try:
            _started.append(_Started(args, None, None, None, _start(args, None, None)))
        except GitError:  # discover runs it again and says why
            return

    @classmethod
    def discover(cls, path: Path | str = ".", *, config: GitConfig = GitConfig.USER) -> GitRunner:
        """The repository containing ``path`` (a work tree or a bare repository)."""
        args = _discover_args(path)
        out = _take(args, None, None, None) or _spawn(args, None, None, None)
        if out.returncode != 0:
            raise GitError(
                f"{path} is not a git repository", hint="run inside a clone, or pass --repo PATH"
            )
        return cls(Path(out.stdout.decode().strip()), config=config)

    def start(self, *args: str, stdin: bytes | None = None) -> None:
        """Start ``git args`` now, for a later :meth:`call` with exactly the same arguments,
        input, environment and time limit (ADR 0035: git runs on another core while this
        process works); a call that differs in anything runs its own process.

        Process-wide: any runner whose call is the same takes it (the hook starts its first
        reads before the door builds its reader). Whoever starts a process lets a call take
        it or ends it with :meth:`discard_started` (the doors do both, in a ``finally``). Only
        a process's own door starts processes, from one thread (never the gateway's).
        """
        argv = [*self._prefix, *args]
        # Its input is written at once: it must fit the pipe's buffer.
        if stdin is not None and len(stdin) > _MAX_EARLY_STDIN:
            return
        try:
            proc = _start(argv, self.env, stdin)
        except GitError:  # the call runs it again and says why
            return
        _started.append(_Started(tuple(argv), self.env, stdin, self._timeout, proc))

    @staticmethod
    def discard_started() -> None:
        """Stop every process :meth:`start` (or :meth:`start_discover`) began that no call
        took."""
        while _started:
            _stop(_started.pop().proc)

    def call(
        self, args: Sequence[str], *, stdin: bytes | None = None, ok: Sequence[int] = (0,)
    ) -> GitResult:
        """Run ``git ARGS``; any exit code outside ``ok`` raises :class:`GitError`."""
        argv = [*self._prefix, *args]
        proc = _take(argv, self.env, stdin, self._timeout) or _spawn(
            argv, self.env, stdin, self._timeout
        )
        err = proc.stderr.decode(errors="replace").strip()
        if proc.returncode not in ok:
            raise GitError(f"git {' '.join(args[:3])} failed: {err or f'exit {proc.returncode}'}")
        return GitResult(proc.returncode, proc.stdout, err)

    def run(self, *args: str, stdin: bytes | None = None, check: bool = True) -> bytes:
        """Run ``git args`` and return stdout; unless ``check`` is off, a failure raises."""
        result = self.call(args, stdin=stdin, ok=(0,) if check else range(-256, 256))
        return result.out

    def text(self, *args: str, stdin: bytes | None = None) -> str:
        """``run`` decoded and stripped."""
        return self.run(*args, stdin=stdin).decode(errors="replace").strip()

    def ok(self, *args: str) -> bool:
        """True when ``git args`` exits 0."""
        return self.call(args, ok=range(-256, 256)).code == 0

    def rev_parse(self, rev: str) -> str:
        """The full object id of ``rev``."""
        return self.text("rev-parse", "--verify", "--end-of-options", f"{rev}^{{object}}")

    def popen(self, *args: str, stderr: int) -> subprocess.Popen[bytes]:
        """Start ``git args`` with its output to read as a stream (``git log`` of a history).

        Raises:
            GitError: git could not be started.
        """
        try:
            return subprocess.Popen(
                ["git", *self._prefix, *args], stdout=subprocess.PIPE, stderr=stderr, env=self.env
            )
        except OSError as exc:
            raise GitError(f"cannot run git: {exc}") from exc


# A process started early: the exact command, environment, input and time limit it was started
# with, which a later run must all equal to take its answer.
@dataclass(frozen=True, slots=True)
class _Started:
    """A process started early, with the call that may take it (ADR 0035)."""

    args: tuple[str, ...]
    env: Mapping[str, str] | None
    stdin: bytes | None
    timeout: float | None
    proc: subprocess.Popen[bytes]


# Pipes hold 64 KiB on Linux; the input of a process started early is written before anyone
# reads its output.
_MAX_EARLY_STDIN = 16 * 1024
_started: list[_Started] = []  # begun early, not yet taken (process-wide)


def _discover_args(path: Path | str) -> tuple[str, ...]:
    return ("-C", str(path), "rev-parse", "--absolute-git-dir")


def _start(
    args: Sequence[str], env: Mapping[str, str] | None, stdin: bytes | None
) -> subprocess.Popen[bytes]:
    """Start ``git ARGS`` with its output captured (as :func:`_spawn` runs it) and its input
    written and closed."""
    try:
        proc = subprocess.Popen(
            ["git", *args],
            stdin=subprocess.PIPE if stdin is not None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
    except OSError as exc:
        command = f"git {args[0]}" if args else "git"
        raise GitError(
            f"cannot run {command}: {exc}", hint="is git installed and on PATH?"
        ) from exc
    if proc.stdin is not None:
        # As subprocess.run writes it: git may exit before reading it all (its answer says why).
        pipe, proc.stdin = proc.stdin, None  # written here: communicate() only reads
        try:
            with pipe:
                pipe.write(stdin or b"")
        except BrokenPipeError:
            pass
        except OSError as exc:
            if exc.errno != errno.EINVAL:  # EINVAL: git exited (subprocess ignores it too)
                _stop(proc)
                raise GitError(f"cannot write to git {args[0]}: {exc}") from exc
    return proc


def _take(
    args: Sequence[str],
    env: Mapping[str, str] | None,
    stdin: bytes | None,
    timeout: float | None,
) -> subprocess.CompletedProcess[bytes] | None:
    """The answer of the process begun early with exactly this command, environment, input and
    time limit (taken out of ``_started``), or None when there is none."""
    if not _started:
        return None
    wanted = tuple(args)
    for at, early in enumerate(_started):
        same = early.args == wanted and early.stdin == stdin and early.timeout == timeout
        if same and early.env == env:
            del _started[at]
            return _finish(early)
    return None


def _finish(early: _Started) -> subprocess.CompletedProcess[bytes]:
    """Wait for a process begun early, as ``subprocess.run`` waits (its time limit counted from
    now, killed when it runs over)."""
    try:
        out, err = early.proc.communicate(timeout=early.timeout)
    except subprocess.TimeoutExpired as exc:  # as _spawn words it
        _stop(early.proc)
        raise GitError(
            f"cannot run git {early.args[0]}: {exc}", hint="is git installed and on PATH?"
        ) from exc
    return subprocess.CompletedProcess(early.args, early.proc.returncode, out, err)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.communicate()


def _spawn(
    args: Sequence[str],
    env: Mapping[str, str] | None,
    stdin: bytes | None,
    timeout: float | None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git ARGS`` to completion, output captured; any exit code is returned."""
    try:
        return subprocess.run(
            ["git", *args], input=stdin, capture_output=True, env=env, timeout=timeout, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        command = f"git {args[0]}" if args else "git"
        raise GitError(
            f"cannot run {command}: {exc}", hint="is git installed and on PATH?"
        ) from exc

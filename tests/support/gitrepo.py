"""Real git repositories for tests: no mocks, the real ``git`` binary."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Deterministic, isolated git: no user or system config leaks into tests.
_BASE_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}


@dataclass(frozen=True)
class Person:
    """A test identity: name and email used for git author/committer."""

    name: str
    email: str


ALICE = Person("Alice Smith", "alice@example.com")
BOB = Person("Bob Jones", "bob@example.com")
CAROL = Person("Carol White", "carol@example.com")
DAVE = Person("Dave Ops", "dave@example.com")
ERIN = Person("Erin Admin", "erin@example.com")
FRANK = Person("Frank Admin", "frank@example.com")


def git_env(person: Person | None = None, when: str | None = None) -> dict[str, str]:
    """Environment for a git subprocess acting as ``person`` at time ``when``."""
    env = {**os.environ, **_BASE_ENV}
    if person is not None:
        env.update(
            GIT_AUTHOR_NAME=person.name,
            GIT_AUTHOR_EMAIL=person.email,
            GIT_COMMITTER_NAME=person.name,
            GIT_COMMITTER_EMAIL=person.email,
        )
    if when is not None:
        env.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    return env


class GitRepo:
    """A real repository on disk (bare or with a work tree)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def init(cls, path: Path, *, bare: bool = False, branch: str = "main") -> GitRepo:
        """``git init`` a new repository at ``path``."""
        path.mkdir(parents=True, exist_ok=True)
        args = ["git", "init", "-q", "-b", branch]
        if bare:
            args.append("--bare")
        subprocess.run([*args, str(path)], check=True, env=git_env())
        return cls(path)

    def clone(self, dest: Path, person: Person | None = None) -> GitRepo:
        """Clone this repository to ``dest`` and configure ``person`` as its user."""
        subprocess.run(["git", "clone", "-q", str(self.path), str(dest)], check=True, env=git_env())
        clone = GitRepo(dest)
        if person is not None:
            clone.git("config", "user.name", person.name)
            clone.git("config", "user.email", person.email)
        return clone

    def git(
        self,
        *args: str,
        person: Person | None = None,
        when: str | None = None,
        check: bool = True,
        input: str | None = None,
    ) -> str:
        """Run git in this repository and return its stdout (stripped)."""
        result = subprocess.run(
            ["git", "-C", str(self.path), *args],
            check=False,
            capture_output=True,
            text=True,
            env=git_env(person, when),
            input=input,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"git {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
            )
        return result.stdout.strip()

    def write(self, relpath: str, content: str) -> None:
        """Write a file in the work tree (creating folders)."""
        target = self.path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)

    def commit(
        self,
        files: dict[str, str],
        message: str,
        person: Person,
        *,
        when: str | None = None,
        co_authors: tuple[Person, ...] = (),
    ) -> str:
        """Write ``files``, commit them as ``person`` and return the new commit id."""
        for relpath, content in files.items():
            self.write(relpath, content)
        self.git("add", "-A")
        trailers = "".join(f"\nCo-authored-by: {p.name} <{p.email}>" for p in co_authors)
        body = f"{message}\n{trailers}" if trailers else message
        self.git("commit", "-q", "-m", body, person=person, when=when)
        return self.rev_parse("HEAD")

    def rev_parse(self, rev: str) -> str:
        """The full object id ``rev`` names."""
        return self.git("rev-parse", rev)

"""The demo's company: people, their SSH keys, clones of one server repository."""

from __future__ import annotations

__all__ = ["COMPANY", "Actor", "World"]

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from twokey.errors import InfrastructureError


@dataclass(frozen=True)
class Actor:
    """Someone in the story (a person or the CI service)."""

    id: str
    name: str
    email: str


COMPANY = (
    Actor("alice", "Alice Smith", "alice@example.com"),
    Actor("bob", "Bob Jones", "bob@example.com"),
    Actor("carol", "Carol White", "carol@example.com"),
    Actor("dave", "Dave Ops", "dave@example.com"),
    Actor("erin", "Erin Admin", "erin@example.com"),
    Actor("frank", "Frank Admin", "frank@example.com"),
    Actor("ci", "CI", "ci@example.com"),
)
REPOSITORY = "example.com/shop"


@dataclass
class Result:
    """What one command did."""

    code: int
    output: str


class World:
    """Files, keys and clones under one work directory; every command is a real process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.server = root / "server" / "shop.git"
        self.ledger = f"sqlite://{root / 'server' / 'ledger.db'}"
        # The server's checkpoint key: every door signs a checkpoint after each batch it records
        # (ADR 0015); the auditor holds only the .pub.
        self.ledger_key = root / "server" / "ledger.key"
        self.env = {
            **os.environ,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
        }
        self.env.pop("TWOKEY_LEDGER", None)
        self.env["TWOKEY_LEDGER_SIGNING_KEY"] = str(self.ledger_key)

    def key(self, actor: Actor) -> Path:
        """The actor's SSH private key (the one they sign commits with)."""
        return self.root / "keys" / actor.id

    def clone(self, actor: Actor) -> Path:
        """The actor's working clone."""
        return self.root / "clones" / actor.id

    def run(
        self,
        args: list[str],
        *,
        cwd: Path | None = None,
        actor: Actor | None = None,
        stdin: str | None = None,
    ) -> Result:
        """Run a command as ``actor`` (git identity and transport-authenticated pusher)."""
        env = dict(self.env)
        if actor is not None:
            env.update(
                GIT_AUTHOR_NAME=actor.name,
                GIT_AUTHOR_EMAIL=actor.email,
                GIT_COMMITTER_NAME=actor.name,
                GIT_COMMITTER_EMAIL=actor.email,
                TWOKEY_PUSHER=f"email:{actor.email}",
            )
        try:
            done = subprocess.run(
                args, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, check=False
            )
        except OSError as exc:
            raise InfrastructureError(f"cannot run {args[0]}: {exc}") from exc
        return Result(done.returncode, (done.stdout + done.stderr).strip())

    def must(self, args: list[str], **kw: object) -> Result:
        """Run, and fail loudly when the command fails."""
        result = self.run(args, **kw)  # type: ignore[arg-type]
        if result.code != 0:
            raise InfrastructureError(f"demo set-up failed: {' '.join(args)}\n{result.output}")
        return result

    def twokey(self, *args: str, cwd: Path | None = None, actor: Actor | None = None) -> Result:
        """Run the twokey command line in a fresh process."""
        return self.run([sys.executable, "-m", "twokey", *args], cwd=cwd, actor=actor)

    def git(self, actor: Actor, *args: str) -> Result:
        """Run git in the actor's clone, as the actor."""
        return self.run(["git", *args], cwd=self.clone(actor), actor=actor)

    def write(self, actor: Actor, path: str, text: str) -> None:
        """Write a file in the actor's clone."""
        target = self.clone(actor) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

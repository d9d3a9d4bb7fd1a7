"""A server whose main excludes the last pusher, and clones that sign pushes (ADR 0013)."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tests.integration.git._harness import REPOSITORY, Keys, Server, policy_text
from tests.support.gitrepo import ERIN, GitRepo
from twokey.doors import install_hook

STRICT = "    approvers: [reviewers, admins]\n    exclude: [authors, committers, last-pusher]\n"


def strict_server(root: Path, keys: Keys) -> Server:
    """A server whose main excludes the last pusher, with the hook installed (signed pushes)."""
    bare = GitRepo.init(root / "server.git", bare=True)
    seed = bare.clone(root / "seed", ERIN)
    text = policy_text(keys.public()).replace("    approvers: [reviewers, admins]\n", STRICT, 1)
    seed.commit({".twokey/policy.yml": text}, "Add the twokey policy", ERIN)
    seed.git("push", "-q", "origin", "main")
    install_hook(bare.path, repository=REPOSITORY)
    return Server(root, bare, keys)


def signing(server: Server, clone: GitRepo, who: str) -> None:
    """Make ``clone`` sign pushes with ``who``'s registered key (git's gpg.format=ssh)."""
    path = server.root / f"{who}.key"
    key = server.keys.signers[who].key
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()))
    path.chmod(0o600)
    clone.git("config", "gpg.format", "ssh")
    clone.git("config", "user.signingkey", str(path))

"""Options and helpers shared by the commands that sign evidence."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from twokey.errors import UsageError
from twokey.evidence import Signer, load_signer
from twokey.git import GitRunner as Git


def add_signing(parser: argparse.ArgumentParser) -> None:
    """``--key FILE`` (twokey Ed25519) or ``--ssh-key FILE`` (SSHSIG), and ``--repo``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--key",
        metavar="FILE",
        help="twokey Ed25519 key (twokey keys generate); default $TWOKEY_KEY",
    )
    group.add_argument(
        "--ssh-key",
        metavar="FILE",
        help="an SSH private key (ed25519, ecdsa, "
        "rsa>=2048): signs as ssh-keygen -Y sign -n twokey; default: git config "
        "user.signingkey when gpg.format=ssh",
    )
    parser.add_argument("--repo", default=".", help="the repository (default: current directory)")


def signer_from(args: argparse.Namespace, git: Git) -> Signer:
    """The signer the options name, or the defaults documented in ``add_signing``."""
    if args.key:
        return load_signer(Path(args.key).expanduser(), ssh=False)
    if args.ssh_key:
        return load_signer(Path(args.ssh_key).expanduser(), ssh=True)
    if os.environ.get("TWOKEY_KEY"):
        return load_signer(Path(os.environ["TWOKEY_KEY"]).expanduser(), ssh=False)
    fmt = git.run("config", "--get", "gpg.format", check=False).decode().strip()
    key = git.run("config", "--get", "user.signingkey", check=False).decode().strip()
    if fmt == "ssh" and key and not key.startswith(("ssh-", "ecdsa-", "key::")):
        given = Path(key).expanduser()
        private = Path(key.removesuffix(".pub")).expanduser()
        # a .pub without its private key: the key lives in ssh-agent (ssh-keygen -Y sign)
        return load_signer(private if private.exists() else given, ssh=True)
    raise UsageError(
        "no signing key",
        hint="pass --key FILE or --ssh-key FILE (or set "
        "TWOKEY_KEY, or gpg.format=ssh with user.signingkey)",
    )

"""``twokey login`` and ``twokey logout``: sign in to a gateway with the key the policy lists.

The gateway hands out a one-time nonce; this command signs its exact bytes as
``ssh-keygen -Y sign -n twokey-login`` does (``--ssh-key``: through the real ssh-keygen, so
passphrase-protected keys and ssh-agent work; ``--key``: a twokey Ed25519 key, in process) and
trades the signature for a short-lived token, saved for the gateway's URL (0600).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from twokey.cli._client import GatewayClient, add_gateway_option, client_from, save_credentials
from twokey.cli._output import Subparsers, add_command, add_format, exit_codes, print_json
from twokey.errors import ExitCode, InfrastructureError, UsageError

NAMESPACE = "twokey-login"

_EPILOG = f"""\
examples:
  twokey login --gateway https://twokey.example.com --ssh-key ~/.ssh/id_ed25519
  twokey login --person bob --key ~/.config/twokey/id_ed25519 --format json
  twokey login --browser            # then type the printed code at BASE/login

The key must be one of your keys in the trusted policy (people.<you>.keys). The token lives
8 hours by default; `twokey tokens list` shows it, `twokey logout` revokes it.
{exit_codes("signed in", bad="refused: the reason is printed (key not in the policy...)")}"""

_LOGOUT = f"""\
examples:
  twokey logout
  twokey logout --gateway https://twokey.example.com

Revokes the saved token at the gateway and forgets it.
{exit_codes("signed out", bad="not signed in")}"""


def register(subparsers: Subparsers) -> None:
    """Register ``twokey login``."""
    parser = add_command(
        subparsers,
        "login",
        "sign in to a gateway with your SSH key; --browser prints a one-time web code",
        _EPILOG,
        description="Sign in to a twokey gateway: sign its one-time nonce with a key the "
        "policy lists for you, and save the token it returns.",
    )
    add_gateway_option(parser)
    parser.add_argument(
        "--person", default="", help="your id in the policy (default: whoever owns the key)"
    )
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument(
        "--ssh-key",
        metavar="FILE",
        help="an SSH private key (or the .pub of a key in ssh-agent); signs with "
        "ssh-keygen -Y sign -n twokey-login",
    )
    keys.add_argument(
        "--key", metavar="FILE", help="a twokey Ed25519 key (twokey keys generate); $TWOKEY_KEY"
    )
    parser.add_argument(
        "--browser",
        action="store_true",
        help="also print a one-time code (5 minutes) that signs a browser in at BASE/login",
    )
    add_format(parser)
    parser.set_defaults(handler=_login)


def register_logout(subparsers: Subparsers) -> None:
    """Register ``twokey logout``."""
    out = add_command(
        subparsers,
        "logout",
        "revoke and forget the saved gateway token",
        _LOGOUT,
        description="Sign out of a twokey gateway: revoke the token twokey login saved.",
    )
    add_gateway_option(out)
    out.set_defaults(handler=_logout)


def _ssh_keygen_sign(path: Path, message: bytes) -> str:
    """``ssh-keygen -Y sign -n twokey-login -f path`` over ``message`` (the real tool)."""
    command = ["ssh-keygen", "-q", "-Y", "sign", "-f", str(path), "-n", NAMESPACE]
    try:
        done = subprocess.run(command, input=message, capture_output=True, check=False)
    except OSError as exc:
        raise InfrastructureError(f"cannot run ssh-keygen: {exc}") from exc
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip()
        raise UsageError(f"ssh-keygen -Y sign failed: {reason}")
    return done.stdout.decode()


def _sign(args: argparse.Namespace, message: bytes) -> str:
    """The armored SSHSIG over ``message`` with the key the options name."""
    if args.ssh_key:
        return _ssh_keygen_sign(Path(args.ssh_key).expanduser(), message)
    name = args.key or os.environ.get("TWOKEY_KEY", "")
    if not name:
        raise UsageError(
            "no key to sign in with", hint="pass --ssh-key FILE or --key FILE (or set TWOKEY_KEY)"
        )
    from cryptography.hazmat.primitives.serialization import (  # noqa: PLC0415
        load_ssh_private_key,
    )

    from twokey.evidence import sign_sshsig  # noqa: PLC0415

    path = Path(name).expanduser()
    try:
        key = load_ssh_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise UsageError(f"cannot read key {path}: {exc.strerror}") from exc
    except (ValueError, TypeError) as exc:
        raise UsageError(
            f"{path} is not an unencrypted OpenSSH key ({exc})", hint="use --ssh-key FILE"
        ) from exc
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa  # noqa: PLC0415

    if not isinstance(
        key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    ):
        raise UsageError(f"{path}: unsupported key type (use ed25519, ecdsa P-256 or RSA)")
    return sign_sshsig(key, message, NAMESPACE)


def sign_in(client: GatewayClient, args: argparse.Namespace) -> dict[str, Any]:
    """Nonce, signature, token: the gateway's answer ``{"token", "person", "expires"}``."""
    nonce = client.post("/v1/login/nonce", {"person": args.person})["nonce"]
    signature = _sign(args, str(nonce).encode())
    answer: dict[str, Any] = client.post(
        "/v1/login", {"person": args.person, "nonce": nonce, "signature": signature}
    )
    return answer


def _login(args: argparse.Namespace) -> int:
    client = client_from(args, token=False)
    answer = sign_in(client, args)
    save_credentials(client.url, answer["token"], answer["person"], answer["expires"])
    result = {"gateway": client.url, "person": answer["person"], "expires": answer["expires"]}
    if args.browser:
        client.token = answer["token"]
        code = client.post("/v1/login/browser-code")
        result |= {"code": code["code"], "code_expires": code["expires"], "url": code["url"]}
    if args.format == "json":
        print_json(result)
        return ExitCode.ALLOW
    print(f"signed in to {client.url} as {answer['person']} until {answer['expires']}")
    if args.browser:
        print(f"browser code: {result['code']} (once, until {result['code_expires']})")
        print(f"open {result['url']} and type it in")
    return ExitCode.ALLOW


def _logout(args: argparse.Namespace) -> int:
    client = client_from(args)
    if not client.token:
        raise UsageError(f"not signed in to {client.url}")
    client.post("/v1/session/logout", ok=(401,))
    save_credentials(client.url, "", "", "")
    print(f"signed out of {client.url}", file=sys.stderr)
    return ExitCode.ALLOW

"""The gateway's HTTP client for the CLI (``twokey login``, ``tokens``, ``deploy request``...).

Where the gateway is: ``--gateway URL``, else ``$TWOKEY_GATEWAY``, else the URL ``twokey login``
saved. The token: ``$TWOKEY_TOKEN`` (CI's service token), else the one ``twokey login`` saved for
that URL in ``$XDG_CONFIG_HOME/twokey/credentials.json`` (0600). Answers map to the exit codes
of every door: a 4xx is bad input (2) with the gateway's reason, a 5xx or an unreachable gateway
is an internal error (3); a command that can be denied reads the deny from the answer itself.
"""

from __future__ import annotations

__all__ = [
    "GatewayClient",
    "add_gateway_option",
    "client_from",
    "load_credentials",
    "save_credentials",
]

import argparse
import json
import os
from pathlib import Path
from typing import Any

from twokey._files import SECRET, write_new
from twokey.errors import InfrastructureError, UsageError

_TIMEOUT = 30.0


def credentials_path() -> Path:
    """``$XDG_CONFIG_HOME/twokey/credentials.json`` (default ``~/.config``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "twokey" / "credentials.json"


def load_credentials() -> dict[str, Any]:
    """Saved sign-ins: ``{"default": URL, "gateways": {URL: {"token", "person", "expires"}}}``."""
    path = credentials_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {"default": "", "gateways": {}}
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path}: {exc}", hint="delete it and sign in again") from exc
    if not isinstance(data, dict) or not isinstance(data.get("gateways"), dict):
        raise UsageError(f"{path} is not a twokey credentials file", hint="delete it")
    return data


def save_credentials(url: str, token: str, person: str, expires: str) -> Path:
    """Remember a sign-in (and make ``url`` the default gateway)."""
    data = load_credentials()
    data["default"] = url
    data["gateways"][url] = {"token": token, "person": person, "expires": expires}
    path = credentials_path()
    write_new(
        path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode(), SECRET, replace=True
    )
    return path


def add_gateway_option(parser: argparse.ArgumentParser) -> None:
    """``--gateway URL`` (else ``$TWOKEY_GATEWAY``, else the URL of the last ``twokey login``)."""
    parser.add_argument(
        "--gateway",
        metavar="URL",
        default="",
        help="the gateway (default: $TWOKEY_GATEWAY, else the one twokey login signed in to)",
    )


class GatewayClient:
    """JSON over HTTP to one gateway, with the caller's token."""

    def __init__(self, url: str, token: str = "") -> None:
        self.url = url.rstrip("/")
        self.token = token

    def request(
        self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = ()
    ) -> tuple[int, Any]:
        """Send one request; returns (status, JSON). Statuses in ``ok`` are returned as they
        are; other 4xx raise UsageError, 5xx and transport errors InfrastructureError."""
        import httpx  # noqa: PLC0415 - slow to import; only gateway commands pay for it

        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = httpx.request(
                method, self.url + path, json=body, headers=headers, timeout=_TIMEOUT
            )
        except httpx.HTTPError as exc:
            raise InfrastructureError(f"cannot reach the gateway at {self.url}: {exc}") from exc
        try:
            data = response.json()
        except ValueError:
            data = {"error": response.text.strip()[:200] or response.reason_phrase}
        status = response.status_code
        if status < 400 or status in ok:
            return status, data
        reason = data.get("error", "") if isinstance(data, dict) else ""
        hint = data.get("hint", "") if isinstance(data, dict) else ""
        message = f"the gateway refused ({status}): {reason or response.reason_phrase}"
        if status == 401:
            raise UsageError(message, hint=hint or f"sign in: twokey login --gateway {self.url}")
        if status >= 500:
            raise InfrastructureError(message, hint=hint)
        raise UsageError(message, hint=hint)

    def get(self, path: str, ok: tuple[int, ...] = ()) -> Any:
        """GET ``path``; the JSON answer."""
        return self.request("GET", path, ok=ok)[1]

    def post(self, path: str, body: Any = None, ok: tuple[int, ...] = ()) -> Any:
        """POST ``body`` as JSON to ``path``; the JSON answer."""
        return self.request("POST", path, body, ok=ok)[1]


def client_from(args: argparse.Namespace, *, token: bool = True) -> GatewayClient:
    """The client for ``--gateway`` / ``$TWOKEY_GATEWAY`` / the saved default, with its token.

    Raises:
        UsageError: no gateway is named anywhere.
    """
    saved = load_credentials()
    url = getattr(args, "gateway", "") or os.environ.get("TWOKEY_GATEWAY", "") or saved["default"]
    if not url:
        raise UsageError(
            "which gateway? none is named",
            hint="pass --gateway URL, set TWOKEY_GATEWAY, or sign in: twokey login --gateway URL",
        )
    url = url.rstrip("/")
    secret = ""
    if token:
        secret = os.environ.get("TWOKEY_TOKEN", "") or saved["gateways"].get(url, {}).get(
            "token", ""
        )
    return GatewayClient(url, secret)

"""Identities: aliases and the principals (people and services) they belong to."""

from __future__ import annotations

__all__ = ["Alias", "AliasKind", "PrincipalKind"]

import enum
from dataclasses import dataclass
from functools import lru_cache

from twokey._ed25519 import raw_key


class AliasKind(enum.StrEnum):
    """What an alias is. A key alias is the strongest; an email or login is only as good as
    the channel that delivered it (see :class:`twokey.model.TrustLevel`)."""

    EMAIL = "email"
    KEY = "key"  # an OpenSSH public key, "<type> <base64>" without comment
    GITHUB = "github"
    GITLAB = "gitlab"
    GERRIT = "gerrit"
    SSO = "sso"  # the identity the gateway's OpenID Connect provider vouches for (ADR 0025)


class PrincipalKind(enum.StrEnum):
    """People count for separation of duties; services never do (DESIGN invariant 10)."""

    PERSON = "person"
    SERVICE = "service"


@dataclass(frozen=True, order=True, slots=True)
class Alias:
    """One name of a principal: an email, a forge login or a public key, in normal form.

    Emails and logins are lower-cased; keys are ``"<type> <base64>"`` (the comment dropped).
    """

    kind: AliasKind
    value: str

    def __post_init__(self) -> None:
        if not self.value or self.value != self.value.strip():
            raise ValueError(f"empty or padded {self.kind} alias: {self.value!r}")

    @classmethod
    def email(cls, address: str) -> Alias:
        """An email alias (normalised to lower case)."""
        return cls(AliasKind.EMAIL, address.strip().lower())

    @classmethod
    def key(cls, public_key: str) -> Alias:
        """A key alias from an OpenSSH public key line (comment and options dropped).

        The key is written in one canonical form (re-encoded from its parsed numbers), so one
        key spelt two ways (an RSA modulus padded with zero bytes) is one alias: never two
        approvers (issue 15, item 11). A line that does not parse is kept as written; it
        matches nothing a signature could name.
        """
        parts = public_key.split()
        if len(parts) < 2:
            raise ValueError(f"not an OpenSSH public key: {public_key!r}")
        return cls(AliasKind.KEY, _canonical_key(parts[0], parts[1]))

    @classmethod
    def login(cls, forge: AliasKind, login: str) -> Alias:
        """A forge login alias (github, gitlab, gerrit)."""
        if forge not in (AliasKind.GITHUB, AliasKind.GITLAB, AliasKind.GERRIT):
            raise ValueError(f"{forge} is not a forge")
        return cls(forge, login.strip().lower())

    @classmethod
    def sso(cls, identity: str) -> Alias:
        """A single sign-on identity (the configured claim, e.g. an email; lower-cased)."""
        return cls(AliasKind.SSO, identity.strip().lower())

    @classmethod
    def parse(cls, text: str) -> Alias:
        """Parse ``"kind:value"`` as printed by ``str(alias)``."""
        kind, sep, value = text.partition(":")
        if not sep:
            raise ValueError(f"alias must be 'kind:value', got {text!r}")
        return cls(AliasKind(kind), value)

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


@lru_cache(maxsize=4096)
def _canonical_key(kind: str, blob: str) -> str:
    if raw_key(kind, blob) is not None:  # canonical ssh-ed25519: already the parser's text
        return f"{kind} {blob}"
    # Lazy: the model's import stays light; cryptography is loaded when a key is first read.
    from cryptography.exceptions import UnsupportedAlgorithm  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import (  # noqa: PLC0415
        Encoding,
        PublicFormat,
        load_ssh_public_key,
    )

    try:
        key = load_ssh_public_key(f"{kind} {blob}".encode())
        text = key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()
    # NotImplementedError: cryptography's answer to a compressed EC point
    except (ValueError, TypeError, NotImplementedError, UnsupportedAlgorithm):
        return f"{kind} {blob}"
    return text

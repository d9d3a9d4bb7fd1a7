"""git's ``allowed_signers`` file (ssh-keygen(1) "ALLOWED SIGNERS"): parse, match, verify, write.

A line is ``principals [options] keytype base64 [comment]``. Principals and ``namespaces`` are
OpenSSH pattern lists (``*``, ``?``, ``!`` negation; match.c ``match_pattern_list``). Options:
``cert-authority``, ``namespaces="a,b"``, ``valid-after="YYYYMMDD[HHMM[SS]][Z]"``,
``valid-before=...``; a time without ``Z`` is local time, and both bounds are inclusive, as in
OpenSSH's sshsig.c. twokey does not verify certificates, so ``cert-authority`` lines never
match a plain key.
"""

from __future__ import annotations

__all__ = ["AllowedSigner", "AllowedSigners", "allowed_signers_text"]

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from twokey.errors import ConfigError
from twokey.evidence._errors import EvidenceError, Reason
from twokey.evidence._sshsig import SshSignature, fingerprint, key_blob, verify_sshsig
from twokey.model import AliasKind
from twokey.policy import Policy

_OPTION = re.compile(r'([a-zA-Z-]+)(?:="([^"]*)")?(?:,|(?=\s)|$)')
_TIME_FORMATS = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}


@lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str]:
    """An OpenSSH wildcard pattern (``*`` any run, ``?`` one character) as a regex."""
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + r"\Z",
        re.S,
    )


def match_pattern_list(value: str, patterns: Iterable[str]) -> bool:
    """True when ``value`` matches a pattern and no negated (``!``) pattern."""
    matched = False
    for pattern in patterns:
        if pattern.startswith("!"):
            if _pattern(pattern[1:]).match(value):
                return False
        elif _pattern(pattern).match(value):
            matched = True
    return matched


def _parse_time(text: str) -> datetime:
    utc = text.endswith("Z")
    digits = text.removesuffix("Z")
    fmt = _TIME_FORMATS.get(len(digits))
    if fmt is None or not digits.isdigit():
        raise ValueError(f"bad time {text!r} (YYYYMMDD[HHMM[SS]][Z])")
    naive = datetime.strptime(digits, fmt)  # noqa: DTZ007 - zone applied just below
    return naive.replace(tzinfo=UTC) if utc else naive.astimezone()


@dataclass(frozen=True)
class AllowedSigner:
    """One line of an allowed_signers file."""

    principals: tuple[str, ...]
    public_key: str  # "<type> <base64>"
    namespaces: tuple[str, ...] | None = None
    valid_after: datetime | None = None
    valid_before: datetime | None = None
    cert_authority: bool = False
    line: int = 0

    def __post_init__(self) -> None:
        if not self.principals or not all(self.principals):
            raise ValueError("an allowed signer needs principals")
        key_blob(self.public_key)  # raises on a bad key encoding
        for moment in (self.valid_after, self.valid_before):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("validity times must be timezone-aware")

    def allows(self, namespace: str, when: datetime) -> bool:
        """The line admits a signature in ``namespace`` made at ``when``."""
        if self.namespaces is not None and not match_pattern_list(namespace, self.namespaces):
            return False
        if self.valid_after is not None and when < self.valid_after:
            return False
        return self.valid_before is None or when <= self.valid_before

    def render(self) -> str:
        """The line, as it would be written."""
        options = ["cert-authority"] if self.cert_authority else []
        if self.namespaces is not None:
            options.append(f'namespaces="{",".join(self.namespaces)}"')
        for name, moment in (
            ("valid-after", self.valid_after),
            ("valid-before", self.valid_before),
        ):
            if moment is not None:
                options.append(f'{name}="{moment.astimezone(UTC):%Y%m%d%H%M%S}Z"')
        return " ".join(
            [",".join(self.principals), *filter(None, [",".join(options)]), self.public_key]
        )


def _parse_line(text: str, number: int) -> AllowedSigner:
    principals, _, rest = text.partition(" ")
    rest = rest.strip()
    if principals.startswith('"'):
        raise ValueError("quoted principals are not supported")  # as in OpenSSH's sshsig.c
    options: dict[str, str | None] = {}
    if rest and not rest.split()[0].startswith(("ssh-", "ecdsa-", "sk-")):
        end = 0
        while end < len(rest) and not rest[end].isspace():
            match = _OPTION.match(rest, end)
            if match is None:
                raise ValueError(f"bad options at {rest[end : end + 20]!r}")
            options[match.group(1).lower()] = match.group(2)
            end = match.end()
        rest = rest[end:].strip()
    unknown = set(options) - {"cert-authority", "namespaces", "valid-after", "valid-before"}
    if unknown:
        raise ValueError(f"unsupported option {sorted(unknown)[0]!r}")
    fields = rest.split()
    if len(fields) < 2:
        raise ValueError("missing key")
    namespaces = options.get("namespaces")
    after, before = options.get("valid-after"), options.get("valid-before")
    return AllowedSigner(
        tuple(principals.split(",")),
        f"{fields[0]} {fields[1]}",
        tuple(namespaces.split(",")) if namespaces is not None else None,
        _parse_time(after) if after else None,
        _parse_time(before) if before else None,
        "cert-authority" in options,
        number,
    )


@dataclass(frozen=True)
class AllowedSigners:
    """A parsed allowed_signers file."""

    signers: tuple[AllowedSigner, ...]
    source: str = "allowed_signers"

    @classmethod
    def parse(cls, text: str, source: str = "allowed_signers") -> AllowedSigners:
        """Parse the file's text; a bad line is a ConfigError naming ``source:line``."""
        signers = []
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                signers.append(_parse_line(line, number))
            except (ValueError, EvidenceError) as exc:
                raise ConfigError(f"{source}:{number}: {exc}") from exc
        return cls(tuple(signers), source)

    def find_principals(self, sig: SshSignature, namespace: str, when: datetime) -> list[str]:
        """Principals whose lines name the signature's key and admit it (``-Y find-principals``).

        Only the key is matched here; the signature itself is checked by ``verify``.
        """
        blob = key_blob(sig.public_key)
        return [
            p
            for s in self.signers
            if not s.cert_authority and key_blob(s.public_key) == blob and s.allows(namespace, when)
            for p in s.principals
            if not p.startswith("!")
        ]

    def verify(
        self, sig: SshSignature, message: bytes, *, namespace: str, principal: str, when: datetime
    ) -> AllowedSigner:
        """``ssh-keygen -Y verify -I principal -n namespace``: the line that admits ``sig``.

        Raises:
            EvidenceError: BAD_SIGNATURE, or UNKNOWN_SIGNER / KEY_EXPIRED when no line admits
                the key for ``principal`` in ``namespace`` at ``when``.
        """
        verify_sshsig(sig, message, namespace)
        blob = key_blob(sig.public_key)
        lines = [
            s
            for s in self.signers
            if not s.cert_authority
            and key_blob(s.public_key) == blob
            and match_pattern_list(principal, s.principals)
        ]
        for line in lines:
            if line.allows(namespace, when):
                return line
        code = Reason.KEY_EXPIRED if lines else Reason.UNKNOWN_SIGNER
        raise EvidenceError(
            code,
            f"{self.source} admits no key {fingerprint(sig.public_key)} for {principal!r} "
            f"in namespace {namespace!r} at {when.isoformat()}",
        )


def allowed_signers_text(policy: Policy, namespaces: tuple[str, ...] = ("git", "twokey")) -> str:
    """git's allowed_signers file for every unrevoked key of every principal in ``policy``.

    The principals of a line are the person's emails (git looks signers up by committer email),
    or the person's id when they have none.
    """
    lines = []
    for principal in sorted(policy.principals.values(), key=lambda p: p.id):
        emails = tuple(a.value for a in principal.aliases if a.kind is AliasKind.EMAIL)
        for alias in principal.aliases:
            validity = policy.key_validity.get(alias)
            if alias.kind is not AliasKind.KEY or (validity is not None and validity.revoked):
                continue
            line = AllowedSigner(
                emails or (principal.id,),
                " ".join(alias.value.split()[:2]),
                namespaces,
                validity.valid_after if validity else None,
                validity.valid_before if validity else None,
            )
            lines.append(line.render())
    return "".join(f"{line}\n" for line in lines)

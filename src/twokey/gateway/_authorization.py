"""Deploy authorizations: a short-lived statement, signed by the gateway, that one deploy may go.

When a deploy request is approved and the engine allows it, the gateway signs a C2SP signed
note (the ledger's note format, with the gateway's Ed25519 key) whose text binds exactly::

    twokey deploy authorization v1
    repository: shop
    environment: production
    commit: <full commit id>
    artifact: sha256:<64 hex>
    request: <deploy request id>
    nonce: <32 hex, unique>
    issued: 2026-12-05T12:00:00Z
    expires: 2026-12-05T12:15:00Z

The deploy job verifies it offline (``twokey deploy verify``) against the gateway's verifier
key, obtained out of band or from ``GET /v1/key``. The first line keeps it apart from the
checkpoints the same key signs (a checkpoint's first line is the log's origin, never this
line). :func:`verify_authorization` refuses, with one reason: a bad or foreign signature, a
malformed text, a mismatch of repository, environment, commit or artifact, an expired or not
yet valid statement (``SKEW`` seconds of clock difference tolerated), and a nonce already in
the ``seen`` journal (a replay).
"""

from __future__ import annotations

__all__ = [
    "HEADER",
    "SKEW",
    "Authorization",
    "AuthorizationRefused",
    "Expected",
    "new_authorization",
    "sign_authorization",
    "verify_authorization",
]

import fcntl
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from twokey.errors import UsageError
from twokey.ledger import NoteError, NoteSigner, NoteVerifier, open_note, sign_note

HEADER = "twokey deploy authorization v1"
SKEW = timedelta(seconds=60)  # clock difference tolerated between the gateway and the job
_FIELDS = (
    "repository",
    "environment",
    "commit",
    "artifact",
    "request",
    "nonce",
    "issued",
    "expires",
)
_VALUE = re.compile(r"[\x21-\x7e]{1,256}")  # printable ASCII, no spaces: nothing to confuse
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_ARTIFACT = re.compile(r"sha256:[0-9a-f]{64}")
_NONCE = re.compile(r"[0-9a-f]{32}")
_MAX_NOTE = 4096


class AuthorizationRefused(Exception):  # noqa: N818 - a refusal, not an error of ours
    """The authorization does not allow this deploy; ``reason`` says why (one line)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Authorization:
    """What one deploy authorization binds (every field is checked by the verifier)."""

    repository: str
    environment: str
    commit: str
    artifact: str
    request: str
    nonce: str
    issued: datetime
    expires: datetime

    def text(self) -> str:
        """The note text (ending in a newline), as signed."""
        values = self._values()
        for name, value in zip(_FIELDS, values, strict=True):
            if not _VALUE.fullmatch(value):
                raise ValueError(f"authorization field {name} is not printable ASCII: {value!r}")
        lines = [HEADER, *(f"{n}: {v}" for n, v in zip(_FIELDS, values, strict=True))]
        return "\n".join(lines) + "\n"

    def _values(self) -> tuple[str, ...]:
        return (
            self.repository,
            self.environment,
            self.commit,
            self.artifact,
            self.request,
            self.nonce,
            _stamp(self.issued),
            _stamp(self.expires),
        )

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return dict(zip(_FIELDS, self._values(), strict=True))

    @classmethod
    def parse(cls, text: str) -> Authorization:
        """The authorization a verified note text states.

        Raises:
            AuthorizationRefused: the text is not exactly an authorization.
        """
        lines = text.split("\n")
        if lines[-1:] != [""] or lines[0] != HEADER or len(lines) != len(_FIELDS) + 2:
            raise AuthorizationRefused(f"not a deploy authorization (expected '{HEADER}')")
        values = []
        for name, line in zip(_FIELDS, lines[1:-1], strict=True):
            key, sep, value = line.partition(": ")
            if key != name or not sep or not _VALUE.fullmatch(value):
                raise AuthorizationRefused(f"malformed authorization line {line[:80]!r}")
            values.append(value)
        repository, environment, commit, artifact, request, nonce, issued, expires = values
        if not _NONCE.fullmatch(nonce):
            raise AuthorizationRefused("malformed authorization nonce")
        return cls(
            repository,
            environment,
            commit,
            artifact,
            request,
            nonce,
            _time(issued),
            _time(expires),
        )


def _time(text: str) -> datetime:
    try:
        when = datetime.strptime(text + "+0000", "%Y-%m-%dT%H:%M:%SZ%z")
    except ValueError as exc:
        raise AuthorizationRefused(f"malformed authorization time {text!r}") from exc
    return when


def sign_authorization(signer: NoteSigner, authorization: Authorization) -> str:
    """The signed note of ``authorization`` (what ``GET .../authorization`` returns)."""
    return sign_note(authorization.text(), signer)


@dataclass(frozen=True)
class Expected:
    """What the deploy job is about to do: the authorization must name exactly this."""

    environment: str
    commit: str
    artifact: str
    repository: str = ""  # "": not checked (the job does not know its id)


def verify_authorization(
    note: str,
    verifier: NoteVerifier,
    expected: Expected,
    now: datetime,
    seen: Path | None = None,
) -> Authorization:
    """The authorization in ``note``, if it allows exactly ``expected`` at ``now``.

    Steps: (1) the signature, by this key, over the exact text; (2) the text's shape; (3) each
    bound field against ``expected``; (4) the validity window, with ``SKEW``; (5) the nonce is
    new to the ``seen`` journal, then recorded there (under an exclusive lock, so two deploys
    on one host cannot both use it).

    Raises:
        AuthorizationRefused: any check failed (the reason names the first).
        UsageError: the journal cannot be read or written.
    """
    if len(note.encode()) > _MAX_NOTE:
        raise AuthorizationRefused("the authorization is too large to be one")
    try:
        text = open_note(note, verifier)  # step 1
    except NoteError as exc:
        raise AuthorizationRefused(f"bad signature: {exc}") from exc
    auth = Authorization.parse(text)  # step 2
    _match(auth, expected)  # step 3
    if now + SKEW < auth.issued:  # step 4
        raise AuthorizationRefused(f"not yet valid: issued {_stamp(auth.issued)}")
    if now - SKEW >= auth.expires:
        raise AuthorizationRefused(f"expired at {_stamp(auth.expires)}")
    if seen is not None:
        _remember(seen, auth)  # step 5
    return auth


def _match(auth: Authorization, expected: Expected) -> None:
    pairs = [
        ("environment", auth.environment, expected.environment),
        ("commit", auth.commit, expected.commit.lower()),
        ("artifact", auth.artifact, expected.artifact.lower()),
    ]
    if expected.repository:
        pairs.insert(0, ("repository", auth.repository, expected.repository))
    for name, got, want in pairs:
        if got != want:
            raise AuthorizationRefused(f"{name} mismatch: authorized {got}, not {want}")


def _remember(journal: Path, auth: Authorization) -> None:
    """Refuse a nonce the journal holds; else append it (one line: nonce, request, expiry)."""
    try:
        fd = os.open(journal, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as exc:
        raise UsageError(f"cannot open the --seen journal {journal}: {exc}") from exc
    with os.fdopen(fd, "r+", encoding="ascii", errors="replace") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        file.seek(0)
        for line in file:
            if line.split(" ", 1)[0] == auth.nonce:
                raise AuthorizationRefused(
                    f"replay: authorization {auth.nonce[:12]} (request {auth.request}) was "
                    "already used"
                )
        file.write(f"{auth.nonce} {auth.request} {_stamp(auth.expires)}\n")
        file.flush()
        os.fsync(file.fileno())


def new_authorization(
    repository: str,
    environment: str,
    commit: str,
    artifact: str,
    request: str,
    nonce: str,
    issued: datetime,
    ttl: int,
) -> Authorization:
    """An authorization valid from ``issued`` for ``ttl`` seconds (fields checked here)."""
    if not _COMMIT.fullmatch(commit) or not _ARTIFACT.fullmatch(artifact):
        raise ValueError("an authorization binds a full commit id and a sha256 digest")
    issued = issued.replace(microsecond=0)
    return Authorization(
        repository,
        environment,
        commit,
        artifact,
        request,
        nonce,
        issued,
        issued + timedelta(seconds=ttl),
    )

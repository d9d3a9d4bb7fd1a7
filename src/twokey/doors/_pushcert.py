"""Signed pushes (``git push --signed``): a certificate names the pusher only for its own push.

git-receive-pack(1) hands the hook the certificate (``GIT_PUSH_CERT``, a blob id) and two
verdicts: ``GIT_PUSH_CERT_STATUS`` (the signature, checked against ``gpg.ssh.allowedSignersFile``)
and ``GIT_PUSH_CERT_NONCE_STATUS`` (``OK`` only when the certificate was signed for the nonce
this session handed out; ``BAD``/``SLOP``/``MISSING``/``UNSOLICITED`` otherwise). A certificate
travels in plain text, so anyone who saw one can send it again: without ``OK`` it proves
nothing about who pushes *now* (issue 15 item 7).

The hook does not rest on git's signature verdict alone: the allowed-signers file can lag the
policy by a push, and a pusher who controls the hook's environment (the local transport) can
write the ``GIT_PUSH_CERT_*`` verdicts. So the certificate blob itself is verified here,
against the trusted policy, at the door's clock (ADR 0013):

1. git says the nonce is ``OK``;
2. the certificate's own ``nonce`` is fresh (its timestamp within ``NONCE_WINDOW`` of now):
   a replay of an old certificate fails even where the environment was forged;
3. the SSH signature verifies over the certificate's signed part, in namespace ``git``;
4. the key is registered in the policy, not revoked, and valid now;
5. the certificate was never used before on this repository. git's nonce is
   ``<second>-<HMAC>``: a certificate replayed within the same second carries the very nonce
   this session handed out, and git says ``OK``. So each verified certificate (its signed
   part: what a replay must keep for the signature to hold) is used once, remembered under
   ``$GIT_DIR/twokey/push-certs/`` for twice ``NONCE_WINDOW`` (older ones fail step 2).
"""

from __future__ import annotations

__all__ = ["NONCE_WINDOW", "CertVerdict", "certificate_ledger", "check_push_certificate"]

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from twokey import _sha2
from twokey.model import Alias
from twokey.policy import Policy

NONCE_WINDOW = timedelta(minutes=5)
_BEGIN = b"-----BEGIN SSH SIGNATURE-----"


@dataclass(frozen=True, slots=True)
class CertVerdict:
    """The key a push certificate proves (None when there is no certificate), or the problem."""

    signer: Alias | None = None
    problem: str = ""


def check_push_certificate(
    env: Mapping[str, str],
    read_blob: Callable[[str], bytes | None],
    policy: Policy,
    now: datetime,
    first_use: Callable[[str], bool] = lambda _blob: True,
) -> CertVerdict:
    """Verify the push certificate git handed the hook, if there is one (steps in the module).

    ``first_use(digest)`` marks a certificate used and says whether it was new (step 5).
    """
    blob_id = env.get("GIT_PUSH_CERT", "").strip()
    if not blob_id:
        return CertVerdict()
    nonce_status = env.get("GIT_PUSH_CERT_NONCE_STATUS", "") or "MISSING"
    if nonce_status != "OK":  # step 1
        return CertVerdict(
            problem=f"the push certificate's nonce is {nonce_status}, not OK: a certificate "
            "counts only for the push it was signed for (a replayed one is BAD or SLOP)"
        )
    text = read_blob(blob_id)
    if text is None:
        return CertVerdict(problem=f"the push certificate {blob_id[:12]} cannot be read")
    return _verify(text, policy, now, first_use)


def certificate_ledger(git_dir: Path) -> Callable[[str], bool]:
    """``first_use`` for the hook: one file per certificate used (named by the SHA-256 of its
    signed part), created exclusively.

    Files older than twice ``NONCE_WINDOW`` are removed as the directory is used (a certificate
    that old fails the freshness step on its own).
    """
    seen = git_dir / "twokey" / "push-certs"

    def first_use(digest: str) -> bool:
        if not digest.isalnum():  # a hex digest; anything else is no name
            return False
        seen.mkdir(parents=True, exist_ok=True)
        _prune(seen)
        try:
            fd = os.open(seen / digest, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return False
        os.close(fd)
        return True

    return first_use


def _prune(seen: Path) -> None:
    horizon = time.time() - 2 * NONCE_WINDOW.total_seconds()
    for old in seen.iterdir():
        try:
            if old.stat().st_mtime < horizon:
                old.unlink()
        except FileNotFoundError:  # a concurrent push pruned it first
            continue


def _verify(
    cert: bytes, policy: Policy, now: datetime, first_use: Callable[[str], bool]
) -> CertVerdict:
    from twokey.evidence import (  # noqa: PLC0415
        EvidenceError,
        fingerprint,
        parse_sshsig,
        verify_sshsig,
    )

    start = cert.find(_BEGIN)
    if start < 0:
        return CertVerdict(problem="the push certificate is not signed with an SSH key")
    signed, signature = cert[:start], cert[start:]
    stale = _stale_nonce(signed, now)  # step 2
    if stale:
        return CertVerdict(problem=stale)
    try:
        parsed = parse_sshsig(signature)
        verify_sshsig(parsed, signed, "git")  # step 3
    except EvidenceError as exc:
        return CertVerdict(problem=f"the push certificate does not verify: {exc.message}")
    key = Alias.key(parsed.public_key)
    validity = policy.key_validity.get(key)  # step 4
    if policy.resolve(key) is None:
        why = "is not registered in the policy"
    elif validity is not None and validity.revoked:
        why = "is revoked"
    elif validity is not None and not validity.valid_at(now):
        why = f"is not valid at {now.isoformat(timespec='seconds')}"
    else:
        # Step 5, once the signature holds (nobody can use up someone else's certificate). The
        # signed part names it: bytes added after the signature make another blob, not another
        # certificate.
        if first_use(_sha2.sha256(signed).hexdigest()):
            return CertVerdict(signer=key)
        return CertVerdict(
            problem="the push certificate was already used for an earlier push: a certificate "
            "counts only once (a replay within the same second carries git's current nonce)"
        )
    return CertVerdict(problem=f"the push certificate's key {fingerprint(key.value)} {why}")


def _stale_nonce(signed: bytes, now: datetime) -> str:
    """Why the certificate's ``nonce <stamp>-<hmac>`` header is not from about now ("" if it is).

    git's nonce is ``<unix time>-<HMAC of the repository path and that time>``
    (receive-pack.c, ``prepare_push_cert_nonce``); only git can check the HMAC, its time we
    check against our own clock.
    """
    header, _, _ = signed.partition(b"\n\n")
    for line in header.decode(errors="replace").splitlines():
        if line.startswith("nonce "):
            stamp = line.removeprefix("nonce ").partition("-")[0]
            if not stamp.isdigit():
                break
            age = abs(now.timestamp() - int(stamp))
            if age <= NONCE_WINDOW.total_seconds():
                return ""
            return (
                f"the push certificate's nonce is {int(age)} s old: it was signed for an "
                "earlier push"
            )
    return "the push certificate carries no usable nonce"

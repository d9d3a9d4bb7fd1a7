"""Per-repository settings from git config (``twokey.*``), read with one git process."""

from __future__ import annotations

__all__ = ["RepositorySettings", "repository_settings", "start_settings"]

from collections.abc import Mapping
from dataclasses import dataclass

from twokey._evidence_refs import MAX_PUSH_EVIDENCE_BYTES, MAX_PUSH_EVIDENCE_REFS
from twokey._gitrunner import GitRunner
from twokey.errors import ConfigError


@dataclass(frozen=True, slots=True)
class RepositorySettings:
    """``repository``: the id approvals are bound to; ``ledger``: URL, or "" for none.

    ``ledger_key``: the private key file that signs a checkpoint after each recorded batch
    (``twokey.ledgerKey``, ``$TWOKEY_LEDGER_SIGNING_KEY`` overrides; "" for none).
    ``max_push_evidence`` and ``max_push_evidence_bytes``: how many refs under
    ``refs/twokey/`` one push may update, and how many bytes of envelopes it may bring
    (``twokey.maxPushEvidence``, ``twokey.maxPushEvidenceBytes``; ADR 0041). Only the
    repository's git config sets them, never the environment.
    """

    repository: str
    ledger: str = ""
    ledger_key: str = ""
    max_push_evidence: int = MAX_PUSH_EVIDENCE_REFS
    max_push_evidence_bytes: int = MAX_PUSH_EVIDENCE_BYTES


_SETTINGS_ARGS = ("config", "--get-regexp", r"^(twokey\.|remote\.origin\.url$)")


def start_settings(git: GitRunner) -> None:
    """Start :func:`repository_settings`' ``git config`` now (``GitRunner.start``, ADR 0035)."""
    git.start(*_SETTINGS_ARGS)


def repository_settings(git: GitRunner, env: Mapping[str, str]) -> RepositorySettings:
    """Read ``twokey.repository`` and ``twokey.ledger``; ``TWOKEY_LEDGER`` in ``env`` overrides
    the latter (the CI doors pass their environment; the hook passes none: ADR 0013).

    The repository id follows ``twokey.evidence.repository_id`` (the same rule everywhere):
    ``twokey.repository``; else the ``origin`` URL, normalised (``git@host:org/x.git`` ->
    ``host/org/x``); else the directory's name without ``.git`` (``/srv/git/shop.git`` ->
    ``shop``). A server should set ``twokey.repository`` (``hook install --repository``) to
    what its clones compute from their origin URL.
    """
    result = git.call([*_SETTINGS_ARGS], ok=(0, 1))
    values: dict[str, str] = {}
    for line in result.out.decode(errors="replace").splitlines():
        key, _, value = line.partition(" ")
        values[key.lower()] = value.strip()
    repository = values.get("twokey.repository") or _from_origin(values) or directory_id(git)
    ledger = env.get("TWOKEY_LEDGER", "").strip() or values.get("twokey.ledger", "")
    key = env.get("TWOKEY_LEDGER_SIGNING_KEY", "").strip() or values.get("twokey.ledgerkey", "")
    refs = _limit(values, "twokey.maxPushEvidence", MAX_PUSH_EVIDENCE_REFS)
    size = _limit(values, "twokey.maxPushEvidenceBytes", MAX_PUSH_EVIDENCE_BYTES)
    return RepositorySettings(repository, ledger, key, refs, size)


_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}  # git-config(1) --type=int suffixes


def _limit(values: Mapping[str, str], key: str, default: int) -> int:
    """A positive whole number from git config (``1000``, ``16m``), ``default`` when unset.

    Raises:
        ConfigError: set to anything else (a typo must not lift a limit, nor lock everyone out
            without saying why).
    """
    text = values.get(key.lower())
    if text is None:
        return default
    digits, unit = (text[:-1], text[-1:].lower()) if text[-1:].isalpha() else (text, "")
    if digits.isdecimal() and digits.isascii() and unit in _UNITS and int(digits) > 0:
        return int(digits) * _UNITS[unit]
    raise ConfigError(
        f"git config {key} is {text!r}, not a positive whole number",
        hint=f"git config {key} {default}  (or unset it for that default)",
    )


def _from_origin(values: Mapping[str, str]) -> str:
    url = values.get("remote.origin.url", "")
    if not url:
        return ""
    from twokey.evidence import normalise_url  # noqa: PLC0415

    return normalise_url(url)


def directory_id(git: GitRunner) -> str:
    """The repository directory's name, without ``.git`` (also for a work tree's ``.git``)."""
    path = git.git_dir.resolve()
    if path.name == ".git":
        path = path.parent
    return path.name.removesuffix(".git")

"""People, services and groups: parsing aliases and resolving names to principal ids."""

from __future__ import annotations

__all__ = ["Directory", "parse_directory"]

import contextlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from twokey._ed25519 import raw_key
from twokey.model import Alias, AliasKind, PrincipalKind, RuleRef
from twokey.policy._model import KeyValidity, Principal
from twokey.policy._problems import Reporter, key_position

# fullmatch, not match with "$": "$" also matches before a trailing newline ("bob\n").
_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
_PERSON_KEYS = ("name", "emails", "github", "gitlab", "gerrit", "sso", "keys")
_SERVICE_KEYS = (*_PERSON_KEYS, "directed_by")
_FORGES = {"github": AliasKind.GITHUB, "gitlab": AliasKind.GITLAB, "gerrit": AliasKind.GERRIT}
_KEY_FIELDS = ("key", "valid_after", "valid_before", "revoked")
MIN_RSA_BITS = 2048


@dataclass
class Directory:
    """Principals, groups and the alias index, as parsed so far."""

    principals: dict[str, Principal]
    groups: dict[str, frozenset[str]]
    aliases: dict[Alias, str]
    key_validity: dict[Alias, KeyValidity]


def parse_directory(doc: Any, report: Reporter) -> Directory:
    """Parse ``people``, ``services`` and ``groups`` from the top-level mapping."""
    directory = Directory({}, {}, {}, {})
    for section, kind in (("people", PrincipalKind.PERSON), ("services", PrincipalKind.SERVICE)):
        node = doc.get(section)
        if node is None:
            continue
        if not hasattr(node, "items"):
            report.value(doc, section, f"'{section}' must be a mapping of ids")
            continue
        for pid, body in node.items():
            _parse_principal(node, str(pid), body, kind, directory, report)
    _check_directed_by(doc.get("services"), directory, report)
    _parse_groups(doc, directory, report)
    return directory


def _check_directed_by(node: Any, directory: Directory, report: Reporter) -> None:
    """An agent's ``directed_by`` is a list of people (invariant 10: they count among its
    authors). A scalar, an unknown name, a group or a service is an error, never ignored."""
    if not hasattr(node, "items"):
        return
    for pid, body in node.items():
        if not hasattr(body, "items") or "directed_by" not in body:
            continue
        value = body["directed_by"]
        if not isinstance(value, list):
            report.value(
                body,
                "directed_by",
                f"services.{pid}.directed_by must be a list of people, got {value!r}",
                "e.g. directed_by: [alice]",
            )
            continue
        for index, name in enumerate(value):
            principal = directory.principals.get(str(name)) if isinstance(name, str) else None
            if principal is None or not principal.is_person:
                report.item(
                    value,
                    index,
                    f"services.{pid}.directed_by: '{name}' is not a person",
                    "list the people who direct this agent (ids from 'people')",
                )


def _parse_principal(
    parent: Any,
    pid: str,
    body: Any,
    kind: PrincipalKind,
    directory: Directory,
    report: Reporter,
) -> None:
    section = "people" if kind is PrincipalKind.PERSON else "services"
    if not _ID.fullmatch(pid):
        report.key(parent, pid, f"invalid id '{pid}'", "ids are lower-case: [a-z0-9][a-z0-9._-]*")
        return
    if pid in directory.principals:
        report.key(parent, pid, f"'{pid}' is defined twice (people and services share ids)")
        return
    if body is None:
        body = {}  # `bob:` alone: a person known by id only (keys may be added later)
    if not hasattr(body, "items"):
        report.value(parent, pid, f"{section}.{pid} must be a mapping")
        return
    report.unknown_keys(
        body, _SERVICE_KEYS if kind is PrincipalKind.SERVICE else _PERSON_KEYS, f"{section}.{pid}"
    )
    line, column = key_position(parent, pid)
    rule = RuleRef(report.source, line + 1, column + 1, f"{section}.{pid}")
    aliases = [*_emails(body, report), *_logins(body, report), *_keys(body, directory, report)]
    for alias in aliases:
        owner = directory.aliases.setdefault(alias, pid)
        if owner != pid:
            report.key(
                parent,
                pid,
                f"alias {alias} of '{pid}' is already claimed by '{owner}'",
                "an alias belongs to exactly one person or service",
            )
    directed = _directors(body)
    name = body.get("name", pid)
    if not isinstance(name, str):
        report.value(body, "name", "name must be a string")
        name = pid
    directory.principals[pid] = Principal(
        pid, name, kind, tuple(dict.fromkeys(aliases)), rule, directed
    )


def _directors(body: Any) -> tuple[str, ...]:
    """The ``directed_by`` names as written (checked by :func:`_check_directed_by`)."""
    value = body.get("directed_by")
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(v for v in value if isinstance(v, str)))


def _strings(body: Any, key: str, report: Reporter) -> list[str]:
    value = body.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        report.value(body, key, f"'{key}' must be a string or a list of strings")
        return []
    return list(value)


def _emails(body: Any, report: Reporter) -> list[Alias]:
    out = []
    for email in _strings(body, "emails", report):
        if "@" not in email or email != email.strip():
            report.value(body, "emails", f"'{email}' is not an email address")
            continue
        out.append(Alias.email(email))
    return out


def _logins(body: Any, report: Reporter) -> list[Alias]:
    out = []
    for field, forge in _FORGES.items():
        if field not in body:
            continue
        value = body[field]
        if not isinstance(value, str) or not value.strip():
            report.value(body, field, f"'{field}' must be a login name")
            continue
        out.append(Alias.login(forge, value))
    if "sso" in body:
        value = body["sso"]
        if not isinstance(value, str) or not value.strip() or value != value.strip():
            report.value(body, "sso", "'sso' must be the identity single sign-on vouches for")
        else:
            out.append(Alias.sso(value))
    return out


def _keys(body: Any, directory: Directory, report: Reporter) -> list[Alias]:
    node = body.get("keys")
    if node is None:
        return []
    if not isinstance(node, list):
        report.value(body, "keys", "'keys' must be a list of OpenSSH public keys")
        return []
    out = []
    for index, item in enumerate(node):
        alias = _key(node, index, item, directory, report)
        if alias is not None:
            out.append(alias)
    return out


def _key(node: Any, index: int, item: Any, directory: Directory, report: Reporter) -> Alias | None:
    validity = None
    text = item
    if hasattr(item, "items"):
        report.unknown_keys(item, _KEY_FIELDS, "a key entry")
        text = item.get("key")
        validity = _validity(item, report)
    if not isinstance(text, str):
        report.item(node, index, "a key must be an OpenSSH public key line")
        return None
    problem = check_public_key(text)
    if problem:
        report.item(node, index, problem, "use the .pub line: 'ssh-ed25519 AAAA... comment'")
        return None
    alias = Alias.key(text)
    if validity is not None:
        directory.key_validity[alias] = validity
    return alias


def _validity(item: Any, report: Reporter) -> KeyValidity | None:
    moments: dict[str, datetime | None] = {}
    for field in ("valid_after", "valid_before"):
        moments[field] = _moment(item, field, report) if field in item else None
    revoked = item.get("revoked", False)
    if not isinstance(revoked, bool):
        report.value(item, "revoked", "'revoked' must be true or false")
        revoked = False
    after, before = moments["valid_after"], moments["valid_before"]
    if after is not None and before is not None and after >= before:
        report.value(item, "valid_before", "'valid_before' must be later than 'valid_after'")
    return KeyValidity(after, before, revoked)


def _moment(item: Any, field: str, report: Reporter) -> datetime | None:
    """A key window's bound. Anything present that is not a zoned timestamp is an error: a
    window silently dropped would leave the key valid forever (issue 15, item 11)."""
    value = item.get(field)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # reported below, with what was written
            value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    report.value(
        item,
        field,
        f"'{field}' must be a timestamp with a time zone, got {value!r}",
        "e.g. 2026-01-01T00:00:00Z",
    )
    return None


def check_public_key(text: str) -> str:
    """An error message for an unacceptable OpenSSH public key, or '' when it is fine."""
    parts = text.split()
    if len(parts) < 2:
        return "not an OpenSSH public key"
    if raw_key(parts[0], parts[1]) is not None:  # canonical ssh-ed25519: fine (ADR 0031)
        return ""
    return _check_with_parser(parts[0], parts[1])


def _check_with_parser(kind: str, blob: str) -> str:
    # Lazy: cryptography's SSH key parser costs a door's start-up more than any check it makes.
    from cryptography.exceptions import UnsupportedAlgorithm  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import load_ssh_public_key  # noqa: PLC0415

    try:
        key = load_ssh_public_key(f"{kind} {blob}".encode())
    # NotImplementedError: cryptography's answer to a compressed EC point
    except (ValueError, TypeError, NotImplementedError, UnsupportedAlgorithm) as exc:
        return f"not a valid OpenSSH public key ({exc})"
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        return f"RSA key of {key.key_size} bits is too weak (at least {MIN_RSA_BITS})"
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name != "secp256r1":
        return f"ECDSA curve {key.curve.name} is not supported (use nistp256 or ed25519)"
    if not isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return "unsupported key type (use ssh-ed25519, ecdsa-sha2-nistp256 or ssh-rsa)"
    return ""


def _parse_groups(doc: Any, directory: Directory, report: Reporter) -> None:
    node = doc.get("groups")
    if node is None:
        return
    if not hasattr(node, "items"):
        report.value(doc, "groups", "'groups' must map group names to member lists")
        return
    raw: dict[str, list[str]] = {}
    for key, members in node.items():
        name = str(key)
        if name in directory.principals:
            report.key(node, name, f"group '{name}' has the same name as a person or service")
        elif not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            report.value(node, name, f"group '{name}' must be a list of names")
        else:
            raw[name] = list(members)
    for name in raw:
        directory.groups[name] = _expand(name, raw, directory, node, report, ())


def _expand(
    name: str,
    raw: dict[str, list[str]],
    directory: Directory,
    node: Any,
    report: Reporter,
    stack: tuple[str, ...],
) -> frozenset[str]:
    if name in stack:
        cycle = " -> ".join((*stack, name))
        report.key(node, stack[0], f"group cycle: {cycle}", "a group may not contain itself")
        return frozenset()
    members: set[str] = set()
    for index, member in enumerate(raw[name]):
        if member in directory.principals:
            members.add(member)
        elif member in directory.groups:  # already resolved: nested groups cost linear time
            members |= directory.groups[member]
        elif member in raw:
            members |= _expand(member, raw, directory, node, report, (*stack, name))
        elif not stack:
            report.item(node[name], index, f"unknown person, service or group '{member}'")
    return frozenset(members)

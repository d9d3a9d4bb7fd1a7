"""Loading a policy file: YAML with positions, every problem reported at once."""

from __future__ import annotations

__all__ = ["DEFAULT_POLICY_PATH", "load", "load_cached", "loads"]

import io
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from twokey import _sha2
from twokey.errors import ConfigError
from twokey.policy import _yaml
from twokey.policy._environments import parse_environments
from twokey.policy._model import ApprovalRule, Policy
from twokey.policy._paths import DEFAULT_POLICY_PATH
from twokey.policy._principals import parse_directory
from twokey.policy._problems import Reporter, node_position
from twokey.policy._rules import parse_refs
from twokey.policy._schema import check_schema
from twokey.policy._scope import CHANGE_EXCLUSIONS, PEOPLE, Scope, parse_approval

_TOP_KEYS = (
    "version",
    "people",
    "services",
    "groups",
    "branches",
    "tags",
    "environments",
    "policy_changes",
    "break_glass_reviewers",
)
MAX_POLICY_BYTES = 4 * 1024 * 1024
# No policy means anything at depth 32; a 50,000-deep one must be a policy error (exit 2), not
# a RecursionError in the YAML parser (issue 15, item 13) or seconds of parsing first.
MAX_DEPTH = 32
_DEEP = "the policy is nested more than {} levels deep"
_DEEP_HINT = "a policy is a few levels of mappings and lists; flatten it"


def load(path: Path | str) -> Policy:
    """Load and validate the policy file at ``path``.

    Raises:
        PolicyError: the file is invalid (every problem listed, with file:line:column).
        ConfigError: the file cannot be read.
    """
    path = Path(path)
    return loads(_read(path), str(path))


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_POLICY_BYTES + 1)  # loads() refuses anything longer
    except OSError as exc:
        raise ConfigError(
            f"cannot read policy {path}: {exc.strerror}",
            hint="pass --policy FILE, or create .twokey/policy.yml",
        ) from exc


def load_cached(path: Path | str) -> Policy:
    """Like :func:`load`, but compiled once per distinct content: evaluate many times.

    The file is read on every call and the cache is keyed by its exact bytes (and its name),
    so an edit is never missed, whatever the file system's timestamp resolution.

    Raises:
        PolicyError: the file is invalid (not cached: every call reports it again).
        ConfigError: the file cannot be read.
    """
    path = Path(path)
    return _loads_cached(_read(path), str(path))


@lru_cache(maxsize=16)
def _loads_cached(data: bytes, source: str) -> Policy:
    return loads(data, source)


def loads(text: str | bytes, source: str = "<policy>") -> Policy:
    """Load and validate a policy from its bytes (e.g. a git blob); ``source`` names it."""
    data = text.encode() if isinstance(text, str) else text
    report = Reporter(source)
    if len(data) > MAX_POLICY_BYTES:
        report.at(0, 0, f"policy is {len(data)} bytes; the limit is {MAX_POLICY_BYTES}")
        report.raise_if_any()
    _flow_depth(data, report)
    report.raise_if_any()
    try:
        doc = _parse_yaml(data, report)
        report.raise_if_any()
        _depth(doc, report)
        report.raise_if_any()
        policy = _build(doc, data, report)
        check_schema(doc, report)  # after the hand-written checks: each mistake is said once
    except RecursionError:
        report.at(0, 0, _DEEP.format(MAX_DEPTH), _DEEP_HINT)
        report.raise_if_any()
        raise  # unreachable: a problem was just reported
    report.raise_if_any()
    assert policy is not None  # every path that returns None reported a problem
    return policy


def _flow_depth(data: bytes, report: Reporter) -> None:
    """Refuse deep flow nesting (``[[[[...``) before the recursive parser sees it.

    Brackets are counted wherever they are (in a quoted string too): a real policy never holds
    MAX_DEPTH unclosed brackets, so counting them all is safe and needs no YAML lexer.
    """
    depth = 0
    for number, line in enumerate(data.split(b"\n")):
        for byte in line:
            if byte in b"[{":
                depth += 1
                if depth > MAX_DEPTH:
                    report.at(number, 0, _DEEP.format(MAX_DEPTH), _DEEP_HINT)
                    return
            elif byte in b"]}" and depth:
                depth -= 1


def _depth(doc: Any, report: Reporter) -> None:
    """Refuse block nesting deeper than MAX_DEPTH (an iterative walk: no recursion here)."""
    todo: list[tuple[Any, int]] = [(doc, 1)]
    seen: set[int] = set()  # YAML aliases share nodes (and may form cycles): walk each once
    while todo:
        node, depth = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if depth > MAX_DEPTH:
            line, column = node_position(node)
            report.at(line, column, _DEEP.format(MAX_DEPTH), _DEEP_HINT)
            return
        if hasattr(node, "items"):
            todo += [(value, depth + 1) for value in node.values()]
        elif isinstance(node, list):
            todo += [(value, depth + 1) for value in node]


def _parse_yaml(data: bytes, report: Reporter) -> Any:
    """The document, as ruamel's round-trip loader reads it (ADR 0034).

    The plain YAML policies are written in is read by ``_yaml`` (about 40x faster, and no
    ruamel import); anything else, every mistake included, by ruamel itself, so documents and
    error messages are always ruamel's.
    """
    doc = _yaml.parse(data)
    if doc is not None:
        return doc  # a mapping: _yaml reads nothing else
    return _parse_ruamel(data, report)


def _parse_ruamel(data: bytes, report: Reporter) -> Any:
    # ruamel.yaml costs ~10 ms to import: only for a policy outside what _yaml reads.
    from ruamel.yaml import YAML  # noqa: PLC0415
    from ruamel.yaml.constructor import DuplicateKeyError  # noqa: PLC0415
    from ruamel.yaml.error import MarkedYAMLError, YAMLError  # noqa: PLC0415

    yaml = YAML(typ="rt", pure=True)
    try:
        doc = yaml.load(io.BytesIO(data))
    except DuplicateKeyError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line, mark.column) if mark is not None else (0, 0)
        report.at(
            line,
            column,
            f"duplicate key: {exc.problem}",
            "each id, ref pattern and setting may appear once per mapping",
        )
        return None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line, mark.column) if mark is not None else (0, 0)
        report.at(line, column, f"YAML syntax error: {exc.problem or exc.context}")
        return None
    except (YAMLError, UnicodeDecodeError) as exc:
        report.at(0, 0, f"YAML error: {exc}")
        return None
    except (TypeError, ValueError, OverflowError) as exc:
        # ruamel's constructor on odd input, e.g. a tagged collection as a key ("unhashable
        # type: 'CommentedMap'"): a policy error (exit 2), not a crash (exit 3).
        report.at(0, 0, f"YAML error: {exc}", "a key must be a plain or quoted scalar")
        return None
    if not hasattr(doc, "items"):
        report.at(0, 0, "a policy must be a YAML mapping", "start with 'version: 1'")
        return None
    return doc


def _build(doc: Any, data: bytes, report: Reporter) -> Policy | None:
    report.unknown_keys(doc, _TOP_KEYS, "the policy")
    _version(doc, report)
    directory = parse_directory(doc, report)
    scope = Scope(report, directory)
    refs = parse_refs(scope, doc)
    environments = parse_environments(scope, doc)
    policy_change = _policy_change(scope, doc)
    if policy_change is None:
        return None
    return Policy(
        version=1,
        source=report.source,
        digest="sha256:" + _sha2.sha256(data).hexdigest(),
        # Read-only views: the policy is shared by every evaluation (load_cached).
        principals=MappingProxyType(directory.principals),
        groups=MappingProxyType(directory.groups),
        refs=refs,
        environments=MappingProxyType(environments),
        policy_change=policy_change,
        aliases=MappingProxyType(directory.aliases),
        key_validity=MappingProxyType(directory.key_validity),
        break_glass_reviewers=_reviewers(scope, doc),
    )


def _version(doc: Any, report: Reporter) -> None:
    if "version" not in doc:
        report.at(0, 0, "missing 'version'", "add 'version: 1' at the top")
        return
    version = doc["version"]
    # `version: true` equals 1 in Python; only the integer 1 is version 1.
    if isinstance(version, bool) or not isinstance(version, int) or version != 1:
        report.value(
            doc, "version", f"unsupported version {version!r}", "this twokey reads 'version: 1'"
        )


def _reviewers(scope: Scope, doc: Any) -> frozenset[str] | None:
    """``break_glass_reviewers``: the people who may review a break-glass (absent: anyone else)."""
    if "break_glass_reviewers" not in doc:
        return None
    reviewers = scope.names(doc, "break_glass_reviewers", kinds=PEOPLE)
    if not doc["break_glass_reviewers"]:  # null or []: a bad name is reported by names()
        scope.report.value(
            doc,
            "break_glass_reviewers",
            "break_glass_reviewers names nobody: no break-glass could ever be reviewed",
            "list people or groups (e.g. [admins]), or leave the key out: anyone else may review",
        )
    return reviewers


def _policy_change(scope: Scope, doc: Any) -> ApprovalRule | None:
    hint = "add e.g. 'policy_changes: {approvals: 2, approvers: [admins]}' (invariant 7)"
    node = doc.get("policy_changes")
    if node is None and "policy_changes" not in doc:
        scope.report.at(0, 0, "missing 'policy_changes' (k-of-n admins for policy changes)", hint)
        return None
    if not hasattr(node, "items"):
        scope.report.value(doc, "policy_changes", "'policy_changes' must be a mapping", hint)
        return None
    scope.report.unknown_keys(
        node, ("approvals", "approvers", "exclude", "accept"), "policy_changes"
    )
    # ADR 0007: a k-of-n sign-off; the author admin's own approval counts unless excluded.
    rule = parse_approval(
        scope,
        node,
        "policy_changes",
        default_exclude=frozenset(),
        allowed_exclude=CHANGE_EXCLUSIONS,
    )
    if "approvals" in node and node["approvals"] == 0:
        scope.report.value(
            node,
            "approvals",
            "policy_changes needs at least 1 approval",
            "no policy may be changed on nobody's say-so (invariant 7)",
        )
    return rule

"""The policy's own YAML reader (``_yaml``, ADR 0034) reads exactly what ruamel reads.

ruamel's round-trip loader (what the loader used for every policy before) is the reference:
for any text, ``_yaml.parse`` either declines (``None``: the loader asks ruamel) or returns the
same document: the same keys in the same order, the same values of the same types, and the
same positions for every mapping, key, value and item. Texts are generated policy-like
documents in every scalar style, with the YAML that is declined (anchors, tags, block
scalars, multi-line flow, ...) mixed in, then mutated at random (which makes most of them
invalid). A second property runs the whole loader both ways on mutated real policies: the
same ``Policy``, or the same problems (message and file:line:column).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarint import ScalarInt

from twokey.policy import PolicyError, _yaml, loads

ROOT = Path(__file__).resolve().parents[3]
_T = TypeVar("_T")


class _Draw(Protocol):
    """``st.DrawFn``, or a ``DataObject``'s draw."""

    def __call__(self, strategy: st.SearchStrategy[_T]) -> _T: ...


_BLOCK = re.compile(r"^```ya?ml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _ruamel(data: bytes) -> Any:
    return YAML(typ="rt", pure=True).load(io.BytesIO(data))


def _type(value: Any) -> type:
    # ruamel builds 0 as ScalarInt(0), an int that only remembers its width for dumping
    return int if type(value) is ScalarInt and value == 0 else type(value)


def _same(fast: Any, slow: Any, path: str = "$") -> None:
    """``fast`` is what ruamel built as ``slow``: types, values, order and positions."""
    if isinstance(slow, CommentedMap):
        assert type(fast) is _yaml.Map, path
        assert [(k, _type(k)) for k in fast] == [(k, _type(k)) for k in slow], path
        assert (fast.lc.line, fast.lc.col) == (slow.lc.line, slow.lc.col), path
        for key in slow:
            assert fast.lc.key(key) == slow.lc.key(key), (path, key)
            assert fast.lc.value(key) == slow.lc.value(key), (path, key)
            _same(fast[key], slow[key], f"{path}.{key}")
    elif isinstance(slow, CommentedSeq):
        assert type(fast) is _yaml.Seq, path
        assert len(fast) == len(slow), path
        assert (fast.lc.line, fast.lc.col) == (slow.lc.line, slow.lc.col), path
        for index, item in enumerate(slow):
            assert fast.lc.item(index) == slow.lc.item(index), (path, index)
            _same(fast[index], item, f"{path}[{index}]")
    else:
        assert type(fast) is _type(slow), (path, fast, slow)
        assert fast == slow, path


def _compare(data: bytes) -> bool:
    """Both readers on ``data``: True when ``_yaml`` read it (then it is ruamel's document)."""
    fast = _yaml.parse(data)
    if fast is None:
        return False
    try:
        slow = _ruamel(data)
    except (YAMLError, UnicodeDecodeError) as exc:  # pragma: no cover - the failure to find
        raise AssertionError(f"_yaml read what ruamel refuses: {exc}") from exc
    _same(fast, slow)
    return True


def _policies() -> list[str]:
    texts = [p.read_text() for p in sorted((ROOT / "src/twokey/policy/examples").glob("*.yml"))]
    everything = (ROOT / "tests/unit/policy/test_schema.py").read_text()
    texts.append(everything.split('_EVERYTHING = """\\\n')[1].split('"""')[0])
    return texts


def _doc_blocks() -> list[str]:
    found = []
    for doc in [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]:
        found += _BLOCK.findall(doc.read_text())
    return found


_POLICIES = _policies()


def test_the_resolvers_are_ruamels() -> None:
    """The YAML 1.2 scalar rules copied into ``_yaml`` are ruamel's, in its order."""
    from ruamel.yaml.resolver import implicit_resolvers  # noqa: PLC0415

    theirs = [
        (tag.removeprefix("tag:yaml.org,2002:"), regexp.pattern, "".join(first))
        for versions, tag, regexp, first in implicit_resolvers
        if (1, 2) in versions
    ]
    assert [tuple(resolver) for resolver in _yaml._RESOLVERS] == theirs


@pytest.mark.parametrize("text", _POLICIES)
def test_real_policies_are_read_here_and_are_ruamels(text: str) -> None:
    assert _compare(text.encode())  # else every door would import ruamel after all


@pytest.mark.parametrize("text", _doc_blocks())
def test_the_documented_yaml_is_read_as_ruamel_reads_it(text: str) -> None:
    _compare(text.encode())


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\nname: &a x\n",  # anchor
        "a: [x]\nb: *a\n",  # alias
        "a: !!str 1\n",  # tag
        "a: {x: 1}\nb:\n  <<: {y: 2}\n",  # merge key
        "a: |\n  text\n",  # block literal
        "a: >\n  text\n",  # folded
        "a: x\n  continued\n",  # multi-line plain
        "a: [x,\n  y]\n",  # multi-line flow
        'a: "x\\ty"\n',  # escape
        "a: 1.5\n",  # float
        "a: 1e3\n",
        "a: .inf\n",
        "a: 0o17\n",  # other integer forms
        "a: 017\n",
        "a: 0x1F\n",
        "a: 1_000\n",
        "a: -3\n",  # starts with an indicator
        "a: 2024-01-01\n",  # timestamp
        "a: # c\nb: 1\n",  # empty value (null) with a comment
        "a: {b: }\n",  # empty value (null) in a flow mapping
        "- x\n",  # not a mapping
        "x\n",
        "",
        "a: 1\na: 2\n",  # duplicate keys
        "a: {x: 1, x: 2}\n",
        "---\na: 1\n",  # document markers, directives
        "a: 1\n...\n",
        "%YAML 1.2\n---\na: 1\n",
        "\ufeffa: 1\n",  # byte order mark
        "a: 1\r\nb: 2\r\n",  # CRLF
        "a:\t1\n",  # tab
        "a: x\x85y\n",  # NEL
        "a: [x, ]\n",  # trailing comma
        "a: b: c\n",  # ruamel's error
        " a: 1\nb: 2\n",
        "k" * 1100 + ": 1\n",  # ruamel refuses keys this long: in every form
        '"' + "k" * 1100 + '": 1\n',
        "a: {" + "k" * 1100 + ": 1}\n",
        "a: {'" + "k" * 1100 + "': 1}\n",
        "a:\n  - '" + "k" * 1100 + "': 1\n",
    ],
)
def test_outside_what_is_read_here(text: str) -> None:
    assert _yaml.parse(text.encode()) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a: yes", "yes"),  # YAML 1.2: strings
        ("a: no", "no"),
        ("a: on", "on"),
        ("a: off", "off"),
        ("a: y", "y"),
        ("a: ~", None),
        ("a: null", None),
        ("a: NULL", None),
        ("a: True", True),
        ("a: FALSE", False),
        ("a: 0", 0),
        ("a: +5", 5),
        ("a: '1'", "1"),
        ('a: "true"', "true"),
        ("a: 'it''s'", "it's"),
        ("a: x # comment", "x"),
        ("a: x#y", "x#y"),
        ("a: 16:00 - 08:00", "16:00 - 08:00"),
        ("a: .github/**", ".github/**"),
        ("a: Zoë", "Zoë"),
        ("a:", None),
        ("a:\n", None),
        ("a:  \n\n# c\nb: 1", None),
        ("p:\n  x:\na:\n", None),
    ],
)
def test_scalars_as_ruamel_reads_them(text: str, value: Any) -> None:
    doc = _yaml.parse(text.encode())
    assert doc is not None
    assert doc["a"] == value
    assert type(doc["a"]) is type(value)
    _compare(text.encode())


# Scalars that mean something else in YAML 1.1 or in another schema, or look like syntax.
_TRICKY = [
    "yes", "no", "on", "off", "y", "n", "true", "False", "TRUE", "0o17", "017", "0x1F", "0b11",
    "1e3", "1.5", ".5", ".inf", "-.INF", ".nan", "~", "null", "Null", "NULL", "2024-01-01",
    "2024-01-01T10:00:00Z", "2024-1-1 10:00:00", "1_000", "007", "0", "-0", "+0", "+5", "-3",
    "12", "123456789012345678901234567890", "1:30", "a: b", "a:b", "a :b", "a #b", "a#b", "#x",
    "<<", "=", "&a", "*a", "!x", "!!str x", "|", ">", "- x", "-x", "? x", "?x", ":x", "%x",
    "@x", "`x", "refs/heads/*", "release-*", "**/*.md", ".github/**", "Alice Smith",
    "alice@example.com", "ssh-ed25519 AAAAC3Nz x@y", "Fri 16:00 - Mon 08:00 Europe/Berlin",
    "Zoë", "a,b", "a]", "[x]", "{y}", "x ", " x", "", "it's", 'say "hi"', "back\\slash",
    "version", "people", "approvals", "main",
]  # fmt: skip
# Words a policy is made of: read here in every style.
_PLAIN = [
    "version", "people", "main", "alice", "Alice Smith", "alice@example.com", "admins", "1",
    "2", "0", "true", "false", "yes", "no", "on", "~", "null", "refs/heads/*", "deploy/**",
    "v*", ".github/**", "a,b", "x]", "a#b", "16:00 - 08:00", "Zoë", "it's", "x y  z",
]  # fmt: skip
_RANDOM = st.text(alphabet="ab01: #-,'\"[]{}&*!|>%.~\\é\t", max_size=6)


def _rare(draw: _Draw, level: int) -> bool:
    """Whether to use YAML outside what ``_yaml`` reads here (more often at a higher level)."""
    return draw(st.integers(0, 40)) < level


_IN_FLOW = [word for word in _PLAIN if not set(word) & set(",[]{}#:")]


def _word(draw: _Draw, level: int, key: bool = False, flow: bool = False) -> str:
    if _rare(draw, level):
        return draw(st.one_of(st.sampled_from(_TRICKY), _RANDOM))
    if key:
        return draw(st.sampled_from(["a", "b", "main", "x y", "people", "1", "true", "~"]))
    return draw(st.sampled_from(_IN_FLOW if flow else _PLAIN))


def _quote(word: str, style: str) -> str:
    if style == "single":
        return "'" + word.replace("'", "''") + "'"
    if style == "double":
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word


def _scalar(draw: _Draw, level: int, key: bool = False, flow: bool = False) -> str:
    word = _word(draw, level, key, flow)
    style = draw(st.sampled_from(["plain", "plain", "plain", "single", "double"]))
    if _rare(draw, level):
        prefix = draw(st.sampled_from(["&a ", "!!str ", "!x ", "*a"]))
        return prefix + _quote(word, style) if prefix != "*a" else "*a"
    return _quote(word, style)


def _flow(draw: _Draw, level: int, depth: int = 0) -> str:
    sep = draw(st.sampled_from([", ", ",", " , ", ",  "]))
    inner = draw(st.sampled_from(["", " "]))
    items = []
    for _ in range(draw(st.integers(0, 3))):
        nested = depth < 2 and draw(st.integers(0, 4)) == 0
        items.append(_flow(draw, level, depth + 1) if nested else _scalar(draw, level, flow=True))
    if draw(st.booleans()):
        return "[" + inner + sep.join(items) + inner + "]"
    colon = ":" if _rare(draw, level) else draw(st.sampled_from([": ", ":  "]))
    pairs = [f"{_key(draw, level, seen)}{colon}{v}" for seen in [set[str]()] for v in items]
    return "{" + inner + sep.join(pairs) + inner + "}"


def _comment(draw: _Draw) -> str:
    return draw(st.sampled_from(["", "", "", "  # note", " #x", "   "]))


def _value(draw: _Draw, level: int, indent: int, depth: int) -> list[str]:
    """Lines for a value that follows ``key:`` (first line is the rest of the key's line)."""
    kinds = ["scalar", "scalar", "flow", "map", "seq", "empty"]
    kind = draw(st.sampled_from(["block"])) if _rare(draw, level) else ""
    kind = kind or draw(st.sampled_from(kinds))
    if depth > 3 and kind in ("map", "seq"):
        kind = "scalar"
    if kind == "scalar":
        return [" " + _scalar(draw, level) + _comment(draw)]
    if kind == "flow":
        return [" " + _flow(draw, level) + _comment(draw)]
    if kind == "empty":
        return [_comment(draw) if _rare(draw, level) else draw(st.sampled_from(["", "  "]))]
    if kind == "block":
        head = draw(st.sampled_from(["|", ">", "|-", ">+"]))
        step = indent + draw(st.integers(1, 3))
        return [" " + head] + [" " * step + w for w in draw(st.lists(_RANDOM, max_size=2))]
    step = draw(st.integers(0 if kind == "seq" else 1, 4))
    if kind == "map":
        lines = _map(draw, level, indent + step, depth + 1)
    else:
        lines = _seq(draw, level, indent + step, depth + 1)
    return [_comment(draw), *lines]


def _key(draw: _Draw, level: int, seen: set[str]) -> str:
    """A key, most often not one of ``seen`` (a duplicate key is outside)."""
    key = _scalar(draw, level, key=True)
    if key.strip("'\"") in seen and not _rare(draw, level):
        key = f"k{len(seen)}"
    seen.add(key.strip("'\""))
    return key


def _map(draw: _Draw, level: int, indent: int, depth: int) -> list[str]:
    lines: list[str] = []
    seen: set[str] = set()
    for _ in range(draw(st.integers(1, 4))):
        key = _key(draw, level, seen)
        colon = " :" if _rare(draw, level) else ":"
        first, *rest = _value(draw, level, indent, depth)
        lines.append(" " * indent + key + colon + first)
        lines += rest
        if draw(st.integers(0, 5)) == 0:
            lines.append(draw(st.sampled_from(["", "# c", " " * indent + "# c", "  "])))
    return lines


def _seq(draw: _Draw, level: int, indent: int, depth: int) -> list[str]:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        kinds = ["scalar", "scalar", "flow", "compact", "nested", "empty"]
        kind = draw(st.sampled_from(kinds))
        pad = " " * draw(st.integers(1, 2))
        if kind == "compact" and depth < 4:
            first, *rest = _map(draw, level, indent + 1 + len(pad), depth + 1)
            lines += [" " * indent + "-" + pad + first.lstrip(" "), *rest]
        elif kind == "nested" and depth < 4:
            step = draw(st.integers(1, 3))
            if draw(st.booleans()):
                inner = _map(draw, level, indent + step, depth + 1)
            else:
                inner = _seq(draw, level, indent + step, depth + 1)
            lines += [" " * indent + "-" + _comment(draw), *inner]
        elif kind == "flow":
            lines.append(" " * indent + "-" + pad + _flow(draw, level))
        elif kind == "empty":
            lines.append(" " * indent + "-" + _comment(draw))
        else:
            lines.append(" " * indent + "-" + pad + _scalar(draw, level) + _comment(draw))
    return lines


@st.composite
def _document(draw: _Draw) -> bytes:
    """A policy-like document; at level 0 all in what ``_yaml`` reads, more rarely above."""
    level = draw(st.sampled_from([0, 0, 1, 2, 4, 8]))
    lines = _map(draw, level, draw(st.sampled_from([0, 0, 0, 1, 2])), 1)
    if _rare(draw, level):
        lines.insert(0, draw(st.sampled_from(["---", "%YAML 1.2\n---", "%YAML 1.1\n---"])))
    if _rare(draw, level):
        lines.append(draw(st.sampled_from(["...", "---", "---\nb: 1"])))
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))
    if _rare(draw, level):
        text = text.replace("\n", "\r\n")
    if _rare(draw, level):
        text = "\ufeff" + text
    return text.encode()


_NOISE = ["", " ", "  ", "\n", ":", ": ", "- ", "#", " #", "'", '"', "[", "]", "{", "}", ",",
          "&a ", "*a", "!", "|", "\t", "\r", "\x85", "\u2028", "\ufeff", "\\", "?", "é",
          "\x00", "---", "<<: ", "~", "0", "x"]  # fmt: skip


def _mutate(draw: _Draw, text: bytes) -> bytes:
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 3))
        noise = draw(st.sampled_from(_NOISE)).encode()
        text = text[:where] + noise + text[where + cut :]
    if draw(st.integers(0, 19)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    if draw(st.integers(0, 29)) == 0:
        text += b"\xff"  # not UTF-8
    return text


_SETTINGS = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(_document())
def test_generated_documents_are_read_as_ruamel_reads_them(data: bytes) -> None:
    event("read here" if _compare(data) else "declined")


@_SETTINGS
@given(st.data())
def test_mutated_documents_are_read_as_ruamel_reads_them(data: st.DataObject) -> None:
    event("read here" if _compare(_mutate(data.draw, data.draw(_document()))) else "declined")


@_SETTINGS
@given(st.data())
def test_mutated_policies_are_read_as_ruamel_reads_them(data: st.DataObject) -> None:
    text = _mutate(data.draw, data.draw(st.sampled_from(_POLICIES)).encode())
    event("read here" if _compare(text) else "declined")


def _declined(data: bytes) -> _yaml.Map | None:
    return None


def _outcome(data: bytes) -> Any:
    try:
        return loads(data, "p.yml")
    except PolicyError as exc:
        return [str(problem) for problem in exc.problems]
    except Exception as exc:
        return (type(exc), str(exc))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_loader_answers_as_with_ruamel_alone(data: st.DataObject) -> None:
    """The whole loader, both ways: the same policy, or the same problems at the same places."""
    text = data.draw(st.sampled_from(_POLICIES)).encode()
    if data.draw(st.booleans()):
        text = _mutate(data.draw, text)
    event("read here" if _yaml.parse(text) is not None else "declined")
    fast = _outcome(text)
    parse = _yaml.parse
    _yaml.parse = _declined  # the loader as before: ruamel for every document
    try:
        slow = _outcome(text)
    finally:
        _yaml.parse = parse
    assert fast == slow


def test_generated_documents_are_mostly_read_here() -> None:
    """The properties above test something: most generated documents are read by ``_yaml``
    (else they would only test the fallback)."""
    read = 0
    total = 300

    @settings(max_examples=total, deadline=None, database=None)
    @given(_document())
    def count(data: bytes) -> None:
        nonlocal read
        read += _compare(data)

    count()
    assert read > total // 5, read


def test_a_collection_as_a_key_is_a_policy_error() -> None:
    """ruamel raised TypeError (unhashable) for a tagged flow mapping as a key: exit 3 before."""
    text = "version: 1\npeople:\n  alice: {name: A, emails: [a@x.test],!keys: [{key: k}]}\n"
    with pytest.raises(PolicyError, match="YAML error: unhashable type"):
        loads(text)

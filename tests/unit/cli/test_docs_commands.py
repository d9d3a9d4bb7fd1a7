"""Every ``twokey`` command shown in README.md and docs/*.md still works (issue 10, item 7).

The commands are taken from the fenced shell blocks (``sh``, ``console``, plain) and the CI
``run:`` lines of the documentation itself, so an example cannot rot unnoticed:

- a synopsis (``twokey approve [REV] [--ref REF]``) must name a real command, and every option
  it names must exist on that command;
- an example must be accepted by the real parser, exactly as written (placeholders included);
- the self-contained examples (ledger, policy) are run for real, in document order, by a shell
  in a sample repository, and must exit 0.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.gitrepo import ALICE, GitRepo
from twokey.cli import build_parser

ROOT = Path(__file__).resolve().parents[3]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLE_POLICY = ROOT / "src/twokey/policy/examples/walkthrough.yml"

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_PROMPT = re.compile(r"^(?:\w*\$ )")
_SYNOPSIS = re.compile(r"\[|\]|\.\.\.|\w\|\w|<[a-z-]+>|\b(?!HEAD\b)[A-Z][A-Z-]{2,}\b")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_CI_VARIABLE = re.compile(r"\$\{\{[^}]*\}\}")  # GitHub's ${{ ... }}: one word once expanded
# Run for real: these need nothing but a repository, the files earlier examples made, and a
# server repository where the documentation says /srv/git/shop.git.
_RUNNABLE = ("ledger ", "policy check", "policy show", "policy schema", "hook install")


@dataclass(frozen=True)
class Shown:
    """One ``twokey`` command as the documentation shows it."""

    where: str  # file:line
    text: str  # the shell text of this command, from "twokey" on (redirections included)
    line: str  # the whole shell line it is part of (a pipeline feeding it included)

    @property
    def argv(self) -> list[str]:
        """The arguments after ``twokey``, without redirections, comments or a final ``&``."""
        words = shlex.split(_CI_VARIABLE.sub("X", self.text), comments=True)[1:]
        out: list[str] = []
        skip = False
        for word in words:
            if skip:
                skip = False
            elif re.fullmatch(r"\d?[<>]{1,2}", word):
                skip = True
            elif not re.match(r"\d?[<>]", word) and word != "&":
                out.append(word)
        return out

    @property
    def synopsis(self) -> bool:
        """A syntax summary (``[--ref REF]``, ``FILE``, ``a|b``, ``...``), not a runnable line."""
        command = _QUOTED.sub("''", self.text.split(" #", 1)[0])
        return bool(_SYNOPSIS.search(command))


def _split(line: str) -> list[str]:
    """A shell line cut at ``&&``, ``||``, ``;`` and `` | `` outside quotes and ``[...]``
    (``[--key FILE | --ssh-key FILE]`` is one synopsis, ``a|b`` names alternatives)."""
    parts, current, depth, quote, index = [], "", 0, "", 0
    while index < len(line):
        char = line[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[]":
            depth += 1 if char == "[" else -1
        elif depth == 0 and (sep := _separator(line, index)):
            parts.append(current)
            current, index = "", index + len(sep)
            continue
        current += char
        index += 1
    return [*parts, current]


def _separator(line: str, index: int) -> str:
    for sep in ("&&", "||", ";", " | "):
        if line.startswith(sep, index):
            return sep
    return ""


def _commands_in(line: str) -> list[str]:
    """The ``twokey ...`` parts of one shell line (``a && b``, ``x | twokey ...``)."""
    parts = (_PROMPT.sub("", part.strip()) for part in _split(line))
    return [part for part in parts if part.startswith("twokey ")]


def _logical_lines(body: str) -> list[tuple[int, str]]:
    """(offset of the first line, text) with backslash continuations joined."""
    raw = body.splitlines()
    out = []
    index = 0
    while index < len(raw):
        start, line = index, raw[index]
        while line.endswith("\\") and index + 1 < len(raw):
            index += 1
            line = line[:-1] + " " + raw[index].strip()
        out.append((start, line.strip()))
        index += 1
    return out


def _shown(path: Path) -> list[Shown]:
    text = path.read_text()
    found: list[Shown] = []
    for match in _FENCE.finditer(text):
        lang, body = match.group(1), match.group(2)
        if lang not in ("", "sh", "bash", "shell", "console", "yaml", "yml"):
            continue
        first = text[: match.start()].count("\n") + 2
        for offset, line in _logical_lines(body):
            if lang == "console" and not _PROMPT.match(line):
                continue  # output, not a command
            if lang in ("yaml", "yml"):  # a CI step: `- run: twokey ...`
                line = re.sub(r"^(?:- )?(?:run: )?(?:- )?", "", line)  # noqa: PLW2901
            where = f"{path.relative_to(ROOT)}:{first + offset}"
            whole = _PROMPT.sub("", line)
            found += [Shown(where, c, whole) for c in _commands_in(line)]
    return found


_ALL = [shown for doc in DOCS for shown in _shown(doc)]
_EXAMPLES = [s for s in _ALL if not s.synopsis]
_SYNOPSES = [s for s in _ALL if s.synopsis]


def _parser_for(words: list[str]) -> tuple[argparse.ArgumentParser, list[str]]:
    """The (sub)command parser the leading words name, and the words after its name."""
    parser = build_parser()
    rest = list(words)
    while rest:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or rest[0] not in subs[0].choices:
            break
        parser = subs[0].choices[rest.pop(0)]
    return parser, rest


def test_the_documentation_shows_commands() -> None:
    assert len(_EXAMPLES) >= 20
    assert len(_SYNOPSES) >= 10
    assert any(s.argv[:2] == ["ledger", "verify-export"] for s in _EXAMPLES)


@pytest.mark.parametrize("shown", _EXAMPLES, ids=[s.where for s in _EXAMPLES])
def test_every_example_is_accepted_by_the_parser(shown: Shown) -> None:
    argv = shown.argv
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"{shown.where}: `{shown.text}` is refused by the parser (exit {exc.code})")


@pytest.mark.parametrize("shown", _SYNOPSES, ids=[s.where for s in _SYNOPSES])
def test_every_synopsis_names_real_commands_and_options(shown: Shown) -> None:
    words = shown.argv
    parser, _ = _parser_for(words)
    assert parser.prog != "twokey", f"{shown.where}: `{shown.text}` names no command"
    known = {o for a in parser._actions for o in a.option_strings}
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", shown.text.split(" #", 1)[0]))
    assert named <= known, (
        f"{shown.where}: {sorted(named - known)} are not options of {parser.prog}"
    )


def _runnable(shown: Shown) -> bool:
    return " ".join(shown.argv).startswith(_RUNNABLE)


def _on_this_machine(line: str, root: Path) -> str:
    """The documented server paths, moved under ``root``."""
    for documented, here in (
        ("/srv/git/shop.git", root / "srv/shop.git"),
        ("/srv/twokey/", root / "srv/"),
        ("/run/twokey/", root / "run/"),
    ):
        line = line.replace(documented, str(here) + ("/" if documented.endswith("/") else ""))
    return line


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A sample repository with the walkthrough policy, as the examples assume, and an empty
    server repository."""
    GitRepo.init(tmp_path / "srv" / "shop.git", bare=True)
    (tmp_path / "run").mkdir()
    repo = GitRepo.init(tmp_path / "shop")
    repo.write(".twokey/policy.yml", EXAMPLE_POLICY.read_text())
    repo.commit({"policy.yml": EXAMPLE_POLICY.read_text()}, "policy", ALICE)
    return repo.path


_RUN_DOCS = [d for d in DOCS if any(_runnable(s) for s in _shown(d) if not s.synopsis)]


def test_the_runnable_examples_were_found() -> None:
    assert {"ledger.md", "policy.md"} <= {d.name for d in _RUN_DOCS}


@pytest.mark.parametrize("doc", _RUN_DOCS, ids=[d.name for d in _RUN_DOCS])
def test_self_contained_examples_run_for_real(doc: Path, sample: Path) -> None:
    runnable = [s for s in _shown(doc) if not s.synopsis and _runnable(s)]
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TWOKEY_")},
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    assert shutil.which("twokey", path=env["PATH"]), "the twokey script is not installed"
    for shown in runnable:
        line = _on_this_machine(shown.line, sample.parent)
        result = subprocess.run(
            ["bash", "-o", "pipefail", "-c", line],
            cwd=sample,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"{shown.where}: `{line}` failed:\n{result.stderr}"


# --- commands named in the prose: `twokey policy check/show`, `twokey deploy check --ledger` ---

_INLINE = re.compile(r"`(twokey [^`]+)`")
# Spans that look like commands but are not: audit-json.md names a source label.
_NOT_COMMANDS = frozenset({"twokey evidence ref"})


def _named_in_prose() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text()
        prose = _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)  # keep line numbers
        for match in _INLINE.finditer(prose):
            if match.group(1) not in _NOT_COMMANDS:
                line = prose[: match.start()].count("\n") + 1
                found.append((f"{doc.relative_to(ROOT)}:{line}", match.group(1)))
    return found


_PROSE = _named_in_prose()


def _alternatives(text: str) -> list[str]:
    """``twokey policy check/show --x`` (or ``check|show``): one text per alternative."""
    words = text.split()
    for index, word in enumerate(words):
        if re.fullmatch(r"[a-z-]+(?:[/|][a-z-]+)+", word) and index < 3:
            return [
                " ".join([*words[:index], choice, *words[index + 1 :]])
                for choice in re.split(r"[/|]", word)
            ]
    return [text]


@pytest.mark.parametrize(("where", "text"), _PROSE, ids=[w for w, _ in _PROSE])
def test_every_command_named_in_prose_exists(where: str, text: str) -> None:
    for variant in _alternatives(text):
        command = variant.split(" | ")[0]
        words = command.split()[1:]
        parser, rest = _parser_for(words)
        groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if groups and rest and not rest[0].startswith("-") and rest[0] != "...":
            pytest.fail(f"{where}: `{variant}`: {parser.prog} has no command {rest[0]!r}")
        known = {o for a in parser._actions for o in a.option_strings}
        named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", command))
        assert named <= known, f"{where}: {sorted(named - known)} are not options of {parser.prog}"


def test_prose_commands_were_found() -> None:
    assert len(_PROSE) >= 40

"""Glob semantics for refs and owned paths (docs/policy.md, "Globs")."""

from __future__ import annotations

import pickle
import re

import pytest

from twokey.policy import GlobError, GlobKind, glob_to_regex, path_glob, ref_glob
from twokey.policy import _glob as glob_module
from twokey.policy._glob import overlap

REF = GlobKind.REF
PATH = GlobKind.PATH

# (pattern, kind, subject, matches)
CASES = {
    "ref-exact": ("refs/heads/main", REF, "refs/heads/main", True),
    "ref-exact-no-prefix-match": ("refs/heads/main", REF, "refs/heads/main2", False),
    "ref-exact-no-suffix-match": ("refs/heads/main", REF, "refs/heads/main/x", False),
    "ref-star-one-segment": ("refs/heads/release/*", REF, "refs/heads/release/1.0", True),
    "ref-star-not-across": ("refs/heads/release/*", REF, "refs/heads/release/1/x", False),
    "ref-star-needs-segment": ("refs/heads/release/*", REF, "refs/heads/release", False),
    "ref-double-star-across": ("refs/heads/team/**", REF, "refs/heads/team/a/b/c", True),
    "ref-double-star-middle": ("refs/heads/**/wip", REF, "refs/heads/a/b/wip", True),
    "ref-double-star-middle-empty": ("refs/heads/**/wip", REF, "refs/heads/wip", True),
    "ref-tag-prefix": ("refs/tags/v*", REF, "refs/tags/v1.2.3", True),
    "ref-tag-prefix-not-across": ("refs/tags/v*", REF, "refs/tags/v1/rc", False),
    "ref-question": ("refs/heads/v?", REF, "refs/heads/v1", True),
    "ref-question-one-char": ("refs/heads/v?", REF, "refs/heads/v10", False),
    "ref-dot-is-literal": ("refs/tags/v1.0", REF, "refs/tags/v1x0", False),
    "ref-plus-is-literal": ("refs/heads/a+b", REF, "refs/heads/a+b", True),
    "path-dir-double-star": ("deploy/**", PATH, "deploy/prod/app.yml", True),
    "path-dir-double-star-top": ("deploy/**", PATH, "deploy/app.yml", True),
    "path-dir-double-star-anchored": ("deploy/**", PATH, "src/deploy/app.yml", False),
    "path-dir-double-star-prefix-word": ("deploy/**", PATH, "deployment/app.yml", False),
    "path-basename-any-depth": ("*.md", PATH, "docs/guide/intro.md", True),
    "path-basename-root": ("*.md", PATH, "README.md", True),
    "path-basename-not-suffix": ("*.md", PATH, "notes.mdx", False),
    "path-name-any-depth": ("Makefile", PATH, "tools/Makefile", True),
    "path-name-is-also-a-directory": ("secrets", PATH, "a/secrets/key.pem", True),
    "path-rooted-dir": ("/docs/", PATH, "docs/a/b.md", True),
    "path-rooted-dir-not-nested": ("/docs/", PATH, "src/docs/a.md", False),
    "path-rooted-dir-not-the-file": ("/docs/", PATH, "docs", False),
    "path-dir-any-depth": ("docs/", PATH, "src/docs/a.md", True),
    "path-rooted-file": ("/setup.py", PATH, "setup.py", True),
    "path-rooted-file-not-nested": ("/setup.py", PATH, "pkg/setup.py", False),
    "path-inner-slash-anchors": ("src/*.py", PATH, "lib/src/a.py", False),
    "path-inner-slash-star": ("src/*.py", PATH, "src/a.py", True),
    # gitignore semantics: a matched directory owns everything below it (fail closed).
    "path-star-owns-below": ("docs/*", PATH, "docs/a/b.md", True),
    "path-middle-double-star": ("a/**/z.txt", PATH, "a/b/c/z.txt", True),
    "path-middle-double-star-empty": ("a/**/z.txt", PATH, "a/z.txt", True),
    "path-leading-double-star": ("**/build", PATH, "x/y/build/out.o", True),
    "path-github-workflows": (".github/workflows/", PATH, ".github/workflows/ci.yml", True),
    # Globs match any character a git path may hold (issue 15, item 8): newlines too.
    "path-newline-in-name": ("deploy/**", PATH, "deploy/evil\n.yml", True),
    "path-newline-in-directory": ("deploy/**", PATH, "deploy/a\nb/c.yml", True),
    "path-newline-star": ("deploy/*.yml", PATH, "deploy/evil\n.yml", True),
    "path-newline-basename": ("*.tf", PATH, "a\nb/x\ny.tf", True),
    "path-newline-question": ("/a?b", PATH, "a\nb", True),
    "path-carriage-return": ("deploy/**", PATH, "deploy/x\r", True),
    "path-undecodable-byte": ("deploy/**", PATH, "deploy/\udcff.yml", True),
    "path-newline-prefix-not-owned": ("deploy/**", PATH, "\ndeploy/x", False),
    "ref-newline-star-stays-in-segment": ("refs/heads/*", REF, "refs/heads/a\nb", True),
    "path-many-double-stars": ("a/**/b/**/c/**/d", PATH, "a/x/b/y/z/c/d", True),
    "path-many-double-stars-miss": ("a/**/b/**/c/**/d", PATH, "a/x/b/y/z/c/e", False),
}


@pytest.mark.parametrize(
    ("pattern", "kind", "subject", "matches"), CASES.values(), ids=CASES.keys()
)
def test_glob_semantics(pattern: str, kind: GlobKind, subject: str, matches: bool) -> None:
    assert (glob_to_regex(pattern, kind).fullmatch(subject) is not None) is matches


def test_shorthands_agree() -> None:
    assert ref_glob("refs/heads/*").pattern == glob_to_regex("refs/heads/*", REF).pattern
    assert path_glob("deploy/**").pattern == glob_to_regex("deploy/**", PATH).pattern


BAD = {
    "empty": ("", REF, "empty or padded pattern"),
    "padded": (" refs/heads/main", REF, "empty or padded pattern"),
    "character-class": ("refs/heads/[ab]", REF, "character classes"),
    "braces": ("refs/tags/{a,b}", REF, "braces"),
    "backslash": ("deploy\\x", PATH, "backslashes"),
    "triple-star": ("refs/***", REF, "'***'"),
    "double-slash": ("refs//heads", REF, "'//'"),
    "ref-not-refs": ("heads/main", REF, "must start with 'refs/'"),
    "ref-trailing-slash": ("refs/heads/", REF, "may not end with '/'"),
    "path-only-slashes": ("/", PATH, "pattern names no path"),
    # Patterns that can never match what git holds are errors (issue 15, item 11).
    "path-dot-segment": ("./ops/**", PATH, "'.' is never a component"),
    "path-dotdot-segment": ("deploy/../x/**", PATH, "'..' is never a component"),
    "path-dot-git": (".git/**", PATH, "'.git' is never a component"),
    "path-dot-git-inner": ("**/.GIT/config", PATH, "'.GIT' is never a component"),
    "ref-dotdot": ("refs/heads/main..x", REF, "no git ref can contain '..'"),
    "ref-lock": ("refs/heads/main.lock", REF, "ends with '.lock'"),
    "ref-lock-star": ("refs/heads/*.lock", REF, "ends with '.lock'"),
    "ref-lock-inner": ("refs/heads/x.lock/y", REF, "ends with '.lock'"),
    "ref-leading-dot": ("refs/heads/.hidden", REF, "starts with '.'"),
    "ref-trailing-dot": ("refs/heads/main.", REF, "ends with '.'"),
    "ref-at-brace": ("refs/heads/a@{1}", REF, "braces"),
    "ref-space": ("refs/heads/a b", REF, "no git ref can contain ' '"),
    "ref-tilde": ("refs/heads/a~1", REF, "no git ref can contain '~'"),
    "ref-caret": ("refs/heads/a^", REF, "no git ref can contain '^'"),
    "ref-colon": ("refs/heads/a:b", REF, "no git ref can contain ':'"),
    "ref-newline": ("refs/heads/a\nb", REF, "no git ref can contain '\\n'"),
}


@pytest.mark.parametrize(("pattern", "kind", "message"), BAD.values(), ids=BAD.keys())
def test_bad_globs_are_refused(pattern: str, kind: GlobKind, message: str) -> None:
    with pytest.raises(GlobError, match=re.escape(message)):
        glob_to_regex(pattern, kind)


def test_matching_is_linear_by_construction() -> None:
    """Many ``**`` on a long path: one pass, one cached transition per character class.

    A backtracking regex took 16 s on such input (issue 15, item 11). The matcher reads the
    subject once; new NFA state sets are computed only for (state set, character class) pairs
    not seen before, and there are few of those whatever the subject's length.
    """
    glob = glob_to_regex("**/a/**/b/**/c/**/d/**/e/**/f/**/g/**/h/**/z", PATH)
    moves = 0
    original = glob._move

    def counting(states: frozenset[int], char: str) -> frozenset[int]:
        nonlocal moves
        moves += 1
        return original(states, char)

    glob._move = counting  # type: ignore[method-assign]
    subject = "a/b/c/d/e/f/g/h/" * 20_000 + "y"
    assert glob.matches(subject) is False
    assert glob.matches(subject[:-1] + "z") is True
    assert moves < 200  # vs. len(subject) == 320_001: the rest were dictionary lookups


def test_equal_globs_compare_equal() -> None:
    assert path_glob("deploy/**") == path_glob("deploy/**")
    assert path_glob("deploy/**") != ref_glob("refs/heads/deploy/**")
    assert len({path_glob("a"), path_glob("a")}) == 1


def test_a_huge_automaton_falls_back_to_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past _MAX_DFA learnt states the NFA is simulated: same answers, still linear."""
    monkeypatch.setattr(glob_module, "_MAX_DFA", 2)
    glob = glob_to_regex("a/**/b/**/c", PATH)
    assert glob.matches("a/x/b/y/c")
    assert glob.matches("a/b/c/d")
    assert not glob.matches("a/x/b/y/d")
    assert len(glob._sets) <= 2


def test_a_glob_survives_pickling() -> None:
    glob = path_glob("deploy/**")
    assert glob.matches("deploy/a")
    copy = pickle.loads(pickle.dumps(glob))
    assert copy == glob
    assert copy.matches("deploy/a\nb")
    assert not copy.matches("src/deploy/a")


OVERLAPS = {
    "glob-and-literal": (
        "refs/heads/release/**",
        "refs/heads/release/1.x",
        "refs/heads/release/1.x",
    ),
    "both-literal-differ": ("refs/heads/release/1", "refs/heads/release/2", None),
    "prefix-and-suffix-stars": ("refs/heads/a*", "refs/heads/*b", "refs/heads/ab"),
    "catch-all-and-tag": ("refs/**", "refs/tags/v*", "refs/tags/v"),
    "crossing-stars": ("refs/heads/*/x", "refs/heads/a/*", "refs/heads/a/x"),
    "star-stays-in-segment": ("refs/heads/*", "refs/heads/a/b", None),
    "double-star-empty": ("refs/heads/**/wip", "refs/heads/wip", "refs/heads/wip"),
    "branches-and-tags": ("refs/heads/**", "refs/tags/**", None),
    "question-mark": ("refs/tags/v?", "refs/tags/v10", None),
}


@pytest.mark.parametrize(("one", "other", "shared"), OVERLAPS.values(), ids=OVERLAPS.keys())
def test_overlap_names_a_ref_both_match(one: str, other: str, shared: str | None) -> None:
    found = overlap(ref_glob(one), ref_glob(other))
    assert found == shared
    assert overlap(ref_glob(other), ref_glob(one)) == shared
    if found is not None:
        assert ref_glob(one).matches(found)
        assert ref_glob(other).matches(found)

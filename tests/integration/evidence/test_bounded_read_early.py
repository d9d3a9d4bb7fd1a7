"""Evidence objects read early (ADR 0037): ``start_read_bounded`` then ``read_bounded`` answers
exactly as ``read_bounded`` alone, and never reads an oversized blob.

The hook starts both passes of a push's evidence read before it imports its modules, the second
as it is when every object is a blob within the limit. Over random selections of small blobs,
an oversized blob, a tree, a commit, missing and malformed ids, the early answer equals the
plain one; the second pass started early is taken only when it asked for exactly what the plain
read asks for, and otherwise is ended unread.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twokey._evidence_refs import MAX_ENVELOPE_BYTES, read_bounded, start_read_bounded
from twokey._gitrunner import GitConfig, GitRunner, _started

_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"}


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A bare repository and its objects by kind: small blobs, a big one, a tree, a commit."""
    root = tmp_path_factory.mktemp("bounded")

    def git(*args: str, stdin: bytes = b"") -> str:
        done = subprocess.run(
            ["git", "-C", str(root), *args], input=stdin, capture_output=True, check=True, env=_ENV
        )
        return done.stdout.decode().strip()

    git("init", "-q", "--bare")
    named = {f"small{n}": git("hash-object", "-w", "--stdin", stdin=b"e%d" % n) for n in range(3)}
    named["big"] = git("hash-object", "-w", "--stdin", stdin=b"x" * (MAX_ENVELOPE_BYTES + 1))
    named["tree"] = git("mktree")
    named["commit"] = git(
        "-c",
        "user.name=A",
        "-c",
        "user.email=a@example.com",
        "commit-tree",
        named["tree"],
        "-m",
        "c",
    )
    named["missing"] = "1" * 40
    named["malformed"] = "not-an-id"
    return root, named


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    picks=st.lists(
        st.sampled_from(
            ["small0", "small1", "small2", "big", "tree", "commit", "missing", "malformed"]
        ),
        max_size=6,
    )
)
def test_an_early_read_answers_as_the_plain_read(
    objects: tuple[Path, dict[str, str]], picks: list[str]
) -> None:
    root, named = objects
    oids = [named[p] for p in picks]
    git = GitRunner(root, config=GitConfig.ISOLATED)

    def cat_file(mode: str, stdin: bytes) -> bytes:
        return git.run("cat-file", mode, stdin=stdin)

    plain = read_bounded(cat_file, oids)
    start_read_bounded(lambda mode, stdin: git.start("cat-file", mode, stdin=stdin), oids)
    early = read_bounded(cat_file, oids)
    left = len(_started)
    git.discard_started()
    assert early == plain
    assert all(not info.data for info in early.values() if info.oversized)
    kinds = {p for p in picks if p not in ("malformed",)}
    every_one_small = all(p.startswith("small") for p in kinds)
    assert left == (0 if every_one_small else 1)  # the speculative --batch, ended unread

"""The server's compiled-policy cache: plain JSON in ``$GIT_DIR/twokey/cache``, never pickle."""

from __future__ import annotations

import json

from tests.integration.git._harness import Server, push
from tests.support.gitrepo import ALICE
from twokey.doors import trusted_policy
from twokey.doors._policy_json import decode
from twokey.git import GitReader


def test_the_hook_caches_the_trusted_policy_as_json(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Feature", ALICE)
    assert not push(alice, "HEAD:refs/heads/main").accepted  # judged: the policy was compiled
    cache = server.bare.path / "twokey" / "cache"
    [entry] = list(cache.iterdir())
    assert entry.suffix == ".json"
    cached = decode(json.loads(entry.read_bytes()))
    assert cached == trusted_policy(GitReader(server.bare.path), cached=False).policy
    entry.write_text('{"d": "subprocess:Popen", "f": {"args": "false"}}')  # unreadable: ignored
    assert not push(alice, "HEAD:refs/heads/main").accepted
    assert decode(json.loads(entry.read_bytes())) == cached  # rewritten

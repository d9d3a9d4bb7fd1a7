"""The compiled policy's JSON form: it reads back as the same policy, and builds nothing else."""

from __future__ import annotations

import json

import pytest

from tests.unit.engine.world import POLICY_YAML
from twokey.doors._policy_json import UnsupportedError, decode, encode
from twokey.policy import loads


def test_a_real_policy_reads_back_equal() -> None:
    policy = loads(POLICY_YAML.encode(), "policy.yml")
    data = json.loads(json.dumps(encode(policy), sort_keys=True))  # as the cache writes it
    again = decode(data)
    assert again == policy
    assert again.environments["production"].freeze  # freeze windows (times, zones) included
    assert type(again.principals) is type(policy.principals)


@pytest.mark.parametrize(
    "data",
    [
        {"d": "subprocess:Popen", "f": {"args": "true"}},
        {"d": "os:system", "f": {}},
        {"d": "twokey.policy._loader:loads", "f": {}},  # a function, not a dataclass
        {"e": "twokey.model._decision:Decision", "v": "x"},  # not an enum
        {"d": "twokey.policy._model:Policy.__init__", "f": {}},
        {"x": 1},
        [1, 2],
        1.5,
    ],
    ids=[
        "popen",
        "os-system",
        "a-function",
        "not-an-enum",
        "dotted",
        "unknown-tag",
        "list",
        "float",
    ],
)
def test_anything_else_is_refused(data: object) -> None:
    with pytest.raises(UnsupportedError):
        decode(data)


def test_a_value_without_a_form_is_refused() -> None:
    with pytest.raises(UnsupportedError, match="no JSON form for set"):
        encode({1, 2})

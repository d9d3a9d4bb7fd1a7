"""``POST /v1/evidence`` over real HTTP, on SQLite and PostgreSQL: good envelopes are recorded,
then stored where every door reads them; every bad one is a 4xx naming what is wrong, with
nothing stored and nothing recorded."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from tests.integration.doors._deploys import ARTIFACT
from tests.integration.gateway._api import MAIN, Api, running_api
from tests.integration.git._harness import Keys
from twokey.evidence import sign_approval, sign_provenance
from twokey.ledger import open_ledger


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, keys: Keys
) -> Iterator[Api]:
    """One gateway per engine for the whole module."""
    with running_api(tmp_path_factory.mktemp("evidence"), keys, request.param) as running:
        yield running


def approval(api: Api, commit: str, who: str = "bob", **overrides: str) -> bytes:
    tree = api.world.origin.git("rev-parse", f"{commit}^{{tree}}").strip()
    fields = {"repository": "shop", "ref": MAIN, "commit": commit, "tree": tree, **overrides}
    return sign_approval(api.world.keys.signers[who], when=datetime.now(UTC), **fields)


def evidence_refs(api: Api) -> list[str]:
    out = api.world.origin.git("for-each-ref", "--format=%(refname)", "refs/twokey/")
    return out.split()


def submit(api: Api, data: bytes, token: str | None = None) -> tuple[int, dict[str, object]]:
    with api.gateway.client(api.token if token is None else token) as http:
        answer = http.post(
            "/v1/evidence", content=data, headers={"Content-Type": "application/json"}
        )
    return answer.status_code, answer.json()


def test_an_approval_is_recorded_then_stored_and_counted(api: Api) -> None:
    commit = api.commit("Y")
    envelope = approval(api, commit)
    status, answer = submit(api, envelope)
    assert status == 201, answer
    ref = str(answer["ref"])
    assert ref.startswith(f"refs/twokey/evidence/{commit}/")
    assert answer["signers"] == ["bob"]
    stored = subprocess.run(
        ["git", "-C", str(api.world.origin.path), "cat-file", "blob", ref],
        capture_output=True,
        check=True,
    ).stdout
    assert stored == envelope  # the exact bytes received
    with open_ledger(api.database) as ledger:
        entry = json.loads(ledger.entry(int(str(answer["ledger_index"]))))
    body = entry["body"]
    assert body["ref"] == ref
    assert body["door"] == "gateway-evidence"
    assert base64.b64decode(body["envelope"]) == envelope
    with api.gateway.client(api.token) as http:
        check = http.post(
            "/v1/checks", json={"ref": MAIN, "old": api.commit("X"), "new": commit}
        ).json()
    assert check["verdict"] == "allow", check
    # The same envelope again: the same ref (created, never moved), recorded again.
    again_status, again = submit(api, envelope)
    assert again_status == 201
    assert again["ref"] == ref


def test_provenance_is_filed_under_its_artifact(api: Api) -> None:
    envelope = sign_provenance(
        api.world.keys.signers["ci"],
        artifact=ARTIFACT,
        repository="shop",
        commit=api.commit("Z"),
        when=datetime.now(UTC),
    )
    status, answer = submit(api, envelope)
    assert status == 201, answer
    assert str(answer["ref"]).startswith("refs/twokey/artifacts/" + ARTIFACT.split(":")[1])


def _tampered(envelope: bytes) -> bytes:
    data = json.loads(envelope)
    statement = json.loads(base64.b64decode(data["payload"]))
    statement["predicate"]["comment"] = "changed after signing"
    data["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    return json.dumps(data).encode()


BAD: dict[str, tuple[Callable[[Api], bytes], int, str]] = {
    "unknown signer": (
        lambda api: approval(api, api.commit("Z"), "stranger"),
        422,
        "UNKNOWN_SIGNER",
    ),
    "bad signature": (lambda api: _tampered(approval(api, api.commit("Z"))), 422, "BAD_SIGNATURE"),
    "not json": (lambda api: b"{not json", 400, "MALFORMED_ENVELOPE"),
    "not an envelope": (lambda api: b'{"hello": "world"}', 400, "MALFORMED_ENVELOPE"),
    "wrong repository": (
        lambda api: approval(api, api.commit("Z"), repository="other"),
        422,
        "repository 'other'",
    ),
    "another tree": (
        lambda api: approval(api, api.commit("Z"), tree=api.commit("P")),
        422,
        "SUBJECT_MISMATCH",
    ),
    "empty": (lambda api: b"", 400, "MALFORMED_ENVELOPE"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_evidence_is_refused_naming_why_and_nothing_is_stored(api: Api, case: str) -> None:
    make, expected_status, reason = BAD[case]
    refs = evidence_refs(api)
    with open_ledger(api.database) as ledger:
        size = ledger.size()
    status, answer = submit(api, make(api))
    assert status == expected_status, answer
    assert reason in str(answer["error"]), answer
    assert evidence_refs(api) == refs
    with open_ledger(api.database) as ledger:
        assert ledger.size() == size


def test_evidence_needs_credentials(api: Api) -> None:
    envelope = approval(api, api.commit("Z"))
    refs = evidence_refs(api)
    with api.gateway.client() as http:
        answer = http.post("/v1/evidence", content=envelope)
    assert answer.status_code == 401
    assert submit(api, envelope, token="tk_forged")[0] == 401
    assert evidence_refs(api) == refs


def test_a_huge_envelope_is_413(api: Api) -> None:
    status, answer = submit(api, b"{" + b" " * (2 << 20) + b"}")
    assert status == 413, answer

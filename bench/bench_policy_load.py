"""What loading the trusted policy costs: compiled from YAML, or from the server's JSON cache.

``twokey check`` used to read a pickled compiled policy from ``.git/twokey/cache`` (issue 15
item 6: a job step can plant one). Now clones never read a cache, and the server (the hook)
keeps a JSON form (ADR 0014). This measures, in one run and interleaved so machine load hits
every variant alike, whole processes against ``python -c pass``:

- import the policy package and compile the policy from YAML (clones: check, deploy check),
  with twokey's own YAML reader (ADR 0034) and with ruamel alone (the loader before it);
- import it and read the JSON cache (the hook);
- import it and unpickle (the removed cache, for comparison);

and the same steps in-process with warm imports, plus the YAML parse alone both ways. With
``--instructions`` it also counts each compiling process's instructions with callgrind (the
same on every run, whatever the load of the machine).

Run: ``.venv/bin/python bench/bench_policy_load.py [--rounds 15] [--quick] [--instructions]``
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from ruamel.yaml import YAML

from _bench_env import ENV, instructions  # the bench directory: scripts run from it
from twokey.demo._policy import policy_text
from twokey.doors._policy_json import decode, encode
from twokey.policy import _yaml, loads

NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "ci")


def _policy_bytes() -> bytes:
    keys = {}
    for name in NAMES:
        public = ed25519.Ed25519PrivateKey.generate().public_key()
        line = public.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        keys[name] = line.decode()
    return policy_text(keys).encode()


def _process(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, env=ENV)
    return (time.perf_counter() - start) * 1000


def _ms(call: Any) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def _declined(data: bytes) -> None:
    return None  # _yaml.parse declining every document: the loader before ADR 0034


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="3 rounds (smoke)")
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions (callgrind)"
    )
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    data = _policy_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "policy.yml"
        path.write_bytes(data)
        load = f"from twokey.policy import load; load({str(path)!r})"
        compile_cmd = [sys.executable, "-c", load]
        # the loader before ADR 0034: every document read by ruamel
        ruamel_cmd = [sys.executable, "-c", "import twokey.policy._yaml as y\n"]
        ruamel_cmd[2] += "y.parse = lambda data: None\n" + load
        policy = loads(data, "policy.yml")
        helper = Path(tmp) / "_bench_proxy.py"
        helper.write_text(
            "from types import MappingProxyType\n\n\n"
            "def proxy(items):\n    return MappingProxyType(items)\n"
        )
        sys.path.insert(0, tmp)
        importlib.import_module("_bench_proxy")  # the pickles refer to it

        blob = _pickle(policy)
        cached = Path(tmp) / "policy.pickle"
        cached.write_bytes(blob)
        unpickle_cmd = [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {tmp!r}); import pickle, twokey.policy; "
            f"pickle.loads(open({str(cached)!r}, 'rb').read())",
        ]
        as_json = json.dumps(encode(policy), sort_keys=True)
        cached_json = Path(tmp) / "policy.json"
        cached_json.write_text(as_json)
        json_cmd = [
            sys.executable,
            "-c",
            "import json, twokey.policy; from twokey.doors._policy_json import decode; "
            f"decode(json.loads(open({str(cached_json)!r}).read()))",
        ]
        floor, whole, slow, old, new = [], [], [], [], []
        for _ in range(rounds):
            floor.append(_process([sys.executable, "-c", "pass"]))
            whole.append(_process(compile_cmd))
            slow.append(_process(ruamel_cmd))
            old.append(_process(unpickle_cmd))
            new.append(_process(json_cmd))
        counted = []
        if args.instructions:
            for label, cmd in [
                ("python -c pass", [sys.executable, "-c", "pass"]),
                ("import + compile (twokey's YAML reader)", compile_cmd),
                ("import + compile (ruamel alone)", ruamel_cmd),
            ]:
                counted.append((label, instructions(cmd, ENV)))
    timings: dict[str, list[float]] = {}
    parse = _yaml.parse
    for _ in range(rounds * 4):
        for label, call in [
            ("parse: twokey's YAML reader", lambda: _yaml.parse(data)),
            ("parse: ruamel (rt, pure)", lambda: YAML(typ="rt", pure=True).load(data)),
            ("compile from YAML", lambda: loads(data, "policy.yml")),
            ("read the JSON cache", lambda: decode(json.loads(as_json))),
            ("unpickle (removed)", lambda: pickle.loads(blob)),  # our own bytes
        ]:
            timings.setdefault(label, []).append(_ms(call))
        _yaml.parse = _declined
        try:
            timings.setdefault("compile from YAML, ruamel alone", []).append(
                _ms(lambda: loads(data, "policy.yml"))
            )
        finally:
            _yaml.parse = parse
    med = statistics.median
    print(f"policy: {len(data)} bytes, {rounds} process rounds, {rounds * 4} in-process rounds")
    print(
        f"python -c pass                      {med(floor):7.1f} ms (process, min {min(floor):.1f})"
    )
    for label, times in [
        ("import + compile (own YAML reader)", whole),
        ("import + compile (ruamel alone)", slow),
        ("import + JSON cache (hook)", new),
        ("import + unpickle (removed)", old),
    ]:
        print(
            f"{label:35} {med(times):7.1f} ms (process, +{med(times) - med(floor):.1f} ms over "
            f"python -c pass; min {min(times):.1f})"
        )
    for label, times in timings.items():
        print(f"{label:35} {med(times):8.3f} ms (in-process, min {min(times):.3f})")
    for label, count in counted:
        print(f"instructions {label:40} {count / 1e6:8.1f} M")


class _Pickler(pickle.Pickler):
    """The removed cache's pickler (``mappingproxy`` has no pickle support of its own): it
    rebuilds them with ``_bench_proxy.proxy``, a module written next to the pickle."""

    def reducer_override(self, obj: object) -> Any:
        if isinstance(obj, MappingProxyType):
            return sys.modules["_bench_proxy"].proxy, (dict(obj),)
        return NotImplemented


def _pickle(policy: object) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(policy)
    return buffer.getvalue()


if __name__ == "__main__":
    main()

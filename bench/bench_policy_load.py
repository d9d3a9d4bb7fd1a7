"""What loading the trusted policy costs: compiled from YAML, or from the server's JSON cache.

``twokey check`` used to read a pickled compiled policy from ``.git/twokey/cache`` (issue 15
item 6: a job step can plant one). Now clones never read a cache, and the server (the hook)
keeps a JSON form (ADR 0014). This measures, in one run and interleaved so machine load hits
every variant alike, whole processes against ``python -c pass``:

- import the policy package and compile the policy from YAML (clones: check, deploy check);
- import it and read the JSON cache (the hook);
- import it and unpickle (the removed cache, for comparison);

and the same steps in-process with warm imports.

Run: ``.venv/bin/python bench/bench_policy_load.py [--rounds 15] [--quick]``
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

from twokey.demo._policy import policy_text
from twokey.doors._policy_json import decode, encode
from twokey.policy import loads

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
    subprocess.run(args, check=True)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="3 rounds (smoke)")
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    data = _policy_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "policy.yml"
        path.write_bytes(data)
        compile_cmd = [
            sys.executable,
            "-c",
            f"from twokey.policy import load; load({str(path)!r})",
        ]
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
        floor, whole, old, new = [], [], [], []
        for _ in range(rounds):
            floor.append(_process([sys.executable, "-c", "pass"]))
            whole.append(_process(compile_cmd))
            old.append(_process(unpickle_cmd))
            new.append(_process(json_cmd))
    compiled, unpickled, decoded = [], [], []
    for _ in range(rounds * 4):
        start = time.perf_counter()
        loads(data, "policy.yml")
        compiled.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        pickle.loads(blob)  # our own bytes, for comparison only
        unpickled.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        decode(json.loads(as_json))
        decoded.append((time.perf_counter() - start) * 1000)
    med = statistics.median
    print(f"policy: {len(data)} bytes, {rounds} process rounds, {rounds * 4} in-process rounds")
    print(f"python -c pass                      {med(floor):7.1f} ms (process)")
    print(f"import loader + compile from YAML   {med(whole):7.1f} ms (process)")
    print(f"  -> added over python -c pass      {med(whole) - med(floor):7.1f} ms")
    print(f"import loader + JSON cache (hook)   {med(new):7.1f} ms (process)")
    print(f"  -> what the JSON cache saves      {med(whole) - med(new):7.1f} ms")
    print(f"import loader + unpickle (removed)  {med(old):7.1f} ms (process)")
    print(f"  -> what the pickle cache saved    {med(whole) - med(old):7.1f} ms")
    print(f"compile from YAML (warm imports)    {med(compiled):7.2f} ms (in-process)")
    print(f"read the JSON cache                 {med(decoded):7.3f} ms (in-process)")
    print(f"unpickle a compiled policy          {med(unpickled):7.3f} ms (in-process, removed)")


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

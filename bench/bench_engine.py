"""Engine benchmark: one realistic ref update, evaluated many times in-process.

20 commits, 3 co-authors, 5 approvals, 200 people, 40 groups, 30 branch and path rules.
Reports the median and p99 per decision, decisions per second, and, separately, the cost of
loading and compiling the policy (done once and cached in the doors).

    .venv/bin/python bench/bench_engine.py            # full run
    .venv/bin/python bench/bench_engine.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from twokey.engine import evaluate
from twokey.model import Alias, Approval, Change, CheckResult, Commit, Ident, RefUpdateFacts
from twokey.policy import Policy, loads

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PEOPLE = 200
GROUPS = 40


def pub(name: str) -> str:
    seed = hashlib.sha256(name.encode()).digest()
    key = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()


def policy_text() -> str:
    people = "".join(f'  p{i}: {{emails: [p{i}@example.com], keys: ["{pub(f"p{i}")}"]}}\n'
                     for i in range(PEOPLE))
    groups = "".join(f"  g{g}: [{', '.join(f'p{i}' for i in range(g * 5, g * 5 + 10))}]\n"
                     for g in range(GROUPS - 1))
    groups += "  reviewers: [" + ", ".join(f"g{g}" for g in range(0, 20)) + "]\n"
    branches = "".join(f"  release/{r}:\n    approvals: 2\n    approvers: [reviewers]\n"
                       for r in range(19))
    owners = "".join(f'      "svc{o}/**": {{approvals: 1, approvers: [g{o}]}}\n' for o in range(10))
    return (f"version: 1\npeople:\n{people}services:\n  ci: {{keys: [\"{pub('ci')}\"]}}\n"
            f"groups:\n{groups}branches:\n{branches}  main:\n    approvals: 5\n"
            "    approvers: [reviewers]\n    checks: {require: [tests], signers: [ci]}\n"
            f"    owners:\n{owners}policy_changes: {{approvals: 2, approvers: [g0]}}\n")


def facts() -> RefUpdateFacts:
    commits = []
    parent = "0" * 40
    for i in range(20):
        sha = hashlib.sha1(f"c{i}".encode()).hexdigest()  # noqa: S324 - ids
        author = Ident(f"P{100 + i % 5}", f"p{100 + i % 5}@example.com")
        co = tuple(Ident(f"P{150 + j}", f"p{150 + j}@example.com") for j in range(3)) if i == 3 else ()
        commits.append(Commit(sha, hashlib.sha1(f"t{i}".encode()).hexdigest(), (parent,),  # noqa: S324
                              author, author, co, "", (f"svc{i % 3}/x.py",)))
        parent = sha
    head = commits[-1]
    change = Change("example.com/shop", "refs/heads/main", "f" * 40, head.sha, head.tree,
                    tuple(commits), True, tuple(sorted({p for c in commits for p in c.paths})))
    approvals = tuple(Approval("example.com/shop", "refs/heads/main", head.sha, head.tree,
                               Alias.key(pub(f"p{i}")), NOW) for i in (1, 2, 3, 6, 11))
    check = CheckResult("tests", "example.com/shop", head.tree, True, Alias.key(pub("ci")), NOW)
    return RefUpdateFacts(change, approvals, (check,))


def measure(policy: Policy, item: RefUpdateFacts, rounds: int) -> list[int]:
    for _ in range(min(rounds, 500)):
        evaluate(policy, item, NOW)  # warm up
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        evaluate(policy, item, NOW)
        samples.append(time.perf_counter_ns() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 500 if args.quick else 20_000
    text = policy_text()
    loads_ns = []
    for _ in range(3 if args.quick else 10):
        start = time.perf_counter_ns()
        policy = loads(text, "bench.yml")
        loads_ns.append(time.perf_counter_ns() - start)
    item = facts()
    decision = evaluate(policy, item, NOW)
    assert decision.allowed, decision
    samples = sorted(measure(policy, item, rounds))
    median = statistics.median(samples) / 1000
    p99 = samples[int(len(samples) * 0.99) - 1] / 1000
    print(f"policy: {PEOPLE} people, {GROUPS} groups, {len(policy.refs)} ref rules + "
          f"{sum(len(r.owners) for r in policy.refs)} path rules; change: 20 commits, "
          f"3 co-authors, 5 approvals")
    print(f"evaluate: median {median:.1f} us, p99 {p99:.1f} us, "
          f"{1e6 / median:,.0f} decisions/s ({rounds} runs)")
    print(f"policy load+compile: median {statistics.median(loads_ns) / 1e6:.1f} ms")


if __name__ == "__main__":
    main()

"""Engine benchmark: one realistic ref update, evaluated many times in-process.

The workload (DESIGN's "realistic ref update"): a policy of 200 people, 40 groups and 30 branch
and path rules (20 ref rules, 10 owner globs on main); a change of 20 commits by 5 authors with
3 co-authors, touching 3 owned directories; 5 signed approvals and a signed CI check result.
It reports the median and p99 of ``time.perf_counter_ns`` per ``evaluate`` call, decisions per
second, and, separately, the cost of loading and compiling the policy (done once per policy
blob by the doors, see ``twokey.policy.load_cached``).

    .venv/bin/python bench/bench_engine.py            # full run (20,000 decisions)
    .venv/bin/python bench/bench_engine.py --quick    # smoke run, used by the test suite
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
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
REPO = "example.com/shop"
MAIN = "refs/heads/main"
BUDGET_US = 25.0  # the target for the median on a quiet machine (issue 10; docs/engine.md)


def pub(name: str) -> str:
    """A deterministic Ed25519 OpenSSH public key for ``name``."""
    seed = hashlib.sha256(name.encode()).digest()
    key = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()


def oid(label: str) -> str:
    """A well-formed fake git object id."""
    return hashlib.sha256(label.encode()).hexdigest()[:40]


def policy_text() -> str:
    """The policy file: 200 people, 40 groups, 20 ref rules, 10 owner rules."""
    people = "".join(
        f'  p{i}: {{emails: [p{i}@example.com], keys: ["{pub(f"p{i}")}"]}}\n' for i in range(PEOPLE)
    )
    groups = "".join(
        f"  g{g}: [{', '.join(f'p{i}' for i in range(g * 5, g * 5 + 10))}]\n"
        for g in range(GROUPS - 1)
    )
    groups += "  reviewers: [" + ", ".join(f"g{g}" for g in range(20)) + "]\n"
    branches = "".join(
        f"  release/{r}:\n    approvals: 2\n    approvers: [reviewers]\n" for r in range(19)
    )
    owners = "".join(f'      "svc{o}/**": {{approvals: 1, approvers: [g{o}]}}\n' for o in range(10))
    return (
        f'version: 1\npeople:\n{people}services:\n  ci: {{keys: ["{pub("ci")}"]}}\n'
        f"groups:\n{groups}branches:\n{branches}  main:\n    approvals: 5\n"
        "    approvers: [reviewers]\n    checks: {require: [tests], signers: [ci]}\n"
        f"    owners:\n{owners}policy_changes: {{approvals: 2, approvers: [g0]}}\n"
    )


def facts() -> RefUpdateFacts:
    """20 commits by p100..p104 (3 co-authors on one), 5 approvals, a passing check."""
    commits: list[Commit] = []
    parent = oid("base")
    for i in range(20):
        author = Ident(f"P{100 + i % 5}", f"p{100 + i % 5}@example.com")
        co_authors = (
            tuple(Ident(f"P{150 + j}", f"p{150 + j}@example.com") for j in range(3))
            if i == 3
            else ()
        )
        paths = (f"svc{i % 3}/x.py",)
        commit = Commit(
            oid(f"c{i}"), oid(f"t{i}"), (parent,), author, author, co_authors, "", paths
        )
        commits.append(commit)
        parent = commit.sha
    head = commits[-1]
    touched = tuple(sorted({p for c in commits for p in c.paths}))
    change = Change(REPO, MAIN, oid("base"), head.sha, head.tree, tuple(commits), True, touched)
    approvals = tuple(
        Approval(REPO, MAIN, head.sha, head.tree, Alias.key(pub(f"p{i}")), NOW, evidence_id=f"a{i}")
        for i in (1, 2, 3, 6, 11)
    )
    check = CheckResult("tests", REPO, head.tree, True, Alias.key(pub("ci")), NOW)
    return RefUpdateFacts(change, approvals, (check,))


def measure(policy: Policy, item: RefUpdateFacts, rounds: int) -> list[int]:
    """Nanoseconds per ``evaluate`` call, one sample per call, after a warm-up."""
    for _ in range(min(rounds, 1000)):
        evaluate(policy, item, NOW)
    samples = []
    clock = time.perf_counter_ns
    for _ in range(rounds):
        start = clock()
        evaluate(policy, item, NOW)
        samples.append(clock() - start)
    return samples


def calibrate() -> float:
    """Microseconds for ``sum(range(1000))``: how fast (and how busy) this machine is."""
    best = []
    for _ in range(5):
        start = time.perf_counter_ns()
        for _ in range(200):
            sum(range(1000))
        best.append((time.perf_counter_ns() - start) / 200 / 1000)
    return min(best)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one results block (exit 0; 1 if the decision is wrong)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--rounds", type=int, default=20_000, help="decisions to time")
    args = parser.parse_args(argv)
    rounds = 300 if args.quick else args.rounds
    text = policy_text()
    loads_ns = []
    for _ in range(1 if args.quick else 10):
        start = time.perf_counter_ns()
        policy = loads(text, "bench.yml")
        loads_ns.append(time.perf_counter_ns() - start)
    item = facts()
    decision = evaluate(policy, item, NOW)
    if not decision.allowed or decision.findings:
        print(f"unexpected decision: {decision}", file=sys.stderr)
        return 1
    samples = sorted(measure(policy, item, rounds))
    median = statistics.median(samples) / 1000
    p99 = samples[max(0, int(len(samples) * 0.99) - 1)] / 1000
    rules = len(policy.refs) + sum(len(r.owners) for r in policy.refs)
    print(
        f"workload: {PEOPLE} people, {len(policy.groups)} groups, {rules} branch and path rules; "
        f"20 commits, 3 co-authors, 5 approvals ({len(text):,} policy bytes)"
    )
    print(
        f"evaluate: median {median:.1f} us, p99 {p99:.1f} us, {1e6 / median:,.0f} decisions/s "
        f"({rounds:,} calls; budget {BUDGET_US:.0f} us median)"
    )
    print(f"policy load+compile: median {statistics.median(loads_ns) / 1e6:.1f} ms")
    print(f"machine: sum(range(1000)) takes {calibrate():.1f} us here (an idle 2023 laptop: ~7 us)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

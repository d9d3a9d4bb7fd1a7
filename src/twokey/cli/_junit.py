"""JUnit XML test reports (any test runner writes them): did the tests pass?

A report passes only when at least one test ran (neither skipped nor absent), no test failed
and no test errored. Both what the test cases say and the suites' own counters are read, and
either showing a failure or an error fails the report: a file that says ``failures="0"`` while
it holds a ``<failure>`` is not believed, nor the other way round. Documents with a DTD or
entities are refused before parsing (a JUnit report has none; entity tricks are an attack).
"""

from __future__ import annotations

__all__ = ["JUnitSummary", "read_junit"]

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from twokey.errors import UsageError

MAX_BYTES = 64 * 1024 * 1024  # far above any real report; a bigger file is refused


@dataclass(frozen=True)
class JUnitSummary:
    """What a report says: tests, failures, errors, skipped (from cases and counters)."""

    tests: int
    failures: int
    errors: int
    skipped: int

    @property
    def passed(self) -> bool:
        """At least one test ran, and none failed or errored."""
        return self.tests - self.skipped > 0 and self.failures == 0 and self.errors == 0

    def describe(self) -> str:
        """One line for the output."""
        return (
            f"{self.tests} test(s), {self.failures} failure(s), {self.errors} error(s), "
            f"{self.skipped} skipped"
        )


def read_junit(path: Path) -> JUnitSummary:
    """Read a JUnit XML file (``<testsuites>`` or a single ``<testsuite>``).

    Raises:
        UsageError: unreadable, too big, not XML, a DTD or entity, or not a JUnit report.
    """
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"--junit {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_BYTES:
        raise UsageError(f"--junit {path}: larger than {MAX_BYTES // 2**20} MiB")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise UsageError(f"--junit {path}: a DTD or entity declaration (refused)")
    try:
        root = ET.fromstring(data)  # noqa: S314 - no DTD or entity, checked above
    except ET.ParseError as exc:
        raise UsageError(f"--junit {path}: not XML ({exc})") from exc
    if root.tag not in ("testsuites", "testsuite"):
        raise UsageError(f"--junit {path}: not a JUnit report (root <{root.tag}>)")
    return _summary(root, path)


def _summary(root: ET.Element, path: Path) -> JUnitSummary:
    cases = list(root.iter("testcase"))
    from_cases = JUnitSummary(
        len(cases),
        sum(1 for c in cases if c.find("failure") is not None),
        sum(1 for c in cases if c.find("error") is not None),
        sum(1 for c in cases if c.find("skipped") is not None),
    )
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counted = [sum(_counter(s, name, path) for s in suites) for name in ("failures", "errors")]
    return JUnitSummary(
        from_cases.tests,
        max(from_cases.failures, counted[0]),
        max(from_cases.errors, counted[1]),
        from_cases.skipped,
    )


def _counter(suite: ET.Element, name: str, path: Path) -> int:
    text = suite.get(name, "0").strip() or "0"
    if not text.isdigit():
        raise UsageError(f"--junit {path}: <testsuite {name}={text!r}> is not a count")
    return int(text)

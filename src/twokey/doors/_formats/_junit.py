"""JUnit XML: one test suite, one test case per ref update; each deny finding is a failure."""

from __future__ import annotations

__all__ = ["render_junit"]

from xml.etree import ElementTree as ET

from twokey.doors._formats._report import Report
from twokey.model import Severity


def render_junit(report: Report) -> str:
    """``<testsuites><testsuite name="twokey">`` with a ``<testcase>`` per ref update."""
    failures = sum(1 for j in report.judgements if not j.decision.allowed)
    suites = ET.Element("testsuites", name="twokey")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"twokey {report.repository}".strip(),
        tests=str(len(report.judgements)),
        failures=str(failures),
        errors="0",
    )
    for j in report.judgements:
        case = ET.SubElement(
            suite, "testcase", classname="twokey.refs", name=j.decision.subject or j.update.ref
        )
        denies = [f for f in j.decision.findings if f.severity is Severity.DENY]
        for finding in denies:
            failure = ET.SubElement(
                case, "failure", type=finding.code.value, message=finding.message
            )
            failure.text = f"{finding.message}\nto satisfy: {finding.satisfy}" + (
                f"\nrule: {finding.rule}" if finding.rule else ""
            )
        others = [f for f in j.decision.findings if f.severity is not Severity.DENY]
        if others:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(f"{f.code.value}: {f.message}" for f in others)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")

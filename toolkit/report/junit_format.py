"""JUnit XML, for CI dashboards: a testsuite per check category (per account, in a report over several
accounts), a testcase per check and resource.

FAIL is a <failure>, ERROR (could not read) an <error>, a waived finding <skipped> with its reason.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # builds XML only; nothing here parses untrusted input
from itertools import groupby
from typing import Any

from toolkit.findings import Finding, Report, Status

# Characters XML 1.0 cannot hold at all, even escaped: an error message from AWS could carry one.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str:
    return _NOT_XML.sub("\ufffd", "" if value is None else str(value))


def _detail(finding: Finding) -> str:
    lines = [finding.message]
    if finding.expected is not None or finding.actual is not None:
        lines += [f"expected: {finding.expected}", f"actual:   {finding.actual}"]
    if finding.region:
        lines.append(f"region: {finding.region}")
    lines += ["", f"remediation: {finding.check.remediation}", "", "config.yaml:", finding.check.config_fix]
    return "\n".join(lines)


def _case(suite: ET.Element, finding: Finding, classname: str) -> str:
    case = ET.SubElement(suite, "testcase", classname=_text(classname), name=_text(finding.resource), time="0")
    attrs = {"message": _text(finding.message), "type": finding.severity.label}
    if finding.waiver is not None:
        w = finding.waiver
        reason = f"waived until {w.expires} by {w.owner}: {w.reason}"
        ET.SubElement(case, "skipped", message=_text(reason))
        return "skipped"
    if finding.status is Status.FAIL:
        ET.SubElement(case, "failure", attrs).text = _text(_detail(finding))
        return "failures"
    if finding.status is Status.ERROR:
        ET.SubElement(case, "error", attrs).text = _text(_detail(finding))
        return "errors"
    return "passed"


def render(report: Report) -> str:
    root = ET.Element("testsuites", name=_text(f"cargohold {report.command}"), time=f"{report.duration_s:.3f}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    groups: list[tuple[str, str, str, str | None, list[Finding]]]
    if report.scopes:
        groups = [
            (f"{report.command}.{s.name}", s.name, s.region, s.account, found)
            for s, found in report.by_scope()
            if s is not None
        ]
    else:
        findings = sorted(report.findings, key=lambda f: (f.check.category, f.check.id, f.resource))
        groups = [
            (f"{report.command}.{category}", report.environment, report.region, report.account, list(group))
            for category, group in groupby(findings, key=lambda f: f.check.category)
        ]
    for name, environment, region, account, group in groups:
        suite = ET.SubElement(root, "testsuite", name=_text(name))
        props = ET.SubElement(suite, "properties")
        for prop, said in (("project", report.project), ("environment", environment), ("region", region)):
            ET.SubElement(props, "property", name=prop, value=_text(said))
        ET.SubElement(props, "property", name="account", value=_text(account or ""))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "passed": 0}
        for finding in sorted(group, key=lambda f: (f.check.category, f.check.id, f.resource)):
            counts["tests"] += 1
            counts[_case(suite, finding, f"{report.project}.{environment}.{finding.check.id}")] += 1
        for key in totals:
            suite.set(key, str(counts[key]))
            totals[key] += counts[key]
        suite.set("timestamp", _text(report.started_at))
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

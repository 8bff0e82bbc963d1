"""SARIF 2.1.0, for code-scanning dashboards (GitHub, Azure DevOps): one run, a rule per check.

Results are the FAIL and ERROR findings; waived ones carry a suppression with the waiver's reason.
An ERROR (the check could not read what it needed) is not a failure: SARIF calls that kind "open",
whose level must be "none" (§3.27.10), so it is also raised as a tool notification at level error
and the invocation is marked unsuccessful.
"""

from __future__ import annotations

import json
from typing import Any

from toolkit.findings import Check, Finding, Report, Severity, Status

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
CONFIG_URI = "config.yaml"  # every AWS setting cargohold checks is declared there

LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning ranks alerts by this CVSS-like score: critical > 9.0, high 7.0-8.9, medium 4.0-6.9, low < 4.
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"}


def _help(check: Check) -> dict[str, str]:
    text = f"{check.remediation}\n\nFix in config.yaml:\n{check.config_fix}"
    markdown = f"{check.remediation}\n\n**Fix in config.yaml:**\n\n```yaml\n{check.config_fix}\n```"
    return {"text": text, "markdown": markdown}


def _rule(check: Check) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "tags": [check.category, check.service],
        "precision": "very-high",
        "problem.severity": {"error": "error", "warning": "warning", "note": "recommendation"}[LEVEL[check.severity]],
        "severity": check.severity.label,
        "permissions": list(check.permissions),
        "security_hub": list(check.security_hub),
        "checkov": list(check.checkov),
    }
    if check.severity in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[check.severity]
    if check.category == "security" and "security" not in properties["tags"]:
        properties["tags"].append("security")
    return {
        "id": check.id,
        "name": "".join(part.capitalize() for part in check.id.replace("-", ".").split(".")),
        "shortDescription": {"text": check.title},
        "fullDescription": {"text": f"{check.title}. {check.remediation}"},
        "help": _help(check),
        "defaultConfiguration": {"level": LEVEL[check.severity]},
        "properties": properties,
    }


def _result(finding: Finding, index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.check.id,
        "ruleIndex": index,
        "message": {"text": f"{finding.resource}: {finding.message}"},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": CONFIG_URI, "uriBaseId": "%SRCROOT%"}},
                "logicalLocations": [
                    {"name": finding.resource, "fullyQualifiedName": finding.resource, "kind": "resource"}
                ],
            }
        ],
        "partialFingerprints": {"cargohold/v1": finding.fingerprint},
        "properties": {"severity": finding.severity.label, "status": finding.status.value, "region": finding.region},
    }
    if finding.status is Status.FAIL:
        result.update(kind="fail", level=LEVEL[finding.severity])
    else:
        result.update(kind="open", level="none")
    if finding.expected is not None or finding.actual is not None:
        result["properties"].update(expected=finding.expected, actual=finding.actual)
    if finding.details:
        result["properties"]["details"] = finding.details
    if finding.account is not None:  # a report over several accounts
        result["properties"].update(account=finding.account, environment=finding.environment)
    if finding.waiver is not None:
        w = finding.waiver
        result["suppressions"] = [
            {
                "kind": "external",  # kept in cargohold-waivers.yaml, not in the scanned file
                "status": "accepted",
                "justification": w.reason,
                "properties": {"owner": w.owner, "expires": w.expires, "resource_pattern": w.resource},
            }
        ]
    return result


def to_sarif(report: Report) -> dict[str, Any]:
    # One rule per check id, in catalogue order; a finding of an unlisted check still needs its rule.
    unique: dict[str, Check] = {}
    for check in [*report.checks, *(f.check for f in report.findings)]:
        unique.setdefault(check.id, check)
    checks = list(unique.values())
    index = {c.id: i for i, c in enumerate(checks)}
    shown = [f for f in report.findings if f.status is not Status.PASS]
    unknown = [f for f in shown if f.status is Status.ERROR and f.waiver is None]
    invocation: dict[str, Any] = {
        "executionSuccessful": not unknown,
        "startTimeUtc": report.started_at,
        "toolExecutionNotifications": [
            {
                "level": "error",
                "message": {"text": f"{f.check.id} could not check {f.resource}: {f.message}"},
                "associatedRule": {"id": f.check.id, "index": index[f.check.id]},
            }
            for f in unknown
        ],
    }
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "cargohold",
                        "version": report.tool_version,
                        "rules": [_rule(c) for c in checks],
                    }
                },
                "automationDetails": {"id": f"cargohold/{report.command}/{report.project}/{report.environment}/"},
                "invocations": [invocation],
                "results": [_result(f, index[f.check.id]) for f in shown],
                "properties": {
                    "command": report.command,
                    "project": report.project,
                    "environment": report.environment,
                    "region": report.region,
                    "account": report.account,
                    "summary": report.counts(),
                    **({"accounts": [sc.to_json() for sc in report.scopes]} if report.scopes else {}),
                },
            }
        ],
    }


def render(report: Report) -> str:
    return json.dumps(to_sarif(report), indent=2, default=str) + "\n"

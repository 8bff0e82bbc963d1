"""AWS Security Finding Format (ASFF, schema 2018-10-08): a JSON array of findings as
`securityhub:BatchImportFindings` takes them, one per finding (passes too: a PASSED record is how
Security Hub learns that an earlier failure is fixed).

The findings come from cargohold's custom integration, the account's own default product
(`arn:<partition>:securityhub:<region>:<account>:product/<account>/default`), so each must be imported
with credentials of its own account (`AwsAccountId`), in its environment's region (the ProductArn's), at most
100 per call. For one account:

    jq -c 'map(select(.AwsAccountId == "123456789012")) | range(0; length; 100) as $i | .[$i:$i+100]' \
        audit.asff.json | split -l 1 - batch-
    for f in batch-*; do aws securityhub batch-import-findings --region eu-west-1 --findings "file://$f"; done

(each answer's FailedCount should be 0; FailedFindings says why not).

Mapping:
- Compliance.Status: PASS is PASSED (Security Hub then sets the workflow of an earlier failure to RESOLVED),
  FAIL is FAILED, ERROR is WARNING. An ERROR means the check could not read what it needed, so the answer is
  unknown, which is what Security Hub's user guide says WARNING is ("can't determine whether the resource is
  in a PASSED or FAILED state"), and what it reports itself when AWS Config is denied (CONFIG_ACCESS_DENIED).
  NOT_AVAILABLE is what Security Hub gives a check that does not apply or a resource that was deleted, and it
  archives such findings: an unknown must stay in view.
- Severity.Label is the check's severity (info is INFORMATIONAL), except for a PASS, which is INFORMATIONAL
  (the API reference: "INFORMATIONAL - No issue was found"), so that a passed check is never counted among the
  HIGH findings; Severity.Original keeps the check's severity either way. An ERROR keeps the check's severity:
  the unknown may be a failure of that weight.
- A waived finding keeps its verdict and is ACTIVE, with Workflow.Status SUPPRESSED and a Note holding the
  waiver. Security Hub takes Workflow and Note only when it first imports a finding (later imports cannot
  change them); the waiver is also in ProductFields, which every import updates.
- The Id is the same for the same check, resource and account across runs, and whether the account was
  audited alone or with others; ProductFields carry cargohold's own fingerprint of the report it came from.
- Compliance.SecurityControlId is the check's first Security Hub control id; RelatedRequirements lists them all.
"""

from __future__ import annotations

import json
from typing import Any

from cargohold_core.errors import CargoholdError
from toolkit.findings import Finding, Report, Severity, Status
from toolkit.report.security_finding import (
    PRODUCT,
    Where,
    aws_resource,
    clip,
    description,
    finding_types,
    one_line,
    rfc3339,
    uid,
    utc,
    where,
)

SCHEMA_VERSION = "2018-10-08"
BATCH_LIMIT = 100  # findings per BatchImportFindings call

LABEL = {
    Severity.INFO: "INFORMATIONAL",
    Severity.LOW: "LOW",
    Severity.MEDIUM: "MEDIUM",
    Severity.HIGH: "HIGH",
    Severity.CRITICAL: "CRITICAL",
}
COMPLIANCE = {Status.PASS: "PASSED", Status.FAIL: "FAILED", Status.ERROR: "WARNING"}

# The limits AWS documents for AwsSecurityFinding (the botocore model holds them in its documentation).
TITLE_MAX, DESCRIPTION_MAX, RECOMMENDATION_MAX, NOTE_MAX = 256, 1024, 512, 512
FIELD_VALUE_MAX = 2048


def product_arn(at: Where, account: str) -> str:
    return f"arn:{at.partition}:securityhub:{at.region}:{account}:product/{account}/default"


def _product_fields(report: Report, finding: Finding, at: Where) -> dict[str, str]:
    check = finding.check
    fields = {
        "ProviderName": PRODUCT,
        "ProviderVersion": report.tool_version,
        "cargohold/Command": report.command,
        "cargohold/Project": report.project,
        "cargohold/Environment": at.environment,
        "cargohold/CheckId": check.id,
        "cargohold/Category": check.category,
        "cargohold/Status": finding.status.value,
        "cargohold/Fingerprint": finding.fingerprint,
        "cargohold/Resource": finding.resource,
        "cargohold/ConfigFix": check.config_fix,
    }
    if check.checkov:
        fields["cargohold/Checkov"] = ",".join(check.checkov)
    if finding.waiver is not None:
        w = finding.waiver
        fields |= {
            "cargohold/WaiverReason": w.reason,
            "cargohold/WaiverOwner": w.owner,
            "cargohold/WaiverExpires": w.expires,
        }
    return {key: clip(value, FIELD_VALUE_MAX) for key, value in fields.items() if value.strip()}


def to_asff(report: Report, finding: Finding) -> dict[str, Any]:
    at = where(report, finding)
    if not at.account:
        raise CargoholdError(
            f"an ASFF finding needs its AWS account id, and this {report.command} report does not know it "
            "(the credentials did not work, or cost ran on --usage)",
            hint="run it with credentials for the account, or use --format json",
        )
    check, resource = finding.check, aws_resource(finding, at)
    when = rfc3339(utc(report.started_at))
    label = "INFORMATIONAL" if finding.status is Status.PASS else LABEL[check.severity]
    severity = {"Label": label, "Original": check.severity.label}
    types = finding_types(check)
    compliance: dict[str, Any] = {"Status": COMPLIANCE[finding.status]}
    if check.security_hub:
        compliance |= {"SecurityControlId": check.security_hub[0], "RelatedRequirements": list(check.security_hub)}
    out: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": uid(finding, at.account),
        "ProductArn": product_arn(at, at.account),
        "ProductName": PRODUCT,
        "CompanyName": PRODUCT,
        "GeneratorId": f"{PRODUCT}/{check.id}",
        "AwsAccountId": at.account,
        "Types": types,
        "CreatedAt": when,
        "UpdatedAt": when,
        "LastObservedAt": when,
        "Severity": severity,
        "Title": clip(one_line(f"{check.title}: {resource.name}"), TITLE_MAX),
        "Description": clip(description(finding), DESCRIPTION_MAX),
        "Remediation": {"Recommendation": {"Text": clip(check.remediation, RECOMMENDATION_MAX)}},
        "ProductFields": _product_fields(report, finding, at),
        "Resources": [
            {"Type": resource.type, "Id": resource.id, "Partition": resource.partition, "Region": resource.region}
        ],
        "Compliance": compliance,
        "RecordState": "ACTIVE",
        "FindingProviderFields": {"Severity": dict(severity), "Types": list(types)},
    }
    if finding.waiver is not None:
        w = finding.waiver
        out["Workflow"] = {"Status": "SUPPRESSED"}
        note = f"Waived until {w.expires} by {w.owner}: {w.reason}"
        out["Note"] = {"Text": clip(note, NOTE_MAX), "UpdatedBy": clip(w.owner, 512), "UpdatedAt": when}
    return out


def to_findings(report: Report) -> list[dict[str, Any]]:
    return [to_asff(report, f) for f in report.findings]


def render(report: Report) -> str:
    return json.dumps(to_findings(report), indent=2) + "\n"

"""OCSF 1.5.0 Detection Finding events (class_uid 2004, category 2 Findings), a JSON array with one event per
finding, the class and shape prowler's OCSF output uses (it builds its events with py-ocsf-models, which the
tests read ours back with).

Mapping:
- activity Create (1), so type_uid 200401 (class_uid * 100 + activity_id).
- status_code is the verdict, PASS, FAIL or ERROR (prowler writes PASS/FAIL; ERROR is cargohold's "could not
  read", never a PASS); status_detail is the finding's message.
- status_id is New (1), or Suppressed (3) for a waived finding, whose waiver is in unmapped.waiver.
- severity_id is the check's severity (info 1 Informational, low 2, medium 3, high 4, critical 5), except for a
  PASS, which is Informational ("no action required"), as in the ASFF format; unmapped.check_severity keeps the
  check's own.
- time, time_dt and finding_info.created_time are the run's start (OCSF timestamps are milliseconds since the
  epoch); finding_info.uid is the same stable id as the ASFF finding's Id.
- cloud.account is the finding's own account (each its scope's in a report over several accounts), left out
  when the report does not know it (credentials failed, or cost on --usage).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from toolkit.findings import Finding, Report, Severity, Status
from toolkit.report.security_finding import PRODUCT, aws_resource, description, finding_types, rfc3339, uid, utc, where

OCSF_VERSION = "1.5.0"
CATEGORY_UID, CATEGORY_NAME = 2, "Findings"
CLASS_UID, CLASS_NAME = 2004, "Detection Finding"
ACTIVITY_CREATE = 1
ACTIVITY_NAME = "Create"
TYPE_UID = CLASS_UID * 100 + ACTIVITY_CREATE

# severity_id -> caption, as OCSF defines them (0 Unknown, 6 Fatal and 99 Other are not used here).
SEVERITY_ID = {Severity.INFO: 1, Severity.LOW: 2, Severity.MEDIUM: 3, Severity.HIGH: 4, Severity.CRITICAL: 5}
SEVERITY_CAPTION = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
STATUS_NEW, STATUS_SUPPRESSED = 1, 3
STATUS_CAPTION = {STATUS_NEW: "New", STATUS_SUPPRESSED: "Suppressed"}
STATUS_CODE = {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.ERROR: "ERROR"}
ACCOUNT_TYPE_ID, ACCOUNT_TYPE = 10, "AWS Account"


def _unmapped(report: Report, finding: Finding, environment: str) -> dict[str, Any]:
    check = finding.check
    out: dict[str, Any] = {
        "command": report.command,
        "project": report.project,
        "environment": environment,
        "fingerprint": finding.fingerprint,
        "category": check.category,
        "service": check.service,
        "check_severity": check.severity.label,
        "security_hub": list(check.security_hub),
        "checkov": list(check.checkov),
        "config_fix": check.config_fix,
    }
    if finding.expected is not None or finding.actual is not None:
        out |= {"expected": finding.expected, "actual": finding.actual}
    if finding.details:
        out["details"] = finding.details
    if finding.waiver is not None:
        out["waiver"] = finding.waiver.to_json()
    return out


def to_ocsf(report: Report, finding: Finding) -> dict[str, Any]:
    at = where(report, finding)
    check, resource = finding.check, aws_resource(finding, at)
    moment = utc(report.started_at)
    millis, when = int(moment.timestamp() * 1000), rfc3339(moment)
    finding_uid = uid(finding, at.account)
    severity_id = SEVERITY_ID[Severity.INFO if finding.status is Status.PASS else check.severity]
    status_id = STATUS_SUPPRESSED if finding.waiver is not None else STATUS_NEW
    resource_uid = (
        f"arn:{resource.partition}:iam::{resource.name}:root" if resource.type == "AwsAccount" else resource.id
    )
    cloud: dict[str, Any] = {"provider": "AWS", "region": at.region}
    if at.account:
        cloud["account"] = {"uid": at.account, "type": ACCOUNT_TYPE, "type_id": ACCOUNT_TYPE_ID, "name": at.environment}
    return {
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": PRODUCT, "vendor_name": PRODUCT, "uid": PRODUCT, "version": report.tool_version},
            "event_code": check.id,
            "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{finding_uid}@{when}")),
            "profiles": ["cloud", "datetime"],
        },
        "time": millis,
        "time_dt": when,
        "category_uid": CATEGORY_UID,
        "category_name": CATEGORY_NAME,
        "class_uid": CLASS_UID,
        "class_name": CLASS_NAME,
        "activity_id": ACTIVITY_CREATE,
        "activity_name": ACTIVITY_NAME,
        "type_uid": TYPE_UID,
        "type_name": f"{CLASS_NAME}: {ACTIVITY_NAME}",
        "severity_id": severity_id,
        "severity": SEVERITY_CAPTION[severity_id],
        "status_id": status_id,
        "status": STATUS_CAPTION[status_id],
        "status_code": STATUS_CODE[finding.status],
        "status_detail": finding.message,
        "message": f"{finding.resource}: {finding.message}",
        "finding_info": {
            "uid": finding_uid,
            "title": check.title,
            "desc": description(finding),
            "types": finding_types(check),
            "created_time": millis,
            "created_time_dt": when,
        },
        "resources": [
            {
                "uid": resource_uid,
                "name": resource.name,
                "type": resource.type,
                "region": resource.region,
                "cloud_partition": resource.partition,
                "group": {"name": check.service},
                "data": {"resource": finding.resource},
            }
        ],
        "cloud": cloud,
        "remediation": {"desc": check.remediation},
        "unmapped": _unmapped(report, finding, at.environment),
    }


def to_events(report: Report) -> list[dict[str, Any]]:
    return [to_ocsf(report, f) for f in report.findings]


def render(report: Report) -> str:
    return json.dumps(to_events(report), indent=2, default=str) + "\n"

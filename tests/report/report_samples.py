"""Checks and reports built by hand for the report tests.

The checks are declared once here (the catalogue refuses a second `define` of the same id); every
test builds its own Report from them, so no test sees another's changes.
"""

from __future__ import annotations

from typing import Any

from toolkit.findings import Check, Finding, Report, define, errored, failed, passed

TLS = define(
    id="test.tls-only",
    title="Bucket refuses plain HTTP",
    category="security",
    service="s3",
    severity="high",
    permissions=["s3:GetBucketPolicy"],
    remediation="Deny s3:* when aws:SecureTransport is false.",
    config_fix="buckets:\n  photos:\n    tls_only: true",
    security_hub=["S3.5"],
    checkov=["CKV_AWS_70"],
)
VERSIONING = define(
    id="test.versioning",
    title="Bucket keeps old versions",
    category="security",
    service="s3",
    severity="medium",
    permissions=["s3:GetBucketVersioning"],
    remediation="Turn on versioning | with noncurrent expiry.",
    config_fix="buckets:\n  photos:\n    versioning: true",
    security_hub=["S3.14"],
    checkov=["CKV_AWS_21"],
)
PITR = define(
    id="test.pitr",
    title="Table has point-in-time recovery",
    category="health",
    service="dynamodb",
    severity="low",
    permissions=["dynamodb:DescribeContinuousBackups"],
    remediation="Turn on point-in-time recovery.",
    config_fix="tables:\n  jobs:\n    point_in_time_recovery: true",
    security_hub=["DynamoDB.2"],
    checkov=["CKV_AWS_28"],
)
ROOT_KEYS = define(
    id="test.root-keys",
    title="Root user has no access keys",
    category="security",
    service="iam",
    severity="critical",
    permissions=["iam:GetAccountSummary"],
    remediation="Delete the root user's access keys.",
    config_fix="Not in config.yaml: sign in as root and delete the keys.",
    security_hub=["IAM.4"],
    checkov=[],
)
IDLE = define(
    id="test.idle-bucket",
    title="Bucket is used",
    category="cost",
    service="s3",
    severity="info",
    permissions=["cloudwatch:GetMetricData"],
    remediation="Delete the bucket or archive it.",
    config_fix="Remove the bucket from `buckets:`.",
    security_hub=[],
    checkov=[],
)
CHECKS: list[Check] = [TLS, VERSIONING, PITR, ROOT_KEYS, IDLE]

BUCKET = "arn:aws:s3:::acme-lms-dev-photos"
LOGS = "arn:aws:s3:::acme-lms-dev-access-logs"
TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/acme-lms-dev-jobs"
EVIL = '</script><script>document.title="pwned"</script><img src=x onerror="document.title=1">| `x` *y* [z](w)'


def report(findings: list[Finding], **kw: Any) -> Report:
    fields: dict[str, Any] = {
        "command": "audit",
        "project": "acme-lms",
        "environment": "dev",
        "region": "eu-west-1",
        "account": "123456789012",
        "started_at": "2026-05-01T10:00:00Z",
        "duration_s": 1.25,
        "tool_version": "0.1.0",
        "checks": list(CHECKS),
        "findings": findings,
    }
    fields.update(kw)
    return Report(**fields)


def mixed() -> Report:
    """One of each outcome, with a resource name that tries to break out of every format."""
    return report(
        [
            passed(TLS, BUCKET, "TLS is required"),
            failed(TLS, LOGS, "plain HTTP is allowed", expected=True, actual=False, region="eu-west-1"),
            failed(VERSIONING, BUCKET, "versioning is off", expected="Enabled", actual="Suspended"),
            failed(VERSIONING, EVIL, "a | pipe and <b>bold</b> in the message"),
            errored(PITR, TABLE, "AccessDenied: dynamodb:DescribeContinuousBackups"),
            failed(ROOT_KEYS, "account", "the root user has 1 access key"),
            passed(IDLE, BUCKET, "412 requests in 30 days", details={"monthly_usd": 0.0}),
        ],
        data=COST_DATA,
    )


# The shape `cargohold cost` writes (toolkit/cost/estimate.py `Estimate.to_json`, `Projection.to_json`).
COST_DATA: dict[str, Any] = {
    "estimate": {
        "resources": [
            {
                "kind": "bucket",
                "key": "photos",
                "name": "acme-lms-dev-photos",
                "arn": BUCKET,
                "monthly_usd": 2.76,
                "lines": [
                    {
                        "item": "storage STANDARD",
                        "quantity": 120.0,
                        "unit": "GB-month",
                        "rate_usd": 0.023,
                        "monthly_usd": 2.76,
                    }
                ],
                "notes": ["storage from CloudWatch"],
            },
            {
                "kind": "table",
                "key": "jobs",
                "name": "acme-lms-dev-jobs",
                "arn": TABLE,
                "monthly_usd": 1.25,
                "lines": [],
                "incomplete": {"requests": "AccessDenied"},
            },
        ],
        "total_monthly_usd": 4.01,
        "currency": "USD",
        "prices_as_of": "2026-04-01",
        "region": "eu-west-1",
        "free_tier_applied": False,
        "complete": False,
        "assumptions": ["a month = 730 hours"],
    },
    "projection": {
        "model": "steady state after 365 days",
        "horizon_days": 365,
        "buckets": [
            {
                "key": "photos",
                "name": "acme-lms-dev-photos",
                "rules": ["archive"],
                "storage_gb_now": {"STANDARD": 120.0},
                "storage_monthly_usd_now": 2.76,
                "storage_monthly_usd_projected": 1.5,
                "monthly_saving_usd": 1.26,
            }
        ],
        "total_monthly_usd_now": 2.76,
        "total_monthly_usd_projected": 1.5,
        "monthly_saving_usd": 1.26,
    },
}

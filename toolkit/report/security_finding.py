"""What the security-finding formats (ASFF for AWS Security Hub, OCSF) share: whose finding it is, which
AWS resource it names, its stable identity, its finding types and its time.

Both formats hold one record per finding, each with its own account: a report over several accounts
(`report.scopes`) gives every finding the account, region and environment of its scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from cargohold_core.config.schema import partition_of
from toolkit.findings import Check, Finding, Report

PRODUCT = "cargohold"

# ASFF finding types (namespace/category/classifier); only values of the documented taxonomy. A security
# check is an AWS security best practice; drift, health and cost checks are configuration checks.
TYPE_SECURITY = "Software and Configuration Checks/AWS Security Best Practices"
TYPE_CONFIGURATION = "Software and Configuration Checks"

_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d*):(?P<rest>\S+)"
)


@dataclass(frozen=True)
class Where:
    """The account, region and environment a finding belongs to."""

    account: str | None
    region: str
    environment: str

    @property
    def partition(self) -> str:
        return partition_of(self.region)


def where(report: Report, finding: Finding) -> Where:
    """The finding's own account and its scope's region in a report over several accounts (never the caller's
    account: the report's own may be the organisation's management account); the report's for one environment."""
    for scope in report.scopes:
        if scope.name == finding.environment:
            return Where(finding.account or scope.account, scope.region, scope.name)
    return Where(report.account_of(finding), report.region, finding.environment or report.environment)


def uid(finding: Finding, account: str | None) -> str:
    """Stable across runs and across report kinds: the same check on the same resource in the same account
    has the same uid whether the account was audited alone or with others (`audit --all-envs`)."""
    digest = replace(finding, account=account).fingerprint if account else finding.fingerprint
    return f"{PRODUCT}/{account or 'unknown-account'}/{finding.check.id}/{digest}"


def finding_types(check: Check) -> list[str]:
    return [TYPE_SECURITY if check.category == "security" else TYPE_CONFIGURATION]


@dataclass(frozen=True)
class AwsResource:
    """The resource a finding names, as AWS Security Hub types it (AwsS3Bucket, ..., or Other)."""

    type: str
    id: str  # its ARN; "AWS::::Account:<id>" for the account; the finding's resource text for Other
    name: str
    partition: str
    region: str


def aws_resource(finding: Finding, at: Where) -> AwsResource:
    """The resource of `finding`. A resource text that starts with an ARN and goes on ("<bucket ARN> (origin
    https://app)", as health writes) names that ARN's resource; anything else that is no ARN is Other."""
    region = finding.region or at.region
    text = finding.resource.strip()
    if text == "account" and at.account:
        return AwsResource("AwsAccount", f"AWS::::Account:{at.account}", at.account, at.partition, region)
    match = _ARN.match(text.split(" ", 1)[0])
    if match is None:
        return AwsResource("Other", text or "unknown", text or "unknown", at.partition, region)
    arn, partition, service, rest = match.group(0), match["partition"], match["service"], match["rest"]
    kind, _, name = rest.partition("/")
    if service == "s3" and "/" not in rest:
        return AwsResource("AwsS3Bucket", arn, rest, partition, region)
    if service == "dynamodb" and kind == "table" and name and "/" not in name:
        return AwsResource("AwsDynamoDbTable", arn, name, partition, region)
    if service == "iam" and rest == "root":
        account = match["account"] or at.account or ""
        return AwsResource("AwsAccount", f"AWS::::Account:{account}", account, partition, region)
    if service == "iam" and kind in ("role", "user") and name:
        kind_type = "AwsIamRole" if kind == "role" else "AwsIamUser"
        return AwsResource(kind_type, arn, name.rsplit("/", 1)[-1], partition, region)
    return AwsResource("Other", text, text, partition, region)


def utc(timestamp: str) -> datetime:
    """A report's ISO 8601 time (with Z or an offset) in UTC."""
    parsed = datetime.fromisoformat(timestamp)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def rfc3339(moment: datetime) -> str:
    """2026-05-01T10:00:00Z (milliseconds when there are any), the form AWS's examples use."""
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(text: str) -> str:
    return " ".join(text.split())


def description(finding: Finding) -> str:
    """The finding's message, then what was expected and found."""
    text = finding.message.strip() or finding.check.title
    if finding.expected is not None or finding.actual is not None:
        text += f" (expected: {finding.expected}; actual: {finding.actual})"
    return text

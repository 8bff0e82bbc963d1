"""DynamoDB security checks over `TableInfo` and the table's config (None: a table config.yaml does not
declare, judged against the hardened defaults)."""

from __future__ import annotations

from cargohold_core.config.schema import TableSpec
from toolkit.audit.inventory import TableInfo
from toolkit.audit.rules import RuleSet, Verdict, bad, ok
from toolkit.findings import define

TABLE: RuleSet[TableInfo, TableSpec] = RuleSet()

PITR = define(
    id="dynamodb.pitr",
    title="Point-in-time recovery is enabled",
    category="security",
    service="dynamodb",
    severity="medium",
    permissions=["dynamodb:DescribeContinuousBackups"],
    remediation="Enable point-in-time recovery: it restores the table to any second of the last 35 days.",
    config_fix="tables:\n  TABLE:\n    point_in_time_recovery: true",
    security_hub=["DynamoDB.2"],
    checkov=["CKV_AWS_28"],
)


@TABLE(PITR)
def pitr(t: TableInfo, want: TableSpec | None) -> Verdict:
    if not t.pitr.get():
        note = " (config.yaml turns it off)" if want is not None and not want.point_in_time_recovery else ""
        return bad(f"point-in-time recovery is off{note}", expected=True, actual=False)
    return ok("point-in-time recovery is on")


DELETION = define(
    id="dynamodb.deletion-protection",
    title="Deletion protection is enabled",
    category="security",
    service="dynamodb",
    severity="medium",
    permissions=["dynamodb:DescribeTable"],
    remediation="Turn on deletion protection so the table cannot be deleted by accident (console, CLI or a "
    "Terraform plan).",
    config_fix="tables:\n  TABLE:\n    deletion_protection: true",
    security_hub=["DynamoDB.6"],
    checkov=[],
)


@TABLE(DELETION)
def deletion_protection(t: TableInfo, want: TableSpec | None) -> Verdict:
    if not t.description.get().get("DeletionProtectionEnabled", False):
        note = " (config.yaml turns it off)" if want is not None and not want.deletion_protection else ""
        return bad(f"deletion protection is off{note}", expected=True, actual=False)
    return ok("deletion protection is on")


KMS = define(
    id="dynamodb.kms-encryption",
    title="The table is encrypted with KMS where config.yaml asks for it",
    category="security",
    service="dynamodb",
    severity="medium",
    permissions=["dynamodb:DescribeTable"],
    remediation="Switch the table's encryption to the configured KMS key (an in-place update).",
    config_fix="tables:\n  TABLE:\n    encryption:\n      type: customer-kms\n"
    "      kms_key_arn: arn:aws:kms:REGION:ACCOUNT:key/ID",
    security_hub=[],
    checkov=["CKV_AWS_119"],
)


@TABLE(KMS)
def kms_encryption(t: TableInfo, want: TableSpec | None) -> Verdict | None:
    if want is None or want.encryption.type == "aws-owned":
        return None  # every table is encrypted at rest; KMS is an opt-in
    sse = t.description.get().get("SSEDescription") or {}
    if sse.get("Status") not in ("ENABLED", "UPDATING") or sse.get("SSEType") != "KMS":
        return bad("config asks for KMS encryption; the table uses the AWS owned key", actual=sse or None)
    key = want.encryption.kms_key_arn
    if want.encryption.type == "customer-kms" and key and sse.get("KMSMasterKeyArn") != key:
        return bad(f"encrypted with {sse.get('KMSMasterKeyArn')}, config asks for {key}", expected=key)
    return ok("encrypted with KMS")


CAPACITY = define(
    id="dynamodb.capacity-mode",
    title="Capacity follows demand: on-demand, or provisioned with auto scaling",
    category="security",
    service="dynamodb",
    severity="medium",
    permissions=["dynamodb:DescribeTable", "application-autoscaling:DescribeScalableTargets"],
    remediation="Use on-demand billing, or add auto scaling for read and write capacity, so a traffic spike is "
    "not throttled (an availability risk) and idle capacity is not billed.",
    config_fix="tables:\n  TABLE:\n    billing: on-demand   # or keep provisioned and add\n"
    "    # autoscaling: {min_read: 1, max_read: 50, min_write: 1, max_write: 50}",
    security_hub=["DynamoDB.1"],
    checkov=["CKV2_AWS_16"],
)


@TABLE(CAPACITY)
def capacity_mode(t: TableInfo, _: TableSpec | None) -> Verdict:
    mode = (t.description.get().get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    if mode == "PAY_PER_REQUEST":
        return ok("on-demand")
    if t.autoscaled.get():
        return ok("provisioned with auto scaling")
    return bad("provisioned capacity without auto scaling", actual=t.description.get().get("ProvisionedThroughput"))


TTL = define(
    id="dynamodb.ttl",
    title="Time to live is on the configured attribute",
    category="security",
    service="dynamodb",
    severity="low",
    permissions=["dynamodb:DescribeTimeToLive"],
    remediation="Enable TTL on the configured attribute so expired items are deleted at no cost.",
    config_fix="tables:\n  TABLE:\n    ttl_attribute: expiresAt",
    security_hub=[],
    checkov=[],
)


@TABLE(TTL)
def ttl(t: TableInfo, want: TableSpec | None) -> Verdict | None:
    if want is None or want.ttl_attribute is None:
        return None
    actual = t.ttl_attribute.get()
    if actual != want.ttl_attribute:
        return bad(f"TTL is {'on ' + actual if actual else 'off'}; config asks for {want.ttl_attribute}",
                   expected=want.ttl_attribute, actual=actual)  # fmt: skip
    return ok(f"TTL on {actual}")

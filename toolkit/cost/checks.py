"""The cost checks: leaks with a dollar figure, and the environment's budget, as findings.

Heuristics (the thresholds are `Thresholds` fields):

- noncurrent versions: a versioned bucket whose lifecycle (live; config.yaml for a usage file) has
  no whole-bucket NoncurrentVersionExpiration and holds noncurrent versions. The figure is what
  they cost a month now (a partial listing says "at least").
- incomplete multipart: uploads started more than `multipart_min_age_hours` ago and never
  completed or aborted; their parts are billed at the upload's storage class. Uploads beyond the
  sizing cap are counted at the average size of the sized ones.
- cold data in STANDARD: at least `cold_min_gb` GB in STANDARD, no lifecycle transition and no
  Intelligent-Tiering; with request metrics, fewer than `cold_reads_per_object` GET/HEAD requests
  per object a month (so reads would not eat the saving). Without request metrics, the size and the
  missing transition alone fail it. The figure is moving the STANDARD bytes to STANDARD_IA.
- overprovisioned capacity: a provisioned table whose average consumed read or write capacity is
  below `overprovisioned_ratio` of what is provisioned (table plus GSIs). The figure is lowering it
  to the capacity that runs the average at `target_utilization` (check peaks before lowering).
- budget: the estimate above `budget.monthly_usd` fails (high); at or above `warn_at_percent` it
  fails at low severity (same check id, so waivers and --since treat them alike); no budget in
  config.yaml, no finding. An incomplete estimate that is still under the budget is an error.
- undeclared resources (info): the account holds buckets or tables no environment of config.yaml
  declares, so the environment's figure is not the account's; the finding prices them (storage and
  capacity only) and names them. Not judged for a usage file (it plans declared resources only).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from cargohold_core.config.model import Environment
from toolkit.cost.estimate import (
    Estimate,
    average_per_second,
    cold_saving,
    gb,
    rightsizing_saving,
    storage_cost,
    table_arn,
    usd,
)
from toolkit.cost.usage import BucketUsage, TableUsage, Usage
from toolkit.findings import Check, Finding, Severity, define, errored, failed, passed

_READ_S3 = ["cloudwatch:ListMetrics", "cloudwatch:GetMetricData"]

NONCURRENT = define(
    id="cost.noncurrent-versions",
    title="Noncurrent versions are not piling up without expiry",
    category="cost",
    service="s3",
    severity="medium",
    permissions=["s3:GetBucketVersioning", "s3:GetLifecycleConfiguration", "s3:ListBucketVersions", *_READ_S3],
    remediation="Add a lifecycle rule that expires noncurrent versions (and optionally moves them to a cheaper "
    "class first): every overwrite and delete in a versioned bucket keeps a billed copy until it expires.",
    config_fix="buckets:\n  BUCKET:\n    lifecycle:\n      - id: tidy-versions\n"
    "        noncurrent_transitions: [{days: 30, storage_class: STANDARD_IA}]\n"
    "        noncurrent_expiration_days: 90",
    security_hub=["S3.10"],
    checkov=[],
)

MULTIPART = define(
    id="cost.incomplete-multipart",
    title="No incomplete multipart uploads are left billing",
    category="cost",
    service="s3",
    severity="low",
    permissions=["s3:ListBucketMultipartUploads", "s3:ListMultipartUploadParts", "s3:GetLifecycleConfiguration"],
    remediation="Add AbortIncompleteMultipartUpload to a whole-bucket lifecycle rule; abort the uploads listed "
    "(aws s3api abort-multipart-upload) to stop paying for their parts now.",
    config_fix="buckets:\n  BUCKET:\n    lifecycle:\n      - id: tidy-uploads\n"
    "        abort_incomplete_multipart_days: 7",
    security_hub=[],
    checkov=["CKV_AWS_300"],
)

COLD = define(
    id="cost.cold-data-in-standard",
    title="Large, rarely read data does not sit in S3 Standard",
    category="cost",
    service="s3",
    severity="low",
    permissions=["s3:GetLifecycleConfiguration", *_READ_S3],
    remediation="Add lifecycle transitions that match how the data ages (or use Intelligent-Tiering); enable "
    "request metrics (a filter named EntireBucket) so the estimate can see how often the data is read.",
    config_fix="buckets:\n  BUCKET:\n    lifecycle:\n      - id: age-out\n        transitions:\n"
    "          - {days: 30, storage_class: STANDARD_IA}\n          - {days: 180, storage_class: GLACIER_IR}",
    security_hub=["S3.13"],
    checkov=["CKV2_AWS_61"],
)

OVERPROVISIONED = define(
    id="cost.overprovisioned-capacity",
    title="Provisioned DynamoDB capacity is not far above what is used",
    category="cost",
    service="dynamodb",
    severity="medium",
    permissions=["dynamodb:DescribeTable", "cloudwatch:GetMetricData"],
    remediation="Lower the provisioned capacity (after checking the peaks, not just the average), add auto "
    "scaling, or switch the table to on-demand.",
    config_fix="tables:\n  TABLE:\n    billing: on-demand   # or keep provisioned with\n"
    "    # capacity: {read: 5, write: 5}\n"
    "    # autoscaling: {min_read: 1, max_read: 50, min_write: 1, max_write: 50}",
    security_hub=["DynamoDB.1"],
    checkov=["CKV2_AWS_16"],
)

BUDGET = define(
    id="cost.budget",
    title="The estimated monthly cost stays within the environment's budget",
    category="cost",
    service="account",
    severity="high",
    permissions=[
        *_READ_S3,
        "s3:ListBucketMultipartUploads",
        "dynamodb:DescribeTable",
        "dynamodb:DescribeContinuousBackups",
    ],
    remediation="Fix the leaks this report lists, apply lifecycle transitions, or raise the budget if the "
    "growth is expected.",
    config_fix="environments:\n  ENV:\n    budget: {monthly_usd: 400, warn_at_percent: 80}",
    security_hub=[],
    checkov=[],
)

UNDECLARED = define(
    id="cost.undeclared-resources",
    title="The estimate covers every bucket and table the account holds",
    category="cost",
    service="account",
    severity="info",
    permissions=[
        "s3:ListAllMyBuckets",
        "dynamodb:ListTables",
        "dynamodb:DescribeTable",
        "dynamodb:DescribeContinuousBackups",
        *_READ_S3,
    ],
    remediation="The environment's estimate prices only what config.yaml declares. Declare the buckets and "
    "tables this report lists as undeclared (`cargohold discover` writes them), run cost for the "
    "environment that owns them, or delete them if they are left over. Their cost is in the report's "
    "`undeclared` section (storage and capacity, without leak checks).",
    config_fix="buckets:\n  NEW-KEY:\n    name: THE-LIVE-NAME   # adopt it under its existing name (discover)",
    security_hub=[],
    checkov=[],
)

CHECKS: tuple[Check, ...] = (NONCURRENT, MULTIPART, COLD, OVERPROVISIONED, BUDGET, UNDECLARED)

_NAMED = 10  # undeclared resources named in the finding's message; the details list them all


@dataclass(frozen=True)
class Thresholds:
    multipart_min_age_hours: float = 24.0
    cold_min_gb: float = 100.0
    cold_reads_per_object: float = 0.1  # GET/HEAD per object per month
    overprovisioned_ratio: float = 0.2
    target_utilization: float = 0.7


def _money(value: Decimal) -> str:
    return "under $0.01" if 0 < value < Decimal("0.005") else f"${value:,.2f}"


def _size(value: Decimal) -> str:
    return f"{value * 1024:,.1f} MB" if 0 < value < 1 else f"{value:,.2f} GB"


def _bucket_spec_versioning(env: Environment, key: str) -> bool | None:
    bucket = env.buckets.get(key)
    return bucket.spec.versioning if bucket else None


def _config_noncurrent_days(env: Environment, key: str) -> int | None:
    bucket = env.buckets.get(key)
    if bucket is None:
        return None
    days = [r.noncurrent_expiration_days for r in bucket.spec.lifecycle if r.enabled and r.noncurrent_expiration_days]
    return min(days) if days else None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _leak(finding: Finding, monthly: Decimal, **details: Any) -> Finding:
    return dataclasses.replace(finding, details={"monthly_usd": usd(monthly), **details})


def noncurrent_finding(env: Environment, key: str, name: str, b: BucketUsage, est: Estimate) -> Finding:
    resource = f"arn:aws:s3:::{name}"
    if "versions" in b.errors and b.noncurrent is None:
        return errored(NONCURRENT, resource, f"could not read: {b.errors['versions']}", region=env.region)
    versioning = b.versioning
    if versioning is None:
        spec = _bucket_spec_versioning(env, key)
        versioning = None if spec is None else ("Enabled" if spec else "Disabled")
    if versioning == "Disabled":
        return passed(NONCURRENT, resource, "versioning is off: no noncurrent versions", region=env.region)
    days = b.noncurrent_expiration_days if b.noncurrent_expiry_known else _config_noncurrent_days(env, key)
    if days is not None:
        return passed(NONCURRENT, resource, f"noncurrent versions expire after {days} days", region=env.region)
    held = b.noncurrent or {}
    total = sum(held.values())
    if total == 0:
        return passed(
            NONCURRENT,
            resource,
            "no noncurrent versions yet (but no lifecycle rule expires them)",
            region=env.region,
        )
    monthly = storage_cost(held, est.rates)
    least = "at least " if b.noncurrent_partial else ""
    count = f"{b.noncurrent_versions} " if b.noncurrent_versions is not None else ""
    finding = failed(
        NONCURRENT,
        resource,
        f"{least}{count}noncurrent versions ({least}{_size(gb(total))}) kept with no expiry: "
        f"{least}{_money(monthly)}/month",
        expected="a lifecycle rule with noncurrent_expiration_days",
        actual="no noncurrent expiry",
        region=env.region,
    )
    return _leak(
        finding,
        monthly,
        noncurrent_bytes=total,
        noncurrent_versions=b.noncurrent_versions,
        partial=b.noncurrent_partial,
    )


def multipart_finding(
    env: Environment, name: str, b: BucketUsage, est: Estimate, *, now: datetime, thresholds: Thresholds
) -> Finding:
    resource = f"arn:aws:s3:::{name}"
    if "multipart" in b.errors:
        return errored(MULTIPART, resource, f"could not read: {b.errors['multipart']}", region=env.region)
    cutoff = now - timedelta(hours=thresholds.multipart_min_age_hours)
    stale = [u for u in b.multipart_uploads or [] if _aware(u.initiated) <= cutoff]
    if not stale:
        return passed(MULTIPART, resource, "no stale incomplete multipart uploads", region=env.region)
    sized = [u.bytes for u in stale if u.bytes is not None]
    average = (sum(sized) // len(sized)) if sized else 0
    estimated = len(stale) - len(sized)
    by_class: dict[str, int] = {}
    for upload in stale:
        by_class[upload.storage_class] = by_class.get(upload.storage_class, 0) + (
            upload.bytes if upload.bytes is not None else average
        )
    total = sum(by_class.values())
    monthly = storage_cost(by_class, est.rates)
    about = "about " if estimated or b.multipart_partial else ""
    oldest = min(_aware(u.initiated) for u in stale)
    finding = failed(
        MULTIPART,
        resource,
        f"{len(stale)} incomplete multipart upload(s) holding {about}{_size(gb(total))} "
        f"(oldest from {oldest:%Y-%m-%d}): {about}{_money(monthly)}/month",
        expected="no incomplete uploads older than "
        f"{thresholds.multipart_min_age_hours:g} h (abort_incomplete_multipart_days)",
        actual=f"{len(stale)} pending",
        region=env.region,
    )
    return _leak(
        finding,
        monthly,
        uploads=len(stale),
        bytes=total,
        estimated_uploads=estimated,
        partial=b.multipart_partial,
        keys=[u.key for u in stale[:10] if u.key],
    )


def cold_finding(
    env: Environment, key: str, name: str, b: BucketUsage, est: Estimate, *, thresholds: Thresholds
) -> Finding:
    resource = f"arn:aws:s3:::{name}"
    if "storage" in b.errors:
        return errored(COLD, resource, f"could not read the storage metrics: {b.errors['storage']}", region=env.region)
    standard = b.storage.get("STANDARD", 0)
    standard_gb = gb(standard)
    if standard_gb < Decimal(str(thresholds.cold_min_gb)):
        return passed(
            COLD, resource, f"{_size(standard_gb)} in STANDARD (under {thresholds.cold_min_gb:g} GB)", region=env.region
        )
    transitions = b.lifecycle_transitions
    if transitions is None and "lifecycle" in b.errors:
        return errored(COLD, resource, f"could not read the lifecycle: {b.errors['lifecycle']}", region=env.region)
    if transitions is None:
        bucket = env.buckets.get(key)
        transitions = bool(bucket and any(r.transitions for r in bucket.spec.lifecycle if r.enabled))
    tiering = any(cls.startswith("INTELLIGENT_TIERING") and size for cls, size in b.storage.items())
    if transitions or tiering:
        how = "a lifecycle transition" if transitions else "Intelligent-Tiering"
        return passed(COLD, resource, f"{_size(standard_gb)} in STANDARD, aged out by {how}", region=env.region)
    monthly = cold_saving(standard, est.rates)
    if b.requests is not None:
        reads = b.requests.get + b.requests.head
        per_object = reads / b.objects if b.objects else reads / max(float(standard_gb), 1.0)
        unit = "per object" if b.objects else "per GB"
        if per_object >= thresholds.cold_reads_per_object:
            return passed(
                COLD,
                resource,
                f"{_size(standard_gb)} in STANDARD, read {per_object:.2f} times {unit} a month",
                region=env.region,
            )
        why = f"read {per_object:.3f} times {unit} a month"
    else:
        why = "no lifecycle transition and no request metrics to show it is read"
    finding = failed(
        COLD,
        resource,
        f"{_size(standard_gb)} in STANDARD, {why}: moving it to STANDARD_IA would save about {_money(monthly)}/month",
        expected="a lifecycle transition or Intelligent-Tiering",
        actual="STANDARD only",
        region=env.region,
    )
    return _leak(finding, monthly, standard_bytes=standard, request_metrics=b.requests is not None)


def overprovisioned_finding(
    env: Environment, key: str, name: str, t: TableUsage, est: Estimate, *, thresholds: Thresholds
) -> Finding:
    resource = table_arn(env, key, name)
    if "table" in t.errors:
        return errored(OVERPROVISIONED, resource, f"could not read: {t.errors['table']}", region=env.region)
    if t.billing_mode != "PROVISIONED":
        return passed(OVERPROVISIONED, resource, "on-demand: billed per request", region=env.region)
    if t.read_units is None or t.write_units is None:
        why = t.errors.get("capacity", "consumed capacity was not measured")
        return errored(OVERPROVISIONED, resource, f"could not read consumed capacity: {why}", region=env.region)
    ddb = est.rates.region.dynamodb
    parts: list[str] = []
    monthly = Decimal(0)
    details: dict[str, Any] = {}
    for label, provisioned, consumed, hourly in (
        ("read", t.provisioned_rcu, t.read_units, ddb.rcu_hour),
        ("write", t.provisioned_wcu, t.write_units, ddb.wcu_hour),
    ):
        average = average_per_second(consumed)
        details[f"{label}_provisioned"] = provisioned
        details[f"{label}_consumed_average"] = round(average, 4)
        if provisioned and average < thresholds.overprovisioned_ratio * provisioned:
            right, saving = rightsizing_saving(
                provisioned, consumed, hourly, target_utilization=thresholds.target_utilization
            )
            if saving > 0:
                monthly += saving
                details[f"{label}_suggested"] = right
                parts.append(f"{label} {average:.2f}/s average of {provisioned} provisioned (suggest {right})")
    if not parts:
        return passed(OVERPROVISIONED, resource, "provisioned capacity is in line with use", region=env.region)
    finding = failed(
        OVERPROVISIONED,
        resource,
        f"{'; '.join(parts)}: lowering saves about {_money(monthly)}/month (check peaks first)",
        expected=f"average use at least {thresholds.overprovisioned_ratio:.0%} of provisioned",
        actual={"read": t.provisioned_rcu, "write": t.provisioned_wcu},
        region=env.region,
    )
    return _leak(finding, monthly, **details)


def budget_finding(env: Environment, est: Estimate) -> Finding | None:
    budget = env.spec.budget
    if budget is None:
        return None
    resource = f"{env.project}/{env.name}"
    total = est.total
    limit = Decimal(str(budget.monthly_usd))
    warn = limit * budget.warn_at_percent / 100
    share = total / limit * 100
    details = {"monthly_usd": usd(total), "budget_usd": budget.monthly_usd, "percent": float(round(share, 1))}
    least = "at least " if est.incomplete else ""
    if total > limit:
        return failed(
            BUDGET,
            resource,
            f"estimated {least}{_money(total)}/month exceeds the budget of {_money(limit)} ({share:.0f}%)",
            expected=f"<= {budget.monthly_usd}",
            actual=usd(total),
            details=details,
        )
    if est.incomplete:
        return errored(
            BUDGET,
            resource,
            f"estimate incomplete (some usage could not be read): at least {_money(total)} of {_money(limit)}",
            details=details,
        )
    if total >= warn:
        warning = dataclasses.replace(BUDGET, severity=Severity.LOW)
        return failed(
            warning,
            resource,
            f"estimated {_money(total)}/month is {share:.0f}% of the budget of {_money(limit)} "
            f"(warning at {budget.warn_at_percent}%)",
            expected=f"< {budget.warn_at_percent}% of {budget.monthly_usd}",
            actual=usd(total),
            details=details,
        )
    return passed(
        BUDGET,
        resource,
        f"estimated {_money(total)}/month is {share:.0f}% of the budget of {_money(limit)}",
        details=details,
    )


def undeclared_finding(env: Environment, est: Estimate) -> Finding | None:
    """Whether the estimate covers what the account holds; None when it was not looked at (a usage file)."""
    if est.undeclared is None and est.undeclared_error is None:
        return None
    resource = f"{env.project}/{env.name}"
    if est.undeclared_error is not None:
        return errored(UNDECLARED, resource, f"the estimate covers {est.coverage()}", region=env.region)
    if not est.undeclared:
        return passed(UNDECLARED, resource, f"the estimate covers {est.coverage()}", region=env.region)
    names = [f"{r.kind} {r.name}" for r in sorted(est.undeclared, key=lambda r: (r.kind, r.name))]
    shown = ", ".join(names[:_NAMED]) + (f" and {len(names) - _NAMED} more" if len(names) > _NAMED else "")
    least = "at least " if any(r.incomplete for r in est.undeclared) else ""
    buckets = sum(r.kind == "bucket" for r in est.resources)
    declared = f"{_count(buckets, 'bucket')} and {_count(len(est.resources) - buckets, 'table')}"
    more = sum(r.kind == "bucket" for r in est.undeclared)
    return failed(
        UNDECLARED,
        resource,
        f"the estimate prices only the {declared} config.yaml declares: the account also holds "
        f"{_count(more, 'bucket')} and {_count(len(est.undeclared) - more, 'table')} no environment declares, {least}"
        f"{_money(est.undeclared_total)}/month more ({shown})",
        expected="every bucket and table in config.yaml",
        actual=f"{len(names)} undeclared",
        region=env.region,
        details={
            "monthly_usd": usd(est.undeclared_total),
            "buckets": sorted(r.name for r in est.undeclared if r.kind == "bucket"),
            "tables": sorted(r.name for r in est.undeclared if r.kind == "table"),
        },
    )


def evaluate(
    env: Environment,
    usage: Usage,
    est: Estimate,
    *,
    now: datetime | None = None,
    thresholds: Thresholds | None = None,
) -> list[Finding]:
    """Every cost check on every bucket and table, then the budget."""
    thresholds = thresholds or Thresholds()
    now = _aware(now or datetime.now(UTC))
    names = {(r.kind, r.key): r.name for r in est.resources}
    findings: list[Finding] = []
    for key, bucket in usage.buckets.items():
        name = names[("bucket", key)]
        findings.append(noncurrent_finding(env, key, name, bucket, est))
        findings.append(multipart_finding(env, name, bucket, est, now=now, thresholds=thresholds))
        findings.append(cold_finding(env, key, name, bucket, est, thresholds=thresholds))
    for key, table in usage.tables.items():
        findings.append(overprovisioned_finding(env, key, names[("table", key)], table, est, thresholds=thresholds))
    budget = budget_finding(env, est)
    if budget is not None:
        findings.append(budget)
    coverage = undeclared_finding(env, est)
    if coverage is not None:
        findings.append(coverage)
    return findings


def leaks(findings: list[Finding]) -> list[dict[str, Any]]:
    """The failed leak findings with their dollar figures, largest first."""
    out = [
        {
            "check": f.check.id,
            "resource": f.resource,
            "monthly_usd": f.details.get("monthly_usd", 0.0),
            "message": f.message,
        }
        for f in findings
        if f.check.id not in (BUDGET.id, UNDECLARED.id) and f.status.value == "fail"
    ]
    return sorted(out, key=lambda leak: (-float(leak["monthly_usd"]), leak["check"], leak["resource"]))


def _aware(stamp: datetime) -> datetime:
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp

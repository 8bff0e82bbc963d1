"""Measure an environment's usage from the account: every AWS call `cargohold cost` makes is here.

Read-only, bounded and batched, so it stays quick at 1,000 buckets:

- CloudWatch: one `ListMetrics` pass over `AWS/S3` finds which storage types and request-metric
  filters exist, then `GetMetricData` fetches them (and DynamoDB's consumed capacity) at up to 500
  queries per call. S3 storage metrics are daily, stamped 00:00 UTC: the window starts at 00:00 UTC
  `days` days ago and the latest datapoint wins. Request metrics and consumed capacity are summed
  per day over the full days in the window and scaled to a 730-hour month.
- S3 (per bucket, in a bounded thread pool): versioning, lifecycle, pending multipart uploads (and
  their parts' sizes, for at most `sized_uploads` uploads), and, only for versioned buckets whose
  lifecycle does not expire noncurrent versions, a version listing that stops after `version_cap`
  versions (the result is then marked partial: "at least").
- DynamoDB (per table): DescribeTable and DescribeContinuousBackups.
- What else the account holds: ListBuckets and ListTables find the buckets and tables no environment
  of config.yaml declares; they are priced from the same CloudWatch metrics and DescribeTable, so the
  report can say what the estimate leaves out instead of calling a partial figure complete.

A call that fails is recorded as an error on that resource's aspect, never as zero usage.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from cargohold_core import aws
from cargohold_core.aws import error_code
from cargohold_core.config.model import Environment
from toolkit.cost.prices import DAYS_PER_MONTH
from toolkit.cost.usage import BucketUsage, MultipartUpload, Requests, TableUsage, Undeclared, Usage

T = TypeVar("T")

# CloudWatch StorageType -> the class it is billed at. Overheads: S3 keeps 8 KB per archived object
# in STANDARD and 32 KB in the archive class; IA classes bill small objects as 128 KB.
STORAGE_TYPES = {
    "StandardStorage": "STANDARD",
    "ReducedRedundancyStorage": "STANDARD",
    "StandardIAStorage": "STANDARD_IA",
    "StandardIASizeOverhead": "STANDARD_IA",
    "OneZoneIAStorage": "ONEZONE_IA",
    "OneZoneIASizeOverhead": "ONEZONE_IA",
    "GlacierInstantRetrievalStorage": "GLACIER_IR",
    "GlacierIRSizeOverhead": "GLACIER_IR",
    "GlacierInstantRetrievalSizeOverhead": "GLACIER_IR",
    "GlacierStorage": "GLACIER",
    "GlacierObjectOverhead": "GLACIER",
    "GlacierS3ObjectOverhead": "STANDARD",
    "GlacierStagingStorage": "STANDARD",
    "DeepArchiveStorage": "DEEP_ARCHIVE",
    "DeepArchiveObjectOverhead": "DEEP_ARCHIVE",
    "DeepArchiveS3ObjectOverhead": "STANDARD",
    "DeepArchiveStagingStorage": "STANDARD",
    "IntelligentTieringFAStorage": "INTELLIGENT_TIERING_FA",
    "IntelligentTieringIAStorage": "INTELLIGENT_TIERING_IA",
    "IntelligentTieringAIAStorage": "INTELLIGENT_TIERING_AIA",
    "IntelligentTieringAAStorage": "INTELLIGENT_TIERING_AA",
    "IntelligentTieringDAAStorage": "INTELLIGENT_TIERING_DAA",
}
REQUEST_METRICS = {
    "GetRequests": "get",
    "PutRequests": "put",
    "PostRequests": "post",
    "ListRequests": "list",
    "HeadRequests": "head",
    "DeleteRequests": "delete",
    "SelectRequests": "other",
    "AllRequests": "all",
}
REQUEST_FILTER = "EntireBucket"  # the whole-bucket request-metrics filter the S3 console creates
_BATCH = 500  # GetMetricData's limit on queries per call


@dataclass(frozen=True)
class MeasureSettings:
    workers: int = 8  # concurrent S3/DynamoDB reads
    days: int = 3  # look-back for daily metrics
    version_cap: int = 10_000  # object versions listed per bucket before stopping (partial)
    upload_cap: int = 1_000  # pending multipart uploads listed per bucket
    sized_uploads: int = 100  # uploads per bucket whose parts are listed to learn their size
    parts_pages: int = 10  # ListParts pages per upload (1,000 parts each)


class CallCounter:
    """Counts API calls (not retries) across clients and threads, in all and per operation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0
        self.by_operation: dict[str, int] = {}

    def __call__(self, model: Any = None, **_: Any) -> None:
        name = str(getattr(model, "name", "unknown"))
        with self._lock:
            self.count += 1
            self.by_operation[name] = self.by_operation.get(name, 0) + 1

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-call", self)
        return client


def _why(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Unknown')}: {error.get('Message', '')}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


@dataclass
class _Bucket:
    key: str
    name: str
    versioning: Literal["Enabled", "Suspended", "Disabled"] | None = None
    noncurrent_days: int | None = None
    lifecycle_read: bool = False
    transitions: bool | None = None
    noncurrent: dict[str, int] | None = None
    noncurrent_versions: int | None = None
    noncurrent_partial: bool = False
    uploads: list[MultipartUpload] | None = None
    uploads_partial: bool = False
    storage: dict[str, int] = field(default_factory=dict)
    objects: int | None = None
    requests: Requests | None = None
    errors: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def measure(
    env: Environment,
    *,
    settings: MeasureSettings | None = None,
    now: datetime | None = None,
    others: Iterable[Environment] = (),
) -> Usage:
    """Read the usage of every bucket and table `env` declares, and of what else the account holds:
    the buckets and tables (of env's region) that neither `env` nor `others` (the other environments of
    config.yaml) declare, and that are no environment's Terraform state bucket or lock table. Those are
    measured from CloudWatch and DescribeTable only (their cost, not their leaks)."""
    settings = settings or MeasureSettings()
    now = now or datetime.now(UTC)
    counter = CallCounter()
    s3 = counter.attach(aws.client(env, "s3"))
    cloudwatch = counter.attach(aws.client(env, "cloudwatch"))
    dynamodb = counter.attach(aws.client(env, "dynamodb"))

    buckets = [_Bucket(key=b.key, name=b.name) for b in env.buckets.values()]
    tables: dict[str, dict[str, Any]] = {
        t.key: {"name": t.name, "errors": {}, "notes": []} for t in env.tables.values()
    }
    everyone = [env, *others]
    known_buckets = {b.name for e in everyone for b in e.buckets.values()} | {e.state.bucket for e in everyone}
    known_tables = {t.name for e in everyone for t in e.tables.values()} | {e.state.lock_table for e in everyone}
    extra_buckets, extra_tables, listing_error = _undeclared(s3, dynamodb, env, known_buckets, known_tables)

    jobs: list[Callable[[], None]] = [functools.partial(_read_bucket, s3, b, settings) for b in buckets]
    jobs += [functools.partial(_read_table, dynamodb, t) for t in [*tables.values(), *extra_tables.values()]]
    _pool(settings.workers, jobs)
    # Keys only keep the dicts apart: an undeclared table may be named like a declared table's key.
    every_table = {**tables, **{f"undeclared:{name}": t for name, t in extra_tables.items()}}
    _read_metrics(cloudwatch, buckets + extra_buckets, every_table, settings=settings, now=now)

    usage_buckets = {b.key: _bucket_usage(b) for b in buckets}
    usage_tables = {key: _table_usage(t) for key, t in tables.items()}
    undeclared = Undeclared(
        buckets={b.name: _bucket_usage(b) for b in extra_buckets},
        tables={name: _table_usage(t) for name, t in extra_tables.items()},
        error=listing_error,
    )
    return Usage(
        source="measured",
        buckets=usage_buckets,
        tables=usage_tables,
        undeclared=undeclared,
        measured_at=now,
        api_calls=counter.count,
        api_calls_by_operation=dict(sorted(counter.by_operation.items())),
    )


def _undeclared(
    s3: Any, dynamodb: Any, env: Environment, known_buckets: set[str], known_tables: set[str]
) -> tuple[list[_Bucket], dict[str, dict[str, Any]], str | None]:
    """The account's buckets and tables that no environment declares; an error when it cannot be listed."""
    try:
        listed = [b for page in s3.get_paginator("list_buckets").paginate() for b in page.get("Buckets", [])]
        names = [n for page in dynamodb.get_paginator("list_tables").paginate() for n in page.get("TableNames", [])]
    except (ClientError, BotoCoreError) as exc:
        return [], {}, f"cannot list the account's buckets and tables: {_why(exc)}"
    buckets = []
    for entry in listed:
        if entry["Name"] in known_buckets:
            continue
        bucket = _Bucket(key=entry["Name"], name=entry["Name"])
        region = entry.get("BucketRegion")  # AWS names it; an emulator may not
        if region and region != env.region:
            # CloudWatch's storage metrics are regional: this run reads env's region only.
            bucket.errors["storage"] = bucket.errors["requests"] = (
                f"in {region}: not measured from {env.region} (run cost for an environment there)"
            )
        buckets.append(bucket)
    tables = {n: {"name": n, "errors": {}, "notes": []} for n in names if n not in known_tables}
    return buckets, tables, None


def _pool(workers: int, jobs: list[Callable[[], None]]) -> None:
    if not jobs:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()


# ---------------------------------------------------------------- S3


def _read_bucket(s3: Any, bucket: _Bucket, settings: MeasureSettings) -> None:
    try:
        status = s3.get_bucket_versioning(Bucket=bucket.name).get("Status")
        bucket.versioning = "Enabled" if status == "Enabled" else "Suspended" if status == "Suspended" else "Disabled"
    except (ClientError, BotoCoreError) as exc:
        bucket.errors["versions"] = _why(exc)
        if isinstance(exc, ClientError) and error_code(exc) == "NoSuchBucket":
            for aspect in ("storage", "requests", "multipart", "lifecycle"):
                bucket.errors[aspect] = _why(exc)
            return
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket.name).get("Rules", [])
    except ClientError as exc:
        rules = [] if error_code(exc) == "NoSuchLifecycleConfiguration" else None
        if rules is None:
            bucket.errors["lifecycle"] = _why(exc)
    except BotoCoreError as exc:
        rules = None
        bucket.errors["lifecycle"] = _why(exc)
    if rules is not None:
        bucket.lifecycle_read = True
        enabled = [r for r in rules if r.get("Status") == "Enabled"]
        bucket.transitions = any(r.get("Transitions") for r in enabled)
        whole = [r for r in enabled if _whole_bucket(r)]
        days = [
            r["NoncurrentVersionExpiration"].get("NoncurrentDays")
            for r in whole
            if r.get("NoncurrentVersionExpiration")
        ]
        known = [int(d) for d in days if d is not None]
        bucket.noncurrent_days = min(known) if known else None
    _read_uploads(s3, bucket, settings)
    versioned = bucket.versioning in ("Enabled", "Suspended")
    if versioned and bucket.lifecycle_read and bucket.noncurrent_days is None:
        _read_versions(s3, bucket, settings)
    elif "versions" not in bucket.errors and versioned and not bucket.lifecycle_read:
        bucket.errors["versions"] = "not listed: the lifecycle could not be read"


def _whole_bucket(rule: dict[str, Any]) -> bool:
    if rule.get("Prefix"):
        return False
    rule_filter = rule.get("Filter")
    return not rule_filter or rule_filter == {"Prefix": ""}


def _read_uploads(s3: Any, bucket: _Bucket, settings: MeasureSettings) -> None:
    uploads: list[dict[str, Any]] = []
    markers: dict[str, str] = {}
    try:
        while True:
            page = s3.list_multipart_uploads(Bucket=bucket.name, MaxUploads=1000, **markers)
            uploads.extend(page.get("Uploads", []))
            if len(uploads) >= settings.upload_cap:
                bucket.uploads_partial = bucket.uploads_partial or bool(page.get("IsTruncated"))
                uploads = uploads[: settings.upload_cap]
                break
            if not page.get("IsTruncated"):
                break
            markers = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}
        result = []
        for index, upload in enumerate(uploads):
            size = _upload_size(s3, bucket.name, upload, settings) if index < settings.sized_uploads else None
            if size is None:
                bucket.uploads_partial = True
            result.append(
                MultipartUpload(
                    initiated=upload["Initiated"],
                    bytes=size,
                    storage_class=upload.get("StorageClass") or "STANDARD",
                    key=upload.get("Key"),
                )
            )
        bucket.uploads = result
    except (ClientError, BotoCoreError) as exc:
        bucket.errors["multipart"] = _why(exc)


def _upload_size(s3: Any, name: str, upload: dict[str, Any], settings: MeasureSettings) -> int | None:
    total, marker = 0, 0
    for _ in range(settings.parts_pages):
        page = s3.list_parts(
            Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"], MaxParts=1000, PartNumberMarker=marker
        )
        total += sum(int(part.get("Size", 0)) for part in page.get("Parts", []))
        if not page.get("IsTruncated"):
            return total
        marker = int(page["NextPartNumberMarker"])
    return None  # more parts than the cap allows listing: unsized


def _read_versions(s3: Any, bucket: _Bucket, settings: MeasureSettings) -> None:
    by_class: dict[str, int] = {}
    listed = noncurrent = 0
    markers: dict[str, str] = {}
    try:
        while True:
            page = s3.list_object_versions(Bucket=bucket.name, MaxKeys=min(1000, settings.version_cap), **markers)
            for version in page.get("Versions", []):
                listed += 1
                if not version.get("IsLatest"):
                    noncurrent += 1
                    cls = _billing_class(version.get("StorageClass") or "STANDARD")
                    by_class[cls] = by_class.get(cls, 0) + int(version.get("Size", 0))
            listed += len(page.get("DeleteMarkers", []))
            if not page.get("IsTruncated"):
                break
            if listed >= settings.version_cap:
                bucket.noncurrent_partial = True
                break
            markers = {"KeyMarker": page["NextKeyMarker"]}
            if page.get("NextVersionIdMarker"):
                markers["VersionIdMarker"] = page["NextVersionIdMarker"]
        bucket.noncurrent, bucket.noncurrent_versions = by_class, noncurrent
    except (ClientError, BotoCoreError) as exc:
        bucket.errors["versions"] = _why(exc)


def _billing_class(storage_class: str) -> str:
    if storage_class == "INTELLIGENT_TIERING":
        return "INTELLIGENT_TIERING_FA"  # the listing does not say which access tier
    if storage_class in ("REDUCED_REDUNDANCY", "STANDARD", "EXPRESS_ONEZONE", "OUTPOSTS", "SNOW"):
        return "STANDARD"
    return storage_class


def _bucket_usage(b: _Bucket) -> BucketUsage:
    return BucketUsage(
        name=b.name,
        storage=b.storage,
        objects=b.objects,
        requests=b.requests,
        versioning=b.versioning,
        noncurrent_expiration_days=b.noncurrent_days,
        noncurrent_expiry_known=b.lifecycle_read,
        lifecycle_transitions=b.transitions,
        noncurrent=b.noncurrent,
        noncurrent_versions=b.noncurrent_versions,
        noncurrent_partial=b.noncurrent_partial,
        multipart_uploads=b.uploads,
        multipart_partial=b.uploads_partial,
        errors=b.errors,
        notes=b.notes,
    )


# ---------------------------------------------------------------- DynamoDB


def _read_table(dynamodb: Any, table: dict[str, Any]) -> None:
    errors: dict[str, str] = table["errors"]
    try:
        desc = dynamodb.describe_table(TableName=table["name"])["Table"]
    except (ClientError, BotoCoreError) as exc:
        for aspect in ("table", "capacity", "pitr"):
            errors[aspect] = _why(exc)
        return
    indexes = desc.get("GlobalSecondaryIndexes", [])
    summary = desc.get("BillingModeSummary") or {}
    throughput = desc.get("ProvisionedThroughput") or {}
    table["index_names"] = [i["IndexName"] for i in indexes]
    table["size"] = int(desc.get("TableSizeBytes", 0)) + sum(int(i.get("IndexSizeBytes", 0)) for i in indexes)
    table["items"] = int(desc.get("ItemCount", 0))
    table["billing_mode"] = summary.get("BillingMode") or (
        "PROVISIONED" if throughput.get("ReadCapacityUnits") else "PAY_PER_REQUEST"
    )
    table["table_class"] = (desc.get("TableClassSummary") or {}).get("TableClass") or "STANDARD"
    if table["billing_mode"] == "PROVISIONED":
        units = [throughput, *[i.get("ProvisionedThroughput") or {} for i in indexes]]
        table["provisioned_rcu"] = sum(int(u.get("ReadCapacityUnits", 0)) for u in units)
        table["provisioned_wcu"] = sum(int(u.get("WriteCapacityUnits", 0)) for u in units)
    try:
        backups = dynamodb.describe_continuous_backups(TableName=table["name"])["ContinuousBackupsDescription"]
        pitr = (backups.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus")
        table["pitr"] = pitr == "ENABLED"
    except (ClientError, BotoCoreError) as exc:
        errors["pitr"] = _why(exc)


def _table_usage(t: dict[str, Any]) -> TableUsage:
    return TableUsage(
        name=t["name"],
        size=t.get("size", 0),
        items=t.get("items"),
        billing_mode=t.get("billing_mode", "PAY_PER_REQUEST"),
        provisioned_rcu=t.get("provisioned_rcu", 0),
        provisioned_wcu=t.get("provisioned_wcu", 0),
        read_units=None if "capacity" in t["errors"] else t.get("read_units"),
        write_units=None if "capacity" in t["errors"] else t.get("write_units"),
        pitr=t.get("pitr", False),
        table_class=t.get("table_class", "STANDARD"),
        errors=t["errors"],
        notes=t["notes"],
    )


# ---------------------------------------------------------------- CloudWatch


@dataclass(frozen=True)
class _Query:
    metric: str
    namespace: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    apply: Callable[[list[tuple[datetime, float]]], None]  # receives (timestamp, value) pairs


def _read_metrics(
    cloudwatch: Any,
    buckets: list[_Bucket],
    tables: dict[str, dict[str, Any]],
    *,
    settings: MeasureSettings,
    now: datetime,
) -> None:
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=settings.days)
    end = now.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
    queries: list[_Query] = []
    by_name = {b.name: b for b in buckets if "storage" not in b.errors}
    if by_name:
        try:
            listed = _list_s3_metrics(cloudwatch, set(by_name))
        except (ClientError, BotoCoreError) as exc:
            for bucket in by_name.values():
                bucket.errors["storage"] = bucket.errors["requests"] = _why(exc)
            by_name = {}
            listed = []
        queries += _s3_queries(by_name, listed, today)
    queries += _table_queries(tables, today)
    if not queries:
        return
    try:
        _run_queries(cloudwatch, queries, start=start, end=end)
    except (ClientError, BotoCoreError) as exc:
        for bucket in by_name.values():
            bucket.errors["storage"] = bucket.errors["requests"] = _why(exc)
        for table in tables.values():
            table["errors"].setdefault("capacity", _why(exc))
        return
    for table in tables.values():
        if "table" not in table["errors"] and not any(table.get("_days", {}).values()):
            table["notes"].append(
                f"no consumed-capacity datapoints in the last {settings.days} full days (an idle table reports none)"
            )
    for bucket in by_name.values():
        if not bucket.storage:
            bucket.notes.append("no storage metrics yet (CloudWatch reports a new or empty bucket after a day)")


def _list_s3_metrics(cloudwatch: Any, names: set[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:
        page = cloudwatch.list_metrics(Namespace="AWS/S3", **token)
        for metric in page.get("Metrics", []):
            dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            if dims.get("BucketName") in names:
                found.append(metric)
        if not page.get("NextToken"):
            return found
        token = {"NextToken": page["NextToken"]}


def _full_days(points: list[tuple[datetime, float]], today: datetime) -> list[float]:
    return [value for stamp, value in points if stamp < today]


def _s3_queries(by_name: dict[str, _Bucket], listed: list[dict[str, Any]], today: datetime) -> list[_Query]:
    queries: list[_Query] = []
    requests: dict[str, dict[str, list[float]]] = {}
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for metric in listed:
        name = metric["MetricName"]
        dims = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))
        if (name, dims) in seen:
            continue
        seen.add((name, dims))
        d = dict(dims)
        bucket = by_name[d["BucketName"]]
        if name == "BucketSizeBytes" and "StorageType" in d:
            storage_type = d["StorageType"]
            cls = STORAGE_TYPES.get(storage_type)
            if cls is None:
                cls = "STANDARD"
                bucket.notes.append(f"unknown storage type {storage_type}: priced as STANDARD")

            def add_storage(points: list[tuple[datetime, float]], bucket: _Bucket = bucket, cls: str = cls) -> None:
                if points:
                    latest = max(points)[1]
                    bucket.storage[cls] = bucket.storage.get(cls, 0) + int(latest)

            # Maximum: S3 publishes one datapoint per day, so every statistic gives the same value.
            queries.append(_Query(name, "AWS/S3", dims, "Maximum", add_storage))
        elif name == "NumberOfObjects" and d.get("StorageType") == "AllStorageTypes":

            def set_objects(points: list[tuple[datetime, float]], bucket: _Bucket = bucket) -> None:
                if points:
                    bucket.objects = int(max(points)[1])

            queries.append(_Query(name, "AWS/S3", dims, "Maximum", set_objects))
        elif name in REQUEST_METRICS and d.get("FilterId") == REQUEST_FILTER:
            sums = requests.setdefault(bucket.name, {})

            def add_requests(
                points: list[tuple[datetime, float]],
                bucket: _Bucket = bucket,
                field_name: str = REQUEST_METRICS[name],
                sums: dict[str, list[float]] = sums,
            ) -> None:
                days = _full_days(points, today)
                sums[field_name] = days
                bucket.requests = _requests(sums, bucket)

            queries.append(_Query(name, "AWS/S3", dims, "Sum", add_requests))
    return queries


def _requests(sums: dict[str, list[float]], bucket: _Bucket) -> Requests | None:
    days = max((len(v) for v in sums.values()), default=0)
    if days == 0:
        if "requests: metrics enabled, but no full day of data yet" not in bucket.notes:
            bucket.notes.append("requests: metrics enabled, but no full day of data yet")
        return None
    monthly = {k: round(sum(v) / days * float(DAYS_PER_MONTH)) for k, v in sums.items()}
    named = {k: v for k, v in monthly.items() if k != "all"}
    other = named.pop("other", 0)
    if "all" in monthly:
        other = max(other, monthly["all"] - sum(named.values()))
    return Requests(**named, other=other)


def _table_queries(tables: dict[str, dict[str, Any]], today: datetime) -> list[_Query]:
    queries: list[_Query] = []
    for table in tables.values():
        if "table" in table["errors"]:
            continue
        for metric, field_name in (
            ("ConsumedReadCapacityUnits", "read_units"),
            ("ConsumedWriteCapacityUnits", "write_units"),
        ):
            table[field_name] = 0.0
            table.setdefault("_days", {})
            for index in [None, *table.get("index_names", [])]:
                dims = [("TableName", table["name"])]
                if index is not None:
                    dims.append(("GlobalSecondaryIndexName", index))

                def add(
                    points: list[tuple[datetime, float]],
                    table: dict[str, Any] = table,
                    field_name: str = field_name,
                    label: str = f"{metric}:{index}",
                ) -> None:
                    days = _full_days(points, today)
                    if days:
                        table[field_name] += sum(days) / len(days) * float(DAYS_PER_MONTH)
                    table["_days"][label] = len(days)

                queries.append(_Query(metric, "AWS/DynamoDB", tuple(sorted(dims)), "Sum", add))
    return queries


def _chunks(items: list[T], size: int) -> Iterable[list[T]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


def _run_queries(cloudwatch: Any, queries: list[_Query], *, start: datetime, end: datetime) -> None:
    for chunk in _chunks(queries, _BATCH):
        spec = [
            {
                "Id": f"q{index}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": q.namespace,
                        "MetricName": q.metric,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in q.dimensions],
                    },
                    "Period": 86400,
                    "Stat": q.stat,
                },
                "ReturnData": True,
            }
            for index, q in enumerate(chunk)
        ]
        points: dict[str, list[tuple[datetime, float]]] = {f"q{i}": [] for i in range(len(chunk))}
        token: dict[str, str] = {}
        while True:
            page = cloudwatch.get_metric_data(
                MetricDataQueries=spec, StartTime=start, EndTime=end, ScanBy="TimestampDescending", **token
            )
            for result in page.get("MetricDataResults", []):
                stamps = [_utc(t) for t in result.get("Timestamps", [])]
                points[result["Id"]].extend(zip(stamps, (float(v) for v in result.get("Values", [])), strict=False))
            if not page.get("NextToken"):
                break
            token = {"NextToken": page["NextToken"]}
        for index, query in enumerate(chunk):
            query.apply(points[f"q{index}"])


def _utc(stamp: datetime) -> datetime:
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)

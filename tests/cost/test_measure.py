"""Usage measured from a moto server: seeded CloudWatch metrics, real versions and multipart uploads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cost_helpers import GIB, clients, config_text, seed_daily_sum, seed_objects, seed_storage

from cargohold_core.config import Environment, load_project
from toolkit.cost import checks
from toolkit.cost.estimate import estimate
from toolkit.cost.measure import MeasureSettings, _Query, _run_queries, measure
from toolkit.cost.prices import DAYS_PER_MONTH, load_prices
from toolkit.demo.emulator import Emulator
from toolkit.findings import Status

BODY = """
buckets:
  data: {versioning: false}
  docs:
    versioning: true
    lifecycle:
      - id: tidy
        noncurrent_expiration_days: 30
  history: {versioning: true}
tables:
  orders:
    hash_key: {name: id}
    billing: provisioned
    capacity: {read: 50, write: 20}
"""


@pytest.fixture
def env(moto: Emulator, write_config: Callable[..., Path], project_name: str) -> Environment:
    path = write_config(config_text(project_name, endpoint=moto.endpoint, body=BODY))
    return load_project(path).environment("t")


def _names(env: Environment) -> dict[str, str]:
    return {**{k: b.name for k, b in env.buckets.items()}, **{k: t.name for k, t in env.tables.items()}}


def _create(moto: Emulator, env: Environment) -> dict[str, Any]:
    c = clients(moto)
    s3, ddb = c["s3"], c["dynamodb"]
    n = _names(env)
    for key in ("data", "docs", "history"):
        s3.create_bucket(Bucket=n[key])
    for key in ("docs", "history"):
        s3.put_bucket_versioning(Bucket=n[key], VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(
        Bucket=n["docs"],
        LifecycleConfiguration={
            "Rules": [
                {"ID": "tidy", "Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}
            ]
        },
    )
    ddb.create_table(
        TableName=n["orders"],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 50, "WriteCapacityUnits": 20},
    )
    return c


def test_storage_requests_and_capacity_from_cloudwatch(moto: Emulator, env: Environment) -> None:
    c = _create(moto, env)
    cw, n = c["cloudwatch"], _names(env)
    seed_storage(cw, n["data"], "StandardStorage", 50 * GIB)
    seed_storage(cw, n["data"], "StandardIAStorage", 100 * GIB)
    seed_storage(cw, n["data"], "StandardIASizeOverhead", 1 * GIB)  # billed at the IA rate
    seed_storage(cw, n["data"], "GlacierInstantRetrievalStorage", 10 * GIB)
    seed_objects(cw, n["data"], 123_456)
    filt = {"BucketName": n["data"], "FilterId": "EntireBucket"}
    seed_daily_sum(cw, "AWS/S3", "GetRequests", filt, 24_000)
    seed_daily_sum(cw, "AWS/S3", "PutRequests", filt, 2_400)
    seed_daily_sum(cw, "AWS/S3", "AllRequests", filt, 30_000)
    seed_daily_sum(cw, "AWS/DynamoDB", "ConsumedReadCapacityUnits", {"TableName": n["orders"]}, 86_400 * 2)

    usage = measure(env, settings=MeasureSettings(workers=4))

    data = usage.buckets["data"]
    assert data.storage == {"STANDARD": 50 * GIB, "STANDARD_IA": 101 * GIB, "GLACIER_IR": 10 * GIB}
    assert data.objects == 123_456
    assert data.requests is not None
    per_month = float(DAYS_PER_MONTH)
    assert data.requests.get == round(24_000 * per_month)
    assert data.requests.put == round(2_400 * per_month)
    assert data.requests.other == round(30_000 * per_month) - data.requests.get - data.requests.put
    assert data.versioning == "Disabled" and data.noncurrent is None  # not listed: unversioned
    table = usage.tables["orders"]
    assert table.billing_mode == "PROVISIONED" and (table.provisioned_rcu, table.provisioned_wcu) == (50, 20)
    assert table.read_units == pytest.approx(86_400 * 2 * per_month)
    assert table.write_units == 0
    assert "no consumed-capacity datapoints" not in " ".join(table.notes)

    est = estimate(env, usage, load_prices())
    lines = {line.item: line.usd for line in next(r for r in est.resources if r.key == "data").lines}
    assert lines["storage STANDARD"] == Decimal("1.15")
    assert lines["storage STANDARD_IA"] == Decimal("1.2625")
    assert lines["storage GLACIER_IR"] == Decimal("0.04")
    # One ListMetrics page and one GetMetricData call cover every bucket and table.
    assert usage.api_calls_by_operation["GetMetricData"] == 1
    assert usage.api_calls_by_operation["ListMetrics"] == 1
    assert usage.api_calls == sum(usage.api_calls_by_operation.values())

    findings = checks.evaluate(env, usage, est)
    capacity = next(f for f in findings if f.check.id == "cost.overprovisioned-capacity")
    assert capacity.status is Status.FAIL  # 2 RCU/s used of 50; 0 WCU/s of 20
    assert capacity.details["read_suggested"] == 3 and capacity.details["write_suggested"] == 1


def test_noncurrent_versions_and_multipart_leaks_from_real_objects(moto: Emulator, env: Environment) -> None:
    c = _create(moto, env)
    s3, n = c["s3"], _names(env)
    for size in (1000, 2000, 3000):
        s3.put_object(Bucket=n["history"], Key="report.pdf", Body=b"x" * size)
        s3.put_object(Bucket=n["docs"], Key="report.pdf", Body=b"x" * size)
    upload = s3.create_multipart_upload(Bucket=n["history"], Key="big.bin")
    for part in (1, 2):
        s3.upload_part(
            Bucket=n["history"], Key="big.bin", UploadId=upload["UploadId"], PartNumber=part, Body=b"y" * 5 * 2**20
        )

    usage = measure(env)

    history, docs = usage.buckets["history"], usage.buckets["docs"]
    assert history.noncurrent == {"STANDARD": 3000} and history.noncurrent_versions == 2
    assert not history.noncurrent_partial
    assert docs.noncurrent is None and docs.noncurrent_expiration_days == 30  # expiry set: not listed
    assert usage.api_calls_by_operation["ListObjectVersions"] == 1  # only `history` was listed
    assert history.multipart_uploads is not None and len(history.multipart_uploads) == 1
    assert history.multipart_uploads[0].bytes == 10 * 2**20

    est = estimate(env, usage, load_prices())
    findings = checks.evaluate(env, usage, est, thresholds=checks.Thresholds(multipart_min_age_hours=0))
    by = {(f.check.id, f.resource.rsplit(":", 1)[-1]): f for f in findings}
    versions = by[("cost.noncurrent-versions", n["history"])]
    assert versions.status is Status.FAIL and versions.details["noncurrent_bytes"] == 3000
    assert versions.details["monthly_usd"] == round(3000 / GIB * 0.023, 4)
    assert by[("cost.noncurrent-versions", n["docs"])].status is Status.PASS
    uploads = by[("cost.incomplete-multipart", n["history"])]
    assert uploads.status is Status.FAIL
    assert uploads.details["bytes"] == 10 * 2**20 and uploads.details["keys"] == ["big.bin"]
    assert by[("cost.incomplete-multipart", n["docs"])].status is Status.PASS


def test_version_listing_stops_at_its_cap(moto: Emulator, env: Environment) -> None:
    c = _create(moto, env)
    s3, n = c["s3"], _names(env)
    for index in range(6):
        s3.put_object(Bucket=n["history"], Key="k", Body=b"z" * (index + 1))
    usage = measure(env, settings=MeasureSettings(version_cap=2))
    history = usage.buckets["history"]
    assert history.noncurrent_partial
    findings = checks.evaluate(env, usage, estimate(env, usage, load_prices()))
    versions = next(f for f in findings if f.check.id == "cost.noncurrent-versions" and n["history"] in f.resource)
    assert "at least" in versions.message


def test_a_missing_bucket_is_an_error_not_zero(moto: Emulator, env: Environment) -> None:
    usage = measure(env)  # nothing created
    data = usage.buckets["data"]
    assert "NoSuchBucket" in data.errors["storage"]
    est = estimate(env, usage, load_prices())
    assert est.incomplete
    findings = checks.evaluate(env, usage, est)
    assert {f.status for f in findings if n_in(f.resource, usage)} == {Status.ERROR}


def n_in(resource: str, usage: Any) -> bool:
    return any(b.name and resource.endswith(b.name) for b in usage.buckets.values())


class _FakeCloudWatch:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def get_metric_data(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(len(kw["MetricDataQueries"]))
        stamp = datetime(2026, 1, 1, tzinfo=UTC)
        return {
            "MetricDataResults": [
                {"Id": q["Id"], "Timestamps": [stamp], "Values": [1.0]} for q in kw["MetricDataQueries"]
            ]
        }


def test_queries_are_batched_500_per_call() -> None:
    seen: list[float] = []
    queries = [
        _Query("M", "NS", (("D", str(i)),), "Sum", lambda points: seen.append(points[0][1])) for i in range(1_201)
    ]
    fake = _FakeCloudWatch()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    _run_queries(fake, queries, start=start, end=start + timedelta(days=1))
    assert fake.calls == [500, 500, 201]
    assert len(seen) == 1_201

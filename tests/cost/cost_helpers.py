"""Plain helpers for the cost tests (fixtures are in conftest.py)."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from cargohold_core.aws import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from toolkit.demo.emulator import Emulator

GIB = 2**30


def config_text(project: str, *, endpoint: str | None, body: str, budget: str | None = None) -> str:
    env = 'environments:\n  t:\n    region: us-east-1\n    account: "123456789012"\n'
    if endpoint:
        env += f"    endpoint: {endpoint}\n"
    if budget:
        env += f"    budget: {budget}\n"
    return f"project: {project}\n{env}{textwrap.dedent(body)}"


def clients(moto: Emulator) -> dict[str, Any]:
    kw = {
        "endpoint_url": moto.endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": FAKE_ACCESS_KEY,
        "aws_secret_access_key": FAKE_SECRET_KEY,
    }
    return {name: boto3.client(name, **kw) for name in ("s3", "cloudwatch", "dynamodb")}  # type: ignore[call-overload]


def midnight(days_ago: int = 0) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_ago)


def seed_storage(cloudwatch: Any, bucket: str, storage_type: str, size: int) -> None:
    """Daily storage datapoints as S3 publishes them (00:00 UTC): `size` today, less on the days before
    (the latest one must win)."""
    for days_ago, value in ((2, size // 3), (1, size // 2), (0, size)):
        cloudwatch.put_metric_data(
            Namespace="AWS/S3",
            MetricData=[
                {
                    "MetricName": "BucketSizeBytes",
                    "Dimensions": [
                        {"Name": "BucketName", "Value": bucket},
                        {"Name": "StorageType", "Value": storage_type},
                    ],
                    "Timestamp": midnight(days_ago),
                    "Value": float(value),
                    "Unit": "Bytes",
                }
            ],
        )


def seed_objects(cloudwatch: Any, bucket: str, count: int) -> None:
    cloudwatch.put_metric_data(
        Namespace="AWS/S3",
        MetricData=[
            {
                "MetricName": "NumberOfObjects",
                "Dimensions": [
                    {"Name": "BucketName", "Value": bucket},
                    {"Name": "StorageType", "Value": "AllStorageTypes"},
                ],
                "Timestamp": midnight(0),
                "Value": float(count),
                "Unit": "Count",
            }
        ],
    )


def seed_daily_sum(cloudwatch: Any, namespace: str, metric: str, dims: dict[str, str], per_day: float) -> None:
    """`per_day` spread as one datapoint at noon on each of the last two full days."""
    for days_ago in (1, 2):
        cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                    "Timestamp": midnight(days_ago) + timedelta(hours=12),
                    "Value": per_day,
                    "Unit": "Count",
                }
            ],
        )

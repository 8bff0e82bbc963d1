"""The estimate, the projection and the leak heuristics, as pure functions over a usage model."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cost_helpers import GIB, config_text

from cargohold_core.config import Environment, load_project
from toolkit.cost import checks
from toolkit.cost.estimate import estimate, lifecycle_split, project
from toolkit.cost.prices import load_prices
from toolkit.cost.usage import BucketUsage, MultipartUpload, Requests, TableUsage, Usage
from toolkit.findings import CATALOGUE, Severity, Status

BODY = """
buckets:
  archive:
    versioning: false
    lifecycle:
      - id: age
        transitions:
          - {days: 90, storage_class: STANDARD_IA}
          - {days: 365, storage_class: GLACIER_IR}
  logs:
    versioning: false
    lifecycle:
      - id: expire
        expiration_days: 180
  media:
    versioning: true
tables:
  orders:
    hash_key: {name: id}
    billing: provisioned
    capacity: {read: 100, write: 10}
"""


@pytest.fixture
def env(write_config: Callable[..., Path]) -> Callable[..., Environment]:
    def make(budget: str | None = None) -> Environment:
        path = write_config(config_text("est", endpoint=None, body=BODY, budget=budget))
        return load_project(path).environment("t")

    return make


def _usage(**buckets: BucketUsage) -> Usage:
    return Usage(buckets=buckets)


def test_50_gb_standard_bucket_costs_1_15(env: Callable[..., Environment]) -> None:
    usage = _usage(media=BucketUsage(storage={"STANDARD": 50 * GIB}))
    est = estimate(env(), usage, load_prices())
    assert est.total == Decimal("1.15")
    out = est.to_json()
    assert out["total_monthly_usd"] == 1.15
    assert out["currency"] == "USD" and out["prices_as_of"] == load_prices().as_of
    (resource,) = out["resources"]
    assert resource["kind"] == "bucket" and resource["name"] == "est-t-media" and resource["monthly_usd"] == 1.15
    assert resource["lines"] == [
        {"item": "storage STANDARD", "quantity": 50.0, "unit": "GB-month", "rate_usd": 0.023, "monthly_usd": 1.15}
    ]


def test_every_line_item(env: Callable[..., Environment]) -> None:
    usage = Usage(
        buckets={
            "media": BucketUsage(
                storage={"STANDARD": 10 * GIB, "STANDARD_IA": 100 * GIB},
                requests=Requests(get=1_000_000, head=500_000, put=20_000, list=10_000, delete=99_999),
                retrieval={"STANDARD_IA": 10 * GIB},
                transfer_out=110 * GIB,
            )
        },
        tables={
            "orders": TableUsage(
                size=30 * GIB, billing_mode="PAY_PER_REQUEST", read_units=50e6, write_units=10e6, pitr=True
            )
        },
    )
    est = estimate(env(), usage, load_prices())
    bucket, table = est.resources
    items = {line.item: line.usd for line in bucket.lines}
    assert items == {
        "storage STANDARD": Decimal("0.23"),
        "storage STANDARD_IA": Decimal("1.25"),
        "requests PUT/COPY/POST/LIST": Decimal("0.15"),  # 30,000 x $0.005/1,000; DELETE is free
        "requests GET/HEAD/SELECT/other": Decimal("0.6"),  # 1.5 million x $0.0004/1,000
        "retrieval STANDARD_IA": Decimal("0.1"),
        "transfer out to the internet": Decimal("9.9"),  # no free tier by default
    }
    assert {line.item: line.usd for line in table.lines} == {
        "on-demand reads": Decimal("6.25"),
        "on-demand writes": Decimal("6.25"),
        "storage": Decimal("7.5"),
        "point-in-time recovery": Decimal("6"),
    }
    free = estimate(env(), usage, load_prices(), free_tier=True)
    assert free.total == est.total - Decimal("9") - Decimal("6.25")  # 100 GB transfer, 25 GB DynamoDB storage


def test_standard_tiering_is_priced_over_all_buckets_together(env: Callable[..., Environment]) -> None:
    usage = _usage(
        media=BucketUsage(storage={"STANDARD": 40_960 * GIB}), logs=BucketUsage(storage={"STANDARD": 61_440 * GIB})
    )
    est = estimate(env(), usage, load_prices())
    # 100 TB in all: 50 TB at $0.023 + 50 TB at $0.022, shared pro rata.
    assert est.total == Decimal(51200) * Decimal("0.023") + Decimal(51200) * Decimal("0.022")
    media, _logs = est.resources
    assert media.monthly_usd == Decimal(40_960) * Decimal("0.0225")


def test_unknown_region_fails_before_any_estimate(write_config: Callable[..., Path]) -> None:
    path = write_config(config_text("est", endpoint=None, body=BODY).replace("us-east-1", "sa-east-1"))
    env = load_project(path).environment("t")
    with pytest.raises(Exception, match="sa-east-1"):
        estimate(env, Usage(), load_prices())


def test_lifecycle_split_uniform_ages() -> None:
    from cargohold_core.config.schema import LifecycleRule

    rule = LifecycleRule.model_validate(
        {
            "id": "r",
            "transitions": [{"days": 90, "storage_class": "STANDARD_IA"}, {"days": 365, "storage_class": "GLACIER_IR"}],
        }
    )
    split, applied = lifecycle_split(Decimal(365), [rule], horizon_days=365)
    assert split == {"STANDARD": Decimal(90), "STANDARD_IA": Decimal(275)}
    assert applied == ("r",)
    split, _ = lifecycle_split(Decimal(730), [rule], horizon_days=730)
    assert split == {"STANDARD": Decimal(90), "STANDARD_IA": Decimal(275), "GLACIER_IR": Decimal(365)}


def test_projection_applies_config_lifecycle(env: Callable[..., Environment]) -> None:
    usage = _usage(
        archive=BucketUsage(storage={"STANDARD": 365 * GIB}),
        logs=BucketUsage(storage={"STANDARD": 365 * GIB}),
        media=BucketUsage(storage={"STANDARD": 10 * GIB}),
    )
    e = env()
    est = estimate(e, usage, load_prices())
    proj = project(e, usage, est, horizon_days=365)
    by_key = {b.key: b for b in proj.buckets}
    assert set(by_key) == {"archive", "logs"}  # media has no transition or expiration
    assert by_key["archive"].projected_usd == Decimal(90) * Decimal("0.023") + Decimal(275) * Decimal("0.0125")
    assert by_key["logs"].projected_gb == {"STANDARD": Decimal(180)}  # expired after 180 of 365 days
    out = proj.to_json()
    assert "uniform" in out["model"] and out["horizon_days"] == 365
    assert out["total_monthly_usd_projected"] == pytest.approx(
        float(est.total - by_key["archive"].saving - by_key["logs"].saving)
    )


def _finding(findings: list[Any], check: str, resource_part: str) -> Any:
    (found,) = [f for f in findings if f.check.id == check and resource_part in f.resource]
    return found


def test_cold_data_heuristic(env: Callable[..., Environment]) -> None:
    e = env()
    prices = load_prices()
    cases = {
        "media": BucketUsage(storage={"STANDARD": 200 * GIB}, lifecycle_transitions=False),
        "logs": BucketUsage(
            storage={"STANDARD": 200 * GIB}, objects=1000, requests=Requests(get=5), lifecycle_transitions=False
        ),
        "archive": BucketUsage(
            storage={"STANDARD": 200 * GIB}, objects=1000, requests=Requests(get=5000), lifecycle_transitions=False
        ),
    }
    usage = Usage(buckets=cases)
    findings = checks.evaluate(e, usage, estimate(e, usage, prices))
    media = _finding(findings, "cost.cold-data-in-standard", "media")
    assert media.status is Status.FAIL and "no request metrics" in media.message
    assert media.details["monthly_usd"] == 2.1  # 200 GB x ($0.023 - $0.0125)
    assert _finding(findings, "cost.cold-data-in-standard", "logs").status is Status.FAIL
    assert _finding(findings, "cost.cold-data-in-standard", "archive").status is Status.PASS
    small = Usage(buckets={"media": BucketUsage(storage={"STANDARD": 99 * GIB}, lifecycle_transitions=False)})
    assert (
        _finding(checks.evaluate(e, small, estimate(e, small, prices)), "cost.cold-data-in-standard", "media").status
        is Status.PASS
    )
    # No live lifecycle read (a usage file): config.yaml's transitions count.
    planned = Usage(buckets={"archive": BucketUsage(storage={"STANDARD": 500 * GIB})})
    result = checks.evaluate(e, planned, estimate(e, planned, prices))
    assert _finding(result, "cost.cold-data-in-standard", "archive").status is Status.PASS


def test_noncurrent_and_multipart_leaks(env: Callable[..., Environment]) -> None:
    e = env()
    now = datetime(2026, 6, 1, tzinfo=UTC)
    usage = _usage(
        media=BucketUsage(
            storage={"STANDARD": 100 * GIB},
            versioning="Enabled",
            noncurrent_expiry_known=True,
            noncurrent={"STANDARD": 40 * GIB, "STANDARD_IA": 10 * GIB},
            noncurrent_versions=1234,
            multipart_uploads=[
                MultipartUpload(initiated=now - timedelta(days=3), bytes=10 * GIB),
                MultipartUpload(initiated=now - timedelta(days=2), bytes=None),  # unsized: counted at the average
                MultipartUpload(initiated=now - timedelta(hours=1), bytes=50 * GIB),  # in progress
            ],
        )
    )
    findings = checks.evaluate(e, usage, estimate(e, usage, load_prices()), now=now)
    versions = _finding(findings, "cost.noncurrent-versions", "media")
    assert versions.status is Status.FAIL
    assert versions.details["monthly_usd"] == 1.045  # 40 x 0.023 + 10 x 0.0125
    uploads = _finding(findings, "cost.incomplete-multipart", "media")
    assert uploads.status is Status.FAIL and uploads.details["uploads"] == 2
    assert uploads.details["monthly_usd"] == 0.46  # 20 GB x $0.023
    assert "about" in uploads.message
    expiring = _usage(
        media=BucketUsage(versioning="Enabled", noncurrent_expiry_known=True, noncurrent_expiration_days=30)
    )
    result = checks.evaluate(e, expiring, estimate(e, expiring, load_prices()), now=now)
    assert _finding(result, "cost.noncurrent-versions", "media").status is Status.PASS
    unread = _usage(
        media=BucketUsage(versioning="Enabled", errors={"versions": "AccessDenied: no"}, multipart_uploads=[])
    )
    result = checks.evaluate(e, unread, estimate(e, unread, load_prices()), now=now)
    assert _finding(result, "cost.noncurrent-versions", "media").status is Status.ERROR


def test_overprovisioned_capacity(env: Callable[..., Environment]) -> None:
    e = env()
    seconds = 730 * 3600
    usage = Usage(
        tables={
            "orders": TableUsage(
                billing_mode="PROVISIONED",
                provisioned_rcu=100,
                provisioned_wcu=10,
                read_units=5 * seconds,
                write_units=8 * seconds,
            )
        }
    )
    est = estimate(e, usage, load_prices())
    finding = _finding(checks.evaluate(e, usage, est), "cost.overprovisioned-capacity", "orders")
    assert finding.status is Status.FAIL
    # Reads: 5/s of 100 -> ceil(5 / 0.7) = 8 RCU; saves 92 x 730 h x $0.00013. Writes 8/s of 10 are fine.
    assert finding.details["read_suggested"] == 8 and "write_suggested" not in finding.details
    assert finding.details["monthly_usd"] == pytest.approx(float(Decimal(92) * 730 * Decimal("0.00013")))
    busy = Usage(
        tables={
            "orders": TableUsage(
                billing_mode="PROVISIONED",
                provisioned_rcu=10,
                provisioned_wcu=10,
                read_units=5 * seconds,
                write_units=5 * seconds,
            )
        }
    )
    assert (
        _finding(
            checks.evaluate(e, busy, estimate(e, busy, load_prices())), "cost.overprovisioned-capacity", "orders"
        ).status
        is Status.PASS
    )


@pytest.mark.parametrize(
    ("gb", "status", "severity"),
    [(10, Status.PASS, Severity.HIGH), (40, Status.FAIL, Severity.LOW), (50, Status.FAIL, Severity.HIGH)],
)
def test_budget(env: Callable[..., Environment], gb: int, status: Status, severity: Severity) -> None:
    """Budget $1, warning at 80%: 10 GB = $0.23 passes, 40 GB = $0.92 warns (low), 50 GB = $1.15 fails (high)."""
    e = env(budget="{monthly_usd: 1, warn_at_percent: 80}")
    usage = _usage(media=BucketUsage(storage={"STANDARD": gb * GIB}))
    findings = checks.evaluate(e, usage, estimate(e, usage, load_prices()))
    budget = _finding(findings, "cost.budget", "est/t")
    assert budget.details["monthly_usd"] == pytest.approx(gb * 0.023)
    assert budget.status is status
    assert budget.severity is severity
    assert budget.check.id == "cost.budget"


def test_no_budget_no_finding_and_incomplete_is_an_error(env: Callable[..., Environment]) -> None:
    usage = _usage(media=BucketUsage(storage={"STANDARD": 1 * GIB}))
    assert not [
        f for f in checks.evaluate(env(), usage, estimate(env(), usage, load_prices())) if f.check.id == "cost.budget"
    ]
    e = env(budget="{monthly_usd: 100}")
    broken = _usage(media=BucketUsage(errors={"storage": "AccessDenied: no"}))
    budget = _finding(checks.evaluate(e, broken, estimate(e, broken, load_prices())), "cost.budget", "est/t")
    assert budget.status is Status.ERROR


def test_every_cost_check_is_fully_described() -> None:
    for check in checks.CHECKS:
        assert CATALOGUE.get(check.id) is check
        assert check.id.startswith("cost.") and check.category == "cost"
        for name in ("title", "service", "remediation", "config_fix"):
            assert getattr(check, name), (check.id, name)
        assert check.permissions and all(":" in p for p in check.permissions)
    assert {c.id for c in checks.CHECKS} == {
        "cost.noncurrent-versions",
        "cost.incomplete-multipart",
        "cost.cold-data-in-standard",
        "cost.overprovisioned-capacity",
        "cost.budget",
        "cost.undeclared-resources",
    }


def test_the_documented_usage_example_loads(tmp_path: Path) -> None:
    import textwrap

    from toolkit.cost import usage as usage_module

    doc = usage_module.__doc__ or ""
    example = textwrap.dedent(doc.split("Example::", 1)[1].split("\n\nOmitted", 1)[0])
    path = tmp_path / "usage.yaml"
    path.write_text(example)
    loaded = usage_module.load_usage(path)
    assert loaded.buckets["student-docs"].storage == {"STANDARD": 50 * GIB, "STANDARD_IA": 200 * GIB}
    assert loaded.tables["courses"].pitr

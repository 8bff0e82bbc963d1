"""The money: a monthly estimate per bucket and table, a lifecycle projection, and what leaks cost.

Pure functions over a `Usage`, the environment's config and a `PriceTable`; no AWS calls.

Pricing rules (they reproduce the AWS guides' arithmetic: 50 GB in S3 Standard in us-east-1 is
50 x $0.023 = $1.15 a month):

- 1 GB = 2^30 bytes and a month is 730 hours, as AWS bills.
- Tiered prices (S3 Standard and Intelligent-Tiering frequent tier by volume, transfer out, DynamoDB
  storage) are priced on the sum over every bucket/table in the estimate, then shared out pro rata.
- No free tier unless asked (`free_tier=True`): an account's free tier (100 GB transfer out, 25 GB
  DynamoDB storage) is shared with resources cargohold does not see, so by default the estimate is
  an upper bound. S3 has no always-free storage tier.
- CloudWatch's BucketSizeBytes counts every version and the parts of pending multipart uploads, so
  the storage lines already include what the leaks cost; a leak's dollar figure is the part of the
  bill that fixing it would remove, not an extra charge.
- Measured requests are priced at STANDARD rates (CloudWatch does not split requests by class);
  DELETE is free; transfer out and retrieval are priced only from a usage file (BytesDownloaded
  includes free in-region traffic).
- DynamoDB: on-demand per request unit consumed; provisioned per capacity-unit hour (table plus
  global secondary indexes); storage and PITR per GB-month of the table plus its indexes. Tables of
  class STANDARD_INFREQUENT_ACCESS are priced at STANDARD rates (not in the price table yet).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cargohold_core.config.model import Environment
from cargohold_core.config.schema import BucketSpec, LifecycleRule
from toolkit.cost.prices import GB, MONTH_HOURS, MONTH_SECONDS, PriceTable, RegionPrices
from toolkit.cost.usage import BucketUsage, TableUsage, Usage

ESTIMATE_ASPECTS = {"storage", "requests", "table", "capacity", "pitr"}  # errors that leave a figure incomplete


def gb(size: int) -> Decimal:
    return Decimal(size) / GB


def usd(value: Decimal) -> float:
    """Money in the JSON report: four decimals (1.15 stays 1.15; a few requests stay visible)."""
    return float(round(value, 4))


@dataclass(frozen=True)
class Line:
    item: str  # e.g. "storage STANDARD", "requests GET/SELECT/other"
    quantity: Decimal
    unit: str  # GB-month, 1,000 requests, million RRU, RCU-hour, GB
    rate: Decimal  # USD per unit (blended across tiers)
    usd: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "quantity": float(round(self.quantity, 6)),
            "unit": self.unit,
            "rate_usd": float(self.rate) if self.rate == self.rate.normalize() else float(round(self.rate, 8)),
            "monthly_usd": usd(self.usd),
        }


def _line(item: str, quantity: Decimal, unit: str, rate: Decimal) -> Line:
    return Line(item, quantity, unit, rate, quantity * rate)


@dataclass(frozen=True)
class ResourceCost:
    kind: str  # bucket | table
    key: str  # the config key (or AWS name for a resource not in config.yaml)
    name: str
    arn: str
    lines: tuple[Line, ...]
    incomplete: dict[str, str] = field(default_factory=dict)  # aspect -> why it could not be read
    notes: tuple[str, ...] = ()

    @property
    def monthly_usd(self) -> Decimal:
        return sum((line.usd for line in self.lines), Decimal(0))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "key": self.key,
            "name": self.name,
            "arn": self.arn,
            "monthly_usd": usd(self.monthly_usd),
            "lines": [line.to_json() for line in self.lines],
        }
        if self.incomplete:
            out["incomplete"] = self.incomplete
        if self.notes:
            out["notes"] = list(self.notes)
        return out


@dataclass(frozen=True)
class Rates:
    """Per-unit rates for this estimate: tiers already blended over the whole environment."""

    region: RegionPrices
    storage: dict[str, Decimal]  # S3, per GB-month by billing class
    transfer_out: Decimal
    dynamodb_storage: Decimal


@dataclass(frozen=True)
class Estimate:
    region: str
    currency: str
    prices_as_of: str
    free_tier: bool
    resources: tuple[ResourceCost, ...]
    rates: Rates
    assumptions: tuple[str, ...]
    # What the account holds beyond `resources` (no environment declares it); None: not looked for.
    undeclared: tuple[ResourceCost, ...] | None = None
    undeclared_error: str | None = None  # the account could not be listed

    @property
    def total(self) -> Decimal:
        """The environment's figure: the resources config.yaml declares for it."""
        return sum((r.monthly_usd for r in self.resources), Decimal(0))

    @property
    def undeclared_total(self) -> Decimal:
        return sum((r.monthly_usd for r in self.undeclared or ()), Decimal(0))

    @property
    def incomplete(self) -> bool:
        """Some usage of a declared resource could not be read (the total is then "at least")."""
        return any(r.incomplete for r in self.resources)

    @property
    def complete(self) -> bool:
        """Every declared figure was read, and the account holds nothing else (as far as it was looked at)."""
        return not self.incomplete and not self.undeclared and self.undeclared_error is None

    def coverage(self) -> str:
        buckets = sum(r.kind == "bucket" for r in self.resources)
        tables = len(self.resources) - buckets
        text = (
            f"the {_count(buckets, 'bucket')} and {_count(tables, 'table')} config.yaml declares for this environment"
        )
        if self.undeclared_error is not None:
            return f"{text}; whether the account holds others is unknown ({self.undeclared_error})"
        if self.undeclared:
            more = sum(r.kind == "bucket" for r in self.undeclared)
            return (
                f"{text} only: the account also holds {_count(more, 'bucket')} and "
                f"{_count(len(self.undeclared) - more, 'table')} no environment declares "
                "(their cost: undeclared monthly USD)"
            )
        return text if self.undeclared is None else f"{text}: everything the account holds"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resources": [r.to_json() for r in self.resources],
            "total_monthly_usd": usd(self.total),
            "currency": self.currency,
            "prices_as_of": self.prices_as_of,
            "region": self.region,
            "free_tier_applied": self.free_tier,
            "complete": self.complete,
            "covers": self.coverage(),
            "assumptions": list(self.assumptions),
        }
        if self.undeclared is not None or self.undeclared_error is not None:
            undeclared = self.undeclared or ()
            out["undeclared_monthly_usd"] = usd(self.undeclared_total)
            out["undeclared"] = {
                "buckets": sorted(r.name for r in undeclared if r.kind == "bucket"),
                "tables": sorted(r.name for r in undeclared if r.kind == "table"),
                "complete": self.undeclared_error is None and not any(r.incomplete for r in undeclared),
                "error": self.undeclared_error,
                "resources": [r.to_json() for r in undeclared],
            }
        return out


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


ASSUMPTIONS = (
    "1 GB = 2^30 bytes; a month = 730 hours; public list prices for the region, without taxes or discounts",
    "storage is the latest daily CloudWatch figure and includes noncurrent versions and pending upload parts",
    "measured requests are priced at S3 Standard request rates; DELETE requests are free",
    "transfer out and retrieval are priced only when a usage file gives them",
)


def _bucket_name(env: Environment, key: str, usage: BucketUsage) -> str:
    if usage.name:
        return usage.name
    bucket = env.buckets.get(key)
    return bucket.name if bucket else key


def _table_name(env: Environment, key: str, usage: TableUsage) -> str:
    if usage.name:
        return usage.name
    table = env.tables.get(key)
    return table.name if table else key


def table_arn(env: Environment, key: str, name: str) -> str:
    table = env.tables.get(key)
    return table.arn if table else f"arn:aws:dynamodb:{env.region}:{env.account}:table/{name}"


def rates_for(usage: Usage, prices: RegionPrices, *, free_tier: bool) -> Rates:
    """Blend each tiered price over the environment's whole volume (tiers are per account and region)."""
    volumes: dict[str, Decimal] = {}
    transfer = Decimal(0)
    for bucket in usage.buckets.values():
        for cls, size in bucket.storage.items():
            volumes[cls] = volumes.get(cls, Decimal(0)) + gb(size)
        transfer += gb(bucket.transfer_out or 0)
    table_gb = sum((gb(t.size) for t in usage.tables.values()), Decimal(0))
    storage = {cls: tiered.rate(volumes.get(cls, Decimal(0))) for cls, tiered in prices.s3.storage.items()}
    return Rates(
        region=prices,
        storage=storage,
        transfer_out=prices.s3.transfer_out.rate(transfer, free_tier=free_tier),
        dynamodb_storage=prices.dynamodb.storage.rate(table_gb, free_tier=free_tier),
    )


def bucket_lines(usage: BucketUsage, rates: Rates) -> list[Line]:
    s3 = rates.region.s3
    lines = [
        _line(f"storage {cls}", gb(size), "GB-month", rates.storage[cls])
        for cls, size in sorted(usage.storage.items())
        if size
    ]
    if usage.requests is not None:
        lines.append(
            _line(
                "requests PUT/COPY/POST/LIST",
                Decimal(usage.requests.tier1) / 1000,
                "1,000 requests",
                s3.requests_tier1["STANDARD"],
            )
        )
        lines.append(
            _line(
                "requests GET/HEAD/SELECT/other",
                Decimal(usage.requests.tier2) / 1000,
                "1,000 requests",
                s3.requests_tier2["STANDARD"],
            )
        )
    for cls, size in sorted(usage.retrieval.items()):
        rate = s3.retrieval_per_gb.get(cls)
        if rate is not None and size:
            lines.append(_line(f"retrieval {cls}", gb(size), "GB", rate))
    if usage.transfer_out:
        lines.append(_line("transfer out to the internet", gb(usage.transfer_out), "GB", rates.transfer_out))
    return lines


def table_lines(usage: TableUsage, rates: Rates) -> list[Line]:
    ddb = rates.region.dynamodb
    lines: list[Line] = []
    if usage.billing_mode == "PROVISIONED":
        lines.append(_line("provisioned read capacity", usage.provisioned_rcu * MONTH_HOURS, "RCU-hour", ddb.rcu_hour))
        lines.append(_line("provisioned write capacity", usage.provisioned_wcu * MONTH_HOURS, "WCU-hour", ddb.wcu_hour))
    else:
        if usage.read_units is not None:
            reads = Decimal(str(usage.read_units)) / 1_000_000
            lines.append(_line("on-demand reads", reads, "million RRU", ddb.read_per_million))
        if usage.write_units is not None:
            writes = Decimal(str(usage.write_units)) / 1_000_000
            lines.append(_line("on-demand writes", writes, "million WRU", ddb.write_per_million))
    lines.append(_line("storage", gb(usage.size), "GB-month", rates.dynamodb_storage))
    if usage.pitr:
        lines.append(_line("point-in-time recovery", gb(usage.size), "GB-month", ddb.pitr_gb_month))
    return lines


def estimate(env: Environment, usage: Usage, prices: PriceTable, *, free_tier: bool = False) -> Estimate:
    """The monthly estimate for every bucket and table in `usage`."""
    region = prices.region(env.region)
    rates = rates_for(usage, region, free_tier=free_tier)
    resources = _priced(env, usage.buckets, usage.tables, rates)
    undeclared = usage.undeclared
    others = None if undeclared is None else _priced(env, undeclared.buckets, undeclared.tables, rates, declared=False)
    assumptions = list(ASSUMPTIONS)
    assumptions.append(
        "free tiers applied (100 GB transfer out, 25 GB DynamoDB storage)"
        if free_tier
        else "no free tier applied: the account's free tier is shared with resources outside this estimate"
    )
    return Estimate(
        region=env.region,
        currency=prices.currency,
        prices_as_of=prices.as_of,
        free_tier=free_tier,
        resources=tuple(resources),
        rates=rates,
        assumptions=tuple(assumptions),
        undeclared=None if others is None else tuple(others),
        undeclared_error=None if undeclared is None else undeclared.error,
    )


def _priced(
    env: Environment,
    buckets: dict[str, BucketUsage],
    tables: dict[str, TableUsage],
    rates: Rates,
    *,
    declared: bool = True,
) -> list[ResourceCost]:
    """The cost of each bucket and table; `declared=False`: keyed by AWS name, none of them in config.yaml."""
    resources: list[ResourceCost] = []
    for key, bucket in buckets.items():
        name = _bucket_name(env, key, bucket)
        incomplete = {k: v for k, v in bucket.errors.items() if k in ESTIMATE_ASPECTS}
        resources.append(
            ResourceCost(
                "bucket",
                key,
                name,
                f"arn:aws:s3:::{name}",
                tuple(bucket_lines(bucket, rates)),
                incomplete,
                tuple(bucket.notes),
            )
        )
    for key, table in tables.items():
        name = _table_name(env, key, table)
        incomplete = {k: v for k, v in table.errors.items() if k in ESTIMATE_ASPECTS}
        notes = list(table.notes)
        if table.table_class == "STANDARD_INFREQUENT_ACCESS":
            notes.append("table class STANDARD_INFREQUENT_ACCESS priced at STANDARD rates")
        if table.billing_mode == "PAY_PER_REQUEST" and (table.read_units is None or table.write_units is None):
            incomplete.setdefault("capacity", "consumed capacity was not measured")
        resources.append(
            ResourceCost(
                "table",
                key,
                name,
                table_arn(env, key, name) if declared else f"arn:aws:dynamodb:{env.region}:{env.account}:table/{name}",
                tuple(table_lines(table, rates)),
                incomplete,
                tuple(notes),
            )
        )
    return resources


# ---------------------------------------------------------------- projection

# Lifecycle moves data one way along this order; INTELLIGENT_TIERING is priced at its frequent tier.
_TRANSITION_CLASS = {
    "STANDARD_IA": "STANDARD_IA",
    "ONEZONE_IA": "ONEZONE_IA",
    "INTELLIGENT_TIERING": "INTELLIGENT_TIERING_FA",
    "GLACIER_IR": "GLACIER_IR",
    "GLACIER": "GLACIER",
    "DEEP_ARCHIVE": "DEEP_ARCHIVE",
}

PROJECTION_MODEL = (
    "steady state: each bucket's current STANDARD bytes are taken as {horizon} days of writes at a constant "
    "rate (object ages uniform over 0-{horizon} days); config.yaml's enabled lifecycle rules then place the "
    "bytes older than a transition's days in its class and drop those older than expiration_days. Rules with "
    "a prefix, tag or size filter are applied to the whole bucket (an upper bound on the saving); other "
    "classes stay as measured; transition requests, minimum storage durations and retrieval are not counted"
)


@dataclass(frozen=True)
class BucketProjection:
    key: str
    name: str
    now_gb: dict[str, Decimal]
    projected_gb: dict[str, Decimal]
    now_usd: Decimal
    projected_usd: Decimal
    rules: tuple[str, ...]

    @property
    def saving(self) -> Decimal:
        return self.now_usd - self.projected_usd

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "rules": list(self.rules),
            "storage_gb_now": {k: float(round(v, 6)) for k, v in sorted(self.now_gb.items()) if v},
            "storage_gb_projected": {k: float(round(v, 6)) for k, v in sorted(self.projected_gb.items()) if v},
            "storage_monthly_usd_now": usd(self.now_usd),
            "storage_monthly_usd_projected": usd(self.projected_usd),
            "monthly_saving_usd": usd(self.saving),
        }


@dataclass(frozen=True)
class Projection:
    horizon_days: int
    buckets: tuple[BucketProjection, ...]
    total_now: Decimal
    total_projected: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "model": PROJECTION_MODEL.format(horizon=self.horizon_days),
            "horizon_days": self.horizon_days,
            "source": "config.yaml lifecycle rules (the desired state)",
            "buckets": [b.to_json() for b in self.buckets],
            "total_monthly_usd_now": usd(self.total_now),
            "total_monthly_usd_projected": usd(self.total_projected),
            "monthly_saving_usd": usd(self.total_now - self.total_projected),
        }


def lifecycle_split(
    standard: Decimal, rules: Iterable[LifecycleRule], *, horizon_days: int
) -> tuple[dict[str, Decimal], tuple[str, ...]]:
    """Where `standard` GB sit in steady state under `rules` (see PROJECTION_MODEL)."""
    enabled = [r for r in rules if r.enabled]
    steps: dict[int, str] = {}
    for rule in enabled:
        for transition in rule.transitions:
            cls = _TRANSITION_CLASS[transition.storage_class]
            steps[transition.days] = steps.get(transition.days, cls)
    expiries = [r.expiration_days for r in enabled if r.expiration_days is not None]
    end = min([horizon_days, *expiries])
    boundaries = sorted({0, *[d for d in steps if d < end], end})
    out: dict[str, Decimal] = {}
    horizon = Decimal(horizon_days)
    current = "STANDARD"
    for low, high in itertools.pairwise(boundaries):
        current = steps.get(low, current)
        share = standard * Decimal(high - low) / horizon
        out[current] = out.get(current, Decimal(0)) + share
    applied = tuple(r.id for r in enabled if r.transitions or r.expiration_days is not None)
    return out, applied


def project(env: Environment, usage: Usage, est: Estimate, *, horizon_days: int = 365) -> Projection:
    """What the storage bill becomes once config.yaml's lifecycle transitions and expirations apply."""
    buckets: list[BucketProjection] = []
    saving = Decimal(0)
    for key, bucket in usage.buckets.items():
        spec: BucketSpec | None = env.buckets[key].spec if key in env.buckets else None
        if spec is None:
            continue
        now = {cls: gb(size) for cls, size in bucket.storage.items()}
        standard = now.get("STANDARD", Decimal(0))
        split, applied = lifecycle_split(standard, spec.lifecycle, horizon_days=horizon_days)
        if not applied:
            continue
        projected = {cls: v for cls, v in now.items() if cls != "STANDARD"}
        for cls, value in split.items():
            projected[cls] = projected.get(cls, Decimal(0)) + value
        now_usd = sum((v * est.rates.storage[c] for c, v in now.items()), Decimal(0))
        projected_usd = sum((v * est.rates.storage[c] for c, v in projected.items()), Decimal(0))
        item = BucketProjection(key, _bucket_name(env, key, bucket), now, projected, now_usd, projected_usd, applied)
        saving += item.saving
        buckets.append(item)
    return Projection(horizon_days, tuple(buckets), est.total, est.total - saving)


# ---------------------------------------------------------------- leaks (what fixing them saves)


def storage_cost(by_class: dict[str, int], rates: Rates) -> Decimal:
    return sum(
        (gb(size) * rates.storage.get(cls, rates.storage["STANDARD"]) for cls, size in by_class.items()), Decimal(0)
    )


def cold_saving(standard_bytes: int, rates: Rates) -> Decimal:
    """Moving STANDARD bytes to STANDARD_IA (retrieval fees not counted)."""
    return gb(standard_bytes) * max(Decimal(0), rates.storage["STANDARD"] - rates.storage["STANDARD_IA"])


def rightsizing_saving(
    provisioned: int, consumed_per_month: float, hourly: Decimal, *, target_utilization: float
) -> tuple[int, Decimal]:
    """The capacity that runs the average consumption at `target_utilization`, and what lowering to it saves."""
    average = Decimal(str(consumed_per_month)) / MONTH_SECONDS
    right = max(1, math.ceil(float(average) / target_utilization))
    if right >= provisioned:
        return provisioned, Decimal(0)
    return right, (provisioned - right) * MONTH_HOURS * hourly


def average_per_second(units_per_month: float) -> float:
    return float(Decimal(str(units_per_month)) / MONTH_SECONDS)

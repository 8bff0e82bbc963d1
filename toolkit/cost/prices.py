"""The price table that ships with cargohold (`prices.json`): dated, per region, exact decimals.

Units (also written in the file): 1 GB = 2^30 bytes, as AWS bills GB-months; a month is 730 hours.
Tiered prices (S3 Standard's 50 TB / 450 TB / beyond, transfer out) apply per account and region, so
the estimate prices the sum over all buckets and shares the result out pro rata.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from cargohold_core.errors import CargoholdError

GB = 2**30  # bytes in a billed GB (a GiB): AWS converts Byte-Hours to GB-Months with 1,073,741,824
MONTH_HOURS = Decimal(730)
MONTH_SECONDS = MONTH_HOURS * 3600
DAYS_PER_MONTH = MONTH_HOURS / 24  # 30.4166...: daily metrics are scaled by this


class PriceError(CargoholdError):
    """The price table cannot price what was asked (unknown region or class, unreadable file)."""


@dataclass(frozen=True)
class Tier:
    gb: Decimal | None  # the width of this tier; None: everything beyond
    usd: Decimal


@dataclass(frozen=True)
class Tiered:
    tiers: tuple[Tier, ...]
    free_tier_gb: Decimal = Decimal(0)

    @property
    def first_rate(self) -> Decimal:
        return self.tiers[0].usd

    def cost(self, quantity: Decimal, *, free_tier: bool = False) -> Decimal:
        """The price of `quantity` units through the tiers (after the free tier, when applied)."""
        remaining = quantity - (min(self.free_tier_gb, quantity) if free_tier else Decimal(0))
        total = Decimal(0)
        for tier in self.tiers:
            if remaining <= 0:
                break
            used = remaining if tier.gb is None else min(remaining, tier.gb)
            total += used * tier.usd
            remaining -= used
        return total

    def rate(self, quantity: Decimal, *, free_tier: bool = False) -> Decimal:
        """The blended rate per unit for `quantity` (exactly the first tier's while it fits in it)."""
        if quantity <= 0:
            return Decimal(0) if free_tier and self.free_tier_gb > 0 else self.first_rate
        first = self.tiers[0]
        if not (free_tier and self.free_tier_gb > 0) and (first.gb is None or quantity <= first.gb):
            return first.usd
        return self.cost(quantity, free_tier=free_tier) / quantity


@dataclass(frozen=True)
class S3Prices:
    storage: dict[str, Tiered]  # per GB-month, by billing class (INTELLIGENT_TIERING_* are its tiers)
    it_monitoring_per_1000_objects: Decimal
    requests_tier1: dict[str, Decimal]  # PUT, COPY, POST, LIST per 1,000, by storage class
    requests_tier2: dict[str, Decimal]  # GET, SELECT and all other requests per 1,000 (DELETE is free)
    retrieval_per_gb: dict[str, Decimal]
    transfer_out: Tiered


@dataclass(frozen=True)
class DynamoPrices:
    write_per_million: Decimal  # on-demand write request units
    read_per_million: Decimal  # on-demand read request units
    wcu_hour: Decimal
    rcu_hour: Decimal
    storage: Tiered  # per GB-month
    pitr_gb_month: Decimal


@dataclass(frozen=True)
class RegionPrices:
    region: str
    s3: S3Prices
    dynamodb: DynamoPrices


@dataclass(frozen=True)
class PriceTable:
    as_of: str
    currency: str
    sources: dict[str, str]
    notes: tuple[str, ...]
    regions: dict[str, RegionPrices]
    file: str

    def region(self, name: str) -> RegionPrices:
        found = self.regions.get(name)
        if found is None:
            raise PriceError(
                f"no prices for region '{name}' in the price table ({self.file}, as of {self.as_of})",
                hint=f"regions available: {', '.join(sorted(self.regions))}; add the region to the price table",
            )
        return found


def _tiered(raw: Any) -> Tiered:
    if isinstance(raw, list):
        tiers, free = raw, Decimal(0)
    else:
        tiers, free = raw["tiers"], Decimal(raw.get("free_tier_gb", 0))
    return Tiered(tuple(Tier(None if t["gb"] is None else Decimal(t["gb"]), Decimal(t["usd"])) for t in tiers), free)


def _region(name: str, raw: dict[str, Any]) -> RegionPrices:
    s3, ddb = raw["s3"], raw["dynamodb"]
    return RegionPrices(
        region=name,
        s3=S3Prices(
            storage={cls: _tiered(t) for cls, t in s3["storage_gb_month"].items()},
            it_monitoring_per_1000_objects=Decimal(s3["intelligent_tiering_monitoring_per_1000_objects"]),
            requests_tier1={k: Decimal(v) for k, v in s3["requests_per_1000"]["put_copy_post_list"].items()},
            requests_tier2={k: Decimal(v) for k, v in s3["requests_per_1000"]["get_select_other"].items()},
            retrieval_per_gb={k: Decimal(v) for k, v in s3["retrieval_per_gb"].items()},
            transfer_out=_tiered(s3["transfer_out_per_gb"]),
        ),
        dynamodb=DynamoPrices(
            write_per_million=Decimal(ddb["on_demand_per_million"]["write_request_units"]),
            read_per_million=Decimal(ddb["on_demand_per_million"]["read_request_units"]),
            wcu_hour=Decimal(ddb["provisioned_per_hour"]["wcu"]),
            rcu_hour=Decimal(ddb["provisioned_per_hour"]["rcu"]),
            storage=_tiered(ddb["storage_gb_month"]),
            pitr_gb_month=Decimal(ddb["pitr_gb_month"]),
        ),
    )


def load_prices(path: Path | None = None) -> PriceTable:
    """The bundled price table (or another file of the same shape). Numbers are read as exact decimals."""
    if path is None:
        source = resources.files("toolkit.cost").joinpath("prices.json")
        text, file = source.read_text(encoding="utf-8"), "toolkit/cost/prices.json"
    else:
        try:
            text, file = path.read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise PriceError(f"cannot read the price table {path}: {exc.strerror}") from None
    try:
        raw = json.loads(text, parse_float=Decimal, parse_int=Decimal)
        return PriceTable(
            as_of=str(raw["as_of"]),
            currency=str(raw["currency"]),
            sources={str(k): str(v) for k, v in raw["sources"].items()},
            notes=tuple(str(n) for n in raw["notes"]),
            regions={name: _region(name, r) for name, r in raw["regions"].items()},
            file=file,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise PriceError(
            f"the price table {file} is malformed: {type(exc).__name__}: {exc}",
            hint="compare it with the price table that ships with cargohold (toolkit/cost/prices.json)",
        ) from None

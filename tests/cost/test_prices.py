"""The price table: its shape, and the guides' arithmetic reproduced exactly."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from toolkit.cost.prices import GB, MONTH_HOURS, PriceError, load_prices

REGIONS = {"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-south-1"}


def test_the_table_is_dated_sourced_and_covers_the_regions() -> None:
    prices = load_prices()
    assert prices.as_of.startswith("20")
    assert prices.currency == "USD"
    assert all(url.startswith("https://aws.amazon.com/") for url in prices.sources.values())
    assert set(prices.regions) >= REGIONS
    for region in prices.regions.values():
        assert set(region.s3.storage) >= {
            "STANDARD",
            "STANDARD_IA",
            "ONEZONE_IA",
            "GLACIER_IR",
            "GLACIER",
            "DEEP_ARCHIVE",
        }
        assert region.s3.storage["STANDARD"].first_rate > region.s3.storage["STANDARD_IA"].first_rate
        assert region.s3.storage["STANDARD_IA"].first_rate > region.s3.storage["GLACIER_IR"].first_rate
        assert region.s3.storage["GLACIER"].first_rate > region.s3.storage["DEEP_ARCHIVE"].first_rate
        assert region.dynamodb.write_per_million > region.dynamodb.read_per_million > 0


def test_50_gb_in_standard_in_us_east_1_is_1_15_a_month() -> None:
    s3 = load_prices().region("us-east-1").s3
    assert s3.storage["STANDARD"].cost(Decimal(50 * GB) / GB) == Decimal("1.15")


def test_other_classes_in_us_east_1() -> None:
    storage = load_prices().region("us-east-1").s3.storage
    assert storage["STANDARD_IA"].cost(Decimal(100)) == Decimal("1.25")
    assert storage["GLACIER_IR"].cost(Decimal(1000)) == Decimal("4")
    assert storage["GLACIER"].cost(Decimal(1000)) == Decimal("3.6")
    assert storage["DEEP_ARCHIVE"].cost(Decimal(1024)) == Decimal("1.01376")


def test_standard_tiers_apply_beyond_50_tb() -> None:
    standard = load_prices().region("us-east-1").s3.storage["STANDARD"]
    # 100 TB: 50 TB at $0.023 and 50 TB at $0.022.
    assert standard.cost(Decimal(102400)) == Decimal(51200) * Decimal("0.023") + Decimal(51200) * Decimal("0.022")
    assert standard.rate(Decimal(102400)) == Decimal("0.0225")
    assert standard.rate(Decimal(50)) == Decimal("0.023")


def test_dynamodb_on_demand_and_provisioned_in_us_east_1() -> None:
    ddb = load_prices().region("us-east-1").dynamodb
    # 10 million writes and 50 million reads a month, on demand.
    assert 10 * ddb.write_per_million + 50 * ddb.read_per_million == Decimal("12.5")
    # 10 WCU and 50 RCU provisioned for a 730-hour month.
    assert 10 * MONTH_HOURS * ddb.wcu_hour + 50 * MONTH_HOURS * ddb.rcu_hour == Decimal("9.49")
    assert ddb.storage.cost(Decimal(30)) == Decimal("7.5")
    assert ddb.storage.cost(Decimal(30), free_tier=True) == Decimal("1.25")  # 25 GB free


def test_transfer_out_free_tier_only_when_asked() -> None:
    transfer = load_prices().region("us-east-1").s3.transfer_out
    assert transfer.cost(Decimal(150)) == Decimal("13.5")
    assert transfer.cost(Decimal(150), free_tier=True) == Decimal("4.5")


def test_an_unknown_region_names_the_regions_available() -> None:
    with pytest.raises(PriceError) as caught:
        load_prices().region("mars-north-1")
    assert "mars-north-1" in caught.value.message
    assert caught.value.hint is not None
    for region in REGIONS:
        assert region in caught.value.hint


def test_a_malformed_table_is_a_clean_error(tmp_path: Path) -> None:
    bad = tmp_path / "prices.json"
    bad.write_text(json.dumps({"as_of": "2026-01-01", "currency": "USD"}))
    with pytest.raises(PriceError, match="malformed"):
        load_prices(bad)

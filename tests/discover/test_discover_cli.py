"""`cargohold discover` through click, registered on a fresh group as toolkit/cli.py registers it."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from tests.discover.conftest import pointed
from tests.discover.test_discover_handmade import EMPTY, build_by_hand
from toolkit.demo.emulator import Emulator
from toolkit.discover.cli import discover


@pytest.fixture
def cli() -> click.Group:
    @click.group()
    def main() -> None:
        """Test group."""

    main.add_command(discover)  # the command alone, as toolkit.cli adds it
    return main


def run(cli: click.Group, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_writes_the_fragment_and_the_imports_and_reports(cli: click.Group, tmp_path: Path, account: Emulator) -> None:
    build_by_hand(account.endpoint)
    pointed(EMPTY, tmp_path / "config.yaml", account.endpoint, "test")
    out = tmp_path / "out"
    result = run(cli, "discover", "-c", str(tmp_path / "config.yaml"), "--env", "test", "--output-dir", str(out))
    assert result.exit_code == 0, result.output
    assert "discovered 1 buckets, 1 tables, 1 principals" in result.output
    assert "Could not express (act on these before applying):" in result.output
    assert "Hardening the first apply turns on" in result.output
    assert "AmazonS3FullAccess" in result.output
    text = (out / "imports.tf").read_text()
    assert 'to = module.buckets["shop-product-images"].aws_s3_bucket.this\n  id = "shop-product-images"' in text
    assert "name: shop-product-images" in (out / "discovered.config.yaml").read_text()

    again = run(cli, "discover", "-c", str(tmp_path / "config.yaml"), "--env", "test", "--output-dir", str(out))
    assert again.exit_code == 1
    assert "already exist" in again.output and "--force" in again.output
    forced = run(
        cli,
        "discover",
        "-c",
        str(tmp_path / "config.yaml"),
        "--env",
        "test",
        "-o",
        str(out),
        "--force",
        "--format",
        "json",
    )
    assert forced.exit_code == 0
    summary = json.loads(forced.output)
    assert summary["buckets"] == {"shop-product-images": "shop-product-images"}
    assert summary["left_out"] == {"principals.shop-backend": summary["left_out"]["principals.shop-backend"]}
    assert {"to", "id"} == set(summary["imports"][0])
    assert {r["category"] for r in summary["remarks"]} >= {"could-not-express", "hardening", "opt-in", "change"}


def test_match_limits_what_is_read(cli: click.Group, tmp_path: Path, account: Emulator) -> None:
    build_by_hand(account.endpoint)
    pointed(EMPTY, tmp_path / "config.yaml", account.endpoint, "test")
    result = run(
        cli,
        "discover",
        "-c",
        str(tmp_path / "config.yaml"),
        "-e",
        "test",
        "--match",
        "shop-orders",
        "-o",
        str(tmp_path / "out"),
        "--format",
        "json",
    )
    summary = json.loads(result.output)
    assert (summary["buckets"], summary["tables"], summary["principals"]) == ({}, {"shop-orders": "shop-orders"}, {})


def test_unknown_environment_is_one_clean_error(cli: click.Group, tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(EMPTY.replace("ENDPOINT", "http://127.0.0.1:1"), encoding="utf-8")
    result = run(cli, "discover", "-c", str(tmp_path / "config.yaml"), "-e", "prod", "-o", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert "Error: no environment 'prod'" in result.output
    assert not (tmp_path / "o").exists()


def test_help_text(cli: click.Group) -> None:
    result = run(cli, "discover", "--help")
    assert result.exit_code == 0
    for option in ("--env", "--match", "--output-dir", "--force", "--include-declared", "--format"):
        assert option in result.output

"""`cost` over an account holding more than config.yaml declares: the estimate says so, never "complete"."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click
from click.testing import CliRunner
from cost_helpers import GIB, clients, config_text, seed_storage

from toolkit.demo.emulator import Emulator

NOTHING = ""  # no buckets, tables or principals
DECLARED = """
buckets:
  data: {versioning: false}
tables:
  orders:
    hash_key: {name: id}
"""
TWO_ENVS = """
environments:
  t:
    region: us-east-1
    account: "123456789012"
    endpoint: ENDPOINT
  prod:
    region: us-east-1
    account: "123456789012"
    endpoint: ENDPOINT
    overrides:
      buckets:
        data: {versioning: true}
buckets:
  data: {versioning: false}
"""


def _cost(cli: click.Group, config: Path, *extra: str) -> tuple[int, dict[str, object], str]:
    result = CliRunner().invoke(
        cli, ["cost", "-c", str(config), "-e", "t", "--format", "json", *extra], catch_exceptions=False
    )
    return result.exit_code, json.loads(result.stdout), result.stderr


def _table(moto: Emulator, name: str) -> None:
    clients(moto)["dynamodb"].create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_nothing_declared_in_an_account_with_buckets_and_tables_is_not_complete(
    cost_cli: click.Group, account: Emulator, write_config: Callable[..., Path], project_name: str
) -> None:
    config = write_config(config_text(project_name, endpoint=account.endpoint, body=NOTHING))
    c = clients(account)
    for bucket in ("legacy-uploads", "legacy-logs"):
        c["s3"].create_bucket(Bucket=bucket)
    seed_storage(c["cloudwatch"], "legacy-uploads", "StandardStorage", 50 * GIB)
    _table(account, "legacy-sessions")
    # The environment's own Terraform state bucket is not someone else's resource.
    c["s3"].create_bucket(Bucket=f"{project_name}-t-tfstate-123456789012")

    code, report, err = _cost(cost_cli, config)

    assert code == 0, err  # an info finding: shown, but no scheduler fails on it by default
    estimate = report["data"]["estimate"]  # type: ignore[index]
    assert estimate["total_monthly_usd"] == 0.0 and estimate["complete"] is False
    assert "0 buckets and 0 tables config.yaml declares" in estimate["covers"]
    assert "also holds 2 buckets and 1 table" in estimate["covers"]
    undeclared = estimate["undeclared"]
    assert undeclared["buckets"] == ["legacy-logs", "legacy-uploads"] and undeclared["tables"] == ["legacy-sessions"]
    assert estimate["undeclared_monthly_usd"] == 1.15  # 50 GB x $0.023; the empty table costs nothing
    (finding,) = [f for f in report["findings"] if f["check"] == "cost.undeclared-resources"]  # type: ignore[union-attr]
    assert finding["status"] == "fail" and finding["severity"] == "info"
    assert "$1.15/month more" in finding["message"] and "bucket legacy-uploads" in finding["message"]
    assert finding["details"]["tables"] == ["legacy-sessions"]
    assert report["data"]["leaks"] == []  # not a leak: money the estimate leaves out  # type: ignore[index]

    text = CliRunner().invoke(cost_cli, ["cost", "-c", str(config), "-e", "t"], catch_exceptions=False).stdout
    assert "complete: no" in text and "undeclared monthly USD: $1.15" in text
    assert "cost.undeclared-resources" in text


def test_everything_declared_is_complete(
    cost_cli: click.Group, account: Emulator, write_config: Callable[..., Path], project_name: str
) -> None:
    config = write_config(config_text(project_name, endpoint=account.endpoint, body=DECLARED))
    clients(account)["s3"].create_bucket(Bucket=f"{project_name}-t-data")
    _table(account, f"{project_name}-t-orders")

    code, report, err = _cost(cost_cli, config)

    assert code == 0, err
    estimate = report["data"]["estimate"]  # type: ignore[index]
    assert estimate["complete"] is True and estimate["undeclared"]["buckets"] == []
    assert estimate["covers"].endswith("everything the account holds")
    (finding,) = [f for f in report["findings"] if f["check"] == "cost.undeclared-resources"]  # type: ignore[union-attr]
    assert finding["status"] == "pass"


def test_what_another_environment_declares_is_not_undeclared(
    cost_cli: click.Group, account: Emulator, write_config: Callable[..., Path], project_name: str
) -> None:
    config = write_config(f"project: {project_name}\n" + TWO_ENVS.replace("ENDPOINT", account.endpoint))
    for env in ("t", "prod"):
        clients(account)["s3"].create_bucket(Bucket=f"{project_name}-{env}-data")

    _, report, _ = _cost(cost_cli, config)

    assert report["data"]["estimate"]["complete"] is True  # type: ignore[index]


def test_a_usage_file_plans_declared_resources_only(
    cost_cli: click.Group, write_config: Callable[..., Path], project_name: str
) -> None:
    config = write_config(config_text(project_name, endpoint=None, body=DECLARED))
    usage = write_config("buckets:\n  data: {storage: {STANDARD: 1 GB}}\n", name="usage.yaml")

    _, report, _ = _cost(cost_cli, config, "--usage", str(usage))

    estimate = report["data"]["estimate"]  # type: ignore[index]
    assert estimate["complete"] is True and "undeclared" not in estimate
    assert not [f for f in report["findings"] if f["check"] == "cost.undeclared-resources"]  # type: ignore[union-attr]

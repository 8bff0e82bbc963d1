"""`cargohold cost` through click: JSON report, exit codes, planning mode, located usage-file errors."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from cost_helpers import GIB, clients, config_text, seed_storage

from toolkit.demo.emulator import Emulator

ONE_BUCKET = """
buckets:
  data: {versioning: false}
"""


def _run(cli: click.Group, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["cost", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_budget_exceeded_is_a_finding_and_exit_2(
    cost_cli: click.Group, account: Emulator, write_config: Callable[..., Path], project_name: str
) -> None:
    moto = account  # a fresh account: the estimate is complete only when the account holds nothing else
    config = write_config(config_text(project_name, endpoint=moto.endpoint, body=ONE_BUCKET, budget="{monthly_usd: 1}"))
    c = clients(moto)
    bucket = f"{project_name}-t-data"
    c["s3"].create_bucket(Bucket=bucket)
    seed_storage(c["cloudwatch"], bucket, "StandardStorage", 50 * GIB)

    code, out, err = _run(cost_cli, "--config", str(config), "--env", "t", "--format", "json")

    assert code == 2, err
    report = json.loads(out)
    assert report["command"] == "cost" and report["account"] == "123456789012"
    estimate = report["data"]["estimate"]
    assert estimate["total_monthly_usd"] == 1.15 and estimate["currency"] == "USD" and estimate["complete"]
    (resource,) = estimate["resources"]
    assert (resource["kind"], resource["key"], resource["name"], resource["monthly_usd"]) == (
        "bucket",
        "data",
        bucket,
        1.15,
    )
    budget = next(f for f in report["findings"] if f["check"] == "cost.budget")
    assert budget["status"] == "fail" and budget["severity"] == "high"
    assert {f["status"] for f in report["findings"] if f["check"] != "cost.budget"} == {"pass"}
    assert report["stats"]["api_calls"] > 0
    assert {c["id"] for c in report["checks"]} >= {"cost.budget", "cost.noncurrent-versions"}
    # With the budget's finding muted by --fail-on, the same run exits 0.
    code, _, _ = _run(cost_cli, "--config", str(config), "--env", "t", "--format", "json", "--fail-on", "critical")
    assert code == 0


USAGE = """\
buckets:
  data:
    storage: {STANDARD: 50 GB, GLACIER_IR: 1 TB}
    requests: {get: 1000000, put: 10000}
    transfer_out: 10 GB
tables:
  orders:
    size: 2 GB
    billing_mode: PAY_PER_REQUEST
    read_units: 4000000
    write_units: 1000000
    pitr: true
"""

PLANNED = """
buckets:
  data: {versioning: false}
tables:
  orders:
    hash_key: {name: id}
"""


def test_planning_from_a_usage_file_needs_no_aws(
    cost_cli: click.Group, write_config: Callable[..., Path], project_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    config = write_config(config_text(project_name, endpoint=None, body=PLANNED, budget="{monthly_usd: 100}"))
    usage = write_config(USAGE, name="usage.yaml")

    code, out, err = _run(cost_cli, "-c", str(config), "-e", "t", "--usage", str(usage), "--format", "json")

    assert code == 0, out + err
    report = json.loads(out)
    assert report["account"] is None and report["stats"]["api_calls"] == 0
    resources = {r["key"]: r for r in report["data"]["estimate"]["resources"]}
    # 50 x 0.023 + 1024 x 0.004 + 1,010 x 0.0004... see the line items:
    lines = {line["item"]: line["monthly_usd"] for line in resources["data"]["lines"]}
    assert lines == {
        "storage STANDARD": 1.15,
        "storage GLACIER_IR": 4.096,
        "requests PUT/COPY/POST/LIST": 0.05,
        "requests GET/HEAD/SELECT/other": 0.4,
        "transfer out to the internet": 0.9,
    }
    table_lines = {line["item"]: line["monthly_usd"] for line in resources["orders"]["lines"]}
    assert table_lines == {
        "on-demand reads": 0.5,
        "on-demand writes": 0.625,
        "storage": 0.5,
        "point-in-time recovery": 0.4,
    }
    assert report["data"]["estimate"]["total_monthly_usd"] == pytest.approx(1.15 + 4.096 + 0.05 + 0.4 + 0.9 + 2.025)
    assert report["data"]["usage"]["source"] == str(usage)


def test_text_format_shows_the_estimate(
    cost_cli: click.Group, write_config: Callable[..., Path], project_name: str
) -> None:
    config = write_config(config_text(project_name, endpoint=None, body=PLANNED))
    usage = write_config("buckets:\n  data:\n    storage: {STANDARD: 50 GB}\n", name="usage.yaml")
    code, out, _ = _run(cost_cli, "-c", str(config), "-e", "t", "--usage", str(usage))
    assert code == 0
    assert f"{project_name}-t-data" in out and "$1.15" in out


@pytest.mark.parametrize("fmt", ["sarif", "junit", "markdown", "html"])
def test_every_report_format_renders_a_cost_report(
    cost_cli: click.Group, write_config: Callable[..., Path], project_name: str, tmp_path: Path, fmt: str
) -> None:
    config = write_config(config_text(project_name, endpoint=None, body=PLANNED, budget="{monthly_usd: 5}"))
    usage = write_config("buckets:\n  data:\n    storage: {STANDARD: 500 GB}\n", name="usage.yaml")
    output = tmp_path / f"report.{fmt}"
    code, _, err = _run(
        cost_cli, "-c", str(config), "-e", "t", "--usage", str(usage), "--format", fmt, "-o", str(output)
    )
    assert code == 2, err  # $11.50 against a $5 budget; and 500 GB in STANDARD with no transition
    text = output.read_text()
    assert "cost.budget" in text and "cost.cold-data-in-standard" in text


def test_an_offline_cost_report_has_no_account_for_asff_but_renders_as_ocsf(
    cost_cli: click.Group, write_config: Callable[..., Path], project_name: str, tmp_path: Path
) -> None:
    config = write_config(config_text(project_name, endpoint=None, body=PLANNED, budget="{monthly_usd: 5}"))
    usage = write_config("buckets:\n  data:\n    storage: {STANDARD: 500 GB}\n", name="usage.yaml")
    args = ("-c", str(config), "-e", "t", "--usage", str(usage))
    code, out, err = _run(cost_cli, *args, "--format", "asff")
    assert code == 1 and out == ""
    assert "an ASFF finding needs its AWS account id" in err and "--format json" in err
    code, out, _ = _run(cost_cli, *args, "--format", "ocsf")
    events = json.loads(out)
    assert code == 2 and events and all("account" not in e["cloud"] for e in events)


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("buckets:\n  data:\n    storage: {STANDARD: fifty GB}\n", "usage.yaml:3", "not a size"),
        ("buckets:\n  data:\n    storage: {PLATINUM: 1 GB}\n", "usage.yaml:3", "unknown storage class"),
        ("buckets:\n  data:\n    objecs: 3\n", "usage.yaml:3", "did you mean 'objects'"),
        ("tables:\n  orders:\n    billing_mode: ON_DEMAND\n", "usage.yaml:3", "ON_DEMAND"),
        ("buckets: [\n", "usage.yaml:", "YAML syntax error"),
    ],
)
def test_a_bad_usage_file_is_one_located_error(
    cost_cli: click.Group, write_config: Callable[..., Path], project_name: str, text: str, where: str, what: str
) -> None:
    config = write_config(config_text(project_name, endpoint=None, body=PLANNED))
    usage = write_config(text, name="usage.yaml")
    code, out, err = _run(cost_cli, "-c", str(config), "-e", "t", "--usage", str(usage))
    assert code == 1
    assert where in err and what in err, err
    assert "Traceback" not in out + err


def test_a_missing_usage_file_and_an_unpriced_region(
    cost_cli: click.Group, write_config: Callable[..., Path], project_name: str
) -> None:
    config = write_config(config_text(project_name, endpoint=None, body=PLANNED))
    code, _, err = _run(cost_cli, "-c", str(config), "-e", "t", "--usage", "nope.yaml")
    assert code == 1 and "nope.yaml" in err and "file not found" in err
    far = write_config(
        textwrap.dedent(config_text(project_name, endpoint=None, body=PLANNED)).replace("us-east-1", "sa-east-1")
    )
    usage = write_config("buckets: {}\n", name="usage.yaml")
    code, _, err = _run(cost_cli, "-c", str(far), "-e", "t", "--usage", str(usage))
    assert code == 1 and "sa-east-1" in err and "us-east-1" in err and "Traceback" not in err

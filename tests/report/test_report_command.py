"""`finish` through a real click command: waivers, --since, --output and the scheduler's exit codes."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from report_samples import BUCKET, LOGS, PITR, TABLE, TLS, VERSIONING, report

from cargohold_core.errors import ConfigError
from toolkit.findings import Finding, Report, errored, failed, passed
from toolkit.report import REPORT_FORMATS, render
from toolkit.report.command import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, finish, report_options


def run(tmp_path: Path, build: Callable[[], Report], *args: str) -> Result:
    @click.command()
    @report_options
    @click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="text")  # each command adds its own
    def fake(**options: Any) -> None:
        options.pop("env_name")
        finish(build(), config_path=tmp_path / "config.yaml", **options)

    return CliRunner().invoke(fake, ["--env", "dev", *args], catch_exceptions=False)


def findings(*items: Finding) -> Callable[[], Report]:
    return lambda: report(list(items))


def write_waivers(tmp_path: Path, *entries: tuple[str, str, str]) -> Path:
    lines = ["waivers:"]
    for check, resource, expires in entries:
        lines += [
            f"  - check: {check}",
            f"    resource: '{resource}'",
            "    reason: r",
            "    owner: o",
            f"    expires: {expires}",
        ]
    path = tmp_path / "cargohold-waivers.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


CLEAN = findings(passed(TLS, BUCKET, "ok"), passed(VERSIONING, BUCKET, "ok"))
MEDIUM = findings(passed(TLS, BUCKET, "ok"), failed(VERSIONING, LOGS, "off"))
UNKNOWN = findings(errored(PITR, TABLE, "AccessDenied"))


@pytest.mark.parametrize(
    ("build", "args", "code"),
    [
        (CLEAN, [], EXIT_CLEAN),
        (MEDIUM, [], EXIT_FINDINGS),  # --fail-on low by default
        (MEDIUM, ["--fail-on", "medium"], EXIT_FINDINGS),
        (MEDIUM, ["--fail-on", "high"], EXIT_CLEAN),
        (MEDIUM, ["--fail-on", "none"], EXIT_CLEAN),
        (UNKNOWN, ["--fail-on", "none"], EXIT_ERROR),  # an unknown is never clean
        (UNKNOWN, ["--fail-on", "critical"], EXIT_ERROR),
    ],
)
def test_exit_codes(tmp_path: Path, build: Callable[[], Report], args: list[str], code: int) -> None:
    result = run(tmp_path, build, *args)
    assert result.exit_code == code, result.output
    assert result.stdout.splitlines()[0] == "cargohold audit: acme-lms / dev (eu-west-1)"


def test_waivers_next_to_the_config_are_applied(tmp_path: Path) -> None:
    write_waivers(tmp_path, ("test.versioning", "*-access-logs", "2999-01-01"), ("test.pitr", "*", "2999-01-01"))
    assert run(tmp_path, MEDIUM).exit_code == EXIT_CLEAN
    result = run(tmp_path, UNKNOWN, "--format", "json")
    assert result.exit_code == EXIT_CLEAN
    assert json.loads(result.stdout)["summary"] == {"pass": 0, "fail": 0, "error": 0, "waived": 1}


def test_an_expired_waiver_fails_the_run(tmp_path: Path) -> None:
    write_waivers(tmp_path, ("test.versioning", "*-access-logs", "2020-01-01"))
    result = run(tmp_path, MEDIUM, "--fail-on", "medium")
    assert result.exit_code == EXIT_FINDINGS
    assert "waiver.expired" in result.stdout
    assert run(tmp_path, MEDIUM, "--fail-on", "high").exit_code == EXIT_CLEAN


def test_an_explicit_waivers_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="waivers file not found"):
        run(tmp_path, CLEAN, "--waivers", str(tmp_path / "missing.yaml"))


def test_a_bad_waivers_file_stops_the_run(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(textwrap.dedent("waivers:\n  - check: test.versioning\n    resource: x\n"))
    with pytest.raises(ConfigError) as exc:
        run(tmp_path, MEDIUM, "--waivers", str(path))
    assert {p.message for p in exc.value.problems} >= {"required key 'reason' is missing"}


def test_output_and_since(tmp_path: Path) -> None:
    before = tmp_path / "before.json"
    before.write_text(render(report([failed(TLS, BUCKET, "plain HTTP")]), "json"))
    out = tmp_path / "report.json"
    result = run(tmp_path, MEDIUM, "--format", "json", "--output", str(out), "--since", str(before))
    assert result.exit_code == EXIT_FINDINGS
    assert result.stdout == ""
    assert f"wrote {out}: 1 failed, 0 unknown, 0 waived, 1 passed" in result.stderr
    comparison = json.loads(out.read_text())["comparison"]
    assert [(f["check"], f["resource"]) for f in comparison["new"]] == [("test.versioning", LOGS)]
    assert [(f["check"], f["now"]) for f in comparison["resolved"]] == [("test.tls-only", "pass")]

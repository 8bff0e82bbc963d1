from __future__ import annotations

import json
from collections.abc import Callable

import click
from click.testing import CliRunner
from health_support import Deployed

from toolkit.demo.emulator import Emulator
from toolkit.findings import CATALOGUE
from toolkit.health import checks
from toolkit.health.cli import health


def group() -> click.Group:
    @click.group()
    def main() -> None:
        """test"""

    main.add_command(health)  # the command alone, as toolkit.cli adds it
    return main


def test_every_health_check_is_catalogued_with_every_field() -> None:
    for check in checks.ALL:
        assert CATALOGUE.get(check.id) is check
        assert check.category == "health" and check.id.startswith("health.")
        for name in ("title", "service", "permissions", "remediation", "config_fix"):
            assert getattr(check, name), (check.id, name)
        assert check.security_hub == () and check.checkov == ()


def test_cli_writes_a_json_report_and_exits_with_the_scheduler_code(
    cors_moto: Emulator, deploy: Callable[..., Deployed]
) -> None:
    deployed = deploy(cors_moto.endpoint)
    args = [
        "health",
        "-c",
        str(deployed.config),
        "-e",
        "local",
        "--principal",
        "app",
        "--credentials",
        str(deployed.credentials),
        "--format",
        "json",
    ]
    result = CliRunner().invoke(group(), args, catch_exceptions=False)
    report = json.loads(result.stdout)
    assert report["command"] == "health" and report["project"] == deployed.project
    # On a moto that checks no signatures nor policies, every probe whose verdict rests on them is
    # unknown (error): exit 1, as for any unread result.
    assert result.exit_code == 1
    assert {f["check"] for f in report["findings"] if f["status"] == "error"} == {
        "health.credentials",
        "health.principal-credentials",
        "health.presigned-put-get-delete",
        "health.presigned-post",
        "health.presigned-post-policy",
        "health.table-put-get-delete",
        "health.least-privilege-denied",
    }
    assert {f["check"] for f in report["findings"] if f["status"] == "fail"} == set()
    assert deployed.leftovers() == {}


def test_cli_text_report_shows_the_diagnosis(cors_moto: Emulator, deploy: Callable[..., Deployed]) -> None:
    deployed = deploy(cors_moto.endpoint, skip_buckets=("private",))
    args = [
        "health",
        "-c",
        str(deployed.config),
        "-e",
        "local",
        "--credentials",
        str(deployed.credentials),
        "--principal",
        "app",
    ]
    result = CliRunner().invoke(group(), args, catch_exceptions=False)
    assert "health.bucket-exists" in result.stdout
    assert "does not exist" in result.stdout and "Fix: create it with `cargohold plan`" in result.stdout


def test_cli_unknown_principal_is_one_clean_error(cors_moto: Emulator, deploy: Callable[..., Deployed]) -> None:
    deployed = deploy(cors_moto.endpoint)
    result = CliRunner().invoke(group(), ["health", "-c", str(deployed.config), "-e", "local", "--principal", "x"])
    assert result.exit_code == 1
    assert "Error: no principal 'x'" in result.stderr and "Hint: principals defined: app, uploader" in result.stderr


def test_cli_help() -> None:
    result = CliRunner().invoke(group(), ["health", "--help"])
    assert result.exit_code == 0
    for option in ("--env", "--format", "--output", "--principal", "--credentials", "--config", "--fail-on"):
        assert option in result.stdout

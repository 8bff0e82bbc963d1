"""`cargohold audit`: security posture and drift of the live account, as a report for schedulers."""

from __future__ import annotations

from pathlib import Path

import click

from cargohold_core.config import load_project
from toolkit.cli_options import report_command_options
from toolkit.findings import Severity
from toolkit.report.command import finish, report_options


@click.command()
@report_options
@click.option(
    "--workers", type=click.IntRange(1, 128), default=16, show_default=True, help="Concurrent read-only API calls."
)
@report_command_options
def audit(
    config_path: Path,
    fmt: str,
    env_name: str,
    output: Path | None,
    fail_on: Severity | None,
    waivers_path: Path | None,
    since_path: Path | None,
    workers: int,
) -> None:
    """Audit the live account: security posture and drift from config.yaml.

    Read-only. Exits 0 clean, 2 when a finding at or above --fail-on remains (after waivers), 1 when the audit
    could not run or some check could not read what it needs.
    """
    from toolkit.audit.run import audit as run_audit

    project = load_project(config_path)
    report = run_audit(project, project.environment(env_name), workers=workers)
    finish(
        report,
        config_path=config_path,
        fmt=fmt,
        output=output,
        fail_on=fail_on,
        waivers_path=waivers_path,
        since_path=since_path,
    )

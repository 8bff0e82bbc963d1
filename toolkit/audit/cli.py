"""`cargohold audit`: security posture and drift of the live account, as a report for schedulers."""

from __future__ import annotations

import click

from cargohold_core.account import guard
from cargohold_core.config import load_project
from toolkit.report.command import ReportRequest, report_command


@click.command()
@report_command
@click.option(
    "--workers", type=click.IntRange(1, 128), default=16, show_default=True, help="Concurrent read-only API calls."
)
def audit(request: ReportRequest, workers: int) -> None:
    """Audit the live account: security posture and drift from config.yaml.

    Read-only. Exits 0 clean, 2 when a finding at or above --fail-on remains (after waivers), 1 when the audit
    could not run or some check could not read what it needs.
    """
    from toolkit.audit.run import audit as run_audit

    project = load_project(request.config_path)
    env = project.environment(request.env_name)
    guard(env)
    request.finish(run_audit(project, env, workers=workers))

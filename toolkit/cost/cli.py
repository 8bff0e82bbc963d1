"""`cargohold cost`: the monthly estimate, the lifecycle projection, leaks and the budget, as a report."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.report.command import ReportRequest, report_command


@click.command()
@report_command
@click.option(
    "--usage",
    "usage_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Plan from a usage file (YAML/JSON) instead of measuring: no AWS calls, no credentials.",
)
@click.option(
    "--free-tier", is_flag=True, help="Apply the always-free tiers (100 GB transfer out, 25 GB DynamoDB storage)."
)
@click.option(
    "--horizon-days",
    type=click.IntRange(1, 36500),
    default=365,
    show_default=True,
    help="Projection: the current STANDARD bytes are taken as this many days of writes.",
)
@click.option(
    "--multipart-min-age-hours",
    type=click.FloatRange(0),
    default=24.0,
    show_default=True,
    help="Incomplete multipart uploads older than this count as a leak.",
)
@click.option(
    "--workers", type=click.IntRange(1, 64), default=8, show_default=True, help="Concurrent read-only API calls."
)
def cost(
    request: ReportRequest,
    usage_path: Path | None,
    free_tier: bool,
    horizon_days: int,
    multipart_min_age_hours: float,
    workers: int,
) -> None:
    """Estimate the environment's monthly cost, per bucket and table, and find what leaks money.

    Measures usage from CloudWatch, S3 and DynamoDB (read-only), or reads it from --usage FILE for
    planning. Prices come from the dated price table that ships with cargohold. Exits 0 clean, 2 when
    a finding at or above --fail-on remains (a leak, or the budget in config.yaml exceeded), 1 when
    the estimate could not run or some usage could not be read.
    """
    from cargohold_core.account import guard
    from cargohold_core.config import load_project
    from toolkit.cost.checks import Thresholds
    from toolkit.cost.measure import MeasureSettings
    from toolkit.cost.run import cost_report

    project = load_project(request.config_path)
    assert request.env_name is not None  # --env is required for this command
    env = project.environment(request.env_name)
    if usage_path is None:  # a usage file plans without reading the account
        guard(env)
    report = cost_report(
        project,
        env,
        usage_path=usage_path,
        free_tier=free_tier,
        horizon_days=horizon_days,
        thresholds=Thresholds(multipart_min_age_hours=multipart_min_age_hours),
        settings=MeasureSettings(workers=workers),
    )
    request.finish(report)

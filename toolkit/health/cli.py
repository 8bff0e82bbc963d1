"""`cargohold health`: the thin click layer over `toolkit.health.run_health`.

Exit codes as for every report command (toolkit.report.command): 0 healthy; 2 a probe failed at or
above --fail-on; 1 the command could not run, or a probe's answer is unknown (marked `error`).
"""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.report.command import ReportRequest, report_command


@click.command()
@report_command
@click.option(
    "--principal",
    "principal_key",
    default=None,
    help="The application principal (a key under `principals:`); default: the only one configured.",
)
@click.option(
    "--credentials",
    "credentials_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    envvar="CARGOHOLD_CREDENTIALS",
    help="A .env file with the principal's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
    "(and AWS_SESSION_TOKEN). Default for a role: assume it with your credentials.",
)
def health(request: ReportRequest, principal_key: str | None, credentials_path: Path | None) -> None:
    """Probe a deployed environment as the application would: credentials, buckets, presigned
    PUT/GET/DELETE and POST over HTTP, CORS preflights, table items, and least privilege.

    Probe objects and items are removed afterwards. Every failure comes with a diagnosis and a fix.
    On an endpoint that accepts any signature (an emulator without IAM enforcement), what only an
    accepted signature could show is reported as not verifiable (error, exit 1), never as passed.
    """
    from cargohold_core.account import guard
    from cargohold_core.config import load_project
    from toolkit.health.run import run_health

    project = load_project(request.config_path)
    assert request.env_name is not None  # --env is required for this command
    env = project.environment(request.env_name)
    guard(env)
    request.finish(run_health(env, project=project.name, principal=principal_key, credentials=credentials_path))

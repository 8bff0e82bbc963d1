"""`cargohold audit`: security posture and drift of the live account, as a report for schedulers."""

from __future__ import annotations

import click

from cargohold_core.account import guard
from cargohold_core.config import load_project
from toolkit.report.command import ReportRequest, report_command


@click.command()
@report_command(env_required=False)
@click.option(
    "--workers", type=click.IntRange(1, 128), default=16, show_default=True, help="Concurrent read-only API calls."
)
@click.option(
    "--all-envs", is_flag=True, help="Audit every environment of config.yaml, each in its own account: one report."
)
@click.option(
    "--organization",
    "org_role",
    metavar="ROLE",
    default=None,
    help="Also audit every active member account of the AWS Organization no environment names, by assuming ROLE "
    "in each (with --env's credentials: the management or a delegated-admin account). Implies --all-envs.",
)
@click.option("--external-id", default=None, help="The external id the --organization role's trust policy requires.")
def audit(request: ReportRequest, workers: int, all_envs: bool, org_role: str | None, external_id: str | None) -> None:
    """Audit the live account: security posture and drift from config.yaml.

    Read-only. Exits 0 clean, 2 when a finding at or above --fail-on remains (after waivers), 1 when the audit
    could not run or some check (or, over several accounts, some account) could not read what it needs.
    """
    project = load_project(request.config_path)
    if org_role is not None or all_envs:
        from toolkit.audit.many import audit_many, environment_targets, organization_targets

        if org_role is not None and request.env_name is None:
            raise click.UsageError("--organization needs --env: the environment whose credentials list the accounts")
        if org_role is None and request.env_name is not None:
            raise click.UsageError("--all-envs audits every environment: leave out --env")
        targets = environment_targets(project)
        if org_role is not None:
            assert request.env_name is not None
            base = project.environment(request.env_name)
            targets += organization_targets(project, base, org_role, external_id)
        kind = "organization" if org_role is not None else "all-envs"
        request.finish(audit_many(project, targets, workers=workers, kind=kind))
    if request.env_name is None:
        raise click.UsageError("name the environment with --env, or audit them all with --all-envs")
    if external_id is not None:
        raise click.UsageError("--external-id goes with --organization")
    from toolkit.audit.run import audit as run_audit

    env = project.environment(request.env_name)
    guard(env)
    request.finish(run_audit(project, env, workers=workers))

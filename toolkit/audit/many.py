"""Audits over several accounts at once: every environment of config.yaml (`--all-envs`) and, with
`--organization ROLE`, every active member account of the AWS Organization that no environment names
(reached by assuming ROLE in it, its resources judged without drift: config.yaml declares none).

Accounts are audited concurrently in a bounded pool, each with its own credentials, region and
guard. One that cannot be audited (unreachable, the wrong account, the role refused) gives one ERROR
for that account, and the others their results: one report, grouped by account.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from cargohold_core import aws
from cargohold_core.account import guard
from cargohold_core.config.model import Environment, Project, StateBackend
from cargohold_core.config.schema import AssumeRole, EnvironmentSpec, partition_of
from cargohold_core.errors import CargoholdError
from toolkit import __version__
from toolkit.findings import Finding, Report, Scope, Status, define, errored

AUDITED = define(
    id="account.audited",
    title="Every account of a multi-account audit could be audited",
    category="security",
    service="sts",
    severity="high",
    permissions=["sts:GetCallerIdentity", "sts:AssumeRole", "organizations:ListAccounts"],
    remediation="Make the account reachable with the credentials the audit runs with: for an environment, its "
    "`profile:` or `assume_role:` in config.yaml; for an organisation member, create the audit role in it "
    "(trusting the management or delegated-admin account, with the SecurityAudit managed policy) under the "
    "name given to --organization.",
    config_fix='# environments:\n#   prod:\n#     account: "222222222222"\n'
    "#     assume_role: {role_arn: arn:aws:iam::222222222222:role/NAME}",
    security_hub=[],
    checkov=[],
)

ACCOUNTS_AT_ONCE = 4  # each account's audit has its own pool of readers (--workers)


@dataclass(frozen=True)
class Target:
    """One account to audit: an environment, or a member account reached through `session`."""

    scope: str
    env: Environment
    declared: bool  # config.yaml describes it: drift applies
    session: Callable[[], Any] | None = None  # how to reach a member account; None: the environment's access


def environment_targets(project: Project) -> list[Target]:
    return [Target(scope=name, env=env, declared=True) for name, env in project.environments.items()]


def organization_targets(project: Project, base: Environment, role_name: str, external_id: str | None) -> list[Target]:
    """The organisation's active member accounts that no environment of config.yaml names, each reached
    by assuming `role_name` in it with `base`'s credentials (the management or delegated-admin account)."""
    from botocore.exceptions import BotoCoreError, ClientError

    source = aws.session(base)
    try:
        pages = source.client("organizations", endpoint_url=base.endpoint, config=aws.RETRIES).get_paginator(
            "list_accounts"
        )
        members = [a for page in pages.paginate() for a in page["Accounts"] if a.get("Status") == "ACTIVE"]
    except (ClientError, BotoCoreError) as exc:
        raise aws.explain(
            exc, action=f"listing the organisation's accounts (with environment {base.name}'s credentials)"
        ) from None
    named = {env.account for env in project.environments.values()}
    partition = partition_of(base.region)
    targets = []
    for member in sorted(members, key=lambda a: a["Id"]):
        account = str(member["Id"])
        if account in named:
            continue
        role = AssumeRole(
            role_arn=f"arn:{partition}:iam::{account}:role/{role_name}",
            external_id=external_id,
            session_name="cargohold-audit",
        )
        targets.append(
            Target(
                scope=f"org:{account}",
                env=member_environment(project, base, account, role),
                declared=False,
                session=functools.partial(
                    aws.assumed_session, source, role, endpoint=base.endpoint, region=base.region
                ),
            )
        )
    return targets


def member_environment(project: Project, base: Environment, account: str, role: AssumeRole) -> Environment:
    """An environment that declares nothing, in the member's account: what the rules judge against."""
    spec = EnvironmentSpec(region=base.region, account=account, endpoint=base.endpoint, assume_role=role)
    state = StateBackend(bucket="", key="", region=base.region, lock_table="", encrypt=True)
    return Environment(project=project.name, name=f"org-{account}", spec=spec, tags={}, state=state)


def audit_many(project: Project, targets: list[Target], *, workers: int, kind: str) -> Report:
    """One report over every target, in target order; `kind` names the run ("all-envs", "organization")."""
    from toolkit.audit.run import all_checks

    started_at = datetime.now(UTC)
    clock = time.monotonic()
    with ThreadPoolExecutor(max_workers=ACCOUNTS_AT_ONCE, thread_name_prefix="cargohold-account") as pool:
        outcomes = list(pool.map(lambda t: _one(project, t, workers=workers), targets))
    scopes, findings, stats = [], [], {}
    for scope, found, scope_stats in outcomes:
        scopes.append(scope)
        findings += [replace(f, account=scope.account, environment=scope.name) for f in found]
        stats[scope.name] = scope_stats
    regions = sorted({s.region for s in scopes})
    return Report(
        command="audit",
        project=project.name,
        environment=kind,
        region=regions[0] if len(regions) == 1 else ",".join(regions),
        account=None,
        started_at=started_at.isoformat(timespec="seconds"),
        duration_s=time.monotonic() - clock,
        tool_version=__version__,
        checks=[*all_checks(), AUDITED],
        findings=findings,
        stats={"accounts": len(scopes), "accounts_at_once": ACCOUNTS_AT_ONCE, "per_account": stats},
        scopes=scopes,
    )


def _one(project: Project, target: Target, *, workers: int) -> tuple[Scope, list[Finding], dict[str, Any]]:
    from toolkit.audit.run import audit

    env = target.env
    resource = f"arn:{partition_of(env.region)}:iam::{env.account}:root"
    try:
        session = target.session() if target.session is not None else aws.session(env)
        guard(env, session)
        report = audit(project, env, workers=workers, session=session, drift=target.declared)
    except CargoholdError as exc:
        message = str(exc) + (f" ({exc.hint})" if exc.hint else "")
        scope = Scope(name=target.scope, account=env.account, region=env.region, error=message)
        return scope, [errored(AUDITED, resource, f"this account could not be audited: {message}")], {}
    scope = Scope(name=target.scope, account=env.account, region=env.region)
    return scope, [*report.findings, Finding(AUDITED, resource, Status.PASS, "audited")], report.stats

"""`cargohold cost` as a library call: usage (measured or from a file) -> estimate, projection, findings."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cargohold_core import aws
from cargohold_core.config.model import Environment, Project
from toolkit import __version__
from toolkit.cost import checks
from toolkit.cost.estimate import Estimate, Projection, estimate, project
from toolkit.cost.measure import MeasureSettings, measure
from toolkit.cost.prices import PriceTable, load_prices
from toolkit.cost.usage import Usage, load_usage
from toolkit.findings import Report


def account_id(env: Environment) -> str:
    """The account the credentials belong to (one STS call); a clean error when there are none."""
    try:
        sts = aws.client(env, "sts")
        return str(sts.get_caller_identity()["Account"])
    except (ClientError, BotoCoreError) as exc:
        raise aws.explain(exc, action="read the account (sts:GetCallerIdentity)") from None


def cost_report(
    project_: Project,
    env: Environment,
    *,
    usage_path: Path | None = None,
    prices: PriceTable | None = None,
    free_tier: bool = False,
    horizon_days: int = 365,
    thresholds: checks.Thresholds | None = None,
    settings: MeasureSettings | None = None,
    now: datetime | None = None,
) -> Report:
    started_at = datetime.now(UTC)
    clock = time.monotonic()
    prices = prices or load_prices()
    prices.region(env.region)  # an unknown region fails before any AWS call
    account: str | None = None
    if usage_path is not None:
        usage = load_usage(usage_path)
        api_calls = 0
    else:
        account = account_id(env)
        others = [e for e in project_.environments.values() if e.name != env.name]
        usage = measure(env, settings=settings, now=now, others=others)
        api_calls = usage.api_calls + 1  # + the STS call
    est = estimate(env, usage, prices, free_tier=free_tier)
    projection = project(env, usage, est, horizon_days=horizon_days)
    findings = checks.evaluate(env, usage, est, now=now, thresholds=thresholds)
    return Report(
        command="cost",
        project=project_.name,
        environment=env.name,
        region=env.region,
        account=account,
        started_at=started_at.isoformat(timespec="seconds"),
        duration_s=time.monotonic() - clock,
        tool_version=__version__,
        checks=list(checks.CHECKS),
        findings=findings,
        data=report_data(usage, est, projection, findings, prices),
        stats={
            "api_calls": api_calls,
            "buckets": len(usage.buckets),
            "tables": len(usage.tables),
            "usage_source": usage.source,
            "api_calls_by_operation": usage.api_calls_by_operation,
        },
    )


def report_data(
    usage: Usage, est: Estimate, projection: Projection, findings: list[Any], prices: PriceTable
) -> dict[str, Any]:
    return {
        "estimate": est.to_json(),
        "projection": projection.to_json(),
        "leaks": checks.leaks(findings),
        "usage": {
            "source": usage.source,
            "measured_at": usage.measured_at.isoformat(timespec="seconds") if usage.measured_at else None,
        },
        "prices": {"as_of": prices.as_of, "file": prices.file, "sources": prices.sources},
    }

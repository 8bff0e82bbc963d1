"""The demo's operating chapters: audit, health and cost of the emulated environment.

The environment was applied by Terraform with config.yaml's `local` settings, which leave the TLS-only
bucket policy out (`tls_only: false`) because moto refuses every object call under it; a waiver,
written to a file like a team would, says so, and the audit counts it as muted rather than hiding it.
"""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from cargohold_core.config.model import Environment, Project
from toolkit.audit.run import audit
from toolkit.cost.run import cost_report
from toolkit.findings import Report, Status
from toolkit.health.run import run_health
from toolkit.report import waivers

Say = Callable[[str], None]


def operate(project: Project, env: Environment, say: Say, *, first: int, dotenv: Path) -> dict[str, Any]:
    """Audit, health (as the principal whose keys are in `dotenv`) and cost, numbered from `first`."""
    with tempfile.TemporaryDirectory(prefix="cargohold-demo-") as tmp:
        work = Path(tmp)
        audited = _audit(project, env, work, say, first)
        checked = _health(project, env, dotenv, say, first + 1)
        costed = _cost(project, env, work, say, first + 2)
    return {"audit": _summary(audited), "health": _summary(checked), "cost": costed}


def _audit(project: Project, env: Environment, work: Path, say: Say, number: int) -> Report:
    expires = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    waiver_file = work / waivers.WAIVERS_FILE
    waiver_file.write_text(
        yaml.safe_dump(
            {
                "waivers": [
                    {
                        "check": check,
                        "resource": f"arn:aws:s3:::{project.name}-{env.name}-*",
                        "reason": "the emulator cannot evaluate aws:SecureTransport, so config.yaml's local "
                        "environment sets tls_only: false (and bootstrap leaves the state bucket without it); "
                        "every other environment has the TLS-only policy",
                        "owner": "cargohold demo",
                        "expires": expires,
                    }
                    for check in ("s3.tls-only",)
                ]
            },
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    report = audit(project, env)
    waivers.apply(report, waivers.load(waiver_file))
    counts = report.counts()
    say(
        f"{number}. Audit of '{env.name}' ({report.stats['api_calls']} read-only API calls, "
        f"{report.duration_s:.1f}s): {counts['pass']} passed, {counts['fail']} failed, {counts['waived']} waived"
    )
    for f in sorted(report.problems(), key=lambda f: (-f.severity, f.check.id, f.resource)):
        say(f"     {f.severity.label:8} {f.check.id:32} {f.resource.rsplit(':', 1)[-1]}: {f.message}")
    say("   (config.yaml relaxes these for 'local'; in dev and prod they pass. Exit code 2 = findings.)")
    return report


def _health(project: Project, env: Environment, dotenv: Path, say: Say, number: int) -> Report:
    principal = next(p for p in env.principals.values() if p.spec.kind == "user")
    report = run_health(env, project=project.name, principal=principal.key, credentials=dotenv)
    counts = report.counts()
    say(
        f"{number}. Health, as the app's principal '{principal.key}' (its rotated key, from {dotenv.name}): "
        f"{counts['pass']} probes passed, {counts['fail']} failed, {counts['error']} unknown "
        "(could not run or not verifiable)"
    )
    for f in report.findings:
        mark = {Status.PASS: "ok  ", Status.FAIL: "FAIL", Status.ERROR: "??  "}[f.status]
        say(f"     {mark} {f.check.id:34} {f.message}")
    if any(f.details.get("diagnosis") in _EMULATOR_BLIND for f in report.findings):
        say(
            "   (?? = ran, but not verifiable here: the emulator accepts any signature and enforces no IAM, so "
            "only AWS can show that the keys, the presigned URLs and the policy hold. Exit code 1 = unknowns.)"
        )
    return report


# What health cannot tell on the emulator, whatever the environment: signatures and IAM are not checked.
_EMULATOR_BLIND = {"signature-not-checked", "not-enforced"}


def _cost(project: Project, env: Environment, work: Path, say: Say, number: int) -> dict[str, Any]:
    measured = cost_report(project, env)
    total = measured.data["estimate"]["total_monthly_usd"]
    say(
        f"{number}. Cost, measured from CloudWatch: ${total:,.2f}/month "
        "(moto publishes no S3 storage metrics, so the emulated account costs nothing)"
    )
    bucket = next(iter(env.buckets))
    usage = work / "usage.yaml"
    usage.write_text(yaml.safe_dump({"buckets": {bucket: {"storage": {"STANDARD": "50 GB"}}}}), encoding="utf-8")
    planned = cost_report(project, env, usage_path=usage)
    planned_total = planned.data["estimate"]["total_monthly_usd"]
    say(f"   planned with --usage: 50 GB in S3 Standard ({env.region}) = ${planned_total:,.2f}/month")
    return {"measured_monthly_usd": total, "planned_50gb_standard_monthly_usd": planned_total}


def _summary(report: Report) -> dict[str, Any]:
    return {
        "summary": report.counts(),
        "problems": [f.to_json() for f in report.problems()],
        "stats": report.stats,
    }

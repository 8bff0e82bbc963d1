"""`cargohold audit`: read the account once, judge every resource with every rule, add drift."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from cargohold_core.aws import is_emulator
from cargohold_core.config.model import Environment, Project
from cargohold_core.config.schema import BucketSpec
from toolkit import __version__
from toolkit.audit.checks import dynamodb, iam, s3
from toolkit.audit.drift import CHANGED, MISSING, UNMANAGED, drift_findings
from toolkit.audit.fetch import CannotRead, Fetched
from toolkit.audit.inventory import Inventory, read_inventory
from toolkit.audit.rules import RuleSet
from toolkit.findings import Check, Finding, Report, errored

R = TypeVar("R")
S = TypeVar("S")


def all_checks() -> list[Check]:
    rule_sets: list[RuleSet[Any, Any]] = [s3.ACCOUNT, s3.BUCKET, dynamodb.TABLE, iam.PRINCIPAL]
    return [rule.check for rules in rule_sets for rule in rules.rules] + [MISSING, CHANGED, UNMANAGED]


def audit(
    project: Project,
    env: Environment,
    *,
    workers: int = 16,
    now: datetime | None = None,
    session: Any | None = None,
    drift: bool = True,
) -> Report:
    """The audit of one account. `session` reaches it when the environment alone cannot say how (an
    organisation member); `drift` is off for an account config.yaml does not describe."""
    started_at = datetime.now(UTC)
    clock = time.monotonic()
    # Logging and replication are read only where config.yaml asks for them (their checks and drift).
    detailed = frozenset(
        b.name for b in env.buckets.values() if b.spec.access_logging is not None or b.spec.replication is not None
    )
    inventory = read_inventory(env, workers=workers, detailed=detailed, now=now, session=session)
    findings = judge(inventory, env) + (drift_findings(project, env, inventory) if drift else [])
    findings = [replace(f, region=f.region or env.region) for f in findings]
    return Report(
        command="audit",
        project=project.name,
        environment=env.name,
        region=env.region,
        account=inventory.account.value,
        started_at=started_at.isoformat(timespec="seconds"),
        duration_s=time.monotonic() - clock,
        tool_version=__version__,
        checks=all_checks(),
        findings=findings,
        stats={
            "api_calls": inventory.api_calls,
            "inventory_s": round(inventory.duration_s, 3),
            "buckets": len(inventory.buckets.value or []),
            "tables": len(inventory.tables.value or []),
            "principals": len(inventory.principals.value or []),
            "workers": workers,
        },
    )


STATE_BUCKET_ON_EMULATOR = BucketSpec(tls_only=False)


def judge(inv: Inventory, env: Environment) -> list[Finding]:
    """Every rule over every resource it applies to. Pure: the inventory is already read."""
    account = f"arn:aws:iam::{inv.account.value or env.account}:root"
    buckets = {b.name: b.spec for b in env.buckets.values()}
    if is_emulator(env.endpoint):
        # bootstrap leaves the state bucket without its TLS-only policy on an emulator (moto refuses every
        # call under it): judged as what bootstrap makes there, so the finding says why
        buckets.setdefault(env.state.bucket, STATE_BUCKET_ON_EMULATOR)
    tables = {t.name: t.spec for t in env.tables.values()}
    principals = {(p.spec.kind, p.name): p.spec for p in env.principals.values()}
    findings = list(_apply(s3.ACCOUNT, [(account, inv, None)]))
    findings += _over(s3.BUCKET, inv.buckets, lambda b: (b.arn, b, buckets.get(b.name)), "buckets")
    findings += _over(dynamodb.TABLE, inv.tables, lambda t: (t.arn, t, tables.get(t.name)), "tables")
    findings += _over(
        iam.PRINCIPAL, inv.principals, lambda p: (p.arn, p, principals.get((p.kind, p.name))), "principals"
    )
    return findings


def unreadable(check: Check, error: str) -> str:
    """Why a check could not judge; when AWS said AccessDenied, which permissions the check reads with."""
    text = f"could not read what this check needs: {error}"
    if "AccessDenied" in error or "UnauthorizedOperation" in error:
        text += f". The audit's credentials need {', '.join(check.permissions)} for this check"
    return text


def _over(rules: RuleSet[R, S], listing: Fetched[list[R]], unpack: Any, what: str) -> list[Finding]:
    if not listing.ok:  # nothing is known about any of them: one ERROR per check, never a silent PASS
        return [
            errored(r.check, f"*:{what}", unreadable(r.check, f"cannot list {what}: {listing.error}"))
            for r in rules.rules
        ]
    return list(_apply(rules, [unpack(item) for item in listing.get()]))


def _apply(rules: RuleSet[R, S], targets: Iterable[tuple[str, R, S | None]]) -> Iterator[Finding]:
    for resource, item, want in targets:
        for rule in rules.rules:
            try:
                verdict = rule.judge(item, want)
            except CannotRead as exc:
                yield errored(rule.check, resource, unreadable(rule.check, str(exc)))
                continue
            if verdict is not None:
                yield Finding(
                    rule.check,
                    resource,
                    verdict.status,
                    verdict.message,
                    expected=verdict.expected,
                    actual=verdict.actual,
                    details=verdict.details,
                )

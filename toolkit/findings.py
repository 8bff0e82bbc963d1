"""What `audit`, `health` and `cost` report: checks, their findings, and the report that holds them.

A `Check` is the catalogue entry (id, severity, the IAM reads it needs, how to fix it, and where it
maps in AWS Security Hub and checkov). A `Finding` is one check's verdict on one resource. A `Report`
is one command's run; every output format (table, JSON, SARIF, JUnit, Markdown, HTML, ASFF,
OCSF) renders it.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

REPORT_SCHEMA_VERSION = "1.0"


class Severity(enum.IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r}; use one of {names}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class Status(str, enum.Enum):  # noqa: UP042 - StrEnum would change how str() renders a member
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    ERROR = "error"  # the resource or setting could not be read: the answer is unknown, never PASS


@dataclass(frozen=True)
class Check:
    """A catalogue entry. Every field is required: a test fails when one is empty or missing."""

    id: str  # e.g. "s3.tls-only": stable, used in waivers, SARIF rule ids and --since comparisons
    title: str
    category: str  # security | drift | health | cost
    service: str  # s3 | dynamodb | iam | sts | cloudwatch | account
    severity: Severity
    permissions: tuple[str, ...]  # the IAM read actions this check needs
    remediation: str  # what to do, in words
    config_fix: str  # the config.yaml change that fixes it (YAML), or why config cannot
    security_hub: tuple[str, ...]  # AWS Security Hub control ids; () when no control exists
    checkov: tuple[str, ...]  # checkov ids for the same rule in Terraform; () when none exists

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "category": self.category,
            "service": self.service,
            "severity": self.severity.label,
            "permissions": list(self.permissions),
            "remediation": self.remediation,
            "config_fix": self.config_fix,
            "security_hub": list(self.security_hub),
            "checkov": list(self.checkov),
        }


@dataclass(frozen=True)
class Waiver:
    check: str
    resource: str  # an fnmatch pattern over the finding's resource
    reason: str
    owner: str
    expires: str  # ISO date

    def to_json(self) -> dict[str, str]:
        return {
            "check": self.check,
            "resource": self.resource,
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires,
        }


@dataclass(frozen=True)
class Finding:
    check: Check
    resource: str  # an ARN where one exists, else a stable name ("account", "s3://bucket")
    status: Status
    message: str
    expected: Any = None
    actual: Any = None
    region: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # e.g. {"monthly_usd": 3.2} for a cost leak
    waiver: Waiver | None = None
    # Set only in a report over several accounts (`audit --all-envs`, `--organization`): whose finding it is.
    account: str | None = None
    environment: str | None = None

    @property
    def severity(self) -> Severity:
        return self.check.severity

    @property
    def fingerprint(self) -> str:
        """Stable across runs: the same check on the same resource. `--since` compares these."""
        scope = f"{self.account}\0" if self.account else ""  # one account's report keeps its fingerprints
        return hashlib.sha256(f"{scope}{self.check.id}\0{self.resource}".encode()).hexdigest()[:16]

    @property
    def is_problem(self) -> bool:
        """A failure or an unknown that no waiver mutes."""
        return self.status is not Status.PASS and self.waiver is None

    def waived(self, waiver: Waiver) -> Finding:
        return replace(self, waiver=waiver)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.check.id,
            "title": self.check.title,
            "category": self.check.category,
            "service": self.check.service,
            "severity": self.severity.label,
            "status": self.status.value,
            "resource": self.resource,
            "region": self.region,
            "message": self.message,
            "fingerprint": self.fingerprint,
        }
        if self.account is not None:
            out["account"] = self.account
            out["environment"] = self.environment
        if self.expected is not None or self.actual is not None:
            out["expected"] = self.expected
            out["actual"] = self.actual
        if self.details:
            out["details"] = self.details
        if self.waiver:
            out["waiver"] = self.waiver.to_json()
        return out


@dataclass(frozen=True)
class Scope:
    """One account a report over several covers: an environment of config.yaml, or an organisation
    member. `error` says why it could not be audited at all (its findings then hold one ERROR)."""

    name: str  # the environment's name, or "org:<account id>" for a member account config.yaml does not name
    account: str
    region: str
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "account": self.account, "region": self.region, "error": self.error}


@dataclass
class Report:
    """One run of `audit`, `health` or `cost`."""

    command: str  # audit | health | cost
    project: str
    environment: str
    region: str
    account: str | None  # as STS reported it; None when credentials failed
    started_at: str  # ISO 8601 UTC
    duration_s: float
    tool_version: str
    checks: list[Check] = field(default_factory=list)  # every check that ran (SARIF rules, JUnit cases)
    findings: list[Finding] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # command-specific results, e.g. the cost estimate
    stats: dict[str, Any] = field(default_factory=dict)  # api_calls, resources read, ...
    comparison: dict[str, Any] | None = None  # --since: new and resolved findings
    scopes: list[Scope] = field(default_factory=list)  # several accounts: one per account; [] for one environment

    def account_of(self, finding: Finding) -> str | None:
        return finding.account or self.account

    def by_scope(self) -> list[tuple[Scope | None, list[Finding]]]:
        """The findings grouped by scope (account), in scope order; one group (None) for one environment."""
        if not self.scopes:
            return [(None, list(self.findings))]
        return [(s, [f for f in self.findings if f.environment == s.name]) for s in self.scopes]

    def counts(self) -> dict[str, int]:
        out = {"pass": 0, "fail": 0, "error": 0, "waived": 0}
        for f in self.findings:
            out["waived" if f.waiver else f.status.value] += 1
        return out

    def problems(self, at_least: Severity = Severity.INFO) -> list[Finding]:
        return [f for f in self.findings if f.is_problem and f.severity >= at_least]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "tool": {"name": "cargohold", "version": self.tool_version},
            "command": self.command,
            "project": self.project,
            "environment": self.environment,
            "region": self.region,
            "account": self.account,
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 3),
            "summary": self.counts(),
            "checks": [c.to_json() for c in self.checks],
            "findings": [f.to_json() for f in self.findings],
            "data": self.data,
            "stats": self.stats,
            "comparison": self.comparison,
            **({"scopes": [s.to_json() for s in self.scopes]} if self.scopes else {}),
        }


class Catalogue:
    """A registry of checks by id, so the tests can require every field of every check."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def add(self, check: Check) -> Check:
        if check.id in self._checks:
            raise ValueError(f"check id {check.id!r} registered twice")
        self._checks[check.id] = check
        return check

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks.values())

    def get(self, check_id: str) -> Check | None:
        return self._checks.get(check_id)

    def ids(self) -> list[str]:
        return list(self._checks)


CATALOGUE = Catalogue()


def define(**fields: Any) -> Check:
    """Declare a check in the global catalogue: `S3_TLS = define(id="s3.tls-only", ...)`."""
    if not isinstance(fields["severity"], Severity):
        fields["severity"] = Severity.parse(fields["severity"])
    for name in ("permissions", "security_hub", "checkov"):
        fields[name] = tuple(fields[name])
    return CATALOGUE.add(Check(**fields))


def passed(check: Check, resource: str, message: str, **kw: Any) -> Finding:
    return Finding(check, resource, Status.PASS, message, **kw)


def failed(check: Check, resource: str, message: str, **kw: Any) -> Finding:
    return Finding(check, resource, Status.FAIL, message, **kw)


def errored(check: Check, resource: str, message: str, **kw: Any) -> Finding:
    return Finding(check, resource, Status.ERROR, message, **kw)

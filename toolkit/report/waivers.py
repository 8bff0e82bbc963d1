"""Waivers: accepted risks, written down with a reason, an owner and an end date.

A waiver mutes the FAIL/ERROR findings of one check on the resources its fnmatch pattern matches.
An expired waiver mutes nothing and is itself a finding, so an accepted risk is looked at again
instead of being forgotten. Waivers that muted nothing are listed in `report.stats["unused_waivers"]`.
"""

from __future__ import annotations

import datetime
import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cargohold_core.config import yamlsource
from cargohold_core.config.diagnostics import did_you_mean
from cargohold_core.config.yamlsource import Document
from cargohold_core.errors import CargoholdError, ConfigError, Problem
from toolkit.findings import CATALOGUE, Finding, Report, Status, Waiver, define, failed

WAIVERS_FILE = "cargohold-waivers.yaml"
FIELDS = ("check", "resource", "reason", "owner", "expires")

EXPIRED = define(
    id="waiver.expired",
    title="A waiver has expired",
    category="waiver",
    service="account",
    severity="medium",
    permissions=(),  # reads only the waivers file, nothing in AWS
    remediation=(
        "Look at the finding the waiver muted again: fix it, or, if the risk is still accepted, "
        "ask the owner to renew the waiver with a new end date and a current reason."
    ),
    config_fix=(
        "Not a config.yaml change: in cargohold-waivers.yaml either delete the waiver or move its date, e.g.\n"
        "waivers:\n  - check: s3.versioning\n    resource: arn:aws:s3:::my-bucket\n"
        "    reason: why the risk is still accepted\n    owner: team@example.com\n    expires: 2027-03-31"
    ),
    security_hub=(),
    checkov=(),
)


@dataclass(frozen=True)
class LocatedWaiver(Waiver):
    """A waiver that remembers where it was written, so a later problem with it points at its line."""

    file: str = ""
    line: int = 0
    column: int = 0


def locate(explicit: Path | None, config_path: Path) -> Path | None:
    """The waivers file to use: --waivers (which must exist), else the default next to the config."""
    if explicit is not None:
        if not explicit.is_file():
            raise CargoholdError(
                f"waivers file not found: {explicit}",
                hint=f"pass an existing file with --waivers, or leave it out to use {WAIVERS_FILE} next to the config",
            )
        return explicit
    default = config_path.parent / WAIVERS_FILE
    return default if default.is_file() else None


def load(path: Path | None, *, known_ids: Iterable[str] | None = None) -> list[Waiver]:
    """Read and check a waivers file; every problem in it is reported at once, located.

    With `known_ids`, unknown check ids are reported here too; `apply` checks them in any case.
    """
    if path is None:
        return []
    doc = yamlsource.load(path)
    waivers, problems = _parse(doc)
    if known_ids is not None:
        problems += unknown_checks(waivers, known_ids)
    if problems:
        raise ConfigError(problems)
    return list(waivers)


def _parse(doc: Document) -> tuple[list[LocatedWaiver], list[Problem]]:
    example = "waivers:\n  - check: ...\n    resource: ...\n    reason: ...\n    owner: ...\n    expires: 2027-03-31"
    if doc.data is None:
        return [], []  # an empty file waives nothing
    if not isinstance(doc.data, dict):
        return [], [doc.problem((), "the file must be a mapping with a `waivers:` list", f"write:\n{example}")]
    problems = [
        doc.problem((key,), f"unknown key '{key}'" + _guess(key, ["waivers"]), "the only key allowed here is `waivers`")
        for key in doc.data
        if key != "waivers"
    ]
    entries = doc.data.get("waivers")
    if entries is None:
        if "waivers" not in doc.data:
            problems.append(doc.problem((), "required key 'waivers' is missing", f"write:\n{example}"))
        return [], problems
    if not isinstance(entries, list):
        problems.append(doc.problem(("waivers",), "expected a list (lines starting with '- ')", f"write:\n{example}"))
        return [], problems
    waivers = []
    for index, entry in enumerate(entries):
        waiver = _entry(doc, index, entry, problems)
        if waiver is not None:
            waivers.append(waiver)
    return waivers, problems


def _entry(doc: Document, index: int, entry: Any, problems: list[Problem]) -> LocatedWaiver | None:
    where = ("waivers", index)
    if not isinstance(entry, dict):
        problems.append(doc.problem(where, "expected a mapping with " + ", ".join(f"`{f}`" for f in FIELDS)))
        return None
    found = len(problems)
    for key in entry:
        if key not in FIELDS:
            message = f"unknown key '{key}'" + _guess(key, FIELDS)
            problems.append(doc.problem((*where, key), message, f"keys allowed: {', '.join(FIELDS)}"))
    values: dict[str, str] = {}
    for name in FIELDS:
        value = entry.get(name)
        if name not in entry:
            problems.append(doc.problem(where, f"required key '{name}' is missing", f"add `{name}:` to this waiver"))
        elif name == "expires":
            day = _date(value)
            if day is None:
                hint = "write it as YYYY-MM-DD, e.g. 2027-03-31"
                problems.append(doc.problem((*where, name), f"expected a date, got {value!r}", hint))
            else:
                values[name] = day.isoformat()
        elif not isinstance(value, str) or not value.strip():
            hint = "write the text, in quotes if it has a ':' or '#'"
            problems.append(doc.problem((*where, name), f"expected non-empty text, got {value!r}", hint))
        else:
            values[name] = value.strip()
    if len(problems) > found:
        return None
    loc = doc.location(where)
    return LocatedWaiver(**values, file=doc.file, line=loc.line, column=loc.column)


def _date(value: Any) -> datetime.date | None:
    # YAML reads an unquoted 2027-03-31 as a date; a quoted one stays text.
    if isinstance(value, datetime.datetime):
        return None  # a timestamp: a waiver ends on a day, not at a time
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _guess(word: str, choices: Iterable[str]) -> str:
    guess = did_you_mean(str(word), choices)
    return f"; did you mean '{guess}'?" if guess else ""


def unknown_checks(waivers: Iterable[Waiver], known_ids: Iterable[str]) -> list[Problem]:
    """A problem for each waiver whose check id no check declares (a typo would waive nothing)."""
    known = sorted(set(known_ids) | {EXPIRED.id})
    problems = []
    for waiver in waivers:
        if waiver.check in known:
            continue
        file, line, column = (
            (waiver.file, waiver.line, waiver.column) if isinstance(waiver, LocatedWaiver) else ("waivers", 0, 0)
        )
        problems.append(
            Problem(
                file,
                line,
                column,
                "check",
                f"unknown check '{waiver.check}'" + _guess(waiver.check, known),
                "use a check id as `cargohold audit --format json` lists it under `checks`",
            )
        )
    return problems


# Where the checks of each command are declared; imported only to learn every check id, since a
# check registers itself in the catalogue when its module is imported.
def catalogue_ids() -> set[str]:
    """Every check id any command runs. A waivers file is shared by audit, health and cost, so during an
    audit a waiver of a health check is valid: the modules that declare checks are imported here (where
    used, so that importing the report package does not import every command)."""
    import toolkit.audit.checks.dynamodb
    import toolkit.audit.checks.iam
    import toolkit.audit.checks.s3
    import toolkit.audit.drift
    import toolkit.audit.many
    import toolkit.cost.checks
    import toolkit.health.checks  # noqa: F401

    return set(CATALOGUE.ids())


def apply(
    report: Report,
    waivers: list[Waiver],
    *,
    today: datetime.date | None = None,
    known_ids: Iterable[str] | None = None,
) -> None:
    """Mute what the waivers cover, report expired waivers as findings, and list the unused ones.

    `known_ids` defaults to the checks in the report plus every check of every command (one waivers
    file serves audit, health and cost).
    """
    if not waivers:
        return
    ran = {c.id for c in report.checks} | {f.check.id for f in report.findings}
    problems = unknown_checks(waivers, ran | catalogue_ids() if known_ids is None else known_ids)
    if problems:
        raise ConfigError(problems)
    day = today or datetime.datetime.now(datetime.UTC).date()
    active = [w for w in waivers if datetime.date.fromisoformat(w.expires) >= day]  # valid through its last day
    used: set[int] = set()
    muted: list[Finding] = []
    for finding in report.findings:
        waiver = _match(finding, active) if finding.status is not Status.PASS and finding.waiver is None else None
        if waiver is not None:
            used.add(id(waiver))
            finding = finding.waived(waiver)
        muted.append(finding)
    report.findings = muted
    expired = [w for w in waivers if w not in active]
    report.findings.extend(_expired(w, day) for w in expired)
    if EXPIRED not in report.checks:
        report.checks.append(EXPIRED)
    # A waiver for a check that did not run here (e.g. a health check during audit) is not unused.
    report.stats["unused_waivers"] = [w.to_json() for w in active if id(w) not in used and w.check in ran]
    report.stats["waivers"] = {"loaded": len(waivers), "expired": len(expired)}


def _match(finding: Finding, waivers: list[Waiver]) -> Waiver | None:
    for waiver in waivers:
        # fnmatchcase: ARNs and bucket names are case-sensitive on every platform.
        if waiver.check == finding.check.id and fnmatch.fnmatchcase(finding.resource, waiver.resource):
            return waiver
    return None


def _expired(waiver: Waiver, today: datetime.date) -> Finding:
    where = f" ({waiver.file}:{waiver.line})" if isinstance(waiver, LocatedWaiver) else ""
    return failed(
        EXPIRED,
        f"waiver:{waiver.check}:{waiver.resource}",
        f"the waiver of {waiver.check} for {waiver.resource}{where} expired on {waiver.expires}; "
        f"what it muted is reported again (owner: {waiver.owner})",
        expected=f"expires on or after {today.isoformat()}",
        actual=waiver.expires,
        details={"waiver": waiver.to_json()},
    )

"""What every human-readable format shows the same way: order, labels, summary, cost tables."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from toolkit.findings import Finding, Report, Scope, Status

COST_SECTIONS = {"estimate": "Cost estimate", "projection": "Cost projection"}


def label(finding: Finding) -> str:
    """FAIL, UNKNOWN (the check could not read what it needed), WAIVED or PASS."""
    if finding.waiver is not None:
        return "WAIVED"
    return {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.ERROR: "UNKNOWN"}[finding.status]


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Problems first, worst first; then waived; then passes."""

    def key(f: Finding) -> tuple[int, int, str, str]:
        group = 0 if f.is_problem else 1 if f.waiver else 2
        return (group, -f.severity, f.check.id, f.resource)

    return sorted(findings, key=key)


VALUE_WIDTH = 60  # a value longer than this (a lifecycle rule list...) is cut, the JSON report keeps it whole


def short(value: Any, width: int = VALUE_WIDTH) -> str:
    """A config value as compact JSON ("(none)" for null, a plain word unquoted), cut to `width`."""
    if value is None:
        return "(none)"
    if isinstance(value, str) and value and not set(value) & set(' ,;()"\n') and len(value) <= width:
        return value
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return text if len(text) <= width else text[: width - 1] + "…"


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """`path: expected X, actual Y` for every setting that differs. Two mappings are compared key by
    key (tags.owner, public_access_block.block_public_acls) and two lists of the same length item by
    item (lifecycle[tidy].filter, by the item's id or name where it has one), so a long value is cut
    only where it differs; anything else is shown whole, cut to VALUE_WIDTH."""
    pairs: list[tuple[str, Any, Any]] = []
    if isinstance(expected, dict) and isinstance(actual, dict):
        keys = list(expected) + [k for k in actual if k not in expected]
        pairs = [(f"{path}.{k}" if path else str(k), expected.get(k), actual.get(k)) for k in keys]
    elif isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual) and expected:
        pairs = [
            (f"{path}[{_item_label(e, a, i)}]", e, a) for i, (e, a) in enumerate(zip(expected, actual, strict=True))
        ]
    else:
        return [f"{path or 'value'}: expected {short(expected)}, actual {short(actual)}"]
    return [line for name, e, a in pairs if not _same(e, a) for line in differences(e, a, name)]


def _item_label(expected: Any, actual: Any, index: int) -> str:
    for key in ("id", "name"):
        same = isinstance(expected, dict) and isinstance(actual, dict) and expected.get(key) == actual.get(key)
        if same and isinstance(expected.get(key), str):
            return str(expected[key])
    return str(index)


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def message(finding: Finding) -> str:
    """The finding's message; a drift finding's also says what config.yaml expects and what is live."""
    if finding.check.category != "drift" or (finding.expected is None and finding.actual is None):
        return finding.message
    return f"{finding.message} ({'; '.join(differences(finding.expected, finding.actual))})"


def title(report: Report) -> str:
    over = f", {len(report.scopes)} accounts" if report.scopes else ""
    return f"cargohold {report.command}: {report.project} / {report.environment} ({report.region}{over})"


def scope_title(scope: Scope, findings: list[Finding]) -> str:
    """One account's heading in a report over several: who it is, and how it went."""
    head = f"account {scope.account} ({scope.name}, {scope.region})"
    if scope.error is not None:
        return f"{head}: could not be audited"
    return f"{head}: {summary_of(findings)}"


def summary(report: Report) -> str:
    return summary_of(report.findings)


def summary_of(findings: list[Finding]) -> str:
    c = {"pass": 0, "fail": 0, "error": 0, "waived": 0}
    for f in findings:
        c["waived" if f.waiver else f.status.value] += 1
    return f"{c['fail']} failed, {c['error']} unknown, {c['waived']} waived, {c['pass']} passed"


def money(value: Any) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    # Cents, unless the amount is below a cent: a few requests' cost should not show as $0.00.
    return f"${value:,.4f}" if 0 < abs(value) < 0.01 else f"${value:,.2f}"


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(cell(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]  # the money column is always last
    totals: list[tuple[str, str]]  # ("total", "$4.01"), ("monthly saving", "$1.20"), ...
    notes: list[tuple[str, str]]  # the section's other plain values: ("currency", "USD"), ...


def cost_tables(report: Report) -> list[Table]:
    """report.data["estimate"] and ["projection"], as the cost command writes them: a list of rows
    (`resources`, or `buckets` for a projection) plus totals. Known columns lead (name, kind), any
    other plain value follows as it comes, the row's monthly_usd ends it; `*usd*` values are money."""
    tables = []
    for key, heading in COST_SECTIONS.items():
        section = report.data.get(key)
        if not isinstance(section, dict):
            continue
        items = next((v for v in section.values() if isinstance(v, list) and v and isinstance(v[0], dict)), [])
        resources = [r for r in items if isinstance(r, dict)]
        columns = [c for c in ("name", "kind") if any(c in r for r in resources)]
        # Nested detail stays in the JSON; the ARN too when a name is shown (the findings carry ARNs).
        nested = {k for r in resources for k, v in r.items() if not _plain(v)} | (
            {"arn"} if "name" in columns else set()
        )
        for row in resources:
            columns += [k for k in row if k not in columns and k not in nested and k != "monthly_usd"]
        if any("monthly_usd" in r for r in resources):
            columns.append("monthly_usd")
        rows = [[_value(c, r.get(c)) for c in columns] for r in resources]
        totals = [(_words(k).replace("total monthly USD", "total"), money(v)) for k, v in section.items() if _usd(k, v)]
        notes = [(_words(k), cell(v)) for k, v in section.items() if not _usd(k, v) and _plain(v) and v != []]
        tables.append(Table(heading, [_words(c) for c in columns], rows, totals, notes))
    return tables


def _words(key: str) -> str:
    return key.replace("_", " ").replace("usd", "USD")


def _usd(key: str, value: Any) -> bool:
    return "usd" in key and isinstance(value, (int, float)) and not isinstance(value, bool)


def _value(key: str, value: Any) -> str:
    return money(value) if _usd(key, value) else cell(value)


def _plain(value: Any) -> bool:
    """A value that fits in a cell: not a mapping, not a list of mappings."""
    if isinstance(value, (list, tuple)):
        return all(not isinstance(v, (dict, list, tuple)) for v in value)
    return not isinstance(value, dict)

"""The terminal table: problems first, worst first, then waived; passes only counted."""

from __future__ import annotations

import textwrap
from typing import Any

from toolkit.findings import Finding, Report, Status
from toolkit.report import view

WIDTH = 120  # fixed, not the terminal's: the same report reads the same in a log file


def table(headers: list[str], rows: list[list[str]], *, right: tuple[int, ...] = ()) -> list[str]:
    """Columns padded to their widest cell; the last column is left ragged so long messages wrap."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        padded = [
            c.rjust(widths[i]) if i in right else c if i == len(cells) - 1 else c.ljust(widths[i])
            for i, c in enumerate(cells)
        ]
        return "  ".join(padded).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())  # a message with newlines would break the table's rows


def _findings(findings: list[Finding]) -> list[str]:
    """One row per finding; when the rows would pass WIDTH (long ARNs), each message goes on its own line."""
    rows = [[f.severity.label, view.label(f), f.check.id, _one_line(f.resource)] for f in findings]
    messages = [_one_line(view.message(f)) for f in findings]
    with_messages = [[*r, m] for r, m in zip(rows, messages, strict=True)]
    wide = table(["SEVERITY", "STATUS", "CHECK", "RESOURCE", "MESSAGE"], with_messages)
    if max(len(line) for line in wide) <= WIDTH:
        return wide
    narrow = table(["SEVERITY", "STATUS", "CHECK", "RESOURCE"], rows)
    indent = " " * (narrow[0].index("CHECK"))
    out = narrow[:2]
    for line, message in zip(narrow[2:], messages, strict=True):
        out += [line, textwrap.fill(message, WIDTH, initial_indent=indent, subsequent_indent=indent)]
    return out


def render(report: Report) -> str:
    lines = [view.title(report), ""]
    for scope, findings in report.by_scope():  # one group, untitled, for one environment
        if scope is not None:
            lines.append(view.scope_title(scope, findings))
        shown = [f for f in view.ordered(findings) if f.status is not Status.PASS]
        if shown:
            lines += _findings(shown)
        if shown or scope is not None:
            lines.append("")
    if report.comparison:
        lines += _comparison(report.comparison)
    for cost in view.cost_tables(report):
        lines += _cost(cost)
    unused = report.stats.get("unused_waivers") or []
    if unused:
        lines.append(f"{len(unused)} waiver(s) muted nothing; remove them from the waivers file:")
        lines += [f"  {w.get('check')}  {w.get('resource')}" for w in unused]
        lines.append("")
    lines.append(view.summary(report))
    return "\n".join(lines) + "\n"


def _cost(cost: view.Table) -> list[str]:
    lines = [f"{cost.title}:"]
    if cost.rows:
        money = tuple(i for i, h in enumerate(cost.headers) if "USD" in h)
        lines += ["  " + line for line in table([h.upper() for h in cost.headers], cost.rows, right=money)]
    lines += [f"  {name}: {value}" for name, value in cost.totals]
    for name, value in cost.notes:
        lines.append(textwrap.fill(f"{name}: {value}", WIDTH, initial_indent="  ", subsequent_indent="    "))
    return [*lines, ""]


def _comparison(comparison: dict[str, Any]) -> list[str]:
    since = comparison.get("since") or {}
    counts = comparison.get("counts") or {}
    lines = [
        f"Since {since.get('started_at')}: {counts.get('new', 0)} new, {counts.get('resolved', 0)} resolved, "
        f"{counts.get('unchanged', 0)} unchanged"
    ]
    rows = [
        ["new", str(i.get("severity", "")), str(i.get("check")), _one_line(i.get("resource"))]
        for i in comparison.get("new") or []
    ]
    rows += [
        ["resolved", f"now {i.get('now', '')}", str(i.get("check")), _one_line(i.get("resource"))]
        for i in comparison.get("resolved") or []
    ]
    if rows:
        lines += ["  " + line for line in table(["CHANGE", "", "CHECK", "RESOURCE"], rows)]
    return [*lines, ""]

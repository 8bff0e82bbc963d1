"""GitHub-flavoured Markdown, for pull-request comments and job summaries.

Everything from the report is escaped: a resource name or message is text, never markup, and a `|`
in it must not split a table cell.
"""

from __future__ import annotations

import re
from typing import Any

from toolkit.findings import Finding, Report
from toolkit.report import view

# Backslash-escape what GFM reads as inline markup (with `[` escaped no link or image can start);
# `&` and `<` become entities, which GFM decodes, so no HTML tag or entity can be written either.
_SPECIAL = re.compile(r"([\\`*_\[\]|~>])")


def text(value: Any) -> str:
    """Plain text that renders as itself inside a paragraph or a table cell."""
    out = "" if value is None else str(value)
    out = out.replace("&", "&amp;").replace("<", "&lt;")
    out = _SPECIAL.sub(r"\\\1", out)
    return " ".join(out.split("\n")).replace("\r", " ")


def code(value: Any) -> str:
    """An inline code span; pipes are escaped even here (GFM splits table cells before code spans)."""
    raw = " ".join(str(value).splitlines())
    fence = "`" * (max((len(m) for m in re.findall(r"`+", raw)), default=0) + 1)
    pad = " " if raw.startswith("`") or raw.endswith("`") else ""
    return f"{fence}{pad}{raw.replace('|', chr(92) + '|')}{pad}{fence}"


def block(value: str, lang: str = "") -> str:
    fence = "`" * max(3, max((len(m) for m in re.findall(r"`+", value)), default=0) + 1)
    return f"{fence}{lang}\n{value}\n{fence}"


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def _row(f: Finding) -> list[str]:
    return [f.severity.label, f"**{view.label(f)}**", code(f.check.id), code(f.resource), text(view.message(f))]


def render(report: Report) -> str:
    c = report.counts()
    out = [f"## {text(view.title(report))}", ""]
    whose = f"{len(report.scopes)} accounts" if report.scopes else f"account {code(report.account or 'unknown')}"
    out.append(
        f"**{c['fail']} failed**, {c['error']} unknown, {c['waived']} waived, {c['pass']} passed"
        f" · {whose} · started {text(report.started_at)}"
        f" · cargohold {text(report.tool_version)}"
    )
    out.append("")
    if report.scopes:
        rows = [
            [code(s.account), text(s.name), text(s.region), text(s.error or view.summary_of(found))]
            for s, found in report.by_scope()
            if s is not None
        ]
        out += ["### Accounts", "", *table(["Account", "Scope", "Region", "Outcome"], rows), ""]
    for scope, findings in report.by_scope():
        out += _problems(findings, "" if scope is None else f" in account {scope.account} ({scope.name})")
    if report.comparison:
        out += _comparison(report.comparison)
    for cost in view.cost_tables(report):
        out += _cost(cost)
    unused = report.stats.get("unused_waivers") or []
    if unused:
        out += ["### Unused waivers", "", "These waivers muted nothing; remove them from the waivers file:", ""]
        out += [f"- {code(w.get('check'))} on {code(w.get('resource'))}" for w in unused]
        out.append("")
    return "\n".join(out)


def _problems(findings: list[Finding], where: str) -> list[str]:
    out: list[str] = []
    problems = [f for f in view.ordered(findings) if f.is_problem]
    headers = ["Severity", "Status", "Check", "Resource", "Message"]
    if problems:
        out += [f"### Problems{text(where)}", "", *table(headers, [_row(f) for f in problems]), ""]
        out += _fixes(problems)
    else:
        out += [f"No problems found{text(where)}.", ""]
    waived = [f for f in view.ordered(findings) if f.waiver is not None]
    if waived:
        rows = [[*_row(f)[:4], text(_waiver(f))] for f in waived]
        out += [f"### Waived{text(where)}", "", *table([*headers[:4], "Waiver"], rows), ""]
    return out


def _waiver(f: Finding) -> str:
    w = f.waiver
    return f"{w.reason} ({w.owner}, until {w.expires})" if w else ""


def _fixes(problems: list[Finding]) -> list[str]:
    """How to fix each failing check, once per check, folded so the table stays in view."""
    out = ["<details><summary>How to fix</summary>", ""]
    seen = set()
    for f in problems:
        if f.check.id in seen:
            continue
        seen.add(f.check.id)
        out += [f"#### {code(f.check.id)}: {text(f.check.title)}", "", text(f.check.remediation), ""]
        out += [block(f.check.config_fix, "yaml"), ""]
    return [*out, "</details>", ""]


def _cost(cost: view.Table) -> list[str]:
    out = [f"### {cost.title}", ""]
    if cost.rows:
        out += [*table([text(h) for h in cost.headers], [[text(v) for v in r] for r in cost.rows]), ""]
    if cost.totals:
        out += [" · ".join(f"**{text(name)}: {text(value)}**" for name, value in cost.totals), ""]
    if cost.notes:
        out += [*(f"- {text(name)}: {text(value)}" for name, value in cost.notes), ""]
    return out


def _comparison(comparison: dict[str, Any]) -> list[str]:
    since = comparison.get("since") or {}
    counts = comparison.get("counts") or {}
    out = [
        f"### Since {text(since.get('started_at'))}",
        "",
        f"{counts.get('new', 0)} new, {counts.get('resolved', 0)} resolved, {counts.get('unchanged', 0)} unchanged",
        "",
    ]
    changes = [("new", i) for i in comparison.get("new") or []]
    changes += [(f"resolved ({i.get('now')})", i) for i in comparison.get("resolved") or []]
    rows = [[text(c), text(i.get("severity")), code(i.get("check")), code(i.get("resource"))] for c, i in changes]
    if rows:
        out += [*table(["Change", "Severity", "Check", "Resource"], rows), ""]
    return out

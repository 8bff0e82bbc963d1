"""One self-contained HTML page: summary, findings with their fixes, comparison, cost estimate.

No external fetches: CSS and the filter script are inline, and a Content-Security-Policy admits only
those two by hash, so even a value that slipped past escaping could not run a script or load
anything. Every value from the report goes through `html.escape`. Without JavaScript every row is
shown and the filter controls stay hidden.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from typing import Any

from toolkit.findings import Finding, Report, Severity
from toolkit.report import view

CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-alt: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0 auto;
       max-width: 1280px; padding: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
.meta { color: var(--muted); margin: 0 0 1rem; }
.counts { display: flex; gap: .75rem; list-style: none; padding: 0; margin: 0 0 1rem; flex-wrap: wrap; }
.counts li { border: 1px solid var(--line); border-radius: 6px; padding: .5rem 1rem; min-width: 7rem; }
.counts b { display: block; font-size: 1.5rem; }
.counts .fail b { color: #cf222e; } .counts .unknown b { color: #9a6700; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .4rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--bg-alt); } td.num, th.num { text-align: right; white-space: nowrap; }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
pre { background: var(--bg-alt); padding: .5rem .75rem; border-radius: 6px; white-space: pre-wrap; }
.sev { display: inline-block; border-radius: 1em; padding: 0 .6em; font-size: 12px; font-weight: 600;
       border: 1px solid currentColor; }
.sev-critical { color: #82071e; } .sev-high { color: #cf222e; } .sev-medium { color: #9a6700; }
.sev-low { color: #0969da; } .sev-info { color: var(--muted); }
.st-FAIL { color: #cf222e; font-weight: 600; } .st-UNKNOWN { color: #9a6700; font-weight: 600; }
.st-WAIVED, .st-PASS { color: var(--muted); }
details summary { cursor: pointer; color: #0969da; }
#filters { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; margin: 1rem 0; }
#filters fieldset { border: 0; display: inline; margin: 0 1.5rem 0 0; padding: 0; }
#filters label { margin-right: .6rem; white-space: nowrap; }
.muted { color: var(--muted); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 .75rem; margin: .4rem 0; }
dt { color: var(--muted); } dd { margin: 0; }
""".strip()

# Reads the filter from the checkboxes, hides rows that do not match, and keeps it in the URL
# fragment (#hide=severity:low,status:PASS) so a filtered view can be linked.
SCRIPT = """
(function () {
  var form = document.getElementById("filters");
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox]"));
  var hidden = (location.hash.match(/hide=([^&]*)/) || [null, ""])[1].split(",").map(decodeURIComponent);
  boxes.forEach(function (b) { if (hidden.indexOf(b.value) >= 0) { b.checked = false; } });
  function apply() {
    var off = boxes.filter(function (b) { return !b.checked; }).map(function (b) { return b.value; });
    var rows = document.querySelectorAll("tr[data-severity]");
    var shown = 0;
    Array.prototype.forEach.call(rows, function (row) {
      var hide = off.indexOf("severity:" + row.dataset.severity) >= 0 ||
        off.indexOf("status:" + row.dataset.status) >= 0;
      row.hidden = hide;
      if (!hide) { shown += 1; }
    });
    document.getElementById("shown").textContent = shown + " of " + rows.length + " rows shown";
    try { history.replaceState(null, "", off.length ? "#hide=" + off.map(encodeURIComponent).join(",") : "#"); }
    catch (e) { /* file: URLs may refuse; the filter still works */ }
  }
  form.addEventListener("change", apply);
  form.hidden = false;
  apply();
})();
""".strip()


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


CSP = (
    f"default-src 'none'; style-src {_hash(CSS)}; script-src {_hash(SCRIPT)}; "
    "img-src 'none'; base-uri 'none'; form-action 'none'"
)


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _finding_row(f: Finding) -> str:
    status = view.label(f)
    extra = []
    if f.expected is not None or f.actual is not None:
        extra.append(
            f"<dl><dt>expected</dt><dd><code>{esc(_json(f.expected))}</code></dd>"
            f"<dt>actual</dt><dd><code>{esc(_json(f.actual))}</code></dd></dl>"
        )
    if f.waiver is not None:
        w = f.waiver
        extra.append(f'<p class="muted">Waived until {esc(w.expires)} by {esc(w.owner)}: {esc(w.reason)}</p>')
    if f.status.value != "pass":
        extra.append(
            f"<details><summary>How to fix</summary><p>{esc(f.check.remediation)}</p>"
            f"<p>In config.yaml:</p><pre><code>{esc(f.check.config_fix)}</code></pre></details>"
        )
    region = f' <span class="muted">({esc(f.region)})</span>' if f.region else ""
    return (
        f'<tr data-severity="{esc(f.severity.label)}" data-status="{esc(status)}">'
        f'<td><span class="sev sev-{esc(f.severity.label)}">{esc(f.severity.label)}</span></td>'
        f'<td class="st-{esc(status)}">{esc(status)}</td>'
        f'<td><code>{esc(f.check.id)}</code><br><span class="muted">{esc(f.check.title)}</span></td>'
        f"<td><code>{esc(f.resource)}</code>{region}</td>"
        f"<td>{esc(f.message)}{''.join(extra)}</td></tr>"
    )


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _findings_table(findings: list[Finding]) -> str:
    head = "<tr><th>Severity</th><th>Status</th><th>Check</th><th>Resource</th><th>Message</th></tr>"
    return f"<table><thead>{head}</thead><tbody>{''.join(_finding_row(f) for f in findings)}</tbody></table>"


def _filters() -> str:
    sev = "".join(
        f'<label><input type="checkbox" value="severity:{s.label}" checked> {s.label}</label>'
        for s in sorted(Severity, reverse=True)
    )
    status = "".join(
        f'<label><input type="checkbox" value="status:{s}" checked> {s.lower()}</label>'
        for s in ("FAIL", "UNKNOWN", "WAIVED", "PASS")
    )
    return (
        f'<form id="filters" hidden><fieldset><legend>Severity</legend>{sev}</fieldset>'
        f'<fieldset><legend>Status</legend>{status}</fieldset> <output id="shown" class="muted"></output></form>'
    )


def _comparison(comparison: dict[str, Any]) -> str:
    since = comparison.get("since") or {}
    counts = comparison.get("counts") or {}
    rows = []
    for kind, items in (("new", comparison.get("new") or []), ("resolved", comparison.get("resolved") or [])):
        for i in items:
            change = kind if kind == "new" else f"resolved ({i.get('now', '')})"
            rows.append(
                f"<tr><td>{esc(change)}</td><td>{esc(i.get('severity'))}</td><td><code>{esc(i.get('check'))}</code></td>"
                f"<td><code>{esc(i.get('resource'))}</code></td><td>{esc(i.get('message'))}</td></tr>"
            )
    table = (
        "<table><thead><tr><th>Change</th><th>Severity</th><th>Check</th><th>Resource</th><th>Message</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else ""
    )
    return (
        f'<section id="since"><h2>Since {esc(since.get("started_at"))}</h2>'
        f"<p>{esc(counts.get('new', 0))} new, {esc(counts.get('resolved', 0))} resolved, "
        f"{esc(counts.get('unchanged', 0))} unchanged</p>{table}</section>"
    )


def _cost(table: view.Table) -> str:
    money = {i for i, h in enumerate(table.headers) if "USD" in h}

    def cells(tag: str, values: list[str]) -> str:
        return "".join(f"<{tag}{' class=num' if i in money else ''}>{esc(v)}</{tag}>" for i, v in enumerate(values))

    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in table.rows)
    rows = f"<table><thead><tr>{cells('th', table.headers)}</tr></thead><tbody>{body}</tbody></table>" if body else ""
    totals = "".join(f"<dt>{esc(name)}</dt><dd><b>{esc(value)}</b></dd>" for name, value in table.totals)
    notes = "".join(f"<dt>{esc(name)}</dt><dd>{esc(value)}</dd>" for name, value in table.notes)
    return f'<section class="cost"><h2>{esc(table.title)}</h2>{rows}<dl>{totals}{notes}</dl></section>'


def render(report: Report) -> str:
    c = report.counts()
    whose = f"{len(report.scopes)} accounts" if report.scopes else f"account {report.account or 'unknown'}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">',
        f"<title>{esc(view.title(report))}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<header><h1>{esc(view.title(report))}</h1>",
        f'<p class="meta">{esc(whose)} · started {esc(report.started_at)} · '
        f"{esc(f'{report.duration_s:.1f}')} s · cargohold {esc(report.tool_version)}</p>",
        '<ul class="counts">'
        f'<li class="fail"><b>{c["fail"]}</b> failed</li><li class="unknown"><b>{c["error"]}</b> unknown</li>'
        f"<li><b>{c['waived']}</b> waived</li><li><b>{c['pass']}</b> passed</li></ul></header>",
        _filters(),
    ]
    for scope, findings in report.by_scope():
        ordered = view.ordered(findings)
        shown = [f for f in ordered if f.status.value != "pass"]
        passed = [f for f in ordered if f.status.value == "pass"]
        heading = "Findings" if scope is None else view.scope_title(scope, findings)
        anchor = "findings" if scope is None else f"findings-{scope.account}-{scope.name.replace(':', '-')}"
        parts.append(f'<section id="{esc(anchor)}"><h2>{esc(heading)}</h2>')
        if scope is not None and scope.error is not None:
            parts.append(f"<p>{esc(scope.error)}</p>")
        parts.append(_findings_table(shown) if shown else "<p>No problems found.</p>")
        if passed:
            parts.append(f"<details><summary>{len(passed)} passed</summary>{_findings_table(passed)}</details>")
        parts.append("</section>")
    if report.comparison:
        parts.append(_comparison(report.comparison))
    parts += [_cost(t) for t in view.cost_tables(report)]
    unused = report.stats.get("unused_waivers") or []
    if unused:
        items = "".join(
            f"<li><code>{esc(w.get('check'))}</code> on <code>{esc(w.get('resource'))}</code></li>" for w in unused
        )
        parts.append(
            f'<section id="unused-waivers"><h2>Unused waivers</h2><p>These waivers muted nothing; '
            f"remove them from the waivers file:</p><ul>{items}</ul></section>"
        )
    parts.append(f"<script>{SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"

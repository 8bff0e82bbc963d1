"""`--since`: what changed since an earlier JSON report, matched by finding fingerprint.

A problem is a FAIL or ERROR that no waiver mutes. New: a problem now that was not one before.
Resolved: a problem before that now passes, is waived, or is no longer reported at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cargohold_core.errors import CargoholdError
from toolkit.findings import REPORT_SCHEMA_VERSION, Finding, Report

_HINT = "pass a file written by `cargohold <command> --format json --output FILE`"


def load(path: Path) -> dict[str, Any]:
    """Read an earlier `--format json` report; refuse anything else with a clear error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CargoholdError(f"--since: file not found: {path}", hint=_HINT) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CargoholdError(f"--since: cannot read {path}: {exc}", hint=_HINT) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CargoholdError(f"--since: {path}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg})", hint=_HINT) from None
    if not isinstance(data, dict) or not isinstance(data.get("tool"), dict) or data["tool"].get("name") != "cargohold":
        raise CargoholdError(f"--since: {path} is not a cargohold JSON report", hint=_HINT)
    version = data.get("schema_version")
    if not isinstance(version, str) or version.split(".")[0] != REPORT_SCHEMA_VERSION.split(".")[0]:
        raise CargoholdError(
            f"--since: {path} has report schema_version {version!r}; this cargohold reads {REPORT_SCHEMA_VERSION}",
            hint="compare with a report written by this version of cargohold",
        )
    findings = data.get("findings")
    if not isinstance(findings, list) or not all(_is_finding(f) for f in findings):
        raise CargoholdError(f"--since: {path} has no valid `findings` list (was it edited or cut short?)", hint=_HINT)
    return data


def _is_finding(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("fingerprint"), str) and isinstance(item.get("status"), str)


def _was_problem(item: dict[str, Any]) -> bool:
    return item["status"] != "pass" and not item.get("waiver")


def compare(previous: dict[str, Any], report: Report) -> dict[str, Any]:
    """New and resolved problems between `previous` (as `load` returns it) and `report`."""
    for key in ("command", "project", "environment"):
        earlier, current = previous.get(key), getattr(report, key)
        if earlier != current:
            raise CargoholdError(
                f"--since: the earlier report is for {key} {earlier!r}, this run for {current!r}",
                hint=f"compare with an earlier report of the same {key}",
            )
    before = {f["fingerprint"]: f for f in previous["findings"]}
    now: dict[str, Finding] = {f.fingerprint: f for f in report.findings}
    was = {fp for fp, f in before.items() if _was_problem(f)}
    new = [f.to_json() for fp, f in now.items() if f.is_problem and fp not in was]
    resolved = []
    for fp in sorted(was, key=lambda fp: (before[fp].get("check", ""), before[fp].get("resource", ""))):
        current = now.get(fp)
        if current is None:
            resolved.append({**before[fp], "now": "gone"})
        elif not current.is_problem:
            resolved.append({**before[fp], "now": "waived" if current.waiver else current.status.value})
    still = sum(1 for fp, f in now.items() if f.is_problem and fp in was)
    return {
        "since": {"started_at": previous.get("started_at"), "tool_version": previous["tool"].get("version")},
        "new": new,
        "resolved": resolved,
        "counts": {"new": len(new), "resolved": len(resolved), "unchanged": still},
    }

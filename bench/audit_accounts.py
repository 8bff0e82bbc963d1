#!/usr/bin/env python3
"""Benchmark `cargohold audit --all-envs` against one `cargohold audit --env E` per account, in one run,
on one moto server holding several accounts (moto keeps state per account id; an assumed role's
credentials land in the role's account).

    .venv/bin/python bench/audit_accounts.py                      # 3 and 6 accounts, 20 buckets each, 3 runs
    .venv/bin/python bench/audit_accounts.py --accounts 3,9 --buckets 50 --runs 5

Per size: a fresh loopback moto server; account 1 is the shell's, the others are reached by
`assume_role:`; each holds --buckets buckets (half of them declared by config.yaml, planted problems on
some) and a table. Both ways run as subprocesses, alternating which goes first; measured: wall time and
CPU of the process tree (medians). Results in bench/.work/audit_accounts/summary.md. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from toolkit.demo.emulator import moto_server  # noqa: E402 - after the path is set

FIRST = 123456789012


def account_id(index: int) -> str:
    return str(FIRST + index * 111111111) if index else str(FIRST)


def credentials(endpoint: str, account: str) -> dict[str, str]:
    if account == str(FIRST):
        return {}
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1")
    got = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed")["Credentials"]
    return {
        "aws_access_key_id": got["AccessKeyId"],
        "aws_secret_access_key": got["SecretAccessKey"],
        "aws_session_token": got["SessionToken"],
    }


def seed(endpoint: str, accounts: int, buckets: int, folder: Path) -> Path:
    lines = ["version: 1", "project: bench", "environments:"]
    for index in range(accounts):
        account = account_id(index)
        env = f"e{index}"
        lines.append(f'  {env}: {{region: us-east-1, account: "{account}", endpoint: {endpoint}')
        if index:
            lines[-1] += f', assume_role: {{role_arn: "arn:aws:iam::{account}:role/auditor"}}'
        lines[-1] += "}"
        kw: dict[str, Any] = {"endpoint_url": endpoint, "region_name": "us-east-1", **credentials(endpoint, account)}
        s3 = boto3.client("s3", **kw)
        for b in range(buckets):
            name = f"bench-{env}-b{b}" if b < buckets // 2 else f"other-{env}-{b}"
            s3.create_bucket(Bucket=name)
            if b % 3:
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        boto3.client("dynamodb", **kw).create_table(
            TableName=f"bench-{env}-t",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    lines.append("buckets:")
    lines += [f"  b{b}: {{tls_only: false}}" for b in range(buckets // 2)]
    lines += ["tables:", "  t: {hash_key: {name: id}}"]
    config = folder / "config.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 2):
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    json.loads(done.stdout)  # a whole report, or the run does not count
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", default="3,6")
    parser.add_argument("--buckets", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=HERE / ".work" / "audit_accounts")
    args = parser.parse_args()
    cli = str(Path(sys.executable).with_name("cargohold"))
    rows = []
    for accounts in (int(n) for n in args.accounts.split(",")):
        folder = args.work / f"{accounts}-accounts"
        folder.mkdir(parents=True, exist_ok=True)
        with moto_server() as emulator:
            env = {**os.environ, **emulator.client_env()}
            os.environ.update(emulator.client_env())
            config = seed(emulator.endpoint, accounts, args.buckets, folder)
            base = [cli, "audit", "--config", str(config), "--format", "json", "--fail-on", "none"]
            times: dict[str, list[tuple[float, float]]] = {"one per account": [], "--all-envs": []}
            for run in range(args.runs):
                order = ["one per account", "--all-envs"] if run % 2 == 0 else ["--all-envs", "one per account"]
                for way in order:
                    if way == "--all-envs":
                        times[way].append(timed([*base, "--all-envs"], env))
                    else:
                        each = [timed([*base, "--env", f"e{i}"], env) for i in range(accounts)]
                        times[way].append((sum(w for w, _ in each), sum(c for _, c in each)))
        wall = {way: statistics.median(w for w, _ in t) for way, t in times.items()}
        cpu = {way: statistics.median(c for _, c in t) for way, t in times.items()}
        rows.append((accounts, wall, cpu))
    lines = [
        f"# audit over several accounts ({args.buckets} buckets and a table per account, median of {args.runs})",
        "",
        "| accounts | one `--env` per account: wall s / CPU s | `--all-envs`: wall s / CPU s | speed-up |",
        "| --- | --- | --- | --- |",
    ]
    for accounts, wall, cpu in rows:
        one, together = "one per account", "--all-envs"
        lines.append(
            f"| {accounts} | {wall[one]:.2f} / {cpu[one]:.2f} | {wall[together]:.2f} / {cpu[together]:.2f} "
            f"| {wall[one] / wall[together]:.2f}x |"
        )
    summary = "\n".join(lines) + "\n"
    (args.work / "summary.md").write_text(summary, encoding="utf-8")
    print(summary)


if __name__ == "__main__":
    main()

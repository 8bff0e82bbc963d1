#!/usr/bin/env python3
"""Seed a loopback moto server with an account for the audit benchmark, and write its cargohold config.

    python bench/audit_seed.py --buckets 100 --config /tmp/bench.yaml     # starts a server, seeds, waits

The account: N buckets, nearly all hardened exactly as the s3-bucket module builds them (ACLs disabled,
public access block on, TLS-only policy, versioning, AES256, a lifecycle rule with noncurrent-version
expiry and abort-incomplete-multipart), three DynamoDB tables and five IAM users, each user built like
the iam-principal module does it (a scoped customer policy on a group of one). A few of them carry one
planted problem each (PLANTS). The config declares every seeded resource as it was *meant* to be, i.e.
the hardened spec, so a planted problem is both a baseline failure and a drift from the config, and a
hardened resource matches its declaration attribute for attribute.

Needs boto3, moto[server] and this repository's `toolkit` (the repo's .venv has all three).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

PROJECT = ENV = "bench"
ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
FAKE_CREDS = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}

PAB_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
PAB_OFF = dict.fromkeys(PAB_ON, False)
NONCURRENT_DAYS, ABORT_DAYS = 90, 7


@dataclass(frozen=True)
class Plant:
    """One planted problem: where it is, and which checks of each tool address that problem."""

    id: str
    problem: str
    names: tuple[str, ...]  # resource names a finding may carry (bucket, table, user, policy); () = account
    cargohold: tuple[str, ...]
    prowler: tuple[str, ...]  # found by running prowler 5.x on this account; see bench/README.md


def aws_name(key: str) -> str:
    """The AWS name of a bucket, table or user key (the config sets it with `name:`)."""
    return f"{PROJECT}-{key}"


# Planted buckets: one problem each, otherwise hardened. Key -> what differs from the hardened bucket.
PLANTED_BUCKETS = {
    "public-policy": "public access block off, policy lets anyone GetObject",
    "no-noncurrent": "versioned, lifecycle has no noncurrent-version expiration",
    "no-abort-mpu": "lifecycle has no abort-incomplete-multipart rule",
    "cors-wildcard": "CORS AllowedOrigins * with PUT/POST/DELETE",
    "acl-public": "ACLs enabled (ObjectWriter), public-read ACL, public access block off",
    "no-tls": "no bucket policy (plain HTTP allowed)",
}
TABLES = {"tbl-ok": "hardened", "tbl-no-pitr": "PITR off", "tbl-provisioned": "provisioned 5/5, no autoscaling"}
USERS = {
    "user-ok": "hardened: scoped policy via its group",
    "user-s3full": "AmazonS3FullAccess attached to the user",
    "user-s3star": "customer policy s3:* on * attached to its group",
    "user-admin": "inline user policy *:* (admin)",
    "user-twokeys": "two active access keys",
}
S3_STAR_POLICY = f"{PROJECT}-s3-star"

PLANTS = (
    Plant("account-pab", "account-level public access block off", (), ("s3.account-public-access-block",),
          ("s3_account_level_public_access_blocks",)),
    Plant("public-policy", "bucket policy grants public read", (aws_name("public-policy"),),
          ("s3.public-exposure", "s3.bucket-public-access-block"),
          ("s3_bucket_public_access", "s3_bucket_level_public_access_block", "s3_bucket_cross_account_access",
           "s3_bucket_policy_public_write_access")),
    Plant("no-noncurrent", "versioned bucket without noncurrent-version expiry", (aws_name("no-noncurrent"),),
          ("s3.noncurrent-version-expiration",), ()),
    Plant("no-abort-mpu", "lifecycle without abort-incomplete-multipart", (aws_name("no-abort-mpu"),),
          ("s3.abort-incomplete-multipart",), ()),
    Plant("cors-wildcard", "CORS origin * with write methods", (aws_name("cors-wildcard"),),
          ("s3.cors-wildcard-write",), ()),
    Plant("acl-public", "ACLs enabled with a public-read ACL", (aws_name("acl-public"),),
          ("s3.acls-disabled", "s3.public-exposure", "s3.bucket-public-access-block"),
          ("s3_bucket_acl_prohibited", "s3_bucket_public_access", "s3_bucket_public_list_acl",
           "s3_bucket_public_write_acl", "s3_bucket_level_public_access_block")),
    Plant("no-tls", "no TLS-only bucket policy", (aws_name("no-tls"),), ("s3.tls-only",),
          ("s3_bucket_secure_transport_policy",)),
    Plant("tbl-no-pitr", "table without point-in-time recovery", (aws_name("tbl-no-pitr"),), ("dynamodb.pitr",),
          ("dynamodb_tables_pitr_enabled",)),
    Plant("tbl-provisioned", "provisioned table without autoscaling", (aws_name("tbl-provisioned"),),
          ("dynamodb.capacity-mode",), ("dynamodb_table_autoscaling_enabled",)),
    Plant("s3full-grant", "AmazonS3FullAccess (s3:*) granted to a user",
          (aws_name("user-s3full"), "AmazonS3FullAccess"),
          ("iam.full-access-managed-policy", "iam.wildcard-action"), ()),
    Plant("s3full-direct", "managed policy attached directly to a user", (aws_name("user-s3full"),),
          ("iam.policy-attached-to-user",), ("iam_policy_attached_only_to_group_or_roles",)),
    Plant("s3star", "customer policy allowing s3:* on *", (aws_name("user-s3star"), S3_STAR_POLICY),
          ("iam.wildcard-action", "iam.wildcard-resource"), ()),
    Plant("admin-inline", "inline *:* (admin) policy on a user", (aws_name("user-admin"),),
          ("iam.admin-policy",), ("iam_inline_policy_no_administrative_privileges",)),
    Plant("two-keys", "user with two active access keys", (aws_name("user-twokeys"),), ("iam.two-active-keys",),
          ("iam_user_two_active_access_key",)),
)  # fmt: skip


def hardened_keys(n: int) -> list[str]:
    """Bucket keys of the hardened buckets in an account of n buckets (the planted ones come first)."""
    planted = len(PLANTED_BUCKETS) if n > len(PLANTED_BUCKETS) else 0
    return [f"b{i:04d}" for i in range(n - planted)]


def bucket_keys(n: int) -> list[str]:
    planted = list(PLANTED_BUCKETS) if n > len(PLANTED_BUCKETS) else []
    return planted + hardened_keys(n)


def hardened_names(n: int, *, full: bool = True) -> set[str]:
    """Every hardened resource's name: the set the baseline noise is counted on."""
    names = {aws_name(k) for k in hardened_keys(n)}
    if full:
        names |= {aws_name("tbl-ok"), aws_name("user-ok")}
    return names


# ---------------------------------------------------------------- the config


def write_config(path: Path, endpoint: str, n: int, *, full: bool = True) -> None:
    """The cargohold config declaring every seeded resource as intended (the hardened spec)."""
    import yaml

    rule = {"id": "tidy", "noncurrent_expiration_days": NONCURRENT_DAYS, "abort_incomplete_multipart_days": ABORT_DAYS}
    doc: dict[str, Any] = {
        "version": 1,
        "project": PROJECT,
        "environments": {ENV: {"region": REGION, "account": ACCOUNT, "endpoint": endpoint}},
        "buckets": {k: {"name": aws_name(k), "lifecycle": [dict(rule)]} for k in bucket_keys(n)},
    }
    if full:
        grant_on = hardened_keys(n)[0]
        doc["tables"] = {k: {"name": aws_name(k), "hash_key": {"name": "id", "type": "S"}} for k in TABLES}
        doc["principals"] = {
            k: {"name": aws_name(k), "kind": "user", "grants": [{"bucket": grant_on, "actions": ["read", "list"]}]}
            for k in USERS
        }
    path.write_text(
        "# Written by bench/audit_seed.py: the audit benchmark's account as it was meant to be.\n"
        + yaml.safe_dump(doc, sort_keys=False, width=200)
    )


def principal_policies(config: Path) -> dict[str, dict[str, Any]]:
    """Each principal's policy document exactly as cargohold (and its iam-principal module) renders it."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from cargohold_core.config.load import load_project

    env = load_project(config).environment(ENV)
    return {p.name: p.policy for p in env.principals.values()}


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    endpoint: str
    proc: subprocess.Popen[bytes]
    log: Path  # werkzeug writes one line per HTTP request here: the request counter for both tools

    def cpu_s(self) -> float:
        """CPU seconds the server process has used so far (Linux /proc; 0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def request_lines(self) -> list[str]:
        """Requests the server has logged so far (lines like `127.0.0.1 - - [...] "GET / HTTP/1.1" 200 -`)."""
        with self.log.open("rb") as f:
            return [line.decode(errors="replace") for line in f if b'" ' in line and b" HTTP/1." in line]

    def requests(self) -> int:
        return len(self.request_lines())


@contextmanager
def moto(log: Path, timeout: float = 30.0) -> Iterator[Server]:
    """A fresh moto server on loopback with AWS managed policies loaded; stopped on exit."""
    port = free_port()
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", proc, log)
    try:
        _wait_ready(server, timeout)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"moto server exited with {server.proc.returncode}; see {server.log}")
        try:
            with urllib.request.urlopen(f"{server.endpoint}/moto-api/data.json", timeout=1):  # noqa: S310
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise RuntimeError(f"moto server at {server.endpoint} not ready after {timeout:.0f}s")


# ---------------------------------------------------------------- seeding


def clients(endpoint: str) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(region_name=REGION, **{k.lower(): v for k, v in FAKE_CREDS.items()})
    cfg = Config(max_pool_connections=32, retries={"max_attempts": 5, "mode": "standard"})
    return {svc: session.client(svc, endpoint_url=endpoint, config=cfg) for svc in ("s3", "dynamodb", "iam")}


def tls_policy(name: str, extra: list[dict[str, Any]] | None = None) -> str:
    """The s3-bucket module's policy for default settings: deny plain HTTP and TLS < 1.2."""
    arns = [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]
    statements = [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": arns,
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "DenyOutdatedTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": arns,
         "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}}},
    ]  # fmt: skip
    return json.dumps({"Version": "2012-10-17", "Statement": statements + (extra or [])})


def lifecycle_rule(*, noncurrent: bool = True, abort: bool = True) -> dict[str, Any]:
    rule: dict[str, Any] = {"ID": "tidy", "Status": "Enabled", "Filter": {"Prefix": ""}}
    if noncurrent:
        rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": NONCURRENT_DAYS}
    if abort:
        rule["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": ABORT_DAYS}
    return rule


def seed_bucket(s3: Any, key: str) -> None:
    """A hardened bucket in the module's order, with the one planted deviation for a planted key."""
    name = aws_name(key)
    s3.create_bucket(Bucket=name)
    acl = key == "acl-public"
    ownership = "ObjectWriter" if acl else "BucketOwnerEnforced"
    s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]})
    public = key in ("public-policy", "acl-public")
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=PAB_OFF if public else PAB_ON)
    if key == "public-policy":
        read = {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{name}/*"}  # fmt: skip
        s3.put_bucket_policy(Bucket=name, Policy=tls_policy(name, [read]))
    elif key != "no-tls":
        s3.put_bucket_policy(Bucket=name, Policy=tls_policy(name))
    if acl:
        s3.put_bucket_acl(Bucket=name, ACL="public-read")
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    rule = lifecycle_rule(noncurrent=key != "no-noncurrent", abort=key != "no-abort-mpu")
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [rule]})
    if key == "cors-wildcard":
        cors = {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PUT", "POST", "DELETE"], "AllowedHeaders": ["*"]}
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [cors]})


def seed_table(ddb: Any, key: str) -> None:
    name = aws_name(key)
    kw: dict[str, Any] = {"BillingMode": "PAY_PER_REQUEST"}
    if key == "tbl-provisioned":
        kw = {"BillingMode": "PROVISIONED", "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        DeletionProtectionEnabled=True,
        **kw,
    )
    if key != "tbl-no-pitr":
        ddb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )


def seed_user(iam: Any, key: str, policy: dict[str, Any]) -> None:
    """User + group of one + the scoped customer policy on the group (the iam-principal module's shape)."""
    name = aws_name(key)
    iam.create_user(UserName=name)
    iam.create_group(GroupName=name)
    arn = iam.create_policy(
        PolicyName=name, PolicyDocument=json.dumps(policy), Description=f"cargohold grants for user {name}"
    )["Policy"]["Arn"]
    iam.attach_group_policy(GroupName=name, PolicyArn=arn)
    iam.add_user_to_group(GroupName=name, UserName=name)
    if key == "user-s3full":
        iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    elif key == "user-s3star":
        doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        star = iam.create_policy(PolicyName=S3_STAR_POLICY, PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
        iam.attach_group_policy(GroupName=name, PolicyArn=star)
    elif key == "user-admin":
        doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        iam.put_user_policy(UserName=name, PolicyName="admin", PolicyDocument=json.dumps(doc))
    elif key == "user-twokeys":
        iam.create_access_key(UserName=name)
        iam.create_access_key(UserName=name)


def seed(endpoint: str, config: Path, n: int, *, full: bool = True, threads: int = 16) -> dict[str, Any]:
    """Write the config for this endpoint, then create what it declares (with the planted problems)."""
    t0 = time.perf_counter()
    write_config(config, endpoint, n, full=full)
    c = clients(endpoint)
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda k: seed_bucket(c["s3"], k), bucket_keys(n)))
    if full:
        policies = principal_policies(config)
        for key in TABLES:
            seed_table(c["dynamodb"], key)
        for key in USERS:
            seed_user(c["iam"], key, policies[aws_name(key)])
    return {"buckets": n, "full": full, "seconds": round(time.perf_counter() - t0, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--buckets", type=int, default=100)
    ap.add_argument("--config", type=Path, required=True, help="where to write the cargohold config")
    ap.add_argument("--endpoint", help="seed this server instead of starting one (it must be empty)")
    ap.add_argument("--log", type=Path, default=Path("moto.log"), help="the started server's request log")
    ap.add_argument("--buckets-only", action="store_true", help="no tables or users (the start-up account)")
    a = ap.parse_args()
    if a.endpoint:
        print(json.dumps(seed(a.endpoint, a.config, a.buckets, full=not a.buckets_only)))
        return 0
    with moto(a.log) as server:
        print(json.dumps(seed(server.endpoint, a.config, a.buckets, full=not a.buckets_only)))
        print(f"ENDPOINT={server.endpoint}  (Ctrl-C stops the server)", flush=True)
        with suppress(KeyboardInterrupt):
            server.proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

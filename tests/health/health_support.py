"""Servers and a small deployed environment for the health probes, all over real HTTP on loopback.

- `cors_moto`: a moto server started with MOTO_DISABLE_GLOBAL_CORS=1, so preflights follow each
  bucket's CORS rules (the session `moto` answers every preflight with "allowed").
- `iam_moto`: a moto server whose IAM enforcement is switched on per test (`enforce_iam`), through
  moto's /moto-api/reset-auth (the server-side INITIAL_NO_AUTH_ACTION_COUNT).
- `rclone`: `rclone serve s3`, which really checks presigned signatures and expiry (moto does not).
- `deploy(...)`: writes a config, loads the environment and creates its buckets, tables and
  principals on the server, as `cargohold apply` would; the principal's keys go to a 0600 .env file.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from cargohold_core.aws import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from cargohold_core.config import Environment, load_project
from tests.support.moto_api import set_auth
from tests.support.rclone_s3 import RcloneS3, rclone  # noqa: F401 - the fixture, shared with migrate's tests
from toolkit.demo.emulator import Emulator, moto_server

REGION = "us-east-1"


@pytest.fixture(scope="session")
def cors_moto() -> Iterator[Emulator]:
    with moto_server(extra_env={"MOTO_DISABLE_GLOBAL_CORS": "1"}) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def iam_moto() -> Iterator[Emulator]:
    with moto_server() as emulator:
        yield emulator


@pytest.fixture
def enforce_iam(iam_moto: Emulator) -> Iterator[Callable[[], None]]:
    """Call it to switch IAM enforcement on (after setting up users); always switched off afterwards."""
    yield lambda: set_auth(iam_moto.endpoint, "0")
    set_auth(iam_moto.endpoint, "inf")


def client(
    endpoint: str, service: str, *, key: str = FAKE_ACCESS_KEY, secret: str = FAKE_SECRET_KEY, region: str = REGION
) -> Any:
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=config,
    )


def write_env_file(path: Path, key: str, secret: str, token: str | None = None) -> Path:
    lines = [f"AWS_ACCESS_KEY_ID={key}", f"AWS_SECRET_ACCESS_KEY={secret}"]
    if token:
        lines.append(f"AWS_SESSION_TOKEN={token}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@dataclass
class Deployed:
    env: Environment
    config: Path
    project: str
    credentials: Path | None  # the first user principal's .env file
    endpoint: str

    def s3(self) -> Any:
        return client(self.endpoint, "s3")

    def ddb(self) -> Any:
        return client(self.endpoint, "dynamodb")

    def leftovers(self) -> dict[str, list[str]]:
        """Every object version, delete marker and table item still there (probes must leave none)."""
        out: dict[str, list[str]] = {}
        s3, ddb = self.s3(), self.ddb()
        for bucket in self.env.buckets.values():
            try:
                listing = s3.list_object_versions(Bucket=bucket.name)
            except s3.exceptions.NoSuchBucket:
                continue
            keys = [v["Key"] for v in [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]]
            if keys:
                out[bucket.name] = keys
        for table in self.env.tables.values():
            try:
                items = ddb.scan(TableName=table.name).get("Items", [])
            except ddb.exceptions.ResourceNotFoundException:
                continue
            if items:
                out[table.name] = [json.dumps(i) for i in items]
        return out


def example_config(endpoint: str, project: str, **changes: Any) -> dict[str, Any]:
    """A config shaped like the LMS example: two buckets, two tables, an app user and an uploader role."""
    config: dict[str, Any] = {
        "version": 1,
        "project": project,
        "environments": {"local": {"region": REGION, "account": "123456789012", "endpoint": endpoint}},
        "buckets": {
            "docs": {
                "versioning": True,
                "cors": [
                    {
                        "allowed_origins": ["https://lms.example.com", "https://*.preview.example.com"],
                        "allowed_methods": ["GET", "PUT", "POST"],
                        "allowed_headers": ["*"],
                    }
                ],
                "uploads": {
                    "method": "presigned-post",
                    "prefix": "uploads/",
                    "content_types": ["application/pdf"],
                    "max_size_mb": 5,
                },
            },
            "private": {"versioning": False},
        },
        "tables": {
            "courses": {
                "hash_key": {"name": "courseId", "type": "S"},
                "range_key": {"name": "unit", "type": "N"},
                "ttl_attribute": "expiresAt",
            },
            "audit": {"hash_key": {"name": "eventId", "type": "S"}},
        },
        "principals": {
            "app": {
                "kind": "user",
                "grants": [
                    {"bucket": "docs", "actions": ["read", "write", "delete", "list"]},
                    {"table": "courses", "actions": ["read", "write"]},
                ],
            },
            "uploader": {
                "kind": "role",
                "assume_role_services": ["ecs-tasks.amazonaws.com"],
                "grants": [
                    {"bucket": "docs", "prefix": "uploads/", "actions": ["write"]},
                ],
            },
        },
    }
    config.update(changes)
    return config


@pytest.fixture
def deploy(write_config: Callable[..., Path], tmp_path: Path) -> Callable[..., Deployed]:
    def run(
        endpoint: str,
        *,
        config: dict[str, Any] | None = None,
        skip_buckets: tuple[str, ...] = (),
        skip_tables: tuple[str, ...] = (),
        cors: dict[str, list[dict[str, Any]]] | None = None,
        bucket_regions: dict[str, str] | None = None,
        extra_policy: dict[str, Any] | None = None,
    ) -> Deployed:
        project = f"hc{uuid.uuid4().hex[:10]}"
        path = write_config(config or example_config(endpoint, project))
        if config is not None:
            project = config["project"]
        env = load_project(path).environment("local")
        s3, ddb, iam = client(endpoint, "s3"), client(endpoint, "dynamodb"), client(endpoint, "iam")
        for bucket in env.buckets.values():
            if bucket.key in skip_buckets:
                continue
            region = (bucket_regions or {}).get(bucket.key, env.region)
            create: dict[str, Any] = {"Bucket": bucket.name}
            if region != "us-east-1":
                create["CreateBucketConfiguration"] = {"LocationConstraint": region}
            client(endpoint, "s3", region=region).create_bucket(**create)
            if bucket.spec.versioning:
                s3.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"})
            rules = (cors or {}).get(bucket.key)
            if rules is None:
                rules = [
                    {
                        "AllowedOrigins": r.allowed_origins,
                        "AllowedMethods": list(r.allowed_methods),
                        "AllowedHeaders": r.allowed_headers,
                    }
                    for r in bucket.spec.cors
                ]
            if rules:
                s3.put_bucket_cors(Bucket=bucket.name, CORSConfiguration={"CORSRules": rules})
        for table in env.tables.values():
            if table.key in skip_tables:
                continue
            keys = [(table.spec.hash_key, "HASH")] + ([(table.spec.range_key, "RANGE")] if table.spec.range_key else [])
            ddb.create_table(
                TableName=table.name,
                KeySchema=[{"AttributeName": k.name, "KeyType": t} for k, t in keys],
                AttributeDefinitions=[{"AttributeName": k.name, "AttributeType": k.type} for k, _ in keys],
                BillingMode="PAY_PER_REQUEST",
            )
        credentials = None
        for principal in env.principals.values():
            policy = json.dumps(principal.policy)
            if principal.spec.kind == "user":
                iam.create_user(UserName=principal.name)
                iam.put_user_policy(UserName=principal.name, PolicyName="cargohold", PolicyDocument=policy)
                if extra_policy is not None:
                    iam.put_user_policy(
                        UserName=principal.name, PolicyName="extra", PolicyDocument=json.dumps(extra_policy)
                    )
                key = iam.create_access_key(UserName=principal.name)["AccessKey"]
                if credentials is None:
                    credentials = write_env_file(
                        tmp_path / f".env.{principal.key}", key["AccessKeyId"], key["SecretAccessKey"]
                    )
            else:
                trust = {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                        }
                    ],
                }
                iam.create_role(RoleName=principal.name, AssumeRolePolicyDocument=json.dumps(trust))
                iam.put_role_policy(RoleName=principal.name, PolicyName="cargohold", PolicyDocument=policy)
        return Deployed(env=env, config=path, project=project, credentials=credentials, endpoint=endpoint)

    return run

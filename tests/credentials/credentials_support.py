"""A small environment deployed in moto (over HTTP) for the credentials tests, and a CLI to drive.

- `keys_moto`: a moto server of this folder's own, whose IAM enforcement a test may switch on
  (`enforce_iam`, through moto's /moto-api/reset-auth); it is switched off again afterwards.
- `deploy(endpoint, ...)`: writes a config (a bucket, optionally a table, an IAM-user principal `app`
  and a role `worker`), and creates it all with real Terraform and the emulator provider, as `cargohold apply` does.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import click
import pytest
from botocore.config import Config

from cargohold_core.aws import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from cargohold_core.config import Environment, load_project
from tests.support.moto_api import set_auth
from tests.support.terraform_apply import provision, without_tls_policy
from toolkit.credentials.cli import credentials
from toolkit.demo.emulator import Emulator, moto_server

REGION = "us-east-1"


@pytest.fixture(scope="session")
def keys_moto() -> Iterator[Emulator]:
    with moto_server() as emulator:
        yield emulator


@pytest.fixture
def enforce_iam(keys_moto: Emulator) -> Iterator[Callable[[], None]]:
    """Call it to switch IAM enforcement on (after the setup); always switched off afterwards."""
    yield lambda: set_auth(keys_moto.endpoint, "0")
    set_auth(keys_moto.endpoint, "inf")


def client(endpoint: str, service: str, *, key: str = FAKE_ACCESS_KEY, secret: str = FAKE_SECRET_KEY) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def config(
    endpoint: str, *, tables: bool = True, buckets: bool = True, dotenv: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`buckets=False`: the app user is granted only the table (no presigned S3 probes for it)."""
    project = f"ck{uuid.uuid4().hex[:10]}"
    app: dict[str, Any] = {"kind": "user", "grants": []}
    if buckets:
        app["grants"].append({"bucket": "docs", "actions": ["read", "write", "delete", "list"]})
    if tables:
        app["grants"].append({"table": "courses", "actions": ["read", "write"]})
    if dotenv is not None:
        app["dotenv"] = dotenv
    out: dict[str, Any] = {
        "version": 1,
        "project": project,
        "environments": {"local": {"region": REGION, "account": "123456789012", "endpoint": endpoint}},
        "buckets": {"logs": {"versioning": False}, "docs": {"versioning": True}},
        "principals": {
            "app": app,
            "worker": {
                "kind": "role",
                "assume_role_services": ["ecs-tasks.amazonaws.com"],
                "grants": [{"bucket": "docs", "actions": ["read"]}],
            },
        },
    }
    if tables:
        out["tables"] = {"courses": {"hash_key": {"name": "courseId"}, "deletion_protection": False}}
    return out


@dataclass
class Deployed:
    env: Environment
    config: Path
    project: str
    endpoint: str

    @property
    def user(self) -> str:
        return self.env.principals["app"].name

    def iam(self) -> Any:
        """With the operator's keys of the moment (a test with IAM enforcement sets an admin's)."""
        return client(
            self.endpoint, "iam", key=os.environ["AWS_ACCESS_KEY_ID"], secret=os.environ["AWS_SECRET_ACCESS_KEY"]
        )

    def access_keys(self) -> dict[str, str]:
        """The app user's access keys: id -> status."""
        listing = self.iam().list_access_keys(UserName=self.user)["AccessKeyMetadata"]
        return {k["AccessKeyId"]: k["Status"] for k in listing}


@pytest.fixture
def deploy(write_config: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Deployed]:
    def run(endpoint: str, **changes: Any) -> Deployed:
        data = config(endpoint, **changes)
        path = write_config(data)
        env = load_project(path).environment("local")
        # Without the TLS-only bucket policy: moto does not evaluate its condition (see without_tls_policy).
        provision(without_tls_policy(env), tmp_path_factory.mktemp("terraform"))
        return Deployed(env=env, config=path, project=data["project"], endpoint=endpoint)

    return run


def admin_keys(endpoint: str, name: str) -> tuple[str, str]:
    """An operator user allowed everything, for a server with IAM enforcement on."""
    iam = client(endpoint, "iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="all",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def cli() -> click.Group:
    @click.group()
    def main() -> None:
        """test"""

    main.add_command(credentials)  # the command alone, as toolkit.cli adds it
    return main

"""bootstrap against a real moto server over HTTP: the state bucket and the lock table."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from cargohold_core.config import load_project
from cargohold_core.config.model import Environment
from cargohold_core.errors import AwsError
from toolkit.bootstrap import Step, bootstrap
from toolkit.cli import main
from toolkit.demo.emulator import Emulator

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def local_env(moto: Emulator, write_config: Callable[..., Path]) -> Callable[..., Environment]:
    """The `local` environment of config.yaml, under a unique project name, pointed at the moto server."""

    def make(*, state_region: str | None = None) -> Environment:
        text = (REPO / "config.yaml").read_text(encoding="utf-8")
        project = f"t{uuid.uuid4().hex[:12]}"
        text = text.replace("project: acme-lms", f"project: {project}", 1)
        text = text.replace("endpoint: http://127.0.0.1:5000", f"endpoint: {moto.endpoint}", 1)
        if state_region:
            text = text.replace("    endpoint:", f"    state: {{region: {state_region}}}\n    endpoint:", 1)
        env = load_project(write_config(text)).environment("local")
        assert env.endpoint == moto.endpoint
        assert env.project == project
        return env

    return make


def client(moto: Emulator, service: str, region: str = "us-east-1") -> Any:
    return boto3.client(
        service,
        endpoint_url=moto.endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def actions(steps: list[Step]) -> list[tuple[str, str]]:
    return [(s.resource, s.action) for s in steps]


def assert_state_bucket_is_secure(s3: Any, name: str) -> None:
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    [rule] = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    [ownership] = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    assert ownership["ObjectOwnership"] == "BucketOwnerEnforced"


def test_creates_a_secure_state_bucket_and_a_lock_table(moto: Emulator, local_env: Callable[..., Environment]) -> None:
    env = local_env()
    steps = bootstrap(env)
    assert actions(steps) == [(f"s3://{env.state.bucket}", "created"), (f"dynamodb:{env.state.lock_table}", "created")]
    assert env.state.bucket == f"{env.project}-local-tfstate-123456789012"

    s3 = client(moto, "s3")
    assert_state_bucket_is_secure(s3, env.state.bucket)

    table = client(moto, "dynamodb").describe_table(TableName=env.state.lock_table)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "LockID", "AttributeType": "S"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TableStatus"] == "ACTIVE"
    backups = client(moto, "dynamodb").describe_continuous_backups(TableName=env.state.lock_table)
    assert backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == (
        "ENABLED"
    )
    [rule] = s3.get_bucket_lifecycle_configuration(Bucket=env.state.bucket)["Rules"]
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    assert rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7


def test_existing_lifecycle_rules_are_left_alone(moto: Emulator, local_env: Callable[..., Environment]) -> None:
    env = local_env()
    s3 = client(moto, "s3")
    s3.create_bucket(Bucket=env.state.bucket)
    mine = {"ID": "mine", "Status": "Enabled", "Filter": {"Prefix": "x/"}, "Expiration": {"Days": 3}}
    s3.put_bucket_lifecycle_configuration(Bucket=env.state.bucket, LifecycleConfiguration={"Rules": [mine]})
    bootstrap(env)
    assert [r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=env.state.bucket)["Rules"]] == ["mine"]


def test_second_run_reports_unchanged(local_env: Callable[..., Environment]) -> None:
    env = local_env()
    first = bootstrap(env)
    again = bootstrap(env)
    assert [s.action for s in first] == ["created", "created"]
    assert actions(again) == [(s.resource, "unchanged") for s in first]


def test_existing_unversioned_bucket_is_updated(moto: Emulator, local_env: Callable[..., Environment]) -> None:
    env = local_env()
    s3 = client(moto, "s3")
    s3.create_bucket(Bucket=env.state.bucket)
    assert s3.get_bucket_versioning(Bucket=env.state.bucket).get("Status") in (None, "Suspended")

    steps = bootstrap(env)
    assert actions(steps) == [(f"s3://{env.state.bucket}", "updated"), (f"dynamodb:{env.state.lock_table}", "created")]
    assert s3.get_bucket_versioning(Bucket=env.state.bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=env.state.bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert [s.action for s in bootstrap(env)] == ["unchanged", "unchanged"]


def test_partly_open_public_access_block_is_closed(moto: Emulator, local_env: Callable[..., Environment]) -> None:
    env = local_env()
    bootstrap(env)
    s3 = client(moto, "s3")
    s3.put_public_access_block(
        Bucket=env.state.bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    )
    steps = bootstrap(env)
    assert [s.action for s in steps] == ["updated", "unchanged"]
    assert_state_bucket_is_secure(s3, env.state.bucket)


def test_suspended_versioning_is_enabled_again(moto: Emulator, local_env: Callable[..., Environment]) -> None:
    env = local_env()
    bootstrap(env)
    s3 = client(moto, "s3")
    s3.put_bucket_versioning(Bucket=env.state.bucket, VersioningConfiguration={"Status": "Suspended"})
    assert [s.action for s in bootstrap(env)] == ["updated", "unchanged"]
    assert s3.get_bucket_versioning(Bucket=env.state.bucket)["Status"] == "Enabled"


def test_table_with_the_lock_name_but_another_key_is_refused(
    moto: Emulator, local_env: Callable[..., Environment]
) -> None:
    env = local_env()
    ddb = client(moto, "dynamodb")
    ddb.create_table(
        TableName=env.state.lock_table,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(AwsError) as caught:
        bootstrap(env)
    assert f"table '{env.state.lock_table}' exists but is not a Terraform lock table" in caught.value.message
    assert "LockID" in caught.value.message
    assert "state.lock_table" in (caught.value.hint or "")
    # the table was left alone
    table = ddb.describe_table(TableName=env.state.lock_table)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]


def test_state_backend_in_another_region(moto: Emulator, local_env: Callable[..., Environment]) -> None:
    env = local_env(state_region="eu-west-1")
    assert env.state.region == "eu-west-1"
    assert [s.action for s in bootstrap(env)] == ["created", "created"]
    s3 = client(moto, "s3", region="eu-west-1")
    assert s3.get_bucket_location(Bucket=env.state.bucket)["LocationConstraint"] == "eu-west-1"
    assert_state_bucket_is_secure(s3, env.state.bucket)
    ddb = client(moto, "dynamodb", region="eu-west-1")
    assert ddb.describe_table(TableName=env.state.lock_table)["Table"]["TableArn"].startswith(
        "arn:aws:dynamodb:eu-west-1:"
    )
    assert [s.action for s in bootstrap(env)] == ["unchanged", "unchanged"]


def test_bootstrap_command_json(moto: Emulator, write_config: Callable[..., Path]) -> None:
    project = f"c{uuid.uuid4().hex[:12]}"
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("project: acme-lms", f"project: {project}", 1)
    text = text.replace("endpoint: http://127.0.0.1:5000", f"endpoint: {moto.endpoint}", 1)
    path = write_config(text)
    runner = CliRunner()
    result = runner.invoke(
        main, ["bootstrap", "-c", str(path), "--env", "local", "--format", "json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload == {
        "environment": "local",
        "steps": [
            {"resource": f"s3://{project}-local-tfstate-123456789012", "action": "created"},
            {"resource": f"dynamodb:{project}-local-tflock", "action": "created"},
        ],
    }
    again = runner.invoke(main, ["bootstrap", "-c", str(path), "--env", "local"], catch_exceptions=False)
    assert again.exit_code == 0
    assert again.output.split() == [
        "unchanged",
        f"s3://{project}-local-tfstate-123456789012",
        "unchanged",
        f"dynamodb:{project}-local-tflock",
    ]


def test_bootstrap_command_lock_table_conflict_is_one_clean_error(
    moto: Emulator, write_config: Callable[..., Path]
) -> None:
    project = f"c{uuid.uuid4().hex[:12]}"
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("project: acme-lms", f"project: {project}", 1)
    text = text.replace("endpoint: http://127.0.0.1:5000", f"endpoint: {moto.endpoint}", 1)
    client(moto, "dynamodb").create_table(
        TableName=f"{project}-local-tflock",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    result = CliRunner().invoke(
        main, ["bootstrap", "-c", str(write_config(text)), "--env", "local"], catch_exceptions=False
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.startswith(f"Error: table '{project}-local-tflock' exists but is not a Terraform lock table")


@pytest.mark.slow  # botocore retries a refused connection for several seconds
def test_unreachable_endpoint_is_a_clean_aws_error(write_config: Callable[..., Path]) -> None:
    from toolkit.demo.emulator import free_port

    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("endpoint: http://127.0.0.1:5000", f"endpoint: http://127.0.0.1:{free_port()}", 1)
    env = load_project(write_config(text)).environment("local")
    with pytest.raises(AwsError) as caught:
        bootstrap(env)
    assert "bootstrapping the state backend of 'local'" in caught.value.message
    assert caught.value.hint


# ---------------------------------------------------------------- the guard in tests/conftest.py


def test_guard_refuses_remote_connections() -> None:
    import socket

    with pytest.raises(AssertionError, match="network connection"):
        socket.create_connection(("198.51.100.7", 443), timeout=1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(AssertionError):
        sock.connect(("198.51.100.7", 443))
    with pytest.raises(AssertionError, match="resolve the remote host name"):
        socket.getaddrinfo("s3.amazonaws.com", 443)


def test_guard_stops_boto3_reaching_real_aws() -> None:
    from botocore.exceptions import HTTPClientError

    s3 = boto3.client("s3", region_name="us-east-1")  # no endpoint: would be the real AWS
    with pytest.raises(HTTPClientError, match=r"remote host name 's3\.amazonaws\.com'"):
        s3.list_buckets()


def test_guard_allows_loopback(moto: Emulator) -> None:
    assert "Buckets" in client(moto, "s3").list_buckets()


def test_fake_credentials_are_in_place() -> None:
    import os

    from cargohold_core.aws import FAKE_ACCESS_KEY

    assert os.environ["AWS_ACCESS_KEY_ID"] == FAKE_ACCESS_KEY
    assert "AWS_PROFILE" not in os.environ
    assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"


def test_existing_bucket_with_acls_enabled_gets_bucket_owner_enforced(
    moto: Emulator, local_env: Callable[..., Environment]
) -> None:
    env = local_env()
    s3 = client(moto, "s3")
    s3.create_bucket(Bucket=env.state.bucket, ObjectOwnership="ObjectWriter")
    bootstrap(env)
    [ownership] = s3.get_bucket_ownership_controls(Bucket=env.state.bucket)["OwnershipControls"]["Rules"]
    assert ownership["ObjectOwnership"] == "BucketOwnerEnforced"

"""The workflow against a moto server: aws provider 3.39 resources, S3 backend with DynamoDB locking."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from toolkit import provision
from toolkit.bootstrap import bootstrap
from toolkit.config import Environment, load_project
from toolkit.emulator import Emulator, moto_server
from toolkit.errors import PlanRefused, TerraformError
from toolkit.terraform import workflow
from toolkit.terraform.locate import TerraformBinary
from toolkit.terraform.runner import StateLocked
from toolkit.terraform.workflow import StackRun

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REGION = "us-east-1"
STATE_BUCKET = "cargohold-tfstate"
LOCK_TABLE = "cargohold-tflock"
STATE_KEY = "stacks/cargohold.tfstate"


@dataclass
class AwsStack:
    emulator: Emulator
    run: StackRun
    s3: Any
    dynamodb: Any
    iam: Any

    def with_vars(self, **changes: object) -> StackRun:
        return dataclasses.replace(self.run, variables={**self.run.variables, **changes})


def _client(service: str, emulator: Emulator) -> Any:
    env = emulator.client_env(REGION)
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=emulator.endpoint,
        region_name=REGION,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def toolkit_environment(endpoint: str, tmp_path: Path) -> Environment:
    """A config environment whose state backend cargohold bootstraps and configures itself."""
    config = tmp_path / "config.yaml"
    config.write_text(
        "project: drivertest\n"
        "environments:\n"
        f"  dev: {{region: {REGION}, account: '123456789012', endpoint: '{endpoint}',\n"
        f"        state: {{bucket: {STATE_BUCKET}, lock_table: {LOCK_TABLE}, key: {STATE_KEY}}}}}\n"
    )
    return load_project(config).environment("dev")


def backend_settings(endpoint: str, tmp_path: Path) -> dict[str, object]:
    """The toolkit's own S3 backend settings (Terraform 1.15 names: endpoints map, use_path_style)."""
    return dict(provision.backend_settings(toolkit_environment(endpoint, tmp_path)))


@pytest.fixture
def aws(tmp_path: Path, tf_env: dict[str, str], tf_binary: TerraformBinary) -> Iterator[AwsStack]:
    with moto_server() as emulator:
        s3, dynamodb, iam = (_client(name, emulator) for name in ("s3", "dynamodb", "iam"))
        # The state bucket and lock table come from `cargohold bootstrap`, as for users.
        bootstrap(toolkit_environment(emulator.endpoint, tmp_path))
        run = StackRun(
            workspace="dev",
            source_root=FIXTURES / "tf-aws3",
            work_dir=tmp_path / "work",
            variables={
                "endpoint": emulator.endpoint,
                "bucket_name": "photos",
                "table_name": "items",
                "user_name": "app",
                "bucket_tags": {"team": "data"},
            },
            backend=backend_settings(emulator.endpoint, tmp_path),
            env={**emulator.client_env(REGION), **tf_env},
            terraform=tf_binary,
        )
        yield AwsStack(emulator=emulator, run=run, s3=s3, dynamodb=dynamodb, iam=iam)


def _apply_initial(aws: AwsStack) -> None:
    outcome = workflow.plan(aws.run)
    assert outcome.exit_code == 2
    workflow.apply(aws.run)


def test_create_apply_builds_resources_and_keeps_state_in_s3(aws: AwsStack) -> None:
    outcome = workflow.plan(aws.run)
    assert outcome.exit_code == 2
    assert {c.address: c.action for c in outcome.summary.changes} == {
        "aws_s3_bucket.this": "create",
        "aws_dynamodb_table.this": "create",
        'aws_iam_user.this["app"]': "create",
        'aws_iam_policy.this["app"]': "create",
        'aws_iam_user_policy_attachment.this["app"]': "create",
    }
    assert not outcome.summary.destructive()
    workflow.apply(aws.run)

    assert aws.s3.get_bucket_versioning(Bucket="photos")["Status"] == "Enabled"
    rules = aws.s3.get_bucket_encryption(Bucket="photos")["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    table = aws.dynamodb.describe_table(TableName="items")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    attached = aws.iam.list_attached_user_policies(UserName="app")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["app-read"]

    # Remote state under the workspace key, and the lock table holds only the digest afterwards.
    state_key = f"env:/dev/{STATE_KEY}"
    keys = [o["Key"] for o in aws.s3.list_objects_v2(Bucket=STATE_BUCKET)["Contents"]]
    assert state_key in keys
    state = json.loads(aws.s3.get_object(Bucket=STATE_BUCKET, Key=state_key)["Body"].read())
    assert {r["type"] for r in state["resources"]} >= {"aws_s3_bucket", "aws_dynamodb_table", "aws_iam_user"}
    lock_ids = {i["LockID"]["S"] for i in aws.dynamodb.scan(TableName=LOCK_TABLE)["Items"]}
    assert lock_ids == {f"{STATE_BUCKET}/{state_key}-md5"}

    outputs = workflow.output(aws.run)
    assert outputs["bucket_name"] == "photos"
    assert outputs["user_arns"] == {"app": aws.iam.get_user(UserName="app")["User"]["Arn"]}
    assert workflow.plan(aws.run).exit_code == 0


def test_replacement_is_refused_without_allow_destroy(aws: AwsStack) -> None:
    _apply_initial(aws)
    changed = aws.with_vars(table_hash_key="id")
    outcome = workflow.plan(changed)
    table_change = next(c for c in outcome.summary.changes if c.address == "aws_dynamodb_table.this")
    assert table_change.action == "replace"
    assert "hash_key" in table_change.replace_paths
    assert "-/+ replace  aws_dynamodb_table.this (forced by: " in "\n".join(outcome.lines())

    with pytest.raises(PlanRefused) as refused:
        workflow.apply(changed)
    assert "replace aws_dynamodb_table.this (forced by: " in str(refused.value)
    assert "hash_key" in str(refused.value)
    table = aws.dynamodb.describe_table(TableName="items")["Table"]
    assert table["KeySchema"][0]["AttributeName"] == "pk", "refused: the table is untouched"

    workflow.apply(changed, allow_destroy=True)
    table = aws.dynamodb.describe_table(TableName="items")["Table"]
    assert table["KeySchema"][0]["AttributeName"] == "id"


def test_delete_is_refused_without_allow_destroy(aws: AwsStack) -> None:
    _apply_initial(aws)
    without_user = aws.with_vars(create_user=False)
    outcome = workflow.plan(without_user)
    assert {c.address for c in outcome.summary.of("delete")} == {
        'aws_iam_user.this["app"]',
        'aws_iam_policy.this["app"]',
        'aws_iam_user_policy_attachment.this["app"]',
    }
    guarded = {c.address for c in outcome.summary.destructive()}
    assert guarded == {'aws_iam_user.this["app"]', 'aws_iam_policy.this["app"]'}  # attachment not protected
    with pytest.raises(PlanRefused, match=r"delete aws_iam_user\.this"):
        workflow.apply(without_user)
    assert aws.iam.get_user(UserName="app")["User"]["UserName"] == "app"

    workflow.apply(without_user, allow_destroy=True)
    users = [u["UserName"] for u in aws.iam.list_users()["Users"]]
    assert "app" not in users


@pytest.mark.parametrize("lock", ["dynamodb_table", "use_lockfile"])
def test_held_lock_fails_plan_with_a_force_unlock_hint(aws: AwsStack, lock: str) -> None:
    _apply_initial(aws)  # state exists, lock released (DynamoDB locking)
    run = aws.run
    if lock == "use_lockfile":  # Terraform 1.15's preferred S3-native lock (dynamodb_table is deprecated)
        backend = {k: v for k, v in (run.backend or {}).items() if k != "dynamodb_table"}
        run = dataclasses.replace(run, backend={**backend, "use_lockfile": True})
    lock_path = f"{STATE_BUCKET}/env:/dev/{STATE_KEY}"
    lock_id = str(uuid.uuid4())
    # What Terraform's S3 backend writes while it holds the lock: a LockInfo JSON, either in the
    # DynamoDB item whose LockID is "<bucket>/<key>", or in the object "<key>.tflock".
    info = json.dumps(
        {
            "ID": lock_id,
            "Operation": "OperationTypeApply",
            "Info": "",
            "Who": "someone@elsewhere",
            "Version": "1.15.5",
            "Created": "2026-01-01T00:00:00Z",
            "Path": lock_path,
        }
    )
    if lock == "dynamodb_table":
        aws.dynamodb.put_item(TableName=LOCK_TABLE, Item={"LockID": {"S": lock_path}, "Info": {"S": info}})
    else:
        aws.s3.put_object(Bucket=STATE_BUCKET, Key=f"env:/dev/{STATE_KEY}.tflock", Body=info.encode())
    changed = dataclasses.replace(run, variables={**run.variables, "bucket_tags": {"team": "ops"}})
    with pytest.raises(StateLocked) as locked:
        workflow.plan(changed)
    assert isinstance(locked.value, TerraformError)
    assert lock_id in str(locked.value)
    assert f"terraform force-unlock {lock_id}" in (locked.value.hint or "")
    assert locked.value.returncode == 1

    if lock == "dynamodb_table":
        aws.dynamodb.delete_item(TableName=LOCK_TABLE, Key={"LockID": {"S": lock_path}})
    else:
        aws.s3.delete_object(Bucket=STATE_BUCKET, Key=f"env:/dev/{STATE_KEY}.tflock")
    assert workflow.plan(changed).exit_code == 2


def test_drift_reports_attributes_changed_out_of_band(aws: AwsStack) -> None:
    _apply_initial(aws)
    assert workflow.drift(aws.run) == ()
    aws.s3.put_bucket_tagging(
        Bucket="photos",
        Tagging={"TagSet": [{"Key": "team", "Value": "ops"}, {"Key": "owner", "Value": "mallory"}]},
    )
    drifted = {(d.address, d.attribute): (d.before, d.after) for d in workflow.drift(aws.run)}
    assert drifted[("aws_s3_bucket.this", "tags.team")] == ("data", "ops")
    assert drifted[("aws_s3_bucket.this", "tags.owner")] == (None, "mallory")
    assert {address for address, _ in drifted} == {"aws_s3_bucket.this"}


def test_failed_apply_reports_the_provider_error_and_spends_the_plan(aws: AwsStack) -> None:
    assert workflow.plan(aws.run).exit_code == 2
    aws.iam.create_user(UserName="app")  # out of band, between plan and apply
    events: list[workflow.ApplyEvent] = []
    with pytest.raises(TerraformError) as failed:
        workflow.apply(aws.run, on_event=events.append)
    message = str(failed.value)
    assert "EntityAlreadyExists" in message
    assert 'aws_iam_user.this["app"]' in message
    assert any(e.kind == "apply_errored" for e in events)
    with pytest.raises(PlanRefused, match="no saved plan"):
        workflow.apply(aws.run)

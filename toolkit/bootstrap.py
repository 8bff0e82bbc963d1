"""Create an environment's Terraform state backend: a private, versioned, encrypted S3 bucket and a
DynamoDB lock table. Idempotent: existing resources are checked and brought to the same settings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cargohold_core import aws
from cargohold_core.config.model import Environment
from cargohold_core.errors import AwsError


@dataclass(frozen=True)
class Step:
    resource: str
    action: str  # created | updated | unchanged

    def to_json(self) -> dict[str, str]:
        return {"resource": self.resource, "action": self.action}


def bootstrap(env: Environment) -> list[Step]:
    try:
        return [*_state_bucket(env), _lock_table(env)]
    except (ClientError, BotoCoreError) as exc:
        raise aws.explain(exc, action=f"bootstrapping the state backend of '{env.name}'") from exc


def _state_bucket(env: Environment) -> list[Step]:
    state = env.state
    s3 = aws.client(env, "s3", region=state.region)
    name = state.bucket
    steps = []
    try:
        s3.head_bucket(Bucket=name)
        created = False
    except ClientError as exc:
        code = aws.error_code(exc)
        if code in ("403", "AccessDenied"):
            raise AwsError(
                f"state bucket '{name}' exists but belongs to someone else or is not readable",
                hint="set environments.<env>.state.bucket to a name of your own",
            ) from exc
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise
        args: dict[str, Any] = {"Bucket": name, "ObjectOwnership": "BucketOwnerEnforced"}
        if state.region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": state.region}
        s3.create_bucket(**args)
        created = True
    changed = _ensure_bucket_settings(s3, name, emulator=aws.is_emulator(env.endpoint))
    steps.append(Step(f"s3://{name}", "created" if created else ("updated" if changed else "unchanged")))
    return steps


def _ensure_bucket_settings(s3: Any, name: str, *, emulator: bool) -> bool:
    """Bring the state bucket to: versioned, SSE-S3, ACLs disabled, public access blocked, TLS only,
    old versions expiring."""
    changed = False
    try:
        rules = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    except ClientError:
        rules = []
    if [r.get("ObjectOwnership") for r in rules] != ["BucketOwnerEnforced"]:
        s3.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        )
        changed = True
    if s3.get_bucket_versioning(Bucket=name).get("Status") != "Enabled":
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        changed = True
    try:
        encryption = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    except ClientError:
        encryption = []
    if not encryption:
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        changed = True
    block = dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True)
    try:
        current = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    except ClientError:
        current = {}
    if current != block:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
        changed = True
    changed = _ensure_state_lifecycle(s3, name) or changed
    if not emulator:
        # moto does not evaluate Conditions in Deny statements: this policy would block every call
        # there, so it is applied on real AWS only.
        policy = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        )
        try:
            current_policy = s3.get_bucket_policy(Bucket=name)["Policy"]
        except ClientError:
            current_policy = None
        if current_policy is None or json.loads(current_policy) != json.loads(policy):
            s3.put_bucket_policy(Bucket=name, Policy=policy)
            changed = True
    return changed


def _ensure_state_lifecycle(s3: Any, name: str) -> bool:
    """Old state versions and abandoned uploads must not pile up (the audit checks both). A bucket
    that already has lifecycle rules is left alone: they are someone's decision."""
    try:
        s3.get_bucket_lifecycle_configuration(Bucket=name)
        return False
    except ClientError as exc:
        if aws.error_code(exc) != "NoSuchLifecycleConfiguration":
            raise
    s3.put_bucket_lifecycle_configuration(
        Bucket=name,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "cargohold-state-history",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    # Keep the 10 newest old versions of each state file, and any younger than 90 days.
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 90, "NewerNoncurrentVersions": 10},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                }
            ]
        },
    )
    return True


def _ensure_lock_table_recovery(ddb: Any, name: str) -> bool:
    backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    if backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") == "ENABLED":
        return False
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    return True


def _lock_table(env: Environment) -> Step:
    ddb = aws.client(env, "dynamodb", region=env.state.region)
    name = env.state.lock_table
    try:
        table = ddb.describe_table(TableName=name)["Table"]
    except ClientError as exc:
        if aws.error_code(exc) != "ResourceNotFoundException":
            raise
        ddb.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True},
            DeletionProtectionEnabled=True,
        )
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        _ensure_lock_table_recovery(ddb, name)
        return Step(f"dynamodb:{name}", "created")
    key = table.get("KeySchema", [])
    if key != [{"AttributeName": "LockID", "KeyType": "HASH"}]:
        raise AwsError(
            f"table '{name}' exists but is not a Terraform lock table (its key is not LockID)",
            hint="set environments.<env>.state.lock_table to another name",
        )
    return Step(f"dynamodb:{name}", "updated" if _ensure_lock_table_recovery(ddb, name) else "unchanged")

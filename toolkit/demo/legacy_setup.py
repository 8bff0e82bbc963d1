"""A setup made the way the console guides make it, in an emulator: what `discover` adopts and the
audit takes apart. Used by the demo and by the five example scenarios.

The guides' steps, for each bucket: create it, untick "Block all public access", add a bucket policy
that lets everyone read, enable ACLs, allow CORS from any origin; for each application user: attach
AmazonS3FullAccess (and AmazonDynamoDBFullAccess when there are tables) to the user, create an access
key and paste it into a .env; tables keep the console's defaults (no point-in-time recovery, no
deletion protection). Needs an emulator started with MOTO_IAM_LOAD_MANAGED_POLICIES=true.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from cargohold_core import aws
from cargohold_core.aws import error_code
from cargohold_core.config.model import Environment, Table
from cargohold_core.errors import CargoholdError

S3_FULL_ACCESS = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
DYNAMODB_FULL_ACCESS = "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"


@dataclass
class LegacySetup:
    buckets: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    dotenv: dict[str, Path] = field(default_factory=dict)  # user -> the .env the guide had you write


def make_by_hand(env: Environment, workdir: Path) -> LegacySetup:
    """Create `env`'s buckets, tables and users the way the console guides do (too open)."""
    if not aws.is_emulator(env.endpoint):
        raise CargoholdError(
            f"environment '{env.name}' is not an emulator on loopback", hint="this builds a deliberately unsafe setup"
        )
    made = LegacySetup()
    s3, ddb, iam = aws.client(env, "s3"), aws.client(env, "dynamodb"), aws.client(env, "iam")
    for bucket in env.buckets.values():
        _bucket(s3, bucket.name, env.region)
        made.buckets.append(bucket.name)
    for table in env.tables.values():
        # The guide's table (keys and indexes as the app needs them), with the console's defaults: no
        # point-in-time recovery, no deletion protection, no TTL.
        make_table(ddb, table)
        ddb.update_table(TableName=table.name, DeletionProtectionEnabled=False)
        ddb.update_continuous_backups(
            TableName=table.name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
        )
        if table.spec.ttl_attribute:
            ddb.update_time_to_live(
                TableName=table.name,
                TimeToLiveSpecification={"Enabled": False, "AttributeName": table.spec.ttl_attribute},
            )
        made.tables.append(table.name)
    for principal in env.principals.values():
        if principal.spec.kind != "user":
            continue  # the guides make IAM users with keys; roles come with cargohold
        iam.create_user(UserName=principal.name)
        iam.attach_user_policy(UserName=principal.name, PolicyArn=S3_FULL_ACCESS)
        if env.tables:
            iam.attach_user_policy(UserName=principal.name, PolicyArn=DYNAMODB_FULL_ACCESS)
        key = iam.create_access_key(UserName=principal.name)["AccessKey"]
        path = workdir / f"{principal.key}.env"
        # As the guides do it: pasted into a plain file, readable by anyone on the machine.
        path.write_text(
            f"AWS_ACCESS_KEY_ID={key['AccessKeyId']}\nAWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}\n"
            f"AWS_REGION={env.region}\n",
            encoding="utf-8",
        )
        path.chmod(0o644)
        made.users.append(principal.name)
        made.dotenv[principal.name] = path
    return made


def _bucket(s3: Any, name: str, region: str) -> None:
    create: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**create)
    # AWS encrypts every new bucket with SSE-S3 (since January 2023); moto does not.
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.delete_public_access_block(Bucket=name)  # "untick Block all public access"
    s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    public_read = {
        "Sid": "PublicReadGetObject",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{name}/*",
    }
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [public_read]}))
    s3.put_bucket_cors(
        Bucket=name,
        CORSConfiguration={
            "CORSRules": [
                {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PUT", "POST", "DELETE"], "AllowedHeaders": ["*"]}
            ]
        },
    )


# --- a table made with boto3, as the console makes it from a spec


def make_table(ddb: Any, table: Table) -> None:
    s = table.spec
    attributes = {s.hash_key.name: s.hash_key.type}
    keys = [{"AttributeName": s.hash_key.name, "KeyType": "HASH"}]
    if s.range_key:
        attributes[s.range_key.name] = s.range_key.type
        keys.append({"AttributeName": s.range_key.name, "KeyType": "RANGE"})
    gsis = []
    for g in s.global_indexes:
        attributes[g.hash_key.name] = g.hash_key.type
        schema = [{"AttributeName": g.hash_key.name, "KeyType": "HASH"}]
        if g.range_key:
            attributes[g.range_key.name] = g.range_key.type
            schema.append({"AttributeName": g.range_key.name, "KeyType": "RANGE"})
        gsi: dict[str, Any] = {"IndexName": g.name, "KeySchema": schema, "Projection": _projection(g)}
        if s.billing == "provisioned":
            cap = g.capacity or s.capacity
            gsi["ProvisionedThroughput"] = {"ReadCapacityUnits": cap.read, "WriteCapacityUnits": cap.write}  # type: ignore[union-attr]
        gsis.append(gsi)
    lsis = []
    for ix in s.local_indexes:
        attributes[ix.range_key.name] = ix.range_key.type
        schema = [
            {"AttributeName": s.hash_key.name, "KeyType": "HASH"},
            {"AttributeName": ix.range_key.name, "KeyType": "RANGE"},
        ]
        lsis.append({"IndexName": ix.name, "KeySchema": schema, "Projection": _projection(ix)})
    create: dict[str, Any] = {
        "TableName": table.name,
        "KeySchema": keys,
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in attributes.items()],
        "BillingMode": "PAY_PER_REQUEST" if s.billing == "on-demand" else "PROVISIONED",
        "DeletionProtectionEnabled": s.deletion_protection,
        "TableClass": s.table_class,
    }
    if s.billing == "provisioned" and s.capacity:
        create["ProvisionedThroughput"] = {"ReadCapacityUnits": s.capacity.read, "WriteCapacityUnits": s.capacity.write}
    if gsis:
        create["GlobalSecondaryIndexes"] = gsis
    if lsis:
        create["LocalSecondaryIndexes"] = lsis
    if s.stream:
        create["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": s.stream}
    if s.encryption.type != "aws-owned":
        sse: dict[str, Any] = {"Enabled": True, "SSEType": "KMS"}
        if s.encryption.kms_key_arn:
            sse["KMSMasterKeyId"] = s.encryption.kms_key_arn
        create["SSESpecification"] = sse
    try:
        ddb.create_table(**create)
    except ClientError as exc:
        if error_code(exc) != "ResourceInUseException":
            raise
        _update_table(ddb, create)  # keys and indexes cannot change in place; the settings can
    ddb.update_continuous_backups(
        TableName=table.name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": s.point_in_time_recovery}
    )
    ttl = ddb.describe_time_to_live(TableName=table.name)["TimeToLiveDescription"]
    live_ttl = ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") else None
    if s.ttl_attribute and live_ttl != s.ttl_attribute:
        ddb.update_time_to_live(
            TableName=table.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": s.ttl_attribute}
        )
    elif not s.ttl_attribute and live_ttl:
        ddb.update_time_to_live(
            TableName=table.name, TimeToLiveSpecification={"Enabled": False, "AttributeName": live_ttl}
        )


def _update_table(ddb: Any, create: dict[str, Any]) -> None:
    update: dict[str, Any] = {
        "TableName": create["TableName"],
        "BillingMode": create["BillingMode"],
        "DeletionProtectionEnabled": create["DeletionProtectionEnabled"],
    }
    if "ProvisionedThroughput" in create:
        update["ProvisionedThroughput"] = create["ProvisionedThroughput"]
    ddb.update_table(**update)


def _projection(index: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"ProjectionType": index.projection}
    if index.non_key_attributes:
        out["NonKeyAttributes"] = index.non_key_attributes
    return out

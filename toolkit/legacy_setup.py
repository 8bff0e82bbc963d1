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

from toolkit import aws
from toolkit.config.model import Environment
from toolkit.errors import CargoholdError
from toolkit.standin import make_table

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

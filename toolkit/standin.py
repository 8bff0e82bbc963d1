"""Create an environment's desired state in an AWS emulator with boto3: a stand-in for `cargohold apply`.

The modern AWS provider cannot be installed here, so the demo and the tests make what the Terraform
modules would make, setting for setting, from the same model (`toolkit.config.desired`). The audit's
"hardened environment" test depends on that agreement; the offline stack evaluation checks the
modules against the same model. Refuses any endpoint that is not an emulator on loopback.

Resources that already exist are brought to the config's settings, as `apply` does after `terraform
import` (discover's import blocks): what the stack manages is rewritten; what it does not manage
(a policy attached by hand, an ACL grant) is left alone, as Terraform would leave it.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from toolkit import aws
from toolkit.aws import error_code
from toolkit.config.model import Bucket, Environment, Principal, Table
from toolkit.errors import CargoholdError


def materialize(env: Environment, *, tls_policy: bool = True) -> None:
    """Create every bucket, table and principal of `env`. `tls_policy=False` leaves the TLS-only
    bucket policy out: moto does not evaluate its condition and would refuse every object call."""
    if not aws.is_emulator(env.endpoint):
        raise CargoholdError(
            f"environment '{env.name}' is not an emulator on loopback (endpoint {env.endpoint})",
            hint="use `cargohold plan` and `cargohold apply` for a real account",
        )
    s3, ddb, iam = aws.client(env, "s3"), aws.client(env, "dynamodb"), aws.client(env, "iam")
    for bucket in env.buckets.values():
        make_bucket(s3, bucket, env)
    # Logging after every bucket exists (a log target must exist), with only the log-delivery grant
    # in the target's policy: moto's logging check fails on a statement whose Principal is "*".
    for bucket in env.buckets.values():
        grant = [x for x in bucket_policy_statements(bucket, env) if x["Sid"] == "AllowServerAccessLogs"]
        if grant:
            put_policy(s3, bucket.name, grant)
    for bucket in env.buckets.values():
        set_logging(s3, bucket, env)
    for bucket in env.buckets.values():
        statements = bucket_policy_statements(bucket, env)
        if not tls_policy:
            statements = [x for x in statements if x["Sid"] not in ("DenyInsecureTransport", "DenyOutdatedTls")]
        put_policy(s3, bucket.name, statements)
        if not statements:
            s3.delete_bucket_policy(Bucket=bucket.name)
    for table in env.tables.values():
        make_table(ddb, table)
    for principal in env.principals.values():
        make_principal(iam, principal)


def put_policy(s3: Any, name: str, statements: list[dict[str, Any]]) -> None:
    if statements:
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))


def make_bucket(s3: Any, bucket: Bucket, env: Environment) -> None:
    """The bucket and its settings, except logging and the policy (see `materialize`)."""
    s, name = bucket.spec, bucket.name
    create: dict[str, Any] = {"Bucket": name, "ObjectLockEnabledForBucket": s.object_lock is not None}
    if env.region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": env.region}
    try:
        s3.create_bucket(**create)
    except ClientError as exc:
        if error_code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    s3.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    public = s.public_read_prefix is not None
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": not public,
            "RestrictPublicBuckets": not public,
        },
    )
    if s.versioning or s.object_lock:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    elif s3.get_bucket_versioning(Bucket=name).get("Status") == "Enabled":
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    default: dict[str, Any] = {"SSEAlgorithm": "aws:kms" if s.encryption.type == "sse-kms" else "AES256"}
    if s.encryption.kms_key_arn:
        default["KMSMasterKeyID"] = s.encryption.kms_key_arn
    rule: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": default}
    if s.encryption.type == "sse-kms":
        rule["BucketKeyEnabled"] = s.encryption.bucket_key
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [rule]})
    if s.lifecycle:
        s3.put_bucket_lifecycle_configuration(
            Bucket=name, LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in s.lifecycle]}
        )
    else:
        s3.delete_bucket_lifecycle(Bucket=name)
    if s.cors:
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [_cors_rule(c) for c in s.cors]})
    else:
        s3.delete_bucket_cors(Bucket=name)


def set_logging(s3: Any, bucket: Bucket, env: Environment) -> None:
    s, name = bucket.spec, bucket.name
    if s.access_logging:
        target = s.access_logging.target_bucket
        s3.put_bucket_logging(
            Bucket=name,
            BucketLoggingStatus={
                "LoggingEnabled": {
                    "TargetBucket": env.buckets[target].name if target in env.buckets else target,
                    "TargetPrefix": s.access_logging.target_prefix,
                }
            },
        )
    elif s3.get_bucket_logging(Bucket=name).get("LoggingEnabled"):
        s3.put_bucket_logging(Bucket=name, BucketLoggingStatus={})


def bucket_policy_statements(bucket: Bucket, env: Environment) -> list[dict[str, Any]]:
    """The s3-bucket module's policy statements (terraform/modules/s3-bucket/main.tf), in its order."""
    s, arn = bucket.spec, bucket.arn
    both = [arn, f"{arn}/*"]
    out: list[dict[str, Any]] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": both,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOutdatedTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": both,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": float(s.min_tls_version)}},
        },
    ]
    if s.deny_unencrypted_uploads:
        algorithm = "aws:kms" if s.encryption.type == "sse-kms" else "AES256"
        out.append(
            {
                "Sid": "DenyUnencryptedUploads",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": [f"{arn}/*"],
                "Condition": {
                    "StringNotEquals": {"s3:x-amz-server-side-encryption": algorithm},
                    "Null": {"s3:x-amz-server-side-encryption": "false"},
                },
            }
        )
    if s.public_read_prefix is not None:
        out.append(
            {
                "Sid": "PublicReadPrefix",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": [f"{arn}/{s.public_read_prefix}*"],
            }
        )
    sources = log_sources(bucket, env)
    resources = sorted({f"{arn}/{prefix}*" for _, prefix in sources})
    if sources:
        # ACLs are disabled, so S3's log delivery needs this grant (the log-delivery group cannot write).
        out.append(
            {
                "Sid": "AllowServerAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                # A string for one source: moto only recognises the grant in that form.
                "Resource": resources[0] if len(resources) == 1 else resources,
                "Condition": {
                    "ArnLike": {"aws:SourceArn": sorted(source for source, _ in sources)},
                    "StringEquals": {"aws:SourceAccount": env.account},
                },
            }
        )
    return out


def log_sources(target: Bucket, env: Environment) -> list[tuple[str, str]]:
    """(source bucket ARN, prefix) of every bucket in `env` that logs into `target`."""
    return [
        (b.arn, b.spec.access_logging.target_prefix)
        for b in env.buckets.values()
        if b.spec.access_logging and b.spec.access_logging.target_bucket in (target.key, target.name)
    ]


def _lifecycle_rule(r: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ID": r.id,
        "Status": "Enabled" if r.enabled else "Disabled",
        "Filter": {"Prefix": r.prefix or ""},
    }
    if r.transitions:
        out["Transitions"] = [{"Days": t.days, "StorageClass": t.storage_class} for t in r.transitions]
    if r.expiration_days:
        out["Expiration"] = {"Days": r.expiration_days}
    if r.noncurrent_transitions:
        out["NoncurrentVersionTransitions"] = [
            {"NoncurrentDays": t.days, "StorageClass": t.storage_class} for t in r.noncurrent_transitions
        ]
    if r.noncurrent_expiration_days:
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": r.noncurrent_expiration_days}
    if r.abort_incomplete_multipart_days:
        out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": r.abort_incomplete_multipart_days}
    return out


def _cors_rule(c: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"AllowedOrigins": c.allowed_origins, "AllowedMethods": c.allowed_methods}
    if c.allowed_headers:
        out["AllowedHeaders"] = c.allowed_headers
    if c.expose_headers:
        out["ExposeHeaders"] = c.expose_headers
    out["MaxAgeSeconds"] = c.max_age_seconds
    return out


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


def _exists_ok(call: Any, **kwargs: Any) -> None:
    try:
        call(**kwargs)
    except ClientError as exc:
        if error_code(exc) != "EntityAlreadyExists":
            raise


def _policy(iam: Any, principal: Principal, account: str) -> str:
    """The principal's customer managed policy, created or given a new default version."""
    s, name = principal.spec, principal.name
    document = json.dumps(principal.policy)
    try:
        return str(iam.create_policy(PolicyName=name, Path=s.path, PolicyDocument=document)["Policy"]["Arn"])
    except ClientError as exc:
        if error_code(exc) != "EntityAlreadyExists":
            raise
    arn = f"arn:aws:iam::{account}:policy{s.path}{name}"
    for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
        if not version["IsDefaultVersion"]:  # at most 5 versions: drop the old ones first
            iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)
    return arn


def make_principal(iam: Any, principal: Principal) -> None:
    s, name = principal.spec, principal.name
    arn = _policy(iam, principal, principal.arn.split(":")[4])
    if s.kind == "user":
        # As the iam-principal module does: the policy goes to a group of one, never to the user.
        _exists_ok(iam.create_user, UserName=name, Path=s.path)
        _exists_ok(iam.create_group, GroupName=name, Path=s.path)
        iam.attach_group_policy(GroupName=name, PolicyArn=arn)
        iam.add_user_to_group(GroupName=name, UserName=name)
        return
    trust = [
        {"Effect": "Allow", "Principal": {"Service": svc}, "Action": "sts:AssumeRole"} for svc in s.assume_role_services
    ]
    trust += [{"Effect": "Allow", "Principal": {"AWS": a}, "Action": "sts:AssumeRole"} for a in s.assume_role_arns]
    trust_document = json.dumps({"Version": "2012-10-17", "Statement": trust})
    try:
        iam.create_role(RoleName=name, Path=s.path, AssumeRolePolicyDocument=trust_document)
    except ClientError as exc:
        if error_code(exc) != "EntityAlreadyExists":
            raise
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust_document)
    iam.attach_role_policy(RoleName=name, PolicyArn=arn)


def block_public_access_for_account(env: Environment) -> None:
    """Turn on the account-wide S3 Block Public Access (an account setting, outside config.yaml)."""
    account = aws.client(env, "sts").get_caller_identity()["Account"]
    aws.client(env, "s3control").put_public_access_block(
        AccountId=account,
        PublicAccessBlockConfiguration=dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
        ),
    )

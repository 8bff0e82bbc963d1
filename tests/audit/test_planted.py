"""Planted problems against a moto server: a hardened environment raises nothing; each planted problem
raises exactly its checks (and the drift it causes), nothing else.

The hardened environment is made by real Terraform with the production modules and the emulator
provider (tests/support/terraform_apply.py), as `cargohold apply` makes it. Every security check in the
catalogue has a failing case here and passes on the hardened environment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from cargohold_core import aws
from cargohold_core.config.model import Environment
from tests.audit.conftest import load
from tests.support.moto_api import set_auth
from tests.support.moto_gaps import only_the_replication_gap
from tests.support.terraform_apply import provision
from toolkit.audit.run import all_checks, audit
from toolkit.bootstrap import bootstrap
from toolkit.demo.emulator import Emulator
from toolkit.findings import Report, Status


def _client(service: str, endpoint: str) -> Any:
    made = boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")
    if service == "s3control":  # the account id would go into the host name, which loopback cannot serve
        made.meta.events.register("before-sign.s3-control", aws.unprefix_account_host)
    return made


def _failing(report: Report) -> set[str]:
    return {f.check.id for f in report.findings if f.status is not Status.PASS}


def _hardened(tmp_path: Path, account: Emulator, text: str | None = None) -> tuple[Any, Environment]:
    project, env = load(tmp_path / "config.yaml", account.endpoint, *([text] if text else []))
    provision(env, tmp_path / "terraform")
    aws.block_public_access_for_account(env)
    return project, env


def test_hardened_environment_raises_nothing(tmp_path: Path, account: Emulator) -> None:
    project, env = _hardened(tmp_path, account)
    report = audit(project, env)
    problems = [(f.check.id, f.resource, f.message) for f in report.findings if f.status is not Status.PASS]
    assert problems == []
    passed = {f.check.id for f in report.findings}
    # Everything that applies here ran and passed (replication and KMS are not asked for).
    assert passed >= {c.id for c in all_checks()} - {
        "s3.replication",
        "dynamodb.kms-encryption",
        "drift.unmanaged",
        "iam.access-key-age",
        "iam.access-key-unused",
        "iam.two-active-keys",
    }
    assert report.stats["buckets"] == 2 and report.stats["tables"] == 1 and report.stats["principals"] == 2
    assert report.stats["api_calls"] > 0


B = "arn:aws:s3:::hard-test-docs"


def _s3(a: Emulator) -> Any:
    return _client("s3", a.endpoint)


def _iam(a: Emulator) -> Any:
    return _client("iam", a.endpoint)


def _ddb(a: Emulator) -> Any:
    return _client("dynamodb", a.endpoint)


def _open_bucket(a: Emulator) -> None:
    _s3(a).delete_public_access_block(Bucket="hard-test-docs")


def _open_account(a: Emulator) -> None:
    _client("s3control", a.endpoint).delete_public_access_block(AccountId="123456789012")


def _public_policy(a: Emulator) -> None:
    _open_bucket(a)
    doc = json.loads(_s3(a).get_bucket_policy(Bucket="hard-test-docs")["Policy"])
    doc["Statement"].append({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{B}/*"})
    _s3(a).put_bucket_policy(Bucket="hard-test-docs", Policy=json.dumps(doc))


def _drop_tls(a: Emulator) -> None:
    _s3(a).delete_bucket_policy(Bucket="hard-test-docs")


def _lifecycle(a: Emulator, rule: dict[str, Any]) -> None:
    rule = {"ID": "tidy", "Status": "Enabled", "Filter": {"Prefix": ""}, **rule}
    _s3(a).put_bucket_lifecycle_configuration(Bucket="hard-test-docs", LifecycleConfiguration={"Rules": [rule]})


def _user_policy(a: Emulator, document: dict[str, Any]) -> None:
    _iam(a).put_user_policy(UserName="hard-test-app", PolicyName="extra", PolicyDocument=json.dumps(document))


def _trust(a: Emulator, statement: dict[str, Any]) -> None:
    """One more statement in the worker role's trust policy (its service trust stays)."""
    document = _iam(a).get_role(RoleName="hard-test-worker")["Role"]["AssumeRolePolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    document["Statement"].append(statement)
    _iam(a).update_assume_role_policy(RoleName="hard-test-worker", PolicyDocument=json.dumps(document))


def _retag_bucket(a: Emulator, key: str, value: str) -> None:
    tags = _s3(a).get_bucket_tagging(Bucket="hard-test-docs")["TagSet"]
    tags = [t for t in tags if t["Key"] != key] + [{"Key": key, "Value": value}]
    _s3(a).put_bucket_tagging(Bucket="hard-test-docs", Tagging={"TagSet": tags})


def _reproject_index(a: Emulator) -> None:
    """The index dropped and made again with every attribute (DynamoDB cannot change a projection in place)."""
    ddb = _ddb(a)
    ddb.update_table(TableName="hard-test-users", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-email"}}])
    ddb.update_table(
        TableName="hard-test-users",
        # every key attribute: moto replaces the table's definitions with these (AWS would add to them)
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("userId", "email")],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by-email",
                    "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            }
        ],
    )


def _table_arn(a: Emulator) -> str:
    return str(_ddb(a).describe_table(TableName="hard-test-users")["Table"]["TableArn"])


def _allow(action: Any, resource: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}


PLANTED: dict[str, tuple[Callable[[Emulator], None], set[str]]] = {
    "bucket block public access off": (_open_bucket, {"s3.bucket-public-access-block", "drift.changed"}),
    # The account-wide block still stops the policy: no public exposure while it is on.
    "public bucket policy, blocked by the account": (
        _public_policy,
        {"s3.bucket-public-access-block", "drift.changed"},
    ),
    "public bucket policy": (
        lambda a: (_public_policy(a), _open_account(a)),
        {"s3.bucket-public-access-block", "s3.public-exposure", "s3.account-public-access-block", "drift.changed"},
    ),
    "no TLS-only policy": (_drop_tls, {"s3.tls-only", "drift.changed"}),
    "versioning suspended": (
        lambda a: _s3(a).put_bucket_versioning(
            Bucket="hard-test-docs", VersioningConfiguration={"Status": "Suspended"}
        ),
        {"s3.versioning", "drift.changed"},
    ),
    # The same actions, narrowed to one prefix: the rest of the bucket keeps every version and part.
    "lifecycle rule narrowed to a prefix": (
        lambda a: _lifecycle(
            a,
            {
                "Filter": {"Prefix": "tmp/"},
                "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            },
        ),
        {"s3.noncurrent-version-expiration", "s3.abort-incomplete-multipart", "drift.changed"},
    ),
    "CORS lets any https origin write": (
        lambda a: _s3(a).put_bucket_cors(
            Bucket="hard-test-docs",
            CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["https://*"], "AllowedMethods": ["GET", "PUT"]}]},
        ),
        {"s3.cors-wildcard-write", "drift.changed"},
    ),
    "no lifecycle": (
        lambda a: _s3(a).delete_bucket_lifecycle(Bucket="hard-test-docs"),
        {"s3.lifecycle-present", "s3.noncurrent-version-expiration", "s3.abort-incomplete-multipart", "drift.changed"},
    ),
    "versioned without noncurrent expiry": (
        lambda a: _lifecycle(a, {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}),
        {"s3.noncurrent-version-expiration", "drift.changed"},
    ),
    "no abort of incomplete multipart uploads": (
        lambda a: _lifecycle(a, {"NoncurrentVersionExpiration": {"NoncurrentDays": 90}}),
        {"s3.abort-incomplete-multipart", "drift.changed"},
    ),
    "access logging off": (
        lambda a: _s3(a).put_bucket_logging(Bucket="hard-test-docs", BucketLoggingStatus={}),
        {"s3.access-logging", "drift.changed"},
    ),
    "CORS lets any origin write": (
        lambda a: _s3(a).put_bucket_cors(
            Bucket="hard-test-docs",
            CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PUT", "DELETE"]}]},
        ),
        {"s3.cors-wildcard-write", "drift.changed"},
    ),
    "ACLs enabled with a public-read grant": (
        lambda a: (
            _open_bucket(a),
            _s3(a).put_bucket_ownership_controls(
                Bucket="hard-test-docs", OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
            ),
            _s3(a).put_bucket_acl(Bucket="hard-test-docs", ACL="public-read"),
            _open_account(a),
        ),
        {
            "s3.acls-disabled",
            "s3.public-exposure",
            "s3.bucket-public-access-block",
            "s3.account-public-access-block",
            "drift.changed",
        },
    ),
    "PITR off": (
        lambda a: _ddb(a).update_continuous_backups(
            TableName="hard-test-users", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
        ),
        {"dynamodb.pitr", "drift.changed"},
    ),
    "deletion protection off": (
        lambda a: _ddb(a).update_table(TableName="hard-test-users", DeletionProtectionEnabled=False),
        {"dynamodb.deletion-protection", "drift.changed"},
    ),
    "TTL off": (
        lambda a: _ddb(a).update_time_to_live(
            TableName="hard-test-users", TimeToLiveSpecification={"Enabled": False, "AttributeName": "expiresAt"}
        ),
        {"dynamodb.ttl", "drift.changed"},
    ),
    "index projection widened": (_reproject_index, {"drift.changed"}),
    "bucket tag changed": (lambda a: _retag_bucket(a, "cargohold:key", "photos"), {"drift.changed"}),
    "table tag removed": (
        lambda a: _ddb(a).untag_resource(ResourceArn=_table_arn(a), TagKeys=["ManagedBy"]),
        {"drift.changed"},
    ),
    "role tag added": (
        lambda a: _iam(a).tag_role(RoleName="hard-test-worker", Tags=[{"Key": "owner", "Value": "mallory"}]),
        {"drift.changed"},
    ),
    "service-wide wildcard s3:*": (
        lambda a: _user_policy(a, _allow("s3:*", f"{B}/*")),
        {"iam.wildcard-action", "iam.policy-attached-to-user", "drift.changed"},
    ),
    "actions on Resource *": (
        lambda a: _user_policy(a, _allow(["s3:GetObject", "s3:ListAllMyBuckets"], "*")),
        {"iam.wildcard-resource", "iam.policy-attached-to-user", "drift.changed"},
    ),
    "administrator policy": (
        lambda a: _user_policy(a, _allow("*", "*")),
        {
            "iam.admin-policy",
            "iam.wildcard-action",
            "iam.wildcard-resource",
            "iam.policy-attached-to-user",
            "drift.changed",
        },
    ),
    "AmazonS3FullAccess on the user": (
        lambda a: _iam(a).attach_user_policy(
            UserName="hard-test-app", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess"
        ),
        {"iam.full-access-managed-policy", "iam.policy-attached-to-user", "drift.changed"},
    ),
    "AdministratorAccess on the role": (
        lambda a: _iam(a).attach_role_policy(
            RoleName="hard-test-worker", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
        ),
        {"iam.admin-policy", "drift.changed"},
    ),
    # drift does not compare trust policies (yet): only the trust checks see these
    "role trust opened to every AWS account": (
        lambda a: _trust(a, {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}),
        {"iam.role-trust-public"},
    ),
    "role trust given to another account without an external id": (
        lambda a: _trust(
            a, {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": "sts:AssumeRole"}
        ),
        {"iam.role-trust-cross-account"},
    ),
    "two active access keys": (
        lambda a: [_iam(a).create_access_key(UserName="hard-test-app") for _ in range(2)],
        {"iam.two-active-keys"},
    ),
    "console password without MFA": (
        lambda a: _iam(a).create_login_profile(UserName="hard-test-app", Password="Xx-1234567890-long"),
        {"iam.console-without-mfa"},
    ),
    "declared table deleted": (
        lambda a: (
            _ddb(a).update_table(TableName="hard-test-users", DeletionProtectionEnabled=False),
            _ddb(a).delete_table(TableName="hard-test-users"),
        ),
        {"drift.missing"},
    ),
    "undeclared bucket named like the project's": (
        lambda a: _s3(a).create_bucket(Bucket="hard-test-scratch"),
        # judged against the hardened baseline too: a bare new bucket misses most of it
        {
            "drift.unmanaged",
            "s3.bucket-public-access-block",
            "s3.tls-only",
            "s3.versioning",
            "s3.acls-disabled",
            "s3.lifecycle-present",
            "s3.abort-incomplete-multipart",
            "s3.default-encryption",
        },
    ),
    "account block public access off": (_open_account, {"s3.account-public-access-block"}),
}


@pytest.mark.parametrize("name", list(PLANTED))
def test_planted_problem_is_found_and_nothing_else(name: str, tmp_path: Path, account: Emulator) -> None:
    project, env = _hardened(tmp_path, account)
    plant, expected = PLANTED[name]
    plant(account)
    assert _failing(audit(project, env)) == expected


def test_old_and_unused_access_keys(tmp_path: Path, account: Emulator) -> None:
    project, env = _hardened(tmp_path, account)
    _iam(account).create_access_key(UserName="hard-test-app")
    assert _failing(audit(project, env)) == set()
    # moto stamps keys with the current time; audit as of 100 days later instead of waiting.
    later = datetime.now(UTC) + timedelta(days=100)
    report = audit(project, env, now=later)
    assert _failing(report) == {"iam.access-key-age", "iam.access-key-unused"}
    message = next(f.message for f in report.findings if f.check.id == "iam.access-key-unused")
    assert "never used" in message


KMS_AND_REPLICATION = """\
version: 1
project: hard
environments:
  test: {region: us-east-1, account: "123456789012", endpoint: ENDPOINT}
buckets:
  vault:
    encryption:
      type: sse-kms
      kms_key_arn: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    replication:
      destination_bucket_arn: "arn:aws:s3:::somewhere-else"
      replica_kms_key_arn: "arn:aws:kms:us-west-2:123456789012:key/5678abcd-12ab-34cd-56ef-1234567890ab"
    lifecycle:
      - {id: tidy, noncurrent_expiration_days: 90, abort_incomplete_multipart_days: 7}
tables:
  ledger:
    hash_key: {name: id}
    encryption: {type: aws-managed}
    billing: provisioned
    capacity: {read: 5, write: 5}
"""


def test_features_the_config_asks_for(tmp_path: Path, account: Emulator) -> None:
    project, env = _hardened(tmp_path, account, KMS_AND_REPLICATION)
    report = audit(project, env)
    # Terraform made the replication rule (role, policy, configuration); the provisioned table has no
    # autoscaling block in this config, so its capacity mode is what fails. Drift sees the rule as moto
    # holds it: without the SSE-KMS source selection Terraform wrote (moto drops it), and nothing else.
    gaps = [f for f in report.findings if f.check.id == "drift.changed" and f.status is not Status.PASS]
    assert [only_the_replication_gap(f.expected, f.actual) for f in gaps] == [True]
    assert _failing(report) == {"dynamodb.capacity-mode", "drift.changed"}

    s3 = _s3(account)
    s3.put_bucket_encryption(
        Bucket="hard-test-vault",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    ddb = _ddb(account)  # re-create the table with the default (AWS owned) key: moto cannot switch it
    ddb.update_table(TableName="hard-test-ledger", DeletionProtectionEnabled=False)
    ddb.delete_table(TableName="hard-test-ledger")
    ddb.create_table(
        TableName="hard-test-ledger",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    failing = _failing(audit(project, env))
    assert {"s3.default-encryption", "dynamodb.kms-encryption"} <= failing


def test_replication_and_autoscaling_pass_when_present(tmp_path: Path, account: Emulator) -> None:
    project, env = _hardened(tmp_path, account, KMS_AND_REPLICATION)
    s3 = _s3(account)
    s3.create_bucket(Bucket="somewhere-else")
    s3.put_bucket_versioning(Bucket="somewhere-else", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(
        Bucket="hard-test-vault",
        ReplicationConfiguration={
            "Role": "arn:aws:iam::123456789012:role/replication",
            "Rules": [
                {
                    "ID": "all",
                    "Status": "Enabled",
                    "Priority": 1,
                    "Filter": {"Prefix": ""},
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Destination": {"Bucket": "arn:aws:s3:::somewhere-else"},
                }
            ],
        },
    )
    aas = _client("application-autoscaling", account.endpoint)
    for dimension in ("ReadCapacityUnits", "WriteCapacityUnits"):
        aas.register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId="table/hard-test-ledger",
            ScalableDimension=f"dynamodb:table:{dimension}",
            MinCapacity=1,
            MaxCapacity=50,
        )
    failing = _failing(audit(project, env))
    assert "s3.replication" not in failing and "dynamodb.capacity-mode" not in failing


def test_every_security_check_has_a_planted_failure() -> None:
    planted = set().union(*(expected for _, expected in PLANTED.values()))
    planted |= {
        "iam.access-key-age",
        "iam.access-key-unused",
        "s3.replication",
        "dynamodb.capacity-mode",
        "dynamodb.kms-encryption",
        "s3.default-encryption",
    }
    assert {c.id for c in all_checks()} - planted == set()


def test_an_unreadable_setting_is_an_error_never_a_pass(tmp_path: Path, account: Emulator) -> None:
    project, env = _hardened(tmp_path, account)
    # Point the audit at a port where nothing listens for S3 only: every S3 read fails.
    import dataclasses

    broken = dataclasses.replace(env, spec=env.spec.model_copy(update={"endpoint": "http://127.0.0.1:9"}))
    report = audit(project, broken, workers=8)
    s3_findings = [f for f in report.findings if f.check.service == "s3"]
    assert s3_findings and all(f.status is Status.ERROR for f in s3_findings)


def test_the_state_bucket_bootstrap_makes_on_an_emulator_fails_only_tls_and_says_why(
    tmp_path: Path, account: Emulator
) -> None:
    project, env = load(tmp_path / "config.yaml", account.endpoint)
    bootstrap(env)
    report = audit(project, env)
    state = [
        f for f in report.findings if f.resource.endswith(f":::{env.state.bucket}") and f.status is not Status.PASS
    ]
    assert [f.check.id for f in state] == ["s3.tls-only"]  # moto refuses every call under that policy
    assert "tls_only is off for this bucket on an emulator, which cannot evaluate" in state[0].message


def test_drift_shows_the_tag_and_the_index_projection_that_changed(tmp_path: Path, account: Emulator) -> None:
    project, env = _hardened(tmp_path, account)
    PLANTED["bucket tag changed"][0](account)
    PLANTED["index projection widened"][0](account)
    changed = {
        f.resource: f for f in audit(project, env).findings if f.check.id == "drift.changed" and f.status is Status.FAIL
    }
    bucket, table = changed[B], changed[_table_arn(account)]
    assert bucket.message == "bucket docs: tags differ from config.yaml"
    assert isinstance(bucket.expected, dict) and isinstance(bucket.actual, dict)
    assert (bucket.expected["tags"]["cargohold:key"], bucket.actual["tags"]["cargohold:key"]) == ("docs", "photos")
    assert table.message == "table users: global_indexes differ from config.yaml"
    assert isinstance(table.expected, dict) and isinstance(table.actual, dict)
    [want], [have] = table.expected["global_indexes"], table.actual["global_indexes"]
    assert (want["projection"], have["projection"]) == ("KEYS_ONLY", "ALL")
    assert len(changed) == 2


def test_a_prefixed_rule_is_named_as_covering_only_its_prefix(tmp_path: Path, account: Emulator) -> None:
    project, env = _hardened(tmp_path, account)
    PLANTED["lifecycle rule narrowed to a prefix"][0](account)
    failing = {f.check.id: f for f in audit(project, env).findings if f.status is Status.FAIL}
    message = failing["s3.abort-incomplete-multipart"].message
    assert "in the whole bucket; the rules with it apply only to tmp/" in message


def test_access_denied_names_the_permissions_the_check_reads_with(
    tmp_path: Path, account: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, env = _hardened(tmp_path, account)
    iam = _iam(account)
    iam.create_user(UserName="auditor")
    denied = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:GetBucketPolicy", "Resource": "*"},
        ],
    }
    iam.put_user_policy(UserName="auditor", PolicyName="all-but-policies", PolicyDocument=json.dumps(denied))
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    set_auth(account.endpoint, "0")
    try:
        report = audit(project, env)
    finally:
        set_auth(account.endpoint, "inf")
    [tls] = [f for f in report.findings if f.check.id == "s3.tls-only" and f.resource == B]
    assert tls.status is Status.ERROR
    assert "AccessDenied" in tls.message
    assert "The audit's credentials need s3:GetBucketPolicy" in tls.message


def test_drift_shows_suspended_versioning_as_suspended(tmp_path: Path, account: Emulator) -> None:
    project, env = _hardened(tmp_path, account)
    _s3(account).put_bucket_versioning(Bucket="hard-test-docs", VersioningConfiguration={"Status": "Suspended"})
    [finding] = [f for f in audit(project, env).findings if f.check.id == "drift.changed" and f.status is Status.FAIL]
    assert finding.expected == {"versioning": "Enabled"} and finding.actual == {"versioning": "Suspended"}


def test_drift_shows_the_lifecycle_filter_that_changed(tmp_path: Path, account: Emulator) -> None:
    project, env = _hardened(tmp_path, account)
    PLANTED["lifecycle rule narrowed to a prefix"][0](account)
    [finding] = [f for f in audit(project, env).findings if f.check.id == "drift.changed" and f.status is Status.FAIL]
    assert finding.message == "bucket docs: lifecycle differ from config.yaml"
    assert isinstance(finding.expected, dict) and isinstance(finding.actual, dict)
    assert finding.expected["lifecycle"][0]["filter"]["prefix"] is None  # config.yaml: the whole bucket
    assert finding.actual["lifecycle"][0]["filter"]["prefix"] == "tmp/"

"""IAM policies from grants, the Terraform variables (tfvars) and the declared resource addresses."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cargohold_core.config import declared_resources, load_project, tfvars
from cargohold_core.config.model import Environment

REPO = Path(__file__).resolve().parents[2]
ALL_CONFIGS = [REPO / "config.yaml", *sorted((REPO / "examples").glob("*/config.yaml"))]
CONFIG_IDS = [p.parent.name if p.parent != REPO else "config.yaml" for p in ALL_CONFIGS]

HEAD = """\
version: 1
project: demo
environments:
  dev:
    region: eu-west-1
    account: "111111111111"
buckets:
  docs: {}
tables:
  users:
    hash_key: {name: id}
"""


@pytest.fixture
def env_with(write_config: Callable[..., Path]) -> Callable[[str], Environment]:
    def load(principals: str) -> Environment:
        return load_project(write_config(HEAD + "principals:\n" + principals)).environments["dev"]

    return load


def statements(env: Environment, principal: str = "app") -> dict[str, dict[str, Any]]:
    policy = env.principals[principal].policy
    assert policy["Version"] == "2012-10-17"
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert len(by_sid) == len(policy["Statement"]), "statement ids must be unique"
    return by_sid


BUCKET_ARN = "arn:aws:s3:::demo-dev-docs"
TABLE_ARN = "arn:aws:dynamodb:eu-west-1:111111111111:table/demo-dev-users"


def test_object_actions_on_the_whole_bucket(env_with: Callable[[str], Environment]) -> None:
    env = env_with("  app:\n    grants:\n      - {bucket: docs, actions: [write, read, delete]}\n")
    assert statements(env) == {
        "G0Objects": {
            "Sid": "G0Objects",
            "Effect": "Allow",
            "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            "Resource": [f"{BUCKET_ARN}/*"],
        }
    }


def test_object_actions_on_a_prefix(env_with: Callable[[str], Environment]) -> None:
    env = env_with("  app:\n    grants:\n      - {bucket: docs, prefix: uploads/, actions: [read]}\n")
    [statement] = statements(env).values()
    assert statement["Action"] == ["s3:GetObject"]
    assert statement["Resource"] == [f"{BUCKET_ARN}/uploads/*"]
    assert "Condition" not in statement


def test_list_without_prefix_has_no_condition(env_with: Callable[[str], Environment]) -> None:
    env = env_with("  app:\n    grants:\n      - {bucket: docs, actions: [list, locate]}\n")
    assert statements(env) == {
        "G0Bucket": {
            "Sid": "G0Bucket",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
            "Resource": [BUCKET_ARN],
        }
    }


def test_list_with_prefix_gets_the_prefix_condition_and_locate_its_own_statement(
    env_with: Callable[[str], Environment],
) -> None:
    env = env_with("  app:\n    grants:\n      - {bucket: docs, prefix: a/b/, actions: [locate, list, write]}\n")
    by_sid = statements(env)
    assert list(by_sid) == ["G0Objects", "G0Bucket", "G0Locate"]
    assert by_sid["G0Objects"]["Resource"] == [f"{BUCKET_ARN}/a/b/*"]
    assert by_sid["G0Bucket"] == {
        "Sid": "G0Bucket",
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": [BUCKET_ARN],
        "Condition": {"StringLike": {"s3:prefix": ["a/b/*"]}},
    }
    assert by_sid["G0Locate"] == {
        "Sid": "G0Locate",
        "Effect": "Allow",
        "Action": ["s3:GetBucketLocation"],
        "Resource": [BUCKET_ARN],
    }


def test_locate_with_prefix_but_without_list_has_no_condition(env_with: Callable[[str], Environment]) -> None:
    env = env_with("  app:\n    grants:\n      - {bucket: docs, prefix: a/, actions: [locate]}\n")
    [statement] = statements(env).values()
    assert statement["Action"] == ["s3:GetBucketLocation"]
    assert "Condition" not in statement


def test_table_grant_includes_the_indexes(env_with: Callable[[str], Environment]) -> None:
    env = env_with("  app:\n    grants:\n      - {table: users, actions: [write, read]}\n")
    [statement] = statements(env).values()
    assert statement["Sid"] == "G0Table"
    assert statement["Resource"] == [TABLE_ARN, f"{TABLE_ARN}/index/*"]
    assert statement["Action"] == sorted(statement["Action"])
    assert {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"} <= set(
        statement["Action"]
    )


def test_read_only_table_grant_cannot_write(env_with: Callable[[str], Environment]) -> None:
    env = env_with("  app:\n    grants:\n      - {table: users, actions: [read]}\n")
    [statement] = statements(env).values()
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
    assert not writes & set(statement["Action"])
    assert "dynamodb:GetItem" in statement["Action"]


def test_statements_follow_grant_order(env_with: Callable[[str], Environment]) -> None:
    env = env_with(
        "  app:\n    grants:\n      - {table: users, actions: [read]}\n      - {bucket: docs, actions: [read, list]}\n"
    )
    assert list(statements(env)) == ["G0Table", "G1Objects", "G1Bucket"]


def test_role_policy_and_arn(env_with: Callable[[str], Environment]) -> None:
    env = env_with(
        "  worker:\n    kind: role\n    path: /jobs/\n    assume_role_services: [ecs-tasks.amazonaws.com]\n"
        "    grants:\n      - {bucket: docs, actions: [read]}\n"
    )
    worker = env.principals["worker"]
    assert worker.arn == "arn:aws:iam::111111111111:role/jobs/demo-dev-worker"
    assert worker.policy["Statement"][0]["Resource"] == [f"{BUCKET_ARN}/*"]


def _all_envs() -> list[tuple[str, Environment]]:
    out = []
    for path, config_id in zip(ALL_CONFIGS, CONFIG_IDS, strict=True):
        for name, env in load_project(path).environments.items():
            out.append((f"{config_id}/{name}", env))
    return out


ALL_ENVS = _all_envs()


@pytest.mark.parametrize(("label", "env"), ALL_ENVS, ids=[label for label, _ in ALL_ENVS])
def test_no_wildcard_action_and_every_resource_is_a_declared_one(label: str, env: Environment) -> None:
    own_arns = {b.arn for b in env.buckets.values()} | {t.arn for t in env.tables.values()}
    # the customer keys of the buckets and tables, and those the grants name (KMS statements)
    own_arns |= {b.spec.encryption.kms_key_arn for b in env.buckets.values() if b.spec.encryption.kms_key_arn}
    own_arns |= {t.spec.encryption.kms_key_arn for t in env.tables.values() if t.spec.encryption.kms_key_arn}
    own_arns |= {g.kms_key_arn for p in env.principals.values() for g in p.spec.grants if g.kms_key_arn}
    for principal in env.principals.values():
        assert principal.policy["Statement"], f"{label}: {principal.key} has grants but no statements"
        for statement in principal.policy["Statement"]:
            assert statement["Effect"] == "Allow"
            assert statement["Action"] == sorted(set(statement["Action"]))
            for action in statement["Action"]:
                service, _, verb = action.partition(":")
                assert service in ("s3", "dynamodb", "kms")
                assert service != "kms" or statement["Sid"].endswith("Kms")
                assert verb and "*" not in verb, f"{label}: wildcard action {action}"
            aliases = statement.get("Condition", {}).get("ForAnyValue:StringEquals", {}).get("kms:ResourceAliases")
            for resource in statement["Resource"]:
                assert resource != "*"
                if aliases:  # a key named by alias: the keys of that account and region carrying it
                    assert resource.endswith(":key/*") and any(a.endswith(aliases) for a in own_arns), resource
                    continue
                base = resource.split("/index/")[0]
                base = base.split("/", 1)[0] if base.startswith("arn:aws:s3:::") else base
                assert base in own_arns, f"{label}: {resource} is not one of the environment's resources"


def test_photos_backend_has_exactly_what_the_app_needs() -> None:
    env = load_project(REPO / "examples" / "photos" / "config.yaml").environments["dev"]
    policy = env.principals["backend"].policy
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert actions == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:DescribeTable",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:UpdateItem",
    }
    assert not any(a.endswith(":*") or a == "*" for a in actions)
    bucket = env.buckets["photos"].arn
    object_statement = next(s for s in policy["Statement"] if s["Sid"] == "G0Objects")
    assert object_statement["Resource"] == [f"{bucket}/uploads/*"]
    table = env.tables["photos"]
    table_statement = next(s for s in policy["Statement"] if s["Sid"] == "G1Table")
    assert table_statement["Resource"] == [table.arn, f"{table.arn}/index/*"]
    assert table.arn == "arn:aws:dynamodb:ap-south-1:111111111111:table/photos-dev-photos"


# ---------------------------------------------------------------- tfvars: the root stack's contract

TOP_KEYS = {"project", "environment", "region", "account_id", "partition", "endpoint", "profile", "assume_role", "tags",
            "buckets", "tables", "principals"}
BUCKET_KEYS = {"name", "region", "force_destroy", "versioning", "encryption", "lifecycle_rules", "cors_rules",
               "public_read_prefix", "tls_only", "min_tls_version", "deny_unencrypted_uploads", "access_logging",
               "replication", "object_lock", "intelligent_tiering"}
ENCRYPTION_KEYS = {"type", "kms_key_arn", "bucket_key"}
LIFECYCLE_KEYS = {"id", "enabled", "prefix", "tags", "object_size_greater_than", "object_size_less_than",
                  "transitions", "expiration_days", "noncurrent_transitions", "noncurrent_expiration_days",
                  "newer_noncurrent_versions", "abort_incomplete_multipart_days"}
TRANSITION_KEYS = {"days", "storage_class"}
NONCURRENT_TRANSITION_KEYS = {"days", "storage_class", "newer_noncurrent_versions"}
CORS_KEYS = {"allowed_origins", "allowed_methods", "allowed_headers", "expose_headers", "max_age_seconds"}
LOGGING_KEYS = {"target_bucket", "target_prefix"}
REPLICATION_KEYS = {"destination_bucket_arn", "storage_class", "prefix", "replica_kms_key_arn", "role_arn",
                    "delete_marker_replication", "replication_time", "metrics", "replica_modifications"}
OBJECT_LOCK_KEYS = {"mode", "days"}
TIERING_KEYS = {"prefix", "archive_access_days", "deep_archive_access_days"}
TABLE_KEYS = {"name", "region", "hash_key", "range_key", "billing_mode", "read_capacity", "write_capacity",
              "autoscaling", "global_secondary_indexes", "local_secondary_indexes", "point_in_time_recovery",
              "ttl_attribute", "encryption", "stream_view_type", "deletion_protection", "table_class"}
KEY_KEYS = {"name", "type"}
AUTOSCALING_KEYS = {"min_read", "max_read", "min_write", "max_write", "target_utilization"}
GSI_KEYS = {"name", "hash_key", "range_key", "projection_type", "non_key_attributes", "read_capacity",
            "write_capacity", "autoscaling"}
LSI_KEYS = {"name", "range_key", "projection_type", "non_key_attributes"}
TABLE_ENCRYPTION_KEYS = {"type", "kms_key_arn"}
PRINCIPAL_KEYS = {"name", "kind", "path", "assume_role_services", "assume_role_arns", "assume_role_external_id",
                  "permissions_boundary_arn", "grants"}
GRANT_KEYS = {"bucket", "table", "prefix", "actions", "kms_key_arn", "client_side_encryption"}

FULL = """\
version: 1
project: full
tags: {team: a}
environments:
  dev:
    region: us-west-2
    account: "111111111111"
    endpoint: http://127.0.0.1:4566/
buckets:
  logs: {versioning: false}
  data:
    encryption: {type: sse-kms, kms_key_arn: "arn:aws:kms:us-west-2:111111111111:key/k"}
    lifecycle:
      - id: all
        prefix: a/
        tags: {t: v}
        object_size_greater_than: 1
        object_size_less_than: 100
        transitions: [{days: 30, storage_class: STANDARD_IA}]
        expiration_days: 400
        noncurrent_transitions: [{days: 30, storage_class: GLACIER, newer_noncurrent_versions: 2}]
        noncurrent_expiration_days: 90
        newer_noncurrent_versions: 3
      - id: uploads  # S3 refuses abort_incomplete_multipart_days in a rule filtered by tags
        abort_incomplete_multipart_days: 2
    cors: [{allowed_origins: ["*"], allowed_methods: [GET]}]
    public_read_prefix: public/
    min_tls_version: "1.3"
    deny_unencrypted_uploads: true
    access_logging: {target_bucket: logs, target_prefix: data/}
    replication:
      destination_bucket_arn: "arn:aws:s3:::replica-bucket"
      replica_kms_key_arn: "arn:aws:kms:us-west-2:111111111111:key/5678abcd-12ab-34cd-56ef-1234567890ab"
      role_arn: "arn:aws:iam::111111111111:role/replication"
      delete_marker_replication: true
      replication_time: true
      metrics: true
      replica_modifications: true
    object_lock: {mode: GOVERNANCE, days: 5}
    intelligent_tiering: {prefix: t/, archive_access_days: 90}
tables:
  items:
    hash_key: {name: pk}
    range_key: {name: sk, type: N}
    billing: provisioned
    capacity: {read: 5, write: 5}
    autoscaling: {min_read: 1, max_read: 10, min_write: 1, max_write: 10}
    global_indexes:
      - {name: by-x, hash_key: {name: x}, projection: INCLUDE, non_key_attributes: [a],
         capacity: {read: 1, write: 1}}
    local_indexes:
      - {name: by-y, range_key: {name: y}}
    encryption: {type: customer-kms, kms_key_arn: "arn:aws:kms:us-west-2:111111111111:alias/x"}
    stream: NEW_IMAGE
    ttl_attribute: ttl
principals:
  app:
    grants:
      - {bucket: data, prefix: p/, actions: [read, list]}
      - {table: items, actions: [read]}
  worker:
    kind: role
    assume_role_arns: ["arn:aws:iam::111111111111:role/other", "arn:aws:iam::222222222222:role/vendor"]
    assume_role_external_id: "vendor-issued-id"
    permissions_boundary_arn: "arn:aws:iam::aws:policy/PowerUserAccess"
    grants: [{table: items, actions: [write]}]
"""


def _keys(value: dict[str, Any], expected: set[str], where: str) -> None:
    assert set(value) == expected, f"{where}: missing {expected - set(value)}, extra {set(value) - expected}"


def check_contract(variables: dict[str, Any]) -> None:
    _keys(variables, TOP_KEYS, "top level")
    for key, bucket in variables["buckets"].items():
        _keys(bucket, BUCKET_KEYS, f"buckets.{key}")
        _keys(bucket["encryption"], ENCRYPTION_KEYS, f"buckets.{key}.encryption")
        for rule in bucket["lifecycle_rules"]:
            _keys(rule, LIFECYCLE_KEYS, f"buckets.{key}.lifecycle_rules")
            for t in rule["transitions"]:
                _keys(t, TRANSITION_KEYS, "transitions")
            for t in rule["noncurrent_transitions"]:
                _keys(t, NONCURRENT_TRANSITION_KEYS, "noncurrent_transitions")
        for rule in bucket["cors_rules"]:
            _keys(rule, CORS_KEYS, f"buckets.{key}.cors_rules")
        for field, expected in (("access_logging", LOGGING_KEYS), ("replication", REPLICATION_KEYS),
                                ("object_lock", OBJECT_LOCK_KEYS), ("intelligent_tiering", TIERING_KEYS)):
            if bucket[field] is not None:
                _keys(bucket[field], expected, f"buckets.{key}.{field}")
    for key, table in variables["tables"].items():
        _keys(table, TABLE_KEYS, f"tables.{key}")
        _keys(table["hash_key"], KEY_KEYS, "hash_key")
        if table["range_key"] is not None:
            _keys(table["range_key"], KEY_KEYS, "range_key")
        if table["autoscaling"] is not None:
            _keys(table["autoscaling"], AUTOSCALING_KEYS, "autoscaling")
        for index in table["global_secondary_indexes"]:
            _keys(index, GSI_KEYS, "global_secondary_indexes")
        for index in table["local_secondary_indexes"]:
            _keys(index, LSI_KEYS, "local_secondary_indexes")
        _keys(table["encryption"], TABLE_ENCRYPTION_KEYS, "table encryption")
        assert table["billing_mode"] in ("PAY_PER_REQUEST", "PROVISIONED")
    for key, principal in variables["principals"].items():
        _keys(principal, PRINCIPAL_KEYS, f"principals.{key}")
        for grant in principal["grants"]:
            _keys(grant, GRANT_KEYS, "grants")


def test_tfvars_spells_out_every_field_of_a_config_using_every_feature(write_config: Callable[..., Path]) -> None:
    env = load_project(write_config(FULL)).environments["dev"]
    variables = tfvars(env)
    check_contract(variables)
    assert json.loads(json.dumps(variables)) == variables
    assert variables["endpoint"] == "http://127.0.0.1:4566"
    assert variables["tags"] == {"team": "a"}
    assert variables["account_id"] == "111111111111"
    assert variables["partition"] == "aws"
    data = variables["buckets"]["data"]
    # a bucket key as logging target becomes that bucket's AWS name
    assert data["access_logging"] == {"target_bucket": "full-dev-logs", "target_prefix": "data/"}
    assert data["lifecycle_rules"][0]["noncurrent_transitions"][0]["newer_noncurrent_versions"] == 2
    items = variables["tables"]["items"]
    assert (items["billing_mode"], items["read_capacity"], items["write_capacity"]) == ("PROVISIONED", 5, 5)
    assert items["global_secondary_indexes"][0]["read_capacity"] == 1
    assert items["stream_view_type"] == "NEW_IMAGE"
    assert variables["principals"]["app"]["grants"][0] == {"bucket": "data", "table": None, "prefix": "p/",
                                                           "actions": ["read", "list"], "kms_key_arn": None,
                                                           "client_side_encryption": False}
    assert variables["principals"]["worker"]["assume_role_external_id"] == "vendor-issued-id"
    assert variables["principals"]["app"]["assume_role_external_id"] is None


def test_tfvars_of_a_minimal_config_writes_nulls_not_missing_keys(write_config: Callable[..., Path]) -> None:
    text = HEAD + "principals:\n  app: {grants: [{bucket: docs, actions: [read]}]}\n"
    env = load_project(write_config(text)).environments["dev"]
    variables = tfvars(env)
    check_contract(variables)
    docs = variables["buckets"]["docs"]
    assert docs["access_logging"] is None and docs["replication"] is None and docs["object_lock"] is None
    assert docs["versioning"] is True  # secure default
    assert docs["encryption"] == {"type": "sse-s3", "kms_key_arn": None, "bucket_key": True}
    users = variables["tables"]["users"]
    assert users["range_key"] is None and users["read_capacity"] is None
    assert users["billing_mode"] == "PAY_PER_REQUEST"
    assert users["point_in_time_recovery"] is True and users["deletion_protection"] is True
    assert variables["endpoint"] is None


@pytest.mark.parametrize(("label", "env"), ALL_ENVS, ids=[label for label, _ in ALL_ENVS])
def test_tfvars_of_every_example_meets_the_contract(label: str, env: Environment) -> None:
    variables = tfvars(env)
    check_contract(variables)
    assert json.loads(json.dumps(variables)) == variables
    assert variables["environment"] == env.name
    assert {k: b["name"] for k, b in variables["buckets"].items()} == {k: b.name for k, b in env.buckets.items()}
    assert not {"Project", "Environment", "ManagedBy"} & set(variables["tags"])


@pytest.mark.parametrize(("label", "env"), ALL_ENVS, ids=[label for label, _ in ALL_ENVS])
def test_declared_resources_are_unique_and_under_the_three_modules(label: str, env: Environment) -> None:
    resources = declared_resources(env)
    assert resources
    addresses = [r.address for r in resources]
    assert len(addresses) == len(set(addresses))
    module_of = {"bucket": "module.buckets", "table": "module.tables", "principal": "module.principals"}
    for r in resources:
        assert r.address.startswith(f'{module_of[r.kind]}["{r.key}"].'), r.address
        assert r.address.split('"].', 1)[1].startswith(r.type + ".")
        assert r.to_json()["address"] == r.address
    for kind, group in (("bucket", env.buckets), ("table", env.tables), ("principal", env.principals)):
        for key, item in group.items():
            mine = [r for r in resources if r.kind == kind and r.key == key]
            assert mine, f"{label}: nothing declared for {kind} {key}"
            assert {r.name for r in mine} == {item.name}


def test_declared_resources_follow_the_features(write_config: Callable[..., Path]) -> None:
    env = load_project(write_config(FULL)).environments["dev"]
    types = {(r.key, r.type) for r in declared_resources(env)}
    assert ("data", "aws_s3_bucket_replication_configuration") in types
    assert ("data", "aws_s3_bucket_object_lock_configuration") in types
    assert ("data", "aws_s3_bucket_logging") in types
    assert ("logs", "aws_s3_bucket_versioning") not in types  # versioning: false
    assert ("logs", "aws_s3_bucket_logging") not in types
    assert ("items", "aws_appautoscaling_target") in types
    assert ("worker", "aws_iam_role") in types and ("worker", "aws_iam_user") not in types
    assert ("app", "aws_iam_user") in types and ("app", "aws_iam_role") not in types

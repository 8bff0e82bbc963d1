"""Offline evaluation of the real Terraform stack (tfparse) against the config model.

The AWS provider cannot be installed here, so `terraform plan` of these modules cannot run. tfparse
evaluates the HCL itself (for_each, child modules, optional() defaults, jsonencode) with the
variables cargohold renders, and we assert that what the stack would create is exactly the
model's desired state: same resource addresses, names, keys, settings and IAM policies.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from toolkit.config import declared_resources, load_project, tfvars
from toolkit.config.bucket_policy import bucket_policy_statements
from toolkit.config.desired import desired_state
from toolkit.config.model import Environment
from toolkit.paths import terraform_root

tfparse = pytest.importorskip("tfparse", reason="tfparse is a dev dependency: pip install -e '.[dev]'")

REPO = Path(__file__).resolve().parents[2]
CONFIGS = [REPO / "config.yaml", *sorted((REPO / "examples").glob("*/config.yaml"))]
UNREADABLE = "(not readable offline)"
NOT_RESOURCES = {"locals", "module", "output", "provider", "terraform", "variable", "data"}


def _cases() -> list[Any]:
    cases = []
    for config in CONFIGS:
        project = load_project(config)
        label = config.parent.name if config.parent.name != REPO.name else "root"
        cases += [pytest.param(config, env, id=f"{label}-{env}") for env in project.environments]
    return cases


def as_list(value: Any) -> list[Any]:
    """tfparse returns a block that occurs once as a dict and repeated blocks as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def evaluate(env: Environment, tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    root = tmp_path / "terraform"
    shutil.copytree(terraform_root(), root, ignore=shutil.ignore_patterns(".terraform", "examples"))
    (root / "stack" / "case.tfvars.json").write_text(json.dumps(tfvars(env)))
    result: dict[str, list[dict[str, Any]]] = tfparse.load_from_path(
        str(root / "stack"), vars_paths=["case.tfvars.json"]
    )
    return result


def resources(evaluated: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Evaluated resources by address."""
    out = {}
    for rtype, items in evaluated.items():
        if rtype in NOT_RESOURCES:
            continue
        for item in as_list(items):
            meta = item["__tfmeta"]
            if meta.get("type") == "resource":
                out[meta["path"]] = item
    return out


def module_key(address: str) -> str:
    return address.split('["', 1)[1].split('"]', 1)[0]


def of_type(found: dict[str, dict[str, Any]], rtype: str) -> dict[str, dict[str, Any]]:
    """Resources of one type, by the config key of the module instance that declares them."""
    return {module_key(a): r for a, r in found.items() if a.rsplit(".", 2)[-2] == rtype}


def observed_buckets(found: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    versioning = of_type(found, "aws_s3_bucket_versioning")
    sse = of_type(found, "aws_s3_bucket_server_side_encryption_configuration")
    ownership = of_type(found, "aws_s3_bucket_ownership_controls")
    blocks = of_type(found, "aws_s3_bucket_public_access_block")
    policies = of_type(found, "aws_s3_bucket_policy")
    lifecycles = of_type(found, "aws_s3_bucket_lifecycle_configuration")
    cors = of_type(found, "aws_s3_bucket_cors_configuration")
    logging = of_type(found, "aws_s3_bucket_logging")
    replication = of_type(found, "aws_s3_bucket_replication_configuration")
    locks = of_type(found, "aws_s3_bucket_object_lock_configuration")
    out = {}
    for key, bucket in of_type(found, "aws_s3_bucket").items():
        default = as_list(sse[key]["rule"])[0]
        by_default = as_list(default["apply_server_side_encryption_by_default"])[0]
        algorithm = by_default["sse_algorithm"]
        # no policy resource when it would have no statement (tls_only: false and nothing else)
        statements = json.loads(policies[key]["policy"])["Statement"] if key in policies else []
        public = [s for s in statements if s["Effect"] == "Allow" and s.get("Principal") in ("*", {"AWS": "*"})]
        public_prefix = None
        if public:
            resource = as_list(public[0]["Resource"])[0]
            public_prefix = resource.split("/", 1)[1].removesuffix("*")
        tls = [s for s in statements if s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s)]
        min_tls = [s for s in statements if s["Effect"] == "Deny" and "s3:TlsVersion" in json.dumps(s)]
        block = blocks[key]
        lock = locks.get(key)
        lock_rule = as_list(lock["rule"])[0]["default_retention"] if lock else None
        lock_rule = as_list(lock_rule)[0] if lock_rule else None
        out[key] = {
            "name": bucket["bucket"],
            "versioning": as_list(versioning[key]["versioning_configuration"])[0]["status"]
            if key in versioning
            else None,
            "encryption": {
                "algorithm": algorithm,
                "kms_key_arn": by_default.get("kms_master_key_id"),
                "bucket_key": default.get("bucket_key_enabled") if algorithm == "aws:kms" else None,
            },
            "ownership": as_list(ownership[key]["rule"])[0]["object_ownership"],
            "public_access_block": {
                "BlockPublicAcls": block["block_public_acls"],
                "IgnorePublicAcls": block["ignore_public_acls"],
                "BlockPublicPolicy": block["block_public_policy"],
                "RestrictPublicBuckets": block["restrict_public_buckets"],
            },
            "public_read_prefix": public_prefix,
            "tls_only": bool(tls),
            "min_tls_version": str(
                next(iter(json.loads(json.dumps(min_tls[0]["Condition"]))["NumericLessThan"].values()))
            )
            if min_tls
            else None,
            "lifecycle": [lifecycle_rule(r) for r in as_list(lifecycles[key]["rule"])] if key in lifecycles else [],
            "cors": [
                {
                    # sets in the provider, compared sorted (as the model does)
                    "AllowedOrigins": sorted(r["allowed_origins"]),
                    "AllowedMethods": sorted(r["allowed_methods"]),
                    "AllowedHeaders": sorted(r.get("allowed_headers") or []),
                    "ExposeHeaders": sorted(r.get("expose_headers") or []),
                    "MaxAgeSeconds": r["max_age_seconds"],
                }
                for r in as_list(cors[key]["cors_rule"])
            ]
            if key in cors
            else [],
            "logging": key in logging,
            "replication": key in replication,
            "object_lock": {"mode": lock_rule["mode"], "days": lock_rule["days"]} if lock_rule else None,
        }
    return out


def lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    def days(block: str, field: str) -> int | None:
        found = as_list(rule.get(block))
        return found[0][field] if found else None

    return {
        "id": UNREADABLE,  # tfparse gives every block an `id` of its own, hiding the rule's id
        "status": rule["status"],
        "transitions": sorted((t["days"], t["storage_class"]) for t in as_list(rule.get("transition"))),
        "expiration_days": days("expiration", "days"),
        "noncurrent_transitions": sorted(
            (t["noncurrent_days"], t["storage_class"]) for t in as_list(rule.get("noncurrent_version_transition"))
        ),
        "noncurrent_expiration_days": days("noncurrent_version_expiration", "noncurrent_days"),
        "abort_incomplete_multipart_days": days("abort_incomplete_multipart_upload", "days_after_initiation"),
    }


def known(value: Any) -> Any:
    """tfparse renders a null variable passed through as a reference placeholder."""
    return None if isinstance(value, dict) and "__attribute__" in value else value


def observed_tables(found: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for key, table in of_type(found, "aws_dynamodb_table").items():
        types = {a["name"]: a["type"] for a in as_list(table.get("attribute"))}
        range_key = table.get("range_key")
        ttl = as_list(table.get("ttl"))
        sse = as_list(table.get("server_side_encryption"))
        sse_type = "aws-owned"
        if sse and sse[0].get("enabled"):
            sse_type = "customer-kms" if sse[0].get("kms_key_arn") else "aws-managed"
        out[key] = {
            "name": table["name"],
            "hash_key": {"name": table["hash_key"], "type": types[table["hash_key"]]},
            "range_key": {"name": range_key, "type": types[range_key]} if range_key else None,
            "billing_mode": table["billing_mode"],
            "point_in_time_recovery": as_list(table.get("point_in_time_recovery"))[0]["enabled"],
            "ttl_attribute": ttl[0]["attribute_name"] if ttl and ttl[0].get("enabled") else None,
            "deletion_protection": table["deletion_protection_enabled"],
            "sse": sse_type,
            "stream_view_type": table.get("stream_view_type") if table.get("stream_enabled") else None,
            "table_class": table["table_class"],
            "global_indexes": sorted(g["name"] for g in as_list(table.get("global_secondary_index"))),
            "local_indexes": sorted(ix["name"] for ix in as_list(table.get("local_secondary_index"))),
        }
    return out


def observed_principals(found: dict[str, dict[str, Any]], account: str) -> dict[str, dict[str, Any]]:
    users, roles = of_type(found, "aws_iam_user"), of_type(found, "aws_iam_role")
    out = {}
    for key, policy in of_type(found, "aws_iam_policy").items():
        kind, principal = ("user", users[key]) if key in users else ("role", roles[key])
        out[key] = {
            "name": principal["name"],
            "kind": kind,
            "arn": f"arn:aws:iam::{account}:{kind}{principal.get('path') or '/'}{principal['name']}",
            "policy": json.loads(policy["policy"]),
            "permissions_boundary_arn": known(principal.get("permissions_boundary")),
        }
    return out


@pytest.mark.parametrize(("config", "env_name"), _cases())
def test_stack_declares_the_models_resources(config: Path, env_name: str, tmp_path: Path) -> None:
    env = load_project(config).environment(env_name)
    found = resources(evaluate(env, tmp_path))
    assert set(found) == {r.address for r in declared_resources(env)}


@pytest.mark.parametrize(("config", "env_name"), _cases())
def test_stack_creates_the_models_desired_state(config: Path, env_name: str, tmp_path: Path) -> None:
    env = load_project(config).environment(env_name)
    found = resources(evaluate(env, tmp_path))
    desired = desired_state(env)
    for bucket in desired["buckets"].values():
        for rule in bucket["lifecycle"]:
            rule["id"] = UNREADABLE
    assert observed_buckets(found) == desired["buckets"]
    assert observed_tables(found) == desired["tables"]
    assert observed_principals(found, env.account) == desired["principals"]


def assert_policies_and_logging_match_the_model(env: Environment, tmp_path: Path) -> None:
    found = resources(evaluate(env, tmp_path))
    policies = of_type(found, "aws_s3_bucket_policy")
    logging = of_type(found, "aws_s3_bucket_logging")
    assert set(policies) == {k for k, b in env.buckets.items() if bucket_policy_statements(b, env)}
    for key, bucket in env.buckets.items():
        statements = json.loads(policies[key]["policy"])["Statement"] if key in policies else []
        assert statements == bucket_policy_statements(bucket, env), key
        spec = bucket.spec.access_logging
        if spec is None:
            assert key not in logging
            continue
        target = env.buckets[spec.target_bucket].name if spec.target_bucket in env.buckets else spec.target_bucket
        assert (logging[key]["target_bucket"], logging[key]["target_prefix"]) == (target, spec.target_prefix)


@pytest.mark.parametrize(("config", "env_name"), _cases())
def test_bucket_policies_match_the_policy_model(config: Path, env_name: str, tmp_path: Path) -> None:
    """Every bucket's policy, including the log-delivery grant a log target needs (ACLs are off)."""
    assert_policies_and_logging_match_the_model(load_project(config).environment(env_name), tmp_path)


LOGGING_CONFIG = """
version: 1
project: acme-lms
name_template: "{project}-{env}-{name}"
environments:
  prod:
    region: us-east-1
    account: "222222222222"
    overrides:
      buckets:
        student-docs:
          access_logging: {target_bucket: access-logs, target_prefix: student-docs/}
        instructor-docs:
          access_logging: {target_bucket: acme-lms-prod-access-logs, target_prefix: instructor-docs/}
  shared-prefix:
    region: eu-west-3
    account: "333333333333"
    overrides:
      buckets:
        student-docs:
          access_logging: {target_bucket: access-logs}
        instructor-docs:
          access_logging: {target_bucket: access-logs}
        access-logs:
          access_logging: {target_bucket: some-central-log-bucket, target_prefix: lms/}
buckets:
  student-docs: {public_read_prefix: avatars/}
  instructor-docs: {}
  access-logs: {versioning: false}
"""


@pytest.mark.parametrize("env_name", ["prod", "shared-prefix"])
def test_log_target_with_several_sources(env_name: str, tmp_path: Path) -> None:
    """Two buckets log into one (by key and by full name; distinct prefixes, then a shared one),
    and a bucket logs into a bucket outside the config (no grant anywhere)."""
    config = tmp_path / "config.yaml"
    config.write_text(LOGGING_CONFIG)
    env = load_project(config).environment(env_name)
    sources = [b.key for b in env.buckets.values() if b.spec.access_logging]
    assert len(sources) >= 2, "the case must exercise several sources"
    grants = [
        s for b in env.buckets.values() for s in bucket_policy_statements(b, env) if s["Sid"] == "AllowServerAccessLogs"
    ]
    assert len(grants) == 1 and len(grants[0]["Condition"]["ArnLike"]["aws:SourceArn"]) == 2
    assert_policies_and_logging_match_the_model(env, tmp_path / "eval")


def test_emulator_environment_gets_endpoint_overrides(tmp_path: Path) -> None:
    env = load_project(REPO / "config.yaml").environment("local")
    evaluated = evaluate(env, tmp_path)
    provider = as_list(evaluated["provider"])[0]
    endpoints = as_list(provider["endpoints"])[0]
    for service in ("s3", "dynamodb", "iam", "sts"):
        assert endpoints[service] == env.endpoint
    assert provider["s3_use_path_style"] is True
    assert provider["skip_credentials_validation"] is True


def test_real_environment_has_no_endpoint_overrides(tmp_path: Path) -> None:
    env = load_project(REPO / "config.yaml").environment("prod")
    provider = as_list(evaluate(env, tmp_path)["provider"])[0]
    endpoints = as_list(provider.get("endpoints"))
    services = [k for block in endpoints for k in block if k not in ("__tfmeta", "id")]
    assert services, "the provider declares endpoint overrides (null outside emulators)"
    assert all(known(block[k]) is None for block in endpoints for k in services)
    assert provider["s3_use_path_style"] is False


@pytest.mark.parametrize(("config", "env_name"), _cases())
def test_global_index_keys_are_key_schema_blocks(config: Path, env_name: str, tmp_path: Path) -> None:
    """Each GSI's keys as `key_schema` blocks (HASH, then RANGE), not the deprecated hash_key/range_key."""
    env = load_project(config).environment(env_name)
    tables = of_type(resources(evaluate(env, tmp_path)), "aws_dynamodb_table")
    assert set(tables) == set(env.tables)
    for key, table in env.tables.items():
        expected = {
            g.name: [(g.hash_key.name, "HASH"), *([(g.range_key.name, "RANGE")] if g.range_key else [])]
            for g in table.spec.global_indexes
        }
        found = {}
        for g in as_list(tables[key].get("global_secondary_index")):
            assert "hash_key" not in g and "range_key" not in g, (key, g["name"])
            found[g["name"]] = [(k["attribute_name"], k["key_type"]) for k in as_list(g.get("key_schema"))]
        assert found == expected, key

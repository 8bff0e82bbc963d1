"""Offline evaluation of the real Terraform stack (tfparse) against the config model.

tfparse evaluates the HCL itself (for_each, child modules, optional() defaults, jsonencode) with the
variables cargohold renders, without a provider, in well under a second per case; we assert that what
the stack would create is exactly the model's desired state: same resource addresses, names, keys,
settings and IAM policies. The same comparison over a real `terraform plan` is in
tests/tfprovider/test_stack_lifecycle.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from cargohold_core.config import declared_resources, load_project, tfvars
from cargohold_core.config.bucket_policy import bucket_policy_statements
from cargohold_core.config.desired import desired_state
from cargohold_core.config.model import Environment
from cargohold_core.paths import terraform_root
from tests.support.stack_shape import (
    UNREADABLE,
    as_list,
    known,
    observed_buckets,
    observed_principals,
    observed_tables,
    of_type,
)

tfparse = pytest.importorskip("tfparse", reason="tfparse is a dev dependency: pip install -e '.[dev]'")

REPO = Path(__file__).resolve().parents[2]
# with issue 14's acceptance configs: a DR bucket in a second region (fixtures/dr) and KMS in grants
# with autoscaled indexes (fixtures/kms-analytics)
CONFIGS = [
    REPO / "config.yaml",
    *sorted((REPO / "examples").glob("*/config.yaml")),
    REPO / "tests" / "fixtures" / "dr" / "config.yaml",
    REPO / "tests" / "fixtures" / "kms-analytics" / "config.yaml",
]
NOT_RESOURCES = {"locals", "module", "output", "provider", "terraform", "variable", "data"}


def _cases() -> list[Any]:
    cases = []
    for config in CONFIGS:
        project = load_project(config)
        label = config.parent.name if config.parent.name != REPO.name else "root"
        cases += [pytest.param(config, env, id=f"{label}-{env}") for env in project.environments]
    return cases


def evaluate(env: Environment, tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    root = tmp_path / "terraform"
    shutil.copytree(terraform_root(), root, ignore=shutil.ignore_patterns(".terraform", "examples"))
    (root / "stack" / "case.tfvars.json").write_text(json.dumps(tfvars(env)))
    result: dict[str, list[dict[str, Any]]] = tfparse.load_from_path(
        str(root / "stack"), vars_paths=["case.tfvars.json"]
    )
    return result


def resources(evaluated: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Evaluated resources by address. `tags_all` is computed after apply, so it is added here as the
    AWS provider computes it: the provider block's default_tags, then the resource's own tags."""
    [provider] = as_list(evaluated["provider"])
    default_tags = {k: v for k, v in as_list(provider["default_tags"])[0]["tags"].items() if k != "__tfmeta"}
    out = {}
    for rtype, items in evaluated.items():
        if rtype in NOT_RESOURCES:
            continue
        for item in as_list(items):
            meta = item["__tfmeta"]
            if meta.get("type") == "resource":
                out[meta["path"]] = {**item, "tags_all": {**default_tags, **(item.get("tags") or {})}}
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
    assert observed_buckets(found, account=env.account) == desired["buckets"]
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


TRUST_CONFIG = """
version: 1
project: trust
environments:
  prod: {region: us-east-1, account: "222222222222"}
buckets:
  docs: {}
principals:
  vendor:
    kind: role
    assume_role_services: [ecs-tasks.amazonaws.com]
    assume_role_arns: ["arn:aws:iam::210987654321:role/vendor", "arn:aws:iam::222222222222:role/ci"]
    assume_role_external_id: "vendor-issued:id/42"
    grants: [{bucket: docs, actions: [read]}]
  own:
    kind: role
    assume_role_arns: ["arn:aws:iam::222222222222:role/ci"]
    grants: [{bucket: docs, actions: [read]}]
"""


def test_the_external_id_is_a_condition_on_the_trust_of_assume_role_arns(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(TRUST_CONFIG)
    env = load_project(config).environment("prod")
    found = resources(evaluate(env, tmp_path))
    assert observed_principals(found, env.account) == desired_state(env)["principals"]
    roles = of_type(found, "aws_iam_role")
    services, principals = json.loads(roles["vendor"]["assume_role_policy"])["Statement"]
    assert "Condition" not in services  # services pass no external id
    assert principals["Condition"] == {"StringEquals": {"sts:ExternalId": "vendor-issued:id/42"}}
    [own] = json.loads(roles["own"]["assume_role_policy"])["Statement"]
    assert "Condition" not in own


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
    assert provider["allowed_account_ids"] == [env.account]  # Terraform by hand is guarded as well


def test_emulator_environment_has_no_account_allow_list(tmp_path: Path) -> None:
    provider = as_list(evaluate(load_project(REPO / "config.yaml").environment("local"), tmp_path)["provider"])[0]
    assert known(provider.get("allowed_account_ids")) is None


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


def test_the_replication_role_of_an_object_locked_source(tmp_path: Path) -> None:
    """The DR fixture's source locks its objects and replicates delete markers into a bucket of another
    region, with SSE-KMS: the role the module makes may read retention and legal holds, replicate deletes
    and use both keys, each on its own bucket; the rule and the DR bucket are in their own regions."""
    env = load_project(REPO / "tests" / "fixtures" / "dr" / "config.yaml").environment("prod")
    found = resources(evaluate(env, tmp_path))
    source, replica = env.buckets["contracts"], env.buckets["contracts-dr"]
    policy = json.loads(of_type(found, "aws_iam_role_policy")["contracts"]["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert list(by_sid) == [
        "SourceBucket",
        "SourceObjects",
        "SourceObjectLock",
        "DestinationObjects",
        "DecryptSource",
        "EncryptReplica",
    ]
    assert by_sid["SourceObjectLock"]["Action"] == ["s3:GetObjectLegalHold", "s3:GetObjectRetention"]
    assert by_sid["SourceObjectLock"]["Resource"] == [f"{source.arn}/*"]
    assert by_sid["DestinationObjects"]["Action"] == ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"]
    assert by_sid["DestinationObjects"]["Resource"] == [f"{replica.arn}/*"]
    assert by_sid["DecryptSource"]["Resource"] == [source.spec.encryption.kms_key_arn]
    assert by_sid["EncryptReplica"]["Resource"] == [replica.spec.encryption.kms_key_arn]
    assert of_type(found, "aws_s3_bucket")["contracts-dr"]["region"] == "us-west-2"
    assert of_type(found, "aws_s3_bucket_replication_configuration")["contracts"]["region"] == "us-east-1"
    assert of_type(found, "aws_dynamodb_table")["signatures-dr"]["region"] == "us-west-2"

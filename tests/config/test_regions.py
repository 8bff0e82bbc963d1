"""Several regions in one config, resources of one environment only (`overrides: add:`), and replication
with every option S3 has: validated with located problems, rendered, and declared as the stack makes them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cargohold_core.config import declared_resources, load_project, tfvars
from cargohold_core.config.desired import desired_state
from cargohold_core.errors import ConfigError, Problem

HEAD = """\
version: 1
project: demo
name_template: "{project}-{env}-{name}-{region}"
environments:
  dev:
    region: us-east-1
    account: "111111111111"
    overrides:  # each account encrypts with keys of its own
      buckets: {docs: {encryption: {kms_key_arn: "arn:aws:kms:us-east-1:111111111111:key/main"}}}
"""

DR = (
    HEAD
    + """\
  prod:
    region: us-east-1
    account: "222222222222"
    overrides:
      buckets:
        docs:
          replication:
            destination_bucket: docs-dr
            replica_kms_key_arn: arn:aws:kms:us-west-2:222222222222:key/dr
            delete_marker_replication: true
            replication_time: true
            replica_modifications: true
      add:
        buckets:
          docs-dr:
            region: us-west-2
            encryption: {type: sse-kms, kms_key_arn: "arn:aws:kms:us-west-2:222222222222:key/dr"}
            object_lock: {mode: COMPLIANCE, days: 30}
        tables:
          sessions-dr: {region: us-west-2, hash_key: {name: id}}
buckets:
  docs:
    encryption: {type: sse-kms, kms_key_arn: "arn:aws:kms:us-east-1:222222222222:key/main"}
    object_lock: {mode: COMPLIANCE, days: 30}
tables:
  sessions: {hash_key: {name: id}}
principals:
  app:
    grants:
      - {bucket: docs, actions: [read]}
      - {table: sessions, actions: [read]}
"""
)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.fixture
def problems_of(write_config: Callable[..., Path]) -> Callable[[str], list[Problem]]:
    def load(text: str) -> list[Problem]:
        with pytest.raises(ConfigError) as caught:
            load_project(write_config(text))
        return list(caught.value.problems)

    return load


def test_an_environment_only_bucket_in_another_region(write_config: Callable[..., Path]) -> None:
    project = load_project(write_config(DR))
    dev, prod = project.environment("dev"), project.environment("prod")
    assert list(dev.buckets) == ["docs"] and list(dev.tables) == ["sessions"]
    assert list(prod.buckets) == ["docs", "docs-dr"] and list(prod.tables) == ["sessions", "sessions-dr"]
    dr = prod.buckets["docs-dr"]
    # `{region}` in the name template is the resource's own region
    assert (dr.region, dr.name) == ("us-west-2", "demo-prod-docs-dr-us-west-2")
    assert (prod.buckets["docs"].region, prod.buckets["docs"].name) == ("us-east-1", "demo-prod-docs-us-east-1")
    table = prod.tables["sessions-dr"]
    assert table.arn == "arn:aws:dynamodb:us-west-2:222222222222:table/demo-prod-sessions-dr-us-west-2"
    assert prod.regions == ["us-east-1", "us-west-2"] and dev.regions == ["us-east-1"]


def test_rendered_with_regions_and_the_resolved_destination(write_config: Callable[..., Path]) -> None:
    prod = load_project(write_config(DR)).environment("prod")
    variables = tfvars(prod)
    assert variables["buckets"]["docs-dr"]["region"] == "us-west-2"
    assert variables["buckets"]["docs"]["region"] == "us-east-1"  # spelled out, never left to the provider
    assert variables["tables"]["sessions-dr"]["region"] == "us-west-2"
    assert variables["buckets"]["docs"]["replication"] == {
        "destination_bucket_arn": "arn:aws:s3:::demo-prod-docs-dr-us-west-2",
        "storage_class": "STANDARD",
        "prefix": "",
        "replica_kms_key_arn": "arn:aws:kms:us-west-2:222222222222:key/dr",
        "role_arn": None,
        "delete_marker_replication": True,
        "replication_time": True,
        "metrics": True,  # S3 Replication Time Control requires metrics
        "replica_modifications": True,
    }
    state = desired_state(prod)["buckets"]["docs"]["replication"]
    assert state["role"] == "arn:aws:iam::222222222222:role/s3rep-demo-prod-docs-us-east-1"
    assert state["sse_kms_encrypted_objects"] is True
    addresses = {r.address for r in declared_resources(prod)}
    assert 'module.buckets["docs"].aws_iam_role.replication[0]' in addresses
    assert 'module.buckets["docs-dr"].aws_s3_bucket_object_lock_configuration.this[0]' in addresses
    assert 'module.tables["sessions-dr"].aws_dynamodb_table.this' in addresses


def test_a_role_of_ones_own_replaces_the_generated_one(write_config: Callable[..., Path]) -> None:
    text = DR.replace(
        "            replica_modifications: true\n",
        "            replica_modifications: true\n"
        "            role_arn: arn:aws:iam::222222222222:role/s3-replication\n",
    )
    prod = load_project(write_config(text)).environment("prod")
    addresses = {r.address for r in declared_resources(prod)}
    assert 'module.buckets["docs"].aws_s3_bucket_replication_configuration.this[0]' in addresses
    assert not {a for a in addresses if "aws_iam_role" in a and "docs" in a}
    assert (
        desired_state(prod)["buckets"]["docs"]["replication"]["role"] == "arn:aws:iam::222222222222:role/s3-replication"
    )


def test_problems_in_an_added_resource_point_at_the_override(problems_of: Callable[[str], list[Problem]]) -> None:
    text = DR.replace(
        "            object_lock: {mode: COMPLIANCE, days: 30}\n        tables:",
        "            object_lock: {mode: FOREVER, days: 30}\n        tables:",
    ).replace("sessions-dr: {region: us-west-2, hash_key: {name: id}}", "sessions-dr: {region: moon-base-1}")
    problems = problems_of(text)
    located = {(p.path, p.line) for p in problems}
    assert ("environments.prod.overrides.add.buckets.docs-dr.object_lock.mode", line_of(text, "FOREVER")) in located
    assert ("environments.prod.overrides.add.tables.sessions-dr.region", line_of(text, "moon-base-1")) in located
    assert (
        "environments.prod.overrides.add.tables.sessions-dr",
        line_of(text, "moon-base-1"),
    ) in located  # no hash_key


def test_adding_a_shared_key_is_refused(problems_of: Callable[[str], list[Problem]]) -> None:
    text = DR.replace("        tables:\n          sessions-dr:", "        tables:\n          sessions:")
    [problem] = [p for p in problems_of(text) if "already a shared" in p.message]
    assert problem.path == "environments.prod.overrides.add.tables.sessions"
    assert problem.line == line_of(text, "          sessions: {region")
    assert "overrides: {tables: {sessions:" in (problem.hint or "")


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (
            ("destination_bucket: docs-dr", "destination_bucket: docs-rd"),
            "destination_bucket",
            "did you mean 'docs-dr'",
        ),
        (
            ("destination_bucket: docs-dr", "destination_bucket: docs"),
            "destination_bucket",
            "cannot replicate to itself",
        ),
        (
            (
                "destination_bucket: docs-dr",
                "destination_bucket: docs-dr\n            destination_bucket_arn: arn:aws:s3:::x-y-z",
            ),
            "",
            "names its destination once",
        ),
        (("destination_bucket: docs-dr", "storage_class: STANDARD"), "", "needs a destination"),
        (
            ("            object_lock: {mode: COMPLIANCE, days: 30}\n        tables", "        tables"),
            "destination_bucket",
            "no object lock",
        ),
        (
            ("region: us-west-2\n            encryption", "region: eu-west-1\n            encryption"),
            "replica_kms_key_arn",
            "destination 'docs-dr' is in eu-west-1",
        ),
        (
            (
                "            object_lock: {mode: COMPLIANCE, days: 30}\n        tables",
                "            versioning: false\n        tables",
            ),
            "destination_bucket",
            "not versioned",
        ),
    ],
)
def test_replication_rules(
    change: tuple[str, str], where: str, message: str, problems_of: Callable[[str], list[Problem]]
) -> None:
    old, new = change
    assert old in DR
    text = DR.replace(old, new)
    problems = [p for p in problems_of(text) if message in p.message]
    assert problems, [p.message for p in problems_of(text)]
    # at the override's own lines (replication is written there)
    assert problems[0].path == "environments.prod.overrides.buckets.docs.replication" + (f".{where}" if where else "")
    assert problems[0].line > 0


def test_a_region_outside_the_partition(problems_of: Callable[[str], list[Problem]]) -> None:
    text = DR.replace("sessions-dr: {region: us-west-2,", "sessions-dr: {region: cn-north-1,")
    [problem] = [p for p in problems_of(text) if "partition" in p.message]
    assert "cn-north-1 is in partition aws-cn" in problem.message
    assert problem.line == line_of(text, "cn-north-1")


def test_an_environment_only_principal_and_its_grants(write_config: Callable[..., Path]) -> None:
    text = DR.replace(
        "        tables:\n          sessions-dr:",
        "        principals:\n          dr-reader: {grants: [{bucket: docs-dr, actions: [read]}]}\n"
        "        tables:\n          sessions-dr:",
    )
    project = load_project(write_config(text))
    prod = project.environment("prod")
    assert "dr-reader" in prod.principals and "dr-reader" not in project.environment("dev").principals
    objects, key = prod.principals["dr-reader"].policy["Statement"]
    assert objects["Resource"] == ["arn:aws:s3:::demo-prod-docs-dr-us-west-2/*"]
    # the DR bucket's key, used through S3 in the DR bucket's own region
    assert (key["Action"], key["Resource"]) == (["kms:Decrypt"], ["arn:aws:kms:us-west-2:222222222222:key/dr"])
    assert key["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}}


def test_a_shared_grant_on_an_environment_only_bucket(problems_of: Callable[[str], list[Problem]]) -> None:
    text = DR.replace("      - {bucket: docs, actions: [read]}", "      - {bucket: docs-dr, actions: [read]}")
    [problem] = [p for p in problems_of(text) if "docs-dr" in p.message]
    # only dev lacks the bucket: the problem says which environment
    assert "no bucket named 'docs-dr'" in problem.message and "(in environment 'dev'" in problem.message
    assert problem.line == line_of(text, "{bucket: docs-dr, actions: [read]}")

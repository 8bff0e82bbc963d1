"""The plan rules every resource shares, and the wire format of unknown values."""

from __future__ import annotations

from typing import Any

import pytest
from tf.gen import tfplugin_pb2 as pb

from toolkit.tfprovider import schema, values
from toolkit.tfprovider.server import loopback_problem

BUCKET = schema.resource_schema("aws_s3_bucket")
ALL_EMULATOR = dict.fromkeys(("s3", "dynamodb", "iam", "sts", "applicationautoscaling", "kms"), "http://127.0.0.1:5000")


def plan(prior: dict[str, Any] | None, proposed: dict[str, Any], **kw: Any) -> tuple[dict[str, Any], list[str]]:
    base = {"region": "eu-west-1", "default_tags": {"ManagedBy": "cargohold"}, "replace_on": frozenset({"bucket"})}
    return values.plan(BUCKET, prior, proposed, **{**base, **kw})


def test_create_marks_computed_attributes_unknown_and_knows_region_and_tags_all() -> None:
    proposed = schema.shape(BUCKET, {"bucket": "b", "tags": {"team": "x"}})
    assert proposed is not None
    planned, replace = plan(None, proposed)
    assert replace == []
    assert planned["arn"] is values.UNKNOWN and planned["id"] is values.UNKNOWN
    assert planned["region"] == "eu-west-1"
    assert planned["tags_all"] == {"ManagedBy": "cargohold", "team": "x"}
    assert planned["bucket"] == "b" and planned["force_destroy"] is None  # optional, not computed: stays null


def test_update_forces_replacement_only_for_replace_on_arguments() -> None:
    prior = schema.shape(BUCKET, {"bucket": "b", "id": "b", "arn": "arn:aws:s3:::b", "force_destroy": False})
    assert prior is not None
    _, replace = plan(prior, {**prior, "force_destroy": True})
    assert replace == []
    _, replace = plan(prior, {**prior, "bucket": "c"})
    assert replace == ["bucket"]


def test_null_and_empty_are_the_same_argument() -> None:
    prior = schema.shape(BUCKET, {"bucket": "b", "id": "b", "tags": None})
    assert prior is not None
    planned, _ = plan(prior, {**prior, "tags": {}})
    assert planned["tags"] is None  # no "{} -> null" change shown for nothing


def test_unknown_values_round_trip_through_msgpack() -> None:
    value = {"a": values.UNKNOWN, "b": [1, "x", None], "c": {"k": True}}
    assert values.decode(values.encode(value, pb)) == value
    assert values.applied({"a": values.UNKNOWN, "b": 2}, {"a": "made", "b": 3}) == {"a": "made", "b": 2}


@pytest.mark.parametrize(
    ("endpoints", "expected"),
    [
        (ALL_EMULATOR, None),
        ({**ALL_EMULATOR, "s3": "http://localhost:4566"}, None),
        ({**ALL_EMULATOR, "iam": "https://iam.amazonaws.com"}, "not on loopback"),
        ({k: v for k, v in ALL_EMULATOR.items() if k != "sts"}, "no endpoint for sts"),
    ],
)
def test_only_a_loopback_emulator_is_accepted(endpoints: dict[str, str], expected: str | None) -> None:
    problem = loopback_problem(endpoints)
    assert (problem is None) if expected is None else (expected in (problem or ""))


def test_served_schema_carries_the_real_nesting_and_flags() -> None:
    block = schema.block_pb(schema.resource_schema("aws_s3_bucket_lifecycle_configuration"), "x", pb)
    rule = next(b for b in block.block_types if b.type_name == "rule")
    assert rule.nesting == pb.Schema.NestedBlock.LIST and rule.max_items == 0
    versioning = schema.block_pb(schema.resource_schema("aws_s3_bucket_versioning"), "x", pb)
    config = next(b for b in versioning.block_types if b.type_name == "versioning_configuration")
    assert (config.max_items, config.min_items) == (1, 1)  # a required "single" block: a list of exactly one
    table = schema.block_pb(schema.resource_schema("aws_dynamodb_table"), "aws_dynamodb_table", pb)
    gsi = next(b for b in table.block_types if b.type_name == "global_secondary_index")
    assert gsi.nesting == pb.Schema.NestedBlock.SET
    hash_key = next(a for a in gsi.block.attributes if a.name == "hash_key")
    assert hash_key.deprecated  # deprecated.json, so Terraform warns as it would with HashiCorp's provider

"""What a plan summary says of each change: the settings a create makes, what an update changes (policy
documents statement by statement), what forces a replacement; secrets hidden. Pure: `show -json` input."""

from __future__ import annotations

import json

from toolkit.terraform.plan import attribute_changes, render, summarize


def test_create_lists_its_settings_and_not_the_computed_noise() -> None:
    change = {
        "actions": ["create"],
        "before": None,
        "after": {
            "name": "t",
            "hash_key": "id",
            "attribute": [{"name": "id", "type": "S"}],
            "tags_all": {"Project": "p"},
            "region": "us-east-1",
        },
        "after_unknown": {"arn": True, "id": True},
    }
    shown = {a.path: a.after for a in attribute_changes(change, "create")}
    assert shown == {"name": "t", "hash_key": "id", "attribute[0].name": "id", "attribute[0].type": "S"}


def test_update_lists_changed_leaves_and_policy_statements_by_sid() -> None:
    old = {"Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    new = {"Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    change = {
        "actions": ["delete", "create"],
        "before": {"name": "a", "path": "/", "policy": json.dumps(old), "secret": "x"},
        "after": {"name": "b", "path": "/", "policy": json.dumps(new), "secret": "y"},
        "after_sensitive": {"secret": True},
        "replace_paths": [["name"]],
    }
    summary = summarize(
        {"resource_changes": [{"address": "aws_iam_policy.this", "type": "aws_iam_policy", "change": change}]}
    )
    (resource,) = summary.changes
    paths = {a.path: a for a in resource.attributes}
    assert set(paths) == {"name", "policy.Read", "secret"}
    assert paths["name"].forces_replacement and not paths["policy.Read"].forces_replacement
    assert (paths["secret"].before, paths["secret"].after) == ("(sensitive)", "(sensitive)")
    assert "s3:*" in paths["policy.Read"].after and "s3:GetObject" in paths["policy.Read"].before
    lines = render(summary)
    assert lines[0] == "-/+ replace  aws_iam_policy.this (forced by: name)"
    assert lines[1] == "        name: 'a' -> 'b'  # forces replacement"
    assert json.loads(json.dumps(summary.to_json()))["changes"][0]["attributes"][0]["path"] == "name"

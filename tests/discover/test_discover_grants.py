"""Without AWS: policy documents back into grants (exact or not at all), and the fragment's safety net."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cargohold_core.config import load_project
from toolkit.discover.grants import Targets, parse_grants, render
from toolkit.discover.read import Discovered, Discovery
from toolkit.discover.write import load_discovered, render_fragment

T = Targets(buckets={"b-docs": "docs"}, tables={"t-users": "users"}, region="us-east-1", account="123456789012")
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/t-users"


@pytest.mark.parametrize(
    "grants",
    [
        [{"bucket": "docs", "actions": ["read", "write", "delete", "list", "locate"]}],
        [{"bucket": "docs", "prefix": "uploads/", "actions": ["write", "list", "locate"]}],
        [{"bucket": "docs", "prefix": "a/", "actions": ["read"]}, {"bucket": "docs", "actions": ["list"]}],
        [{"table": "users", "actions": ["read"]}, {"bucket": "docs", "actions": ["locate"]}],
    ],
)
def test_cargohold_policies_come_back_as_the_same_grants(grants: list[dict[str, Any]]) -> None:
    parsed = parse_grants(render(grants, T), T)
    assert (parsed.exact, parsed.same_layout, parsed.problems) == (True, True, [])
    assert render(parsed.grants, T) == render(grants, T)


def test_a_hand_written_equivalent_is_exact_but_rewritten() -> None:
    doc = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b-docs"},
            {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": ["arn:aws:s3:::b-docs/*"]},
        ]
    }
    parsed = parse_grants(doc, T)
    assert parsed.exact and not parsed.same_layout
    assert parsed.grants == [{"bucket": "docs", "actions": ["read", "write", "list"]}]


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, "wildcard action s3:*"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, 'Resource "*"'),
        ({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b-docs/*"}, "denies"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}, "not among the discovered"),
        ({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:1:q"}, "vocabulary"),
        ({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE}, "would add dynamodb:"),
    ],
)
def test_what_grants_cannot_say_is_reported(statement: dict[str, Any], problem: str) -> None:
    parsed = parse_grants({"Statement": [statement]}, T)
    assert not parsed.exact
    assert problem in " ".join(parsed.problems)


def test_a_narrower_table_policy_suggests_the_nearest_grant() -> None:
    doc = {"Statement": [{"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": [TABLE, f"{TABLE}/index/*"]}]}
    parsed = parse_grants(doc, T)
    assert not parsed.exact and parsed.grants == [{"table": "users", "actions": ["read"]}]


def test_a_resource_config_yaml_would_refuse_becomes_a_comment(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        'version: 1\nproject: shop\nenvironments:\n  test: {region: us-east-1, account: "123456789012"}\n',
        encoding="utf-8",
    )
    project = load_project(config)
    found = Discovery("shop", "test", "us-east-1", "123456789012", include_declared=False)
    # Versioning suspended, but a noncurrent-version rule left over: AWS keeps it, config.yaml refuses it.
    rule = {"id": "old", "noncurrent_expiration_days": 30}
    found.buckets["old"] = Discovered("buckets", "old", "old-bucket", {"name": "old-bucket", "lifecycle": [rule]})
    found.buckets["ok"] = Discovered("buckets", "ok", "ok-bucket", {"name": "ok-bucket"})
    found.buckets["old"].spec["versioning"] = False
    env = load_discovered(project, found)
    assert list(env.buckets) == ["ok"]
    assert found.buckets["old"].omitted and "noncurrent-version rules need versioning" in found.buckets["old"].omitted
    assert "  # LEFT OUT: config.yaml would refuse it" in render_fragment(found)

"""KMS in grants: the statements each grant word brings on the key that protects the data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cargohold_core.config import load_project
from cargohold_core.config.model import Environment
from cargohold_core.errors import ConfigError

KEY = "arn:aws:kms:eu-west-1:111111111111:key/1111aaaa-22bb-33cc-44dd-555555eeeeee"
TABLE_KEY = "arn:aws:kms:eu-west-1:111111111111:key/9999ffff-22bb-33cc-44dd-555555eeeeee"
OTHER_KEY = "arn:aws:kms:eu-west-1:222222222222:key/0000bbbb-22bb-33cc-44dd-555555eeeeee"
S3_VIA = {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}
DDB_VIA = {"StringEquals": {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"}}

HEAD = f"""\
version: 1
project: demo
environments:
  dev: {{region: eu-west-1, account: "111111111111"}}
buckets:
  plain: {{}}
  managed: {{encryption: {{type: sse-kms}}}}
  sealed: {{encryption: {{type: sse-kms, kms_key_arn: "{KEY}"}}}}
  aliased: {{encryption: {{type: sse-kms, kms_key_arn: "arn:aws:kms:eu-west-1:111111111111:alias/data"}}}}
tables:
  owned: {{hash_key: {{name: id}}}}
  aws-key: {{hash_key: {{name: id}}, encryption: {{type: aws-managed}}}}
  cmk: {{hash_key: {{name: id}}, encryption: {{type: customer-kms, kms_key_arn: "{TABLE_KEY}"}}}}
principals:
  app:
    grants:
"""


@pytest.fixture
def kms_of(write_config: Callable[..., Path]) -> Callable[[str], list[dict[str, Any]]]:
    """The KMS statements of one principal whose grants are `grants` (YAML flow lines)."""

    def policy(grants: str) -> list[dict[str, Any]]:
        env: Environment = load_project(write_config(HEAD + grants)).environments["dev"]
        return [s for s in env.principals["app"].policy["Statement"] if s["Sid"].endswith("Kms")]

    return policy


def kms(sid: str, actions: list[str], resource: str, condition: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": [resource]}
    if condition:
        out["Condition"] = condition
    return out


@pytest.mark.parametrize(
    ("words", "actions"),
    [
        ("[read]", ["kms:Decrypt"]),
        # PutObject with SSE-KMS needs GenerateDataKey; a multipart upload also needs Decrypt
        ("[write]", ["kms:Decrypt", "kms:GenerateDataKey"]),
        ("[read, write, delete, list, locate]", ["kms:Decrypt", "kms:GenerateDataKey"]),
        ("[delete]", None),
        ("[list, locate]", None),
    ],
)
def test_bucket_words_on_a_customer_key(
    kms_of: Callable[[str], list[dict[str, Any]]], words: str, actions: list[str] | None
) -> None:
    got = kms_of(f"      - {{bucket: sealed, actions: {words}}}\n")
    assert got == ([kms("G0Kms", actions, KEY, S3_VIA)] if actions else [])


@pytest.mark.parametrize("bucket", ["plain", "managed"])
def test_sse_s3_and_the_aws_managed_key_need_no_kms_statement(
    kms_of: Callable[[str], list[dict[str, Any]]], bucket: str
) -> None:
    assert kms_of(f"      - {{bucket: {bucket}, actions: [read, write]}}\n") == []


@pytest.mark.parametrize(
    ("words", "actions"),
    [("[read]", ["kms:Decrypt"]), ("[write]", ["kms:Decrypt"]), ("[read, write]", ["kms:Decrypt"])],
)
def test_table_words_on_a_customer_key(
    kms_of: Callable[[str], list[dict[str, Any]]], words: str, actions: list[str]
) -> None:
    assert kms_of(f"      - {{table: cmk, actions: {words}}}\n") == [kms("G0Kms", actions, TABLE_KEY, DDB_VIA)]


@pytest.mark.parametrize("table", ["owned", "aws-key"])
def test_aws_owned_and_aws_managed_table_keys_need_no_kms_statement(
    kms_of: Callable[[str], list[dict[str, Any]]], table: str
) -> None:
    assert kms_of(f"      - {{table: {table}, actions: [read, write]}}\n") == []


def test_an_alias_becomes_the_keys_that_carry_it(kms_of: Callable[[str], list[dict[str, Any]]]) -> None:
    assert kms_of("      - {bucket: aliased, actions: [read]}\n") == [
        kms(
            "G0Kms",
            ["kms:Decrypt"],
            "arn:aws:kms:eu-west-1:111111111111:key/*",
            {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/data"}, **S3_VIA},
        )
    ]


def test_an_explicit_key_replaces_the_resources_key(kms_of: Callable[[str], list[dict[str, Any]]]) -> None:
    got = kms_of(
        f'      - {{bucket: plain, actions: [read], kms_key_arn: "{OTHER_KEY}"}}\n'
        f'      - {{table: cmk, actions: [write], kms_key_arn: "{OTHER_KEY}"}}\n'
    )
    assert got == [kms("G0Kms", ["kms:Decrypt"], OTHER_KEY, S3_VIA), kms("G1Kms", ["kms:Decrypt"], OTHER_KEY, DDB_VIA)]


def test_client_side_encryption_calls_kms_directly(kms_of: Callable[[str], list[dict[str, Any]]]) -> None:
    got = kms_of(
        f'      - {{bucket: plain, actions: [read, write], kms_key_arn: "{OTHER_KEY}", client_side_encryption: true}}\n'
        f'      - {{table: owned, actions: [write], kms_key_arn: "{OTHER_KEY}", client_side_encryption: true}}\n'
        f'      - {{table: owned, actions: [read], kms_key_arn: "{OTHER_KEY}", client_side_encryption: true}}\n'
    )
    assert got == [
        kms("G0Kms", ["kms:Decrypt", "kms:GenerateDataKey"], OTHER_KEY, None),
        kms("G1Kms", ["kms:GenerateDataKey"], OTHER_KEY, None),
        kms("G2Kms", ["kms:Decrypt"], OTHER_KEY, None),
    ]


def test_the_kms_statement_follows_the_grants_own(write_config: Callable[..., Path]) -> None:
    env = load_project(
        write_config(
            HEAD + "      - {bucket: sealed, prefix: in/, actions: [write, list]}\n"
            "      - {table: cmk, actions: [read]}\n"
        )
    ).environments["dev"]
    sids = [s["Sid"] for s in env.principals["app"].policy["Statement"]]
    assert sids == ["G0Objects", "G0Bucket", "G0Kms", "G1Table", "G1Kms"]


@pytest.mark.parametrize(
    ("grant", "path", "message"),
    [
        (
            "{bucket: plain, actions: [read], client_side_encryption: true}",
            "principals.app.grants[0].client_side_encryption",
            "needs the key",
        ),
        (
            f'{{bucket: plain, actions: [list, delete], kms_key_arn: "{KEY}"}}',
            "principals.app.grants[0].kms_key_arn",
            "uses a KMS key",
        ),
        (
            '{bucket: plain, actions: [read], kms_key_arn: "arn:aws:kms:eu-west-1:1:key/x"}',
            "principals.app.grants[0].kms_key_arn",
            "KMS key or alias ARN",
        ),
    ],
)
def test_grant_key_mistakes_are_located(write_config: Callable[..., Path], grant: str, path: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_project(write_config(HEAD + f"      - {grant}\n"))
    problems = caught.value.problems
    assert any(p.path == path and message in p.message for p in problems), [p.render() for p in problems]

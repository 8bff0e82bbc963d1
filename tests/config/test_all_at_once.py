"""Every problem in one run: the rules run on whatever part of a resource or environment parsed, beside the
schema's errors, and say nothing about the parts that did not (a rule there would only see a default)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cargohold_core.config import load_project
from cargohold_core.errors import ConfigError

HEAD = """\
version: 1
project: demo
environments:
  dev:
    region: us-east-1
    account: "111111111111"
"""
GRANT = "grants: [{bucket: b, actions: [read]}]"

# (id, body after HEAD, the key paths reported: each problem once, none a follow-on of another)
CASES = [
    (
        "misspelt-key-and-bad-name-in-one-bucket",
        "buckets:\n  b:\n    versoning: true\n    name: Bad_Name\n",
        ["buckets.b", "buckets.b.versoning"],
    ),
    (
        "misspelt-key-and-bad-template-name",
        "buckets:\n  Bad_Key: {versoning: true}\n",
        ["buckets.Bad_Key", "buckets.Bad_Key.versoning"],
    ),
    (
        "misspelt-key-and-a-rule-beside-it",
        "buckets:\n  b:\n    versoning: true\n    lifecycle: [{id: x}]\n",
        ["buckets.b.versoning", "buckets.b.lifecycle[0]"],
    ),
    (
        "bad-value-and-a-rule-beside-it",
        "buckets:\n  b:\n    versioning: maybe\n"
        "    encryption: {type: sse-s3, kms_key_arn: 'arn:aws:kms:us-east-1:111111111111:key/k'}\n",
        ["buckets.b.versioning", "buckets.b.encryption.kms_key_arn"],
    ),
    (
        "bad-value-inside-a-part-mutes-that-part-only",
        "buckets:\n  b:\n"
        "    encryption: {type: sse-kmss, kms_key_arn: 'arn:aws:kms:us-east-1:111111111111:key/k'}\n"
        "    public_read_prefix: '*'\n",
        ["buckets.b.encryption.type", "buckets.b.public_read_prefix"],
    ),
    (
        "bad-billing-says-nothing-about-capacity",
        "tables:\n  t:\n    hash_key: {name: id}\n    billing: provisionned\n"
        "    capacity: {read: 1, write: 1}\n    global_indexes:\n"
        "      - {name: by-x, hash_key: {name: x}, capacity: {read: 1, write: 1}}\n",
        ["tables.t.billing"],
    ),
    (
        "misspelt-billing-says-nothing-about-capacity",
        "tables:\n  t:\n    hash_key: {name: id}\n    billng: provisioned\n    capacity: {read: 1, write: 1}\n",
        ["tables.t.billng"],
    ),
    (
        "bad-kind-says-nothing-about-assume-role",
        "buckets:\n  b: {}\nprincipals:\n  p:\n    kind: rol\n"
        f"    assume_role_services: [ecs-tasks.amazonaws.com]\n    {GRANT}\n",
        ["principals.p.kind"],
    ),
    ("bad-grants-is-not-also-no-grants", "principals:\n  p:\n    grants: 5\n", ["principals.p.grants"]),
    (
        "bad-trust-is-not-also-no-trust",
        "buckets:\n  b: {}\nprincipals:\n  p:\n    kind: role\n"
        f"    assume_role_services: [not a service]\n    {GRANT}\n",
        ["principals.p.assume_role_services[0]"],
    ),
    (
        "a-name-that-is-no-text-is-not-also-a-template-name",
        "buckets:\n  Bad_Key:\n    name: [x]\n",
        ["buckets.Bad_Key.name"],
    ),
    (
        "table-without-hash-key-still-has-its-name-checked",
        "tables:\n  Bad_Table!: {range_key: {name: r}}\n",
        ["tables.Bad_Table!", "tables.Bad_Table!"],
    ),
    (
        "environment-with-a-misspelt-key-still-checks-its-role",
        "    regoin: us-east-2\n    assume_role: {role_arn: 'arn:aws:iam::222222222222:role/deploy'}\n",
        ["environments.dev.regoin", "environments.dev.assume_role.role_arn"],
    ),
    (
        "environment-without-a-region-checks-no-key-against-it",
        "buckets:\n  b:\n    encryption: {type: sse-kms, kms_key_arn: 'arn:aws:kms:eu-west-1:111111111111:key/k'}\n",
        ["environments.dev.region"],
    ),
    (
        "an-invalid-project-is-not-repeated-in-every-name",
        "buckets:\n  photos: {}\n  Bad_Key: {}\n",
        ["project", "buckets.Bad_Key"],
    ),
]


@pytest.mark.parametrize(("body", "paths"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_every_problem_is_reported_once_and_no_follow_on(
    write_config: Callable[..., Path], request: pytest.FixtureRequest, body: str, paths: list[str]
) -> None:
    text = HEAD + body
    case = request.node.callspec.id
    if case == "environment-without-a-region-checks-no-key-against-it":
        text = text.replace("    region: us-east-1\n", "    region: us-east\n")
    if case == "an-invalid-project-is-not-repeated-in-every-name":
        text = text.replace("project: demo", "project: Demo")
    with pytest.raises(ConfigError) as caught:
        load_project(write_config(text))
    problems = caught.value.problems
    assert sorted(p.path for p in problems) == sorted(paths), "\n".join(p.render() for p in problems)
    assert len(set(problems)) == len(problems)

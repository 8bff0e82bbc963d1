"""Settings AWS or Terraform would refuse at plan or apply (or accept and never honour): each is
reported by `cargohold validate` at its line and key, with a hint, and exits 1.

Expected lines are found in each case's own YAML (`line_of`), never copied from the loader.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from cargohold_core.config import load_project
from cargohold_core.config.rules import KNOWN_SERVICES
from cargohold_core.errors import ConfigError
from toolkit.cli import main

HEAD = """\
version: 1
project: demo
environments:
  dev:
    region: us-east-1
    account: "111111111111"
"""

KEY = "arn:aws:kms:us-east-1:111111111111:key/abc"

# (id, body after HEAD, needle on the problem's line, key path, words in message or hint)
REFUSED = [
    (
        "replication-sse-kms-without-replica-key",
        "buckets:\n  b:\n    encryption: {type: sse-kms}\n"
        "    replication: {destination_bucket_arn: 'arn:aws:s3:::elsewhere'}\n",
        "replication:",
        "buckets.b.replication.replica_kms_key_arn",
        ("KMS key for the replicas", "replica_kms_key_arn:"),
    ),
    (
        "log-target-sse-kms",
        "buckets:\n  logs:\n    encryption: {type: sse-kms}\n  app:\n    access_logging: {target_bucket: logs}\n",
        "target_bucket: logs",
        "buckets.app.access_logging.target_bucket",
        ("'logs' is encrypted with sse-kms", "only to an SSE-S3 bucket", "type: sse-s3"),
    ),
    (
        "log-target-object-lock",
        "buckets:\n  logs:\n    object_lock: {mode: GOVERNANCE, days: 1}\n"
        "  app:\n    access_logging: {target_bucket: logs}\n",
        "target_bucket: logs",
        "buckets.app.access_logging.target_bucket",
        ("object lock with a default retention", "without `object_lock`"),
    ),
    (
        "log-target-named-by-its-aws-name",
        "buckets:\n  logs:\n    encryption: {type: sse-kms}\n"
        "  app:\n    access_logging: {target_bucket: demo-dev-logs}\n",
        "target_bucket: demo-dev-logs",
        "buckets.app.access_logging.target_bucket",
        ("'demo-dev-logs' (bucket 'logs')", "sse-kms"),
    ),
    (
        "log-target-typo-of-a-key",
        "buckets:\n  access-logs: {}\n  app:\n    access_logging: {target_bucket: acces-logs}\n",
        "target_bucket: acces-logs",
        "buckets.app.access_logging.target_bucket",
        ("did you mean 'access-logs'?", "outside this config", "`target_bucket: access-logs`"),
    ),
    (
        "log-target-typo-of-an-aws-name",
        "buckets:\n  access-logs: {}\n  app:\n    access_logging: {target_bucket: demo-dev-acces-logs}\n",
        "target_bucket: demo-dev-acces-logs",
        "buckets.app.access_logging.target_bucket",
        ("did you mean 'demo-dev-access-logs' (bucket 'access-logs')?", "target_bucket: access-logs"),
    ),
    (
        "bucket-kms-key-other-region",
        "buckets:\n  b:\n    encryption:\n"
        "      type: sse-kms\n      kms_key_arn: 'arn:aws:kms:eu-west-1:111111111111:key/abc'\n",
        "kms_key_arn",
        "buckets.b.encryption.kms_key_arn",
        ("region eu-west-1", "bucket is in us-east-1", "key in us-east-1"),
    ),
    (
        "bucket-kms-key-other-account",
        "buckets:\n  b:\n    encryption: {type: sse-kms, kms_key_arn: 'arn:aws:kms:us-east-1:999999999999:alias/k'}\n",
        "kms_key_arn",
        "buckets.b.encryption.kms_key_arn",
        ("account 999999999999", "key in account 111111111111"),
    ),
    (
        "bucket-kms-key-other-partition",
        "buckets:\n  b:\n"
        "    encryption: {type: sse-kms, kms_key_arn: 'arn:aws-cn:kms:us-east-1:111111111111:key/abc'}\n",
        "kms_key_arn",
        "buckets.b.encryption.kms_key_arn",
        ("partition aws-cn", "arn:aws:kms:"),
    ),
    (
        "table-kms-key-other-region",
        "tables:\n  t:\n    hash_key: {name: id}\n"
        "    encryption: {type: customer-kms, kms_key_arn: 'arn:aws:kms:us-west-2:111111111111:key/abc'}\n",
        "kms_key_arn",
        "tables.t.encryption.kms_key_arn",
        ("region us-west-2", "table is in us-east-1"),
    ),
    (
        "table-kms-key-other-account",
        "tables:\n  t:\n    hash_key: {name: id}\n"
        "    encryption: {type: customer-kms, kms_key_arn: 'arn:aws:kms:us-east-1:222222222222:key/abc'}\n",
        "kms_key_arn",
        "tables.t.encryption.kms_key_arn",
        ("account 222222222222", "account 111111111111"),
    ),
    (
        "bucket-replicates-to-itself",
        "buckets:\n  b:\n    replication: {destination_bucket_arn: 'arn:aws:s3:::demo-dev-b'}\n",
        "replication:",
        "buckets.b.replication.destination_bucket_arn",
        ("replicates into itself", "another bucket"),
    ),
    (
        "replication-into-an-unversioned-bucket",
        "buckets:\n  copy: {versioning: false}\n  b:\n"
        "    replication: {destination_bucket_arn: 'arn:aws:s3:::demo-dev-copy'}\n",
        "demo-dev-copy",
        "buckets.b.replication.destination_bucket_arn",
        ("bucket 'copy', which has versioning off", "versioning: true"),
    ),
    (
        "deep-archive-not-after-archive",
        "buckets:\n  b:\n    intelligent_tiering:\n"
        "      archive_access_days: 200\n      deep_archive_access_days: 180\n",
        "deep_archive_access_days",
        "buckets.b.intelligent_tiering.deep_archive_access_days",
        ("after 180 days", "Archive Access (200 days)", "greater than 200"),
    ),
    (
        "intelligent-tiering-without-a-tier",
        "buckets:\n  b:\n    intelligent_tiering: {prefix: old/}\n",
        "intelligent_tiering",
        "buckets.b.intelligent_tiering",
        ("at least one archive tier", "archive_access_days:"),
    ),
    (
        "cors-origin-trailing-slash",
        "buckets:\n  b:\n    cors:\n      - allowed_origins: ['https://app.example.com/']\n"
        "        allowed_methods: [GET]\n",
        "app.example.com",
        "buckets.b.cors[0].allowed_origins[0]",
        ("has a path", "matches no request", "write 'https://app.example.com'"),
    ),
    (
        "cors-origin-with-a-path",
        "buckets:\n  b:\n    cors:\n      - allowed_origins: ['*', 'http://localhost:5173/app']\n"
        "        allowed_methods: [GET]\n",
        "localhost",
        "buckets.b.cors[0].allowed_origins[1]",
        ("write 'http://localhost:5173'",),
    ),
    (
        "service-principal-typo",
        "buckets:\n  b: {}\nprincipals:\n  fn:\n    kind: role\n    assume_role_services: [lamda.amazonaws.com]\n"
        "    grants: [{bucket: b, actions: [read]}]\n",
        "lamda",
        "principals.fn.assume_role_services[0]",
        ("did you mean 'lambda.amazonaws.com'?", "write `lambda.amazonaws.com`"),
    ),
    (
        "service-principal-typo-regional-china",
        "buckets:\n  b: {}\nprincipals:\n  fn:\n    kind: role\n"
        "    assume_role_services: [ec2.amazonaws.com, ecs-task.amazonaws.com.cn]\n"
        "    grants: [{bucket: b, actions: [read]}]\n",
        "ecs-task",
        "principals.fn.assume_role_services[1]",
        ("did you mean 'ecs-tasks.amazonaws.com.cn'?",),
    ),
]


def line_of(text: str, needle: str) -> int:
    hits = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert hits, f"{needle!r} is not in the test's YAML"
    return hits[0]


@pytest.mark.parametrize(("body", "needle", "path", "words"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_each_refused_setting_is_located_with_a_hint(
    write_config: Callable[..., Path], body: str, needle: str, path: str, words: tuple[str, ...]
) -> None:
    text = HEAD + body
    config = write_config(text)
    with pytest.raises(ConfigError) as caught:
        load_project(config)
    problems = caught.value.problems
    assert [p.path for p in problems] == [path], "\n".join(p.render() for p in problems)
    [problem] = problems
    assert problem.line == line_of(text, needle), problem.render()
    assert problem.column >= 1
    assert problem.hint
    said = f"{problem.message} | {problem.hint}"
    for word in words:
        assert word in said, f"{word!r} not in {said!r}"
    result = CliRunner().invoke(main, ["validate", "-c", str(config)], catch_exceptions=False)
    assert result.exit_code == 1
    assert f"{config}:{problem.line}:{problem.column}: {path}: " in result.output
    assert f"hint: {problem.hint}" in result.output


ACCEPTED = {
    "key-in-the-region-and-account": f"buckets:\n  b:\n    encryption: {{type: sse-kms, kms_key_arn: '{KEY}'}}\n"
    f"tables:\n  t:\n    hash_key: {{name: id}}\n    encryption: {{type: customer-kms, kms_key_arn: '{KEY}'}}\n",
    "alias-in-the-account": "buckets:\n  b:\n    encryption:\n      type: sse-kms\n"
    "      kms_key_arn: 'arn:aws:kms:us-east-1:111111111111:alias/app'\n",
    "log-target-sse-s3": "buckets:\n  logs: {versioning: false}\n  app:\n    access_logging: {target_bucket: logs}\n",
    "log-target-outside": "buckets:\n  logs: {}\n  app:\n    access_logging: {target_bucket: acme-central-logs}\n",
    "log-target-outside-short-name-not-near-a-key": "buckets:\n  access-logs: {}\n"
    "  app:\n    access_logging: {target_bucket: weblogs}\n",
    "replication-elsewhere": "buckets:\n  copy: {}\n  b:\n"
    "    replication: {destination_bucket_arn: 'arn:aws:s3:::demo-dev-copy'}\n",
    "tiers-in-order": "buckets:\n  b:\n"
    "    intelligent_tiering: {archive_access_days: 90, deep_archive_access_days: 180}\n",
    "origins-without-paths": "buckets:\n  b:\n    cors:\n"
    "      - allowed_origins: ['*', 'https://app.example.com', 'http://localhost:5173', 'https://*.example.com']\n"
    "        allowed_methods: [GET]\n",
    # known, regional, and unknown-but-far-from-every-known service names: AWS adds services
    "service-principals": "buckets:\n  b: {}\nprincipals:\n  fn:\n    kind: role\n    assume_role_services:\n"
    "      - lambda.amazonaws.com\n      - logs.us-east-1.amazonaws.com\n      - sns.amazonaws.com\n"
    "      - ses.amazonaws.com\n      - quantumledger-next.amazonaws.com\n"
    "    grants: [{bucket: b, actions: [read]}]\n",
}


@pytest.mark.parametrize("body", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_what_aws_accepts_is_not_refused(write_config: Callable[..., Path], body: str) -> None:
    load_project(write_config(HEAD + body))


def test_bucket_region_is_the_one_the_rules_compare() -> None:
    # a bucket's own `region:` (when the schema has one) wins over the environment's
    from cargohold_core.config.rules import resource_region
    from cargohold_core.config.schema import BucketSpec, EnvironmentSpec

    env = EnvironmentSpec(region="us-east-1", account="111111111111")
    assert resource_region(env, BucketSpec()) == "us-east-1"

    class Elsewhere:
        region = "eu-west-1"

    assert resource_region(env, Elsewhere()) == "eu-west-1"


def test_an_override_that_makes_the_log_target_refused_is_located_at_the_override(
    write_config: Callable[..., Path],
) -> None:
    text = (
        HEAD
        + "    overrides:\n      buckets:\n        logs: {encryption: {type: sse-kms}}\n"
        + "  prod:\n    region: us-east-1\n    account: '222222222222'\n"
        + "buckets:\n  logs: {}\n  app:\n    access_logging: {target_bucket: logs}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_project(write_config(text))
    [problem] = caught.value.problems
    assert problem.path == "buckets.app.access_logging.target_bucket"
    assert problem.line == line_of(text, "target_bucket: logs")
    assert "(in environment 'dev', with its overrides)" in problem.message


def test_the_service_list_is_tidy_and_covers_a_storage_apps_roles() -> None:
    path = Path(__file__).resolve().parents[2] / "cargohold_core" / "config" / "service_principals.txt"
    names = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    assert names == sorted(set(names)), "one name per line, sorted, no repeats"
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", n) and "amazonaws" not in n for n in names)
    trusted_by_storage_apps = {
        "lambda",
        "ecs-tasks",
        "ec2",
        "edgelambda",
        "states",
        "events",
        "glue",
        "apigateway",
        "batch",
        "codebuild",
        "scheduler",
        "sagemaker",
        "datasync",
        "transfer",
        "backup",
        "s3",
    }
    assert trusted_by_storage_apps <= KNOWN_SERVICES

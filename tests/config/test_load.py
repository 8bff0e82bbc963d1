"""load_project: good configs resolve as documented; every bad config is reported at its line and key.

Expected lines are found in the test's own YAML text (`line_of`), never copied from the loader.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from cargohold_core.config import load_project
from cargohold_core.errors import ConfigError, Problem

REPO = Path(__file__).resolve().parents[2]
ALL_CONFIGS = [REPO / "config.yaml", *sorted((REPO / "examples").glob("*/config.yaml"))]

HEAD = """\
version: 1
project: demo
environments:
  dev:
    region: us-east-1
    account: "111111111111"
"""


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based number of the nth line of `text` containing `needle`."""
    hits = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= nth, f"{needle!r} occurs {len(hits)} times in the test's YAML"
    return hits[nth - 1]


@pytest.fixture
def problems_of(write_config: Callable[..., Path]) -> Callable[[str], list[Problem]]:
    def load(text: str) -> list[Problem]:
        path = write_config(text)
        with pytest.raises(ConfigError) as caught:
            load_project(path)
        problems = caught.value.problems
        assert problems, "a ConfigError must list at least one problem"
        for problem in problems:
            assert problem.file == str(path)
            assert problem.message
        return problems

    return load


def the_problem(problems: list[Problem], path: str) -> Problem:
    found = [p for p in problems if p.path == path]
    assert found, f"no problem at {path!r}; got {[(p.path, p.message) for p in problems]}"
    return found[0]


def assert_says(problem: Problem, *words: str) -> None:
    said = f"{problem.message} | {problem.hint or ''}"
    for word in words:
        assert word in said, f"{word!r} not in {said!r}"


# ---------------------------------------------------------------- good inputs


@pytest.mark.parametrize("path", ALL_CONFIGS, ids=lambda p: p.parent.name if p.name == "config.yaml" else p.name)
def test_every_shipped_config_loads_with_default_names(path: Path) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    project = load_project(path)
    assert project.name == raw["project"]
    assert list(project.environments) == list(raw["environments"])
    template = raw.get("name_template", "{project}-{env}-{name}")
    for env_name, env in project.environments.items():
        raw_env = raw["environments"][env_name]
        fields = {"project": raw["project"], "env": env_name, "account": raw_env["account"],
                  "region": raw_env["region"]}
        for kind in ("buckets", "tables", "principals"):
            section = getattr(env, kind)
            added = ((raw_env.get("overrides") or {}).get("add") or {}).get(kind) or {}
            assert list(section) == [*(raw.get(kind) or {}), *added]
            for key, item in section.items():
                written = (raw.get(kind) or {}).get(key) or added[key] or {}
                # `{region}` is the resource's own region
                where = {**fields, "region": written.get("region") or raw_env["region"]}
                assert item.name == (written.get("name") or template.format(name=key, **where))
        assert env.region == raw_env["region"]
        assert env.account == raw_env["account"]


def test_custom_template_with_account_and_region(write_config: Callable[..., Path]) -> None:
    path = write_config(
        HEAD.replace("project: demo", "project: demo\nname_template: '{name}-{env}-{account}-{region}'")
        + """\
  prod:
    region: eu-west-1
    account: "222222222222"
buckets:
  photos: {}
tables:
  users: {hash_key: {name: id}}
principals:
  app: {grants: [{table: users, actions: [read]}]}
"""
    )
    project = load_project(path)
    dev, prod = project.environments["dev"], project.environments["prod"]
    assert dev.buckets["photos"].name == "photos-dev-111111111111-us-east-1"
    assert prod.buckets["photos"].name == "photos-prod-222222222222-eu-west-1"
    assert prod.tables["users"].name == "users-prod-222222222222-eu-west-1"
    assert prod.tables["users"].arn == "arn:aws:dynamodb:eu-west-1:222222222222:table/users-prod-222222222222-eu-west-1"
    assert prod.principals["app"].name == "app-prod-222222222222-eu-west-1"
    assert prod.principals["app"].arn == "arn:aws:iam::222222222222:user/app-prod-222222222222-eu-west-1"


def test_explicit_name_wins_over_the_template(write_config: Callable[..., Path]) -> None:
    path = write_config(
        HEAD
        + """\
buckets:
  photos: {name: my-exact-bucket}
  other: {}
tables:
  users: {name: Users_Table, hash_key: {name: id}}
principals:
  app:
    name: the-app
    kind: role
    path: /svc/
    assume_role_services: [lambda.amazonaws.com]
    grants: [{bucket: photos, actions: [read]}]
"""
    )
    env = load_project(path).environments["dev"]
    assert env.buckets["photos"].name == "my-exact-bucket"
    assert env.buckets["photos"].arn == "arn:aws:s3:::my-exact-bucket"
    assert env.buckets["other"].name == "demo-dev-other"
    assert env.tables["users"].name == "Users_Table"
    assert env.principals["app"].name == "the-app"
    assert env.principals["app"].arn == "arn:aws:iam::111111111111:role/svc/the-app"


OVERRIDES = """\
version: 1
project: demo
environments:
  dev:
    region: us-east-1
    account: "111111111111"
    overrides:
      buckets:
        photos:
          encryption: {bucket_key: false}
          cors:
            - {allowed_origins: ["https://dev.example.com"], allowed_methods: [GET]}
      tables:
        users: {point_in_time_recovery: false, hash_key: {type: N}}
  prod:
    region: us-east-1
    account: "222222222222"
    overrides:
      buckets:  # each account encrypts with a key of its own
        photos: {encryption: {kms_key_arn: "arn:aws:kms:us-east-1:222222222222:key/abc"}}
buckets:
  photos:
    versioning: true
    encryption:
      type: sse-kms
      kms_key_arn: arn:aws:kms:us-east-1:111111111111:key/abc
      bucket_key: true
    cors:
      - {allowed_origins: ["https://a.example.com"], allowed_methods: [GET, PUT]}
      - {allowed_origins: ["https://b.example.com"], allowed_methods: [GET]}
tables:
  users:
    hash_key: {name: userId, type: S}
"""


def test_overrides_deep_merge_only_in_their_environment(write_config: Callable[..., Path]) -> None:
    project = load_project(write_config(OVERRIDES))
    dev, prod = project.environments["dev"], project.environments["prod"]
    dev_enc = dev.buckets["photos"].spec.encryption
    # the nested key changed, its siblings kept their values
    assert dev_enc.bucket_key is False
    assert dev_enc.type == "sse-kms"
    assert dev_enc.kms_key_arn == "arn:aws:kms:us-east-1:111111111111:key/abc"
    assert dev.buckets["photos"].spec.versioning is True
    # a list is replaced whole, not merged item by item
    assert [c.allowed_origins for c in dev.buckets["photos"].spec.cors] == [["https://dev.example.com"]]
    assert dev.tables["users"].spec.point_in_time_recovery is False
    assert (dev.tables["users"].spec.hash_key.name, dev.tables["users"].spec.hash_key.type) == ("userId", "N")
    # prod sees the shared definition untouched
    prod_spec = prod.buckets["photos"].spec
    assert prod_spec.encryption.bucket_key is True
    assert prod_spec.encryption.kms_key_arn == "arn:aws:kms:us-east-1:222222222222:key/abc"
    assert len(prod_spec.cors) == 2
    assert prod.tables["users"].spec.point_in_time_recovery is True
    assert prod.tables["users"].spec.hash_key.type == "S"


def test_tags_merge_and_managed_tags_are_always_set(write_config: Callable[..., Path]) -> None:
    path = write_config(
        HEAD.replace("project: demo", "project: demo\ntags: {owner: team-a, cost-center: '1', Project: spoofed}")
        + """\
    tags: {owner: team-b, tier: gold, ManagedBy: me}
  prod:
    region: us-east-1
    account: "222222222222"
"""
    )
    project = load_project(path)
    dev, prod = project.environments["dev"], project.environments["prod"]
    assert dev.tags == {"owner": "team-b", "cost-center": "1", "tier": "gold",
                        "Project": "demo", "Environment": "dev", "ManagedBy": "cargohold"}
    assert prod.tags == {"owner": "team-a", "cost-center": "1",
                         "Project": "demo", "Environment": "prod", "ManagedBy": "cargohold"}


def test_state_backend_defaults(write_config: Callable[..., Path]) -> None:
    path = write_config(
        HEAD
        + """\
  prod:
    region: eu-central-1
    account: "222222222222"
    state: {bucket: my-state, key: x/prod.tfstate, region: us-west-2, lock_table: my-lock, encrypt: false}
"""
    )
    project = load_project(path)
    dev, prod = project.environments["dev"].state, project.environments["prod"].state
    assert dev.bucket == "demo-dev-tfstate-111111111111"
    assert dev.lock_table == "demo-dev-tflock"
    assert dev.region == "us-east-1"
    assert dev.key == "cargohold/terraform.tfstate"
    assert dev.encrypt is True
    assert (prod.bucket, prod.key, prod.region, prod.lock_table, prod.encrypt) == (
        "my-state", "x/prod.tfstate", "us-west-2", "my-lock", False)


def test_state_region_defaults_to_the_environment_region(write_config: Callable[..., Path]) -> None:
    path = write_config(HEAD.replace("us-east-1", "ap-south-1") + "    state: {key: a.tfstate}\n")
    state = load_project(path).environments["dev"].state
    assert state.region == "ap-south-1"
    assert state.key == "a.tfstate"


def test_project_keeps_the_source_bytes(write_config: Callable[..., Path]) -> None:
    path = write_config(HEAD)
    assert load_project(path).source == path.read_bytes()


# ---------------------------------------------------------------- bad inputs, one rule per case
#
# (id, YAML appended to HEAD, text on the problem's line, key path, words the message/hint must say,
#  whether it must be the only problem)

B = "buckets:\n  b: {}\n"  # a bucket for principals to be granted on
G = "grants: [{bucket: b, actions: [read]}]"

CASES: list[tuple[str, str, str, str, tuple[str, ...], bool]] = [
    # unknown keys, with did-you-mean
    ("unknown-top", "projetc: x\n", "projetc", "projetc", ("unknown key 'projetc'", "did you mean 'project'"), True),
    ("unknown-in-bucket", "buckets:\n  photos:\n    versoning: true\n", "versoning",
     "buckets.photos.versoning", ("did you mean 'versioning'", "keys allowed here"), True),
    ("unknown-in-lifecycle",
     "buckets:\n  photos:\n    lifecycle:\n      - id: a\n        expiration_dayz: 3\n", "expiration_dayz",
     "buckets.photos.lifecycle[0].expiration_dayz", ("did you mean 'expiration_days'",), True),
    ("unknown-in-env", "    regoin: us-east-1\n", "regoin", "environments.dev.regoin",
     ("did you mean 'region'",), True),
    ("unknown-in-table", "tables:\n  t:\n    hash_key: {name: id}\n    biling: provisioned\n", "biling",
     "tables.t.biling", ("did you mean 'billing'",), True),
    ("unknown-in-grant", "buckets:\n  b: {}\nprincipals:\n  p:\n    grants:\n      - {bucket: b, action: [read]}\n",
     "action:", "principals.p.grants[0].action", ("did you mean 'actions'",), False),
    # wrong types
    ("bool", "buckets:\n  photos:\n    versioning: maybe\n", "maybe", "buckets.photos.versioning",
     ("true or false", "'maybe'"), True),
    ("int", "tables:\n  t:\n    hash_key: {name: id}\n    billing: provisioned\n    capacity: {read: x, write: 1}\n",
     "capacity", "tables.t.capacity.read", ("whole number", "'x'"), True),
    ("float-for-int", "buckets:\n  b:\n    lifecycle:\n      - {id: a, expiration_days: 1.5}\n", "1.5",
     "buckets.b.lifecycle[0].expiration_days", ("whole number",), True),
    ("str", "buckets:\n  photos:\n    description: [a, b]\n", "description", "buckets.photos.description",
     ("expected text",), True),
    ("list", "buckets:\n  photos:\n    cors: 3\n", "cors", "buckets.photos.cors", ("expected a list", "- "), True),
    ("mapping", "buckets:\n  photos:\n    encryption: [sse-s3]\n", "encryption", "buckets.photos.encryption",
     ("mapping", "key: value"), True),
    ("mapping-resource", "buckets:\n  photos: 3\n", "photos", "buckets.photos", ("mapping",), True),
    ("section-not-mapping", "buckets: [a]\n", "buckets", "buckets", ("mapping",), True),
    ("number-out-of-range", "tables:\n  t:\n    hash_key: {name: id}\n    billing: provisioned\n"
     "    capacity: {read: 0, write: 1}\n", "capacity", "tables.t.capacity.read",
     ("greater than or equal to 1",), True),
    # literal enums
    ("enum-encryption", "buckets:\n  photos:\n    encryption: {type: sse-kmz}\n", "sse-kmz",
     "buckets.photos.encryption.type", ("'sse-kmz' is not allowed", "did you mean 'sse-kms'", "sse-s3, sse-kms"), True),
    ("enum-billing", "tables:\n  t:\n    hash_key: {name: id}\n    billing: ondemand\n", "ondemand", "tables.t.billing",
     ("did you mean 'on-demand'", "on-demand, provisioned"), True),
    ("enum-attr-type", "tables:\n  t:\n    hash_key: {name: id, type: Q}\n", "type: Q", "tables.t.hash_key.type",
     ("'Q' is not allowed", "S, N, B"), True),
    ("enum-storage-class", "buckets:\n  b:\n    lifecycle:\n      - id: a\n"
     "        transitions: [{days: 40, storage_class: GLACIER_IRR}]\n", "GLACIER_IRR",
     "buckets.b.lifecycle[0].transitions[0].storage_class", ("did you mean 'GLACIER_IR'",), True),
    ("enum-kind", "principals:\n  p:\n    kind: usr\n", "usr", "principals.p.kind", ("did you mean 'user'",), True),
    ("enum-version", "", "version: 2", "version", ("'2' is not allowed",), True),
    # missing required keys
    ("missing-hash-key", "tables:\n  t:\n    range_key: {name: id}\n", "  t:", "tables.t",
     ("required key 'hash_key' is missing", "add `hash_key:`"), True),
    ("missing-grant-actions", "buckets:\n  b: {}\nprincipals:\n  p:\n    grants:\n      - {bucket: b}\n",
     "{bucket: b}", "principals.p.grants[0]", ("required key 'actions'",), True),
    # environments
    ("bad-region", "", "region:", "environments.dev.region", ("not an AWS region",), True),
    ("bad-endpoint", "    endpoint: ftp://127.0.0.1\n", "endpoint", "environments.dev.endpoint",
     ("http(s) URL", "http://127.0.0.1:5000"), True),
    ("endpoint-with-path", "    endpoint: http://localhost:5000/api/v1\n", "endpoint", "environments.dev.endpoint",
     ("http(s) URL",), True),
    ("account-not-12-digits", "", "account", "environments.dev.account", ("12-digit",), True),
    ("state-key-absolute", "    state: {key: /abs.tfstate}\n", "state:", "environments.dev.state.key",
     ("relative object key",), True),
    ("budget-zero", "    budget: {monthly_usd: 0}\n", "budget", "environments.dev.budget.monthly_usd",
     ("greater than 0",), True),
    ("override-unknown-kind", "    overrides:\n      things: {a: {}}\n", "things",
     "environments.dev.overrides.things", ("unknown key 'things'", "buckets, tables, principals"), True),
    # bucket rules
    ("lifecycle-no-action", "buckets:\n  b:\n    lifecycle:\n      - id: noop\n", "id: noop", "buckets.b.lifecycle[0]",
     ("'noop' has no action", "expiration_days"), True),
    ("lifecycle-ia-too-early", "buckets:\n  b:\n    lifecycle:\n      - id: a\n"
     "        transitions: [{days: 10, storage_class: STANDARD_IA}]\n", "days: 10",
     "buckets.b.lifecycle[0].transitions[0].days", ("at least 30 days", "days: 30 or more"), True),
    ("lifecycle-onezone-too-early", "buckets:\n  b:\n    lifecycle:\n      - id: a\n"
     "        transitions: [{days: 29, storage_class: ONEZONE_IA}]\n", "days: 29",
     "buckets.b.lifecycle[0].transitions[0].days", ("at least 30 days",), True),
    ("lifecycle-not-increasing", "buckets:\n  b:\n    lifecycle:\n      - id: a\n        transitions:\n"
     "          - {days: 90, storage_class: GLACIER}\n          - {days: 90, storage_class: DEEP_ARCHIVE}\n",
     "DEEP_ARCHIVE", "buckets.b.lifecycle[0].transitions[1].days", ("increasing order", "sort the transitions"), True),
    ("lifecycle-expire-before-transition", "buckets:\n  b:\n    lifecycle:\n      - id: a\n"
     "        transitions: [{days: 90, storage_class: GLACIER}]\n        expiration_days: 90\n", "expiration_days",
     "buckets.b.lifecycle[0].expiration_days", ("after the last transition", "greater than 90"), True),
    ("lifecycle-noncurrent-unversioned", "buckets:\n  b:\n    versioning: false\n    lifecycle:\n      - id: nc\n"
     "        noncurrent_expiration_days: 5\n", "id: nc", "buckets.b.lifecycle[0]",
     ("need versioning", "versioning: true"), True),
    ("lifecycle-size-filter-empty", "buckets:\n  b:\n    lifecycle:\n      - id: a\n        expiration_days: 5\n"
     "        object_size_greater_than: 100\n        object_size_less_than: 100\n", "object_size_less_than",
     "buckets.b.lifecycle[0].object_size_less_than",
     ("selects nothing", "greater than object_size_greater_than"), True),
    ("lifecycle-duplicate-id", "buckets:\n  b:\n    lifecycle:\n      - {id: x, expiration_days: 5}\n"
     "      - {id: x, expiration_days: 6}\n", "expiration_days: 6", "buckets.b.lifecycle[1].id",
     ("'x' is used twice", "its own id"), True),
    ("public-read-empty", "buckets:\n  b: {public_read_prefix: ''}\n", "public_read_prefix",
     "buckets.b.public_read_prefix", ("expose the whole bucket", "uploads/"), True),
    ("public-read-slash", "buckets:\n  b: {public_read_prefix: /}\n", "public_read_prefix",
     "buckets.b.public_read_prefix", ("expose the whole bucket",), True),
    ("public-read-star", "buckets:\n  b: {public_read_prefix: '*'}\n", "public_read_prefix",
     "buckets.b.public_read_prefix", ("expose the whole bucket",), True),
    ("public-read-star-inside", "buckets:\n  b: {public_read_prefix: 'a/*'}\n", "public_read_prefix",
     "buckets.b.public_read_prefix", ("not a prefix",), True),
    ("kms-key-with-sse-s3", "buckets:\n  b:\n    encryption:\n      type: sse-s3\n"
     "      kms_key_arn: arn:aws:kms:us-east-1:111111111111:key/abc\n", "kms_key_arn",
     "buckets.b.encryption.kms_key_arn", ("only applies to sse-kms", "type: sse-kms"), True),
    ("kms-key-not-arn", "buckets:\n  b:\n    encryption: {type: sse-kms, kms_key_arn: my-key}\n", "my-key",
     "buckets.b.encryption.kms_key_arn", ("KMS key or alias ARN", "arn:aws:kms:"), True),
    ("object-lock-unversioned", "buckets:\n  b:\n    versioning: false\n    object_lock: {mode: GOVERNANCE, days: 1}\n",
     "object_lock", "buckets.b.object_lock", ("object lock needs versioning", "versioning: true"), True),
    ("replication-unversioned", "buckets:\n  b:\n    versioning: false\n"
     "    replication: {destination_bucket_arn: 'arn:aws:s3:::dest-bucket'}\n", "replication",
     "buckets.b.replication", ("replication needs versioning", "versioning: true"), True),
    ("replication-kms-no-replica-key", "buckets:\n  b:\n    encryption: {type: sse-kms}\n"
     "    replication: {destination_bucket_arn: 'arn:aws:s3:::dest-bucket'}\n", "replication",
     "buckets.b.replication.replica_kms_key_arn", ("only with a KMS key for the replicas", "replica_kms_key_arn:"),
     True),
    ("replication-bad-arn", "buckets:\n  b:\n    replication: {destination_bucket_arn: dest-bucket}\n",
     "replication", "buckets.b.replication.destination_bucket_arn", ("arn:aws",), True),
    ("access-logging-target", "buckets:\n  b:\n    access_logging: {target_bucket: Not_A_Bucket}\n", "Not_A_Bucket",
     "buckets.b.access_logging.target_bucket", ("neither a bucket key", "defined under `buckets:`"), True),
    ("cors-origin", "buckets:\n  b:\n    cors:\n      - allowed_origins: ['*', example.com]\n"
     "        allowed_methods: [GET]\n", "example.com", "buckets.b.cors[0].allowed_origins[1]",
     ("'example.com' is not an origin", "https://app.example.com"), True),
    ("cors-method", "buckets:\n  b:\n    cors:\n      - allowed_origins: ['*']\n"
     "        allowed_methods: [GET, PATCH]\n", "PATCH", "buckets.b.cors[0].allowed_methods[1]",
     ("'PATCH' is not allowed", "GET, PUT, POST, DELETE, HEAD"), True),
    # table rules
    ("provisioned-without-capacity", "tables:\n  t:\n    hash_key: {name: id}\n    billing: provisioned\n", "  t:",
     "tables.t.capacity", ("need read and write capacity", "capacity: {read: 5, write: 5}"), True),
    ("on-demand-with-capacity", "tables:\n  t:\n    hash_key: {name: id}\n    capacity: {read: 1, write: 1}\n", "  t:",
     "tables.t.billing", ("only apply to provisioned", "billing: provisioned"), True),
    ("autoscaling-min-above-max", "tables:\n  t:\n    hash_key: {name: id}\n    billing: provisioned\n"
     "    capacity: {read: 1, write: 1}\n    autoscaling: {min_read: 10, max_read: 5, min_write: 1, max_write: 2}\n",
     "autoscaling", "tables.t.autoscaling", ("minimum is above its maximum",), True),
    ("attribute-type-conflict", "tables:\n  t:\n    hash_key: {name: id, type: S}\n    global_indexes:\n"
     "      - name: by-id\n        hash_key: {name: id, type: N}\n", "type: N",
     "tables.t.global_indexes[0].hash_key", ("'id' is declared as N here and as S elsewhere",), True),
    ("include-without-attributes", "tables:\n  t:\n    hash_key: {name: id}\n    global_indexes:\n"
     "      - name: by-x\n        hash_key: {name: x}\n        projection: INCLUDE\n", "name: by-x",
     "tables.t.global_indexes[0].non_key_attributes", ("INCLUDE projection needs non_key_attributes",), True),
    ("attributes-without-include", "tables:\n  t:\n    hash_key: {name: id}\n    global_indexes:\n"
     "      - name: by-x\n        hash_key: {name: x}\n        non_key_attributes: [a]\n", "non_key_attributes",
     "tables.t.global_indexes[0].non_key_attributes", ("only apply to INCLUDE", "projection: INCLUDE"), True),
    ("lsi-without-range-key", "tables:\n  t:\n    hash_key: {name: id}\n    local_indexes:\n"
     "      - name: by-ts\n        range_key: {name: ts}\n", "name: by-ts", "tables.t.local_indexes[0]",
     ("need a table with a range key", "add `range_key:`"), True),
    ("gsi-needs-capacity", "tables:\n  t:\n    hash_key: {name: id}\n    billing: provisioned\n"
     "    capacity: {read: 1, write: 1}\n    global_indexes:\n      - name: by-x\n        hash_key: {name: x}\n",
     "name: by-x", "tables.t.global_indexes[0]", ("indexes of a provisioned table need capacity",), True),
    ("gsi-capacity-on-demand", "tables:\n  t:\n    hash_key: {name: id}\n    global_indexes:\n"
     "      - name: by-x\n        hash_key: {name: x}\n        capacity: {read: 1, write: 1}\n", "capacity",
     "tables.t.global_indexes[0].capacity", ("only applies to provisioned",), True),
    ("duplicate-index-name", "tables:\n  t:\n    hash_key: {name: id}\n    range_key: {name: ts}\n"
     "    global_indexes:\n      - {name: by-x, hash_key: {name: x}}\n    local_indexes:\n"
     "      - {name: by-x, range_key: {name: y}}\n", "range_key: {name: y}", "tables.t.local_indexes[0].name",
     ("'by-x' is used twice", "its own name"), True),
    ("index-name-too-short", "tables:\n  t:\n    hash_key: {name: id}\n    global_indexes:\n"
     "      - {name: gx, hash_key: {name: x}}\n", "name: gx", "tables.t.global_indexes[0].name",
     ("'gx'", "3-255"), True),
    ("customer-kms-without-key", "tables:\n  t:\n    hash_key: {name: id}\n    encryption: {type: customer-kms}\n",
     "encryption", "tables.t.encryption.kms_key_arn", ("customer-kms needs a key", "kms_key_arn"), True),
    ("kms-key-with-aws-owned", "tables:\n  t:\n    hash_key: {name: id}\n    encryption:\n      type: aws-owned\n"
     "      kms_key_arn: arn:aws:kms:us-east-1:111111111111:key/abc\n", "kms_key_arn",
     "tables.t.encryption.kms_key_arn",
     ("only applies to customer-kms", "type: customer-kms"), True),
    # principals
    ("role-without-assume", f"{B}principals:\n  worker:\n    kind: role\n    {G}\n", "worker:", "principals.worker",
     ("role needs someone to assume it", "assume_role_services"), True),
    ("user-with-assume", f"{B}principals:\n  app:\n    assume_role_services: [ecs-tasks.amazonaws.com]\n    {G}\n",
     "app:",
     "principals.app.kind", ("only apply to roles", "kind: role"), True),
    ("grant-both", "buckets:\n  b: {}\ntables:\n  t: {hash_key: {name: id}}\nprincipals:\n  p:\n    grants:\n"
     "      - {bucket: b, table: t, actions: [read]}\n", "bucket: b, table", "principals.p.grants[0]",
     ("exactly one of `bucket` or `table`", "split it into two grants"), True),
    ("grant-neither", "principals:\n  p:\n    grants:\n      - {actions: [read]}\n", "actions: [read]",
     "principals.p.grants[0]", ("exactly one of `bucket` or `table`",), True),
    ("grant-unknown-bucket", "buckets:\n  photos: {}\nprincipals:\n  p:\n    grants:\n"
     "      - {bucket: photo, actions: [read]}\n", "bucket: photo,", "principals.p.grants[0].bucket",
     ("no bucket named 'photo'", "did you mean 'photos'", "buckets defined: photos"), True),
    ("grant-unknown-table", "tables:\n  users: {hash_key: {name: id}}\nprincipals:\n  p:\n    grants:\n"
     "      - {table: user, actions: [read]}\n", "table: user,", "principals.p.grants[0].table",
     ("no table named 'user'", "did you mean 'users'"), True),
    ("grant-unknown-action", "buckets:\n  b: {}\nprincipals:\n  p:\n    grants:\n"
     "      - {bucket: b, actions: [reed]}\n", "reed", "principals.p.grants[0].actions[0]",
     ("'reed' is not a bucket grant", "did you mean 'read'", "read, write, delete, list, locate"), True),
    ("grant-table-action", "tables:\n  t: {hash_key: {name: id}}\nprincipals:\n  p:\n    grants:\n"
     "      - {table: t, actions: [rite]}\n", "rite", "principals.p.grants[0].actions[0]",
     ("'rite' is not a table grant", "did you mean 'write'", "read, write"), True),
    ("grant-duplicate-action", "buckets:\n  b: {}\nprincipals:\n  p:\n    grants:\n"
     "      - {bucket: b, actions: [read, read]}\n", "read, read", "principals.p.grants[0].actions",
     ("listed twice", "list each action once"), True),
    ("grant-no-actions", "buckets:\n  b: {}\nprincipals:\n  p:\n    grants:\n"
     "      - {bucket: b, actions: []}\n", "actions: []", "principals.p.grants[0].actions",
     ("at least 1",), True),
    ("grant-prefix-on-table", "tables:\n  t: {hash_key: {name: id}}\nprincipals:\n  p:\n    grants:\n"
     "      - {table: t, prefix: a/, actions: [read]}\n", "prefix: a/", "principals.p.grants[0].prefix",
     ("only applies to bucket grants", "remove `prefix`"), True),
    ("grant-prefix-leading-slash", "buckets:\n  b: {}\nprincipals:\n  p:\n    grants:\n"
     "      - {bucket: b, prefix: /a/, actions: [read]}\n", "prefix: /a/", "principals.p.grants[0].prefix",
     ("'/a/' is not a key prefix", "uploads/"), True),
    ("grant-prefix-star", "buckets:\n  b: {}\nprincipals:\n  p:\n    grants:\n"
     "      - {bucket: b, prefix: 'a*', actions: [read]}\n", "prefix: 'a*'", "principals.p.grants[0].prefix",
     ("not a key prefix",), True),
    ("grant-prefix-empty", "buckets:\n  b: {}\nprincipals:\n  p:\n    grants:\n"
     "      - {bucket: b, prefix: '', actions: [read]}\n", "prefix: ''", "principals.p.grants[0].prefix",
     ("not a key prefix",), True),
    ("iam-path", f"{B}principals:\n  p:\n    path: apps\n    {G}\n", "path: apps", "principals.p.path",
     ("IAM path 'apps'", "start and end with '/'"), True),
    ("principal-without-grants", "principals:\n  p:\n    kind: user\n", "  p:", "principals.p",
     ("at least one grant", "grants: [{bucket:"), True),
    ("permissions-boundary", f"{B}principals:\n  p:\n    permissions_boundary_arn: boundary\n    {G}\n", "boundary",
     "principals.p.permissions_boundary_arn", ("arn:aws",), True),
]


def _case_text(body: str, case_id: str) -> str:
    if case_id == "bad-region":
        return HEAD.replace("us-east-1", "us-east")
    if case_id == "enum-version":
        return HEAD.replace("version: 1", "version: 2")
    if case_id == "account-not-12-digits":
        return HEAD.replace('"111111111111"', '"1111"')
    return HEAD + body  # a body indented by 4 spaces continues environments.dev


@pytest.mark.parametrize(
    ("body", "needle", "path", "words", "only"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_rule_is_reported_at_its_line_and_key(
    problems_of: Callable[[str], list[Problem]],
    request: pytest.FixtureRequest,
    body: str,
    needle: str,
    path: str,
    words: tuple[str, ...],
    only: bool,
) -> None:
    text = _case_text(body, request.node.callspec.id)
    problems = problems_of(text)
    problem = the_problem(problems, path)
    assert problem.line == line_of(text, needle), problem.render()
    assert problem.column >= 1
    assert_says(problem, *words)
    if only:
        assert len(problems) == 1, "\n".join(p.render() for p in problems)


def test_yaml_syntax_error_points_at_its_line(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD + "buckets:\n  photos: {versioning: true\n  other: {}\n"
    [problem] = problems_of(text)
    assert problem.message.startswith("YAML syntax error")
    assert problem.line in (line_of(text, "photos:"), line_of(text, "other:"))
    assert "indentation" in (problem.hint or "")


def test_yaml_syntax_error_bad_indentation(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD + "buckets:\n  photos:\n    versioning: true\n   force_destroy: true\n"
    [problem] = problems_of(text)
    assert problem.message.startswith("YAML syntax error")
    assert problem.line == line_of(text, "force_destroy")


def test_tab_indentation_is_a_located_syntax_error(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD + "buckets:\n\tphotos: {}\n"
    [problem] = problems_of(text)
    assert "YAML syntax error" in problem.message
    assert problem.line == line_of(text, "photos")


def test_duplicate_key_mentions_both_lines(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD + "buckets:\n  photos: {}\n  other: {}\n  photos: {versioning: false}\n"
    [problem] = problems_of(text)
    assert problem.path == "buckets.photos"
    assert problem.line == line_of(text, "photos", nth=2)
    assert f"line {line_of(text, 'photos', nth=1)}" in problem.message
    assert "duplicate key 'photos'" in problem.message


def test_duplicate_keys_nested_are_all_reported(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD + "    region: us-west-2\nbuckets:\n  b:\n    versioning: true\n    versioning: false\n"
    problems = problems_of(text)
    assert [(p.path, p.line) for p in problems] == [
        ("environments.dev.region", line_of(text, "region", nth=2)),
        ("buckets.b.versioning", line_of(text, "versioning", nth=2)),
    ]


def test_yaml_merge_keys_are_refused(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD + "buckets:\n  a: &base {versioning: true}\n  b:\n    <<: *base\n"
    [problem] = problems_of(text)
    assert problem.line == line_of(text, "<<")
    assert "merge keys" in problem.message


def test_unknown_yaml_tag_is_located(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD + "buckets:\n  b:\n    description: !Ref Something\n"
    [problem] = problems_of(text)
    assert problem.line == line_of(text, "!Ref")
    assert "cannot read the value" in problem.message


def test_impossible_date_is_located_not_a_traceback(problems_of: Callable[[str], list[Problem]]) -> None:
    # YAML reads 2027-13-31 as a timestamp; the constructor then raises ValueError (month 13).
    text = HEAD + "buckets:\n  b:\n    description: 2027-13-31\n"
    problems = problems_of(text)
    assert [p.line for p in problems if "cannot read the value" in p.message] == [line_of(text, "2027-13-31")]


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("version: 1\nenvironments:\n  dev: {region: us-east-1, account: '111111111111'}\n", ["project"]),
        ("version: 1\nproject: demo\n", ["environments"]),
        ("version: 1\n", ["environments", "project"]),
    ],
    ids=["project", "environments", "both"],
)
def test_missing_top_level_keys(
    problems_of: Callable[[str], list[Problem]], text: str, missing: list[str]
) -> None:
    problems = problems_of(text)
    assert sorted(p.message for p in problems) == [f"required key '{m}' is missing" for m in missing]
    assert sorted(p.hint or "" for p in problems) == [f"add `{m}:` here" for m in missing]


def test_missing_region_and_account(problems_of: Callable[[str], list[Problem]]) -> None:
    text = "project: demo\nenvironments:\n  dev:\n    description: x\n"
    problems = problems_of(text)
    assert {p.message for p in problems} == {"required key 'region' is missing", "required key 'account' is missing"}
    assert {p.path for p in problems} == {"environments.dev"}
    assert {p.line for p in problems} == {line_of(text, "dev:")}


def test_empty_environments_is_refused(problems_of: Callable[[str], list[Problem]]) -> None:
    text = "project: demo\nenvironments: {}\n"
    [problem] = problems_of(text)
    assert problem.path == "environments"
    assert problem.line == 2


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- a\n- b\n", "just text\n"],
                         ids=["empty", "comment", "list", "scalar"])
def test_file_that_is_not_a_mapping(problems_of: Callable[[str], list[Problem]], text: str) -> None:
    problems = problems_of(text)
    said = " ".join(p.message for p in problems)
    assert "project" in said and "environments" in said


def test_account_written_as_a_number(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD.replace('"111111111111"', "111111111111")
    [problem] = problems_of(text)
    assert problem.path == "environments.dev.account"
    assert problem.line == line_of(text, "account")
    assert "quoted string" in problem.message
    assert 'account: "' in problem.message


@pytest.mark.parametrize("name", ["Dev", "1dev", "dev_1", "a-very-long-environment-name"])
def test_bad_environment_name(problems_of: Callable[[str], list[Problem]], name: str) -> None:
    text = HEAD.replace("  dev:", f"  {name}:") + "buckets:\n  photos: {}\n"
    [problem] = problems_of(text)  # names made from it do not repeat the problem
    assert problem.path == f"environments.{name}"
    assert problem.line == line_of(text, f"{name}:")
    assert f"environment name '{name}' is not valid" in problem.message
    assert "lowercase letters" in (problem.hint or "")


@pytest.mark.parametrize("project", ["Demo", "d", "1demo", "demo_x", "x" * 32])
def test_bad_project_name(problems_of: Callable[[str], list[Problem]], project: str) -> None:
    text = HEAD.replace("project: demo", f"project: {project}")
    problem = the_problem(problems_of(text), "project")
    assert problem.line == line_of(text, "project:")
    assert "lowercase letters" in problem.message


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("{project}-{env}", ("must contain {name}", "{project}-{env}-{name}")),
        ("{project}-{stage}-{name}", ("unknown placeholder {stage}", "{account}, {env}, {name}, {project}, {region}")),
        ("{project-{name}", ("malformed template", "write placeholders as")),
        ("{project}}-{name}", ("malformed template",)),
    ],
    ids=["no-name", "unknown-placeholder", "unclosed-brace", "stray-brace"],
)
def test_name_template_errors(
    problems_of: Callable[[str], list[Problem]], template: str, words: tuple[str, ...]
) -> None:
    text = HEAD.replace("project: demo", f"project: demo\nname_template: '{template}'") + "buckets:\n  photos: {}\n"
    problems = problems_of(text)
    problem = the_problem(problems, "name_template")
    assert problem.line == line_of(text, "name_template")
    said = " | ".join(f"{p.message} | {p.hint}" for p in problems if p.path == "name_template")
    for word in words:
        assert word in said
    # the broken template is reported once, not again through every name it would make
    assert {p.path for p in problems} == {"name_template"}


def test_name_template_with_attribute_access_is_reported_once(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD.replace("project: demo", "project: demo\nname_template: '{project}-{name.upper}'")
    text += "buckets:\n  photos: {}\n"
    problems = problems_of(text)
    assert {p.path for p in problems} == {"name_template"}
    assert not any("built-in method" in p.message for p in problems)


# ------------------------------------------------ generated names: one test per AWS naming rule

BUCKET_NAME_CASES = [
    ("ab", "is 2 characters long; bucket names must be 3-63"),
    ("a" * 64, "is 64 characters long"),
    ("Photos-bucket", "contains 'P'"),
    ("my_bucket", "contains '_'"),
    ("192.168.1.10", "formatted as an IP address"),
    ("a..b", "two adjacent periods"),
    ("a.-b", "period next to a hyphen"),
    ("a-.b", "period next to a hyphen"),
    ("xn--abc", "reserved prefix 'xn--'"),
    ("sthree-abc", "reserved prefix 'sthree-'"),
    ("amzn-s3-demo-abc", "reserved prefix 'amzn-s3-demo-'"),
    ("abc-s3alias", "reserved suffix '-s3alias'"),
    ("abc--ol-s3", "reserved suffix '--ol-s3'"),
    ("abc.mrap", "reserved suffix '.mrap'"),
    ("abc--x-s3", "reserved suffix '--x-s3'"),
    ("abc--table-s3", "reserved suffix '--table-s3'"),
    ("-abc", "must begin and end with a lowercase letter or digit"),
    ("abc-", "must begin and end with a lowercase letter or digit"),
    (".abc", "must begin and end"),
]


@pytest.mark.parametrize(("name", "reason"), BUCKET_NAME_CASES, ids=[c[0][:20] for c in BUCKET_NAME_CASES])
def test_explicit_bucket_name_rules(problems_of: Callable[[str], list[Problem]], name: str, reason: str) -> None:
    text = HEAD + f"buckets:\n  photos:\n    name: '{name}'\n"
    [problem] = problems_of(text)
    assert problem.path == "buckets.photos"
    assert problem.line == line_of(text, "photos:")
    assert f"bucket name '{name}'" in problem.message
    assert reason in problem.message
    assert "set `name:` to a valid name" in (problem.hint or "")


def test_bucket_name_made_by_the_template_names_the_environment(
    problems_of: Callable[[str], list[Problem]],
) -> None:
    text = HEAD + "buckets:\n  Photos_Bucket: {}\n"
    [problem] = problems_of(text)
    assert problem.path == "buckets.Photos_Bucket"
    assert problem.line == line_of(text, "Photos_Bucket")
    assert "'demo-dev-Photos_Bucket'" in problem.message
    assert "name template for environment 'dev'" in problem.message
    assert "contains 'B' 'P' '_'" in problem.message
    assert "rename the key" in (problem.hint or "") and "name_template" in (problem.hint or "")


def test_generated_bucket_name_too_long_in_one_environment_only(
    problems_of: Callable[[str], list[Problem]],
) -> None:
    # 'demo-dev-' + 54 = 63 is fine; 'demo-staging-' + 54 = 67 is not
    key = "b" * 54
    text = HEAD + "  staging:\n    region: us-east-1\n    account: '111111111111'\n" + f"buckets:\n  {key}: {{}}\n"
    [problem] = problems_of(text)
    assert problem.path == f"buckets.{key}"
    assert "environment 'staging'" in problem.message
    assert "is 67 characters long" in problem.message


@pytest.mark.parametrize(
    ("name", "reason"),
    [("ab", "is 2 characters long; table names must be 3-255"), ("a" * 256, "is 256 characters long"),
     ("my table", "only letters, digits, '_', '-' and '.'"), ("t/able", "only letters")],
    ids=["short", "long", "space", "slash"],
)
def test_table_name_rules(problems_of: Callable[[str], list[Problem]], name: str, reason: str) -> None:
    text = HEAD + f"tables:\n  users:\n    name: '{name}'\n    hash_key: {{name: id}}\n"
    [problem] = problems_of(text)
    assert problem.path == "tables.users"
    assert problem.line == line_of(text, "users:")
    assert reason in problem.message


@pytest.mark.parametrize(
    ("spec", "reason"),
    [("{name: '" + "u" * 65 + "'}", "is 65 characters long; IAM user names must be 1-64"),
     ("{name: 'my app'}", "may contain only letters, digits and '+=,.@_-'"),
     ("{name: 'app/x'}", "may contain only letters"),
     ("{kind: role, name: '" + "r" * 65 + "', assume_role_services: [ecs-tasks.amazonaws.com]}",
      "IAM role names must be 1-64")],
    ids=["user-too-long", "space", "slash", "role-too-long"],
)
def test_iam_name_rules(problems_of: Callable[[str], list[Problem]], spec: str, reason: str) -> None:
    text = HEAD + f"buckets:\n  b: {{}}\nprincipals:\n  app: {spec[:-1]}, {G}}}\n"  # spec + grants
    [problem] = problems_of(text)
    assert problem.path == "principals.app"
    assert problem.line == line_of(text, "app:")
    assert reason in problem.message


def test_generated_iam_name_too_long(problems_of: Callable[[str], list[Problem]]) -> None:
    key = "p" * 56  # 'demo-dev-' (9) + 56 = 65
    text = HEAD + f"buckets:\n  b: {{}}\nprincipals:\n  {key}: {{{G}}}\n"
    [problem] = problems_of(text)
    assert problem.line == line_of(text, key)
    assert "is 65 characters long" in problem.message
    assert "made by the name template" in problem.message


def test_explicit_state_bucket_name_is_checked(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD + "    state: {bucket: My_State, lock_table: 'a b'}\n"
    problems = problems_of(text)
    bucket = the_problem(problems, "environments.dev.state.bucket")
    table = the_problem(problems, "environments.dev.state.lock_table")
    assert bucket.line == table.line == line_of(text, "state:")
    assert "state bucket name 'My_State'" in bucket.message
    assert "lock table name 'a b'" in table.message


def test_state_bucket_problem_tells_which_key_to_write(problems_of: Callable[[str], list[Problem]]) -> None:
    project = "p" + "x" * 30  # 31 chars: the default '{project}-{env}-tfstate-{account}' is 31+1+3+9+12 = 56
    env = "development-east"  # 16 chars: 31+1+16+9+12 = 69 > 63
    text = HEAD.replace("project: demo", f"project: {project}").replace("  dev:", f"  {env}:")
    [problem] = problems_of(text)
    assert problem.path == f"environments.{env}.state.bucket"
    assert "is 69 characters long" in problem.message
    assert "state.bucket" in (problem.hint or "") or "`bucket:`" in (problem.hint or "")
    assert "name_template" not in f"{problem.message} {problem.hint}"


# ---------------------------------------------------------------- overrides


def test_override_of_unknown_resource_with_did_you_mean(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD + "    overrides:\n      buckets:\n        photo: {versioning: false}\n" + "buckets:\n  photos: {}\n"
    [problem] = problems_of(text)
    assert problem.path == "environments.dev.overrides.buckets.photo"
    assert problem.line == line_of(text, "photo: {")
    assert "override for unknown bucket 'photo'" in problem.message
    assert "did you mean 'photos'" in problem.message
    assert "buckets defined: photos" in (problem.hint or "")


def test_override_with_no_resources_defined(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD + "    overrides:\n      tables:\n        users: {deletion_protection: false}\n"
    [problem] = problems_of(text)
    assert "override for unknown table 'users'" in problem.message
    assert "none" in (problem.hint or "")


def test_override_value_errors_are_reported_at_the_override(problems_of: Callable[[str], list[Problem]]) -> None:
    text = (
        HEAD
        + "    overrides:\n      buckets:\n        photos:\n          versioning: sometimes\n"
        + "          encryption: {type: sse-kmz}\n          versionig: true\n"
        + "  prod:\n    region: us-east-1\n    account: '222222222222'\n"
        + "buckets:\n  photos:\n    versioning: true\n    encryption: {type: sse-s3}\n"
    )
    problems = problems_of(text)
    assert [(p.path, p.line) for p in problems] == [
        ("environments.dev.overrides.buckets.photos.versioning", line_of(text, "sometimes")),
        ("environments.dev.overrides.buckets.photos.encryption.type", line_of(text, "sse-kmz")),
        ("environments.dev.overrides.buckets.photos.versionig", line_of(text, "versionig")),
    ]
    assert "did you mean 'sse-kms'" in problems[1].message
    assert "did you mean 'versioning'" in problems[2].message


def test_override_rule_error_is_reported_at_the_override(problems_of: Callable[[str], list[Problem]]) -> None:
    # the cross-field rule fails only after the merge: versioning off in dev breaks the noncurrent rule
    text = (
        HEAD
        + "    overrides:\n      buckets:\n        b: {versioning: false, object_lock: {mode: GOVERNANCE, days: 1}}\n"
        + "buckets:\n  b:\n    versioning: true\n"
    )
    [problem] = problems_of(text)
    assert problem.path == "environments.dev.overrides.buckets.b.object_lock"
    assert problem.line == line_of(text, "object_lock")


def test_override_in_one_environment_does_not_leak_its_problem(
    problems_of: Callable[[str], list[Problem]],
) -> None:
    text = (
        HEAD
        + "    overrides:\n      tables:\n        t: {billing: provisioned}\n"
        + "  prod:\n    region: us-east-1\n    account: '222222222222'\n"
        + "tables:\n  t: {hash_key: {name: id}}\n"
    )
    [problem] = problems_of(text)
    assert "provisioned tables need read and write capacity" in problem.message
    assert problem.path.startswith("environments.dev.overrides.tables.t") or "'dev'" in problem.message


def test_same_mistake_in_shared_resource_is_reported_once(problems_of: Callable[[str], list[Problem]]) -> None:
    text = (
        HEAD
        + "  prod:\n    region: us-east-1\n    account: '222222222222'\n"
        + "buckets:\n  b:\n    versioning: maybe\n    public_read_prefix: '*'\n"
    )
    problems = problems_of(text)
    # each once, not once per environment; the rule still runs on the part of the bucket that parsed
    assert [p.path for p in problems] == ["buckets.b.versioning", "buckets.b.public_read_prefix"]


# ---------------------------------------------------------------- many mistakes at once


MANY_MISTAKES = """\
version: 1
projetc: demo
environments:
  dev:
    region: us-east
    account: 111111111111
    overrides:
      buckets:
        photo: {versioning: false}
buckets:
  photos:
    versioning: maybe
  docs:
    lifecycle:
      - id: noop
tables:
  users:
    range_key: {name: id}
principals:
  app:
    grants:
      - {bucket: photoz, actions: [reed]}
"""


def test_several_mistakes_are_all_reported_sorted_by_line(problems_of: Callable[[str], list[Problem]]) -> None:
    problems = problems_of(MANY_MISTAKES)
    text = MANY_MISTAKES
    expected = [
        ("", 1),  # project is missing (reported at the top of the file)
        ("projetc", line_of(text, "projetc")),
        ("environments.dev.region", line_of(text, "region")),
        ("environments.dev.account", line_of(text, "account")),
        ("environments.dev.overrides.buckets.photo", line_of(text, "photo: {")),
        ("buckets.photos.versioning", line_of(text, "maybe")),
        ("buckets.docs.lifecycle[0]", line_of(text, "noop")),
        ("tables.users", line_of(text, "users:")),
        ("principals.app.grants[0].bucket", line_of(text, "photoz")),
        ("principals.app.grants[0].actions[0]", line_of(text, "photoz")),
    ]
    got = [(p.path, p.line) for p in problems]
    assert sorted(got) == sorted(expected), "\n".join(p.render() for p in problems)
    assert len(problems) == 10
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_config_error_summary_counts_the_problems(write_config: Callable[..., Path]) -> None:
    path = write_config(MANY_MISTAKES)
    with pytest.raises(ConfigError) as caught:
        load_project(path)
    error = caught.value
    assert error.message == f"10 problems in {path}"
    rendered = error.render()
    assert rendered.count(f"{path}:") == 10
    assert "hint:" in rendered


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_project(path)
    [problem] = caught.value.problems
    assert problem.message == "file not found"
    assert "--config" in (problem.hint or "")


def test_non_utf8_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(b"project: d\xffmo\n")
    with pytest.raises(ConfigError) as caught:
        load_project(path)
    assert "cannot read" in caught.value.problems[0].message



# ---------------------------------------------------------------- limits and rules found missing


def test_at_most_20_global_and_5_local_indexes(problems_of: Callable[[str], list[Problem]]) -> None:
    gsis = "".join(f"      - {{name: gsi-{i:02}, hash_key: {{name: a{i}}}}}\n" for i in range(21))
    lsis = "".join(f"      - {{name: lsi-{i:02}, range_key: {{name: r{i}}}}}\n" for i in range(6))
    text = HEAD + "tables:\n  t:\n    hash_key: {name: id}\n    range_key: {name: ts}\n"
    text += "    global_indexes:\n" + gsis + "    local_indexes:\n" + lsis
    problems = problems_of(text)
    assert [(p.path, p.line) for p in problems] == [
        ("tables.t.global_indexes", line_of(text, "global_indexes:")),
        ("tables.t.local_indexes", line_of(text, "local_indexes:")),
    ]
    assert "at most 20 global indexes" in problems[0].message
    assert "at most 5 local indexes" in problems[1].message


def test_20_global_and_5_local_indexes_are_fine(write_config: Callable[..., Path]) -> None:
    gsis = "".join(f"      - {{name: gsi-{i:02}, hash_key: {{name: a{i}}}}}\n" for i in range(20))
    lsis = "".join(f"      - {{name: lsi-{i:02}, range_key: {{name: r{i}}}}}\n" for i in range(5))
    text = HEAD + "tables:\n  t:\n    hash_key: {name: id}\n    range_key: {name: ts}\n"
    text += "    global_indexes:\n" + gsis + "    local_indexes:\n" + lsis
    table = load_project(write_config(text)).environments["dev"].tables["t"]
    assert len(table.spec.global_indexes) == 20 and len(table.spec.local_indexes) == 5


def test_noncurrent_transition_to_standard_ia_needs_30_days(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD + ("buckets:\n  b:\n    lifecycle:\n      - id: nc\n"
                   "        noncurrent_transitions: [{days: 5, storage_class: STANDARD_IA}]\n")
    [problem] = problems_of(text)
    assert problem.path == "buckets.b.lifecycle[0].noncurrent_transitions[0].days"
    assert problem.line == line_of(text, "days: 5")
    assert "at least 30 days" in problem.message


def test_noncurrent_expiration_after_noncurrent_transition(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD + ("buckets:\n  b:\n    lifecycle:\n      - id: nc\n"
                   "        noncurrent_transitions: [{days: 60, storage_class: GLACIER}]\n"
                   "        noncurrent_expiration_days: 30\n")
    [problem] = problems_of(text)
    assert problem.path == "buckets.b.lifecycle[0].noncurrent_expiration_days"
    assert problem.line == line_of(text, "noncurrent_expiration_days")


def test_abort_multipart_with_tag_filter_is_refused(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD + ("buckets:\n  b:\n    lifecycle:\n      - id: tagged\n        tags: {a: b}\n"
                   "        abort_incomplete_multipart_days: 3\n")
    [problem] = problems_of(text)
    assert problem.path.startswith("buckets.b.lifecycle[0]")
    assert problem.line in (line_of(text, "tags:"), line_of(text, "abort_incomplete"), line_of(text, "id: tagged"))


@pytest.mark.parametrize("endpoint", ["http://:5000", "http://localhost:port"])
def test_endpoint_without_host_or_with_bad_port(problems_of: Callable[[str], list[Problem]], endpoint: str) -> None:
    text = HEAD + f"    endpoint: '{endpoint}'\n"
    [problem] = problems_of(text)
    assert problem.path == "environments.dev.endpoint"


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:5000", "https://s3.example.com", "http://localhost:4566/"])
def test_good_endpoints(write_config: Callable[..., Path], endpoint: str) -> None:
    env = load_project(write_config(HEAD + f"    endpoint: '{endpoint}'\n")).environments["dev"]
    assert env.endpoint == endpoint.rstrip("/")


def test_empty_state_key(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD + "    state: {key: ''}\n"
    [problem] = problems_of(text)
    assert problem.path == "environments.dev.state.key"
    assert "relative object key" in problem.message


def test_assume_role_principals_are_checked(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD + ("buckets:\n  b: {}\nprincipals:\n  r:\n    kind: role\n"
                   "    assume_role_arns: [not-an-arn]\n    assume_role_services: [ecs tasks]\n"
                   "    grants: [{bucket: b, actions: [read]}]\n")
    problems = problems_of(text)
    assert {p.line for p in problems} == {line_of(text, "not-an-arn"), line_of(text, "ecs tasks")}


@pytest.mark.parametrize(
    "arn",
    ["arn:aws:iam::123456789012:role/*", "arn:aws:iam::123456789012:user/ci-*", "arn:aws:iam::*:root"],
)
def test_assume_role_arns_take_no_wildcard(problems_of: Callable[[str], list[Problem]], arn: str) -> None:
    # IAM refuses a wildcard in a trust policy's AWS principal; the module's validation says the same
    text = HEAD + (f"buckets:\n  b: {{}}\nprincipals:\n  r:\n    kind: role\n    assume_role_arns: ['{arn}']\n"
                   "    grants: [{bucket: b, actions: [read]}]\n")
    [problem] = problems_of(text)
    assert problem.path.startswith("principals.r.assume_role_arns")


ROLE_HEAD = HEAD + "buckets:\n  b: {}\nprincipals:\n  r:\n"
VENDOR = "arn:aws:iam::210987654321:role/vendor"


def test_a_role_takes_an_external_id_for_its_assume_role_arns(write_config: Callable[..., Path]) -> None:
    text = ROLE_HEAD + (
        f"    kind: role\n    assume_role_arns: ['{VENDOR}']\n"
        "    assume_role_external_id: 'vendor:id/1=a,b@c.d+e_f-g'\n"
        "    grants: [{bucket: b, actions: [read]}]\n"
    )
    principal = load_project(write_config(text)).environments["dev"].principals["r"]
    assert principal.spec.assume_role_external_id == "vendor:id/1=a,b@c.d+e_f-g"


@pytest.mark.parametrize(
    ("lines", "needle", "words"),
    [
        # on a user: it is a condition of a role's trust policy
        (
            "    assume_role_external_id: vendor-id\n",
            "assume_role_external_id",
            ("only applies to a role", "kind: role"),
        ),
        # on a role trusted only by services: services pass no external id
        (
            "    kind: role\n    assume_role_services: [ecs-tasks.amazonaws.com]\n"
            "    assume_role_external_id: vendor-id\n",
            "assume_role_external_id",
            ("assume_role_arns", "there are none", "services pass no external id"),
        ),
    ],
    ids=["user", "role-without-arns"],
)
def test_an_external_id_without_principals_to_pass_it_is_located(
    problems_of: Callable[[str], list[Problem]], lines: str, needle: str, words: tuple[str, ...]
) -> None:
    text = ROLE_HEAD + lines + "    grants: [{bucket: b, actions: [read]}]\n"
    [problem] = problems_of(text)
    assert problem.path == "principals.r.assume_role_external_id"
    assert problem.line == line_of(text, needle)
    assert_says(problem, *words)


@pytest.mark.parametrize("value", ["x", "has space", "semi;colon", "a" * 1225, "''", "caf\u00e9-id"])
def test_an_external_id_outside_what_sts_accepts_is_located(
    problems_of: Callable[[str], list[Problem]], value: str
) -> None:
    text = ROLE_HEAD + (
        f"    kind: role\n    assume_role_arns: ['{VENDOR}']\n    assume_role_external_id: '{value}'\n"
        "    grants: [{bucket: b, actions: [read]}]\n"
    )
    [problem] = problems_of(text)
    assert problem.path == "principals.r.assume_role_external_id"
    assert problem.line == line_of(text, "assume_role_external_id")


def test_another_accounts_trust_without_an_external_id_is_no_config_error(write_config: Callable[..., Path]) -> None:
    # An existing config must keep loading: the audit's iam.role-trust-cross-account and preview say it.
    text = ROLE_HEAD + (
        f"    kind: role\n    assume_role_arns: ['{VENDOR}']\n    grants: [{{bucket: b, actions: [read]}}]\n"
    )
    principal = load_project(write_config(text)).environments["dev"].principals["r"]
    assert principal.spec.assume_role_external_id is None


def test_dotenv_names_are_checked_by_validate(problems_of: Callable[[str], list[Problem]]) -> None:
    text = HEAD + (
        "buckets:\n  docs: {}\nprincipals:\n  app:\n"
        "    dotenv: {access_key_id: KEY, secret_access_key: KEY, bucket_key: dcos}\n"
        "    grants: [{bucket: docs, actions: [read]}]\n"
    )
    problems = {p.path: p for p in problems_of(text)}
    assert set(problems) == {"principals.app.dotenv", "principals.app.dotenv.bucket_key"}
    assert "used twice" in problems["principals.app.dotenv"].message
    assert "did you mean 'docs'" in problems["principals.app.dotenv.bucket_key"].message
    assert {p.line for p in problems.values()} == {line_of(text, "dotenv:")}


# ---------------------------------------------------------------- how an environment is reached


def with_access(lines: str) -> str:
    return HEAD.replace('    account: "111111111111"\n', '    account: "111111111111"\n' + lines, 1)


def test_profile_and_role_are_read(write_config: Callable[..., Path]) -> None:
    text = with_access(
        "    profile: platform\n"
        "    assume_role:\n"
        "      role_arn: arn:aws:iam::111111111111:role/deployer\n"
        "      external_id: ext-42\n"
        "      duration: 1h30m\n"
    )
    spec = load_project(write_config(text)).environment("dev").spec
    assert spec.profile == "platform"
    assert spec.assume_role is not None
    assert (spec.assume_role.duration, spec.assume_role.session_name) == (5400, "cargohold")


@pytest.mark.parametrize(
    ("role", "path", "said"),
    [
        (
            "      role_arn: arn:aws:iam::222222222222:role/deployer\n",
            "environments.dev.assume_role.role_arn",
            "the role is in account 222222222222, but this environment is account 111111111111",
        ),
        (
            "      role_arn: arn:aws-cn:iam::111111111111:role/deployer\n",
            "environments.dev.assume_role.role_arn",
            "the role is in partition aws-cn, but region us-east-1 is in aws",
        ),
        (
            "      role_arn: arn:aws:iam::111111111111:user/deployer\n",
            "environments.dev.assume_role.role_arn",
            "is not an IAM role ARN",
        ),
        (
            "      role_arn: arn:aws:iam::111111111111:role/d\n      duration: 5m\n",
            "environments.dev.assume_role.duration",
            "outside 15m..12h",
        ),
        (
            "      role_arn: arn:aws:iam::111111111111:role/d\n      duration: soon\n",
            "environments.dev.assume_role.duration",
            "is not a duration; write e.g. 1h",
        ),
        (
            "      role_arn: arn:aws:iam::111111111111:role/d\n      session_name: has space\n",
            "environments.dev.assume_role.session_name",
            "",
        ),
    ],
    ids=["other-account", "other-partition", "not-a-role", "too-short", "not-a-duration", "session-name"],
)
def test_a_role_that_cannot_reach_the_environment_is_located(
    problems_of: Callable[[str], list[Problem]], role: str, path: str, said: str
) -> None:
    text = with_access("    assume_role:\n" + role)
    problem = the_problem(problems_of(text), path)
    assert said in problem.message
    assert problem.line == line_of(text, path.rsplit(".", 1)[1] + ":")

"""The round-trip property: discover an environment created from a config, and the discovered config
describes the same desired state (names, settings, principal policies as documents)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cargohold_core.config import declared_resources, load_project
from cargohold_core.config.desired import desired_state
from cargohold_core.config.model import Environment
from tests.conftest import ALL_CONFIGS
from tests.discover.conftest import pointed
from tests.support.moto_api import into_emulator_account
from tests.support.moto_gaps import without_the_gap
from tests.support.terraform_apply import provision, stack
from toolkit.demo.emulator import Emulator
from toolkit.discover.read import Discovery, discover
from toolkit.discover.write import full_config_text, import_blocks, imports_for, load_discovered, render_fragment
from toolkit.terraform import workflow


# Settings the emulator cannot round-trip, excluded attribute by attribute:
# - buckets.replication: moto keeps only part of a replication rule (no source_selection_criteria); no
#   shipped config uses it.
# - tables.table_class: moto accepts TableClass but DescribeTable reports no TableClassSummary, so every
#   table reads back as STANDARD (AWS reports it; discover reads it from there).
# - buckets.tls_only, min_tls_version: discover never writes `tls_only: false`: a bucket without the
#   TLS-only policy is hardened by the first apply (a "hardening" remark); config.yaml turns it off only
#   for moto's sake. (test_a_varied_config_round_trips checks a min_tls_version of 1.3 comes back.)
def changed(outcome: workflow.PlanOutcome) -> set[str]:
    return {c.address for c in outcome.summary.changes if c.action != "no-op"}


EMULATOR_GAPS: dict[str, set[str]] = {
    "buckets": {"replication", "tls_only", "min_tls_version"},
    "tables": {"table_class"},
    "principals": set(),
}

VARIED = """\
version: 1
project: varied
name_template: "{project}-{env}-{name}"
environments:
  test: {region: eu-west-1, account: "123456789012", endpoint: ENDPOINT}
buckets:
  vault:
    versioning: true
    encryption:
      type: sse-kms
      kms_key_arn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
      bucket_key: false
    deny_unencrypted_uploads: true
    min_tls_version: "1.3"
    access_logging: {target_bucket: logs, target_prefix: vault/}
    lifecycle:
      - {id: cold, prefix: archive/, transitions: [{days: 30, storage_class: STANDARD_IA}], expiration_days: 400}
      - {id: paused, enabled: false, abort_incomplete_multipart_days: 2}
  logs:
    versioning: false
    lifecycle:
      - {id: expire, expiration_days: 90}
  site:
    versioning: false
    public_read_prefix: public/
    cors:
      - {allowed_origins: ["*"], allowed_methods: [GET, HEAD], max_age_seconds: 600}
tables:
  events:
    hash_key: {name: pk, type: S}
    range_key: {name: at, type: N}
    billing: provisioned
    capacity: {read: 5, write: 3}
    global_indexes:
      - {name: by-kind, hash_key: {name: kind, type: S}, projection: INCLUDE, non_key_attributes: [title],
         capacity: {read: 2, write: 1}}
    local_indexes:
      - {name: by-size, range_key: {name: size, type: N}, projection: KEYS_ONLY}
    stream: NEW_AND_OLD_IMAGES
    table_class: STANDARD_INFREQUENT_ACCESS
    encryption: {type: aws-managed}
    deletion_protection: false
  blobs:
    hash_key: {name: id, type: B}
    point_in_time_recovery: false
principals:
  reader:
    kind: user
    path: /apps/
    grants:
      - {bucket: vault, prefix: reports/, actions: [read, list, locate]}
      - {table: events, actions: [read]}
  ingest:
    kind: role
    assume_role_services: [lambda.amazonaws.com, ecs-tasks.amazonaws.com]
    assume_role_arns: ["arn:aws:iam::123456789012:root"]
    grants:
      - {bucket: site, prefix: public/, actions: [write, delete]}
      - {bucket: logs, actions: [list]}
      - {table: blobs, actions: [write]}
  vendor:
    kind: role
    assume_role_arns: ["arn:aws:iam::210987654321:role/vendor", "arn:aws:iam::123456789012:role/ci"]
    assume_role_external_id: "vendor-issued:id/42"
    grants:
      - {bucket: logs, actions: [read]}
"""


def comparable(env: Environment) -> dict[str, dict[str, dict[str, Any]]]:
    state = desired_state(env)
    for section, gaps in EMULATOR_GAPS.items():
        for item in state[section].values():
            for attribute in gaps:
                item.pop(attribute, None)
    for bucket in state["buckets"].values():
        bucket["lifecycle"] = without_the_gap(bucket["lifecycle"])
    # Keyed by AWS name: the property is about the resources, whatever keys discover chose.
    return {section: {v["name"]: v for v in items.values()} for section, items in state.items()}


def round_trip(config: Path | str, tmp_path: Path, account: Emulator, env_name: str) -> tuple[Any, ...]:
    project, env = pointed(config, tmp_path / "config.yaml", account.endpoint, env_name)
    provision(env, tmp_path / "terraform")
    found = discover(project, env, include_declared=True)
    discovered = load_discovered(project, found)
    return project, env, found, discovered


def assert_same(env: Environment, discovered: Environment, found: Discovery) -> None:
    want, got = comparable(env), comparable(discovered)
    for section in want:
        assert sorted(got[section]) == sorted(want[section]), section
        for name, state in want[section].items():
            assert got[section][name] == state, (section, name)
    # The keys are the config's own (the name template's prefix is stripped), and nothing is left out.
    assert {k: b.name for k, b in discovered.buckets.items()} == {k: b.name for k, b in env.buckets.items()}
    assert {k: p.name for k, p in discovered.principals.items()} == {k: p.name for k, p in env.principals.items()}
    assert not [r for r in found.remarks if r.category == "could-not-express"]


@pytest.mark.parametrize("config", ALL_CONFIGS, ids=lambda p: p.parent.name if p.parent.name != "main" else "root")
def test_every_shipped_config_round_trips(config: Path, tmp_path: Path, account: Emulator) -> None:
    _, env, found, discovered = round_trip(config, tmp_path, account, "local")
    assert_same(env, discovered, found)
    # Principal policies are equal as documents, statement for statement.
    for key, principal in env.principals.items():
        assert json.dumps(discovered.principals[key].policy, sort_keys=True) == json.dumps(
            principal.policy, sort_keys=True
        )


@pytest.mark.parametrize("config", ALL_CONFIGS, ids=lambda p: p.parent.name if p.parent.name != "main" else "root")
def test_imports_cover_every_declared_resource(config: Path, tmp_path: Path, account: Emulator) -> None:
    _, env, found, discovered = round_trip(config, tmp_path, account, "local")
    blocks = imports_for(discovered, found)
    assert sorted(b.address for b in blocks) == sorted(r.address for r in declared_resources(env))
    # All that apply creates: the TLS-only policy of the buckets `local` leaves without one
    # (tls_only: false, for moto), which discover hardens.
    created = [r for r in found.remarks if "does not exist yet" in r.message]
    relaxed = {b.name for b in env.buckets.values() if not b.spec.tls_only}
    assert all(r.name in relaxed and "aws_s3_bucket_policy" in r.message for r in created), created


def test_a_varied_config_round_trips(tmp_path: Path, account: Emulator) -> None:
    _, env, found, discovered = round_trip(VARIED, tmp_path, account, "test")
    assert_same(env, discovered, found)
    spec = found.tables["events"].spec
    assert spec["capacity"] == {"read": 5, "write": 3}
    assert spec["global_indexes"][0]["capacity"] == {"read": 2, "write": 1}
    assert spec["global_indexes"][0]["non_key_attributes"] == ["title"]
    vault = discovered.buckets["vault"].spec
    assert vault.encryption.kms_key_arn == env.buckets["vault"].spec.encryption.kms_key_arn
    assert (vault.deny_unencrypted_uploads, vault.min_tls_version) == (True, "1.3")
    assert vault.access_logging is not None and vault.access_logging.target_bucket == "logs"
    assert discovered.principals["reader"].arn == env.principals["reader"].arn  # the path is kept
    assert discovered.principals["ingest"].spec.assume_role_arns == ["arn:aws:iam::123456789012:root"]
    # The trust's sts:ExternalId condition comes back as assume_role_external_id, not dropped
    assert discovered.principals["vendor"].spec.assume_role_external_id == "vendor-issued:id/42"
    assert discovered.principals["ingest"].spec.assume_role_external_id is None


def test_the_discovered_config_loads_and_the_fragment_is_its_resources(tmp_path: Path, account: Emulator) -> None:
    project, _, found, _ = round_trip(ALL_CONFIGS[0], tmp_path, account, "local")
    whole = tmp_path / "whole.yaml"
    whole.write_text(full_config_text(project, found), encoding="utf-8")
    loaded = load_project(whole)  # raises ConfigError on any problem
    assert set(loaded.environments) == set(project.environments)
    fragment = yaml.safe_load(render_fragment(found))
    for section in ("buckets", "tables", "principals"):
        assert fragment[section] == yaml.safe_load(whole.read_text())[section]


def test_declared_resources_found_live_are_imported_not_rewritten(tmp_path: Path, account: Emulator) -> None:
    project, env = pointed(ALL_CONFIGS[0], tmp_path / "config.yaml", account.endpoint)
    run = provision(env, tmp_path / "terraform")
    found = discover(project, env)
    # Nothing to add to config.yaml: every resource found is one it declares, under its own key.
    assert not any(found.adopting().values())
    assert [set(found.buckets), set(found.tables), set(found.principals)] == [
        set(env.buckets),
        set(env.tables),
        set(env.principals),
    ]
    assert yaml.safe_load(render_fragment(found)) == {"buckets": {}, "tables": {}, "principals": {}}
    notes = {r.key: r.message for r in found.remarks if r.category == "declared"}
    assert notes["student-docs"].startswith("declared in config.yaml as buckets.student-docs and exists live")
    assert {r.category for r in found.remarks} <= {"declared", "change"}, found.remarks
    # Every declared resource exists live, so every one gets its import block, addressed by its config key...
    blocks = imports_for(load_discovered(project, found), found)
    assert sorted(b.address for b in blocks) == sorted(r.address for r in declared_resources(env))
    # ...which Terraform accepts as a no-op where its state already manages the resource.
    assert changed(workflow.plan(stack(env, run.work_dir, imports=import_blocks(blocks, found)))) == set()


DR = Path(__file__).resolve().parents[1] / "fixtures" / "dr" / "config.yaml"


def test_an_environment_in_two_regions_round_trips(tmp_path: Path, account: Emulator) -> None:
    """A DR bucket and a table in us-west-2 beside the environment's us-east-1: discover finds each where it
    lives (the table listed in its region, the bucket's location asked, as moto's ListBuckets does not say)
    and writes `region:` for them, so the discovered config plans the same resources in the same regions."""
    document = into_emulator_account(yaml.safe_load(DR.read_text(encoding="utf-8")), "prod", "ENDPOINT")
    # prod alone: discover writes what it finds as shared resources, and the keys it finds are prod's
    # account's, which another environment's account may not use (validate refuses them there)
    document["environments"] = {"prod": document["environments"]["prod"]}
    _, env, found, discovered = round_trip(yaml.safe_dump(document, sort_keys=False), tmp_path, account, "prod")
    assert_same(env, discovered, found)
    by_name = {b.name: b.region for b in discovered.buckets.values()}
    assert by_name[env.buckets["contracts-dr"].name] == "us-west-2"
    assert by_name[env.buckets["contracts"].name] == "us-east-1"
    assert {t.name: t.region for t in discovered.tables.values()}[env.tables["signatures-dr"].name] == "us-west-2"
    # the replication rule comes back with its options, and the destination by ARN
    rule = discovered.buckets[next(k for k, b in discovered.buckets.items() if b.name == env.buckets["contracts"].name)]
    assert rule.spec.replication is not None
    assert rule.spec.replication.destination_bucket_arn == env.buckets["contracts-dr"].arn
    assert rule.spec.replication.replication_time is True

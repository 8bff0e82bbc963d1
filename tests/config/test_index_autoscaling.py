"""Autoscaling of global indexes: the schema, its rules, the variables, the addresses and the desired state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cargohold_core.config import declared_resources, load_project, tfvars
from cargohold_core.config.desired import desired_state
from cargohold_core.errors import ConfigError

HEAD = """\
version: 1
project: demo
environments:
  dev: {region: eu-west-1, account: "111111111111"}
tables:
  events:
    hash_key: {name: id}
"""

PROVISIONED = (
    HEAD
    + """\
    billing: provisioned
    capacity: {read: 5, write: 5}
    autoscaling: {min_read: 5, max_read: 50, min_write: 5, max_write: 20}
    global_indexes:
      - name: by-user
        hash_key: {name: user}
        capacity: {read: 2, write: 2}
        autoscaling: {min_read: 2, max_read: 40, min_write: 1, max_write: 10, target_utilization: 50}
      - {name: by-day, hash_key: {name: day}, capacity: {read: 1, write: 1}}
"""
)


def test_an_index_scales_with_its_own_settings(write_config: Callable[..., Path]) -> None:
    env = load_project(write_config(PROVISIONED)).environments["dev"]
    by_user, by_day = tfvars(env)["tables"]["events"]["global_secondary_indexes"]
    assert by_user["autoscaling"] == {
        "min_read": 2,
        "max_read": 40,
        "min_write": 1,
        "max_write": 10,
        "target_utilization": 50,
    }
    assert by_day["autoscaling"] is None  # no default from the table: an index without it stays fixed
    addresses = {r.address for r in declared_resources(env) if r.key == "events"}
    table = 'module.tables["events"]'
    assert {a for a in addresses if "index_" in a} == {
        f'{table}.aws_appautoscaling_{kind}.index_{dim}["by-user"]'
        for kind in ("target", "policy")
        for dim in ("read", "write")
    }
    assert desired_state(env)["tables"]["events"]["autoscaling"] == {
        "table": {"read": {"min": 5, "max": 50, "target": 70}, "write": {"min": 5, "max": 20, "target": 70}},
        "index/by-user": {"read": {"min": 2, "max": 40, "target": 50}, "write": {"min": 1, "max": 10, "target": 50}},
    }


def test_an_on_demand_table_has_no_autoscaling_state(write_config: Callable[..., Path]) -> None:
    env = load_project(write_config(HEAD)).environments["dev"]
    assert desired_state(env)["tables"]["events"]["autoscaling"] == {}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            "    global_indexes:\n      - {name: by-user, hash_key: {name: user},"
            " autoscaling: {min_read: 1, max_read: 5, min_write: 1, max_write: 5}}\n",
            "only applies to the indexes of provisioned tables",
        ),
        (
            "    billing: provisioned\n    capacity: {read: 1, write: 1}\n    global_indexes:\n"
            "      - {name: by-user, hash_key: {name: user}, capacity: {read: 1, write: 1},"
            " autoscaling: {min_read: 9, max_read: 5, min_write: 1, max_write: 5}}\n",
            "minimum is above its maximum",
        ),
    ],
)
def test_index_autoscaling_mistakes_are_located(write_config: Callable[..., Path], table: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_project(write_config(HEAD + table))
    problems = caught.value.problems
    where = "tables.events.global_indexes[0].autoscaling"
    assert any(p.path == where and message in p.message for p in problems), [p.render() for p in problems]

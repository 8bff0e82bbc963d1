"""aws_appautoscaling_target and aws_appautoscaling_policy against moto: create, read back as
written, drift seen, update, import, delete."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from toolkit.tfprovider.resources.autoscaling import POLICY, TARGET, split_import_id
from toolkit.tfprovider.resources.base import Api, State

READ_DIM = "dynamodb:table:ReadCapacityUnits"


@pytest.fixture
def table(api: Api, unique: Callable[[str], str]) -> Iterator[str]:
    name = unique("scaled")
    api.dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    yield name
    api.dynamodb.delete_table(TableName=name)


def _target(table: str) -> State:
    """What terraform/modules/dynamodb-table writes for the read target (tags_all: default tags)."""
    return {
        "service_namespace": "dynamodb",
        "resource_id": f"table/{table}",
        "scalable_dimension": READ_DIM,
        "min_capacity": 5,
        "max_capacity": 100,
        "tags": None,
        "tags_all": {"ManagedBy": "cargohold"},
        "suspended_state": [],
        "id": None,
        "arn": None,
        "role_arn": None,
    }


def _policy(table: str, target_value: int = 70) -> State:
    return {
        "name": f"DynamoDBReadCapacityUtilization:table/{table}",
        "policy_type": "TargetTrackingScaling",
        "service_namespace": "dynamodb",
        "resource_id": f"table/{table}",
        "scalable_dimension": READ_DIM,
        "target_tracking_scaling_policy_configuration": [
            {
                "target_value": target_value,
                "disable_scale_in": None,
                "scale_in_cooldown": None,
                "scale_out_cooldown": None,
                "predefined_metric_specification": [
                    {"predefined_metric_type": "DynamoDBReadCapacityUtilization", "resource_label": None}
                ],
                "customized_metric_specification": [],
            }
        ],
        "step_scaling_policy_configuration": [],
        "predictive_scaling_policy_configuration": [],
        "id": None,
        "arn": None,
        "alarm_arns": None,
    }


def test_split_import_id() -> None:
    assert split_import_id(f"dynamodb/table/t1/{READ_DIM}", with_name=False) == ("dynamodb", "table/t1", READ_DIM, "")
    name = "DynamoDBReadCapacityUtilization:table/t1"
    assert split_import_id(f"dynamodb/table/t1/{READ_DIM}/{name}", with_name=True) == (
        "dynamodb",
        "table/t1",
        READ_DIM,
        name,
    )
    index_dim = "dynamodb:index:ReadCapacityUnits"
    assert split_import_id(f"dynamodb/table/t1/index/by-x/{index_dim}/p", with_name=True) == (
        "dynamodb",
        "table/t1/index/by-x",
        index_dim,
        "p",
    )
    assert split_import_id(f"dynamodb/table/t1/{READ_DIM}", with_name=True) is None
    assert split_import_id("dynamodb/table/t1", with_name=False) is None


def test_target_round_trip_drift_update_import_delete(api: Api, table: str) -> None:
    api.default_tags = {"ManagedBy": "cargohold"}
    planned = _target(table)
    state = TARGET.create(api, planned)
    assert state["id"] == f"table/{table}"
    assert state["arn"].startswith("arn:aws:application-autoscaling:us-east-1:")
    assert state["region"] == "us-east-1"
    read = TARGET.read(api, state)
    assert read is not None and read == {k: state[k] for k in read}
    for key in ("service_namespace", "resource_id", "scalable_dimension", "min_capacity", "max_capacity"):
        assert read[key] == planned[key]
    assert read["suspended_state"] == []

    api.autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb", ResourceId=f"table/{table}", ScalableDimension=READ_DIM, MaxCapacity=7
    )
    drifted = TARGET.read(api, state)
    assert drifted is not None and (drifted["min_capacity"], drifted["max_capacity"]) == (5, 7)

    updated = TARGET.update(api, drifted, {**drifted, "min_capacity": 2, "max_capacity": 50})
    assert (updated["min_capacity"], updated["max_capacity"]) == (2, 50)
    assert updated["arn"] == state["arn"]

    imported = TARGET.import_state(api, f"dynamodb/table/{table}/{READ_DIM}")
    assert imported == {
        "id": f"table/{table}",
        "service_namespace": "dynamodb",
        "resource_id": f"table/{table}",
        "scalable_dimension": READ_DIM,
    }
    from_import = TARGET.read(api, imported)
    assert from_import is not None
    assert from_import == {k: updated[k] for k in from_import}

    TARGET.delete(api, updated)
    assert TARGET.read(api, updated) is None
    TARGET.delete(api, updated)  # already gone: no error
    assert TARGET.import_state(api, f"dynamodb/table/{table}/{READ_DIM}") is None


def test_policy_round_trip_drift_update_import_delete(api: Api, table: str) -> None:
    TARGET.create(api, _target(table))
    planned = _policy(table)
    state = POLICY.create(api, planned)
    assert state["id"] == planned["name"]
    assert state["arn"] and state["alarm_arns"]
    read = POLICY.read(api, state)
    assert read is not None and read == {k: state[k] for k in read}
    for key, value in planned.items():
        if key not in ("id", "arn", "alarm_arns"):
            assert read[key] == value, key

    api.autoscaling.put_scaling_policy(
        PolicyName=planned["name"],
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{table}",
        ScalableDimension=READ_DIM,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 40.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"},
        },
    )
    drifted = POLICY.read(api, state)
    assert drifted is not None
    assert drifted["target_tracking_scaling_policy_configuration"][0]["target_value"] == 40

    want = _policy(table, target_value=55)
    updated = POLICY.update(api, drifted, {**drifted, **{k: v for k, v in want.items() if v is not None}})
    tracking = updated["target_tracking_scaling_policy_configuration"][0]
    assert tracking["target_value"] == 55
    assert tracking["predefined_metric_specification"][0]["predefined_metric_type"] == "DynamoDBReadCapacityUtilization"

    imported = POLICY.import_state(api, f"dynamodb/table/{table}/{READ_DIM}/{planned['name']}")
    assert imported is not None and imported["id"] == planned["name"]
    from_import = POLICY.read(api, imported)
    assert from_import is not None and from_import == POLICY.read(api, updated)

    POLICY.delete(api, updated)
    assert POLICY.read(api, updated) is None
    POLICY.delete(api, updated)  # already gone: no error
    TARGET.delete(api, {**_target(table)})


def test_an_index_target_and_policy_create_read_drift_import_delete(api: Api, unique: Callable[[str], str]) -> None:
    """The dynamodb-table module's index_read target and policy: dimension dynamodb:index:*, resource id
    table/NAME/index/INDEX (moto holds them as it holds the table's)."""
    name = unique("scaled-ix")
    api.dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "user", "AttributeType": "S"},
        ],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-user",
                "KeySchema": [{"AttributeName": "user", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 2},
            }
        ],
    )
    dimension = "dynamodb:index:ReadCapacityUnits"
    resource = f"table/{name}/index/by-user"
    target = {**_target(name), "resource_id": resource, "scalable_dimension": dimension, "min_capacity": 2}
    state = TARGET.create(api, target)
    assert state["id"] == resource
    read = TARGET.read(api, state)
    assert read is not None and (read["resource_id"], read["scalable_dimension"], read["min_capacity"]) == (
        resource,
        dimension,
        2,
    )
    api.autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb", ResourceId=resource, ScalableDimension=dimension, MaxCapacity=9
    )
    drifted = TARGET.read(api, state)
    assert drifted is not None and drifted["max_capacity"] == 9
    assert TARGET.import_state(api, f"dynamodb/{resource}/{dimension}") == {
        "id": resource,
        "service_namespace": "dynamodb",
        "resource_id": resource,
        "scalable_dimension": dimension,
    }

    planned = {
        **_policy(name),
        "name": f"DynamoDBReadCapacityUtilization:{resource}",
        "resource_id": resource,
        "scalable_dimension": dimension,
    }
    policy = POLICY.create(api, planned)
    read_policy = POLICY.read(api, policy)
    assert read_policy is not None and (read_policy["name"], read_policy["resource_id"]) == (planned["name"], resource)
    imported = POLICY.import_state(api, f"dynamodb/{resource}/{dimension}/{planned['name']}")
    assert imported is not None and POLICY.read(api, imported) == read_policy

    POLICY.delete(api, policy)
    assert POLICY.read(api, policy) is None
    TARGET.delete(api, drifted)
    assert TARGET.read(api, drifted) is None
    api.dynamodb.delete_table(TableName=name)

"""aws_dynamodb_table against moto: create, read back as written, drift seen, update, import, delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from toolkit.tfprovider.resources.base import Api, ResourceError, State
from toolkit.tfprovider.resources.dynamodb import TABLE

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

# what terraform/modules/dynamodb-table writes (the rest is left to the schema's defaults)
WRITTEN = (
    "name",
    "billing_mode",
    "hash_key",
    "range_key",
    "read_capacity",
    "write_capacity",
    "stream_enabled",
    "stream_view_type",
    "deletion_protection_enabled",
    "table_class",
    "tags",
    "tags_all",
    "attribute",
    "global_secondary_index",
    "local_secondary_index",
    "ttl",
    "point_in_time_recovery",
    "server_side_encryption",
)


def _gsi(name: str, hash_key: str, range_key: str | None, projection: str, non_key: list[str] | None) -> dict[str, Any]:
    keys = [{"attribute_name": hash_key, "key_type": "HASH"}]
    if range_key:
        keys.append({"attribute_name": range_key, "key_type": "RANGE"})
    return {
        "name": name,
        "hash_key": None,
        "range_key": None,
        "key_schema": keys,
        "projection_type": projection,
        "non_key_attributes": non_key,
        "read_capacity": 5,
        "write_capacity": 5,
        "on_demand_throughput": [],
        "warm_throughput": [],
    }


def _photos(name: str) -> State:
    """The module's output for the `photos` table of terraform/stack/examples/full.tfvars.json."""
    return {
        "name": name,
        "billing_mode": "PROVISIONED",
        "hash_key": "pk",
        "range_key": "sk",
        "read_capacity": 5,
        "write_capacity": 5,
        "stream_enabled": True,
        "stream_view_type": "NEW_AND_OLD_IMAGES",
        "deletion_protection_enabled": True,
        "table_class": "STANDARD",
        "tags": {"team": "lms"},
        "tags_all": {"team": "lms"},
        "point_in_time_recovery": [{"enabled": True, "recovery_period_in_days": None}],
        "server_side_encryption": [{"enabled": True, "kms_key_arn": KMS_KEY}],
        "attribute": [
            {"name": "pk", "type": "S"},
            {"name": "sk", "type": "S"},
            {"name": "owner_id", "type": "S"},
            {"name": "created_at", "type": "N"},
        ],
        "global_secondary_index": [
            _gsi("by-owner", "owner_id", "created_at", "INCLUDE", ["title", "size"]),
            _gsi("by-sk", "sk", None, "KEYS_ONLY", None),
        ],
        "local_secondary_index": [
            {"name": "by-created", "range_key": "created_at", "projection_type": "ALL", "non_key_attributes": None}
        ],
        "ttl": [{"enabled": True, "attribute_name": "expires_at"}],
        "id": None,
        "arn": None,
        "stream_arn": None,
        "stream_label": None,
    }


def _norm(value: Any) -> Any:
    """Set blocks and set attributes compare without order."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return sorted((_norm(v) for v in value), key=repr)
    if isinstance(value, dict):
        return {k: sorted(v) if k == "non_key_attributes" and v else _norm(v) for k, v in value.items()}
    return value


def _written(state: State) -> dict[str, Any]:
    """The module's arguments; the recovery period is computed (the module leaves it null)."""
    out = {k: _norm(state.get(k)) for k in WRITTEN}
    out["point_in_time_recovery"] = [{"enabled": b["enabled"]} for b in state["point_in_time_recovery"]]
    return out


def _drop(api: Api, name: str) -> None:
    api.dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False)
    TABLE.delete(api, {"id": name, "name": name})


def test_table_round_trip_drift_update_import_delete(api: Api, unique: Callable[[str], str]) -> None:
    name = unique("photos")
    planned = _photos(name)
    state = TABLE.create(api, planned)
    try:
        assert state["id"] == name and state["arn"].endswith(f":table/{name}")
        assert state["region"] == "us-east-1"
        assert state["stream_arn"] and state["stream_label"]
        assert state["point_in_time_recovery"] == [{"enabled": True, "recovery_period_in_days": 35}]
        assert _written(state) == _written(planned)

        read = TABLE.read(api, state)
        assert read is not None and read == {k: state[k] for k in read}

        # behind Terraform's back
        api.dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False)
        api.dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires_at"}
        )
        api.dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
        )
        api.dynamodb.tag_resource(ResourceArn=state["arn"], Tags=[{"Key": "extra", "Value": "1"}])
        drifted = TABLE.read(api, state)
        assert drifted is not None
        assert drifted["deletion_protection_enabled"] is False
        assert drifted["ttl"] == [{"enabled": False, "attribute_name": None}]
        assert drifted["point_in_time_recovery"] == [{"enabled": False, "recovery_period_in_days": None}]
        assert drifted["tags_all"] == {"team": "lms", "extra": "1"}

        # the next apply: back to the configuration, plus index, ttl and tag changes
        want = _photos(name)
        want["global_secondary_index"] = [
            _gsi("by-owner", "owner_id", "created_at", "INCLUDE", ["title", "size", "kind"]),  # re-created
            _gsi("by-status", "status", None, "ALL", None),  # new; by-sk dropped
        ]
        want["attribute"] = [a for a in want["attribute"] if a["name"] != "sk"] + [
            {"name": "sk", "type": "S"},
            {"name": "status", "type": "S"},
        ]
        want["ttl"] = [{"enabled": True, "attribute_name": "gone_at"}]
        want["tags"] = want["tags_all"] = {"team": "lms", "tier": "gold"}
        updated = TABLE.update(api, drifted, {**drifted, **want})
        assert _written(updated) == _written(want)
        again = TABLE.read(api, updated)
        assert again is not None and _written(again) == _written(want)

        imported = TABLE.import_state(api, name)
        assert imported == {"id": name, "name": name}
        from_import = TABLE.read(api, imported)
        assert from_import is not None and _norm(from_import) == _norm(again)

        with pytest.raises(ResourceError) as refused:
            TABLE.delete(api, updated)
        assert "protected against deletion" in refused.value.detail
        assert TABLE.read(api, updated) is not None
    finally:
        _drop(api, name)
    assert TABLE.read(api, state) is None
    TABLE.delete(api, state)  # already gone: no error
    assert TABLE.import_state(api, name) is None


def test_on_demand_table_default_tags_and_in_place_changes(api: Api, unique: Callable[[str], str]) -> None:
    api.default_tags = {"Project": "lms", "ManagedBy": "cargohold"}
    name = unique("sessions")
    planned: State = {
        "name": name,
        "billing_mode": "PAY_PER_REQUEST",
        "hash_key": "session_id",
        "range_key": None,
        "read_capacity": None,
        "write_capacity": None,
        "stream_enabled": False,
        "stream_view_type": None,
        "deletion_protection_enabled": False,
        "table_class": "STANDARD_INFREQUENT_ACCESS",
        "tags": {"team": "web"},
        "tags_all": {"team": "web", "Project": "lms", "ManagedBy": "cargohold"},
        "point_in_time_recovery": [{"enabled": True, "recovery_period_in_days": None}],
        "server_side_encryption": [{"enabled": False, "kms_key_arn": None}],
        "attribute": [{"name": "session_id", "type": "S"}],
        "global_secondary_index": [],
        "local_secondary_index": [],
        "ttl": [],
    }
    state = TABLE.create(api, planned)
    try:
        assert state["read_capacity"] == 0 and state["write_capacity"] == 0  # what AWS reports on demand
        assert state["server_side_encryption"] == [{"enabled": False, "kms_key_arn": None}]
        assert state["stream_arn"] is None and state["stream_view_type"] is None
        assert state["tags"] == {"team": "web"}
        for key in ("billing_mode", "range_key", "ttl", "table_class", "tags_all", "deletion_protection_enabled"):
            assert state[key] == planned[key], key
        read = TABLE.read(api, state)
        assert read is not None and read == {k: state[k] for k in read}

        # aws-managed encryption set behind Terraform's back is not possible in moto (UpdateTable
        # ignores SSESpecification); billing mode is:
        api.dynamodb.update_table(
            TableName=name,
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
        )
        drifted = TABLE.read(api, state)
        assert drifted is not None
        assert (drifted["billing_mode"], drifted["read_capacity"], drifted["write_capacity"]) == ("PROVISIONED", 3, 4)

        want = {
            **drifted,
            "billing_mode": "PAY_PER_REQUEST",
            "stream_enabled": True,
            "stream_view_type": "KEYS_ONLY",
            "deletion_protection_enabled": True,
            "global_secondary_index": [
                {**_gsi("by-user", "user_id", None, "ALL", None), "read_capacity": None, "write_capacity": None}
            ],
            "attribute": [{"name": "session_id", "type": "S"}, {"name": "user_id", "type": "S"}],
        }
        updated = TABLE.update(api, drifted, want)
        assert updated["billing_mode"] == "PAY_PER_REQUEST"
        assert (updated["stream_enabled"], updated["stream_view_type"]) == (True, "KEYS_ONLY")
        assert updated["stream_arn"]
        assert updated["deletion_protection_enabled"] is True
        assert [g["name"] for g in updated["global_secondary_index"]] == ["by-user"]
        assert updated["global_secondary_index"][0]["key_schema"] == [{"attribute_name": "user_id", "key_type": "HASH"}]
        assert _norm(updated["attribute"]) == _norm(want["attribute"])
        again = TABLE.read(api, updated)
        assert again is not None and again == {k: updated[k] for k in again}
    finally:
        _drop(api, name)

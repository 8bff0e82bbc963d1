"""Handler for aws_dynamodb_table (see base.py for the contract).

id = import id = the table name, as the real provider documents. Global secondary indexes are read
back in the shape the prior state wrote them: `key_schema` blocks (provider 6.x, what
terraform/modules/dynamodb-table writes, and the shape an import gets) or the deprecated
`hash_key`/`range_key` arguments.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError

from cargohold_core.aws import tag_dict
from toolkit.tfprovider.resources.base import (
    Api,
    Handler,
    ResourceError,
    State,
    aws_failure,
    error_code,
    first_block,
    integral,
)

_WAIT_SECONDS = 300.0  # the real provider waits up to 30+ minutes; moto is ACTIVE at once
_POLL_SECONDS = 0.5


def _guard(action: str, name: str, call: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return call(**kwargs)
    except ClientError as exc:
        raise aws_failure(f"{action} DynamoDB table ({name})", exc) from exc


def _describe(api: Api, name: str) -> dict[str, Any] | None:
    try:
        return dict(api.dynamodb.describe_table(TableName=name)["Table"])
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def _wait_active(api: Api, name: str) -> dict[str, Any]:
    """Until the table and all its indexes are ACTIVE (moto: already on the first call)."""
    deadline = time.monotonic() + _WAIT_SECONDS
    while True:
        table = _describe(api, name)
        if table is None:
            raise ResourceError(f"waiting for DynamoDB table ({name})", "the table disappeared")
        busy = table.get("TableStatus") != "ACTIVE" or any(
            g.get("IndexStatus", "ACTIVE") != "ACTIVE" for g in table.get("GlobalSecondaryIndexes") or []
        )
        if not busy:
            return table
        if time.monotonic() > deadline:
            raise ResourceError(f"waiting for DynamoDB table ({name})", f"still {table.get('TableStatus')}")
        time.sleep(_POLL_SECONDS)


# --- state -> API


def _attribute_definitions(state: State) -> list[dict[str, str]]:
    return [{"AttributeName": a["name"], "AttributeType": a["type"]} for a in state.get("attribute") or []]


def _gsi_key_schema(gsi: dict[str, Any]) -> list[dict[str, str]]:
    if gsi.get("key_schema"):
        return [{"AttributeName": k["attribute_name"], "KeyType": k["key_type"]} for k in gsi["key_schema"]]
    keys = [{"AttributeName": gsi["hash_key"], "KeyType": "HASH"}] if gsi.get("hash_key") else []
    if gsi.get("range_key"):
        keys.append({"AttributeName": gsi["range_key"], "KeyType": "RANGE"})
    return keys


def _projection(index: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"ProjectionType": index["projection_type"]}
    if index.get("non_key_attributes"):
        out["NonKeyAttributes"] = list(index["non_key_attributes"])
    return out


def _provisioned(state: State) -> bool:
    return (state.get("billing_mode") or "PROVISIONED") == "PROVISIONED"


def _throughput(read: Any, write: Any) -> dict[str, int]:
    return {"ReadCapacityUnits": int(read or 0), "WriteCapacityUnits": int(write or 0)}


def _gsi_throughput(state: State, gsi: dict[str, Any]) -> dict[str, int]:
    return _throughput(
        gsi.get("read_capacity") or state.get("read_capacity"), gsi.get("write_capacity") or state.get("write_capacity")
    )


def _gsi_create(state: State, gsi: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "IndexName": gsi["name"],
        "KeySchema": _gsi_key_schema(gsi),
        "Projection": _projection(gsi),
    }
    if _provisioned(state):
        out["ProvisionedThroughput"] = _gsi_throughput(state, gsi)
    return out


def _sse_spec(state: State) -> dict[str, Any] | None:
    sse = first_block(state.get("server_side_encryption"))
    if not sse.get("enabled"):
        return None
    out: dict[str, Any] = {"Enabled": True, "SSEType": "KMS"}
    if sse.get("kms_key_arn"):
        out["KMSMasterKeyId"] = sse["kms_key_arn"]
    return out


def _tag_list(tags: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in (tags or {}).items()]


# --- API -> state


def _ordered(items: list[dict[str, Any]], prior: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Set blocks in the prior state's order (by name), new ones after: same set, stable diffs."""
    rank = {p.get("name"): i for i, p in enumerate(prior or [])}
    return sorted(items, key=lambda item: rank.get(item.get("name"), len(rank)))


def _live_tags(api: Api, arn: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    kwargs: dict[str, Any] = {"ResourceArn": arn}
    while True:
        page = api.dynamodb.list_tags_of_resource(**kwargs)
        tags.update(tag_dict(page.get("Tags")))
        if not page.get("NextToken"):
            return tags
        kwargs["NextToken"] = page["NextToken"]


def _read_gsi(live: dict[str, Any], prior: dict[str, Any] | None) -> dict[str, Any]:
    keys = live.get("KeySchema") or []
    hash_key = next((k["AttributeName"] for k in keys if k["KeyType"] == "HASH"), None)
    range_key = next((k["AttributeName"] for k in keys if k["KeyType"] == "RANGE"), None)
    projection = live.get("Projection") or {}
    throughput = live.get("ProvisionedThroughput") or {}
    out: dict[str, Any] = {
        "name": live["IndexName"],
        "projection_type": projection.get("ProjectionType"),
        "non_key_attributes": list(projection["NonKeyAttributes"]) if projection.get("NonKeyAttributes") else None,
        "read_capacity": integral(throughput.get("ReadCapacityUnits", 0)),
        "write_capacity": integral(throughput.get("WriteCapacityUnits", 0)),
        "on_demand_throughput": [],
        "warm_throughput": [],
    }
    if prior is not None and not prior.get("key_schema") and prior.get("hash_key"):
        # the prior state used the deprecated hash_key/range_key arguments
        out.update(hash_key=hash_key, range_key=range_key, key_schema=[])
    else:
        out.update(
            hash_key=None,
            range_key=None,
            key_schema=[{"attribute_name": k["AttributeName"], "key_type": k["KeyType"]} for k in keys],
        )
    return out


def _read_lsi(live: dict[str, Any]) -> dict[str, Any]:
    keys = live.get("KeySchema") or []
    projection = live.get("Projection") or {}
    return {
        "name": live["IndexName"],
        "range_key": next((k["AttributeName"] for k in keys if k["KeyType"] == "RANGE"), None),
        "projection_type": projection.get("ProjectionType"),
        "non_key_attributes": list(projection["NonKeyAttributes"]) if projection.get("NonKeyAttributes") else None,
    }


def _read_ttl(api: Api, name: str, prior: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    live = api.dynamodb.describe_time_to_live(TableName=name).get("TimeToLiveDescription") or {}
    if live.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return [{"enabled": True, "attribute_name": live.get("AttributeName")}]
    if not prior:  # off, and the configuration writes no ttl block
        return []
    before = first_block(prior)
    return [{"enabled": False, "attribute_name": None if before.get("enabled") else before.get("attribute_name")}]


def _read_pitr(api: Api, name: str) -> list[dict[str, Any]]:
    backups = api.dynamodb.describe_continuous_backups(TableName=name).get("ContinuousBackupsDescription") or {}
    pitr = backups.get("PointInTimeRecoveryDescription") or {}
    enabled = pitr.get("PointInTimeRecoveryStatus") in ("ENABLED", "ENABLING")
    return [
        {"enabled": enabled, "recovery_period_in_days": integral(pitr.get("RecoveryPeriodInDays")) if enabled else None}
    ]


def _table_read(api: Api, state: State) -> State | None:
    name = state.get("name") or state["id"]
    table = _describe(api, name)
    if table is None:
        return None
    try:
        return _read_described(api, state, table)
    except ClientError as exc:  # dropped between the calls
        if error_code(exc) in ("ResourceNotFoundException", "TableNotFoundException"):
            return None
        raise


def _read_described(api: Api, state: State, table: dict[str, Any]) -> State:
    name = table["TableName"]
    keys = table.get("KeySchema") or []
    throughput = table.get("ProvisionedThroughput") or {}
    stream = table.get("StreamSpecification") or {}
    stream_on = bool(stream.get("StreamEnabled"))
    sse = table.get("SSEDescription") or {}
    sse_on = sse.get("Status") in ("ENABLED", "ENABLING", "UPDATING")

    prior_gsis = {g.get("name"): g for g in state.get("global_secondary_index") or []}
    gsis = [_read_gsi(g, prior_gsis.get(g["IndexName"])) for g in table.get("GlobalSecondaryIndexes") or []]
    lsis = [_read_lsi(ix) for ix in table.get("LocalSecondaryIndexes") or []]
    attributes = [
        {"name": a["AttributeName"], "type": a["AttributeType"]} for a in table.get("AttributeDefinitions") or []
    ]

    table_class = (table.get("TableClassSummary") or {}).get("TableClass")
    if table_class is None:
        # AWS leaves TableClassSummary out for STANDARD tables. moto neither stores nor echoes the
        # table class at all, so keep the configured value when there is one.
        table_class = state.get("table_class") or "STANDARD"

    tags_all = _live_tags(api, table["TableArn"])
    return {
        "id": name,
        "name": name,
        "arn": table["TableArn"],
        "region": api.region,
        "billing_mode": (table.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED",
        "hash_key": next((k["AttributeName"] for k in keys if k["KeyType"] == "HASH"), None),
        "range_key": next((k["AttributeName"] for k in keys if k["KeyType"] == "RANGE"), None),
        "read_capacity": integral(throughput.get("ReadCapacityUnits", 0)),
        "write_capacity": integral(throughput.get("WriteCapacityUnits", 0)),
        "attribute": _ordered(attributes, state.get("attribute")),
        "global_secondary_index": _ordered(gsis, state.get("global_secondary_index")),
        "local_secondary_index": _ordered(lsis, state.get("local_secondary_index")),
        "stream_enabled": stream_on,
        "stream_view_type": stream.get("StreamViewType") if stream_on else None,
        "stream_arn": table.get("LatestStreamArn"),
        "stream_label": table.get("LatestStreamLabel"),
        "ttl": _read_ttl(api, name, state.get("ttl")),
        "point_in_time_recovery": _read_pitr(api, name),
        "server_side_encryption": [{"enabled": sse_on, "kms_key_arn": sse.get("KMSMasterKeyArn") if sse_on else None}],
        "deletion_protection_enabled": bool(table.get("DeletionProtectionEnabled")),
        "table_class": table_class,
        "tags_all": tags_all,
        "tags": api.tags_for(tags_all),
        "replica": [],
        "on_demand_throughput": [],
        "warm_throughput": [],
        "global_table_witness": [],
    }


# --- create / update / delete


def _apply_ttl(api: Api, name: str, planned: State) -> None:
    want = first_block(planned.get("ttl"))
    want_attr = want.get("attribute_name") if want.get("enabled") else None
    live = api.dynamodb.describe_time_to_live(TableName=name).get("TimeToLiveDescription") or {}
    live_attr = live.get("AttributeName") if live.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") else None
    if live_attr == want_attr:
        return
    if live_attr:  # AWS changes the TTL attribute only by turning TTL off first
        _guard(
            "disabling TTL of",
            name,
            api.dynamodb.update_time_to_live,
            TableName=name,
            TimeToLiveSpecification={"Enabled": False, "AttributeName": live_attr},
        )
    if want_attr:
        _guard(
            "enabling TTL of",
            name,
            api.dynamodb.update_time_to_live,
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": want_attr},
        )


def _apply_pitr(api: Api, name: str, planned: State, *, creating: bool) -> None:
    want = first_block(planned.get("point_in_time_recovery"))
    enabled = bool(want.get("enabled"))
    if creating and not enabled:
        return  # a new table has it off
    spec: dict[str, Any] = {"PointInTimeRecoveryEnabled": enabled}
    if enabled and want.get("recovery_period_in_days"):
        spec["RecoveryPeriodInDays"] = int(want["recovery_period_in_days"])
    _guard(
        "setting point-in-time recovery of",
        name,
        api.dynamodb.update_continuous_backups,
        TableName=name,
        PointInTimeRecoverySpecification=spec,
    )


def _table_create(api: Api, planned: State) -> State:
    name = planned["name"]
    keys = [{"AttributeName": planned["hash_key"], "KeyType": "HASH"}]
    if planned.get("range_key"):
        keys.append({"AttributeName": planned["range_key"], "KeyType": "RANGE"})
    args: dict[str, Any] = {
        "TableName": name,
        "KeySchema": keys,
        "AttributeDefinitions": _attribute_definitions(planned),
        "BillingMode": planned.get("billing_mode") or "PROVISIONED",
        "DeletionProtectionEnabled": bool(planned.get("deletion_protection_enabled")),
    }
    if _provisioned(planned):
        args["ProvisionedThroughput"] = _throughput(planned.get("read_capacity"), planned.get("write_capacity"))
    gsis = [_gsi_create(planned, g) for g in planned.get("global_secondary_index") or []]
    if gsis:
        args["GlobalSecondaryIndexes"] = gsis
    lsis = [
        {
            "IndexName": ix["name"],
            "KeySchema": [
                {"AttributeName": planned["hash_key"], "KeyType": "HASH"},
                {"AttributeName": ix["range_key"], "KeyType": "RANGE"},
            ],
            "Projection": _projection(ix),
        }
        for ix in planned.get("local_secondary_index") or []
    ]
    if lsis:
        args["LocalSecondaryIndexes"] = lsis
    if planned.get("stream_enabled"):
        args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": planned.get("stream_view_type")}
    sse = _sse_spec(planned)
    if sse:
        args["SSESpecification"] = sse
    if planned.get("table_class"):
        args["TableClass"] = planned["table_class"]
    if planned.get("tags_all"):
        args["Tags"] = _tag_list(planned["tags_all"])
    _guard("creating", name, api.dynamodb.create_table, **args)
    table = _wait_active(api, name)
    _apply_ttl(api, name, planned)
    _apply_pitr(api, name, planned, creating=True)
    return {**planned, **_read_described(api, planned, table)}


def _update_table(api: Api, name: str, action: str, **kwargs: Any) -> None:
    _guard(action, name, api.dynamodb.update_table, TableName=name, **kwargs)
    _wait_active(api, name)


def _gsi_changes(
    prior: State, planned: State
) -> tuple[list[str], list[dict[str, Any]], list[tuple[dict[str, Any], dict[str, Any]]]]:
    """(names to delete, indexes to create, (before, after) pairs kept) by index name."""
    before = {g["name"]: g for g in prior.get("global_secondary_index") or []}
    after = {g["name"]: g for g in planned.get("global_secondary_index") or []}
    delete = [n for n in before if n not in after]
    create = [g for n, g in after.items() if n not in before]
    kept = []
    for n in before.keys() & after.keys():
        old, new = before[n], after[n]
        same_keys = _gsi_key_schema(old) == _gsi_key_schema(new)
        same_projection = (old["projection_type"], sorted(old.get("non_key_attributes") or [])) == (
            new["projection_type"],
            sorted(new.get("non_key_attributes") or []),
        )
        if same_keys and same_projection:
            kept.append((old, new))
        else:  # keys and projection cannot change in place: the real provider drops and re-creates
            delete.append(n)
            create.append(new)
    return delete, create, kept


def _changed(planned: State, prior: State, block: str, computed: str) -> bool:
    """A single block's `enabled` changed, or its optional+computed argument is set to a new value
    (left null, it reads back as whatever AWS chose)."""
    new, old = first_block(planned.get(block)), first_block(prior.get(block))
    if bool(new.get("enabled")) != bool(old.get("enabled")):
        return True
    return new.get(computed) is not None and new.get(computed) != old.get(computed)


def _table_update(api: Api, prior: State, planned: State) -> State:
    name = planned["name"]
    attributes = _attribute_definitions(planned)
    delete, create, kept = _gsi_changes(prior, planned)

    billing = planned.get("billing_mode") or "PROVISIONED"
    billing_changed = billing != (prior.get("billing_mode") or "PROVISIONED")
    capacity_changed = (planned.get("read_capacity"), planned.get("write_capacity")) != (
        prior.get("read_capacity"),
        prior.get("write_capacity"),
    )
    if billing_changed or (_provisioned(planned) and capacity_changed):
        args: dict[str, Any] = {"BillingMode": billing}
        if _provisioned(planned):
            args["ProvisionedThroughput"] = _throughput(planned.get("read_capacity"), planned.get("write_capacity"))
            if billing_changed:  # AWS wants every index's capacity in the same call
                args["GlobalSecondaryIndexUpdates"] = [
                    {"Update": {"IndexName": new["name"], "ProvisionedThroughput": _gsi_throughput(planned, new)}}
                    for _, new in kept
                ]
        _update_table(api, name, "updating billing mode of", **args)

    if bool(planned.get("deletion_protection_enabled")) != bool(prior.get("deletion_protection_enabled")):
        _update_table(
            api,
            name,
            "updating deletion protection of",
            DeletionProtectionEnabled=bool(planned.get("deletion_protection_enabled")),
        )

    if planned.get("table_class") and planned.get("table_class") != prior.get("table_class"):
        _update_table(api, name, "updating table class of", TableClass=planned["table_class"])

    # One index change per call, as AWS requires. moto keeps the attribute definitions of a dropped
    # index's keys (AWS drops them itself), so the planned definitions go with every index change.
    for index_name in delete:
        _update_table(
            api,
            name,
            f"deleting index {index_name} of",
            AttributeDefinitions=attributes,
            GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": index_name}}],
        )
    for gsi in create:
        _update_table(
            api,
            name,
            f"creating index {gsi['name']} of",
            AttributeDefinitions=attributes,
            GlobalSecondaryIndexUpdates=[{"Create": _gsi_create(planned, gsi)}],
        )
    if _provisioned(planned) and not billing_changed:
        for old, new in kept:
            if _gsi_throughput(prior, old) != _gsi_throughput(planned, new):
                _update_table(
                    api,
                    name,
                    f"updating capacity of index {new['name']} of",
                    GlobalSecondaryIndexUpdates=[
                        {"Update": {"IndexName": new["name"], "ProvisionedThroughput": _gsi_throughput(planned, new)}}
                    ],
                )

    was_on, now_on = bool(prior.get("stream_enabled")), bool(planned.get("stream_enabled"))
    view_changed = planned.get("stream_view_type") != prior.get("stream_view_type")
    if was_on and (not now_on or view_changed):  # AWS changes the view type only by turning off first
        _update_table(api, name, "disabling the stream of", StreamSpecification={"StreamEnabled": False})
    if now_on and (not was_on or view_changed):
        # moto refuses (ResourceInUseException "Cannot enable stream") once the table has had a stream.
        _update_table(
            api,
            name,
            "enabling the stream of",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": planned.get("stream_view_type")},
        )

    if _changed(planned, prior, "server_side_encryption", "kms_key_arn"):
        sse = _sse_spec(planned) or {"Enabled": False}
        # moto ignores SSESpecification on UpdateTable: the read after this shows what it holds.
        _update_table(api, name, "updating encryption of", SSESpecification=sse)

    if planned.get("ttl") != prior.get("ttl"):
        _apply_ttl(api, name, planned)
    if _changed(planned, prior, "point_in_time_recovery", "recovery_period_in_days"):
        _apply_pitr(api, name, planned, creating=False)

    table = _wait_active(api, name)
    live_tags = _live_tags(api, table["TableArn"])
    want_tags = dict(planned.get("tags_all") or {})
    gone = [k for k in live_tags if k not in want_tags]
    if gone:
        _guard("untagging", name, api.dynamodb.untag_resource, ResourceArn=table["TableArn"], TagKeys=gone)
    changed = {k: v for k, v in want_tags.items() if live_tags.get(k) != v}
    if changed:
        _guard("tagging", name, api.dynamodb.tag_resource, ResourceArn=table["TableArn"], Tags=_tag_list(changed))
    return {**planned, **_read_described(api, planned, _wait_active(api, name))}


def _table_delete(api: Api, state: State) -> None:
    name = state.get("name") or state["id"]
    table = _describe(api, name)
    if table is None:
        return
    if table.get("DeletionProtectionEnabled"):
        raise ResourceError(
            f"deleting DynamoDB table ({name})",
            "ValidationException: Resource cannot be deleted as it is currently protected against deletion. "
            "Set deletion_protection_enabled = false (apply it) first.",
        )
    try:
        api.dynamodb.delete_table(TableName=name)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return
        raise aws_failure(f"deleting DynamoDB table ({name})", exc) from exc
    deadline = time.monotonic() + _WAIT_SECONDS
    while _describe(api, name) is not None:  # moto: gone at once
        if time.monotonic() > deadline:
            raise ResourceError(f"deleting DynamoDB table ({name})", "still DELETING")
        time.sleep(_POLL_SECONDS)


def _table_import(api: Api, import_id: str) -> State | None:
    if _describe(api, import_id) is None:
        return None
    return {"id": import_id, "name": import_id}


TABLE = Handler(
    type_name="aws_dynamodb_table",
    create=_table_create,
    read=_table_read,
    update=_table_update,
    delete=_table_delete,
    import_state=_table_import,
    replace_on=frozenset(
        {
            "name",
            "hash_key",
            "range_key",
            "local_secondary_index",
            "region",
            "restore_source_name",
            "restore_source_table_arn",
            "restore_date_time",
            "restore_to_latest_time",
            "restore_backup_arn",
            "import_table",
        }
    ),
)

HANDLERS: list[Handler] = [TABLE]

"""DynamoDB-only behaviour of the row store, against a moto server over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from rowstore_backends import RANGE_BASE, Backend, unique

from migrate.db import RowStoreError, open_store, update_for
from migrate.db.base import Backoff
from migrate.db.dynamo import DynamoRowStore
from migrate.job import DynamoDatabase
from migrate.types import RowUpdate
from toolkit.demo.emulator import Emulator


def test_composite_keys_with_numeric_ranges(dynamo_backend: Backend) -> None:
    client = dynamo_backend.client
    spec = dynamo_backend.create([])
    assert isinstance(spec, DynamoDatabase)
    items = [
        {"userId": {"S": "alice"}, "uploadedAt": {"N": "1700000000123"}, "path": {"S": "alice/a.jpg"}},
        {"userId": {"S": "alice"}, "uploadedAt": {"N": "1.5"}, "path": {"S": "alice/b.jpg"}},
        {"userId": {"S": "bob"}, "uploadedAt": {"N": "1700000000123"}, "path": {"S": "bob/a.jpg"}},
        {"userId": {"S": "bob"}, "uploadedAt": {"N": "-7"}, "path": {"S": "bob/neg.jpg"}, "size": {"N": "10"}},
    ]
    for item in items:
        client.put_item(TableName=spec.table, Item=item)
    with open_store(spec, dynamodb_client=client) as store:  # type: ignore[attr-defined]
        rows = {row.path: row for row in store.rows()}
        assert set(rows) == {"alice/a.jpg", "alice/b.jpg", "bob/a.jpg", "bob/neg.jpg"}
        assert json.loads(rows["alice/a.jpg"].id) == {"userId": "alice", "uploadedAt": 1700000000123}
        assert rows["alice/a.jpg"].id == '{"uploadedAt": 1700000000123, "userId": "alice"}'  # sorted keys
        assert json.loads(rows["alice/b.jpg"].id) == {"userId": "alice", "uploadedAt": 1.5}
        assert rows["bob/neg.jpg"].columns == {"userId": "bob", "uploadedAt": -7, "path": "bob/neg.jpg", "size": 10}
        outcomes = store.apply([update_for(spec, row, key=f"k/{row.path}", url="u") for row in rows.values()])
        assert {o.status for o in outcomes} == {"updated"}
        current = store.read(list(reversed([row.id for row in rows.values()])))
    assert {c["path"]: c["s3_key"] for c in current.values()} == {p: f"k/{p}" for p in rows}
    stored = client.get_item(TableName=spec.table, Key={"userId": {"S": "alice"}, "uploadedAt": {"N": "1.5"}})
    assert stored["Item"]["s3_key"] == {"S": "k/alice/b.jpg"}
    assert stored["Item"]["storage"] == {"S": "s3"}


def test_null_empty_and_non_string_paths_are_skipped(dynamo_backend: Backend) -> None:
    spec = dynamo_backend.create([{"id": 1, "path": "ok.jpg"}, {"id": 2}])
    client = dynamo_backend.client
    extra = {
        3: {"NULL": True},
        4: {"S": ""},
        5: {"N": "5"},
    }
    for logical, path in extra.items():
        client.put_item(TableName=spec.table, Item={**dynamo_backend.dynamo_key(logical), "path": path})
    with open_store(spec, dynamodb_client=client) as store:  # type: ignore[attr-defined]
        assert [row.path for row in store.rows()] == ["ok.jpg"]


def test_where_matches_strings_numbers_and_booleans(dynamo_backend: Backend) -> None:
    spec = dynamo_backend.create(
        [
            {"id": 1, "path": "1", "owner": "ann", "version": 2, "public": True},
            {"id": 2, "path": "2", "owner": "ann", "version": 2, "public": False},
            {"id": 3, "path": "3", "owner": "ann", "version": 3, "public": True},
            {"id": 4, "path": "4", "owner": "bob", "version": 2, "public": True},
        ],
        where={"owner": "ann", "version": 2, "public": True},
    )
    with open_store(spec, dynamodb_client=dynamo_backend.client) as store:  # type: ignore[attr-defined]
        assert [row.path for row in store.rows()] == ["1"]


def test_a_null_attribute_counts_as_none_and_deleted_items_are_not_recreated(dynamo_backend: Backend) -> None:
    spec = dynamo_backend.create([{"id": 1, "path": "n/1"}, {"id": 2, "path": "n/2"}])
    client = dynamo_backend.client
    client.update_item(
        TableName=spec.table,
        Key=dynamo_backend.dynamo_key(1),
        UpdateExpression="SET s3_key = :null",
        ExpressionAttributeValues={":null": {"NULL": True}},
    )
    dynamo_backend.app_delete(spec, 2)
    with open_store(spec, dynamodb_client=client) as store:  # type: ignore[attr-defined]
        outcomes = store.apply(
            [
                RowUpdate(dynamo_backend.row_id(1), expect={"s3_key": None}, values={"s3_key": "new/1"}),
                RowUpdate(dynamo_backend.row_id(2), expect={"s3_key": None}, values={"s3_key": "new/2"}),
            ]
        )
    assert [o.status for o in outcomes] == ["updated", "missing"]
    assert "Item" not in client.get_item(TableName=spec.table, Key=dynamo_backend.dynamo_key(2))


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self.data


def test_throttling_is_retried_with_backoff(moto: Emulator, dynamo_backend: Backend) -> None:
    spec = dynamo_backend.create([{"id": i, "path": f"t/{i}"} for i in range(1, 4)])
    # A client without botocore's own retries: the store's backoff must do the work.
    client = boto3.client(
        "dynamodb",
        endpoint_url=moto.endpoint,
        region_name="us-east-1",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    sends = {"throttled": 0, "passed": 0}

    def throttle_three_times(request: Any, **kwargs: Any) -> Any:
        if sends["throttled"] < 3:
            sends["throttled"] += 1
            body = json.dumps(
                {
                    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                    "message": "The level of configured provisioned throughput for the table was exceeded.",
                }
            ).encode()
            headers: Any = {"x-amzn-RequestId": "throttled", "Content-Type": "application/x-amz-json-1.0"}
            return AWSResponse(request.url, 400, headers, _Body(body))
        sends["passed"] += 1
        return None

    client.meta.events.register("before-send.dynamodb.UpdateItem", throttle_three_times)
    store = DynamoRowStore(spec, client=client, workers=1, backoff=Backoff(max_attempts=6, base=0.01))  # type: ignore[arg-type]
    rows = sorted(store.rows(), key=lambda r: r.id)
    outcomes = store.apply([update_for(spec, row, key=f"k/{row.path}", url="u") for row in rows])
    assert [o.status for o in outcomes] == ["updated"] * 3
    assert sends == {"throttled": 3, "passed": 3}
    # Throttled past the last attempt: a clear error, not a silent skip.
    sends["throttled"] = -10
    store.backoff = Backoff(max_attempts=2, base=0.01)
    with pytest.raises(RowStoreError, match="updating row"):
        store.apply([RowUpdate(rows[0].id, expect={}, values={"owner": "x"})])


def test_open_store_makes_its_own_client(moto: Emulator, dynamo_backend: Backend) -> None:
    spec = dynamo_backend.create([{"id": 1, "path": "own/1"}])
    store = open_store(spec, region="us-east-1", endpoint=moto.endpoint)
    try:
        assert [row.path for row in store.rows()] == ["own/1"]
    finally:
        store.close()


def test_wrong_tables_keys_and_ids_are_clear_errors(dynamo_backend: Backend) -> None:
    spec = dynamo_backend.create([{"id": 1, "path": "e/1"}])
    assert isinstance(spec, DynamoDatabase)
    client = dynamo_backend.client
    with pytest.raises(RowStoreError, match="does not exist"):
        open_store(spec.model_copy(update={"table": unique("missing")}), dynamodb_client=client)
    with pytest.raises(RowStoreError, match="keyed by") as keys:
        open_store(spec.model_copy(update={"range_key": None}), dynamodb_client=client)
    assert keys.value.hint and "range_key" in keys.value.hint
    with open_store(spec, dynamodb_client=client) as store:  # type: ignore[attr-defined]
        with pytest.raises(RowStoreError, match="not a row id"):
            store.read(['{"userId": "x"}'])
        with pytest.raises(RowStoreError, match="key attribute"):
            store.apply([RowUpdate(dynamo_backend.row_id(1), expect={}, values={"userId": "y"})])
        assert store.read([json.dumps({"userId": "user-1", "uploadedAt": RANGE_BASE + 1})])


def test_a_denial_is_a_clear_error_naming_the_permissions(moto: Emulator, dynamo_backend: Backend) -> None:
    """moto answers a DynamoDB call IAM denies with HTTP 403 and an XML body (botocore code '403')."""
    spec = dynamo_backend.create([{"id": 1, "path": "d/1"}])
    client = boto3.client("dynamodb", endpoint_url=moto.endpoint, region_name="us-east-1")

    def deny(request: Any, **kwargs: Any) -> Any:
        body = b"<?xml version='1.0'?><ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>"
        headers: Any = {"Content-Type": "text/xml"}
        return AWSResponse(request.url, 403, headers, _Body(body))

    client.meta.events.register("before-send.dynamodb.DescribeTable", deny)
    with pytest.raises(RowStoreError, match="refused describe_table") as caught:
        open_store(spec, dynamodb_client=client)
    assert caught.value.hint and "dynamodb:UpdateItem" in caught.value.hint

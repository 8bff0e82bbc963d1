"""DynamoDB tables through boto3's low-level client.

- `rows()` is a paginated Scan whose FilterExpression keeps items whose path attribute is a non-empty
  string and that match every `where` attribute = value.
- A row id is the JSON of the item's key, {hash_key: v, range_key: v} with sorted keys; numbers as
  JSON numbers, binary keys as base64 text. The table's key schema (DescribeTable) turns ids back
  into typed keys.
- `apply()` sends one conditional UpdateItem per row (a few in parallel): the condition is that the
  item exists and every expected attribute holds its value (None: absent or NULL). A failed condition
  is classified by reading the item: "already" / "missing" / "conflict". DynamoDB has no transaction
  across a whole batch here: rows are independent, and every update is idempotent.
- Throttling, 5xx and dropped connections are retried with jittered backoff, on top of botocore's own.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from cargohold_core.aws import error_code
from migrate.db.base import DEFAULT_BACKOFF, Backoff, RowStoreError
from migrate.job import DynamoDatabase
from migrate.types import Row, RowId, RowOutcome, RowStatus, RowUpdate

_THROTTLED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
}
_DENIED = {"403", "AccessDenied", "AccessDeniedException", "UnrecognizedClientException"}
_PERMISSIONS = "dynamodb:DescribeTable, dynamodb:Scan, dynamodb:UpdateItem, dynamodb:GetItem, dynamodb:BatchGetItem"
_BATCH_GET_LIMIT = 100

_serializer = TypeSerializer()
_deserializer: Any = TypeDeserializer()  # Any: the stubs want TypedDicts, the items are plain dicts


def plain(value: Any) -> Any:
    """A deserialized DynamoDB value with Decimals as int (integral) or float, Binary as bytes."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Binary):
        return bytes(value.value)  # type: ignore[attr-defined]  # the stubs omit Binary.value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {plain(v) for v in value}
    return value


def _to_dynamo(value: Any) -> Any:
    """A Python value TypeSerializer accepts (floats become exact Decimals of their repr)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {_to_dynamo(v) for v in value}
    return value


def serialize(value: Any) -> dict[str, Any]:
    try:
        return dict(_serializer.serialize(_to_dynamo(value)))
    except TypeError as exc:
        raise RowStoreError(f"cannot store {value!r} in DynamoDB: {exc}", hint="use text, numbers or booleans") from exc


def _key_part(attribute: dict[str, Any]) -> Any:
    """One key attribute (low-level form) as plain JSON: S -> str, N -> int/float (exact) or str, B -> base64."""
    (kind, raw), *_ = attribute.items()
    if kind == "N":
        number = Decimal(raw)
        if number == number.to_integral_value():
            return int(number)
        as_float = float(number)
        return as_float if Decimal(repr(as_float)) == number else raw
    if kind == "B":
        data = raw if isinstance(raw, bytes) else bytes(raw)
        return base64.b64encode(data).decode("ascii")
    return raw


class DynamoRowStore:
    """A RowStore over one DynamoDB table. Use `open_store(spec)` (migrate.db) rather than this directly."""

    def __init__(
        self,
        spec: DynamoDatabase,
        *,
        client: Any | None = None,
        region: str | None = None,
        endpoint: str | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        workers: int = 8,
        page_size: int | None = None,
    ) -> None:
        self.spec = spec
        self.page_size = page_size  # Scan `Limit`: items read per request (None: up to 1 MB per page)
        self.backoff = backoff
        self.workers = max(1, workers)
        self._owns_client = client is None
        if client is None:
            config = Config(retries={"mode": "standard", "max_attempts": 4}, max_pool_connections=self.workers * 2)
            session: Any = boto3.session.Session(region_name=region)
            client = session.client("dynamodb", endpoint_url=endpoint, config=config)
        self.client: Any = client
        self._key_types = self._describe()

    # ------------------------------------------------------------------ setup

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """client.<operation>(**kwargs), retried on throttling; a denial becomes a RowStoreError."""
        method: Callable[..., Any] = getattr(self.client, operation)
        try:
            return self.backoff.run(lambda: method(**kwargs), retryable=_retryable)
        except BotoCoreError as exc:  # no answer at all: endpoint unreachable, timeouts, credentials
            raise RowStoreError(
                f"DynamoDB {operation} on table {self.spec.table!r} failed: {exc}",
                hint="check the region, the endpoint, the network and the credentials, then run again",
            ) from exc
        except ClientError as exc:
            code = error_code(exc)
            if code in _DENIED:
                raise RowStoreError(
                    f"DynamoDB refused {operation} on table {self.spec.table!r} ({code})",
                    hint=f"the migration needs {_PERMISSIONS} on this table",
                ) from exc
            raise

    def _describe(self) -> dict[str, str]:
        try:
            table = self._call("describe_table", TableName=self.spec.table)["Table"]
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise RowStoreError(
                    f"DynamoDB table {self.spec.table!r} does not exist",
                    hint="check `database.table` in the job, the region and the endpoint",
                ) from exc
            raise RowStoreError(f"cannot describe DynamoDB table {self.spec.table!r}: {exc}") from exc
        schema = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
        types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
        actual = (schema.get("HASH"), schema.get("RANGE"))
        if actual != (self.spec.hash_key, self.spec.range_key):
            raise RowStoreError(
                f"DynamoDB table {self.spec.table!r} is keyed by hash={actual[0]!r} range={actual[1]!r}, "
                f"the job says hash={self.spec.hash_key!r} range={self.spec.range_key!r}",
                hint="set `database.hash_key` and `database.range_key` to the table's key schema",
            )
        return {name: types[name] for name in (self.spec.hash_key, self.spec.range_key) if name is not None}

    # ------------------------------------------------------------------ ids

    def row_id(self, item: Mapping[str, Any]) -> RowId:
        """The row id of an item in low-level form ({"userId": {"S": "u1"}, ...})."""
        return json.dumps({name: _key_part(item[name]) for name in self._key_types}, sort_keys=True)

    def _key(self, row_id: RowId) -> dict[str, Any]:
        try:
            parsed = json.loads(row_id)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or set(parsed) != set(self._key_types):
            raise RowStoreError(
                f"not a row id of DynamoDB table {self.spec.table!r}: {row_id!r}",
                hint=f"row ids are JSON objects with the keys {sorted(self._key_types)}",
            )
        key: dict[str, Any] = {}
        for name, kind in self._key_types.items():
            value = parsed[name]
            if kind == "N":
                key[name] = {"N": str(Decimal(str(value)))}
            elif kind == "B":
                key[name] = {"B": base64.b64decode(str(value))}
            else:
                key[name] = {"S": str(value)}
        return key

    # ------------------------------------------------------------------ rows

    def rows(self) -> Iterator[Row]:
        """Every item whose path attribute is a non-empty string and that matches `where`, page by page."""
        names = {"#path": self.spec.path_attribute}
        values: dict[str, Any] = {":string": {"S": "S"}, ":empty": {"S": ""}}
        conditions = ["attribute_type(#path, :string)", "#path <> :empty"]
        for i, (attribute, wanted) in enumerate(self.spec.where.items()):
            names[f"#w{i}"] = attribute
            values[f":w{i}"] = serialize(wanted)
            conditions.append(f"#w{i} = :w{i}")
        request: dict[str, Any] = {
            "TableName": self.spec.table,
            "FilterExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if self.page_size is not None:
            request["Limit"] = self.page_size
        while True:
            try:
                page = self._call("scan", **request)
            except ClientError as exc:
                raise RowStoreError(f"scanning DynamoDB table {self.spec.table!r} failed: {exc}") from exc
            for item in page.get("Items", []):
                yield self._row(item)
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    def _row(self, item: Mapping[str, Any]) -> Row:
        columns = {name: plain(_deserializer.deserialize(value)) for name, value in item.items()}
        return Row(
            id=self.row_id(item),
            path=str(columns[self.spec.path_attribute]),
            columns=columns,
            key_value=columns.get(self.spec.key_attribute),
        )

    # ------------------------------------------------------------------ apply

    def _check(self, update: RowUpdate) -> None:
        if not update.values:
            raise RowStoreError(f"the update of row {update.id} sets no attribute", hint="this is a bug in the caller")
        touched = set(update.values) & set(self._key_types)
        if touched:
            raise RowStoreError(
                f"the update of row {update.id} would change the key attribute(s) {sorted(touched)}",
                hint="the key template's target (`database.key_attribute`) must not be part of the table's key",
            )

    def apply(self, updates: Sequence[RowUpdate]) -> list[RowOutcome]:
        """One conditional UpdateItem per row (up to `workers` at a time); outcomes in the order given."""
        for update in updates:
            self._check(update)
        if not updates:
            return []
        workers = min(self.workers, len(updates))
        if workers == 1:
            return [RowOutcome(u.id, self._apply_one(u)) for u in updates]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cargohold-dynamodb") as pool:
            futures = [pool.submit(self._apply_one, u) for u in updates]
            errors = [f.exception() for f in futures]  # wait for every row before raising
        for error in errors:
            if error is not None:
                raise error
        return [RowOutcome(u.id, f.result()) for u, f in zip(updates, futures, strict=True)]

    def _apply_one(self, update: RowUpdate) -> RowStatus:
        key = self._key(update.id)
        names: dict[str, str] = {"#key": self.spec.hash_key}
        values: dict[str, Any] = {}
        sets: list[str] = []
        removes: list[str] = []
        for i, (attribute, value) in enumerate(update.values.items()):
            names[f"#v{i}"] = attribute
            if value is None:
                removes.append(f"#v{i}")
            else:
                values[f":v{i}"] = serialize(value)
                sets.append(f"#v{i} = :v{i}")
        conditions = ["attribute_exists(#key)"]  # never create an item that was deleted
        for i, (attribute, value) in enumerate(update.expect.items()):
            names[f"#e{i}"] = attribute
            if value is None:
                values[":null"] = {"S": "NULL"}
                conditions.append(f"(attribute_not_exists(#e{i}) OR attribute_type(#e{i}, :null))")
            else:
                values[f":e{i}"] = serialize(value)
                conditions.append(f"#e{i} = :e{i}")
        expression = " ".join(
            part
            for part in ("SET " + ", ".join(sets) if sets else "", "REMOVE " + ", ".join(removes) if removes else "")
            if part
        )
        request: dict[str, Any] = {
            "TableName": self.spec.table,
            "Key": key,
            "UpdateExpression": expression,
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names,
        }
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            self._call("update_item", **request)
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise RowStoreError(f"updating row {update.id} of {self.spec.table!r} failed: {exc}") from exc
        else:
            return "updated"
        item = self._get(key)
        if item is None:
            return "missing"
        if all(_holds(item.get(name), wanted) for name, wanted in update.values.items()):
            return "already"
        return "conflict"

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        try:
            response = self._call("get_item", TableName=self.spec.table, Key=key, ConsistentRead=True)
        except ClientError as exc:
            raise RowStoreError(f"reading an item of {self.spec.table!r} failed: {exc}") from exc
        item = response.get("Item")
        return dict(item) if item else None

    # ------------------------------------------------------------------ read

    def read(self, ids: Sequence[RowId]) -> dict[RowId, dict[str, Any]]:
        """The current attributes of the items `ids` (deserialized, plain numbers); missing items left out."""
        wanted: dict[RowId, RowId] = {}  # canonical id -> id as asked
        keys: list[dict[str, Any]] = []
        for row_id in ids:
            key = self._key(row_id)
            canonical = self.row_id(key)
            if canonical not in wanted:
                wanted[canonical] = row_id
                keys.append(key)
        found: dict[RowId, dict[str, Any]] = {}
        for start in range(0, len(keys), _BATCH_GET_LIMIT):
            pending: list[dict[str, Any]] = keys[start : start + _BATCH_GET_LIMIT]
            attempt = 1
            while pending:
                request = {self.spec.table: {"Keys": pending, "ConsistentRead": True}}
                try:
                    response = self._call("batch_get_item", RequestItems=request)
                except ClientError as exc:
                    raise RowStoreError(f"reading items of {self.spec.table!r} failed: {exc}") from exc
                for item in response.get("Responses", {}).get(self.spec.table, []):
                    asked = wanted.get(self.row_id(item))
                    if asked is not None:
                        found[asked] = {name: plain(_deserializer.deserialize(v)) for name, v in item.items()}
                pending = response.get("UnprocessedKeys", {}).get(self.spec.table, {}).get("Keys", [])
                if pending:
                    if attempt >= self.backoff.max_attempts * 2:
                        raise RowStoreError(
                            f"DynamoDB kept {len(pending)} keys of {self.spec.table!r} unprocessed",
                            hint="the table is throttled; raise its read capacity or try again later",
                        )
                    time.sleep(self.backoff.delay(attempt))
                    attempt += 1
        return found

    def close(self) -> None:
        if self._owns_client:
            close = getattr(self.client, "close", None)
            if callable(close):
                close()

    def __enter__(self) -> DynamoRowStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError)):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(exc) in _THROTTLED or (isinstance(status, int) and status >= 500)
    return False


def _holds(attribute: dict[str, Any] | None, wanted: Any) -> bool:
    """True when a low-level attribute (or its absence) holds `wanted` (None: absent or NULL)."""
    if attribute is None or "NULL" in attribute:
        return wanted is None
    if wanted is None:
        return False
    try:
        return bool(_deserializer.deserialize(attribute) == _deserializer.deserialize(serialize(wanted)))
    except (TypeError, ValueError):
        return False

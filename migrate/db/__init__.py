"""Database adapters: read the rows that point at local files, and rewrite them conditionally.

    store = open_store(job.database)             # SqlDatabase -> SqlRowStore, DynamoDatabase -> DynamoRowStore
    for row in store.rows(): ...                 # streamed, filtered by `where`, rows without a path skipped
    update = update_for(job.database, row, key="u/1/a.jpg", url="https://...")
    outcomes = store.apply([update, ...])        # updated | already | conflict | missing, in order
    store.apply([rollback_of(update)])           # put the old values back, on the same conditions
    store.read([row.id])                         # current values, for verify/rollback
    store.close()

Every update is conditional on the row still holding the values it was planned from, so applying
the same updates again (a resumed run) changes nothing and reports "already".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from migrate.db.base import Backoff, RowStoreError
from migrate.job import DynamoDatabase, SqlDatabase
from migrate.types import Row, RowId, RowOutcome, RowUpdate

__all__ = ["Backoff", "RowStore", "RowStoreError", "open_store", "rollback_of", "update_for"]


class RowStore(Protocol):
    def rows(self) -> Iterator[Row]:
        """Every row with a non-empty path that passes the job's filter, streamed."""
        ...

    def apply(self, updates: Sequence[RowUpdate]) -> list[RowOutcome]:
        """Apply conditional updates; one outcome per update, in order. SQL: one transaction per call."""
        ...

    def read(self, ids: Sequence[RowId]) -> dict[RowId, dict[str, Any]]:
        """Current columns of the rows `ids`; rows that no longer exist are left out."""
        ...

    def close(self) -> None: ...


def open_store(
    spec: SqlDatabase | DynamoDatabase,
    *,
    dynamodb_client: Any | None = None,
    region: str | None = None,
    endpoint: str | None = None,
) -> RowStore:
    """Connect to the job's database and check its table and columns (RowStoreError when they are wrong).

    DynamoDB: pass a boto3 `dynamodb` client, or `region`/`endpoint` for one made here (the table name
    is used as given: resolve a config.yaml table key first, e.g. `spec.model_copy(update={"table": name})`).
    """
    if isinstance(spec, SqlDatabase):
        from migrate.db.sql import SqlRowStore

        return SqlRowStore(spec)
    from migrate.db.dynamo import DynamoRowStore

    return DynamoRowStore(spec, client=dynamodb_client, region=region, endpoint=endpoint)


def _columns(spec: SqlDatabase | DynamoDatabase) -> tuple[str, str, str | None, str | None]:
    if isinstance(spec, SqlDatabase):
        return spec.path_column, spec.key_column, spec.url_column, spec.storage_column
    return spec.path_attribute, spec.key_attribute, spec.url_attribute, spec.storage_attribute


def update_for(spec: SqlDatabase | DynamoDatabase, row: Row, *, key: str, url: str | None = None) -> RowUpdate:
    """The update that points `row` at the object `key`: sets the key column (and the URL and storage
    columns when the job has them), on condition that the row still holds every value read from it for
    those columns and the path. `expect` therefore holds the old values a rollback restores."""
    path_column, key_column, url_column, storage_column = _columns(spec)
    values: dict[str, Any] = {key_column: key}
    if url_column is not None:
        if url is None:
            raise RowStoreError(
                f"the job writes a URL into {url_column!r} but none was given for row {row.id}",
                hint="render `url_template` for the key and pass it as url=",
            )
        values[url_column] = url
    if storage_column is not None:
        values[storage_column] = spec.storage_value
    expect: dict[str, Any] = {path_column: row.columns.get(path_column, row.path)}
    for name in values:
        expect[name] = row.key_value if name == key_column else row.columns.get(name)
    return RowUpdate(id=row.id, expect=expect, values=values)


def rollback_of(update: RowUpdate) -> RowUpdate:
    """The update that undoes `update`: restores the old values of the columns it wrote, on condition
    that the row still holds what `update` wrote (so a row the application changed since is a conflict)."""
    missing = [name for name in update.values if name not in update.expect]
    if missing:
        raise RowStoreError(
            f"cannot roll back row {update.id}: its old value of {', '.join(missing)} was not recorded",
            hint="build updates with update_for(), which records every old value it overwrites",
        )
    return RowUpdate(id=update.id, expect=dict(update.values), values={n: update.expect[n] for n in update.values})

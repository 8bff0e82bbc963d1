"""update_for() and rollback_of(): the updates the engine sends, built from the job and a row (no database)."""

from __future__ import annotations

import pytest

from migrate.db import RowStoreError, rollback_of, update_for
from migrate.job import DynamoDatabase, SqlDatabase
from migrate.types import Row, RowUpdate

SQL = SqlDatabase(
    url="sqlite://", table="t", path_column="file", key_column="s3_key", url_column="url", storage_column="storage"
)
ROW = Row(
    id="7",
    path="a/b.jpg",
    columns={"id": 7, "file": "a/b.jpg", "s3_key": None, "url": None, "storage": "local", "other": 1},
    key_value=None,
)


def test_update_for_sets_key_url_and_storage_on_the_old_values() -> None:
    update = update_for(SQL, ROW, key="k/a/b.jpg", url="https://b/k/a/b.jpg")
    assert update == RowUpdate(
        id="7",
        expect={"file": "a/b.jpg", "s3_key": None, "url": None, "storage": "local"},
        values={"s3_key": "k/a/b.jpg", "url": "https://b/k/a/b.jpg", "storage": "s3"},
    )
    undo = rollback_of(update)
    assert undo.expect == update.values
    assert undo.values == {"s3_key": None, "url": None, "storage": "local"}


def test_update_for_only_writes_the_columns_the_job_names() -> None:
    spec = DynamoDatabase(kind="dynamodb", table="t", hash_key="h", path_attribute="p", key_attribute="k")
    row = Row(id='{"h": "x"}', path="p/1", columns={"h": "x", "p": "p/1"}, key_value=None)
    assert update_for(spec, row, key="key") == RowUpdate(id=row.id, expect={"p": "p/1", "k": None}, values={"k": "key"})


def test_a_url_column_needs_a_url_and_a_rollback_needs_the_old_values() -> None:
    with pytest.raises(RowStoreError, match="URL"):
        update_for(SQL, ROW, key="k")
    with pytest.raises(RowStoreError, match="old value of s3_key"):
        rollback_of(RowUpdate(id="7", expect={"file": "a/b.jpg"}, values={"s3_key": "k"}))

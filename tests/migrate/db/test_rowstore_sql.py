"""SQL-only behaviour of the row store: one transaction per batch, retry after a lost connection, errors.

Runs against SQLite (file), PostgreSQL and MariaDB (see conftest.py for where they come from).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rowstore_backends import KEY_WIDTH, Backend, unique, updates_for

from migrate.db import RowStoreError, open_store, update_for
from migrate.db.sql import SqlRowStore, is_transient
from migrate.job import SqlDatabase
from migrate.types import RowUpdate


def count_updates(store: SqlRowStore) -> list[str]:
    """Record every UPDATE statement the store sends (to prove what was, and was not, retried)."""
    seen: list[str] = []

    @sa.event.listens_for(store.engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            seen.append(statement)

    return seen


def untouched(backend: Backend, spec: Any, ids: range) -> bool:
    rows = [backend.get(spec, i) for i in ids]
    return all(r is not None and r["s3_key"] is None and r["storage"] == "local" for r in rows)


def test_a_batch_that_fails_midway_leaves_no_partial_update(sql_backend: Backend) -> None:
    spec = sql_backend.create([{"id": i, "path": f"p/{i}.jpg"} for i in range(1, 6)])
    store = SqlRowStore(spec)  # type: ignore[arg-type]
    sent = count_updates(store)
    try:
        updates = updates_for(spec, sorted(store.rows(), key=lambda r: r.id))
        # Row 3's new key breaks a CHECK constraint: rows 1-2 were already updated in the transaction.
        updates[2] = RowUpdate(updates[2].id, updates[2].expect, {**updates[2].values, "s3_key": "poison/3"})
        with pytest.raises(RowStoreError, match="rolled back") as caught:
            store.apply(updates)
    finally:
        store.close()
    assert caught.value.hint
    # one executemany for the whole batch (or rows 1, 2, 3 one by one where the driver cannot count
    # an executemany's rows); either way a constraint violation is not retried
    assert len(sent) == (1 if store.engine.dialect.supports_sane_multi_rowcount else 3)
    assert untouched(sql_backend, spec, range(1, 6))
    assert sql_backend.update_counts(spec) == {}


def test_a_value_too_long_for_its_column_rolls_the_batch_back(sql_backend: Backend) -> None:
    if sql_backend.name == "sqlite":
        pytest.skip("SQLite does not enforce VARCHAR lengths (the CHECK-constraint test covers its rollback)")
    spec = sql_backend.create([{"id": i, "path": f"p/{i}.jpg"} for i in range(1, 5)])
    store = open_store(spec)
    try:
        updates = updates_for(spec, sorted(store.rows(), key=lambda r: r.id))
        updates[-1] = RowUpdate(updates[-1].id, updates[-1].expect, {"s3_key": "k" * (KEY_WIDTH + 1)})
        with pytest.raises(RowStoreError, match="rolled back"):
            store.apply(updates)
    finally:
        store.close()
    assert untouched(sql_backend, spec, range(1, 5))


def _backend_pid(dbapi_connection: Any, dialect: str) -> int:
    cursor = dbapi_connection.cursor()
    cursor.execute("SELECT pg_backend_pid()" if dialect == "postgresql" else "SELECT CONNECTION_ID()")
    pid = int(cursor.fetchone()[0])
    cursor.close()
    return pid


def _kill(backend: Backend, pid: int) -> None:
    assert backend.admin is not None
    with backend.admin.connect() as admin:
        if backend.admin.dialect.name == "postgresql":
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        else:
            admin.exec_driver_sql(f"KILL CONNECTION {pid}")


@pytest.mark.parametrize("when", ["mid-batch", "before-apply"])
def test_a_lost_connection_is_retried_and_applies_exactly_once(sql_backend: Backend, when: str) -> None:
    if sql_backend.name == "sqlite":
        pytest.skip("SQLite has no server connection to kill")
    assert sql_backend.admin is not None
    dialect = sql_backend.admin.dialect.name
    spec = sql_backend.create([{"id": i, "path": f"k/{i}.jpg"} for i in range(1, 7)])
    store = SqlRowStore(spec)  # type: ignore[arg-type]
    killed: list[int] = []
    used: list[int] = []
    # A batch goes out as one executemany per statement shape where the driver counts its rows
    # (all three here), else as one UPDATE per row; kill the connection inside the batch either way.
    per_row = not store.engine.dialect.supports_sane_multi_rowcount
    statements = 6 if per_row else 1

    @sa.event.listens_for(store.engine, "before_cursor_execute")
    def kill_before_the_third_update(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith("UPDATE"):
            return
        pid = _backend_pid(cursor.connection, dialect)
        used.append(pid)
        if when == "mid-batch" and len(used) == (3 if per_row else 1) and not killed:
            killed.append(pid)
            _kill(sql_backend, pid)

    try:
        updates = updates_for(spec, sorted(store.rows(), key=lambda r: r.id))
        if when == "before-apply":  # the store's pooled connection dies while it is idle
            with store.engine.connect() as conn:
                pid = _backend_pid(conn.connection.dbapi_connection, dialect)
            killed.append(pid)
            _kill(sql_backend, pid)
        started = time.monotonic()
        outcomes = store.apply(updates)
        elapsed = time.monotonic() - started
    finally:
        store.close()
    assert killed, "the connection was never killed"
    assert killed[0] not in used[-statements:]  # the batch ran (again) on a new connection...
    assert len(used) == ((3 if per_row else 1) + statements if when == "mid-batch" else statements)  # ...from its start
    assert [o.status for o in outcomes] == ["updated"] * 6  # the killed transaction was rolled back
    assert sql_backend.update_counts(spec) == dict.fromkeys(range(1, 7), 1)  # exactly once each
    assert elapsed < 10


def _lost_answer(backend: Backend) -> Exception:
    """The error a driver raises when the connection drops before the server's answer arrives."""
    if backend.name == "postgresql":
        import psycopg

        return psycopg.OperationalError("server closed the connection unexpectedly")
    if backend.name == "mariadb":
        import pymysql  # type: ignore[import-untyped]

        lost: Exception = pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query")
        return lost
    import sqlite3

    return sqlite3.OperationalError("database is locked")


def test_a_commit_whose_answer_was_lost_is_retried_as_already(
    sql_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server committed, the client never heard: the retried batch finds every row already updated."""
    spec = sql_backend.create([{"id": i, "path": f"c/{i}.jpg"} for i in range(1, 5)])
    store = SqlRowStore(spec)  # type: ignore[arg-type]
    real_commit = store.engine.dialect.do_commit
    lost: list[bool] = []

    def commit_then_lose_the_answer(dbapi_connection: Any) -> None:
        real_commit(dbapi_connection)
        if not lost:
            lost.append(True)
            raise _lost_answer(sql_backend)

    monkeypatch.setattr(store.engine.dialect, "do_commit", commit_then_lose_the_answer)
    try:
        outcomes = store.apply(updates_for(spec, sorted(store.rows(), key=lambda r: r.id)))
    finally:
        store.close()
    assert lost
    assert [o.status for o in outcomes] == ["already"] * 4
    assert sql_backend.update_counts(spec) == dict.fromkeys(range(1, 5), 1)


def test_rows_stream_through_a_server_side_cursor_or_keyset_pages(sql_backend: Backend) -> None:
    spec = sql_backend.create([{"id": i, "path": f"s/{i}"} for i in range(1, 6)])
    store = SqlRowStore(spec, fetch_size=2)  # type: ignore[arg-type]
    selects: list[tuple[str, str]] = []

    @sa.event.listens_for(store.engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and spec.table in statement:
            selects.append((type(cursor).__name__, statement))

    try:
        assert [int(r.id) for r in store.rows()] == [1, 2, 3, 4, 5]
    finally:
        store.close()
    if sql_backend.name == "sqlite":
        assert len(selects) == 3 and all("LIMIT" in s for _, s in selects)  # pages of 2, 2 and 1
    else:
        assert len(selects) == 1
        assert selects[0][0] in {"ServerCursor", "SSCursor", "SSDictCursor"}, selects[0][0]


def test_the_where_filter_is_parenthesised(sql_backend: Backend) -> None:
    spec = sql_backend.create(
        [
            {"id": 1, "path": "w/1"},
            {"id": 2, "path": "w/2", "storage": "s3", "owner": "vip"},
            {"id": 3, "path": None, "owner": "vip"},
            {"id": 4, "path": "", "owner": "vip"},
            {"id": 5, "path": "w/5", "storage": "s3"},
        ],
        where="storage = 'local' OR owner = 'vip' AND path NOT LIKE '%:never%' AND owner <> ':x'",
    )
    with SqlRowStore(spec) as store:  # type: ignore[arg-type]
        assert sorted(int(r.id) for r in store.rows()) == [1, 2]


def test_string_and_uuid_primary_keys(sql_backend: Backend) -> None:
    assert sql_backend.admin is not None and sql_backend.url is not None
    name = unique("docs")
    metadata = sa.MetaData()
    table = sa.Table(
        name,
        metadata,
        sa.Column("doc_id", sa.Uuid, primary_key=True),
        sa.Column("slug", sa.String(64), unique=True),
        sa.Column("file_path", sa.Text),
        sa.Column("object_key", sa.String(512)),
        mysql_charset="utf8mb4",
    )
    metadata.create_all(sql_backend.admin)
    sql_backend.tables.append(name)
    ids = [uuid.uuid4() for _ in range(3)]
    with sql_backend.admin.begin() as conn:
        conn.execute(
            table.insert(), [{"doc_id": u, "slug": f"doc {i}", "file_path": f"d/{i}"} for i, u in enumerate(ids)]
        )
    for id_column in ("doc_id", "slug"):
        spec = SqlDatabase(
            url=sql_backend.url, table=name, id_column=id_column, path_column="file_path", key_column="object_key"
        )
        with open_store(spec) as store:  # type: ignore[attr-defined]
            rows = list(store.rows())
            assert len(rows) == 3
            outcomes = store.apply([update_for(spec, r, key=f"{id_column}/{r.path}") for r in rows])
            assert {o.status for o in outcomes} == {"updated"}
            current = store.read([r.id for r in rows])
            assert set(current) == {r.id for r in rows}
            assert {c["object_key"] for c in current.values()} == {f"{id_column}/d/{i}" for i in range(3)}


def test_bad_tables_and_columns_are_clear_errors(sql_backend: Backend) -> None:
    spec = sql_backend.create([{"id": 1, "path": "e/1"}])
    assert isinstance(spec, SqlDatabase)
    with pytest.raises(RowStoreError, match="does not exist") as missing:
        open_store(spec.model_copy(update={"table": unique("nope")}))
    assert missing.value.hint and "database.table" in missing.value.hint
    with pytest.raises(RowStoreError, match="no column 'file'") as column:
        open_store(spec.model_copy(update={"path_column": "file"}))
    assert column.value.hint and "path" in column.value.hint and "s3_key" in column.value.hint
    store = open_store(spec.model_copy(update={"where": "no_such_column = 1"}))
    try:
        with pytest.raises(RowStoreError, match="reading rows"):
            list(store.rows())
        with pytest.raises(RowStoreError, match="no column 'nope'"):
            store.apply([RowUpdate(id="1", expect={"nope": 1}, values={"s3_key": "k"})])
        with pytest.raises(RowStoreError, match="id column"):
            store.apply([RowUpdate(id="1", expect={}, values={"id": 2})])
    finally:
        store.close()


def test_a_non_unique_id_column_refuses_the_batch(sql_backend: Backend) -> None:
    spec = sql_backend.create([{"id": 1, "path": "same", "owner": "twin"}, {"id": 2, "path": "same", "owner": "twin"}])
    assert isinstance(spec, SqlDatabase)
    spec = spec.model_copy(update={"id_column": "owner"})
    with open_store(spec) as store:  # type: ignore[attr-defined]
        rows = list(store.rows())
        with pytest.raises(RowStoreError, match="have the id"):
            store.apply([update_for(spec, rows[0], key="k", url="u")])
    assert untouched(sql_backend, spec, range(1, 3))


def test_unreachable_database_is_a_clear_error() -> None:
    spec = SqlDatabase(url="postgresql+psycopg://nobody@127.0.0.1:1/none", table="t", path_column="p", key_column="k")
    with pytest.raises(RowStoreError, match="cannot read the table") as caught:
        open_store(spec)
    assert caught.value.hint and "URL" in caught.value.hint


def test_transient_errors_are_told_apart() -> None:
    class Orig(Exception):
        pass

    def wrapped(orig: BaseException, kind: type[sa.exc.DBAPIError] = sa.exc.OperationalError) -> sa.exc.DBAPIError:
        return kind("UPDATE t", {}, orig)

    lock_timeout = Orig(1205, "Lock wait timeout exceeded")
    check_failed = Orig(4025, "CONSTRAINT `x` failed")  # PyMySQL raises this as OperationalError
    too_long = Orig(1406, "Data too long")
    assert is_transient(wrapped(lock_timeout))
    assert not is_transient(wrapped(check_failed))
    assert not is_transient(wrapped(too_long, sa.exc.DataError))
    assert is_transient(wrapped(Orig("database is locked")))
    assert not is_transient(wrapped(Orig("no such column: x")))
    assert not is_transient(ValueError("nope"))


def _sqlite_spec(url: str) -> SqlDatabase:
    return SqlDatabase(url=url, table="photos", path_column="path", key_column="s3_key")


@pytest.mark.parametrize("where", ["absolute", "relative", "missing folder"])
def test_a_missing_sqlite_file_is_an_error_and_creates_nothing(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    wanted = tmp_path / ("gone/app.db" if where == "missing folder" else "app.db")
    url = "sqlite:///app.db" if where == "relative" else f"sqlite:///{wanted}"
    with pytest.raises(RowStoreError) as caught:
        open_store(_sqlite_spec(url))
    assert caught.value.message == f"the SQLite database {wanted} does not exist"
    assert caught.value.hint and "database.url" in caught.value.hint and "relative to the job file" in caught.value.hint
    assert list(tmp_path.iterdir()) == []


def test_a_directory_is_not_a_sqlite_database(tmp_path: Path) -> None:
    with pytest.raises(RowStoreError, match="is a directory, not a SQLite database") as caught:
        open_store(_sqlite_spec(f"sqlite:///{tmp_path}"))
    assert str(tmp_path) in caught.value.message


def test_in_memory_and_uri_sqlite_urls_are_left_to_sqlite(tmp_path: Path) -> None:
    with pytest.raises(RowStoreError, match="table 'photos' does not exist"):
        open_store(_sqlite_spec("sqlite:///:memory:"))
    missing = tmp_path / "app.db"
    with pytest.raises(RowStoreError, match=r"cannot read the table 'photos'.*unable to open"):
        open_store(_sqlite_spec(f"sqlite:///file:{missing}?mode=ro&uri=true"))
    assert not missing.exists()
    created = sa.create_engine(f"sqlite:///{missing}")
    with created.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT, s3_key TEXT)")
    created.dispose()
    with open_store(_sqlite_spec(f"sqlite:///file:{missing}?mode=ro&uri=true")) as store:  # type: ignore[attr-defined]
        assert list(store.rows()) == []

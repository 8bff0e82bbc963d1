"""SQL databases (SQLite, PostgreSQL via psycopg 3, MySQL/MariaDB via PyMySQL) through SQLAlchemy Core 2.x.

- The table is reflected once; every column the job names is checked up front.
- `rows()` streams: PostgreSQL and MySQL/MariaDB through a server-side cursor (`stream_results`,
  `yield_per`) on a connection of its own; SQLite in keyset pages (`id > last ORDER BY id LIMIT n`),
  because an open SQLite read cursor would hold a lock that blocks `apply()` from committing.
- `apply()` runs one transaction per call. Each update is conditional (`WHERE id = :id AND` every
  expected column still holds its value, NULL-safe and exact), so a batch retried after a lost
  connection never changes a row twice: rows committed before the loss come back as "already".
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from migrate.db.base import DEFAULT_BACKOFF, Backoff, RowStoreError
from migrate.job import SqlDatabase
from migrate.types import Row, RowId, RowOutcome, RowStatus, RowUpdate

# MySQL/MariaDB error numbers worth a retry: lock wait timeout, deadlock, too many connections,
# server shutdown, gone away/lost/cannot connect, connection killed (MariaDB), idle disconnect.
_MYSQL_TRANSIENT = {1040, 1053, 1205, 1213, 1927, 2002, 2003, 2006, 2013, 2055, 4031}
# PostgreSQL SQLSTATE classes/codes worth a retry: connection exception, transaction rollback
# (serialization failure, deadlock), insufficient resources, operator intervention (admin shutdown,
# cannot connect now), lock not available.
_PG_TRANSIENT_CLASSES = {"08", "40", "53", "57"}
_PG_TRANSIENT_CODES = {"55P03"}
_TRANSIENT_WORDS = ("locked", "busy", "connection", "closed", "terminat", "timeout", "timed out", "server")


def encode_id(value: Any) -> RowId:
    """The row id of a primary-key value: its JSON (str() for what JSON has no type for)."""
    return json.dumps(value, default=str)


def is_transient(exc: BaseException) -> bool:
    """True for errors a retry of the whole batch can cure: a lost connection, a deadlock, a lock timeout."""
    if isinstance(exc, sa.exc.DisconnectionError):
        return True
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)  # psycopg
    if isinstance(sqlstate, str) and sqlstate:
        return sqlstate[:2] in _PG_TRANSIENT_CLASSES or sqlstate in _PG_TRANSIENT_CODES
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):  # PyMySQL: (errno, message)
        return args[0] in _MYSQL_TRANSIENT
    if isinstance(exc, sa.exc.OperationalError):  # SQLite "database is locked", psycopg without a SQLSTATE
        message = str(orig).lower()
        return any(word in message for word in _TRANSIENT_WORDS)
    return False


def _engine_for(url: str) -> sa.Engine:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise RowStoreError(
            f"the database URL is not a valid SQLAlchemy URL: {exc}",
            hint="write it like sqlite:///app.db, postgresql+psycopg://user@host/db or mysql+pymysql://user@host/db",
        ) from exc
    connect_args: dict[str, Any] = {}
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        _require_sqlite_file(parsed)
    # Defaults only: a value in the URL's query string wins.
    if backend == "sqlite" and "timeout" not in parsed.query:
        connect_args["timeout"] = 30  # wait for the application's writers instead of failing at once
    elif backend == "postgresql" and "application_name" not in parsed.query:
        connect_args["application_name"] = "cargohold-migrate"  # visible in pg_stat_activity
    try:
        return sa.create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise RowStoreError(
            f"cannot open {parsed.render_as_string(hide_password=True)}: {exc}",
            hint="use sqlite:///..., postgresql+psycopg://... or mysql+pymysql://... (those drivers are installed)",
        ) from exc


def _require_sqlite_file(url: sa.URL) -> None:
    """A SQLite URL must name an existing file: connecting would otherwise create an empty database,
    and the error would then blame the table. In-memory databases and SQLite URIs (`uri=true`, or a
    `mode=` that says whether to create) are left to SQLite."""
    database = url.database or ""
    if database in ("", ":memory:") or "uri" in url.query or "mode" in url.query:
        return
    path = Path(database).resolve()
    if path.is_file():
        return
    what = "is a directory, not a SQLite database" if path.is_dir() else "does not exist"
    raise RowStoreError(
        f"the SQLite database {path} {what}",
        hint="check `database.url` in the job: a relative sqlite:///path is resolved relative to the job file"
        " (write sqlite:////absolute/path for an absolute one); cargohold never creates the application's database",
    )


class SqlRowStore:
    """A RowStore over one SQL table. Use `open_store(spec)` (migrate.db) rather than this directly."""

    def __init__(
        self,
        spec: SqlDatabase,
        *,
        engine: sa.Engine | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        fetch_size: int = 1000,
        read_chunk: int = 500,
    ) -> None:
        self.spec = spec
        self.engine = engine if engine is not None else _engine_for(spec.url)
        self.backoff = backoff
        self.fetch_size = fetch_size
        self.read_chunk = read_chunk
        # Trusted SQL from the job file. Colons are escaped so that text like ':x' is not a bind parameter.
        self._where = f"({spec.where})".replace(":", "\\:") if spec.where and spec.where.strip() else None
        self._display = self.engine.url.render_as_string(hide_password=True)
        self.table = self._reflect()
        self._id = self.column(spec.id_column)
        self._path = self.column(spec.path_column)
        self.column(spec.key_column)
        for name in (spec.url_column, spec.storage_column):
            if name is not None:
                self.column(name)
        self._mysql = self.engine.dialect.name in ("mysql", "mariadb")
        self._id_type = _python_type(self._id)
        self._cache: dict[Any, tuple[sa.Update, sa.Select[Any]]] = {}

    # ------------------------------------------------------------------ setup

    def _reflect(self) -> sa.Table:
        schema, _, name = self.spec.table.rpartition(".")
        try:
            return sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=self.engine)
        except sa.exc.NoSuchTableError as exc:
            raise RowStoreError(
                f"table {self.spec.table!r} does not exist in {self._display}",
                hint="check `database.table` in the job (use schema.table for another schema)",
            ) from exc
        except sa.exc.SQLAlchemyError as exc:
            self.engine.dispose()
            raise RowStoreError(
                f"cannot read the table {self.spec.table!r} from {self._display}: {_short(exc)}",
                hint="check the database URL, that the server is running and that the user may read the table",
            ) from exc

    def column(self, name: str) -> sa.Column[Any]:
        """The reflected column `name`, or a RowStoreError listing the table's columns."""
        try:
            return self.table.c[name]
        except KeyError:
            known = ", ".join(c.name for c in self.table.columns)
            raise RowStoreError(
                f"table {self.spec.table!r} has no column {name!r}",
                hint=f"its columns are: {known}",
            ) from None

    # ------------------------------------------------------------------ ids

    def _id_value(self, row_id: RowId) -> Any:
        try:
            value = json.loads(row_id)
        except ValueError as exc:
            raise RowStoreError(f"not a row id of this store: {row_id!r}", hint="row ids are JSON") from exc
        if isinstance(value, str) and self._id_type not in (None, str):
            try:
                if self._id_type is uuid.UUID:
                    return uuid.UUID(value)
                if self._id_type is Decimal:
                    return Decimal(value)
                if self._id_type is dt.datetime:
                    return dt.datetime.fromisoformat(value)
                if self._id_type is dt.date:
                    return dt.date.fromisoformat(value)
            except ValueError as exc:
                raise RowStoreError(f"not a row id of this store: {row_id!r}", hint=str(exc)) from exc
        return value

    def _row(self, mapping: Mapping[Any, Any]) -> Row:
        columns = dict(mapping)
        return Row(
            id=encode_id(columns[self.spec.id_column]),
            path=str(columns[self.spec.path_column]),
            columns=columns,
            key_value=columns[self.spec.key_column],
        )

    # ------------------------------------------------------------------ rows

    def _filters(self) -> list[sa.ColumnElement[bool]]:
        filters: list[sa.ColumnElement[bool]] = [self._path.is_not(None), self._path != ""]
        if self._where is not None:
            filters.append(sa.text(self._where))  # type: ignore[arg-type]  # trusted SQL from the job file
        return filters

    def rows(self) -> Iterator[Row]:
        """Every row with a non-empty path that passes `where`, streamed."""
        try:
            if self.engine.dialect.name == "sqlite":
                yield from self._rows_keyset()
            else:
                yield from self._rows_streamed()
        except sa.exc.SQLAlchemyError as exc:
            raise RowStoreError(
                f"reading rows of {self.spec.table!r} failed: {_short(exc)}",
                hint="check `database.where` in the job (it is SQL for this database) and the connection",
            ) from exc

    def _rows_streamed(self) -> Iterator[Row]:
        stmt = sa.select(self.table).where(*self._filters())
        with self.engine.connect() as conn:
            streaming = conn.execution_options(stream_results=True, yield_per=self.fetch_size)
            for mapping in streaming.execute(stmt).mappings():
                yield self._row(mapping)

    def _rows_keyset(self) -> Iterator[Row]:
        last: Any = None
        while True:
            stmt = sa.select(self.table).where(*self._filters())
            if last is not None:
                stmt = stmt.where(self._id > last)
            stmt = stmt.order_by(self._id).limit(self.fetch_size)
            with self.engine.connect() as conn:
                page = conn.execute(stmt).mappings().all()
            for mapping in page:
                yield self._row(mapping)
            if len(page) < self.fetch_size:
                return
            last = page[-1][self.spec.id_column]

    # ------------------------------------------------------------------ apply

    def _same(self, column: sa.Column[Any], kind: str, param: str) -> sa.ColumnElement[bool]:
        """`column IS NOT DISTINCT FROM :param`, exact. `kind` is "null", "str" or "other" (the
        expected value's type). MySQL's default collations ignore case and trailing spaces
        ('A.jpg ' = 'a.jpg'), so strings are also compared as utf8mb4 bytes there."""
        if kind == "null":
            return column.is_(None)
        value = sa.bindparam(param, type_=column.type)
        if self._mysql and kind == "str" and isinstance(column.type, sa.String):
            as_utf8 = sa.cast(column, mysql.CHAR(charset="utf8mb4"))
            as_text = sa.bindparam(param, type_=sa.String())
            return sa.and_(column == value, sa.cast(as_utf8, mysql.BINARY()) == sa.cast(as_text, mysql.BINARY()))
        equal: sa.ColumnElement[bool] = column == value
        return equal

    def _statements(self, update: RowUpdate) -> tuple[sa.Update, sa.Select[Any], dict[str, Any]]:
        """The UPDATE (and the SELECT that classifies a refused row) for this update's shape, built
        once per shape and reused (building SQLAlchemy constructs per row costs more than the SQL),
        with the parameters that fill it."""
        kinds = tuple(
            (name, "null" if value is None else "str" if isinstance(value, str) else "other")
            for name, value in update.expect.items()
        )
        shape = (kinds, tuple(update.values))
        params: dict[str, Any] = {"cargohold_id": self._id_value(update.id)}
        for i, (name, kind) in enumerate(kinds):
            if kind != "null":
                params[f"cargohold_e{i}"] = update.expect[name]
        for i, value in enumerate(update.values.values()):
            params[f"cargohold_v{i}"] = value
        cached = self._cache.get(shape)
        if cached is None:
            by_id = self._id == sa.bindparam("cargohold_id", type_=self._id.type)
            conditions = [by_id]
            conditions += [
                self._same(self.table.c[name], kind, f"cargohold_e{i}") for i, (name, kind) in enumerate(kinds)
            ]
            values = {
                name: sa.bindparam(f"cargohold_v{i}", type_=self.table.c[name].type)
                for i, name in enumerate(update.values)
            }
            update_stmt = sa.update(self.table).where(*conditions).values(values)
            select_stmt = sa.select(*(self.table.c[n] for n in update.values)).where(by_id)
            cached = self._cache[shape] = (update_stmt, select_stmt)
        return cached[0], cached[1], params

    def _check(self, update: RowUpdate) -> None:
        if not update.values:
            raise RowStoreError(f"the update of row {update.id} sets no column", hint="this is a bug in the caller")
        for name in (*update.expect, *update.values):
            self.column(name)
        if self.spec.id_column in update.values:
            raise RowStoreError(f"the update of row {update.id} would change its id column", hint="it may not")

    def apply(self, updates: Sequence[RowUpdate]) -> list[RowOutcome]:
        """Apply `updates` in one transaction; a lost connection retries the whole batch."""
        if not updates:
            return []
        for update in updates:
            self._check(update)
        try:
            return self.backoff.run(lambda: self._apply_once(updates), retryable=is_transient)
        except sa.exc.SQLAlchemyError as exc:
            raise RowStoreError(
                f"updating {len(updates)} rows of {self.spec.table!r} failed and the batch was rolled back: "
                f"{_short(exc)}",
                hint="fix the cause (a value too long for its column, a constraint, the connection), then run again;"
                " rows a lost commit did write come back as 'already'",
            ) from exc

    def _apply_once(self, updates: Sequence[RowUpdate]) -> list[RowOutcome]:
        if self.engine.dialect.supports_sane_multi_rowcount:
            try:
                return self._apply_all_at_once(updates)
            except _NotAllUpdated:
                pass  # rolled back: classify row by row below
        with self.engine.begin() as conn:
            return [RowOutcome(update.id, self._apply_one(conn, update)) for update in updates]

    def _apply_all_at_once(self, updates: Sequence[RowUpdate]) -> list[RowOutcome]:
        """The usual batch, where every row still holds what it was planned from: one executemany per
        statement shape (a tenth of the per-row cost). If any row does not match, the transaction is
        rolled back and the caller classifies row by row."""
        groups: dict[int, tuple[sa.Update, list[dict[str, Any]]]] = {}
        for update in updates:
            update_stmt, _select, params = self._statements(update)
            groups.setdefault(id(update_stmt), (update_stmt, []))[1].append(params)
        with self.engine.begin() as conn:
            for update_stmt, many in groups.values():
                if conn.execute(update_stmt, many).rowcount != len(many):
                    raise _NotAllUpdated
        return [RowOutcome(update.id, "updated") for update in updates]

    def _apply_one(self, conn: sa.Connection, update: RowUpdate) -> RowStatus:
        update_stmt, select_stmt, params = self._statements(update)
        count = conn.execute(update_stmt, params).rowcount
        if count == 1:
            return "updated"
        if count > 1:
            raise RowStoreError(
                f"{count} rows of {self.spec.table!r} have the id {update.id}; nothing in this batch was written",
                hint=f"`database.id_column` ({self.spec.id_column}) must be unique, e.g. the primary key",
            )
        current = conn.execute(select_stmt, {"cargohold_id": params["cargohold_id"]}).mappings().first()
        if current is None:
            return "missing"
        if all(_equal(current[name], value) for name, value in update.values.items()):
            return "already"
        return "conflict"

    # ------------------------------------------------------------------ read

    def read(self, ids: Sequence[RowId]) -> dict[RowId, dict[str, Any]]:
        """The current columns of the rows `ids` (rows that no longer exist are left out)."""
        wanted: dict[RowId, RowId] = {}  # canonical id -> id as asked
        values: list[Any] = []
        for row_id in ids:
            value = self._id_value(row_id)
            canonical = encode_id(value)
            if canonical not in wanted:
                wanted[canonical] = row_id
                values.append(value)
        found: dict[RowId, dict[str, Any]] = {}
        try:
            with self.engine.connect() as conn:
                for start in range(0, len(values), self.read_chunk):
                    chunk = values[start : start + self.read_chunk]
                    result = conn.execute(sa.select(self.table).where(self._id.in_(chunk)))
                    for mapping in result.mappings():
                        columns = dict(mapping)
                        asked = wanted.get(encode_id(columns[self.spec.id_column]))
                        if asked is not None:
                            found[asked] = columns
        except sa.exc.SQLAlchemyError as exc:
            raise RowStoreError(f"reading rows of {self.spec.table!r} failed: {_short(exc)}") from exc
        return found

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> SqlRowStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _NotAllUpdated(Exception):
    """A batch row did not match its condition: undo the batch and classify row by row."""


def _python_type(column: sa.Column[Any]) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def _equal(stored: Any, wanted: Any) -> bool:
    if stored is None or wanted is None:
        return stored is None and wanted is None
    if isinstance(stored, (int, float, Decimal)) and isinstance(wanted, (int, float, Decimal)):
        return bool(stored == wanted)
    if type(stored) is not type(wanted) and isinstance(wanted, str):
        return str(stored) == wanted  # e.g. a UUID or a date column given as text
    return bool(stored == wanted)


def _short(exc: BaseException) -> str:
    """The first line of an error, without SQLAlchemy's statement dump and background link."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__

"""The databases behind the row-store tests, and the vocabulary the suite speaks to all of them.

Fixtures live in conftest.py (the servers' own, postgres_url and mysql_url, in tests/migrate/conftest.py);
this module is imported by name (rowstore_backends) by the tests.
- PostgreSQL: $CARGOHOLD_TEST_POSTGRES_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/test (CI
  machines run one, trust auth); when neither answers, a throwaway cluster is started with the
  machine's initdb/pg_ctl (/usr/lib/postgresql/*/bin, as the postgres user when run as root) and
  stopped at the end. CARGOHOLD_TEST_POSTGRES_URL=throwaway forces the throwaway cluster. Otherwise
  the PostgreSQL tests skip and say why.
- MariaDB/MySQL: $CARGOHOLD_TEST_MYSQL_URL, else mysql+pymysql://root@127.0.0.1:3306/test; skip with the
  reason when it does not answer.
- DynamoDB: the session `moto` server (tests/conftest.py) over HTTP.

Every test gets its own uniquely named table, dropped afterwards. A `Backend` is one database with
the same small vocabulary (create a table of rows, change/delete/get a row behind the store's back,
count the UPDATEs a row received), so one suite runs against all four.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from boto3.dynamodb.types import TypeDeserializer

from migrate.db import RowStore, open_store, update_for
from migrate.db.dynamo import DynamoRowStore, plain, serialize
from migrate.db.sql import SqlRowStore, encode_id
from migrate.job import DynamoDatabase, SqlDatabase
from migrate.types import Row, RowUpdate

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_MYSQL = "mysql+pymysql://root@127.0.0.1:3306/test"
KEY_WIDTH = 200  # the s3_key column is VARCHAR(KEY_WIDTH): a longer key is "too long" on PG/MariaDB
RANGE_BASE = 1_700_000_000_000  # DynamoDB range key (uploadedAt, N) = RANGE_BASE + logical id


def answers(url: str) -> str | None:
    """None when `url` accepts a connection, else why not."""
    parsed = sa.make_url(url)
    connect_args: dict[str, Any] = {"connect_timeout": 3}
    engine = sa.create_engine(parsed, connect_args=connect_args, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    finally:
        engine.dispose()
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class _Cluster:
    url: str
    root: str  # a temporary folder: the data directory and the server's socket live in it
    pg_ctl: str
    as_postgres: list[str]

    def stop(self) -> None:
        subprocess.run(
            [*self.as_postgres, self.pg_ctl, "-D", f"{self.root}/data", "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def throwaway_postgres() -> tuple[_Cluster | None, str]:
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        return None, "no initdb under /usr/lib/postgresql/*/bin (apt-get install -y postgresql)"
    bindir = str(Path(binaries[-1]).parent)
    as_postgres: list[str] = []
    directory = tempfile.mkdtemp(prefix="cargohold-pg-")
    if os.geteuid() == 0:  # initdb refuses to run as root
        if shutil.which("runuser") is None:
            return None, "running as root and no runuser to start PostgreSQL as the postgres user"
        as_postgres = ["runuser", "-u", "postgres", "--"]
        shutil.chown(directory, user="postgres")
    port = _free_port()
    data = str(Path(directory) / "data")
    init = subprocess.run(
        [*as_postgres, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"],
        capture_output=True,
        text=True,
        check=False,
    )
    if init.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        return None, f"initdb failed: {init.stderr.strip()[-300:]}"
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {directory} -c fsync=off"
    start = subprocess.run(
        [*as_postgres, f"{bindir}/pg_ctl", "-D", data, "-w", "-l", f"{directory}/log", "-o", options, "start"],
        capture_output=True,
        text=True,
        check=False,
    )
    cluster = _Cluster(
        f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", directory, f"{bindir}/pg_ctl", as_postgres
    )
    if start.returncode != 0:
        cluster.stop()
        return None, f"pg_ctl start failed: {start.stderr.strip()[-300:]}"
    return cluster, ""


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@dataclass
class Backend:
    """One database under test. Rows are dicts with a logical int `id` and the columns path, s3_key,
    url, storage, owner (SQL columns / DynamoDB attributes of the same names)."""

    name: str
    url: str | None = None  # SQL
    client: Any = None  # DynamoDB
    tables: list[str] = field(default_factory=list)
    admin: sa.Engine | None = None

    @property
    def is_sql(self) -> bool:
        return self.url is not None

    # -- tables

    def create(self, rows: list[dict[str, Any]], *, where: Any = None) -> SqlDatabase | DynamoDatabase:
        if self.is_sql:
            return self._create_sql(rows, where=where)
        return self._create_dynamo(rows, where=where)

    def _create_sql(self, rows: list[dict[str, Any]], *, where: str | None) -> SqlDatabase:
        assert self.admin is not None and self.url is not None
        name = unique("photos")
        metadata = sa.MetaData()
        table = sa.Table(
            name,
            metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("path", sa.String(1024)),
            sa.Column("s3_key", sa.String(KEY_WIDTH)),
            sa.Column("url", sa.String(2048)),
            sa.Column("storage", sa.String(16)),
            sa.Column("owner", sa.String(64)),
            sa.CheckConstraint("s3_key IS NULL OR s3_key NOT LIKE 'poison%'", name=f"{name}_no_poison"),
            mysql_charset="utf8mb4",
        )
        audit = sa.Table(f"{name}_audit", metadata, sa.Column("row_id", sa.Integer), mysql_charset="utf8mb4")
        metadata.create_all(self.admin)
        self.tables += [audit.name, name]
        self._audit_trigger(name, audit.name)
        if rows:
            with self.admin.begin() as conn:
                conn.execute(table.insert(), [self._sql_row(r) for r in rows])
        return SqlDatabase(
            url=self.url,
            table=name,
            id_column="id",
            path_column="path",
            key_column="s3_key",
            url_column="url",
            storage_column="storage",
            where=where,
        )

    @staticmethod
    def _sql_row(row: dict[str, Any]) -> dict[str, Any]:
        out = {"path": None, "s3_key": None, "url": None, "storage": "local", "owner": None}
        out.update(row)
        return out

    def _audit_trigger(self, table: str, audit: str) -> None:
        """A trigger that records every UPDATE a row receives (to prove nothing is updated twice)."""
        assert self.admin is not None
        dialect = self.admin.dialect.name
        statements: list[str]
        if dialect == "sqlite":
            statements = [
                f"CREATE TRIGGER {table}_t AFTER UPDATE ON {table} BEGIN "
                f"INSERT INTO {audit} (row_id) VALUES (NEW.id); END"
            ]
        elif dialect == "postgresql":
            statements = [
                f"CREATE FUNCTION {table}_f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"INSERT INTO {audit} (row_id) VALUES (NEW.id); RETURN NEW; END $$",
                f"CREATE TRIGGER {table}_t AFTER UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_f()",
            ]
        else:
            statements = [
                f"CREATE TRIGGER {table}_t AFTER UPDATE ON {table} FOR EACH ROW "
                f"INSERT INTO {audit} (row_id) VALUES (NEW.id)"
            ]
        with self.admin.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)

    def _create_dynamo(self, rows: list[dict[str, Any]], *, where: dict[str, Any] | None) -> DynamoDatabase:
        name = unique("photos")
        self.client.create_table(
            TableName=name,
            KeySchema=[
                {"AttributeName": "userId", "KeyType": "HASH"},
                {"AttributeName": "uploadedAt", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "userId", "AttributeType": "S"},
                {"AttributeName": "uploadedAt", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        self.tables.append(name)
        for row in rows:
            item = self._item(row)
            self.client.put_item(TableName=name, Item=item)
        return DynamoDatabase(
            kind="dynamodb",
            table=name,
            hash_key="userId",
            range_key="uploadedAt",
            path_attribute="path",
            key_attribute="s3_key",
            url_attribute="url",
            storage_attribute="storage",
            where=where or {},
        )

    @staticmethod
    def dynamo_key(logical_id: int) -> dict[str, Any]:
        return {"userId": {"S": f"user-{logical_id % 3}"}, "uploadedAt": {"N": str(RANGE_BASE + logical_id)}}

    def _item(self, row: dict[str, Any]) -> dict[str, Any]:

        item = self.dynamo_key(row["id"])
        values = {"storage": "local"}
        values.update({k: v for k, v in row.items() if k != "id"})
        for name, value in values.items():
            if value is not None:  # None: the attribute is absent
                item[name] = serialize(value)
        return item

    # -- stores and ids

    def store(self, spec: SqlDatabase | DynamoDatabase, *, small_pages: bool = False) -> Any:
        """The store under test; small_pages=True makes it page every 2 rows (to exercise streaming)."""
        if not small_pages:
            return open_store(spec, dynamodb_client=self.client)
        if isinstance(spec, SqlDatabase):
            return SqlRowStore(spec, fetch_size=2)
        return DynamoRowStore(spec, client=self.client, page_size=2)

    def row_id(self, logical_id: int) -> str:
        if self.is_sql:
            return encode_id(logical_id)
        return f'{{"uploadedAt": {RANGE_BASE + logical_id}, "userId": "user-{logical_id % 3}"}}'

    def logical(self, row_id: str) -> int:

        value = json.loads(row_id)
        return int(value) if self.is_sql else int(value["uploadedAt"]) - RANGE_BASE

    # -- behind the store's back (the application)

    def app_update(self, spec: Any, logical_id: int, **values: Any) -> None:
        if self.is_sql:
            assert self.admin is not None
            with self.admin.begin() as conn:
                table = sa.Table(spec.table, sa.MetaData(), autoload_with=conn)
                conn.execute(table.update().where(table.c.id == logical_id).values(values))
            return

        names = {f"#a{i}": k for i, k in enumerate(values)}
        expression = "SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(values)))
        self.client.update_item(
            TableName=spec.table,
            Key=self.dynamo_key(logical_id),
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":a{i}": serialize(v) for i, v in enumerate(values.values())},
        )

    def app_delete(self, spec: Any, logical_id: int) -> None:
        if self.is_sql:
            assert self.admin is not None
            with self.admin.begin() as conn:
                table = sa.Table(spec.table, sa.MetaData(), autoload_with=conn)
                conn.execute(table.delete().where(table.c.id == logical_id))
            return
        self.client.delete_item(TableName=spec.table, Key=self.dynamo_key(logical_id))

    def get(self, spec: Any, logical_id: int) -> dict[str, Any] | None:
        """The row as the database holds it now (None values for absent DynamoDB attributes)."""
        if self.is_sql:
            assert self.admin is not None
            with self.admin.connect() as conn:
                table = sa.Table(spec.table, sa.MetaData(), autoload_with=conn)
                found = conn.execute(sa.select(table).where(table.c.id == logical_id)).mappings().first()
            return dict(found) if found is not None else None

        item = self.client.get_item(TableName=spec.table, Key=self.dynamo_key(logical_id), ConsistentRead=True)
        if "Item" not in item:
            return None
        out: dict[str, Any] = {"path": None, "s3_key": None, "url": None, "storage": None, "owner": None}
        out.update({k: plain(TypeDeserializer().deserialize(v)) for k, v in item["Item"].items()})
        return out

    def update_counts(self, spec: Any) -> dict[int, int] | None:
        """How many UPDATEs each row received (from the audit trigger); None for DynamoDB."""
        if not self.is_sql:
            return None
        assert self.admin is not None
        with self.admin.connect() as conn:
            result = conn.exec_driver_sql(f"SELECT row_id, COUNT(*) FROM {spec.table}_audit GROUP BY row_id")
            return {int(r[0]): int(r[1]) for r in result}

    # -- teardown

    def drop_all(self) -> None:
        if self.is_sql:
            assert self.admin is not None
            with self.admin.begin() as conn:
                for name in reversed(self.tables):
                    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
                if self.admin.dialect.name == "postgresql":
                    for name in self.tables:
                        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {name}_f()")
            self.admin.dispose()
            return
        for name in self.tables:
            self.client.delete_table(TableName=name)


SQL_BACKENDS = ["sqlite", "postgresql", "mariadb"]
ALL_BACKENDS = [*SQL_BACKENDS, "dynamodb"]


# ---------------------------------------------------------------------------------- helpers


def local_only(backend: Backend) -> Any:
    """The `where` filter "storage is local" in the backend's own language."""
    return "storage = 'local'" if backend.is_sql else {"storage": "local"}


def key_for(row: Row) -> str:
    return f"media/{row.path.removeprefix('./')}"


def url_for(key: str) -> str:
    return f"https://bucket.s3.us-east-1.amazonaws.com/{key}"


def updates_for(spec: Any, rows: list[Row]) -> list[RowUpdate]:
    return [update_for(spec, row, key=key_for(row), url=url_for(key_for(row))) for row in rows]


def by_id(store: RowStore, backend: Backend) -> dict[int, Row]:
    return {backend.logical(row.id): row for row in store.rows()}

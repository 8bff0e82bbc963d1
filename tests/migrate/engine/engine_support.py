"""Test support for the engine tests: a generated source tree, a legacy application's SQLite table,
the planned work for it, and STAND-INS for the database adapter and the uploader.

STAND-INS: `StandInSqliteStore` (plain sqlite3, the RowStore protocol of notes/migrate-design.md) and
`StandInBoto3Uploader` (plain boto3 put_object with ChecksumSHA256 + ContentMD5) exist only so the
engine can be tested before migrate/db and migrate/upload.py land. `make_store` / `make_uploader`
use the real modules when they exist (migrate.db.open_store, migrate.upload.Uploader) unless
CARGOHOLD_ENGINE_STANDINS=1.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from migrate.types import RowOutcome, RowUpdate, UploadItem, UploadResult
from migrate.work import PlannedObject, PlannedRow

TABLE = "attachments"

# ---------------------------------------------------------------- the legacy application


def make_tree(root: Path, *, count: int, seed: int = 1) -> list[str]:
    """Files with awkward names (unicode, spaces, #, ?, +, deep paths) and sizes (zero bytes, some
    KiB); returns their relative paths."""
    rng = random.Random(seed)
    names = ["a b.txt", "ünïcødé.bin", "x#y.dat", "q?.txt", "plus+sign.jpg", "z.png", "photo.jpeg"]
    relpaths = []
    for i in range(count):
        depth = rng.randint(0, 3)
        parts = [f"d{rng.randint(0, 4)}" for _ in range(depth)]
        relpath = "/".join([*parts, f"{i:04d}-{rng.choice(names)}"])
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        size = 0 if i % 17 == 0 else rng.randint(1, 20_000)
        path.write_bytes(rng.randbytes(size))
        relpaths.append(relpath)
    return relpaths


def make_app_db(db: Path, relpaths: Sequence[str], *, shared_every: int = 10) -> None:
    """The application's table: one row per file, plus a second row for every `shared_every`-th
    file (a file referenced by several rows); paths stored with a leading "./" now and then. An
    update log (trigger) counts every UPDATE per row."""
    conn = sqlite3.connect(db)
    conn.executescript(
        f"""
        CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, path TEXT NOT NULL, s3_key TEXT, url TEXT,
                              storage TEXT NOT NULL DEFAULT 'local');
        CREATE TABLE update_log (row_id INTEGER NOT NULL, s3_key TEXT);
        CREATE TRIGGER count_updates AFTER UPDATE ON {TABLE}
        BEGIN INSERT INTO update_log (row_id, s3_key) VALUES (NEW.id, NEW.s3_key); END;
        """
    )
    rows = []
    for i, rel in enumerate(relpaths):
        rows.append((f"./{rel}" if i % 3 == 0 else rel,))
        if shared_every and i % shared_every == 0:
            rows.append((rel,))
    conn.executemany(f"INSERT INTO {TABLE} (path) VALUES (?)", rows)
    conn.commit()
    conn.close()


def update_counts(db: Path) -> dict[int, int]:
    conn = sqlite3.connect(db)
    try:
        counts = dict(conn.execute("SELECT row_id, count(*) FROM update_log GROUP BY row_id").fetchall())
    finally:
        conn.close()
    return {int(k): int(v) for k, v in counts.items()}


def app_rows(db: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f"SELECT * FROM {TABLE} ORDER BY id")]
    finally:
        conn.close()


def build_work(source: Path, db: Path, *, bucket: str) -> list[PlannedObject]:
    """What the lead's planner produces for this table: key = the normalised path."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(f"SELECT id, path, s3_key, url, storage FROM {TABLE} ORDER BY id").fetchall()
    finally:
        conn.close()
    by_rel: dict[str, list[PlannedRow]] = {}
    for row_id, path, s3_key, url, storage in rows:
        rel = path[2:] if path.startswith("./") else path
        key = f"files/{rel}"
        by_rel.setdefault(rel, []).append(
            PlannedRow(
                id=json.dumps(row_id),
                expect={"path": path, "s3_key": s3_key},
                values={"s3_key": key, "url": f"https://{bucket}.s3.us-east-1.amazonaws.com/{key}", "storage": "s3"},
                old_values={"s3_key": s3_key, "url": url, "storage": storage},
            )
        )
    work = []
    for rel, planned_rows in sorted(by_rel.items()):
        path = source / rel
        if not path.exists():
            continue
        st = path.stat()
        item = UploadItem(
            key=f"files/{rel}",
            path=path,
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            content_type="application/octet-stream",
        )
        work.append(PlannedObject(item=item, relpath=rel, rows=tuple(planned_rows)))
    return work


# ---------------------------------------------------------------- STAND-IN: the database adapter


class StandInSqliteStore:
    """STAND-IN for migrate.db's SQL RowStore (plain sqlite3): the same conditional-update protocol."""

    def __init__(self, db: Path, table: str = TABLE, id_column: str = "id") -> None:
        self.conn = sqlite3.connect(db, timeout=60, check_same_thread=False, isolation_level=None)
        self.table = table
        self.id_column = id_column
        self.lock = threading.Lock()

    def apply(self, updates: Sequence[RowUpdate]) -> list[RowOutcome]:
        outcomes: list[RowOutcome] = []
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for update in updates:
                    sets = ", ".join(f'"{c}" = ?' for c in update.values)
                    conds = " AND ".join(f'"{c}" IS ?' for c in update.expect)
                    sql = f'UPDATE "{self.table}" SET {sets} WHERE "{self.id_column}" = ?'
                    if conds:
                        sql += f" AND {conds}"
                    row_id = json.loads(update.id)
                    cur = self.conn.execute(sql, [*update.values.values(), row_id, *update.expect.values()])
                    if cur.rowcount == 1:
                        outcomes.append(RowOutcome(update.id, "updated"))
                        continue
                    current = self._read_one(row_id)
                    if current is None:
                        outcomes.append(RowOutcome(update.id, "missing"))
                    elif all(current.get(c) == v for c, v in update.values.items()):
                        outcomes.append(RowOutcome(update.id, "already"))
                    else:
                        outcomes.append(RowOutcome(update.id, "conflict"))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        return outcomes

    def _read_one(self, row_id: Any) -> dict[str, Any] | None:
        cur = self.conn.execute(f'SELECT * FROM "{self.table}" WHERE "{self.id_column}" = ?', [row_id])
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row, strict=True))

    def read(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        with self.lock:
            found = {row_id: self._read_one(json.loads(row_id)) for row_id in ids}
        return {k: v for k, v in found.items() if v is not None}

    def close(self) -> None:
        self.conn.close()


# ---------------------------------------------------------------- STAND-IN: the uploader


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(max_pool_connections=32, retries={"max_attempts": 5, "mode": "standard"}),
    )


class StandInBoto3Uploader:
    """STAND-IN for migrate.upload.Uploader: plain boto3 put_object with ChecksumSHA256 + ContentMD5,
    the file read once, stat()ed before and after."""

    def __init__(self, *, bucket: str, endpoint: str, concurrency: int = 8) -> None:
        self.bucket = bucket
        self.client = s3_client(endpoint)
        self.concurrency = concurrency

    def _one(self, item: UploadItem) -> UploadResult:
        try:
            before = item.path.stat()
            data = item.path.read_bytes()
            after = item.path.stat()
            sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
            md5 = hashlib.md5(data)
            if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(data) != after.st_size:
                return UploadResult(key=item.key, ok=False, changed_while_reading=True, retryable=True)
            resp = self.client.put_object(
                Bucket=self.bucket,
                Key=item.key,
                Body=data,
                ChecksumSHA256=sha,
                ContentMD5=base64.b64encode(md5.digest()).decode(),
                ContentType=item.content_type,
            )
            return UploadResult(
                key=item.key,
                ok=True,
                size=len(data),
                mtime_ns=after.st_mtime_ns,
                sha256=sha,
                md5=md5.hexdigest(),
                etag=resp["ETag"].strip('"'),
                version_id=resp.get("VersionId"),
            )
        except Exception as exc:
            return UploadResult(key=item.key, ok=False, error=f"{type(exc).__name__}: {exc}")

    def upload_many(
        self,
        items: Iterable[UploadItem],
        *,
        on_result: Callable[[UploadResult], None],
        stop: threading.Event | None = None,
    ) -> None:
        sem = threading.Semaphore(self.concurrency * 2)  # back-pressure: at most 2x concurrency queued
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:

            def task(item: UploadItem) -> None:
                try:
                    on_result(self._one(item))
                finally:
                    sem.release()

            for item in items:
                if stop is not None and stop.is_set():
                    break
                sem.acquire()
                pool.submit(task, item)

    def head(self, key: str) -> dict[str, Any] | None:
        try:
            resp = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except self.client.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return {"size": resp["ContentLength"], "etag": resp["ETag"].strip('"'), "sha256": resp.get("ChecksumSHA256")}

    def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), 1000):
            self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]]}
            )

    def close(self) -> None:
        pass


# ---------------------------------------------------------------- real modules, when they exist


def _use_standins() -> bool:
    return os.environ.get("CARGOHOLD_ENGINE_STANDINS") == "1"


def make_store(db: Path) -> Any:
    if not _use_standins():
        try:
            from migrate.db import open_store
            from migrate.job import SqlDatabase
        except ImportError:
            pass
        else:
            spec = SqlDatabase(
                url=f"sqlite:///{db}",
                table=TABLE,
                path_column="path",
                key_column="s3_key",
                url_column="url",
                storage_column="storage",
            )
            return open_store(spec)
    return StandInSqliteStore(db)


def make_uploader(*, bucket: str, endpoint: str, concurrency: int = 8) -> Any:
    if not _use_standins():
        try:
            from migrate.upload import TransferSettings, Uploader
        except ImportError:
            pass
        else:
            return Uploader(
                bucket=bucket,
                region="us-east-1",
                endpoint=endpoint,
                settings=TransferSettings(concurrency=concurrency),
            )
    return StandInBoto3Uploader(bucket=bucket, endpoint=endpoint, concurrency=concurrency)


class CountingUploader:
    """Wraps an uploader: counts the items handed to it per key, and lets a test act on results."""

    def __init__(self, inner: Any, *, on_result: Callable[[UploadResult], None] | None = None) -> None:
        self.inner = inner
        self.started: dict[str, int] = {}
        self.hook = on_result
        self.lock = threading.Lock()

    def upload_many(
        self,
        items: Iterable[UploadItem],
        *,
        on_result: Callable[[UploadResult], None],
        stop: threading.Event | None = None,
    ) -> None:
        def counted() -> Iterator[UploadItem]:
            for item in items:
                with self.lock:
                    self.started[item.key] = self.started.get(item.key, 0) + 1
                yield item

        def result(res: UploadResult) -> None:
            if self.hook is not None:
                self.hook(res)
            on_result(res)

        self.inner.upload_many(counted(), on_result=result, stop=stop)

    def head(self, key: str) -> Mapping[str, Any] | None:
        result: Mapping[str, Any] | None = self.inner.head(key)
        return result

    def delete(self, keys: Sequence[str]) -> None:
        self.inner.delete(keys)


def make_bucket(endpoint: str, name: str, *, versioned: bool = False) -> None:
    client = s3_client(endpoint)
    client.create_bucket(Bucket=name)
    if versioned:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def object_versions(endpoint: str, bucket: str) -> dict[str, int]:
    """How many versions each key has (a versioned bucket counts every PUT)."""
    client = s3_client(endpoint)
    counts: dict[str, int] = {}
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            counts[version["Key"]] = counts.get(version["Key"], 0) + 1
    return counts


def assert_migrated(
    *,
    source: Path,
    db: Path,
    endpoint: str,
    bucket: str,
    journal_url: str,
    job: str,
    relpaths: Sequence[str],
    conflicts: Iterable[int] = (),
) -> None:
    """The invariants after a finished migration: every row (but the expected conflicts) updated
    exactly once and pointing at an existing object whose size and ETag match its file; no local
    file deleted; the journal complete and consistent with the database."""
    from migrate.journal import Journal

    skip = set(conflicts)
    client = s3_client(endpoint)
    counts = update_counts(db)
    for rel in relpaths:
        assert (source / rel).exists(), f"local file deleted: {rel}"
    for row in app_rows(db):
        if row["id"] in skip:
            assert counts.get(row["id"], 0) <= 1
            continue
        assert counts.get(row["id"]) == 1, f"row {row['id']} updated {counts.get(row['id'], 0)} times"
        assert row["storage"] == "s3"
        rel = row["path"][2:] if row["path"].startswith("./") else row["path"]
        assert row["s3_key"] == f"files/{rel}"
        head = client.head_object(Bucket=bucket, Key=row["s3_key"])
        data = (source / rel).read_bytes()
        assert head["ContentLength"] == len(data)
        assert head["ETag"].strip('"') == hashlib.md5(data).hexdigest()
    journal = Journal.open(journal_url, job)
    try:
        status = journal.status()
        assert status.objects["pending"] == 0 and status.objects["uploaded"] == 0, status
        assert status.objects["failed"] == 0, status.failures
        assert status.rows["pending"] == 0, status
        assert status.rows["conflict"] == len(skip), status
        for row in journal.iter_rows(states=("updated",)):
            assert int(row.row_id) not in skip
        for obj in journal.iter_objects():
            assert obj.state == "done", obj
            data = (source / obj.relpath).read_bytes()
            assert obj.size == len(data) and obj.md5 == hashlib.md5(data).hexdigest() == obj.etag
    finally:
        journal.close()


@dataclass
class Setup:
    source: Path
    db: Path
    journal_url: str
    bucket: str
    endpoint: str
    relpaths: list[str]
    job: str

    def journal(self, **kwargs: Any) -> Any:
        from migrate.journal import Journal

        return Journal.open(self.journal_url, self.job, **kwargs)

    def store(self) -> Any:
        return make_store(self.db)

    def uploader(self, concurrency: int = 8) -> Any:
        return make_uploader(bucket=self.bucket, endpoint=self.endpoint, concurrency=concurrency)

"""The migration journal: a durable record of every object's and every row's state, per job.

SQLAlchemy Core on SQLite (the default: one file per job, one worker process at a time, WAL) or
PostgreSQL (several workers, on one machine or many, share one job: they claim batches of objects
with `SELECT ... FOR UPDATE SKIP LOCKED` and hold them under a lease that a killed worker lets expire).

States
- objects: pending -> uploaded (the upload was verified) -> done (every row applied);
  failed (could not be uploaded; a new `run` retries it); rolled_back (a rollback undid its rows);
  deleted (a rollback deleted it from the bucket). A file that changed after its upload sends its
  object back to pending (re-uploaded).
- rows: pending -> updated | conflict | missing; updated -> rolled_back. An update committed before a
  crash comes back from the store as "already" and is recorded as updated.
- files: present -> cleaned (deleted by cleanup) -> present again when rollback restores it.

Beside those, four small tables: the multipart ledger (each upload id and the parts S3 accepted, so a
killed upload resumes instead of starting over and nothing is left behind), the workers (a heartbeat,
so a dead worker's claims are taken back in seconds, not after the lease), and the events (what
plan, cleanup and rollback did, so each command can see what the others did).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from cargohold_core.errors import CargoholdError
from migrate.types import RowId, RowOutcome, UploadItem, UploadResult
from migrate.work import PlannedObject

T = TypeVar("T")
PREFIX = "cargohold_migration_"
OBJECT_STATES = ("pending", "uploaded", "done", "failed", "rolled_back", "deleted")
ROW_STATES = ("pending", "updated", "conflict", "missing", "rolled_back")
_CHUNK = 500  # keys per IN (...) list: well under SQLite's and PostgreSQL's parameter limits
HEARTBEAT_SECONDS = 2.0  # how often a worker on a shared journal says it is alive
STALE_SECONDS = 10.0  # a worker silent this long is dead: its claims are taken back at once


class JournalError(CargoholdError):
    """The journal cannot be opened or used."""


class JournalBusy(JournalError):
    """Another process holds this SQLite journal (one worker at a time on SQLite)."""


metadata = sa.MetaData()

objects_table = sa.Table(
    f"{PREFIX}objects",
    metadata,
    sa.Column("job", sa.String(200), primary_key=True),
    sa.Column("key", sa.String(1024), primary_key=True),
    sa.Column("relpath", sa.Text, nullable=False),
    sa.Column("item", sa.JSON, nullable=False),  # the UploadItem (path and headers), to rebuild it on claim
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("sha256", sa.String(64)),
    sa.Column("md5", sa.String(64)),
    sa.Column("etag", sa.String(128)),
    sa.Column("version_id", sa.String(1024)),
    sa.Column("parts", sa.Integer, nullable=False, default=1),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("error", sa.Text),
    sa.Column("claimed_by", sa.String(200)),
    sa.Column("claimed_at", sa.Float),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index(f"{PREFIX}objects_state", "job", "state"),
    sa.Index(f"{PREFIX}objects_relpath", "job", "relpath"),
)

rows_table = sa.Table(
    f"{PREFIX}rows",
    metadata,
    sa.Column("job", sa.String(200), primary_key=True),
    sa.Column("row_id", sa.String(1024), primary_key=True),
    sa.Column("key", sa.String(1024), nullable=False),
    sa.Column("old_path", sa.Text),
    sa.Column("expect", sa.JSON, nullable=False),
    sa.Column("old_values", sa.JSON, nullable=False),
    sa.Column("new_values", sa.JSON, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("outcome", sa.String(16)),  # the store's last answer: updated|already|conflict|missing
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index(f"{PREFIX}rows_key", "job", "key", "state"),
    sa.Index(f"{PREFIX}rows_state", "job", "state"),
)

files_table = sa.Table(
    f"{PREFIX}files",
    metadata,
    sa.Column("job", sa.String(200), primary_key=True),
    sa.Column("relpath", sa.String(4096), primary_key=True),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

uploads_table = sa.Table(
    f"{PREFIX}uploads",
    metadata,
    sa.Column("job", sa.String(200), primary_key=True),
    sa.Column("upload_id", sa.String(1024), primary_key=True),
    sa.Column("key", sa.String(1024), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),  # the file's size and mtime when the upload began:
    sa.Column("mtime_ns", sa.BigInteger, nullable=False),  # a changed file never resumes an old upload
    sa.Column("part_size", sa.BigInteger, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # open | completed | aborted
    sa.Column("parts_sent", sa.Integer, nullable=False, default=0),
    sa.Column("parts_reused", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index(f"{PREFIX}uploads_key", "job", "key", "state"),
)

parts_table = sa.Table(
    f"{PREFIX}parts",
    metadata,
    sa.Column("job", sa.String(200), primary_key=True),
    sa.Column("upload_id", sa.String(1024), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("etag", sa.String(128), nullable=False),
    sa.Column("checksum", sa.String(128)),
)

workers_table = sa.Table(
    f"{PREFIX}workers",
    metadata,
    sa.Column("job", sa.String(200), primary_key=True),
    sa.Column("worker_id", sa.String(200), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("heartbeat_at", sa.Float, nullable=False),
)

events_table = sa.Table(
    f"{PREFIX}events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(200), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("worker_id", sa.String(200), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),  # plan | run | cleanup | rollback | restore | abort
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Index(f"{PREFIX}events_job", "job", "action", "id"),
)


# ---------------------------------------------------------------- records read back


@dataclass(frozen=True)
class JournalObject:
    key: str
    relpath: str
    item: UploadItem
    size: int
    mtime_ns: int
    state: str
    sha256: str | None
    md5: str | None
    etag: str | None
    version_id: str | None
    parts: int
    attempts: int
    error: str | None


@dataclass(frozen=True)
class JournalRow:
    row_id: RowId
    key: str
    old_path: str | None
    expect: dict[str, Any]
    old_values: dict[str, Any]
    new_values: dict[str, Any]
    state: str
    outcome: str | None


@dataclass(frozen=True)
class JournalFile:
    relpath: str
    path: str
    state: str


@dataclass(frozen=True)
class RecordSummary:
    """What `Journal.record` did with the planned work."""

    objects: int = 0  # planned objects seen
    new_objects: int = 0
    reset_objects: int = 0  # file changed (size/mtime) or failed/rolled back before: back to pending
    done_objects: int = 0  # already done: left alone
    rows: int = 0
    new_rows: int = 0


@dataclass(frozen=True)
class WorkerClaims:
    """The objects one worker holds, and whether it is still alive."""

    worker_id: str
    objects: int
    alive: bool  # its process exists (same host) and its heartbeat is fresh, and its lease runs
    lease_until: float  # when its last claim's lease runs out (epoch seconds)

    def to_json(self) -> dict[str, Any]:
        return {
            "worker_id": self.worker_id,
            "objects": self.objects,
            "alive": self.alive,
            "lease_until": _iso(self.lease_until),
        }


@dataclass(frozen=True)
class JournalStatus:
    job: str
    objects: dict[str, int]  # state -> count (every state present, zero when none)
    rows: dict[str, int]
    files: dict[str, int]
    bytes_total: int
    bytes_done: int  # uploaded or done
    bytes_by_state: dict[str, int]
    claimed: int  # objects currently claimed by some worker (lease not expired)
    failures: list[tuple[str, str]]  # (key, error), at most 20
    skipped: dict[str, int] = field(default_factory=dict)  # rows the last plan could not migrate, by reason
    claims: list[WorkerClaims] = field(default_factory=list)
    open_uploads: int = 0  # multipart uploads begun and neither completed nor aborted
    events: list[dict[str, Any]] = field(default_factory=list)  # the last cleanup/rollback/plan events

    @property
    def incomplete(self) -> dict[str, int]:
        """Why the job is not complete, by reason (empty when it is)."""
        reasons = {
            "objects_pending": self.objects["pending"],
            "objects_uploaded_rows_not_applied": self.objects["uploaded"],
            "objects_failed": self.objects["failed"],
            "rows_pending": self.rows["pending"],
            "rows_conflict": self.rows["conflict"],
            "rows_missing": self.rows["missing"],
            "rows_rolled_back": self.rows["rolled_back"],
            **{f"skipped_{reason}": count for reason, count in self.skipped.items()},
        }
        return {reason: count for reason, count in reasons.items() if count}

    @property
    def complete(self) -> bool:
        """Every planned row updated and every object done; nothing skipped by the plan."""
        return not self.incomplete

    def to_json(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "objects": self.objects,
            "rows": self.rows,
            "files": self.files,
            "bytes_total": self.bytes_total,
            "bytes_done": self.bytes_done,
            "bytes_by_state": self.bytes_by_state,
            "claimed": self.claimed,
            "claims": [c.to_json() for c in self.claims],
            "open_uploads": self.open_uploads,
            "complete": self.complete,
            "incomplete": self.incomplete,
            "skipped": self.skipped,
            "failures": [{"key": k, "error": e} for k, e in self.failures],
            "events": self.events,
        }


# ---------------------------------------------------------------- helpers


def default_journal_url(*, config_dir: Path, job: str, database_url: str | None = None) -> str:
    """The journal of a job: inside the target PostgreSQL database when that is the database,
    otherwise a SQLite file `<config dir>/.cargohold/migrations/<job>.sqlite`."""
    if database_url and sa.engine.make_url(database_url).get_backend_name() == "postgresql":
        return database_url
    return f"sqlite:///{config_dir / '.cargohold' / 'migrations' / f'{job}.sqlite'}"


def _item_to_json(item: UploadItem) -> dict[str, Any]:
    return {
        "path": str(item.path),
        "content_type": item.content_type,
        "storage_class": item.storage_class,
        "sse": item.sse,
        "kms_key_id": item.kms_key_id,
        "cache_control": item.cache_control,
        "metadata": dict(item.metadata),
    }


def _item_from_json(key: str, size: int, mtime_ns: int, data: Mapping[str, Any]) -> UploadItem:
    return UploadItem(
        key=key,
        path=Path(data["path"]),
        size=size,
        mtime_ns=mtime_ns,
        content_type=data["content_type"],
        storage_class=data.get("storage_class"),
        sse=data.get("sse"),
        kms_key_id=data.get("kms_key_id"),
        cache_control=data.get("cache_control"),
        metadata=dict(data.get("metadata") or {}),
    )


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    """Column values as JSON (dates and decimals as text), so they survive the journal round trip."""
    if all(v is None or type(v) in (str, int, bool) for v in values.values()):
        return dict(values)  # the usual case, already JSON
    result: dict[str, Any] = json.loads(json.dumps(dict(values), default=str))
    return result


def _chunks(seq: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


def _default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


# ---------------------------------------------------------------- the journal


class Journal:
    """One job's journal. Thread-safe (one lock around every transaction); open with `Journal.open`."""

    def __init__(self, engine: sa.Engine, job: str, *, worker_id: str, lease_seconds: float, lock_path: Path | None):
        self.engine = engine
        self.job = job
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self._lock = threading.RLock()
        self._lock_path = lock_path
        self._lock_file: IO[bytes] | None = None
        self._registered = False
        self._beating = threading.Event()  # set: the heartbeat thread should stop
        self._heart: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, url: str, job: str, *, worker_id: str | None = None, lease_seconds: float = 600.0) -> Journal:
        """Open (and create, idempotently) the journal tables at `url` for `job`."""
        parsed = sa.engine.make_url(url)
        backend = parsed.get_backend_name()
        lock_path: Path | None = None
        if backend == "sqlite":
            database = parsed.database
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).parent.mkdir(parents=True, exist_ok=True)
                lock_path = Path(database + ".lock")
            engine = sa.create_engine(
                parsed,
                connect_args={"timeout": 60, "check_same_thread": False},
                poolclass=sa.pool.StaticPool if database in (None, "", ":memory:") else None,
            )
            _sqlite_pragmas(engine)
        elif backend == "postgresql":
            engine = sa.create_engine(parsed, pool_pre_ping=True)
        else:
            raise JournalError(
                f"a migration journal cannot live in a {backend} database",
                hint="use a SQLite file (the default) or a PostgreSQL URL for `journal.url`",
            )
        try:
            _create_tables(engine)
        except sa.exc.SQLAlchemyError as exc:
            engine.dispose()
            raise JournalError(
                f"cannot open the migration journal at {parsed.render_as_string(hide_password=True)}: {exc}",
                hint="check the journal URL and that the database is reachable and writable",
            ) from exc
        return cls(
            engine, job, worker_id=worker_id or _default_worker_id(), lease_seconds=lease_seconds, lock_path=lock_path
        )

    @property
    def is_shared(self) -> bool:
        """True when several workers may share this journal (PostgreSQL)."""
        return self.engine.dialect.name == "postgresql"

    def lock_for_run(self) -> None:
        """Become this job's worker. SQLite: take an exclusive lock file (one process at a time) and
        release the claims a killed process left behind. PostgreSQL: register this worker and keep
        its heartbeat (claims of workers that stop beating are taken back, see `claim`)."""
        self._register()
        if self._lock_path is None or self._lock_file is not None:
            return
        import fcntl  # POSIX; the journal's one-writer lock

        handle = self._lock_path.open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.close()
            raise JournalBusy(
                f"another `cargohold migrate` process is working on job {self.job!r} ({self._lock_path})",
                hint="wait for it to finish; to run several workers at once, put the journal in PostgreSQL",
            ) from exc
        self._lock_file = handle
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                sa.update(objects_table)
                .where(objects_table.c.job == self.job, objects_table.c.claimed_by.is_not(None))
                .values(claimed_by=None, claimed_at=None)
            )

    def _register(self) -> None:
        if self._registered:
            return
        w = workers_table
        now = time.time()
        host, pid = socket.gethostname(), os.getpid()
        with self._lock, self.engine.begin() as conn:
            self._forget_dead(conn, now)
            conn.execute(sa.delete(w).where(w.c.job == self.job, w.c.worker_id == self.worker_id))
            conn.execute(
                sa.insert(w).values(
                    job=self.job, worker_id=self.worker_id, host=host, pid=pid, started_at=now, heartbeat_at=now
                )
            )
        self._registered = True
        if self.is_shared:  # SQLite has one worker at a time: nobody to tell
            self._heart = threading.Thread(target=self._beat, name="cargohold-heartbeat", daemon=True)
            self._heart.start()

    def _beat(self) -> None:
        w = workers_table
        while not self._beating.wait(HEARTBEAT_SECONDS):
            with contextlib.suppress(sa.exc.SQLAlchemyError), self.engine.begin() as conn:  # a blip: beat again
                conn.execute(
                    sa.update(w)
                    .where(w.c.job == self.job, w.c.worker_id == self.worker_id)
                    .values(heartbeat_at=time.time())
                )

    def _forget_dead(self, conn: sa.Connection, now: float) -> None:
        """Drop the rows of dead workers that hold nothing any more (a killed run leaves its row
        behind); one still holding claims stays, so that `claim` knows it is dead."""
        w, o = workers_table, objects_table
        holds = sa.select(o.c.key).where(o.c.job == w.c.job, o.c.claimed_by == w.c.worker_id).exists()
        dead = self._dead_workers(conn, now)
        if dead:
            conn.execute(sa.delete(w).where(w.c.job == self.job, w.c.worker_id.in_(dead), ~holds))

    def _dead_workers(self, conn: sa.Connection, now: float) -> list[str]:
        """Workers of this job that are gone: silent for STALE_SECONDS, or their process has exited
        (same host). Their claims are free at once, whatever their lease says."""
        w = workers_table
        here = socket.gethostname()
        dead = []
        for row in conn.execute(sa.select(w).where(w.c.job == self.job, w.c.worker_id != self.worker_id)):
            stale = row.heartbeat_at < now - STALE_SECONDS
            exited = row.host == here and not _pid_alive(int(row.pid))
            if stale or exited:
                dead.append(str(row.worker_id))
        return dead

    def close(self) -> None:
        self._beating.set()
        if self._heart is not None:
            self._heart.join(timeout=5)
            self._heart = None
        if self._registered:
            with contextlib.suppress(sa.exc.SQLAlchemyError), self._lock, self.engine.begin() as conn:
                w = workers_table
                conn.execute(sa.delete(w).where(w.c.job == self.job, w.c.worker_id == self.worker_id))
                self._forget_dead(conn, time.time())
            self._registered = False
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
        self.engine.dispose()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        """A read-only transaction (SQLite: a deferred BEGIN, which never waits for the writer)."""
        with self.engine.connect() as conn:
            yield conn.execution_options(cargohold_read=True)

    # ------------------------------------------------------------ recording planned work

    def record(self, work: Iterable[PlannedObject], *, chunk: int = 1000) -> RecordSummary:
        """Record the planned objects, rows and files, idempotently, in transactions of `chunk` objects.

        - a new object is pending; an object already `done` is never reset;
        - a pending/uploaded/failed/rolled_back object whose file changed (size or mtime differ from
          the journal) goes back to pending, checksums cleared; failed and rolled_back objects are
          retried (pending again);
        - a new row is pending; a pending row takes the plan's key and values but keeps the expect and
          old values first recorded (see below); a conflict/missing/rolled_back row takes the whole
          plan again and is pending; an updated row is left alone;
        - a done object that gains a pending row goes back to `uploaded`, so its rows get applied.
        """
        totals = dict.fromkeys(("objects", "new_objects", "reset_objects", "done_objects", "rows", "new_rows"), 0)
        batch: list[PlannedObject] = []
        for planned in work:
            batch.append(planned)
            if len(batch) >= chunk:
                self._record_chunk(batch, totals)
                batch = []
        if batch:
            self._record_chunk(batch, totals)
        return RecordSummary(**totals)

    def _record_chunk(self, batch: list[PlannedObject], totals: dict[str, int]) -> None:
        o, r, f = objects_table, rows_table, files_table
        now = time.time()
        by_key: dict[str, PlannedObject] = {}
        for planned in batch:
            by_key[planned.item.key] = planned  # the last plan for a key wins (the planner reports collisions)
        keys = list(by_key)
        with self._lock, self.engine.begin() as conn:
            existing: dict[str, Any] = {}
            for part in _chunks(keys):
                for row in conn.execute(
                    sa.select(o.c.key, o.c.size, o.c.mtime_ns, o.c.state).where(o.c.job == self.job, o.c.key.in_(part))
                ):
                    existing[row.key] = row
            new = [
                {
                    "job": self.job,
                    "key": key,
                    "relpath": p.relpath,
                    "item": _item_to_json(p.item),
                    "size": p.item.size,
                    "mtime_ns": p.item.mtime_ns,
                    "state": "pending",
                    "parts": 1,
                    "attempts": 0,
                    "updated_at": now,
                }
                for key, p in by_key.items()
                if key not in existing
            ]
            if new:
                conn.execute(self._insert_ignore(o), new)
            totals["objects"] += len(by_key)
            totals["new_objects"] += len(new)
            for key, row in existing.items():
                p = by_key[key]
                if row.state == "done":
                    totals["done_objects"] += 1
                    continue
                changed = row.size != p.item.size or row.mtime_ns != p.item.mtime_ns
                if changed or row.state in ("failed", "rolled_back", "deleted"):
                    conn.execute(
                        sa.update(o)
                        .where(o.c.job == self.job, o.c.key == key, o.c.state != "done")
                        .values(
                            relpath=p.relpath,
                            item=_item_to_json(p.item),
                            size=p.item.size,
                            mtime_ns=p.item.mtime_ns,
                            state="pending",
                            sha256=None,
                            md5=None,
                            etag=None,
                            version_id=None,
                            attempts=0,
                            error="file changed since it was recorded" if changed else None,
                            updated_at=now,
                        )
                    )
                    totals["reset_objects"] += 1

            # rows
            planned_rows = {pr.id: (key, pr) for key, p in by_key.items() for pr in p.rows}
            row_ids = list(planned_rows)
            existing_rows: dict[str, tuple[str, str, Any]] = {}  # row_id -> (state, key, new_values)
            for part in _chunks(row_ids):
                for row_id, state, row_key, row_new in conn.execute(
                    sa.select(r.c.row_id, r.c.state, r.c.key, r.c.new_values).where(
                        r.c.job == self.job, r.c.row_id.in_(part)
                    )
                ):
                    existing_rows[row_id] = (state, row_key, row_new)
            new_rows = []
            replan: list[dict[str, Any]] = []  # pending rows whose key or values changed
            for row_id, (key, pr) in planned_rows.items():
                found = existing_rows.get(row_id)
                if found is not None and found[0] == "updated":
                    continue
                new_values = _jsonable(pr.values)
                if found is not None and found[0] == "pending":
                    # Keep the first-recorded expect/old values: after a crash between the row's
                    # update and its journal entry, a new plan reads the row as already migrated and
                    # would expect the new values, which would update the row a second time.
                    if (found[1], found[2]) != (key, new_values):
                        replan.append({"b_id": row_id, "b_key": key, "b_new": new_values})
                    continue
                values = {
                    "key": key,
                    "old_path": pr.old_path,
                    "expect": _jsonable(pr.expect),
                    "old_values": _jsonable(pr.rollback_values),
                    "new_values": new_values,
                    "state": "pending",
                    "outcome": None,
                    "updated_at": now,
                }
                if found is None:
                    new_rows.append({"job": self.job, "row_id": row_id, **values})
                else:  # conflict, missing, rolled_back: planned afresh
                    conn.execute(
                        sa.update(r)
                        .where(r.c.job == self.job, r.c.row_id == row_id, r.c.state != "updated")
                        .values(**values)
                    )
            if replan:
                conn.execute(
                    sa.update(r)
                    .where(r.c.job == self.job, r.c.row_id == sa.bindparam("b_id"), r.c.state == "pending")
                    .values(key=sa.bindparam("b_key"), new_values=sa.bindparam("b_new"), updated_at=now),
                    replan,
                )
            if new_rows:
                conn.execute(self._insert_ignore(r), new_rows)
            totals["rows"] += len(planned_rows)
            totals["new_rows"] += len(new_rows)

            # files
            files = {p.relpath: str(p.item.path) for p in by_key.values()}
            conn.execute(
                self._insert_ignore(f),
                [
                    {"job": self.job, "relpath": rel, "path": path, "state": "present", "updated_at": now}
                    for rel, path in files.items()
                ],
            )

            # a done object that gained a pending row: its rows must be applied
            pending_row = (
                sa.select(r.c.row_id).where(r.c.job == o.c.job, r.c.key == o.c.key, r.c.state == "pending").exists()
            )
            for part in _chunks(keys):
                conn.execute(
                    sa.update(o)
                    .where(o.c.job == self.job, o.c.key.in_(part), o.c.state == "done", pending_row)
                    .values(state="uploaded", updated_at=now)
                )

    def _insert_ignore(self, table: sa.Table) -> Any:
        if self.engine.dialect.name == "postgresql":
            return pg_dialect.insert(table).on_conflict_do_nothing()
        return sqlite_dialect.insert(table).on_conflict_do_nothing()

    # ------------------------------------------------------------ claiming work

    def claim(self, limit: int) -> list[JournalObject]:
        """Claim up to `limit` objects that need work (pending: upload; uploaded: apply rows), for
        this worker. Objects claimed by another worker are skipped unless its lease expired or the
        worker is dead (see `_dead_workers`)."""
        o = objects_table
        now = time.time()
        with self._lock, self.engine.begin() as conn:
            free = [o.c.claimed_by.is_(None), o.c.claimed_at < now - self.lease_seconds]
            dead = self._dead_workers(conn, now)
            if dead:
                free.append(o.c.claimed_by.in_(dead))
            query = (
                sa.select(o)
                .where(
                    o.c.job == self.job,
                    o.c.state.in_(("pending", "uploaded")),
                    sa.or_(*free),
                )
                .order_by(o.c.key)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            rows = list(conn.execute(query))
            keys = [row.key for row in rows]
            for part in _chunks(keys):
                conn.execute(
                    sa.update(o)
                    .where(o.c.job == self.job, o.c.key.in_(part))
                    .values(claimed_by=self.worker_id, claimed_at=now)
                )
        return [_object_from_row(row) for row in rows]

    def renew_claims(self, keys: Sequence[str]) -> None:
        """Extend this worker's lease on `keys` (a heartbeat for long uploads)."""
        o = objects_table
        now = time.time()
        with self._lock, self.engine.begin() as conn:
            for part in _chunks(list(keys)):
                conn.execute(
                    sa.update(o)
                    .where(o.c.job == self.job, o.c.key.in_(part), o.c.claimed_by == self.worker_id)
                    .values(claimed_at=now)
                )

    def release(self, keys: Sequence[str]) -> None:
        """Give back this worker's claims on `keys` without changing their state."""
        o = objects_table
        with self._lock, self.engine.begin() as conn:
            for part in _chunks(list(keys)):
                conn.execute(
                    sa.update(o)
                    .where(o.c.job == self.job, o.c.key.in_(part), o.c.claimed_by == self.worker_id)
                    .values(claimed_by=None, claimed_at=None)
                )

    # ------------------------------------------------------------ uploads

    def mark_uploaded(self, results: Sequence[UploadResult]) -> None:
        """Record verified uploads (one transaction): checksums, ETag, version, the size and mtime read."""
        o = objects_table
        now = time.time()
        if not results:
            return
        stmt = (
            sa.update(o)
            .where(
                o.c.job == self.job,
                o.c.key == sa.bindparam("b_key"),
                sa.or_(o.c.state == "pending", o.c.state == "uploaded"),  # no IN: executemany
            )
            .values(
                state="uploaded",
                size=sa.bindparam("b_size"),
                mtime_ns=sa.bindparam("b_mtime_ns"),
                sha256=sa.bindparam("b_sha256"),
                md5=sa.bindparam("b_md5"),
                etag=sa.bindparam("b_etag"),
                version_id=sa.bindparam("b_version_id"),
                parts=sa.bindparam("b_parts"),
                error=None,
                updated_at=now,
            )
        )
        params = [
            {
                "b_key": res.key,
                "b_size": res.size,
                "b_mtime_ns": res.mtime_ns,
                "b_sha256": res.sha256,
                "b_md5": res.md5,
                "b_etag": res.etag,
                "b_version_id": res.version_id,
                "b_parts": res.parts,
            }
            for res in results
        ]
        with self._lock, self.engine.begin() as conn:
            conn.execute(stmt, params)  # executemany

    def requeue(self, keys: Sequence[str], *, reason: str, max_attempts: int) -> list[str]:
        """Send objects back to pending (their file changed): attempts + 1; those that reach
        `max_attempts` become failed instead. Releases the claims. Returns the keys now failed."""
        o = objects_table
        now = time.time()
        failed: list[str] = []
        with self._lock, self.engine.begin() as conn:
            for key in keys:
                attempts = conn.execute(
                    sa.select(o.c.attempts).where(o.c.job == self.job, o.c.key == key)
                ).scalar_one_or_none()
                if attempts is None:
                    continue
                state = "failed" if attempts + 1 >= max_attempts else "pending"
                if state == "failed":
                    failed.append(key)
                conn.execute(
                    sa.update(o)
                    .where(o.c.job == self.job, o.c.key == key, o.c.state != "done")
                    .values(
                        state=state,
                        attempts=attempts + 1,
                        error=reason,
                        sha256=None,
                        md5=None,
                        etag=None,
                        version_id=None,
                        claimed_by=None,
                        claimed_at=None,
                        updated_at=now,
                    )
                )
        return failed

    def mark_failed(self, failures: Sequence[tuple[str, str]]) -> None:
        """Objects whose upload failed after the uploader's own retries: failed, attempts + 1."""
        o = objects_table
        now = time.time()
        with self._lock, self.engine.begin() as conn:
            for key, error in failures:
                conn.execute(
                    sa.update(o)
                    .where(o.c.job == self.job, o.c.key == key, o.c.state.in_(("pending", "uploaded")))
                    .values(
                        state="failed",
                        attempts=o.c.attempts + 1,
                        error=error,
                        claimed_by=None,
                        claimed_at=None,
                        updated_at=now,
                    )
                )

    # ------------------------------------------------------------ rows

    def rows_for(self, keys: Sequence[str], *, states: Sequence[str] = ("pending",)) -> list[JournalRow]:
        r = rows_table
        result: list[JournalRow] = []
        with self._lock, self._read() as conn:
            for part in _chunks(list(keys)):
                query = (
                    sa.select(r)
                    .where(r.c.job == self.job, r.c.key.in_(part), r.c.state.in_(list(states)))
                    .order_by(r.c.row_id)
                )
                result.extend(_row_from_row(row) for row in conn.execute(query))
        return result

    def finish(self, keys: Sequence[str], outcomes: Sequence[RowOutcome], *, release: Sequence[str] = ()) -> None:
        """Record the store's answers for the rows of `keys`, then mark done every uploaded object of
        `keys` that has no pending row left, and release this worker's claims on `keys` and `release`.
        One transaction."""
        o, r = objects_table, rows_table
        now = time.time()
        with self._lock, self.engine.begin() as conn:
            if outcomes:
                conn.execute(
                    sa.update(r)
                    .where(r.c.job == self.job, r.c.row_id == sa.bindparam("b_id"))
                    .values(state=sa.bindparam("b_state"), outcome=sa.bindparam("b_outcome"), updated_at=now),
                    [
                        {
                            "b_id": outcome.id,
                            "b_state": "updated" if outcome.status in ("updated", "already") else outcome.status,
                            "b_outcome": outcome.status,
                        }
                        for outcome in outcomes
                    ],
                )
            pending_row = (
                sa.select(r.c.row_id).where(r.c.job == o.c.job, r.c.key == o.c.key, r.c.state == "pending").exists()
            )
            if keys:  # one primary-key lookup per object (executemany): faster than IN (...) + EXISTS
                conn.execute(
                    sa.update(o)
                    .where(o.c.job == self.job, o.c.key == sa.bindparam("b_key"), o.c.state == "uploaded", ~pending_row)
                    .values(state="done", updated_at=now),
                    [{"b_key": key} for key in keys],
                )
            for part in _chunks(sorted({*keys, *release})):
                conn.execute(
                    sa.update(o)
                    .where(o.c.job == self.job, o.c.key.in_(part), o.c.claimed_by == self.worker_id)
                    .values(claimed_by=None, claimed_at=None)
                )

    def set_row_states(self, changes: Sequence[tuple[RowId, str, str | None]]) -> None:
        """(row_id, state, outcome) for each row; used by rollback."""
        r = rows_table
        now = time.time()
        with self._lock, self.engine.begin() as conn:
            for row_id, state, outcome in changes:
                conn.execute(
                    sa.update(r)
                    .where(r.c.job == self.job, r.c.row_id == row_id)
                    .values(state=state, outcome=outcome, updated_at=now)
                )

    def set_object_states(self, keys: Sequence[str], state: str) -> None:
        o = objects_table
        now = time.time()
        with self._lock, self.engine.begin() as conn:
            for part in _chunks(list(keys)):
                conn.execute(
                    sa.update(o).where(o.c.job == self.job, o.c.key.in_(part)).values(state=state, updated_at=now)
                )

    # ------------------------------------------------------------ reading

    def iter_objects(self, *, states: Sequence[str] | None = None, page: int = 1000) -> Iterator[JournalObject]:
        """Objects in key order, paginated (keyset), so memory stays flat."""
        return self._paginate(objects_table, "key", _object_from_row, states=states, page=page)

    def iter_rows(self, *, states: Sequence[str] | None = None, page: int = 1000) -> Iterator[JournalRow]:
        return self._paginate(rows_table, "row_id", _row_from_row, states=states, page=page)

    def iter_files(self, *, states: Sequence[str] | None = None, page: int = 1000) -> Iterator[JournalFile]:
        def convert(row: Any) -> JournalFile:
            return JournalFile(relpath=row.relpath, path=row.path, state=row.state)

        return self._paginate(files_table, "relpath", convert, states=states, page=page)

    def _paginate(
        self,
        table: sa.Table,
        key: str,
        convert: Callable[[Any], T],
        *,
        states: Sequence[str] | None,
        page: int,
    ) -> Iterator[T]:
        """This job's entries of `table` in `key` order, one page at a time (keyset pagination)."""
        column = table.c[key]
        after: str | None = None
        while True:
            query = sa.select(table).where(table.c.job == self.job).order_by(column).limit(page)
            if states is not None:
                query = query.where(table.c.state.in_(list(states)))
            if after is not None:
                query = query.where(column > after)
            with self._lock, self._read() as conn:
                rows = list(conn.execute(query))
            yield from (convert(row) for row in rows)
            if len(rows) < page:
                return
            after = getattr(rows[-1], key)

    def objects_of_file(self, relpath: str) -> list[JournalObject]:
        o = objects_table
        with self._lock, self._read() as conn:
            return [
                _object_from_row(row)
                for row in conn.execute(sa.select(o).where(o.c.job == self.job, o.c.relpath == relpath))
            ]

    def set_file_state(self, relpath: str, state: str) -> None:
        f = files_table
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                sa.update(f)
                .where(f.c.job == self.job, f.c.relpath == relpath)
                .values(state=state, updated_at=time.time())
            )

    def claims_of_others(self) -> list[WorkerClaims]:
        """Who else holds claims on this job's objects (live ones first)."""
        return [c for c in self._claims() if c.worker_id != self.worker_id]

    def _claims(self) -> list[WorkerClaims]:
        o = objects_table
        now = time.time()
        with self._lock, self._read() as conn:
            dead = set(self._dead_workers(conn, now))
            rows = list(
                conn.execute(
                    sa.select(o.c.claimed_by, sa.func.count(), sa.func.max(o.c.claimed_at))
                    .where(o.c.job == self.job, o.c.claimed_by.is_not(None))
                    .group_by(o.c.claimed_by)
                )
            )
        claims = []
        for worker, count, last in rows:
            until = float(last) + self.lease_seconds
            claims.append(WorkerClaims(str(worker), int(count), worker not in dead and until > now, until))
        return sorted(claims, key=lambda c: (not c.alive, c.worker_id))

    # ------------------------------------------------------------ events

    def log_event(self, action: str, detail: Mapping[str, Any]) -> None:
        """Record what a command did (plan's skipped rows, cleanup's deletions, rollback's restores)."""
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                sa.insert(events_table).values(
                    job=self.job, at=time.time(), worker_id=self.worker_id, action=action, detail=_jsonable(detail)
                )
            )

    def events(self, *, actions: Sequence[str] | None = None, limit: int = 10) -> list[dict[str, Any]]:
        """The newest events first."""
        e = events_table
        query = sa.select(e).where(e.c.job == self.job).order_by(e.c.id.desc()).limit(limit)
        if actions is not None:
            query = query.where(e.c.action.in_(list(actions)))
        with self._lock, self._read() as conn:
            return [
                {"at": _iso(row.at), "worker_id": row.worker_id, "action": row.action, "detail": dict(row.detail)}
                for row in conn.execute(query)
            ]

    # ------------------------------------------------------------ the multipart ledger (migrate.upload.PartLedger)

    def open_upload(self, key: str, *, size: int, mtime_ns: int) -> tuple[str, int] | None:
        """The newest open multipart upload of `key` begun from a file of this size and mtime:
        (upload id, part size), to resume; None when there is none."""
        u = uploads_table
        with self._lock, self._read() as conn:
            row = conn.execute(
                sa.select(u.c.upload_id, u.c.part_size)
                .where(u.c.job == self.job, u.c.key == key, u.c.state == "open", u.c.size == size)
                .where(u.c.mtime_ns == mtime_ns)
                .order_by(u.c.created_at.desc())
                .limit(1)
            ).first()
        return (str(row.upload_id), int(row.part_size)) if row is not None else None

    def upload_begun(self, key: str, upload_id: str, *, size: int, mtime_ns: int, part_size: int) -> None:
        now = time.time()
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                self._insert_ignore(uploads_table).values(
                    job=self.job,
                    upload_id=upload_id,
                    key=key,
                    size=size,
                    mtime_ns=mtime_ns,
                    part_size=part_size,
                    state="open",
                    parts_sent=0,
                    parts_reused=0,
                    created_at=now,
                    updated_at=now,
                )
            )

    def part_sent(self, upload_id: str, *, number: int, size: int, etag: str, checksum: str | None) -> None:
        """A part S3 accepted (its ETag checked against the part's MD5)."""
        u, pt = uploads_table, parts_table
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                self._insert_ignore(pt).values(
                    job=self.job, upload_id=upload_id, number=number, size=size, etag=etag, checksum=checksum
                )
            )
            conn.execute(
                sa.update(u)
                .where(u.c.job == self.job, u.c.upload_id == upload_id)
                .values(parts_sent=u.c.parts_sent + 1, updated_at=time.time())
            )

    def parts_of(self, upload_id: str) -> dict[int, tuple[int, str, str | None]]:
        """number -> (size, etag, checksum) of the parts recorded for an upload."""
        pt = parts_table
        with self._lock, self._read() as conn:
            return {
                int(row.number): (int(row.size), str(row.etag), row.checksum)
                for row in conn.execute(sa.select(pt).where(pt.c.job == self.job, pt.c.upload_id == upload_id))
            }

    def upload_closed(self, upload_id: str, *, state: str, reused: int = 0) -> None:
        """An upload completed or aborted (state), with how many parts it reused from an earlier run."""
        u = uploads_table
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                sa.update(u)
                .where(u.c.job == self.job, u.c.upload_id == upload_id)
                .values(state=state, parts_reused=u.c.parts_reused + reused, updated_at=time.time())
            )

    def open_uploads(self) -> list[tuple[str, str]]:
        """(key, upload id) of every multipart upload of this job neither completed nor aborted."""
        u = uploads_table
        with self._lock, self._read() as conn:
            return [
                (str(row.key), str(row.upload_id))
                for row in conn.execute(
                    sa.select(u.c.key, u.c.upload_id).where(u.c.job == self.job, u.c.state == "open").order_by(u.c.key)
                )
            ]

    def upload_counts(self) -> dict[str, int]:
        """Multipart totals: uploads by state, parts sent and reused (for reports and tests)."""
        u = uploads_table
        counts = {"open": 0, "completed": 0, "aborted": 0, "parts_sent": 0, "parts_reused": 0}
        with self._lock, self._read() as conn:
            for state, n, sent, reused in conn.execute(
                sa.select(
                    u.c.state,
                    sa.func.count(),
                    sa.func.coalesce(sa.func.sum(u.c.parts_sent), 0),
                    sa.func.coalesce(sa.func.sum(u.c.parts_reused), 0),
                )
                .where(u.c.job == self.job)
                .group_by(u.c.state)
            ):
                counts[str(state)] = int(n)
                counts["parts_sent"] += int(sent)
                counts["parts_reused"] += int(reused)
        return counts

    def objects_by_key(self, keys: Sequence[str]) -> dict[str, JournalObject]:
        o = objects_table
        found: dict[str, JournalObject] = {}
        with self._lock, self._read() as conn:
            for part in _chunks(list(keys)):
                for row in conn.execute(sa.select(o).where(o.c.job == self.job, o.c.key.in_(part))):
                    found[row.key] = _object_from_row(row)
        return found

    def object_states(self, keys: Sequence[str]) -> dict[str, str]:
        """key -> state for those of `keys` that are objects of this job."""
        o = objects_table
        found: dict[str, str] = {}
        with self._lock, self._read() as conn:
            for part in _chunks(list(keys)):
                query = sa.select(o.c.key, o.c.state).where(o.c.job == self.job, o.c.key.in_(part))
                found.update((str(k), str(state)) for k, state in conn.execute(query))
        return found

    def busy_keys(self) -> set[str]:
        """Keys claimed by live workers other than this one (their uploads are not to be touched)."""
        o = objects_table
        now = time.time()
        with self._lock, self._read() as conn:
            dead = set(self._dead_workers(conn, now))
            rows = conn.execute(
                sa.select(o.c.key, o.c.claimed_by).where(
                    o.c.job == self.job,
                    o.c.claimed_by.is_not(None),
                    o.c.claimed_by != self.worker_id,
                    o.c.claimed_at >= now - self.lease_seconds,
                )
            )
            return {str(key) for key, worker in rows if worker not in dead}

    def status(self) -> JournalStatus:
        o, r, f = objects_table, rows_table, files_table
        with self._lock, self._read() as conn:
            objects = dict.fromkeys(OBJECT_STATES, 0)
            bytes_total = bytes_done = 0
            bytes_by_state = dict.fromkeys(OBJECT_STATES, 0)
            for state, count, size in conn.execute(
                sa.select(o.c.state, sa.func.count(), sa.func.coalesce(sa.func.sum(o.c.size), 0))
                .where(o.c.job == self.job)
                .group_by(o.c.state)
            ):
                objects[state] = int(count)
                bytes_by_state[state] = int(size)
                bytes_total += int(size)
                if state in ("uploaded", "done"):
                    bytes_done += int(size)
            rows = dict.fromkeys(ROW_STATES, 0)
            for state, count in conn.execute(
                sa.select(r.c.state, sa.func.count()).where(r.c.job == self.job).group_by(r.c.state)
            ):
                rows[state] = int(count)
            files = {"present": 0, "cleaned": 0}
            for state, count in conn.execute(
                sa.select(f.c.state, sa.func.count()).where(f.c.job == self.job).group_by(f.c.state)
            ):
                files[state] = int(count)
            claimed = conn.execute(
                sa.select(sa.func.count()).where(
                    o.c.job == self.job,
                    o.c.claimed_by.is_not(None),
                    o.c.claimed_at >= time.time() - self.lease_seconds,
                )
            ).scalar_one()
            failures = [
                (row.key, row.error or "")
                for row in conn.execute(
                    sa.select(o.c.key, o.c.error)
                    .where(o.c.job == self.job, o.c.state == "failed")
                    .order_by(o.c.key)
                    .limit(20)
                )
            ]
        last_plan = self.events(actions=("plan",), limit=1)
        counts = self.upload_counts()
        return JournalStatus(
            job=self.job,
            objects=objects,
            rows=rows,
            files=files,
            bytes_total=bytes_total,
            bytes_done=bytes_done,
            bytes_by_state=bytes_by_state,
            claimed=int(claimed),
            failures=failures,
            skipped={k: int(v) for k, v in (last_plan[0]["detail"].get("skipped", {}) if last_plan else {}).items()},
            claims=self._claims(),
            open_uploads=counts["open"],
            events=self.events(actions=("plan", "cleanup", "rollback", "abort"), limit=5),
        )


def _object_from_row(row: Any) -> JournalObject:
    return JournalObject(
        key=row.key,
        relpath=row.relpath,
        item=_item_from_json(row.key, int(row.size), int(row.mtime_ns), row.item),
        size=int(row.size),
        mtime_ns=int(row.mtime_ns),
        state=row.state,
        sha256=row.sha256,
        md5=row.md5,
        etag=row.etag,
        version_id=row.version_id,
        parts=int(row.parts or 1),
        attempts=int(row.attempts or 0),
        error=row.error,
    )


def _row_from_row(row: Any) -> JournalRow:
    return JournalRow(
        row_id=row.row_id,
        key=row.key,
        old_path=row.old_path,
        expect=dict(row.expect),
        old_values=dict(row.old_values),
        new_values=dict(row.new_values),
        state=row.state,
        outcome=row.outcome,
    )


def _sqlite_pragmas(engine: sa.Engine) -> None:
    """WAL (readers never block the writer), a generous busy timeout, and BEGIN IMMEDIATE so a
    transaction takes the write lock up front instead of failing half-way."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let the "begin" hook below issue BEGIN itself
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across a killed process (not power loss)
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("cargohold_read") else "BEGIN IMMEDIATE")


def _create_tables(engine: sa.Engine) -> None:
    """Create the journal tables if they do not exist. On PostgreSQL an advisory lock keeps two
    workers starting at once from racing each other's CREATE TABLE."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('cargohold_migration_journal'))"))
        metadata.create_all(conn, checkfirst=True)


@contextlib.contextmanager
def open_journal(url: str, job: str, **kwargs: Any) -> Iterator[Journal]:
    """`with open_journal(url, job) as journal: ...`"""
    journal = Journal.open(url, job, **kwargs)
    try:
        yield journal
    finally:
        journal.close()

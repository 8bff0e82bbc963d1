"""The migration engine: upload the planned objects, rewrite their rows, and verify, roll back or
clean up afterwards. Every step is recorded in the journal, so a killed run resumes where it stopped.

`run` records the planned work, then loops: claim a batch of objects, upload them concurrently
through the uploader (verified uploads are journaled as they complete), and once a batch is
settled, check that each uploaded file did not change since it was read and apply the rows of the
verified objects in ONE `store.apply()` call (one transaction), then mark rows and objects.

Invariants (see notes/migrate-design.md):
- a row is updated only after its object is verified, conditionally on it still holding its old
  path and key; a conflict is reported, never forced;
- kill -9 anywhere, then `run` again: no verified object is uploaded again, no row updated twice;
- a file changed after its upload is uploaded again before its rows are updated;
- cleanup deletes a local file only when its objects pass a fresh HEAD, the file still matches
  them, and every row that references them is updated.

The library never prints or exits: it returns report objects (with an `exit_code`) and raises
CargoholdError subclasses.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from cargohold_core.errors import CargoholdError
from cargohold_core.progress import SilentProgress
from migrate.journal import (
    HEARTBEAT_SECONDS,
    ROW_STATES,
    Journal,
    JournalObject,
    JournalRow,
    JournalStatus,
    RecordSummary,
    WorkerClaims,
)
from migrate.types import RowId, RowOutcome, RowUpdate, UploadItem, UploadResult
from migrate.work import PlannedObject, PlannedRow, Work

__all__ = [
    "AbortReport",
    "CleanupRefused",
    "CleanupReport",
    "EngineSettings",
    "PlannedObject",
    "PlannedRow",
    "Progress",
    "RollbackReport",
    "RunReport",
    "SilentProgress",
    "VerifyProblem",
    "VerifyReport",
    "Work",
    "abort_stale",
    "cleanup",
    "rollback",
    "run",
    "status",
    "stop_on_signals",
    "verify",
]

EXIT_OK, EXIT_ERROR, EXIT_PROBLEMS, EXIT_REFUSED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


# ---------------------------------------------------------------- the collaborators' protocols


class RowStore(Protocol):
    """What the engine needs from a database adapter (migrate/db: `open_store(...)`)."""

    def apply(self, updates: Sequence[RowUpdate]) -> list[RowOutcome]: ...

    def read(self, ids: Sequence[RowId]) -> dict[RowId, dict[str, Any]]: ...


class Uploader(Protocol):
    """What the engine needs from the uploader (migrate/upload.py: `Uploader`)."""

    def upload_many(
        self,
        items: Iterable[UploadItem],
        *,
        on_result: Callable[[UploadResult], None],
        stop: threading.Event | None = None,
    ) -> None: ...

    def head(self, key: str) -> Mapping[str, Any] | None: ...

    def delete(self, keys: Sequence[str]) -> None: ...


class Progress(Protocol):
    """A progress subscriber; every method takes keyword arguments only and must ignore unknown ones.

    - on_queued(files=, bytes=): once, after recording: the objects this run still has to settle
    - on_progress(key=, bytes=, files=1, outcome=): per object settled (outcome: uploaded | reused |
      requeued | failed), bytes = bytes uploaded for it (0 when nothing was sent)
    - on_done(report=): once, with the RunReport
    """

    def on_queued(self, **kwargs: Any) -> None: ...

    def on_progress(self, **kwargs: Any) -> None: ...

    def on_done(self, **kwargs: Any) -> None: ...


# ---------------------------------------------------------------- settings and reports


@dataclass(frozen=True)
class EngineSettings:
    """The engine's knobs (the uploader's live in its TransferSettings).

    Memory: the engine holds at most about two batches of objects (claimed, settling) plus their
    rows; record() holds `record_chunk` planned objects at a time.
    """

    batch_size: int = 500  # objects claimed at once; their rows go to the database in one transaction
    record_chunk: int = 1000  # planned objects per journal transaction while recording
    max_changed_attempts: int = 5  # a file that keeps changing while/after being read ends failed
    heartbeat_seconds: float = 30.0  # how often claims are renewed (keep well under the journal lease)
    flush_every: int = 64  # verified uploads journaled per transaction (also flushed whenever idle)
    head_concurrency: int = 16  # concurrent HEADs in verify and cleanup
    hash_local: bool = True  # verify: re-hash local files (else compare size and mtime only)
    wait_for_others: bool = True  # shared journal: when nothing is left to claim, wait while live workers
    #                               hold claims (their work may come back), so `run` returns when the job does
    allow_partial: bool = False  # rows left behind (plan problems, conflicts) do not make `run` exit 2


class CleanupRefused(CargoholdError):
    """cleanup was called without the explicit confirmation."""

    exit_code = EXIT_REFUSED


@dataclass
class RunReport:
    job: str
    worker_id: str
    recorded: RecordSummary
    uploaded: int = 0  # objects uploaded and verified by this run
    bytes_uploaded: int = 0
    reused: int = 0  # objects verified by an earlier run whose rows this run applied
    requeued: int = 0  # uploads discarded because the file changed; the object was uploaded again
    parts_reused: int = 0  # multipart parts an interrupted earlier run had sent, not sent again
    failed: list[tuple[str, str]] = field(default_factory=list)  # (key, error)
    rows_updated: int = 0
    rows_already: int = 0  # held the new values already (a run before a crash had committed them)
    conflicts: list[RowId] = field(default_factory=list)  # changed under us: left alone
    missing: list[RowId] = field(default_factory=list)  # deleted under us
    skipped: dict[str, int] = field(default_factory=dict)  # rows the plan could not migrate, by reason
    fatal: str | None = None  # the endpoint or bucket failed for every file: the run stopped
    claimed_by_others: list[WorkerClaims] = field(default_factory=list)  # objects live workers still hold
    uploads_aborted: int = 0  # incomplete multipart uploads of this job aborted at the end
    allow_partial: bool = False  # rows left behind (skipped, conflicts) do not make the exit code 2
    interrupted: bool = False
    elapsed: float = 0.0
    status: JournalStatus | None = None  # the journal after the run

    @property
    def incomplete(self) -> dict[str, int]:
        """Why planned rows were left behind, by reason (the journal's view, with this run's plan)."""
        reasons = dict(self.status.incomplete) if self.status is not None else {}
        reasons.pop("objects_failed", None)  # failures are errors (exit 1), counted in `failed`
        if self.claimed_by_others:
            reasons["objects_claimed_by_others"] = sum(c.objects for c in self.claimed_by_others)
        return reasons

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        if self.fatal or self.failed:
            return EXIT_ERROR
        if (self.conflicts or self.missing or self.incomplete) and not self.allow_partial:
            return EXIT_PROBLEMS
        return EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "worker_id": self.worker_id,
            "recorded": self.recorded.__dict__,
            "uploaded": self.uploaded,
            "bytes_uploaded": self.bytes_uploaded,
            "reused": self.reused,
            "requeued": self.requeued,
            "parts_reused": self.parts_reused,
            "failed": [{"key": k, "error": e} for k, e in self.failed],
            "rows_updated": self.rows_updated,
            "rows_already": self.rows_already,
            "conflicts": self.conflicts,
            "missing": self.missing,
            "skipped": self.skipped,
            "fatal": self.fatal,
            "claimed_by_others": [c.to_json() for c in self.claimed_by_others],
            "uploads_aborted": self.uploads_aborted,
            "incomplete": self.incomplete,
            "allow_partial": self.allow_partial,
            "interrupted": self.interrupted,
            "elapsed": round(self.elapsed, 3),
            "status": self.status.to_json() if self.status else None,
            "exit_code": self.exit_code,
        }


@dataclass(frozen=True)
class VerifyProblem:
    kind: str  # object_missing | size_mismatch | checksum_mismatch | local_changed | local_missing |
    #            row_missing | row_changed | head_failed
    key: str | None
    row_id: RowId | None
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "row_id": self.row_id, "detail": self.detail}


@dataclass
class VerifyReport:
    objects_checked: int = 0
    rows_checked: int = 0
    problems: list[VerifyProblem] = field(default_factory=list)
    size_only: list[str] = field(default_factory=list)  # keys the server gave nothing to check but the size

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_PROBLEMS

    def to_json(self) -> dict[str, Any]:
        return {
            "objects_checked": self.objects_checked,
            "rows_checked": self.rows_checked,
            "ok": self.ok,
            "problems": [p.to_json() for p in self.problems],
            "size_only": self.size_only,
            "exit_code": self.exit_code,
        }


@dataclass
class RollbackReport:
    rows_restored: int = 0
    conflicts: list[RowId] = field(default_factory=list)  # changed since the migration: left alone
    missing: list[RowId] = field(default_factory=list)
    # rows left pointing at S3 because their local file is not there to point back at (cleaned up,
    # deleted or changed since): (row id, why). `--restore-files` brings cleaned-up files back first.
    kept: list[tuple[RowId, str]] = field(default_factory=list)
    files_restored: int = 0  # local files brought back from their objects (restore_files)
    objects_deleted: int = 0
    objects_kept: list[tuple[str, str]] = field(default_factory=list)  # (key, why) not deleted though asked
    objects_left: int = 0  # not asked to delete: still in the bucket
    uploads_aborted: int = 0

    @property
    def exit_code(self) -> int:
        return EXIT_PROBLEMS if self.conflicts or self.missing or self.kept or self.objects_kept else EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {
            "rows_restored": self.rows_restored,
            "conflicts": self.conflicts,
            "missing": self.missing,
            "kept": [{"row_id": r, "reason": why} for r, why in self.kept],
            "files_restored": self.files_restored,
            "objects_deleted": self.objects_deleted,
            "objects_kept": [{"key": k, "reason": why} for k, why in self.objects_kept],
            "objects_left": self.objects_left,
            "uploads_aborted": self.uploads_aborted,
            "exit_code": self.exit_code,
        }


@dataclass
class CleanupReport:
    files_deleted: int = 0
    bytes_freed: int = 0
    kept: list[tuple[str, str]] = field(default_factory=list)  # (relpath, reason)
    already_cleaned: int = 0

    @property
    def exit_code(self) -> int:
        """2 when some files were kept: a person should look at why before the next cleanup."""
        return EXIT_PROBLEMS if self.kept else EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {
            "files_deleted": self.files_deleted,
            "bytes_freed": self.bytes_freed,
            "already_cleaned": self.already_cleaned,
            "kept": [{"relpath": r, "reason": why} for r, why in self.kept],
            "exit_code": self.exit_code,
        }


# ---------------------------------------------------------------- signals


@contextlib.contextmanager
def stop_on_signals(event: threading.Event | None = None) -> Iterator[threading.Event]:
    """Within the block, SIGINT/SIGTERM set the returned event (run() then stops claiming, settles
    what is in flight and returns an interrupted report); a second signal raises KeyboardInterrupt.
    Main thread only; elsewhere the event is returned and no handler is installed."""
    stop = event or threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, _frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# ---------------------------------------------------------------- run


def run(
    work: Work | None,
    *,
    journal: Journal,
    store: RowStore,
    uploader: Uploader,
    settings: EngineSettings | None = None,
    progress: Progress | None = None,
    stop_event: threading.Event | None = None,
    skipped: Callable[[], Mapping[str, int]] | None = None,
) -> RunReport:
    """Migrate: record `work` (None: resume from the journal alone), upload, verify, update rows.

    `skipped` (called once `work` is consumed) gives the rows the plan could not migrate, by reason;
    they are recorded in the journal, and `run` reports the job incomplete while any are left."""
    settings = settings or EngineSettings()
    progress = progress or SilentProgress()
    stop = stop_event or threading.Event()
    started = time.monotonic()
    journal.lock_for_run()
    recorded = journal.record(work, chunk=settings.record_chunk) if work is not None else RecordSummary()
    report = RunReport(
        job=journal.job, worker_id=journal.worker_id, recorded=recorded, allow_partial=settings.allow_partial
    )
    if skipped is not None:
        report.skipped = {reason: n for reason, n in skipped().items() if n}
        journal.log_event("plan", {"skipped": report.skipped, "objects": recorded.objects, "rows": recorded.rows})
    before = journal.status()
    progress.on_queued(
        files=before.objects["pending"] + before.objects["uploaded"],
        bytes=before.bytes_by_state["pending"],
    )
    worker = _Worker(journal=journal, store=store, uploader=uploader, settings=settings, progress=progress, stop=stop)
    while not stop.is_set():
        claimed = worker.one_pass(report)
        report.fatal = getattr(uploader, "fatal", None)
        if report.fatal:
            break
        if claimed:
            continue
        report.claimed_by_others = [c for c in journal.claims_of_others() if c.alive]
        if not report.claimed_by_others or not settings.wait_for_others:
            break
        stop.wait(HEARTBEAT_SECONDS)  # their claims come back if they die or release them
    report.interrupted = stop.is_set()
    if not report.interrupted and not report.fatal:
        report.uploads_aborted = len(abort_stale(journal, uploader=uploader).aborted)
    report.elapsed = time.monotonic() - started
    report.status = journal.status()
    progress.on_done(report=report)
    return report


class _Halt(threading.Event):
    """An event that is also set whenever `parent` is: the uploader sees a signal at once (between
    two parts of a multipart upload, in a retry's wait), not when the settling loop next wakes."""

    def __init__(self, parent: threading.Event) -> None:
        super().__init__()
        self.parent = parent

    def is_set(self) -> bool:
        return super().is_set() or self.parent.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            left = 0.05 if deadline is None else min(0.05, deadline - time.monotonic())
            if left <= 0:
                return False
            super().wait(left)
        return True


@dataclass
class _Batch:
    id: int
    objects: dict[str, JournalObject]
    unresolved: set[str]
    verified: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (size, mtime_ns) read
    claimed_done: bool = False  # every object of the batch has been handed out (or resolved)


class _Worker:
    """One pass = one `upload_many` call fed by a lazy claiming generator; the calling thread
    settles batches (journal writes, row updates) while the uploads go on in another thread."""

    def __init__(
        self,
        *,
        journal: Journal,
        store: RowStore,
        uploader: Uploader,
        settings: EngineSettings,
        progress: Progress,
        stop: threading.Event,
    ) -> None:
        self.journal = journal
        self.store = store
        self.uploader = uploader
        self.settings = settings
        self.progress = progress
        self.stop = stop
        self._lock = threading.Lock()
        self._batches: dict[int, _Batch] = {}
        self._by_key: dict[str, int] = {}  # key -> id of the batch it is being uploaded for
        self._next_batch = 0
        self._claimed = 0

    # events put on the queue: ("result", UploadResult) | ("ready"|"requeue"|"fail", batch_id, key, detail) | ("end",)

    def one_pass(self, report: RunReport) -> int:
        events: queue.Queue[tuple[Any, ...]] = queue.Queue()
        halt = _Halt(self.stop)  # the uploader's stop: the caller's stop, or settling failed
        self._claimed = 0
        failure: list[BaseException] = []

        def items() -> Iterator[UploadItem]:
            while not self.stop.is_set() and not halt.is_set():
                claimed = self.journal.claim(self.settings.batch_size)
                if not claimed:
                    return
                with self._lock:
                    self._next_batch += 1
                    batch = _Batch(
                        id=self._next_batch, objects={o.key: o for o in claimed}, unresolved={o.key for o in claimed}
                    )
                    self._batches[batch.id] = batch
                    self._claimed += len(claimed)
                remote = self._still_there([obj for obj in claimed if obj.state == "uploaded"])
                for obj in claimed:
                    if self.stop.is_set() or halt.is_set():
                        break
                    stat = _stat(obj.item.path)
                    if stat is None:
                        events.put(("fail", batch.id, obj.key, f"local file missing: {obj.item.path}"))
                    elif obj.state == "uploaded":
                        if stat != (obj.size, obj.mtime_ns):
                            events.put(("requeue", batch.id, obj.key, "file changed after its upload"))
                        elif remote.get(obj.key):
                            events.put(("requeue", batch.id, obj.key, str(remote[obj.key])))
                        else:
                            events.put(("ready", batch.id, obj.key, (obj.size, obj.mtime_ns)))
                    else:
                        with self._lock:
                            self._by_key[obj.key] = batch.id
                        yield replace(obj.item, size=stat[0], mtime_ns=stat[1])
                with self._lock:
                    batch.claimed_done = True
                events.put(("tick",))

        def upload() -> None:
            try:
                self.uploader.upload_many(items(), on_result=lambda res: events.put(("result", res)), stop=halt)
            except BaseException as exc:  # re-raised in the settling thread
                failure.append(exc)
            finally:
                events.put(("end",))

        thread = threading.Thread(target=upload, name="cargohold-upload", daemon=True)
        thread.start()
        uploaded: list[UploadResult] = []  # verified, not yet journaled
        last_beat = time.monotonic()
        try:
            while True:
                try:
                    event = events.get(timeout=min(self.settings.heartbeat_seconds, 1.0) if not uploaded else 0.05)
                except queue.Empty:
                    event = ("idle",)
                    self._flush(uploaded)
                if time.monotonic() - last_beat >= self.settings.heartbeat_seconds:
                    self._heartbeat()
                    last_beat = time.monotonic()
                if event[0] == "idle":
                    continue
                if event[0] == "end":
                    break
                self._handle(event, uploaded, report)
                if len(uploaded) >= self.settings.flush_every:
                    self._flush(uploaded)
                self._settle_complete(uploaded, report)
            thread.join()
            self._flush(uploaded)
            # whatever is still open (stopped, or the uploader returned early): settle what was
            # verified, release the rest (it stays pending and is claimed again by the next run)
            with self._lock:
                still_open = list(self._batches.values())
            for batch in still_open:
                self._settle(batch, report)
        except BaseException:
            halt.set()
            thread.join()
            with self._lock:
                held = [key for batch in self._batches.values() for key in batch.objects]
                self._batches.clear()
            with contextlib.suppress(Exception):  # keep the verified uploads: not uploaded again
                self._flush(uploaded)
            with contextlib.suppress(Exception):  # best effort; otherwise the claims' lease expires
                self.journal.release(held)
            raise
        if failure:
            raise failure[0]
        return self._claimed

    def _still_there(self, objects: Sequence[JournalObject]) -> dict[str, str | None]:
        """Objects an earlier run verified are HEADed again before their rows are pointed at them
        (the server may have lost them: an emulator restarted, a bucket emptied). key -> why not, or None."""
        if not objects:
            return {}
        found: dict[str, str | None] = {}
        for obj, head, error in _head_all(self.uploader, objects, self.settings.head_concurrency):
            problem = _check_remote(obj, head) if error is None else None
            found[obj.key] = error or (f"{problem.detail}; uploading it again" if problem is not None else None)
        return found

    def _handle(self, event: tuple[Any, ...], uploaded: list[UploadResult], report: RunReport) -> None:
        kind = event[0]
        if kind == "tick":
            return
        if kind == "result":
            res: UploadResult = event[1]
            with self._lock:
                batch_id = self._by_key.pop(res.key, None)
                batch = self._batches.get(batch_id) if batch_id is not None else None
            if batch is None or res.key not in batch.unresolved:
                return
            batch.unresolved.discard(res.key)
            problem = _upload_problem(res, batch.objects[res.key].item)
            if problem is not None and (res.fatal or self.stop.is_set()) and not res.changed_while_reading:
                return  # cut short by the stop or a dead endpoint: stays pending (released when the batch settles)
            if problem is None:
                uploaded.append(res)
                batch.verified[res.key] = (res.size, res.mtime_ns)
                report.uploaded += 1
                report.bytes_uploaded += res.size
                report.parts_reused += res.parts_reused
                self.progress.on_progress(key=res.key, bytes=res.size, files=1, outcome="uploaded")
            elif res.changed_while_reading:
                self._requeue(batch, res.key, "file changed while it was read", report)
            else:
                self.journal.mark_failed([(res.key, problem)])
                report.failed.append((res.key, problem))
                self.progress.on_progress(key=res.key, bytes=0, files=1, outcome="failed")
            return
        _, batch_id, key, detail = event
        with self._lock:
            batch = self._batches.get(batch_id)
        if batch is None or key not in batch.unresolved:
            return
        batch.unresolved.discard(key)
        if kind == "ready":
            batch.verified[key] = detail
            report.reused += 1
            self.progress.on_progress(key=key, bytes=0, files=1, outcome="reused")
        elif kind == "requeue":
            self._requeue(batch, key, detail, report)
        elif kind == "fail":
            self.journal.mark_failed([(key, detail)])
            report.failed.append((key, detail))
            self.progress.on_progress(key=key, bytes=0, files=1, outcome="failed")

    def _requeue(self, batch: _Batch, key: str, reason: str, report: RunReport) -> None:
        failed = self.journal.requeue([key], reason=reason, max_attempts=self.settings.max_changed_attempts)
        # requeue released the claim, and a later batch may claim the object again before this one
        # settles: this batch must not release (or renew) it any more
        with self._lock:
            batch.objects.pop(key, None)
        if failed:
            report.failed.append((key, f"{reason} ({self.settings.max_changed_attempts} times)"))
            self.progress.on_progress(key=key, bytes=0, files=1, outcome="failed")
        else:
            report.requeued += 1
            self.progress.on_progress(key=key, bytes=0, files=1, outcome="requeued")

    def _flush(self, uploaded: list[UploadResult]) -> None:
        if uploaded:
            self.journal.mark_uploaded(uploaded)
            uploaded.clear()

    def _heartbeat(self) -> None:
        with self._lock:
            keys = [key for batch in self._batches.values() for key in batch.objects]
        if keys:
            self.journal.renew_claims(keys)

    def _settle_complete(self, uploaded: list[UploadResult], report: RunReport) -> None:
        with self._lock:
            complete = [b for b in self._batches.values() if b.claimed_done and not b.unresolved]
        for batch in complete:
            self._flush(uploaded)
            self._settle(batch, report)

    def _settle(self, batch: _Batch, report: RunReport) -> None:
        """Apply the rows of the batch's verified objects (one store.apply), then mark rows and
        objects and release the batch's claims. A file that changed since it was read is requeued."""
        ready: list[str] = []
        for key, read in batch.verified.items():
            if _stat(batch.objects[key].item.path) == read:
                ready.append(key)
            else:
                self._requeue(batch, key, "file changed after its upload", report)
        rows = self.journal.rows_for(ready) if ready else []
        # a row that already held the new values when it was planned needs no write at all
        held = [row for row in rows if row.old_values == row.new_values]
        rows = [row for row in rows if row.old_values != row.new_values]
        outcomes: list[RowOutcome] = [RowOutcome(id=row.row_id, status="already") for row in held]
        if rows:
            outcomes += self.store.apply(
                [RowUpdate(id=row.row_id, expect=row.expect, values=row.new_values) for row in rows]
            )
            if len(outcomes) != len(rows) + len(held):
                raise CargoholdError(
                    f"the database adapter answered {len(outcomes)} outcomes for {len(rows)} rows",
                    hint="this is a bug in the database adapter; the journal is unchanged, run again after fixing it",
                )
        self.journal.finish(ready, outcomes, release=list(batch.objects))
        with self._lock:
            self._batches.pop(batch.id, None)  # only now: if settling fails, the claims are released
        for outcome in outcomes:
            if outcome.status == "updated":
                report.rows_updated += 1
            elif outcome.status == "already":
                report.rows_already += 1
            elif outcome.status == "conflict":
                report.conflicts.append(outcome.id)
            else:
                report.missing.append(outcome.id)


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _upload_problem(res: UploadResult, item: UploadItem) -> str | None:
    """None when the upload is verified; otherwise why not."""
    if not res.ok or res.changed_while_reading:
        return res.error or ("file changed while it was read" if res.changed_while_reading else "upload failed")
    if res.parts == 1 and item.sse != "aws:kms" and res.etag and res.md5 and res.etag.strip('"') != res.md5:
        return f"ETag {res.etag} does not match the MD5 {res.md5} of the bytes sent"
    return None


# ---------------------------------------------------------------- status


def status(journal: Journal) -> JournalStatus:
    return journal.status()


# ---------------------------------------------------------------- verify


def _head_fields(head: Mapping[str, Any]) -> tuple[int | None, str | None, str | None]:
    """(size, etag, sha256) from the uploader's head() answer (its own or boto3's spelling)."""
    size = head.get("size", head.get("ContentLength"))
    etag = head.get("etag", head.get("ETag"))
    sha = head.get("sha256", head.get("checksum_sha256", head.get("ChecksumSHA256")))
    if sha is None and isinstance(head.get("checksum"), str):
        sha = head["checksum"]
    return (
        int(size) if size is not None else None,
        str(etag).strip('"') if etag is not None else None,
        str(sha) if sha is not None else None,
    )


def _hash_file(path: Path) -> tuple[str, str]:
    """(sha256 base64, md5 hex) of a file, read once."""
    sha = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
            md5.update(chunk)
    return base64.b64encode(sha.digest()).decode(), md5.hexdigest()


def _check_remote(
    obj: JournalObject, head: Mapping[str, Any] | None, *, size_only: list[str] | None = None
) -> VerifyProblem | None:
    """The object against the journal, by what the server promises: a single-part object's ETag and
    checksum; for a multipart object only a multipart-shaped ETag ("...-N") and a full-object checksum
    (servers answer a plain MD5 or a composite checksum there, which say nothing about these bytes).
    Keys judged by their size alone are added to `size_only`."""
    if head is None:
        return VerifyProblem("object_missing", obj.key, None, "no object at this key (HEAD: not found)")
    size, etag, sha = _head_fields(head)
    if size is not None and size != obj.size:
        return VerifyProblem("size_mismatch", obj.key, None, f"object is {size} bytes, the journal says {obj.size}")
    recorded_etag = obj.etag.strip('"') if obj.etag else None
    if obj.parts > 1:
        etag = etag if etag and "-" in etag else None
        sha = sha if sha and "-" not in sha else None
    if etag and recorded_etag and etag != recorded_etag:
        return VerifyProblem("checksum_mismatch", obj.key, None, f"ETag {etag}, the journal says {obj.etag}")
    if sha and obj.sha256 and sha != obj.sha256:
        return VerifyProblem("checksum_mismatch", obj.key, None, f"SHA-256 {sha}, the journal says {obj.sha256}")
    if size_only is not None and not ((etag and recorded_etag) or (sha and obj.sha256)):
        size_only.append(obj.key)
    return None


def _check_local(obj: JournalObject, path: Path, *, hash_local: bool) -> VerifyProblem | None:
    stat = _stat(path)
    if stat is None:
        return VerifyProblem("local_missing", obj.key, None, f"local file missing: {path}")
    if stat[0] != obj.size:
        return VerifyProblem("local_changed", obj.key, None, f"local file is {stat[0]} bytes, the object {obj.size}")
    if not hash_local:
        if stat[1] != obj.mtime_ns:
            return VerifyProblem("local_changed", obj.key, None, "local file modified since its upload (mtime)")
        return None
    sha, md5 = _hash_file(path)
    if (obj.sha256 and sha != obj.sha256) or (not obj.sha256 and obj.md5 and md5 != obj.md5):
        return VerifyProblem("local_changed", obj.key, None, "local file content differs from the uploaded object")
    return None


def _head_all(
    uploader: Uploader, objects: Sequence[JournalObject], concurrency: int
) -> list[tuple[JournalObject, Mapping[str, Any] | None, str | None]]:
    def one(obj: JournalObject) -> tuple[JournalObject, Mapping[str, Any] | None, str | None]:
        try:
            return obj, uploader.head(obj.key), None
        except Exception as exc:  # reported as a problem, never as a pass
            return obj, None, f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(one, objects))


def _pages(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    page: list[Any] = []
    for item in items:
        page.append(item)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


def verify(
    journal: Journal,
    *,
    uploader: Uploader,
    store: RowStore,
    source_dir: Path | None = None,
    settings: EngineSettings | None = None,
) -> VerifyReport:
    """Every migrated object (done/uploaded) is HEADed: it must exist with the journal's size and the
    checksums the server promises (see `_check_remote`); its local file, unless cleaned, must still
    match. Every updated row must still hold the values the migration wrote."""
    settings = settings or EngineSettings()
    report = VerifyReport()
    cleaned = {f.relpath for f in journal.iter_files(states=("cleaned",))}
    for page in _pages(journal.iter_objects(states=("uploaded", "done")), 200):
        for obj, head, error in _head_all(uploader, page, settings.head_concurrency):
            report.objects_checked += 1
            if error is not None:
                report.problems.append(VerifyProblem("head_failed", obj.key, None, error))
                continue
            problem = _check_remote(obj, head, size_only=report.size_only)
            if problem is None and obj.relpath not in cleaned:
                path = source_dir / obj.relpath if source_dir is not None else obj.item.path
                problem = _check_local(obj, path, hash_local=settings.hash_local)
            if problem is not None:
                report.problems.append(problem)
    for rows in _pages(journal.iter_rows(states=("updated",)), settings.batch_size):
        current = store.read([row.row_id for row in rows])
        for row in rows:
            report.rows_checked += 1
            values = current.get(row.row_id)
            drift = _row_drift(row, values)
            if drift is not None:
                kind = "row_missing" if values is None else "row_changed"
                report.problems.append(VerifyProblem(kind, row.key, row.row_id, drift))
    return report


def _same(current: Any, wanted: Any) -> bool:
    return bool(current == wanted) or (current is not None and wanted is not None and str(current) == str(wanted))


def _row_drift(row: JournalRow, values: Mapping[str, Any] | None) -> str | None:
    """Why the live row no longer holds what the migration wrote into it; None when it does."""
    if values is None:
        return "the row no longer exists"
    differing = [name for name, want in row.new_values.items() if not _same(values.get(name), want)]
    if not differing:
        return None
    return "row points elsewhere: " + ", ".join(
        f"{name}={values.get(name)!r} (migrated: {row.new_values[name]!r})" for name in differing
    )


def _points_at(row: JournalRow, values: Mapping[str, Any] | None, key: str) -> bool:
    """Whether the live row still names the object `key` (in its key column, or a URL made from it)."""
    if values is None:
        return False
    return any(
        isinstance(want, str) and key in want and _same(values.get(name), want) for name, want in row.new_values.items()
    )


# ---------------------------------------------------------------- multipart uploads left behind


@dataclass
class AbortReport:
    aborted: list[tuple[str, str]] = field(default_factory=list)  # (key, upload id)
    errors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_ERROR if self.errors else EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {
            "aborted": [{"key": k, "upload_id": u} for k, u in self.aborted],
            "errors": self.errors,
            "exit_code": self.exit_code,
        }


def abort_stale(journal: Journal, *, uploader: Uploader, everything: bool = False) -> AbortReport:
    """Abort this job's incomplete multipart uploads in the bucket (their parts are billed until a
    lifecycle rule removes them), except those a live worker is busy with and, unless `everything`,
    those the journal can still resume (a recorded open upload of an object that is still pending).
    Uploads of keys that are not this job's are never touched."""
    report = AbortReport()
    listing = getattr(uploader, "incomplete_uploads", None)
    abort = getattr(uploader, "abort_upload", None)
    if listing is None or abort is None:  # an uploader without multipart uploads (a test stand-in)
        return report
    try:
        in_bucket: list[tuple[str, str]] = listing()
    except Exception as exc:  # a server without ListMultipartUploads: say so, nothing else to do
        report.errors.append(f"could not list incomplete multipart uploads: {type(exc).__name__}: {exc}")
        return report
    recorded = set(journal.open_uploads())
    busy = journal.busy_keys()
    states = journal.object_states(sorted({key for key, _ in in_bucket}))  # only this job's keys are there
    for key, upload_id in in_bucket:
        if key not in states or key in busy:
            continue
        resumable = (key, upload_id) in recorded and states.get(key) in ("pending", "uploaded")
        if resumable and not everything:
            continue
        error = abort(key, upload_id)
        if error is None:
            report.aborted.append((key, upload_id))
        else:
            report.errors.append(error)
    gone = recorded - set(in_bucket)
    for _, upload_id in gone:  # completed or aborted by someone else, or expired: nothing to resume
        journal.upload_closed(upload_id, state="aborted")
    if report.aborted or report.errors:
        journal.log_event("abort", {"aborted": len(report.aborted), "errors": report.errors[:20]})
    return report


# ---------------------------------------------------------------- rollback


class _LocalFiles:
    """Whether an object's local file is still there, unchanged since its upload (hashed once per
    file per command); cleaned-up files count as gone."""

    def __init__(self, journal: Journal, source_dir: Path | None) -> None:
        self.cleaned = {f.relpath for f in journal.iter_files(states=("cleaned",))}
        self.source_dir = source_dir
        self._seen: dict[str, str | None] = {}

    def path(self, obj: JournalObject) -> Path:
        return self.source_dir / obj.relpath if self.source_dir is not None else obj.item.path

    def problem(self, obj: JournalObject) -> str | None:
        """None when the file is intact; else why not ("gone: ..." or "changed: ...")."""
        if obj.relpath not in self._seen:
            if obj.relpath in self.cleaned:
                self._seen[obj.relpath] = "gone: the local file was deleted by `migrate cleanup`"
            else:
                found = _check_local(obj, self.path(obj), hash_local=True)
                kind = "gone" if found is not None and found.kind == "local_missing" else "changed"
                self._seen[obj.relpath] = None if found is None else f"{kind}: {found.detail}"
        return self._seen[obj.relpath]

    def restored(self, obj: JournalObject) -> None:
        self.cleaned.discard(obj.relpath)
        self._seen[obj.relpath] = None


def rollback(
    journal: Journal,
    *,
    store: RowStore,
    uploader: Uploader | None = None,
    delete_objects: bool = False,
    restore_files: bool = False,
    source_dir: Path | None = None,
    settings: EngineSettings | None = None,
) -> RollbackReport:
    """Restore every updated row's old values, conditionally on it still holding the migrated values
    (a row changed since is reported, not touched).

    A row is pointed back at its local file only while that file is there, unchanged: a file deleted
    by cleanup (or since) is first brought back from its object with `restore_files`, otherwise the
    row keeps pointing at S3 and is reported in `kept`. With `delete_objects`, an object is deleted
    only when no row, in the journal or live in the database, points at it any more, and its local
    file is intact: the only copy is never deleted. Rolled back objects are uploaded again by a later
    `run`; incomplete multipart uploads of the job are aborted."""
    settings = settings or EngineSettings()
    if (delete_objects or restore_files) and uploader is None:
        raise CargoholdError(
            "rollback was asked to delete objects or restore files but has no uploader", hint="pass uploader="
        )
    journal.lock_for_run()
    report = RollbackReport()
    local = _LocalFiles(journal, source_dir)
    touched: set[str] = set()
    # keyset pagination by row id: rows restored on one page drop out of the `updated` state
    for rows in _pages(journal.iter_rows(states=("updated",)), settings.batch_size):
        objects = journal.objects_by_key(sorted({row.key for row in rows}))
        ready: list[JournalRow] = []
        for row in rows:
            obj = objects.get(row.key)
            why = local.problem(obj) if obj is not None else "the journal has no object for this row"
            if why is not None and why.startswith("gone") and restore_files and obj is not None:
                why = _restore_file(journal, uploader, obj, local, report)
            if why is None:
                ready.append(row)
            else:
                report.kept.append((row.row_id, why))
        if not ready:
            continue
        updates = [
            RowUpdate(id=row.row_id, expect={**row.expect, **row.new_values}, values=row.old_values) for row in ready
        ]
        outcomes = store.apply(updates)
        changes: list[tuple[RowId, str, str | None]] = []
        by_id = {row.row_id: row for row in ready}
        for outcome in outcomes:
            touched.add(by_id[outcome.id].key)
            if outcome.status in ("updated", "already"):
                report.rows_restored += 1
                changes.append((outcome.id, "rolled_back", outcome.status))
            elif outcome.status == "conflict":
                report.conflicts.append(outcome.id)
            else:
                report.missing.append(outcome.id)
                changes.append((outcome.id, "missing", outcome.status))
        journal.set_row_states(changes)
    keys = sorted(touched)
    still_used = {row.key for row in journal.rows_for(keys, states=("updated",))} if keys else set()
    journal.set_object_states([key for key in keys if key not in still_used], "rolled_back")
    if delete_objects and uploader is not None:
        unused = journal.iter_objects(states=("rolled_back",))  # this rollback's and any earlier one's
        _delete_unused(journal, store=store, uploader=uploader, objects=unused, local=local, report=report)
    else:
        report.objects_left = journal.status().objects["rolled_back"]
    if uploader is not None:
        report.uploads_aborted = len(abort_stale(journal, uploader=uploader, everything=True).aborted)
    journal.log_event(
        "rollback",
        {
            "rows_restored": report.rows_restored,
            "rows_kept": len(report.kept),
            "conflicts": len(report.conflicts),
            "files_restored": report.files_restored,
            "objects_deleted": report.objects_deleted,
            "objects_kept": len(report.objects_kept),
        },
    )
    return report


def _restore_file(
    journal: Journal, uploader: Uploader | None, obj: JournalObject, local: _LocalFiles, report: RollbackReport
) -> str | None:
    """Bring a cleaned-up file back from its object (checked against the journal); None when done."""
    download = getattr(uploader, "download", None)
    if download is None:
        return "gone: this uploader cannot download objects to restore it"
    try:
        download(obj.key, local.path(obj), size=obj.size, sha256=obj.sha256, md5=obj.md5, mtime_ns=obj.mtime_ns)
    except Exception as exc:  # the row stays pointing at S3; the report says why
        return f"gone, and could not be restored from s3: {exc}"
    journal.set_file_state(obj.relpath, "present")
    local.restored(obj)
    report.files_restored += 1
    return None


def _delete_unused(
    journal: Journal,
    *,
    store: RowStore,
    uploader: Uploader,
    objects: Iterable[JournalObject],
    local: _LocalFiles,
    report: RollbackReport,
) -> None:
    """Delete the objects whose rows are all rolled back, after re-reading those rows live and
    checking the local file is intact; keep (and report) every other."""
    deletable: list[str] = []
    for page in _pages(objects, 500):
        rows = journal.rows_for([obj.key for obj in page], states=ROW_STATES)
        live = store.read([row.row_id for row in rows]) if rows else {}
        by_key: dict[str, list[JournalRow]] = {}
        for row in rows:
            by_key.setdefault(row.key, []).append(row)
        for obj in page:
            why = local.problem(obj)
            holders = [row.row_id for row in by_key.get(obj.key, []) if _points_at(row, live.get(row.row_id), obj.key)]
            if why is not None:
                report.objects_kept.append((obj.key, f"local file {why}: this object may be the only copy"))
            elif holders:
                report.objects_kept.append((obj.key, f"row {holders[0]} still points at it"))
            else:
                deletable.append(obj.key)
    for page in _pages(deletable, 1000):
        uploader.delete(page)
        journal.set_object_states(page, "deleted")
        report.objects_deleted += len(page)


# ---------------------------------------------------------------- cleanup


def cleanup(
    journal: Journal,
    *,
    uploader: Uploader,
    store: RowStore,
    source_dir: Path,
    confirm: bool,
    settings: EngineSettings | None = None,
) -> CleanupReport:
    """Delete local files whose every object is done, passes a fresh HEAD (size and checksums as
    journaled), still matches the file (re-hashed), and whose every row, read live from the database
    just before the file is deleted, still points at its object. Refuses without `confirm`."""
    if not confirm:
        raise CleanupRefused(
            "cleanup deletes local files and needs an explicit confirmation",
            hint="run `cargohold migrate verify` first, then `cargohold migrate cleanup --yes-delete-local-files`",
        )
    settings = settings or EngineSettings()
    journal.lock_for_run()
    report = CleanupReport()
    for file in journal.iter_files():
        if file.state == "cleaned":
            report.already_cleaned += 1
            continue
        path = source_dir / file.relpath
        reason = _cleanup_blocker(
            journal, uploader=uploader, store=store, path=path, relpath=file.relpath, settings=settings
        )
        if reason is not None:
            report.kept.append((file.relpath, reason))
            continue
        size = path.stat().st_size
        path.unlink()
        journal.set_file_state(file.relpath, "cleaned")
        report.files_deleted += 1
        report.bytes_freed += size
    journal.log_event(
        "cleanup",
        {"files_deleted": report.files_deleted, "bytes_freed": report.bytes_freed, "kept": len(report.kept)},
    )
    return report


def _cleanup_blocker(
    journal: Journal, *, uploader: Uploader, store: RowStore, path: Path, relpath: str, settings: EngineSettings
) -> str | None:
    objects = journal.objects_of_file(relpath)
    if not objects:
        return "no object in the journal"
    not_done = [obj.key for obj in objects if obj.state != "done"]
    if not_done:
        return f"object not migrated: {not_done[0]}"
    rows = journal.rows_for([obj.key for obj in objects], states=ROW_STATES)
    if not rows:
        return "no row of the journal points at its object"
    unfinished = [row for row in rows if row.state != "updated"]
    if unfinished:
        return f"row {unfinished[0].row_id} is {unfinished[0].state}"
    for obj, head, error in _head_all(uploader, objects, settings.head_concurrency):
        if error is not None:
            return f"HEAD {obj.key} failed: {error}"
        problem = _check_remote(obj, head) or _check_local(obj, path, hash_local=True)
        if problem is not None:
            return f"{problem.kind}: {problem.detail}"
    # last, just before the delete: the rows as the application sees them now
    live = store.read([row.row_id for row in rows])
    for row in rows:
        drift = _row_drift(row, live.get(row.row_id))
        if drift is not None:
            return f"row {row.row_id} no longer points at {row.key} ({drift}); the file is kept"
    return None

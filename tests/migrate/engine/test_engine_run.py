"""The engine's `run` against real files, the moto server over HTTP and a SQLite application table."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from engine_support import (
    TABLE,
    CountingUploader,
    Setup,
    app_rows,
    build_work,
    object_versions,
    s3_client,
    update_counts,
)

from migrate.engine import EngineSettings, RunReport, run, status
from migrate.journal import JournalBusy
from migrate.types import UploadResult


class Recorder:
    """A progress subscriber that keeps what it is told."""

    def __init__(self) -> None:
        self.queued: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []
        self.done: dict[str, Any] = {}

    def on_queued(self, **kwargs: Any) -> None:
        self.queued = kwargs

    def on_progress(self, **kwargs: Any) -> None:
        self.events.append(kwargs)

    def on_done(self, **kwargs: Any) -> None:
        self.done = kwargs


def _run(s: Setup, uploader: Any = None, **kwargs: Any) -> RunReport:
    journal = s.journal()
    store = s.store()
    try:
        return run(
            build_work(s.source, s.db, bucket=s.bucket),
            journal=journal,
            store=store,
            uploader=uploader or s.uploader(),
            settings=kwargs.pop("settings", EngineSettings(batch_size=7)),
            **kwargs,
        )
    finally:
        journal.close()
        store.close()


def test_happy_path(setup: Setup) -> None:
    progress = Recorder()
    report = _run(setup, progress=progress)
    assert report.exit_code == 0, report.to_json()
    assert report.uploaded == len(setup.relpaths)
    rows = len(app_rows(setup.db))
    assert report.rows_updated == rows and report.rows_already == 0
    assert report.status is not None and report.status.complete
    assert progress.queued["files"] == len(setup.relpaths)
    assert sum(1 for e in progress.events if e["outcome"] == "uploaded") == len(setup.relpaths)
    assert progress.done["report"] is report
    setup.assert_migrated()
    assert set(object_versions(setup.endpoint, setup.bucket).values()) == {1}
    json.dumps(report.to_json())  # serialisable for --format json

    # a second run is a no-op: nothing uploaded, nothing updated
    again = _run(setup)
    assert (again.uploaded, again.rows_updated, again.reused) == (0, 0, 0)
    assert again.recorded.done_objects == len(setup.relpaths)
    setup.assert_migrated()
    assert set(object_versions(setup.endpoint, setup.bucket).values()) == {1}


def test_resume_after_interrupt_does_not_reupload(setup: Setup) -> None:
    stop = threading.Event()
    seen: list[str] = []

    def stop_after_ten(res: UploadResult) -> None:
        seen.append(res.key)
        if len(seen) == 10:
            stop.set()

    first = CountingUploader(setup.uploader(concurrency=2), on_result=stop_after_ten)
    report = _run(setup, uploader=first, stop_event=stop)
    assert report.interrupted and report.exit_code == 130
    journal = setup.journal()
    verified = {o.key for o in journal.iter_objects(states=("uploaded", "done"))}
    st = journal.status()
    journal.close()
    assert 10 <= len(verified) < len(setup.relpaths)
    assert st.claimed == 0  # claims released on the way out
    assert st.rows["pending"] > 0

    second = CountingUploader(setup.uploader())
    resumed = _run(setup, uploader=second)
    assert resumed.exit_code == 0, resumed.to_json()
    assert not verified & set(second.started), "a verified object was uploaded again"
    assert set(verified | set(second.started)) == {f"files/{r}" for r in setup.relpaths}
    setup.assert_migrated()


def test_conflict_is_reported_and_not_overwritten(setup: Setup) -> None:
    # the "application" moves row 5's file after the plan was made, mid-run
    conn = sqlite3.connect(setup.db)
    target_id, target_path = conn.execute(f"SELECT id, path FROM {TABLE} WHERE id = 5").fetchone()
    conn.close()
    work = build_work(setup.source, setup.db, bucket=setup.bucket)

    def app_moves_row(_res: UploadResult) -> None:
        c = sqlite3.connect(setup.db, timeout=30)
        c.execute(f"UPDATE {TABLE} SET path = 'moved/by/app.txt' WHERE id = ? AND path = ?", (target_id, target_path))
        c.commit()
        c.close()

    journal, store = setup.journal(), setup.store()
    report = run(
        work,
        journal=journal,
        store=store,
        uploader=CountingUploader(setup.uploader(), on_result=app_moves_row),
        settings=EngineSettings(batch_size=7),
    )
    assert report.conflicts == [json.dumps(target_id)]
    assert report.exit_code == 2
    row = next(r for r in app_rows(setup.db) if r["id"] == target_id)
    assert row["path"] == "moved/by/app.txt" and row["s3_key"] is None and row["storage"] == "local"
    assert status(journal).rows["conflict"] == 1
    journal.close()
    store.close()
    counts = update_counts(setup.db)
    assert counts[target_id] == 1  # the application's own update, not ours


def test_file_modified_after_upload_is_uploaded_again(setup: Setup) -> None:
    victim = setup.relpaths[3]
    key = f"files/{victim}"
    done = threading.Event()

    def modify_once(res: UploadResult) -> None:
        if res.key == key and not done.is_set():
            done.set()
            path = setup.source / victim
            path.write_bytes(path.read_bytes() + b"appended after the upload")
            os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))

    counting = CountingUploader(setup.uploader(), on_result=modify_once)
    report = _run(setup, uploader=counting)
    assert report.exit_code == 0, report.to_json()
    assert done.is_set() and counting.started[key] == 2
    assert report.requeued == 1
    body = s3_client(setup.endpoint).get_object(Bucket=setup.bucket, Key=key)["Body"].read()
    assert body.endswith(b"appended after the upload")
    setup.assert_migrated()


def test_file_changed_between_runs_resets_uploaded_object(setup: Setup) -> None:
    # first run: uploads, then the database goes away before rows are applied (the batch fails)
    class BrokenStore:
        def apply(self, updates: Any) -> Any:
            raise RuntimeError("database went away")

        def read(self, ids: Any) -> Any:
            return {}

    journal = setup.journal()
    with pytest.raises(RuntimeError):
        run(
            build_work(setup.source, setup.db, bucket=setup.bucket),
            journal=journal,
            store=BrokenStore(),
            uploader=setup.uploader(),
            settings=EngineSettings(batch_size=100),
        )
    assert journal.status().claimed == 0  # released on the way out
    assert journal.status().objects["uploaded"] == len(setup.relpaths)
    journal.close()
    victim = setup.relpaths[0]
    (setup.source / victim).write_bytes(b"new content")
    counting = CountingUploader(setup.uploader())
    report = _run(setup, uploader=counting)
    assert report.exit_code == 0
    assert report.recorded.reset_objects == 1
    assert counting.started == {f"files/{victim}": 1}
    setup.assert_migrated()


def test_missing_file_fails_and_rerun_retries(setup: Setup) -> None:
    work = build_work(setup.source, setup.db, bucket=setup.bucket)
    victim = setup.source / setup.relpaths[1]
    saved = victim.read_bytes()
    victim.unlink()
    journal, store = setup.journal(), setup.store()
    report = run(work, journal=journal, store=store, uploader=setup.uploader(), settings=EngineSettings(batch_size=7))
    assert report.exit_code == 1
    assert [k for k, _ in report.failed] == [f"files/{setup.relpaths[1]}"]
    assert status(journal).objects["failed"] == 1
    journal.close()
    victim.write_bytes(saved)
    report = _run(setup)
    assert report.exit_code == 0 and report.uploaded == 1
    setup.assert_migrated()


def test_sqlite_journal_allows_one_worker(setup: Setup) -> None:
    first = setup.journal()
    first.lock_for_run()
    second = setup.journal()
    with pytest.raises(JournalBusy):
        second.lock_for_run()
    first.close()
    second.lock_for_run()
    second.close()


def test_every_state_recorded_idempotently(setup: Setup) -> None:
    work = build_work(setup.source, setup.db, bucket=setup.bucket)
    journal = setup.journal()
    one = journal.record(work)
    two = journal.record(work)
    assert one.new_objects == len(setup.relpaths) and two.new_objects == 0
    assert two.reset_objects == 0 and one.rows == two.rows == len(app_rows(setup.db))
    st = journal.status()
    assert st.objects["pending"] == len(setup.relpaths)
    assert st.files["present"] == len(setup.relpaths)
    assert st.bytes_total == sum((setup.source / r).stat().st_size for r in setup.relpaths)
    journal.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_file_changed_while_read_is_uploaded_again_or_fails_when_it_keeps_changing(setup: Setup) -> None:
    uploader = setup.uploader()
    if not hasattr(uploader, "after_read"):
        pytest.skip("the stand-in uploader has no after_read seam (migrate.upload.Uploader has)")
    once, always = setup.source / setup.relpaths[2], setup.source / setup.relpaths[3]
    changes: dict[Path, int] = {}

    def touch(path: Path, _read: int) -> None:
        if (path == once and not changes.get(path)) or path == always:
            changes[path] = changes.get(path, 0) + 1
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))

    uploader.after_read = touch
    report = _run(setup, uploader=uploader, settings=EngineSettings(batch_size=7, max_changed_attempts=3))
    # 3 requeues end it; a loaded machine can add a read (a lease that ran out is claimed again), never fewer.
    assert changes[once] == 1 and changes[always] >= 3
    assert [k for k, _ in report.failed] == [f"files/{setup.relpaths[3]}"]
    assert "3 times" in report.failed[0][1]
    assert report.requeued >= 1 + 2
    journal = setup.journal()
    assert journal.status().objects["failed"] == 1
    journal.close()
    # it stops changing: the next run uploads it
    report = _run(setup)
    assert report.exit_code == 0 and report.uploaded == 1
    setup.assert_migrated()


def test_new_row_for_a_migrated_file_is_applied_without_uploading_again(setup: Setup) -> None:
    assert _run(setup).exit_code == 0
    conn = sqlite3.connect(setup.db)
    new_id = conn.execute(f"INSERT INTO {TABLE} (path) VALUES (?)", (setup.relpaths[5],)).lastrowid
    conn.commit()
    conn.close()
    counting = CountingUploader(setup.uploader())
    report = _run(setup, uploader=counting)
    assert report.exit_code == 0 and counting.started == {}
    assert report.rows_updated == 1 and report.reused == 1
    row = next(r for r in app_rows(setup.db) if r["id"] == new_id)
    assert row["s3_key"] == f"files/{setup.relpaths[5]}" and row["storage"] == "s3"
    setup.assert_migrated()

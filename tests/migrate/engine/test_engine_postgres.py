"""The journal in PostgreSQL: several workers share one job (FOR UPDATE SKIP LOCKED), leases expire.

Uses $CARGOHOLD_TEST_POSTGRES_URL or postgresql+psycopg://postgres@127.0.0.1:5432/test; skipped with
the reason shown when that server is unreachable.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from crash_support import start_driver
from engine_support import assert_migrated, build_work, make_app_db, make_bucket, make_tree

from migrate.journal import Journal
from migrate.journal import metadata as journal_metadata
from toolkit.demo.emulator import Emulator

PG_URL = os.environ.get("CARGOHOLD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="module")
def pg_url() -> str:
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to reach it: skip, saying why
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__}); set CARGOHOLD_TEST_POSTGRES_URL")
    return PG_URL


@pytest.fixture
def job(pg_url: str) -> Iterator[str]:
    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        for table in journal_metadata.sorted_tables:  # every journal table, the ledger and heartbeats too
            conn.execute(sa.delete(table).where(table.c.job == name))
    engine.dispose()


def _tree(tmp_path: Path, moto: Emulator, count: int) -> dict[str, Any]:
    source = tmp_path / "uploads"
    source.mkdir()
    relpaths = make_tree(source, count=count, seed=3)
    db = tmp_path / "app.db"
    make_app_db(db, relpaths)
    bucket = f"pg-{uuid.uuid4().hex[:12]}"
    make_bucket(moto.endpoint, bucket)
    return {"source": str(source), "db": str(db), "bucket": bucket, "endpoint": moto.endpoint, "relpaths": relpaths}


def test_two_workers_share_one_job(tmp_path: Path, moto: Emulator, pg_url: str, job: str) -> None:
    tree = _tree(tmp_path, moto, count=160)
    log = tmp_path / "uploads.log"
    cfg = {
        **tree,
        "journal_url": pg_url,
        "job": job,
        "upload_log": str(log),
        "batch_size": 4,
        "concurrency": 2,
        "kill": None,
    }
    workers = [start_driver({**cfg, "round": n}) for n in (1, 2)]
    reports = []
    for proc in workers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (out, err)
        reports.append(json.loads(out))
    uploads = [line.split("\t") for line in log.read_text(encoding="utf-8").splitlines()]
    per_key = Counter(key for _, key in uploads)
    assert per_key and max(per_key.values()) == 1, [k for k, n in per_key.items() if n > 1]
    by_worker = Counter(worker for worker, _ in uploads)
    assert by_worker["1"] > 0 and by_worker["2"] > 0, f"one worker did all the work: {by_worker}"
    assert sum(r["uploaded"] for r in reports) == len(tree["relpaths"])
    assert_migrated(
        source=Path(tree["source"]),
        db=Path(tree["db"]),
        endpoint=tree["endpoint"],
        bucket=tree["bucket"],
        journal_url=pg_url,
        job=job,
        relpaths=tree["relpaths"],
    )


def test_claims_skip_locked_and_leases_expire(tmp_path: Path, moto: Emulator, pg_url: str, job: str) -> None:
    tree = _tree(tmp_path, moto, count=12)
    work = build_work(Path(tree["source"]), Path(tree["db"]), bucket=tree["bucket"])
    a = Journal.open(pg_url, job, worker_id="a", lease_seconds=3.0)
    b = Journal.open(pg_url, job, worker_id="b", lease_seconds=3.0)
    try:
        a.record(work)
        b.record(work)  # idempotent from a second worker
        assert a.status().objects["pending"] == 12
        first = {o.key for o in a.claim(5)}
        second = {o.key for o in b.claim(100)}
        assert len(first) == 5 and len(second) == 7 and not first & second
        assert b.claim(100) == []
        assert a.status().claimed == 12
        time.sleep(3.2)  # worker a "dies": its lease runs out
        again = {o.key for o in b.claim(100)}
        assert again == first | second  # b's own expired too: everything is claimable again
        b.release(sorted(again))
        assert a.status().claimed == 0
    finally:
        a.close()
        b.close()


@pytest.mark.slow
def test_killed_worker_claims_come_back_after_the_lease(tmp_path: Path, moto: Emulator, pg_url: str, job: str) -> None:
    tree = _tree(tmp_path, moto, count=40)
    log = tmp_path / "uploads.log"
    cfg = {
        **tree,
        "journal_url": pg_url,
        "job": job,
        "upload_log": str(log),
        "batch_size": 6,
        "concurrency": 2,
        "lease_seconds": 1.0,
    }
    killed = start_driver({**cfg, "round": 1, "kill": {"after_apply": 1}})
    killed.communicate(timeout=120)
    assert killed.returncode < 0
    journal = Journal.open(pg_url, job)
    assert journal.status().claimed > 0  # the dead worker's claims are still held...
    verified = {o.key for o in journal.iter_objects(states=("uploaded", "done"))}
    journal.close()
    time.sleep(1.2)  # ...until its lease runs out
    out, err = (proc := start_driver({**cfg, "round": 2, "kill": None})).communicate(timeout=120)
    assert proc.returncode == 0, (out, err)
    second = [key for worker, key in (line.split("\t") for line in log.read_text().splitlines()) if worker == "2"]
    assert not verified & set(second)
    assert_migrated(
        source=Path(tree["source"]),
        db=Path(tree["db"]),
        endpoint=tree["endpoint"],
        bucket=tree["bucket"],
        journal_url=pg_url,
        job=job,
        relpaths=tree["relpaths"],
    )


@pytest.mark.slow
def test_a_killed_workers_claims_are_taken_back_at_once(tmp_path: Path, moto: Emulator, pg_url: str, job: str) -> None:
    """Same host, process gone: its claims are free now, not after its 10-minute lease."""
    tree = _tree(tmp_path, moto, count=40)
    log = tmp_path / "uploads.log"
    cfg = {**tree, "journal_url": pg_url, "job": job, "upload_log": str(log), "batch_size": 6, "concurrency": 2}
    killed = start_driver({**cfg, "round": 1, "kill": {"after_apply": 1}, "lease_seconds": 600.0})
    killed.communicate(timeout=120)
    assert killed.returncode < 0
    journal = Journal.open(pg_url, job)
    state = journal.status()
    assert state.claimed > 0 and not state.complete
    assert [c.alive for c in state.claims] == [False]  # the status says whose claims and that it is dead
    journal.close()
    out, err = (proc := start_driver({**cfg, "round": 2, "kill": None, "lease_seconds": 600.0})).communicate(
        timeout=120
    )
    assert proc.returncode == 0, (out, err)
    assert json.loads(out)["status"]["complete"] is True
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:  # neither the killed worker nor the finished one is left registered
        workers = journal_metadata.tables["cargohold_migration_workers"]
        assert conn.execute(sa.select(sa.func.count()).where(workers.c.job == job)).scalar_one() == 0
    engine.dispose()
    assert_migrated(
        source=Path(tree["source"]),
        db=Path(tree["db"]),
        endpoint=tree["endpoint"],
        bucket=tree["bucket"],
        journal_url=pg_url,
        job=job,
        relpaths=tree["relpaths"],
    )


def test_run_does_not_say_done_while_a_live_worker_holds_claims(
    tmp_path: Path, moto: Emulator, pg_url: str, job: str
) -> None:
    from engine_support import make_store, make_uploader

    from migrate.engine import EngineSettings, run

    tree = _tree(tmp_path, moto, count=12)
    work = build_work(Path(tree["source"]), Path(tree["db"]), bucket=tree["bucket"])
    other = Journal.open(pg_url, job, worker_id="other-host:1:live")
    other.lock_for_run()  # registered, heartbeat running: alive
    other.record(work)
    held = [o.key for o in other.claim(5)]
    me = Journal.open(pg_url, job)
    store = make_store(Path(tree["db"]))
    uploader = make_uploader(bucket=tree["bucket"], endpoint=tree["endpoint"])
    try:
        report = run(None, journal=me, store=store, uploader=uploader, settings=EngineSettings(wait_for_others=False))
        assert report.exit_code == 2 and report.uploaded == 7
        assert [(c.worker_id, c.objects, c.alive) for c in report.claimed_by_others] == [("other-host:1:live", 5, True)]
        assert report.incomplete == {"objects_pending": 5, "rows_pending": 5, "objects_claimed_by_others": 5}
        # waiting (the default): the run finishes the job once the other worker lets its claims go
        threading.Timer(1.0, other.release, args=(held,)).start()
        waited = run(None, journal=me, store=store, uploader=uploader)
        assert waited.exit_code == 0 and waited.uploaded == 5, waited.to_json()
        assert waited.status is not None and waited.status.complete
    finally:
        me.close()
        other.close()
        store.close()

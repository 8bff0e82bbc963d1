"""Crash tests: the engine runs in a child process (crash_driver.py) that is SIGKILLed at chosen and
at random (seeded) points, then resumed until done; the invariants are asserted at the end."""

from __future__ import annotations

import json
import random
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from crash_support import (
    check_no_reupload,
    finish,
    kill_after_uploads,
    start_driver,
    uploads_logged,
    verified_keys,
)
from engine_support import assert_migrated, make_app_db, make_bucket, make_tree

from migrate.journal import Journal
from toolkit.demo.emulator import Emulator


def _make(tmp_path: Path, moto: Emulator, count: int) -> dict[str, Any]:
    source = tmp_path / "uploads"
    source.mkdir()
    relpaths = make_tree(source, count=count, seed=7)
    db = tmp_path / "app.db"
    make_app_db(db, relpaths)
    bucket = f"crash-{uuid.uuid4().hex[:12]}"
    make_bucket(moto.endpoint, bucket)
    return {
        "source": str(source),
        "db": str(db),
        "journal_url": f"sqlite:///{tmp_path / 'journal.sqlite'}",
        "job": "crash",
        "bucket": bucket,
        "endpoint": moto.endpoint,
        "upload_log": str(tmp_path / "uploads.log"),
        "batch_size": 5,
        "concurrency": 3,
        "relpaths": relpaths,
    }


def _assert_invariants(cfg: dict[str, Any], snapshots: dict[int, set[str]]) -> None:
    check_no_reupload(cfg, snapshots)
    assert_migrated(
        source=Path(cfg["source"]),
        db=Path(cfg["db"]),
        endpoint=cfg["endpoint"],
        bucket=cfg["bucket"],
        journal_url=cfg["journal_url"],
        job=cfg["job"],
        relpaths=cfg["relpaths"],
    )


@pytest.mark.slow
def test_sigkill_at_chosen_points_then_resume(tmp_path: Path, moto: Emulator) -> None:
    cfg = _make(tmp_path, moto, count=60)
    snapshots: dict[int, set[str]] = {}
    kills = [
        {"after_results": 2},  # uploads done, not yet journaled
        {"after_apply": 1},  # rows committed in the database, not yet in the journal
        {"after_results": 9},
        {"after_apply": 2},
        {"after_apply": 1},
    ]
    for round_no, kill in enumerate(kills):
        snapshots[round_no] = verified_keys(cfg["journal_url"], cfg["job"])
        proc = start_driver({**cfg, "round": round_no, "kill": kill})
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == -signal.SIGKILL, (kill, proc.returncode, out, err)
    report = finish(cfg, snapshots, len(kills))
    assert report["rows_already"] >= 1 or any(k.get("after_apply") for k in kills)
    _assert_invariants(cfg, snapshots)


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume(tmp_path: Path, moto: Emulator) -> None:
    rng = random.Random(20261122)
    # each round is killed after 1-60 of its uploads: 6 rounds leave at least 240 of 600 files to go, so
    # every kill lands mid-run whatever the uploader's speed
    cfg = _make(tmp_path, moto, count=600)
    snapshots: dict[int, set[str]] = {}
    killed = 0
    log = Path(cfg["upload_log"])
    for round_no in range(6):
        snapshots[round_no] = verified_keys(cfg["journal_url"], cfg["job"])
        proc = start_driver({**cfg, "round": round_no, "kill": None, "concurrency": 2})
        killed += kill_after_uploads(proc, log, round_no, rng.randint(1, 60))
        proc.communicate(timeout=300)
    assert killed == 6, "a round finished before its kill"
    finish(cfg, snapshots, 6)
    _assert_invariants(cfg, snapshots)


@pytest.mark.slow
def test_sigterm_stops_cleanly(tmp_path: Path, moto: Emulator) -> None:
    cfg = _make(tmp_path, moto, count=150)
    proc = start_driver({**cfg, "round": 0, "kill": None, "concurrency": 2})
    deadline = time.monotonic() + 60
    log = Path(cfg["upload_log"])
    while time.monotonic() < deadline and len(uploads_logged(log)) < 10:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    report = json.loads(out)
    assert report["interrupted"] is True
    status = report["status"]
    assert status["claimed"] == 0 and not status["complete"]
    # every object the journal calls done has all of its rows updated
    journal = Journal.open(cfg["journal_url"], cfg["job"])
    done = [o.key for o in journal.iter_objects(states=("done",))]
    assert not journal.rows_for(done, states=("pending",))
    journal.close()
    snapshots = {0: set()}
    finish(cfg, snapshots, 1)
    _assert_invariants(cfg, snapshots)

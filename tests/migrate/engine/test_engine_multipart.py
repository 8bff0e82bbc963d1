"""Multipart uploads under kill -9 and SIGTERM: a killed upload resumes with the parts S3 already has,
and nothing is left behind in the bucket (incomplete uploads are billed until a lifecycle rule runs).

The engine runs in a child process (multipart_driver.py) against a moto server over HTTP; a 50 MiB
file goes up in ten 5 MiB parts, one at a time, so a kill after N recorded parts is exact."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from engine_support import app_rows, make_app_db, make_bucket, s3_client, update_counts

from migrate.journal import Journal
from toolkit.demo.emulator import Emulator

DRIVER = Path(__file__).with_name("multipart_driver.py")
REPO = Path(__file__).resolve().parents[3]
MiB = 1024 * 1024
BIG = "video/lecture.mp4"


def _tree(tmp_path: Path, moto: Emulator) -> dict[str, Any]:
    source = tmp_path / "uploads"
    relpaths = [BIG, "notes/a.txt", "notes/b.txt"]
    for rel in relpaths:
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
    (source / BIG).write_bytes(os.urandom(50 * MiB))
    (source / "notes/a.txt").write_bytes(b"a" * 1000)
    (source / "notes/b.txt").write_bytes(b"")
    db = tmp_path / "app.db"
    make_app_db(db, relpaths, shared_every=0)
    bucket = f"multipart-{uuid.uuid4().hex[:10]}"
    make_bucket(moto.endpoint, bucket)
    return {
        "source": str(source),
        "db": str(db),
        "journal_url": f"sqlite:///{tmp_path / 'journal.sqlite'}",
        "job": "multipart",
        "bucket": bucket,
        "endpoint": moto.endpoint,
        "relpaths": relpaths,
    }


def _drive(cfg: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, str(DRIVER), json.dumps(cfg)], capture_output=True, text=True, env=env, cwd=REPO, timeout=300
    )
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else None


def _incomplete_uploads(cfg: dict[str, Any]) -> list[str]:
    listed = s3_client(cfg["endpoint"]).list_multipart_uploads(Bucket=cfg["bucket"])
    return [u["UploadId"] for u in listed.get("Uploads", [])]


def _upload_counts(cfg: dict[str, Any]) -> dict[str, int]:
    journal = Journal.open(cfg["journal_url"], cfg["job"])
    try:
        return journal.upload_counts()
    finally:
        journal.close()


@pytest.mark.slow
def test_sigkill_mid_multipart_resumes_with_the_parts_already_sent(tmp_path: Path, moto: Emulator) -> None:
    cfg = _tree(tmp_path, moto)
    uploads_seen: set[str] = set()
    for _ in range(3):  # three kills, two parts each
        code, _ = _drive({**cfg, "signal_after_parts": 2, "signal": "KILL"})
        assert code == -signal.SIGKILL
        open_now = _incomplete_uploads(cfg)
        assert len(open_now) == 1, open_now  # one upload, resumed each time: not one per restart
        uploads_seen.update(open_now)
    assert len(uploads_seen) == 1
    assert _upload_counts(cfg)["parts_sent"] == 6

    code, report = _drive(cfg)
    assert code == 0 and report is not None, report
    assert report["parts_reused"] == 6  # parts 1-6 came from the killed runs; only 7-10 were sent now
    counts = _upload_counts(cfg)
    assert counts == {"open": 0, "completed": 1, "aborted": 0, "parts_sent": 10, "parts_reused": 6}
    assert _incomplete_uploads(cfg) == []
    body = s3_client(cfg["endpoint"]).get_object(Bucket=cfg["bucket"], Key=f"files/{BIG}")["Body"].read()
    assert hashlib.sha256(body).digest() == hashlib.sha256((Path(cfg["source"]) / BIG).read_bytes()).digest()
    assert report["status"]["complete"] is True
    assert all(n == 1 for n in update_counts(Path(cfg["db"])).values())  # every row updated exactly once
    assert {row["s3_key"] for row in app_rows(Path(cfg["db"]))} == {f"files/{rel}" for rel in cfg["relpaths"]}


@pytest.mark.slow
def test_an_upload_a_kill_left_unrecorded_is_aborted_when_the_job_is_done(tmp_path: Path, moto: Emulator) -> None:
    """A kill between CreateMultipartUpload and its journal entry leaves an upload nobody recorded."""
    cfg = _tree(tmp_path, moto)
    stray = s3_client(cfg["endpoint"]).create_multipart_upload(Bucket=cfg["bucket"], Key=f"files/{BIG}")["UploadId"]
    other = s3_client(cfg["endpoint"]).create_multipart_upload(Bucket=cfg["bucket"], Key="not-this-jobs/key")
    code, report = _drive(cfg)
    assert code == 0 and report is not None and report["uploads_aborted"] == 1, report
    assert _incomplete_uploads(cfg) == [other["UploadId"]]  # another key's upload is not the job's to abort
    assert stray not in _incomplete_uploads(cfg)


@pytest.mark.slow
def test_sigterm_mid_multipart_aborts_the_upload_before_exiting(tmp_path: Path, moto: Emulator) -> None:
    cfg = _tree(tmp_path, moto)
    code, report = _drive({**cfg, "signal_after_parts": 3, "signal": "TERM"})
    assert code == 130 and report is not None and report["interrupted"], report
    assert _incomplete_uploads(cfg) == []
    assert _upload_counts(cfg)["aborted"] == 1 and _upload_counts(cfg)["open"] == 0
    code, report = _drive(cfg)
    assert code == 0 and report is not None and report["parts_reused"] == 0

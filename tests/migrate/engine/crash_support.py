"""Driving crash_driver.py from a test: start it, read what it uploaded, resume a job to the end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from migrate.journal import Journal

DRIVER = Path(__file__).with_name("crash_driver.py")
REPO = Path(__file__).resolve().parents[3]


def start_driver(cfg: dict[str, Any]) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen(
        [sys.executable, str(DRIVER), json.dumps(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


def verified_keys(journal_url: str, job: str) -> set[str]:
    journal = Journal.open(journal_url, job)
    try:
        return {o.key for o in journal.iter_objects(states=("uploaded", "done"))}
    finally:
        journal.close()


def uploads_logged(log: Path) -> list[tuple[int, str]]:
    if not log.exists():
        return []
    lines = log.read_text(encoding="utf-8").splitlines()
    return [(int(r), k) for r, k in (line.split("\t", 1) for line in lines if "\t" in line)]


def kill_after_uploads(proc: subprocess.Popen[str], log: Path, round_no: int, uploads: int) -> bool:
    """SIGKILL the driver once round `round_no` has handed `uploads` files to the uploader; whether it was
    killed (False: it ended first). Counting uploads, not seconds, makes the kill land mid-run on a machine
    of any speed, while the moment within the engine's cycle (upload, journal, row update) still varies."""
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if sum(1 for r, _ in uploads_logged(log) if r == round_no) >= uploads:
            proc.send_signal(signal.SIGKILL)
            return True
        time.sleep(0.01)
    return False


def check_no_reupload(cfg: dict[str, Any], snapshots: dict[int, set[str]]) -> None:
    """An object verified in the journal before round r is never handed to the uploader in round r."""
    for round_no, key in uploads_logged(Path(cfg["upload_log"])):
        assert key not in snapshots.get(round_no, set()), f"round {round_no} uploaded {key} again"


def finish(cfg: dict[str, Any], snapshots: dict[int, set[str]], first_round: int) -> dict[str, Any]:
    for round_no in range(first_round, first_round + 3):
        snapshots[round_no] = verified_keys(cfg["journal_url"], cfg["job"])
        proc = start_driver({**cfg, "round": round_no, "kill": None})
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (out, err)
        report: dict[str, Any] = json.loads(out)
        if report["status"]["complete"]:
            return report
    raise AssertionError("the migration did not complete in three clean runs")

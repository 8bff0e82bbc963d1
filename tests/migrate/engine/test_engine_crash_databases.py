"""The seeded random SIGKILL loop of test_engine_crash.py with the application's table in a real
server: PostgreSQL and MariaDB/MySQL. The engine runs in a child process (crash_driver.py) that is
killed at random moments several times, then resumed until done; then every row was updated exactly
once (an AFTER UPDATE trigger logs each update), points at an object whose size and ETag match its
file, and the journal is complete. The journal is a SQLite file, or (one PostgreSQL case) lives in
the same PostgreSQL database, as `cargohold migrate` puts it by default.

Servers: the `postgres_url` and `mysql_url` fixtures (tests/migrate/conftest.py); a case whose server
does not answer is skipped with the reason. Every case gets its own uniquely named table and job,
removed afterwards.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from crash_support import check_no_reupload, finish, start_driver, uploads_logged, verified_keys
from engine_support import assert_migrated, drop_app_db, make_app_db, make_bucket, make_tree
from rowstore_backends import unique

from migrate.journal import metadata as journal_metadata
from toolkit.emulator import Emulator

FILES = 300
ROUNDS = 5  # killed runs before the clean resume
# seconds after a round's first upload within which it is killed (short: a fast machine finishes a round in
# under a second, and a round that finishes first is not killed)
MAX_DELAY = 0.25
SEED = 20261123

CASES = [
    pytest.param(("postgres_url", "sqlite"), id="postgresql-journal-sqlite"),
    pytest.param(("postgres_url", "database"), id="postgresql-journal-postgresql"),
    pytest.param(("mysql_url", "sqlite"), id="mariadb-journal-sqlite"),
]


def _forget_job(url: str, job: str) -> None:
    """Delete the job's rows from every journal table of a shared (PostgreSQL) journal."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            for table in reversed(journal_metadata.sorted_tables):
                if "job" in table.c and sa.inspect(conn).has_table(table.name):
                    conn.execute(sa.delete(table).where(table.c.job == job))
    finally:
        engine.dispose()


@pytest.fixture(params=CASES)
def crash(request: pytest.FixtureRequest, tmp_path: Path, moto: Emulator) -> Iterator[dict[str, Any]]:
    """The crash driver's config for one case: a source tree, its table in the server, a bucket."""
    server, journal_in = request.param
    url: str = request.getfixturevalue(server)
    source = tmp_path / "uploads"
    source.mkdir()
    relpaths = make_tree(source, count=FILES, seed=11)
    table = unique("attachments")
    job = f"crash-{uuid.uuid4().hex[:10]}"
    bucket = f"crash-db-{uuid.uuid4().hex[:12]}"
    make_bucket(moto.endpoint, bucket)
    journal_url = url if journal_in == "database" else f"sqlite:///{tmp_path / 'journal.sqlite'}"
    try:
        make_app_db(url, relpaths, table=table)
        yield {
            "source": str(source),
            "database_url": url,
            "table": table,
            "journal_url": journal_url,
            "job": job,
            "bucket": bucket,
            "endpoint": moto.endpoint,
            "upload_log": str(tmp_path / "uploads.log"),
            "batch_size": 5,
            "concurrency": 2,
            "lease_seconds": 2.0,  # a shared journal frees a dead worker's claims at once; this is the backstop
            "relpaths": relpaths,
        }
    finally:
        drop_app_db(url, table=table)
        if journal_url == url:
            _forget_job(url, job)


def _wait_for_first_upload(proc: subprocess.Popen[str], log: Path, round_no: int) -> None:
    """Until round `round_no` handed its first file to the uploader (imports take ~0.7 s), or it ended."""
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        if any(r == round_no for r, _ in uploads_logged(log)):
            return
        time.sleep(0.02)


def _kill_at_random(cfg: dict[str, Any], snapshots: dict[int, set[str]], *, rounds: int, seed: int) -> int:
    """Run `rounds` rounds, each SIGKILLed at a seeded random moment after its first upload; how many
    were killed (a round that finished first was not)."""
    rng = random.Random(seed)
    log = Path(cfg["upload_log"])
    killed = 0
    for round_no in range(rounds):
        snapshots[round_no] = verified_keys(cfg["journal_url"], cfg["job"])
        proc = start_driver({**cfg, "round": round_no, "kill": None})
        _wait_for_first_upload(proc, log, round_no)
        time.sleep(rng.uniform(0.0, MAX_DELAY))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        out, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, -signal.SIGKILL), (round_no, proc.returncode, out, err)
    return killed


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume(crash: dict[str, Any]) -> None:
    snapshots: dict[int, set[str]] = {}
    killed = _kill_at_random(crash, snapshots, rounds=ROUNDS, seed=SEED)
    assert killed >= 3, "the random kills came too late to interrupt anything"
    finish(crash, snapshots, ROUNDS)
    check_no_reupload(crash, snapshots)
    assert_migrated(
        source=Path(crash["source"]),
        db=crash["database_url"],
        table=crash["table"],
        endpoint=crash["endpoint"],
        bucket=crash["bucket"],
        journal_url=crash["journal_url"],
        job=crash["job"],
        relpaths=crash["relpaths"],
    )

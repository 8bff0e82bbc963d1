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
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from crash_support import check_no_reupload, finish, kill_after_uploads, start_driver, verified_keys
from engine_support import assert_migrated, drop_app_db, make_app_db, make_bucket, make_tree
from rowstore_backends import unique

from migrate.journal import metadata as journal_metadata
from toolkit.demo.emulator import Emulator

FILES = 300
ROUNDS = 5  # killed runs before the clean resume
# a round is killed after 1..MAX_UPLOADS of its uploads: ROUNDS * MAX_UPLOADS < FILES, so every kill lands
# mid-run on a machine of any speed
MAX_UPLOADS = 40
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


def _kill_at_random(cfg: dict[str, Any], snapshots: dict[int, set[str]], *, rounds: int, seed: int) -> int:
    """Run `rounds` rounds, each SIGKILLed after a seeded random number of its uploads; how many were
    killed (a round that finished first was not)."""
    rng = random.Random(seed)
    log = Path(cfg["upload_log"])
    killed = 0
    for round_no in range(rounds):
        snapshots[round_no] = verified_keys(cfg["journal_url"], cfg["job"])
        proc = start_driver({**cfg, "round": round_no, "kill": None})
        killed += kill_after_uploads(proc, log, round_no, rng.randint(1, MAX_UPLOADS))
        out, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, -signal.SIGKILL), (round_no, proc.returncode, out, err)
    return killed


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume(crash: dict[str, Any]) -> None:
    snapshots: dict[int, set[str]] = {}
    killed = _kill_at_random(crash, snapshots, rounds=ROUNDS, seed=SEED)
    assert killed == ROUNDS, "a round finished before its kill"
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

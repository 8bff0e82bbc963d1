#!/usr/bin/env python3
"""The benchmark's `cargohold migrate run` candidate: the whole job, not just the uploads.

    python bench/migrate_candidate.py SRC BUCKET PREFIX

Builds, in a fresh temp folder, an SQLite table with one row per file under SRC (the "application"),
and a job file that maps each row to `PREFIX/<path>`, then runs `cargohold migrate run` on it:
scan, match, journal, upload with checksums, verify each upload (ETag = MD5 of the bytes sent),
and update every row in batched conditional transactions. Building the table is timed too (it is
a few milliseconds for 5,000 rows). The endpoint comes from AWS_ENDPOINT_URL, as the harness sets it.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    src, bucket, prefix = Path(sys.argv[1]).resolve(), sys.argv[2], sys.argv[3].strip("/")
    work = Path(tempfile.mkdtemp(prefix="cargohold-bench-"))
    database = work / "app.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE files (id INTEGER PRIMARY KEY, path TEXT NOT NULL, s3_key TEXT)")
        rows = ((str((Path(root) / name).relative_to(src)),) for root, _dirs, names in os.walk(src) for name in names)
        db.executemany("INSERT INTO files (path) VALUES (?)", rows)
    job = work / "job.yaml"
    job.write_text(
        f"source: {{directory: '{src}'}}\n"
        f"target: {{bucket: '{bucket}', key_template: '{prefix}/{{path}}'}}\n"
        f"database: {{url: 'sqlite:///{database}', table: files, path_column: path, key_column: s3_key}}\n"
    )
    cargohold = Path(sys.executable).parent / "cargohold"
    command = [str(cargohold), "migrate", "run", "--job-file", str(job), "-c", str(work / "config.yaml")]
    done = subprocess.run([*command, "--format", "json"], stdout=subprocess.DEVNULL, check=False)
    with sqlite3.connect(database) as db:
        left = db.execute("SELECT count(*) FROM files WHERE s3_key IS NULL").fetchone()[0]
    if left:
        print(f"{left} rows were not updated", file=sys.stderr)
        return 1
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())

"""`cargohold migrate run` through an S3 endpoint that fails 30% of requests (503 SlowDown, 500,
dropped connections): every file still arrives intact and every row is updated exactly once.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from tests.support.faulty_s3 import FaultyS3
from toolkit.cli import main
from toolkit.demo.emulator import Emulator

FILES = 60


def make_app(root: Path, bucket: str) -> Path:
    uploads = root / "uploads"
    database = root / "app.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE files (id INTEGER PRIMARY KEY, path TEXT, s3_key TEXT, updates INTEGER DEFAULT 0)")
        db.execute(
            "CREATE TRIGGER count_updates AFTER UPDATE OF s3_key ON files "
            "BEGIN UPDATE files SET updates = updates + 1 WHERE id = NEW.id; END"
        )
        for index in range(FILES):
            relpath = f"d{index % 7}/file {index} #+?.bin"
            (uploads / relpath).parent.mkdir(parents=True, exist_ok=True)
            (uploads / relpath).write_bytes(bytes([index % 251]) * (index * 997 % 40_000))
            db.execute("INSERT INTO files (path) VALUES (?)", (relpath,))
    job = root / "job.yaml"
    job.write_text(
        f"source: {{directory: uploads}}\n"
        f"target: {{bucket: {bucket}, key_template: 'faults/{{path}}'}}\n"
        f"database: {{url: 'sqlite:///app.db', table: files, path_column: path, key_column: s3_key}}\n"
        f"tuning: {{concurrency: 8}}\n"
    )
    return job


@pytest.mark.slow
def test_run_through_a_faulty_endpoint(tmp_path: Path, moto: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in moto.client_env().items():
        monkeypatch.setenv(name, value)
    bucket = "faulty-endpoint"
    s3 = boto3.client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    job = make_app(tmp_path, bucket)
    args = ["--job-file", str(job), "-c", str(tmp_path / "config.yaml"), "--format", "json"]

    with FaultyS3(moto.endpoint, fraction=0.3, seed=11, methods={"PUT", "HEAD", "POST"}) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
        ran = CliRunner().invoke(main, ["migrate", "run", *args], catch_exceptions=False)
        assert ran.exit_code == 0, ran.output
    assert proxy.total_injected > 0 and proxy.injected.keys() >= {"slowdown", "internal", "drop"}
    report = json.loads(ran.stdout)
    assert report["uploaded"] == FILES and report["rows_updated"] == FILES and not report["failed"]

    with sqlite3.connect(tmp_path / "app.db") as db:
        rows = list(db.execute("SELECT path, s3_key, updates FROM files"))
    assert all(updates == 1 for _path, _key, updates in rows)  # exactly once each
    for path, key, _updates in rows:
        assert key == f"faults/{path}"
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == (tmp_path / "uploads" / path).read_bytes()

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint)  # verify straight against the server
    verified = CliRunner().invoke(main, ["migrate", "verify", *args], catch_exceptions=False)
    assert verified.exit_code == 0, verified.output

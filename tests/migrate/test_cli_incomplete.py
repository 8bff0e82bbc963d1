"""`cargohold migrate run` never reports success while planned rows are left behind, and refuses what
cannot work before its first upload: odd file names, template mistakes, a missing source directory,
key collisions, a bucket that is not there, an endpoint that is down (moto server over HTTP)."""

from __future__ import annotations

import json
import socket
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from migrate.journal import Journal
from toolkit.cli import main
from toolkit.demo.emulator import Emulator

# a tab in a file name: S3 tools choke on control characters in keys
NAMES = ["a/one.txt", "a/two words.txt", "b/tab\there.txt", "b/one.txt"]


@pytest.fixture
def bucket(moto: Emulator, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in moto.client_env().items():
        monkeypatch.setenv(name, value)
    name = f"partial-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=moto.endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


def make_app(root: Path) -> None:
    with sqlite3.connect(root / "app.db") as db:
        db.execute("CREATE TABLE files (id INTEGER PRIMARY KEY, path TEXT, s3_key TEXT)")
        for relpath in NAMES:
            (root / "uploads" / relpath).parent.mkdir(parents=True, exist_ok=True)
            (root / "uploads" / relpath).write_bytes(relpath.encode() * 50)
            db.execute("INSERT INTO files (path) VALUES (?)", (relpath,))


def job_file(root: Path, *, bucket: str, template: str, directory: str = "uploads", name: str = "job") -> Path:
    job = root / f"{name}.yaml"
    job.write_text(
        f"source: {{directory: {directory}}}\n"
        f"target: {{bucket: {bucket}, key_template: '{template}'}}\n"
        "database: {url: 'sqlite:///app.db', table: files, path_column: path, key_column: s3_key}\n"
    )
    return job


def cli(job: Path, *args: str) -> Result:
    argv = ["migrate", *args, "--job-file", str(job), "-c", str(job.parent / "config.yaml"), "--format", "json"]
    return CliRunner().invoke(main, argv, catch_exceptions=False)


def keys_in(bucket: str, moto: Emulator) -> list[str]:
    listed = boto3.client("s3", endpoint_url=moto.endpoint, region_name="us-east-1").list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def journal_objects(job: Path) -> dict[str, int]:
    journal = Journal.open(f"sqlite:///{job.parent / '.cargohold' / 'migrations' / f'{job.stem}.sqlite'}", job.stem)
    try:
        return journal.status().objects
    finally:
        journal.close()


def error_of(result: Result) -> dict[str, Any]:
    """The one error `--format json` reports on stdout (no traceback anywhere)."""
    assert "Traceback" not in result.output
    error: dict[str, Any] = json.loads(result.stdout)["error"]
    return error


def test_a_tab_in_a_file_name_leaves_a_row_behind_until_the_template_cleans_it(
    tmp_path: Path, bucket: str, moto: Emulator
) -> None:
    make_app(tmp_path)
    ran = cli(job_file(tmp_path, bucket=bucket, template="{path}"), "run")
    report: dict[str, Any] = json.loads(ran.stdout)
    assert ran.exit_code == 2, ran.output  # was 0: "uploaded 3 objects" looked like success
    assert report["incomplete"] == {"skipped_invalid_keys": 1} and report["rows_updated"] == 3
    status = cli(job_file(tmp_path, bucket=bucket, template="{path}"), "status")
    assert status.exit_code == 2 and json.loads(status.stdout)["incomplete"] == {"skipped_invalid_keys": 1}

    partial = cli(job_file(tmp_path, bucket=bucket, template="{path}"), "run", "--allow-partial")
    assert partial.exit_code == 0 and json.loads(partial.stdout)["incomplete"] == {"skipped_invalid_keys": 1}

    cleaned = cli(job_file(tmp_path, bucket=bucket, template="clean/{path|clean}", name="clean"), "run")
    assert cleaned.exit_code == 0, cleaned.output
    assert "clean/b/tab_here.txt" in keys_in(bucket, moto)
    with sqlite3.connect(tmp_path / "app.db") as db:
        assert db.execute("SELECT s3_key FROM files WHERE path LIKE 'b/tab%'").fetchone() == ("clean/b/tab_here.txt",)


def test_an_unknown_template_field_is_refused_before_any_upload(tmp_path: Path, bucket: str, moto: Emulator) -> None:
    make_app(tmp_path)
    job = job_file(tmp_path, bucket=bucket, template="{filenam}")
    ran = cli(job, "run")
    assert ran.exit_code == 1, ran.output
    line = error_of(ran)["message"]
    assert "{filenam}" in line and "did you mean {filename}" in line
    assert keys_in(bucket, moto) == []  # was: 403s and "uploaded 0 objects", exit 0
    assert sum(journal_objects(job).values()) == 0


def test_a_missing_source_directory_is_refused(tmp_path: Path, bucket: str) -> None:
    make_app(tmp_path)
    ran = cli(job_file(tmp_path, bucket=bucket, template="{path}", directory="no-such-dir"), "run")
    assert ran.exit_code == 1, ran.output
    error = error_of(ran)
    assert str(tmp_path / "no-such-dir") in error["message"] and "does not exist" in error["message"]
    assert "source.directory" in error["hint"]
    assert not (tmp_path / ".cargohold").exists()  # nothing written


def test_key_collisions_leave_rows_behind_and_say_so(tmp_path: Path, bucket: str, moto: Emulator) -> None:
    make_app(tmp_path)
    ran = cli(job_file(tmp_path, bucket=bucket, template="{filename|clean}"), "run")  # a/one.txt, b/one.txt
    report = json.loads(ran.stdout)
    assert ran.exit_code == 2, ran.output
    assert report["incomplete"] == {"skipped_collisions": 1}
    assert report["plan"]["samples"]["collisions"][0]["key"] == "one.txt"


def test_a_bucket_that_does_not_exist_is_found_before_the_first_upload(
    tmp_path: Path, bucket: str, moto: Emulator
) -> None:
    make_app(tmp_path)
    job = job_file(tmp_path, bucket=f"{bucket}-missing", template="{path|clean}")
    ran = cli(job, "run")
    assert ran.exit_code == 1, ran.output
    error = error_of(ran)
    assert "NoSuchBucket" in error["message"] and f"{bucket}-missing" in error["message"]
    assert "bucket" in error["hint"]
    assert sum(journal_objects(job).values()) == 0  # was: 397 failures recorded, one PUT each


def test_an_endpoint_that_is_down_is_one_error(tmp_path: Path, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    make_app(tmp_path)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    job = job_file(tmp_path, bucket=bucket, template="{path|clean}")
    ran = cli(job, "run")
    assert ran.exit_code == 1, ran.output
    line = error_of(ran)["message"]
    assert "unreachable" in line and f"127.0.0.1:{port}" in line
    assert sum(journal_objects(job).values()) == 0

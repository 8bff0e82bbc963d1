"""`cargohold migrate ...` end to end: a legacy app's files and SQLite rows, a moto server over HTTP."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import boto3
import pytest
from click.testing import CliRunner, Result

from toolkit.cli import main
from toolkit.demo import legacy_app
from toolkit.demo.emulator import Emulator

REPO = Path(__file__).resolve().parents[2]
BUCKET = "acme-lms-local-student-docs"


@pytest.fixture
def app(tmp_path: Path, moto: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name, value in moto.client_env().items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "config.yaml"
    config.write_text((REPO / "config.yaml").read_text().replace("http://127.0.0.1:5000", moto.endpoint))
    legacy_app.create(tmp_path / "legacy")
    s3 = boto3.client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    yield config
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET):
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"], VersionId=item["VersionId"])
    s3.delete_bucket(Bucket=BUCKET)


def migrate(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["migrate", *args, "--env", "local", "-c", str(config)], catch_exceptions=False)


def migrate_json(config: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = migrate(config, *args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def rows(config: Path) -> dict[int, tuple[Any, ...]]:
    with sqlite3.connect(config.parent / "legacy" / "app.db") as db:
        return {r[0]: r[1:] for r in db.execute("SELECT id, local_path, s3_key, s3_url, storage_type FROM documents")}


def test_plan_run_verify_cleanup_rollback(app: Path, moto: Emulator) -> None:
    uploads = app.parent / "legacy" / "uploads"
    before = rows(app)

    code, planned = migrate_json(app, "plan")
    assert code == 2  # one row names a file that does not exist
    assert planned["objects"] == len(legacy_app.FILES)
    assert planned["rows_to_update"] == len(legacy_app.FILES) + 1  # two rows share one file
    assert planned["missing_files"] == 1
    assert rows(app) == before  # plan writes nothing

    code, ran = migrate_json(app, "run")
    assert code == 2, ran  # incomplete: the row whose file is missing is left behind...
    assert ran["incomplete"] == {"skipped_missing_files": 1} and ran["status"]["complete"] is False
    assert ran["uploaded"] == len(legacy_app.FILES) and ran["rows_updated"] == len(legacy_app.FILES) + 1
    after = rows(app)
    s3 = boto3.client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    for row_id, (path, key, url, storage) in after.items():
        if "lost.pdf" in path:
            assert (key, storage) == (None, "local")
            continue
        assert storage == "s3"
        assert url == f"https://{BUCKET}.s3.us-east-1.amazonaws.com/{quote(key, safe='/')}"
        assert unquote(url).endswith("/" + key) and not set(" #?+") & set(url)
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert body == (uploads / path.removeprefix("./").removeprefix("uploads/")).read_bytes(), row_id

    after_keys = {
        uploads / path.removeprefix("./").removeprefix("uploads/"): key for path, key, _, _ in after.values() if key
    }
    assert migrate(app, "verify").exit_code == 0
    code, again = migrate_json(app, "run", "--allow-partial")  # ...which a user may accept
    assert (code, again["uploaded"], again["rows_updated"]) == (0, 0, 0)
    assert again["incomplete"] == {"skipped_missing_files": 1}
    status = migrate(app, "status")
    assert status.exit_code == 2 and "INCOMPLETE" in status.stdout and "skipped missing files 1" in status.stdout

    refused = migrate(app, "cleanup")
    assert refused.exit_code == 3 and "--yes-delete-local-files" in refused.stderr
    assert all((uploads / f"{u}/{c}/{n}/{f}").exists() for u, c, n, f, _ in legacy_app.FILES)
    code, cleaned = migrate_json(app, "cleanup", "--yes-delete-local-files")
    assert code == 0 and cleaned["files_deleted"] == len(legacy_app.FILES)
    assert not any((uploads / f"{u}/{c}/{n}/{f}").exists() for u, c, n, f, _ in legacy_app.FILES)

    assert migrate(app, "rollback").exit_code == 3  # needs --yes
    # the files are gone: pointing the rows back at them would break the application
    code, kept = migrate_json(app, "rollback", "--yes", "--delete-objects")
    assert code == 2 and kept["rows_restored"] == 0 and len(kept["kept"]) == len(legacy_app.FILES) + 1
    assert all("cleanup" in k["reason"] for k in kept["kept"]) and kept["objects_deleted"] == 0
    assert rows(app) == after
    code, rolled = migrate_json(app, "rollback", "--yes", "--restore-files")
    assert code == 0 and rolled["rows_restored"] == len(legacy_app.FILES) + 1, rolled
    assert rolled["files_restored"] == len(legacy_app.FILES)
    assert rows(app) == before
    for u, c, n, f, _ in legacy_app.FILES:
        restored = uploads / f"{u}/{c}/{n}/{f}"
        assert restored.read_bytes() == s3.get_object(Bucket=BUCKET, Key=after_keys[restored])["Body"].read()


def test_a_bad_job_is_one_clean_error(tmp_path: Path) -> None:
    job = tmp_path / "job.yaml"
    job.write_text("source: {directory: up}\ntarget: {bucket: b, key_templat: x}\ndatabase: {kind: sql}\n")
    result = CliRunner().invoke(main, ["migrate", "plan", "--job-file", str(job), "-c", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert "job.yaml:2" in result.stderr and "did you mean 'key_template'" in result.stderr
    assert "Traceback" not in result.output

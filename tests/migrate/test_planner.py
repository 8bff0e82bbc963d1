"""The planner against a real source tree and a legacy application's SQLite table: key templates that
sanitise odd file names, and a template field no row has refused before anything is planned."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from migrate.db import open_store
from migrate.job import LoadedJob, load_job
from migrate.keys import TemplateFieldError
from migrate.planner import PlanReport, plan
from migrate.work import PlannedObject

TABLE = "attachments"


def make_app(root: Path, files: dict[str, str | None]) -> None:
    """Files under root/up (each named by its relative path), and one row per file: its path and user_id."""
    (root / "up").mkdir()
    for relpath in files:
        path = root / "up" / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(relpath.encode())
    with sqlite3.connect(root / "app.db") as db:
        db.execute(f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, user_id TEXT, path TEXT, s3_key TEXT)")
        db.executemany(f"INSERT INTO {TABLE} (user_id, path) VALUES (?, ?)", [(u, p) for p, u in files.items()])
    db.close()  # the `with` commits; closing is ours


def job_for(root: Path, key_template: str) -> LoadedJob:
    job_file = root / "job.yaml"
    job_file.write_text(
        "source: {directory: up}\n"
        f"target: {{bucket: b, key_template: '{key_template}'}}\n"
        f"database: {{url: 'sqlite:///app.db', table: {TABLE}, path_column: path, key_column: s3_key}}\n"
    )
    return load_job(config_path=root / "config.yaml", job_file=job_file)


def planned(
    root: Path, key_template: str, *, into: list[PlannedObject] | None = None
) -> tuple[list[PlannedObject], PlanReport]:
    """Plan the job to the end; objects go into `into` as they come (a test sees them even after an error)."""
    job = job_for(root, key_template)
    objects = [] if into is None else into
    report = PlanReport(job=job.name, bucket=job.bucket, source_dir=str(job.source_dir))
    store = open_store(job.spec.database)
    try:
        objects.extend(plan(job, store, report))
    finally:
        store.close()
    return objects, report


def test_an_unknown_template_field_is_refused_before_any_object(tmp_path: Path) -> None:
    make_app(tmp_path, {"a.txt": "u1", "b/c.txt": "u2"})
    objects: list[PlannedObject] = []
    with pytest.raises(TemplateFieldError) as caught:
        planned(tmp_path, "{user_id}/{filenam}", into=objects)
    message = str(caught.value)
    assert "{filenam}" in message and TABLE in message
    assert "id, path, s3_key, user_id" in message  # the columns the rows have
    assert "did you mean {filename}?" in message
    assert caught.value.exit_code == 1 and caught.value.hint and "{filename}" in caught.value.hint
    assert objects == []


def test_the_refusal_comes_before_the_first_object_and_the_scan(tmp_path: Path) -> None:
    make_app(tmp_path, {"a.txt": "u1"})
    job = job_for(tmp_path, "{userid}/{path}")
    report = PlanReport(job=job.name, bucket=job.bucket, source_dir=str(job.source_dir))
    store = open_store(job.spec.database)
    try:
        with pytest.raises(TemplateFieldError, match=r"did you mean \{user_id\}\?"):
            next(plan(job, store, report))
    finally:
        store.close()
    assert report.rows_read == 1 and report.files_scanned == 0 and report.objects == 0


def test_no_rows_read_means_nothing_to_refuse(tmp_path: Path) -> None:
    make_app(tmp_path, {})
    (tmp_path / "up" / "stray.txt").write_text("x")
    objects, report = planned(tmp_path, "{filenam}")
    assert objects == [] and report.rows_read == 0 and report.unreferenced_files == 1


def test_a_column_null_in_some_rows_is_a_per_row_template_error(tmp_path: Path) -> None:
    make_app(tmp_path, {"a.txt": "u1", "b.txt": None})
    objects, report = planned(tmp_path, "{user_id}/{path}")
    assert [o.item.key for o in objects] == ["u1/a.txt"]
    assert report.template_errors == 1 and "NULL" in report.samples["template_errors"][0]["error"]


def test_clean_lets_control_characters_in_file_names_migrate(tmp_path: Path) -> None:
    files: dict[str, str | None] = {"a\tb.txt": "u1", "d/new\nline.txt": "u1", "del\x7f.txt": "u1", "ok.txt": "u1"}
    make_app(tmp_path, files)
    _, raw = planned(tmp_path, "{path}")
    assert raw.invalid_keys == 3  # as they are, S3 tools would choke on them
    objects, report = planned(tmp_path, "{path|clean}")
    assert report.invalid_keys == 0 and report.template_errors == 0 and report.objects == 4
    assert sorted(o.item.key for o in objects) == ["a_b.txt", "d/new_line.txt", "del_.txt", "ok.txt"]
    assert {o.item.key: o.relpath for o in objects}["a_b.txt"] == "a\tb.txt"  # uploaded from the real file


def test_filters_chain_in_a_plan(tmp_path: Path) -> None:
    make_app(tmp_path, {"Ünïcødé Docs/Résumé (1).PDF": "Ann"})
    objects, report = planned(tmp_path, "{user_id|lower}/{path|ascii|slug}")
    assert [o.item.key for o in objects] == ["ann/unicode-docs/resume-1.pdf"]
    assert report.invalid_keys == 0

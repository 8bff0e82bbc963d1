"""The demo's migration chapter: a legacy app's uploads folder and SQLite table of file paths,
moved into the emulated bucket, verified, shown before and after, then the local copies removed.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cargohold_core.config.model import Environment
from migrate import engine
from migrate.job import load_job
from migrate.planner import PlanReport, plan
from toolkit.demo import legacy_app
from toolkit.migrate_cli import opened

ROWS_SQL = "SELECT id, local_path, s3_key, storage_type FROM documents ORDER BY id"


def migrate_legacy_app(
    config_path: Path, env: Environment, say: Callable[[str], None], *, number: int
) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="cargohold-demo-"))
    try:
        # The job's paths (legacy/uploads, sqlite:///legacy/app.db) are relative to the config file.
        config = workdir / "config.yaml"
        shutil.copyfile(config_path, config)
        uploads, database = legacy_app.create(workdir / "legacy")
        job = load_job(config_path=config, env=env)
        before = _rows(database)
        say(
            f"{number}. A legacy app: {len(legacy_app.FILES)} files in {uploads.name}/ and {len(before)} rows in "
            f"app.db:documents; migrating with job '{job.name}' into s3://{job.bucket}"
        )
        report = PlanReport(job=job.name, bucket=job.bucket, source_dir=str(job.source_dir))
        with opened(job, env) as parts:
            result = engine.run(
                plan(job, parts["store"], report),
                journal=parts["journal"],
                store=parts["store"],
                uploader=parts["uploader"],
            )
            say(
                f"   plan: {report.objects} objects ({report.object_bytes / 1e3:,.0f} kB) for {report.rows_to_update} "
                f"rows; {report.missing_files} row(s) whose file is missing, left alone"
            )
            left = ", ".join(f"{why.replace('_', ' ')} {n}" for why, n in result.incomplete.items())
            say(
                f"   run: uploaded {result.uploaded} objects with verified checksums, updated {result.rows_updated} "
                f"rows in {result.elapsed:.2f}s"
                + (
                    f"; left behind and reported: {left} (exit {result.exit_code}, not a silent success)"
                    if left
                    else ""
                )
            )
            checked = engine.verify(
                parts["journal"], uploader=parts["uploader"], store=parts["store"], source_dir=job.source_dir
            )
            say(
                f"   verify: {checked.objects_checked} objects and {checked.rows_checked} rows checked: "
                + ("all match" if checked.ok else f"{len(checked.problems)} problems")
            )
            again = engine.run(
                plan(job, parts["store"], PlanReport(job.name, job.bucket, str(job.source_dir))),
                journal=parts["journal"],
                store=parts["store"],
                uploader=parts["uploader"],
            )
            say(f"   run again: {again.uploaded} uploads, {again.rows_updated} row updates (nothing done twice)")
            cleaned = engine.cleanup(
                parts["journal"],
                uploader=parts["uploader"],
                store=parts["store"],
                source_dir=job.source_dir,
                confirm=True,
            )
        after = _rows(database)
        say("   rows before -> after:")
        for (row_id, path, _key, storage), (_, _, new_key, new_storage) in zip(before, after, strict=True):
            say(f"     {row_id}: {path:48} {storage:5} -> {new_storage:5} {new_key or '(unchanged: file missing)'}")
        say(f"   cleanup: deleted {cleaned.files_deleted} local files, each verified again in S3 first")
        return {
            "job": job.name,
            "bucket": job.bucket,
            "plan": report.to_json(),
            "run": result.to_json(),
            "verify": checked.to_json(),
            "second_run": again.to_json(),
            "cleanup": cleaned.to_json(),
            "rows_before": [list(r) for r in before],
            "rows_after": [list(r) for r in after],
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _rows(database: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as db:
        return list(db.execute(ROWS_SQL))

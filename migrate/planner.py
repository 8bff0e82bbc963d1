"""Match database rows to local files and decide each object's key: `migrate plan`, and the work
`migrate run` hands to the engine. Reads only; writes nothing anywhere.

Rows are read first and grouped by the file they name (one entry per referenced file in memory);
the source directory is then streamed, so unreferenced files are counted without being kept.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from migrate.db import RowStore
from migrate.job import DynamoDatabase, LoadedJob
from migrate.keys import TemplateError, check_fields, compile_template, key_problems, relative_path
from migrate.scan import ScanStats, scan
from migrate.types import LocalFile, Row, UploadItem
from migrate.work import PlannedObject, PlannedRow


@dataclass(frozen=True)
class Columns:
    """The job's column (SQL) or attribute (DynamoDB) names, whichever the database is."""

    path: str
    key: str
    url: str | None
    url_template: str
    storage: str | None
    storage_value: str

    @classmethod
    def of(cls, job: LoadedJob) -> Columns:
        db = job.spec.database
        if isinstance(db, DynamoDatabase):
            return cls(
                db.path_attribute,
                db.key_attribute,
                db.url_attribute,
                db.url_template,
                db.storage_attribute,
                db.storage_value,
            )
        return cls(db.path_column, db.key_column, db.url_column, db.url_template, db.storage_column, db.storage_value)


@dataclass
class PlanReport:
    job: str
    bucket: str
    source_dir: str
    files_scanned: int = 0
    bytes_scanned: int = 0
    objects: int = 0
    object_bytes: int = 0
    rows_read: int = 0
    rows_to_update: int = 0
    rows_already_migrated: int = 0
    unreferenced_files: int = 0
    missing_files: int = 0
    outside_source: int = 0
    collisions: int = 0
    invalid_keys: int = 0
    template_errors: int = 0
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    scan_stats: ScanStats = field(default_factory=ScanStats)

    @property
    def has_problems(self) -> bool:
        """What blocks part of the migration and needs a person: exit code 2 for `migrate plan`."""
        return any(self.problem_counts().values())

    def problem_counts(self) -> dict[str, int]:
        """Rows this plan leaves behind, by reason (what `migrate run` reports as incomplete)."""
        return {
            "missing_files": self.missing_files,
            "outside_source": self.outside_source,
            "collisions": self.collisions,
            "invalid_keys": self.invalid_keys,
            "template_errors": self.template_errors,
        }

    def note(self, kind: str, sample: dict[str, Any], *, limit: int = 20) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        bucket = self.samples.setdefault(kind, [])
        if len(bucket) < limit:
            bucket.append(sample)

    def to_json(self) -> dict[str, Any]:
        counts = {k: v for k, v in vars(self).items() if isinstance(v, int)}
        return {
            "job": self.job,
            "bucket": self.bucket,
            "source_dir": self.source_dir,
            **counts,
            "symlinks_skipped": self.scan_stats.symlinks_skipped,
            "excluded_files": self.scan_stats.excluded,
            "unreadable": self.scan_stats.unreadable[:20],
            "has_problems": self.has_problems,
            "samples": self.samples,
        }


def plan(job: LoadedJob, store: RowStore, report: PlanReport) -> Iterator[PlannedObject]:
    """Yield the objects to upload with the rows to point at each; `report` fills in as it runs."""
    columns = Columns.of(job)
    template = compile_template(job.spec.target.key_template)
    by_path, seen = _rows_by_path(job, store, report)
    if seen:  # no rows read: nothing to check against, and nothing to migrate either
        # Before the first object: a field no row has would fail every row, after uploading nothing useful.
        check_fields(template, columns=seen, table=job.table)
    owner_of_key: dict[str, str] = {}  # key -> relpath: a second file wanting the same key is a collision
    for local in scan(
        job.source_dir,
        include=job.spec.source.include,
        exclude=job.spec.source.exclude,
        follow_symlinks=job.spec.source.follow_symlinks,
        stats=report.scan_stats,
    ):
        report.files_scanned += 1
        report.bytes_scanned += local.size
        rows = by_path.pop(local.relpath, None)
        if rows is None:
            report.note("unreferenced_files", {"path": local.relpath})
            continue
        by_key: dict[str, list[PlannedRow]] = {}
        for row in rows:
            try:
                key = template.render(relpath=local.relpath, columns=row.columns)
            except TemplateError as exc:
                report.note("template_errors", {"row": row.id, "path": row.path, "error": str(exc)})
                continue
            problems = key_problems(key)
            if problems:
                report.note("invalid_keys", {"row": row.id, "key": key, "problems": problems})
                continue
            by_key.setdefault(key, []).append(_planned_row(row, key, job, columns))
        for key, planned_rows in by_key.items():
            owner = owner_of_key.setdefault(key, local.relpath)
            if owner != local.relpath:
                report.note("collisions", {"key": key, "files": [owner, local.relpath]})
                continue
            report.objects += 1
            report.object_bytes += local.size
            report.rows_to_update += len(planned_rows)
            yield PlannedObject(item=_upload_item(job, local, key), relpath=local.relpath, rows=tuple(planned_rows))
    for relpath, rows in by_path.items():
        for row in rows:
            report.note("missing_files", {"row": row.id, "path": row.path, "resolved": relpath})


def _rows_by_path(job: LoadedJob, store: RowStore, report: PlanReport) -> tuple[dict[str, list[Row]], set[str]]:
    """The rows to migrate, by the file they name; and every column name seen in any row read."""
    by_path: dict[str, list[Row]] = {}
    seen: set[str] = set()
    source = str(job.source_dir)
    for row in store.rows():
        report.rows_read += 1
        seen.update(map(str, row.columns))
        if row.key_value not in (None, ""):
            report.rows_already_migrated += 1
            continue
        relpath = relative_path(
            str(row.path), source_dir=source, relative_to=str(job.relative_to), path_base=job.spec.source.path_base
        )
        if relpath is None:
            report.note("outside_source", {"row": row.id, "path": row.path})
            continue
        by_path.setdefault(relpath, []).append(row)
    return by_path, seen


def _planned_row(row: Row, key: str, job: LoadedJob, columns: Columns) -> PlannedRow:
    values: dict[str, Any] = {columns.key: key}
    if columns.url:
        values[columns.url] = columns.url_template.format(
            bucket=job.bucket, region=job.region, key=quote(key, safe="/")
        )
    if columns.storage:
        values[columns.storage] = columns.storage_value
    return PlannedRow.for_row(row, path_column=columns.path, key_column=columns.key, values=values)


def _upload_item(job: LoadedJob, local: LocalFile, key: str) -> UploadItem:
    target = job.spec.target
    content_type = target.content_type
    if content_type == "auto":
        content_type = mimetypes.guess_type(local.relpath)[0] or "application/octet-stream"
    return UploadItem(
        key=key,
        path=job.source_dir / local.relpath,
        size=local.size,
        mtime_ns=local.mtime_ns,
        content_type=content_type,
        storage_class=target.storage_class,
        sse=target.sse,
        kms_key_id=target.kms_key_id,
        cache_control=target.cache_control,
        metadata=dict(target.metadata),
    )

"""What cleanup and rollback may never do: delete a file the database still relies on, or the only copy.

A moto server over HTTP and the application's SQLite table; rows are changed behind the job's back
the way an application would (re-pointed at another key, set back to local storage).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from engine_support import TABLE, Setup, app_rows, s3_client

from migrate.engine import cleanup, rollback, verify


def _sql(db: Path, statement: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute(statement)
    conn.commit()
    conn.close()


def _bucket_keys(s: Setup) -> set[str]:
    listed = s3_client(s.endpoint).list_objects_v2(Bucket=s.bucket).get("Contents", [])
    return {o["Key"] for o in listed}


def _rel(path: str) -> str:
    return path[2:] if path.startswith("./") else path


def _single_row_file(s: Setup, skip: set[int]) -> tuple[int, str]:
    """A row whose file no other row references (so keeping it is down to that one row)."""
    rows = app_rows(s.db)
    counts: dict[str, int] = {}
    for row in rows:
        counts[_rel(row["path"])] = counts.get(_rel(row["path"]), 0) + 1
    for row in rows:
        if row["id"] not in skip and counts[_rel(row["path"])] == 1:
            return row["id"], _rel(row["path"])
    raise AssertionError("no single-row file")


def test_cleanup_keeps_files_whose_live_rows_no_longer_point_at_them(setup: Setup) -> None:
    setup.migrate()
    repointed_id, repointed = _single_row_file(setup, set())
    local_id, set_local = _single_row_file(setup, {repointed_id})
    # behind the job's back: the application re-points one row, and sets another back to local storage
    _sql(setup.db, f"UPDATE {TABLE} SET s3_key = 'elsewhere/other.bin' WHERE id = {repointed_id}")
    _sql(setup.db, f"UPDATE {TABLE} SET storage = 'local', s3_key = NULL, url = NULL WHERE id = {local_id}")

    journal, store, uploader = setup.journal(), setup.store(), setup.uploader()
    result = cleanup(journal, uploader=uploader, store=store, source_dir=setup.source, confirm=True)
    kept = dict(result.kept)
    assert set(kept) == {repointed, set_local}, kept
    assert f"row {json.dumps(repointed_id)} no longer points at" in kept[repointed]
    assert "elsewhere/other.bin" in kept[repointed]
    assert "storage='local'" in kept[set_local] or "s3_key=None" in kept[set_local]
    assert result.exit_code == 2  # some were kept: a person should look
    assert result.files_deleted == len(setup.relpaths) - 2
    for rel in setup.relpaths:
        assert (setup.source / rel).exists() == (rel in kept), rel
    assert journal.events(actions=("cleanup",))[0]["detail"]["kept"] == 2
    journal.close()
    store.close()


def test_rollback_after_cleanup_never_deletes_the_only_copy(setup: Setup) -> None:
    before = app_rows(setup.db)
    setup.migrate()
    journal, store, uploader = setup.journal(), setup.store(), setup.uploader()
    assert verify(journal, uploader=uploader, store=store, source_dir=setup.source).ok
    # one file changed locally after the migration: cleanup keeps it, and it no longer matches its object
    changed = setup.relpaths[3]
    (setup.source / changed).write_bytes(b"edited after the migration")
    cleaned = cleanup(journal, uploader=uploader, store=store, source_dir=setup.source, confirm=True)
    assert [rel for rel, _ in cleaned.kept] == [changed]
    migrated = app_rows(setup.db)
    objects_before = _bucket_keys(setup)
    assert len(objects_before) == len(setup.relpaths)

    report = rollback(journal, store=store, uploader=uploader, delete_objects=True, source_dir=setup.source)
    assert report.exit_code == 2
    assert report.rows_restored == 0 and report.objects_deleted == 0
    assert len(report.kept) == len(before)  # every row still points at S3, each saying why
    reasons = {why.split(":")[0] for _, why in report.kept}
    assert reasons == {"gone", "changed"}, reasons
    assert _bucket_keys(setup) == objects_before  # nothing deleted: for all but one file it is the only copy
    assert app_rows(setup.db) == migrated
    assert journal.events(actions=("rollback",))[0]["detail"]["rows_kept"] == len(before)

    # with --restore-files the cleaned files come back first (checked against the journal), then the rows;
    # the changed file's row still points at S3 and its object stays
    again = rollback(
        journal, store=store, uploader=uploader, delete_objects=True, restore_files=True, source_dir=setup.source
    )
    changed_rows = {r["id"] for r in before if _rel(r["path"]) == changed}
    assert {json.loads(row_id) for row_id, _ in again.kept} == changed_rows
    assert again.files_restored == len(setup.relpaths) - 1
    assert again.rows_restored == len(before) - len(changed_rows)
    assert again.objects_deleted == len(setup.relpaths) - 1
    assert _bucket_keys(setup) == {f"files/{changed}"}
    after = {r["id"]: r for r in app_rows(setup.db)}
    for row in before:
        if row["id"] in changed_rows:
            assert after[row["id"]]["storage"] == "s3"
        else:
            assert after[row["id"]] == row
    for rel in setup.relpaths:
        assert (setup.source / rel).exists(), rel
    st = journal.status()
    assert not st.complete and st.incomplete["rows_rolled_back"] == again.rows_restored
    assert st.files["cleaned"] == 0 and st.objects["deleted"] == len(setup.relpaths) - 1
    journal.close()
    store.close()


def test_rollback_deletes_only_objects_no_live_row_points_at(setup: Setup) -> None:
    setup.migrate()
    journal, store, uploader = setup.journal(), setup.store(), setup.uploader()
    # a plain rollback first (objects kept), then the application points a row back at its object
    first = rollback(journal, store=store, uploader=uploader, source_dir=setup.source)
    assert first.exit_code == 0 and first.objects_left == len(setup.relpaths)
    row_id, rel = _single_row_file(setup, set())
    _sql(setup.db, f"UPDATE {TABLE} SET s3_key = 'files/{rel}', storage = 's3' WHERE id = {row_id}")
    # and someone deletes a local file by hand: its object is now the only copy
    lost = next(r for r in setup.relpaths if r != rel)
    (setup.source / lost).unlink()
    second = rollback(journal, store=store, uploader=uploader, delete_objects=True, source_dir=setup.source)
    kept = dict(second.objects_kept)
    assert kept[f"files/{rel}"] == f"row {json.dumps(row_id)} still points at it"
    assert kept[f"files/{lost}"].startswith("local file gone") and "only copy" in kept[f"files/{lost}"]
    assert len(kept) == 2 and second.exit_code == 2
    assert _bucket_keys(setup) == {f"files/{rel}", f"files/{lost}"}
    journal.close()
    store.close()

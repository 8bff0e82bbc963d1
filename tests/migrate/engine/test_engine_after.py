"""verify, rollback and cleanup after a migration (moto server over HTTP, SQLite application table)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from engine_support import TABLE, Setup, app_rows, build_work, object_versions, s3_client

from migrate.engine import CleanupRefused, EngineSettings, cleanup, rollback, run, verify


def test_verify_clean_then_finds_tampered_deleted_and_moved(setup: Setup) -> None:
    setup.migrate()
    journal, store, uploader = setup.journal(), setup.store(), setup.uploader()
    clean = verify(journal, uploader=uploader, store=store, source_dir=setup.source)
    assert clean.ok and clean.exit_code == 0, clean.to_json()
    assert clean.objects_checked == len(setup.relpaths) and clean.rows_checked == len(app_rows(setup.db))

    s3 = s3_client(setup.endpoint)
    tampered, deleted = f"files/{setup.relpaths[1]}", f"files/{setup.relpaths[2]}"
    s3.put_object(Bucket=setup.bucket, Key=tampered, Body=b"not the original")
    s3.delete_object(Bucket=setup.bucket, Key=deleted)
    # same size, different content: only the checksum can tell
    same_size = f"files/{setup.relpaths[4]}"
    original = (setup.source / setup.relpaths[4]).read_bytes()
    s3.put_object(Bucket=setup.bucket, Key=same_size, Body=bytes(len(original)) if original else b"")
    # a local file edited after the migration
    edited = setup.source / setup.relpaths[5]
    edited.write_bytes(edited.read_bytes() + b"!")
    # the application points a row elsewhere
    conn = sqlite3.connect(setup.db)
    conn.execute(f"UPDATE {TABLE} SET s3_key = 'elsewhere/x' WHERE id = 8")
    conn.commit()
    conn.close()

    report = verify(journal, uploader=uploader, store=store, source_dir=setup.source)
    kinds = {(p.kind, p.key) for p in report.problems}
    assert ("object_missing", deleted) in kinds
    assert any(k in kinds for k in (("size_mismatch", tampered), ("checksum_mismatch", tampered)))
    if original:  # a zero-byte file cannot be tampered with at the same size
        assert ("checksum_mismatch", same_size) in kinds
    assert ("local_changed", f"files/{setup.relpaths[5]}") in kinds
    moved = [p for p in report.problems if p.kind == "row_changed"]
    assert [p.row_id for p in moved] == [json.dumps(8)] and "elsewhere/x" in moved[0].detail
    assert report.exit_code == 2
    json.dumps(report.to_json())
    journal.close()
    store.close()


def test_rollback_restores_rows_and_deletes_objects(setup: Setup) -> None:
    before = app_rows(setup.db)
    setup.migrate()
    # the application changes one migrated row afterwards: rollback must not clobber it
    conn = sqlite3.connect(setup.db)
    conn.execute(f"UPDATE {TABLE} SET url = 'https://cdn.example/changed' WHERE id = 3")
    conn.commit()
    conn.close()
    journal, store, uploader = setup.journal(), setup.store(), setup.uploader()
    report = rollback(journal, store=store, uploader=uploader, delete_objects=True)
    assert report.conflicts == [json.dumps(3)]
    assert report.rows_restored == len(before) - 1
    assert report.exit_code == 2
    after = {r["id"]: r for r in app_rows(setup.db)}
    for row in before:
        if row["id"] == 3:
            assert after[3]["url"] == "https://cdn.example/changed"
            continue
        assert after[row["id"]] == row
    # the object of row 3 is still referenced: kept; every other object is deleted
    row3_key = after[3]["s3_key"]
    remaining = {o["Key"] for o in s3_client(setup.endpoint).list_objects_v2(Bucket=setup.bucket).get("Contents", [])}
    assert remaining == {row3_key}
    assert report.objects_deleted == len(setup.relpaths) - 1
    st = journal.status()
    assert st.rows["rolled_back"] == len(before) - 1 and st.rows["updated"] == 1
    journal.close()
    store.close()

    # running again migrates the rolled back rows once more
    setup.migrate()
    assert all(r["storage"] == "s3" for r in app_rows(setup.db))


def test_rollback_without_deleting_keeps_objects(setup: Setup) -> None:
    setup.migrate()
    journal, store = setup.journal(), setup.store()
    report = rollback(journal, store=store)
    assert report.exit_code == 0 and report.objects_deleted == 0
    assert all(r["storage"] == "local" and r["s3_key"] is None for r in app_rows(setup.db))
    assert len(object_versions(setup.endpoint, setup.bucket)) == len(setup.relpaths)
    journal.close()
    store.close()


def test_cleanup_refuses_without_confirm_and_deletes_only_verified(setup: Setup) -> None:
    # one file is not migrated (missing at run time), one object gets tampered with, one row conflicts
    journal, store, uploader = setup.journal(), setup.store(), setup.uploader()
    with pytest.raises(CleanupRefused) as refused:
        cleanup(journal, uploader=uploader, store=store, source_dir=setup.source, confirm=False)
    assert refused.value.exit_code == 3
    assert all((setup.source / r).exists() for r in setup.relpaths)

    work = build_work(setup.source, setup.db, bucket=setup.bucket)
    unmigrated = setup.source / setup.relpaths[6]
    saved = unmigrated.read_bytes()
    unmigrated.unlink()
    conn = sqlite3.connect(setup.db)
    conflict_path = conn.execute(f"SELECT path FROM {TABLE} WHERE id = 12").fetchone()[0]
    conn.execute(f"UPDATE {TABLE} SET path = 'changed/by/app' WHERE id = 12")
    conn.commit()
    conn.close()
    report = run(work, journal=journal, store=store, uploader=uploader, settings=EngineSettings(batch_size=10))
    assert report.failed and report.conflicts == [json.dumps(12)]
    unmigrated.write_bytes(saved)
    tampered = setup.relpaths[7]
    s3_client(setup.endpoint).put_object(Bucket=setup.bucket, Key=f"files/{tampered}", Body=b"tampered!")

    result = cleanup(journal, uploader=uploader, store=store, source_dir=setup.source, confirm=True)
    kept = dict(result.kept)
    conflict_rel = conflict_path[2:] if conflict_path.startswith("./") else conflict_path
    assert set(kept) == {setup.relpaths[6], tampered, conflict_rel}, kept
    assert result.files_deleted == len(setup.relpaths) - 3
    for rel in setup.relpaths:
        assert (setup.source / rel).exists() == (rel in kept), rel
    assert journal.status().files == {"present": 3, "cleaned": len(setup.relpaths) - 3}

    # a second cleanup deletes nothing more; verify does not call cleaned files missing
    again = cleanup(journal, uploader=uploader, store=store, source_dir=setup.source, confirm=True)
    assert again.files_deleted == 0 and again.already_cleaned == len(setup.relpaths) - 3
    checked = verify(journal, uploader=uploader, store=store, source_dir=setup.source)
    assert {p.kind for p in checked.problems} <= {"size_mismatch", "checksum_mismatch"}
    journal.close()
    store.close()


def test_cleanup_keeps_a_file_changed_after_migration(setup: Setup, tmp_path: Path) -> None:
    setup.migrate()
    victim = setup.source / setup.relpaths[9]
    victim.write_bytes(b"x" * victim.stat().st_size)  # same size, new content
    journal, uploader, store = setup.journal(), setup.uploader(), setup.store()
    result = cleanup(journal, uploader=uploader, store=store, source_dir=setup.source, confirm=True)
    if victim.stat().st_size:
        assert [rel for rel, _ in result.kept] == [setup.relpaths[9]]
        assert victim.exists()
    journal.close()

"""One suite, four real databases: SQLite (file), PostgreSQL, MariaDB and DynamoDB (moto over HTTP).

Each test creates its own table through the `backend` fixture (tests/migrate/db/conftest.py).
"""

from __future__ import annotations

import pytest
from rowstore_backends import Backend, by_id, local_only, updates_for, url_for

from migrate.db import rollback_of, update_for
from migrate.types import RowUpdate


def test_rows_stream_with_the_filter_and_skip_rows_without_a_path(backend: Backend) -> None:
    spec = backend.create(
        [
            {"id": 1, "path": "a/one.jpg", "owner": "ann"},
            {"id": 2, "path": None, "owner": "no path"},
            {"id": 3, "path": "", "owner": "empty path"},
            {"id": 4, "path": "s3/already.jpg", "storage": "s3"},
            {"id": 5, "path": "b/five.png", "owner": "bob"},
            {"id": 6, "path": "c/six.gif"},
            {"id": 7, "path": "c/seven.gif"},
        ],
        where=local_only(backend),
    )
    store = backend.store(spec, small_pages=True)  # pages of 2 rows: the stream spans several pages
    try:
        rows = by_id(store, backend)
    finally:
        store.close()
    assert sorted(rows) == [1, 5, 6, 7]
    one = rows[1]
    assert one.path == "a/one.jpg"
    assert one.key_value is None
    assert one.columns["owner"] == "ann"
    assert one.columns["storage"] == "local"
    assert one.id == backend.row_id(1)


SPECIAL_PATHS = [
    "fotos/Ünïcødé 日本/über café.jpg",
    "a b/c#d?e+f.png",
    "./lead/dot.txt",
    "emoji/🎉 party time.jpg",
    "percent/100%25 done & more;=.txt",
    "deep/" + "x" * 300 + ".bin",
]


def test_special_characters_in_paths_round_trip(backend: Backend) -> None:
    spec = backend.create([{"id": i, "path": p} for i, p in enumerate(SPECIAL_PATHS, start=1)])
    store = backend.store(spec)
    try:
        rows = by_id(store, backend)
        assert [rows[i].path for i in sorted(rows)] == SPECIAL_PATHS
        updates = [
            update_for(spec, row, key=f"u/{backend.logical(row.id)}/{row.path[:120]}", url=url_for("k"))
            for row in rows.values()
        ]
        outcomes = store.apply(updates)
        assert [o.status for o in outcomes] == ["updated"] * len(SPECIAL_PATHS)
        current = store.read([row.id for row in rows.values()])
    finally:
        store.close()
    for i, path in enumerate(SPECIAL_PATHS, start=1):
        assert current[backend.row_id(i)]["s3_key"] == f"u/{i}/{path[:120]}"
        assert current[backend.row_id(i)]["path"] == path


def test_apply_sets_key_url_and_storage_in_one_batch(backend: Backend) -> None:
    spec = backend.create([{"id": i, "path": f"dir/{i}.jpg"} for i in range(1, 6)])
    store = backend.store(spec)
    try:
        rows = sorted(store.rows(), key=lambda r: backend.logical(r.id), reverse=True)
        updates = updates_for(spec, rows)
        outcomes = store.apply(updates)
    finally:
        store.close()
    assert [o.id for o in outcomes] == [u.id for u in updates]  # in the order given
    assert {o.status for o in outcomes} == {"updated"}
    for i in range(1, 6):
        row = backend.get(spec, i)
        assert row is not None
        assert row["s3_key"] == f"media/dir/{i}.jpg"
        assert row["url"] == url_for(f"media/dir/{i}.jpg")
        assert row["storage"] == "s3"
        assert row["path"] == f"dir/{i}.jpg"  # the path column is left alone


def test_a_row_changed_or_deleted_under_us_is_reported_and_left_alone(backend: Backend) -> None:
    spec = backend.create([{"id": i, "path": f"a/{i}.jpg"} for i in range(1, 7)])
    store = backend.store(spec)
    try:
        rows = sorted(store.rows(), key=lambda r: backend.logical(r.id))
        backend.app_update(spec, 1, path="a/renamed.jpg")  # the application moved the file
        backend.app_update(spec, 2, path="A/2.JPG")  # only the case changed (MySQL's '=' ignores case)
        backend.app_delete(spec, 3)
        backend.app_update(spec, 5, storage="s3")  # the application migrated it itself
        backend.app_update(spec, 6, path="a/6.jpg ")  # a trailing space (MySQL's '=' ignores it)
        outcomes = store.apply(updates_for(spec, rows))
    finally:
        store.close()
    assert [(backend.logical(o.id), o.status) for o in outcomes] == [
        (1, "conflict"),
        (2, "conflict"),
        (3, "missing"),
        (4, "updated"),
        (5, "conflict"),
        (6, "conflict"),
    ]
    for untouched in (1, 2, 5, 6):
        row = backend.get(spec, untouched)
        assert row is not None and row["s3_key"] is None and row["url"] is None
    assert backend.get(spec, 3) is None  # a deleted row is not brought back
    four = backend.get(spec, 4)
    assert four is not None and four["s3_key"] == "media/a/4.jpg"


def test_applying_again_reports_already_and_changes_nothing_twice(backend: Backend) -> None:
    spec = backend.create([{"id": i, "path": f"r/{i}.png"} for i in range(1, 5)])
    store = backend.store(spec)
    try:
        rows = sorted(store.rows(), key=lambda r: backend.logical(r.id))
        updates = updates_for(spec, rows)
        # A run committed rows 1-2, then crashed; the resumed run applies the whole batch again.
        assert [o.status for o in store.apply(updates[:2])] == ["updated", "updated"]
        assert [o.status for o in store.apply(updates)] == ["already", "already", "updated", "updated"]
        assert [o.status for o in store.apply(updates)] == ["already"] * 4
    finally:
        store.close()
    counts = backend.update_counts(spec)
    if counts is not None:  # SQL: a trigger counted the UPDATEs each row received
        assert counts == {1: 1, 2: 1, 3: 1, 4: 1}
    for i in range(1, 5):
        row = backend.get(spec, i)
        assert row is not None and row["s3_key"] == f"media/r/{i}.png" and row["storage"] == "s3"


def test_expect_is_null_safe(backend: Backend) -> None:
    spec = backend.create(
        [
            {"id": 1, "path": "n/1"},
            {"id": 2, "path": "n/2", "s3_key": "old/2"},
            {"id": 3, "path": "n/3", "s3_key": "old/3"},
            {"id": 4, "path": "n/4"},
            {"id": 5, "path": "n/5", "url": ""},
        ]
    )
    store = backend.store(spec)
    try:
        outcomes = store.apply(
            [
                RowUpdate(backend.row_id(1), expect={"path": "n/1", "s3_key": None}, values={"s3_key": "new/1"}),
                RowUpdate(backend.row_id(2), expect={"s3_key": None}, values={"s3_key": "new/2"}),
                RowUpdate(backend.row_id(3), expect={"s3_key": "old/3"}, values={"s3_key": "new/3"}),
                RowUpdate(backend.row_id(4), expect={"url": ""}, values={"url": "x"}),  # NULL is not ''
                RowUpdate(backend.row_id(5), expect={"url": ""}, values={"url": "y"}),
            ]
        )
    finally:
        store.close()
    assert [o.status for o in outcomes] == ["updated", "conflict", "updated", "conflict", "updated"]
    assert [backend.get(spec, i)["s3_key"] for i in (1, 2, 3)] == ["new/1", "old/2", "new/3"]  # type: ignore[index]


def test_rollback_restores_the_old_values_once(backend: Backend) -> None:
    spec = backend.create([{"id": i, "path": f"b/{i}.txt", "owner": "o"} for i in range(1, 4)])
    store = backend.store(spec)
    try:
        rows = sorted(store.rows(), key=lambda r: backend.logical(r.id))
        updates = updates_for(spec, rows)
        assert {o.status for o in store.apply(updates)} == {"updated"}
        backend.app_update(spec, 3, url="https://cdn.example/changed")  # the app moved on after the migration
        undo = [rollback_of(u) for u in updates]
        assert [o.status for o in store.apply(undo)] == ["updated", "updated", "conflict"]
        assert [o.status for o in store.apply(undo)] == ["already", "already", "conflict"]
    finally:
        store.close()
    for i in (1, 2):
        row = backend.get(spec, i)
        assert row is not None
        assert (row["s3_key"], row["url"], row["storage"], row["path"]) == (None, None, "local", f"b/{i}.txt")
    three = backend.get(spec, 3)
    assert three is not None and three["s3_key"] == "media/b/3.txt"


def test_read_returns_current_values_and_leaves_out_missing_rows(backend: Backend) -> None:
    spec = backend.create([{"id": i, "path": f"many/{i}.jpg"} for i in range(1, 121)])
    store = backend.store(spec)
    if hasattr(store, "read_chunk"):
        store.read_chunk = 50  # several IN (...) chunks; DynamoDB reads 100 keys per BatchGetItem
    try:
        backend.app_delete(spec, 7)
        ids = [backend.row_id(i) for i in range(1, 121)] + [backend.row_id(999), backend.row_id(5)]
        current = store.read(ids)
    finally:
        store.close()
    assert len(current) == 119
    assert backend.row_id(7) not in current and backend.row_id(999) not in current
    assert current[backend.row_id(120)]["path"] == "many/120.jpg"
    assert current[backend.row_id(5)].get("s3_key") is None


def test_updates_can_be_applied_while_rows_are_streamed(backend: Backend) -> None:
    """The engine updates rows while it still streams them (SQLite would lock up on an open cursor)."""
    spec = backend.create([{"id": i, "path": f"s/{i}.jpg"} for i in range(1, 8)])
    store = backend.store(spec, small_pages=True)
    statuses = []
    try:
        for row in store.rows():
            statuses += [o.status for o in store.apply(updates_for(spec, [row]))]
    finally:
        store.close()
    assert statuses == ["updated"] * 7


@pytest.mark.parametrize("empty", [[]])
def test_an_empty_batch_does_nothing(backend: Backend, empty: list[RowUpdate]) -> None:
    spec = backend.create([{"id": 1, "path": "x"}])
    store = backend.store(spec)
    try:
        assert store.apply(empty) == []
        assert store.read([]) == {}
    finally:
        store.close()

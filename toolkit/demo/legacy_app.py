"""A legacy application as the user's guides leave it: uploads on local disk, their paths in an
SQLite table. The demo and the tests migrate it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# (user_id, course_id, unit, filename, size in bytes)
FILES: tuple[tuple[str, str, str, str, int], ...] = (
    ("u-1001", "c-101", "unit-1", "essay.pdf", 48_213),
    ("u-1001", "c-101", "unit-2", "lab report #2.docx", 21_877),
    ("u-1002", "c-101", "unit-1", "résumé final.pdf", 9_420),
    ("u-1002", "c-205", "unit-3", "notes+sketch.png", 133_337),
    ("u-1003", "c-205", "unit-3", "empty draft.txt", 0),
    ("u-1003", "c-205", "unit-4", "slides?v=2.pptx", 65_536),
)

SCHEMA = """
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL,
    course_id TEXT NOT NULL,
    unit TEXT NOT NULL,
    filename TEXT NOT NULL,
    local_path TEXT,
    s3_key TEXT,
    s3_url TEXT,
    storage_type TEXT NOT NULL DEFAULT 'local'
)
"""


def create(root: Path) -> tuple[Path, Path]:
    """Write the uploads folder and app.db under `root`; returns (uploads dir, database file)."""
    uploads = root / "uploads"
    database = root / "app.db"
    root.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(database) as db:
        db.execute(SCHEMA)
        for index, (user, course, unit, filename, size) in enumerate(FILES, start=1):
            relpath = f"{user}/{course}/{unit}/{filename}"
            path = uploads / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_content(relpath, size))
            db.execute(
                "INSERT INTO documents (id, user_id, course_id, unit, filename, local_path) VALUES (?, ?, ?, ?, ?, ?)",
                (index, user, course, unit, filename, f"./uploads/{relpath}"),
            )
        # A second row pointing at the same file (a shared document), and a row whose file is gone.
        db.execute(
            "INSERT INTO documents (id, user_id, course_id, unit, filename, local_path) VALUES (?, ?, ?, ?, ?, ?)",
            (len(FILES) + 1, "u-1001", "c-101", "unit-1", "essay.pdf", "uploads/u-1001/c-101/unit-1/essay.pdf"),
        )
        db.execute(
            "INSERT INTO documents (id, user_id, course_id, unit, filename, local_path) VALUES (?, ?, ?, ?, ?, ?)",
            (len(FILES) + 2, "u-1004", "c-300", "unit-1", "lost.pdf", "./uploads/u-1004/c-300/unit-1/lost.pdf"),
        )
    (uploads / ".DS_Store").write_bytes(b"\0" * 64)  # noise the job excludes
    return uploads, database


def _content(relpath: str, size: int) -> bytes:
    seed = relpath.encode("utf-8")
    return (seed * (size // max(len(seed), 1) + 1))[:size]

"""The engine's input: the planner's matched work, one entry per object to put in S3.

The planner (migrate/planner.py) produces an iterable of `PlannedObject`; the engine records it in
the journal (idempotently), then uploads the objects and rewrites their rows. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from migrate.types import Row, RowId, RowUpdate, UploadItem


@dataclass(frozen=True)
class PlannedRow:
    """A database row that must point at its object once the object is verified.

    - `expect`: the columns that must still hold these values for the update to happen (the row's
      old path and old key: `{path_column: old_path, key_column: old_key}`); None means NULL.
    - `values`: the columns to set (`{key_column: key, url_column: url, storage_column: "s3"}`).
    - `old_values`: what every column of `values` held before (for rollback); defaults to `expect`'s
      entries for those columns, None for the others.
    """

    id: RowId
    expect: Mapping[str, Any]
    values: Mapping[str, Any]
    old_values: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def for_row(cls, row: Row, *, path_column: str, key_column: str, values: Mapping[str, Any]) -> PlannedRow:
        """The usual case: a row read by a RowStore, conditioned on its path and key columns."""
        expect = {path_column: row.path, key_column: row.key_value}
        old = {name: row.columns.get(name) for name in values}
        old[key_column] = row.key_value
        return cls(id=row.id, expect=expect, values=dict(values), old_values=old)

    @classmethod
    def from_update(cls, update: RowUpdate) -> PlannedRow:
        """From migrate.db.update_for(...): its `expect` holds the path and the old value of every
        column it writes, which is what a rollback restores."""
        old = {name: update.expect[name] for name in update.values if name in update.expect}
        return cls(id=update.id, expect=dict(update.expect), values=dict(update.values), old_values=old)

    @property
    def old_path(self) -> str | None:
        """The row's old path: the first entry of `expect` (for_row puts the path column first)."""
        value = next(iter(self.expect.values()), None)
        return None if value is None else str(value)

    @property
    def rollback_values(self) -> dict[str, Any]:
        """The values a rollback writes: the old value of every column the migration set."""
        return {name: self.old_values.get(name, self.expect.get(name)) for name in self.values}


@dataclass(frozen=True)
class PlannedObject:
    """One object to upload (a local file and its key) and the rows that will point at it.

    `relpath` is the file's path relative to the source directory (LocalFile.relpath); it names
    the file for cleanup. Several objects may come from one file (a key template with row columns),
    and a file is deleted by cleanup only when every object made from it is verified.
    """

    item: UploadItem
    relpath: str
    rows: tuple[PlannedRow, ...] = ()


Work = Iterable[PlannedObject]

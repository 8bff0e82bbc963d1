"""The shared vocabulary of the migration engine: what the scanner, the matcher, the uploader,
the database adapters and the journal pass to each other. Plain frozen dataclasses, no behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

# ---------------------------------------------------------------- local files


@dataclass(frozen=True)
class LocalFile:
    """One file under the source directory, as the scanner saw it."""

    relpath: str  # POSIX-style, relative to the source directory, no leading "./"
    size: int
    mtime_ns: int


# ---------------------------------------------------------------- database rows

RowId = str  # a row's primary key, JSON-encoded (so composite DynamoDB keys fit too)


@dataclass(frozen=True)
class Row:
    """A database row that references a local file."""

    id: RowId
    path: str  # the raw value of the path column, as stored
    columns: dict[str, Any]  # every column/attribute of the row (for key templates); values as read
    key_value: Any = None  # the current value of the key column (before migration; usually NULL)


@dataclass(frozen=True)
class RowUpdate:
    """Set `values` on a row, only if it still holds `expect` (column -> value; None = NULL)."""

    id: RowId
    expect: dict[str, Any]
    values: dict[str, Any]


RowStatus = Literal["updated", "already", "conflict", "missing"]
# updated:  the row held `expect` and now holds `values`
# already:  the row already holds `values` (a previous run updated it, e.g. before a crash)
# conflict: the row holds something else: the application changed it under us; left alone
# missing:  the row no longer exists


@dataclass(frozen=True)
class RowOutcome:
    id: RowId
    status: RowStatus


# ---------------------------------------------------------------- uploads


@dataclass(frozen=True)
class UploadItem:
    """One object to put: a local file and where it goes, with its headers."""

    key: str
    path: Path  # absolute path of the local file
    size: int  # as scanned; the uploader re-checks it while reading
    mtime_ns: int
    content_type: str
    storage_class: str | None = None
    sse: str | None = None  # "AES256" | "aws:kms" | None (bucket default)
    kms_key_id: str | None = None
    cache_control: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UploadResult:
    key: str
    ok: bool
    size: int = 0  # bytes actually sent
    mtime_ns: int = 0  # the file's mtime when it was read
    sha256: str | None = None  # base64, of the bytes sent (the x-amz-checksum-sha256 value)
    md5: str | None = None  # hex, of the bytes sent (single-part uploads: equals the ETag)
    etag: str | None = None  # as returned by S3, without quotes
    version_id: str | None = None
    parts: int = 1  # > 1 for multipart uploads
    changed_while_reading: bool = False  # size or mtime moved during the upload: not verified
    error: str | None = None
    retryable: bool = False
    fatal: bool = False  # cut short by a problem of the endpoint or bucket, not of this file: stays pending
    parts_reused: int = 0  # multipart: parts an earlier, interrupted run had already sent

"""Helpers for the uploader tests (tests/migrate/upload)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from migrate.types import UploadItem, UploadResult
from migrate.upload import MiB, TransferSettings, Uploader

FAST_RETRIES: dict[str, Any] = {"backoff_base": 0.01, "backoff_cap": 0.05}
SMALL_PARTS = TransferSettings(
    concurrency=8, multipart_threshold=5 * MiB, part_size=5 * MiB, max_buffer_bytes=64 * MiB, **FAST_RETRIES
)


def item_for(path: Path, key: str, **kw: Any) -> UploadItem:
    st = path.stat()
    return UploadItem(
        key=key, path=path, size=st.st_size, mtime_ns=st.st_mtime_ns, content_type=kw.pop("content_type", ""), **kw
    )


def run(up: Uploader, items: Any) -> dict[str, UploadResult]:
    results: dict[str, UploadResult] = {}

    def on_result(r: UploadResult) -> None:
        assert r.key not in results, f"two results for {r.key}"
        results[r.key] = r

    up.upload_many(items, on_result=on_result)
    return results

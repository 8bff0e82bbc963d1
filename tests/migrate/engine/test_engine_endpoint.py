"""The endpoint goes wrong mid-run: it dies (recognised once, the run stops, the journal stays
consistent), or it loses objects an earlier run verified (uploaded again before any row points at them).
A moto server over HTTP, behind a loopback proxy that can start dropping every connection."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
from engine_support import Setup, app_rows, build_work, s3_client

from migrate.engine import EngineSettings, run
from migrate.types import RowOutcome, RowUpdate
from migrate.upload import TransferSettings, Uploader
from tests.support.faulty_s3 import FaultyS3


def _kill_endpoint_after(proxy: FaultyS3, puts: int) -> threading.Thread:
    """From the `puts`-th forwarded PUT on, every request is dropped without an answer."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        while proxy.forwarded["PUT"] < puts and time.monotonic() < deadline:
            time.sleep(0.005)
        proxy.faults = ("drop",)
        proxy.fraction = 1.0

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_dead_endpoint_stops_the_run_once(setup: Setup) -> None:
    settings = TransferSettings(concurrency=4, max_attempts=8)
    with FaultyS3(setup.endpoint, fraction=0.0, seed=1) as proxy:
        uploader = Uploader(bucket=setup.bucket, region="us-east-1", endpoint=proxy.endpoint, settings=settings)
        watcher = _kill_endpoint_after(proxy, puts=10)
        journal, store = setup.journal(), setup.store()
        report = run(
            build_work(setup.source, setup.db, bucket=setup.bucket),
            journal=journal,
            store=store,
            uploader=uploader,
            settings=EngineSettings(batch_size=5),
        )
        watcher.join()
        uploader.close()
    assert report.fatal is not None and "unreachable" in report.fatal, report.to_json()
    assert report.exit_code == 1
    # recognised once: each connection's request failed about once, not 8 attempts for every file
    assert proxy.injected["drop"] <= settings.dead_endpoint_failures + 2 * settings.concurrency, proxy.injected
    status = journal.status()
    assert status.objects["failed"] == 0, status.failures  # the files are not at fault: still pending
    assert status.objects["pending"] > 0 and status.claimed == 0
    assert status.objects["done"] == report.uploaded
    journal.close()

    # the endpoint is back: the same job finishes, nothing done twice
    journal = setup.journal()
    again = run(None, journal=journal, store=store, uploader=setup.uploader(), settings=EngineSettings(batch_size=5))
    journal.close()
    store.close()
    assert again.exit_code == 0, again.to_json()
    assert again.uploaded + report.uploaded == len(setup.relpaths)
    setup.assert_migrated()


class _CrashingStore:
    """Stands in for a crash between the uploads and the row updates: apply() raises."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def apply(self, updates: Sequence[RowUpdate]) -> list[RowOutcome]:
        raise RuntimeError("the process died here")

    def read(self, ids: Sequence[str]) -> Any:
        return self.inner.read(ids)


def test_objects_the_server_lost_are_uploaded_again_before_rows_point_at_them(setup: Setup) -> None:
    journal, store = setup.journal(), setup.store()
    with pytest.raises(RuntimeError, match="died here"):
        run(
            build_work(setup.source, setup.db, bucket=setup.bucket),
            journal=journal,
            store=_CrashingStore(store),
            uploader=setup.uploader(),
            settings=EngineSettings(batch_size=500),
        )
    verified = [o.key for o in journal.iter_objects(states=("uploaded",))]
    assert len(verified) == len(setup.relpaths)
    # the server loses them (an emulator restarted, a bucket emptied by hand)
    s3 = s3_client(setup.endpoint)
    for key in verified:
        for version in s3.list_object_versions(Bucket=setup.bucket, Prefix=key).get("Versions", []):
            s3.delete_object(Bucket=setup.bucket, Key=key, VersionId=version["VersionId"])
    left = [v["Key"] for v in s3.list_object_versions(Bucket=setup.bucket).get("Versions", [])]
    assert left == [], left
    report = run(None, journal=journal, store=store, uploader=setup.uploader(), settings=EngineSettings())
    journal.close()
    store.close()
    assert report.exit_code == 0, report.to_json()
    assert report.reused == 0 and report.requeued == len(verified) and report.uploaded == len(verified)
    assert all(row["storage"] == "s3" for row in app_rows(setup.db))
    setup.assert_migrated()

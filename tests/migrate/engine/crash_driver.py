"""Run the engine in a child process, for the crash tests (the test SIGKILLs it, then runs it again).

    python crash_driver.py '<json config>'

config: source, db, journal_url, job, bucket, endpoint, round, upload_log, batch_size, concurrency,
lease_seconds, and optionally
- database_url (a SQLAlchemy URL: the application's table in PostgreSQL or MySQL/MariaDB; then `db`,
  the SQLite file, may be left out) and table (default engine_support.TABLE);
- kill = {"after_apply": N} (SIGKILL itself right after the N-th store.apply committed, before the
  journal hears of it) or {"after_results": N} (right after the N-th upload result reached the engine).
Every upload handed to the uploader is logged as "<round>\t<key>" in upload_log. Prints the RunReport
as JSON and exits with its exit code.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from engine_support import TABLE, Database, build_work, make_store, make_uploader

from migrate.engine import EngineSettings, run, stop_on_signals
from migrate.journal import Journal
from migrate.types import RowOutcome, RowUpdate, UploadItem, UploadResult
from migrate.work import PlannedObject


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class LoggingUploader:
    def __init__(self, inner: Any, log: Path, round_no: int, kill_after_results: int | None) -> None:
        self.inner = inner
        self.log = log.open("a", encoding="utf-8")
        self.round = round_no
        self.kill_after = kill_after_results
        self.results = 0
        self.lock = threading.Lock()

    def upload_many(
        self,
        items: Iterable[UploadItem],
        *,
        on_result: Callable[[UploadResult], None],
        stop: threading.Event | None = None,
    ) -> None:
        def logged() -> Iterator[UploadItem]:
            for item in items:
                with self.lock:
                    self.log.write(f"{self.round}\t{item.key}\n")
                    self.log.flush()
                yield item

        def result(res: UploadResult) -> None:
            on_result(res)
            with self.lock:
                self.results += 1
                if self.kill_after is not None and self.results >= self.kill_after:
                    _die()

        self.inner.upload_many(logged(), on_result=result, stop=stop)

    def head(self, key: str) -> Any:
        return self.inner.head(key)

    def delete(self, keys: Sequence[str]) -> None:
        self.inner.delete(keys)


class KillingStore:
    def __init__(self, inner: Any, kill_after_apply: int | None) -> None:
        self.inner = inner
        self.kill_after = kill_after_apply
        self.calls = 0

    def apply(self, updates: Sequence[RowUpdate]) -> list[RowOutcome]:
        outcomes: list[RowOutcome] = self.inner.apply(updates)
        self.calls += 1
        if self.kill_after is not None and self.calls >= self.kill_after:
            _die()  # committed in the database, not yet in the journal
        return outcomes

    def read(self, ids: Sequence[str]) -> Any:
        return self.inner.read(ids)


def _database(cfg: dict[str, Any]) -> Database:
    """The application's database: `database_url` when given, else the SQLite file `db`."""
    url = cfg.get("database_url")
    return str(url) if url else Path(cfg["db"])


def _table(cfg: dict[str, Any]) -> str:
    return str(cfg.get("table") or TABLE)


def _work(cfg: dict[str, Any]) -> list[PlannedObject]:
    return build_work(Path(cfg["source"]), _database(cfg), bucket=cfg["bucket"], table=_table(cfg))


def _store(cfg: dict[str, Any], kill: dict[str, Any]) -> KillingStore:
    inner = make_store(_database(cfg), table=_table(cfg))
    return KillingStore(inner, kill.get("after_apply"))


def _uploader(cfg: dict[str, Any], kill: dict[str, Any]) -> LoggingUploader:
    inner = make_uploader(bucket=cfg["bucket"], endpoint=cfg["endpoint"], concurrency=cfg.get("concurrency", 4))
    return LoggingUploader(inner, Path(cfg["upload_log"]), cfg["round"], kill.get("after_results"))


def main() -> int:
    cfg = json.loads(sys.argv[1])
    kill = cfg.get("kill") or {}
    work = _work(cfg)
    journal = Journal.open(cfg["journal_url"], cfg["job"], lease_seconds=cfg.get("lease_seconds", 600.0))
    store = _store(cfg, kill)
    uploader = _uploader(cfg, kill)
    with stop_on_signals() as stop:
        report = run(
            work,
            journal=journal,
            store=store,
            uploader=uploader,
            settings=EngineSettings(batch_size=cfg.get("batch_size", 5), heartbeat_seconds=0.5),
            stop_event=stop,
        )
    journal.close()
    print(json.dumps(report.to_json()))
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())

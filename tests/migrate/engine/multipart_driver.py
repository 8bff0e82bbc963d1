"""Run the engine in a child process on a tree with a large file, for the multipart kill tests.

    python multipart_driver.py '<json config>'

config: source, db, journal_url, job, bucket, endpoint, and optionally signal_after_parts = N with
signal = "KILL" | "TERM": the process signals itself right after the N-th part S3 accepted in this
run was recorded in the journal (parts go one at a time, so exactly N parts are sent). Prints the
RunReport as JSON and exits with its exit code.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from engine_support import build_work, make_store

from migrate.engine import EngineSettings, run, stop_on_signals
from migrate.journal import Journal
from migrate.upload import MiB, TransferSettings, Uploader


class SignallingLedger:
    """The journal as the uploader's part ledger, sending a signal after the N-th recorded part."""

    def __init__(self, journal: Journal, *, after: int | None, signum: int) -> None:
        self.journal = journal
        self.after = after
        self.signum = signum
        self.parts = 0

    def part_sent(self, upload_id: str, **kwargs: Any) -> None:
        self.journal.part_sent(upload_id, **kwargs)
        self.parts += 1
        if self.after is not None and self.parts == self.after:
            os.kill(os.getpid(), self.signum)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.journal, name)


def main() -> int:
    cfg = json.loads(sys.argv[1])
    journal = Journal.open(cfg["journal_url"], cfg["job"])
    signum = signal.SIGKILL if cfg.get("signal", "KILL") == "KILL" else signal.SIGTERM
    ledger = SignallingLedger(journal, after=cfg.get("signal_after_parts"), signum=signum)
    settings = TransferSettings(
        concurrency=2, multipart_threshold=5 * MiB, part_size=5 * MiB, part_concurrency=1, max_buffer_bytes=16 * MiB
    )
    uploader = Uploader(
        bucket=cfg["bucket"], region="us-east-1", endpoint=cfg["endpoint"], settings=settings, ledger=ledger
    )
    with stop_on_signals() as stop:
        report = run(
            build_work(Path(cfg["source"]), Path(cfg["db"]), bucket=cfg["bucket"]),
            journal=journal,
            store=make_store(Path(cfg["db"])),
            uploader=uploader,
            settings=EngineSettings(batch_size=10),
            stop_event=stop,
        )
    uploader.close()
    journal.close()
    print(json.dumps(report.to_json()))
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())

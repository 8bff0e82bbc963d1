"""A progress bar on stderr for long transfers: files/s, MB/s and ETA. Quiet when stderr is not a
terminal (CI, pipes) or with --format json; the final report goes to stdout either way.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO


class TerminalProgress:
    """The engine's progress subscriber (on_queued / on_progress / on_done, keyword arguments)."""

    def __init__(self, *, stream: TextIO | None = None, min_interval: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.min_interval = min_interval
        self.total_files = 0
        self.total_bytes = 0
        self.files = 0
        self.bytes = 0
        self.failed = 0
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._lock = threading.Lock()  # uploads settle on several threads

    def on_queued(self, **kwargs: Any) -> None:
        self.total_files = int(kwargs.get("files", 0))
        self.total_bytes = int(kwargs.get("bytes", 0))
        self.started = time.monotonic()
        self._draw(force=True)

    def on_progress(self, **kwargs: Any) -> None:
        with self._lock:
            self.files += int(kwargs.get("files", 1))
            self.bytes += int(kwargs.get("bytes", 0))
            if kwargs.get("outcome") == "failed":
                self.failed += 1
            self._draw()

    def on_done(self, **kwargs: Any) -> None:
        self._draw(force=True)
        self.stream.write("\n")
        self.stream.flush()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.files / elapsed
        mb_rate = self.bytes / elapsed / 1e6
        total = max(self.total_files, self.files)
        share = self.files / total if total else 1.0
        filled = int(share * 24)
        bar = "#" * filled + "-" * (24 - filled)
        left = (total - self.files) / rate if rate > 0 else 0.0
        failed = f", {self.failed} failed" if self.failed else ""
        return (
            f"[{bar}] {self.files:,}/{total:,} files {rate:,.0f} files/s {mb_rate:,.1f} MB/s ETA {_clock(left)}{failed}"
        )

    def _draw(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        self.stream.write("\r" + self.line() + "\033[K")
        self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return (
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        if seconds >= 3600
        else (f"{seconds // 60}:{seconds % 60:02d}")
    )


class SilentProgress:
    """The progress subscriber for CI and `--format json`: says nothing."""

    def on_queued(self, **kwargs: Any) -> None:
        pass

    def on_progress(self, **kwargs: Any) -> None:
        pass

    def on_done(self, **kwargs: Any) -> None:
        pass


def for_cli(fmt: str) -> Any:
    """The subscriber a command should use: a bar on a terminal, silence otherwise."""
    if fmt == "json" or not sys.stderr.isatty():
        return SilentProgress()
    return TerminalProgress()

"""The terminal progress bar: counts, rates and ETA from the engine's events; silent for CI."""

from __future__ import annotations

import io

from cargohold_core.progress import SilentProgress, TerminalProgress, for_cli


def test_bar_shows_counts_rate_and_eta() -> None:
    out = io.StringIO()
    bar = TerminalProgress(stream=out, min_interval=0.0)
    bar.on_queued(files=4, bytes=4_000_000)
    bar.on_progress(key="a", bytes=1_000_000, outcome="uploaded")
    bar.on_progress(key="b", bytes=0, outcome="failed")
    line = bar.line()
    assert "2/4 files" in line and "files/s" in line and "MB/s" in line and "ETA" in line
    assert "1 failed" in line and "[############------------]" in line
    bar.on_done(report=None)
    assert out.getvalue().count("\r") >= 3 and out.getvalue().endswith("\n")


def test_no_bar_when_not_on_a_terminal_or_for_json() -> None:
    # pytest captures stderr: not a terminal, so CI gets the silent subscriber
    assert isinstance(for_cli("text"), SilentProgress)
    assert isinstance(for_cli("json"), SilentProgress)

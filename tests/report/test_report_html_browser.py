"""The HTML report in a real browser (Debian's headless chromium): what a person sees, with and without JS.

The page's Content-Security-Policy admits only its own style and script by hash, and chromium logs
every violation on stderr: a clean log proves nothing from the report ran or loaded anything.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from report_samples import EVIL, LOGS, TABLE, mixed

from toolkit.findings import Report
from toolkit.report import render

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y --no-install-recommends chromium)"
)

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def browse(tmp_path: Path, r: Report, *, fragment: str = "", js: bool = True) -> tuple[str, str]:
    """The DOM after load, and chromium's log."""
    text = render(r, "html")
    if not js:
        # --dump-dom itself needs scripting, so "JS disabled" is the page without its one script.
        text, removed = re.subn(r"<script>.*?</script>", "", text, flags=re.DOTALL)
        assert removed == 1
    page = tmp_path / "report.html"
    page.write_text(text, encoding="utf-8")
    flags = [*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page.as_uri() + fragment], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


def rows(dom: str) -> list[str]:
    return re.findall(r"<tr data-severity=[^>]*>", dom)


def test_the_page_shows_every_finding_and_runs_only_its_own_script(tmp_path: Path) -> None:
    r = mixed()
    dom, log = browse(tmp_path, r)
    assert "Content Security Policy" not in log, log
    assert len(rows(dom)) == len(r.findings)
    for text in (
        LOGS,
        TABLE,
        "plain HTTP is allowed",
        "Deny s3:* when aws:SecureTransport is false.",
        "tls_only: true",
    ):
        assert html.escape(text, quote=False) in dom, text
    # The malicious resource is shown as text; it made no element and did not change the title.
    assert html.escape(EVIL, quote=False) in dom
    assert dom.count("<script") == 1 and "<img" not in dom
    assert "<title>cargohold audit: acme-lms / dev (eu-west-1)</title>" in dom
    # The script ran: the filter is shown and counts the rows.
    assert '<form id="filters">' in dom
    assert f"{len(r.findings)} of {len(r.findings)} rows shown" in dom
    assert "$4.01" in dom and "Cost estimate" in dom


def test_the_filter_hides_what_the_link_says(tmp_path: Path) -> None:
    r = mixed()
    dom, _ = browse(tmp_path, r, fragment="#hide=severity:critical,status:PASS")
    hidden = [row for row in rows(dom) if "hidden" in row]
    expected = [f for f in r.findings if f.severity.label == "critical" or f.status.value == "pass"]
    assert len(hidden) == len(expected) > 0
    assert all('data-severity="critical"' in row or 'data-status="PASS"' in row for row in hidden)
    assert f"{len(r.findings) - len(expected)} of {len(r.findings)} rows shown" in dom


def test_without_javascript_everything_is_shown(tmp_path: Path) -> None:
    r = mixed()
    dom, _ = browse(tmp_path, r, fragment="#hide=severity:critical", js=False)
    assert '<form id="filters" hidden="">' in dom  # controls that would do nothing stay out of sight
    assert len(rows(dom)) == len(r.findings) and not any("hidden" in row for row in rows(dom))


def test_screenshot_renders(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render(mixed(), "html"), encoding="utf-8")
    shot = tmp_path / "report.png"
    assert CHROMIUM is not None
    subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1280,1600",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a blank page is a few kB

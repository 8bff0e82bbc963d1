"""Render a `Report` in every output format; write it to stdout or a file.

Each format lives in its own module with one `render(report) -> str` function.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cargohold_core.errors import CargoholdError
from toolkit.findings import Report

REPORT_FORMATS = ("text", "json", "sarif", "junit", "markdown", "html", "asff", "ocsf")


def render(report: Report, fmt: str) -> str:
    if fmt not in REPORT_FORMATS:
        raise CargoholdError(f"unknown report format {fmt!r}", hint=f"use one of {', '.join(REPORT_FORMATS)}")
    from toolkit.report import (
        asff_format,
        html_format,
        json_format,
        junit_format,
        markdown_format,
        ocsf_format,
        sarif_format,
        text_format,
    )

    renderers = {
        "text": text_format.render,
        "json": json_format.render,
        "sarif": sarif_format.render,
        "junit": junit_format.render,
        "markdown": markdown_format.render,
        "html": html_format.render,
        "asff": asff_format.render,
        "ocsf": ocsf_format.render,
    }
    return renderers[fmt](report)


def publish(report: Report, *, fmt: str, output: Path | None) -> None:
    """Write the rendered report to `output` (atomically) or to stdout."""
    text = render(report, fmt)
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
        return
    tmp = output.with_name(f".{output.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(output)  # atomic: a reader never sees half a report
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CargoholdError(
            f"cannot write the report to {output}: {exc.strerror}", hint="pass --output in an existing, writable folder"
        ) from None

"""The versioned JSON report (`schema_version`); `--since` reads it back.

Its shape is documented as a JSON Schema in report.schema.json next to this file; a test holds
the output to it. Adding a key is a minor version, changing or removing one a major version.
"""

from __future__ import annotations

import json
from pathlib import Path

from toolkit.findings import Report

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")


def render(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, default=str) + "\n"

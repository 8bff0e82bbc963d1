"""Results go to stdout (text for people, JSON for machines); logs and progress go to stderr."""

from __future__ import annotations

import json
from typing import Any

import click

FORMATS = ("text", "json")


def emit(result: Any, *, fmt: str, text: str | None = None) -> None:
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, default=str))
    elif text is not None:
        click.echo(text)

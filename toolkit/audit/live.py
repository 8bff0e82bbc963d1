"""Parsers of AWS API answers shared by drift (live -> desired-state terms) and discover (live -> config
terms), so both read a setting the same way."""

from __future__ import annotations

from typing import Any

from cargohold_core.aws import tag_dict


def lifecycle_scope(rule: dict[str, Any]) -> tuple[str | None, dict[str, str], int | None, int | None]:
    """What a lifecycle rule applies to: (prefix, tags, larger than, smaller than), however S3 spells it
    (`Filter` with one condition or several in `And`, a single `Tag`, or the legacy rule-level `Prefix`)."""
    filt = rule.get("Filter") or {}
    scope = filt.get("And") or filt
    prefix = scope.get("Prefix", rule.get("Prefix")) or None
    tags = tag_dict(scope.get("Tags"))
    if "Tag" in filt:
        tags.update(tag_dict([filt["Tag"]]))
    sizes = [scope.get(k) for k in ("ObjectSizeGreaterThan", "ObjectSizeLessThan")]
    larger, smaller = (int(v) if v is not None else None for v in sizes)
    return prefix, dict(sorted(tags.items())), larger, smaller

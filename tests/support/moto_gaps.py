"""What moto cannot hold, for tests that compare a live emulated account with the desired-state model.

moto drops a lifecycle rule's NoncurrentVersionExpiration.NewerNoncurrentVersions (real S3 keeps it), so
drift on a bucket that sets `newer_noncurrent_versions` (examples/lms-materials) reports its lifecycle.
Tests accept that finding only when it is this difference and nothing else."""

from __future__ import annotations

from typing import Any


def only_the_lifecycle_gap(expected: Any, actual: Any) -> bool:
    """Whether a drift.changed finding's expected/actual differ only in what moto drops."""
    if not isinstance(expected, dict) or not isinstance(actual, dict) or set(expected) != {"lifecycle"}:
        return False

    def without(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "newer_noncurrent_versions"} for r in rules]

    dropped = any(r.get("newer_noncurrent_versions") for r in expected["lifecycle"]) and not any(
        r.get("newer_noncurrent_versions") for r in actual.get("lifecycle") or []
    )
    return dropped and without(expected["lifecycle"]) == without(actual.get("lifecycle") or [])

"""What moto gets wrong, in one place for the tests that compare an emulated account with what was asked.

With IAM enforcement on, moto 5.2 authorises an S3 call under its operation's name (s3:ListBuckets,
s3:ListObjectsV2, s3:HeadObject) where AWS checks the IAM action (s3:ListAllMyBuckets, s3:ListBucket,
s3:GetObject). A test that grants one of those actions grants it under both names (`S3_ACTION_ALIASES`).

moto drops a lifecycle rule's NoncurrentVersionExpiration.NewerNoncurrentVersions (real S3 keeps it). So on
a bucket that sets `newer_noncurrent_versions` (examples/lms-materials) every plan proposes to set it again,
and drift reports the bucket's lifecycle. Tests accept exactly that difference and nothing else.

moto 5.2 also keeps only part of a replication rule: DeleteMarkerReplication reads back Disabled, and
SourceSelectionCriteria (SSE-KMS objects, replica modifications) is dropped; Destination (replica key,
Replication Time Control, metrics) is kept. So a rule that turns those on (tests/fixtures/dr) is planned
again after every apply and reported by drift, that difference and nothing else. moto replicates no
objects at all (nothing arrives in the destination), in any region."""

from __future__ import annotations

from typing import Any

# IAM action (what AWS checks) -> the operation name moto 5.2 checks instead.
S3_ACTION_ALIASES = {
    "s3:ListAllMyBuckets": "s3:ListBuckets",
    "s3:ListBucket": "s3:ListObjectsV2",
    "s3:GetObject": "s3:HeadObject",
}

DROPPED = "newer_noncurrent_versions"  # the desired-state model's name for the field moto drops

# What moto drops of a replication rule: desired-state fields (desired.replication_state), read back False.
REPLICATION_DROPPED = ("delete_marker_replication", "sse_kms_encrypted_objects", "replica_modifications")

# The plan's side of it, per shipped example: (resource address, attribute) a plan shows as a change.
PLAN_GAPS = {
    "dr": {
        (
            'module.buckets["contracts"].aws_s3_bucket_replication_configuration.this[0]',
            "rule[0].delete_marker_replication[0].status",
        ),
        (
            'module.buckets["contracts"].aws_s3_bucket_replication_configuration.this[0]',
            "rule[0].source_selection_criteria",
        ),
    },
    "lms-materials": {
        (
            'module.buckets["materials"].aws_s3_bucket_lifecycle_configuration.this[0]',
            "rule[1].noncurrent_version_expiration[0].newer_noncurrent_versions",
        )
    }
}


def without_the_gap(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lifecycle rules in desired-state terms, without the field moto drops."""
    return [{k: v for k, v in r.items() if k != DROPPED} for r in rules]


def only_the_lifecycle_gap(expected: Any, actual: Any) -> bool:
    """Whether a drift.changed finding's expected/actual differ only in what moto drops."""
    if not isinstance(expected, dict) or not isinstance(actual, dict) or set(expected) != {"lifecycle"}:
        return False

    live = actual.get("lifecycle") or []
    dropped = any(r.get(DROPPED) for r in expected["lifecycle"]) and not any(r.get(DROPPED) for r in live)
    return dropped and without_the_gap(expected["lifecycle"]) == without_the_gap(live)


def only_the_replication_gap(expected: Any, actual: Any) -> bool:
    """Whether a drift.changed finding's expected/actual differ only in what moto drops of a replication rule."""
    if not isinstance(expected, dict) or not isinstance(actual, dict) or set(expected) != {"replication"}:
        return False
    want, live = expected["replication"], actual.get("replication")
    if not isinstance(want, dict) or not isinstance(live, dict):
        return False
    dropped = [k for k in REPLICATION_DROPPED if want.get(k) and not live.get(k)]
    rest = [k for k in want if k not in REPLICATION_DROPPED]
    return bool(dropped) and all(want[k] == live.get(k) for k in rest)


def only_moto_gaps(expected: Any, actual: Any) -> bool:
    """Whether a drift.changed finding is one of moto's known gaps (lifecycle or replication) and nothing else."""
    return only_the_lifecycle_gap(expected, actual) or only_the_replication_gap(expected, actual)

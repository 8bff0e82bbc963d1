"""The desired state of each resource, in the terms AWS reports it.

The audit compares the live account with this; the offline stack evaluation compares what the
Terraform code would create with this. Both therefore test the same single model.
"""

from __future__ import annotations

from typing import Any

from cargohold_core.config.model import Bucket, Environment, Principal, Table, trust_document
from cargohold_core.config.render import access_log_target, replication_rule
from cargohold_core.config.schema import TableSpec

KEY_TAG = "cargohold:key"  # the config key of the resource, on every resource the stack creates
_SSE = {"sse-s3": "AES256", "sse-kms": "aws:kms"}
_BILLING = {"on-demand": "PAY_PER_REQUEST", "provisioned": "PROVISIONED"}


def desired_state(env: Environment) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        "buckets": {key: bucket_state(b, env) for key, b in env.buckets.items()},
        "tables": {key: table_state(t, env) for key, t in env.tables.items()},
        "principals": {key: principal_state(p, env) for key, p in env.principals.items()},
    }


def bucket_state(bucket: Bucket, env: Environment) -> dict[str, Any]:
    s = bucket.spec
    public = s.public_read_prefix is not None
    return {
        "name": bucket.name,
        "region": bucket.region,
        "versioning": "Enabled" if s.versioning or s.object_lock else None,
        "encryption": {
            "algorithm": _SSE[s.encryption.type],
            "kms_key_arn": s.encryption.kms_key_arn,
            "bucket_key": s.encryption.bucket_key if s.encryption.type == "sse-kms" else None,
        },
        "ownership": "BucketOwnerEnforced",
        "public_access_block": {
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": not public,
            "RestrictPublicBuckets": not public,
        },
        "public_read_prefix": s.public_read_prefix,
        "tls_only": s.tls_only,
        "min_tls_version": s.min_tls_version if s.tls_only else None,  # written by the TLS-only policy
        "lifecycle": [
            {
                "id": r.id,
                "status": "Enabled" if r.enabled else "Disabled",
                "filter": lifecycle_filter(r.prefix, r.tags, r.object_size_greater_than, r.object_size_less_than),
                # Sets in the provider (S3 keeps no order): compared sorted by age.
                "transitions": sorted((t.days, t.storage_class) for t in r.transitions),
                "expiration_days": r.expiration_days,
                "noncurrent_transitions": sorted((t.days, t.storage_class) for t in r.noncurrent_transitions),
                "noncurrent_expiration_days": r.noncurrent_expiration_days,
                "newer_noncurrent_versions": r.newer_noncurrent_versions if r.noncurrent_expiration_days else None,
                "abort_incomplete_multipart_days": r.abort_incomplete_multipart_days,
            }
            for r in s.lifecycle
        ],
        # Sets, in S3 and in the provider: compared in sorted order.
        "cors": [
            {
                "AllowedOrigins": sorted(c.allowed_origins),
                "AllowedMethods": sorted(c.allowed_methods),
                "AllowedHeaders": sorted(c.allowed_headers),
                "ExposeHeaders": sorted(c.expose_headers),
                "MaxAgeSeconds": c.max_age_seconds,
            }
            for c in s.cors
        ],
        "logging": access_log_target(bucket, env),
        "replication": replication_state(bucket, env),
        "object_lock": s.object_lock.model_dump() if s.object_lock else None,
        "tags": resource_tags(env, bucket.key),
    }


def replication_role_arn(bucket: Bucket, env: Environment) -> str | None:
    """The role S3 assumes to replicate the bucket: `role_arn` when config.yaml brings one, else the role
    the s3-bucket module makes for it (named `s3rep-` and the bucket's name, cut to IAM's 64 characters)."""
    rule = bucket.spec.replication
    if rule is None:
        return None
    return rule.role_arn or f"arn:aws:iam::{env.account}:role/s3rep-{bucket.name[:58]}"


def replication_state(bucket: Bucket, env: Environment) -> dict[str, Any] | None:
    """The one replication rule, in S3's terms (None: no replication)."""
    rule = replication_rule(bucket, env)
    if rule is None:
        return None
    return {
        "destination": rule["destination_bucket_arn"],
        "role": replication_role_arn(bucket, env),
        "prefix": rule["prefix"] or None,
        "storage_class": rule["storage_class"],
        "replica_kms_key_arn": rule["replica_kms_key_arn"],
        "sse_kms_encrypted_objects": rule["replica_kms_key_arn"] is not None,
        "delete_marker_replication": rule["delete_marker_replication"],
        "replication_time": rule["replication_time"],
        "metrics": rule["metrics"],
        "replica_modifications": rule["replica_modifications"],
    }


def resource_tags(env: Environment, key: str) -> dict[str, str]:
    """Every tag the resource carries: the environment's `tags:`, then the three the provider adds to
    all (default_tags), then its config key (the resource's own tag)."""
    tags = {**env.tags, "Project": env.project, "Environment": env.name, "ManagedBy": "cargohold", KEY_TAG: key}
    return dict(sorted(tags.items()))


def table_state(table: Table, env: Environment) -> dict[str, Any]:
    s = table.spec
    return {
        "name": table.name,
        "region": table.region,
        "hash_key": s.hash_key.model_dump(),
        "range_key": s.range_key.model_dump() if s.range_key else None,
        "billing_mode": _BILLING[s.billing],
        "point_in_time_recovery": s.point_in_time_recovery,
        "ttl_attribute": s.ttl_attribute,
        "deletion_protection": s.deletion_protection,
        "sse": s.encryption.type,
        "stream_view_type": s.stream,
        "table_class": s.table_class,
        "global_indexes": sorted(
            (
                index_state(
                    g.name,
                    g.hash_key.model_dump(),
                    g.range_key.model_dump() if g.range_key else None,
                    g.projection,
                    g.non_key_attributes,
                )
                for g in s.global_indexes
            ),
            key=lambda ix: str(ix["name"]),
        ),
        "local_indexes": sorted(
            (
                index_state(
                    ix.name, s.hash_key.model_dump(), ix.range_key.model_dump(), ix.projection, ix.non_key_attributes
                )
                for ix in s.local_indexes
            ),
            key=lambda ix: str(ix["name"]),
        ),
        "autoscaling": autoscaling_state(s),
        "tags": resource_tags(env, table.key),
    }


def autoscaling_state(spec: TableSpec) -> dict[str, dict[str, dict[str, Any]]]:
    """What Application Auto Scaling holds for a provisioned table: per scaled resource ("table", or
    "index/NAME" for a global index with its own `autoscaling`) and dimension (read, write), the scalable
    target's bounds and its target-tracking policy's utilisation. Empty when nothing is autoscaled."""
    if spec.billing != "provisioned":
        return {}
    scaled = [("table", spec.autoscaling)] + [(f"index/{g.name}", g.autoscaling) for g in spec.global_indexes]
    return {
        scope: {
            "read": {"min": a.min_read, "max": a.max_read, "target": a.target_utilization},
            "write": {"min": a.min_write, "max": a.max_write, "target": a.target_utilization},
        }
        for scope, a in scaled
        if a is not None
    }


def lifecycle_filter(
    prefix: str | None, tags: dict[str, str], larger_than: int | None, smaller_than: int | None
) -> dict[str, Any]:
    """What a lifecycle rule applies to, the same however it is written (S3 nests several conditions in
    And; an empty prefix is no prefix)."""
    return {
        "prefix": prefix or None,
        "tags": dict(sorted(tags.items())),
        "object_size_greater_than": larger_than,
        "object_size_less_than": smaller_than,
    }


def index_state(
    name: str, hash_key: dict[str, Any], range_key: dict[str, Any] | None, projection: str, attributes: list[str]
) -> dict[str, Any]:
    """A secondary index as a whole: its keys and what it projects."""
    return {
        "name": name,
        "hash_key": hash_key,
        "range_key": range_key,
        "projection": projection,
        "non_key_attributes": sorted(attributes) if projection == "INCLUDE" else [],
    }


def principal_state(principal: Principal, env: Environment) -> dict[str, Any]:
    return {
        "name": principal.name,
        "kind": principal.spec.kind,
        "arn": principal.arn,
        "policy": principal.policy,
        "trust_policy": trust_state(trust_document(principal.spec)),
        "permissions_boundary_arn": principal.spec.permissions_boundary_arn,
        "tags": resource_tags(env, principal.key),
    }


def trust_state(document: dict[str, Any] | None) -> dict[str, Any] | None:
    """A trust policy as IAM compares it: the principals of each kind are a set (compared sorted)."""
    if document is None:
        return None
    statements = []
    for statement in document.get("Statement") or []:
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            as_lists = {k: v if isinstance(v, list) else [v] for k, v in principal.items()}
            statement = {**statement, "Principal": {k: sorted(map(str, v)) for k, v in as_lists.items()}}
        statements.append(statement)
    return {**document, "Statement": statements}

"""Render an environment as the root stack's variables, and list the resources the stack declares.

The variables spell out every field (checkov reads var-files literally and does not apply the
modules' optional() defaults). `declared_resources` predicts the stack's resource addresses offline;
a test evaluates the real stack (tfparse) and asserts that both agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cargohold_core.config.model import Bucket, Environment, Principal, Table
from cargohold_core.config.schema import KeyAttribute, partition_of

_BILLING = {"on-demand": "PAY_PER_REQUEST", "provisioned": "PROVISIONED"}


def tfvars(env: Environment) -> dict[str, Any]:
    return {
        "project": env.project,
        "environment": env.name,
        "region": env.region,
        "account_id": env.account,
        "partition": partition_of(env.region),
        "endpoint": env.endpoint,
        "profile": env.spec.profile,
        "assume_role": _assume_role(env),
        "tags": {k: v for k, v in env.tags.items() if k not in ("Project", "Environment", "ManagedBy")},
        "buckets": {key: _bucket(b, env) for key, b in env.buckets.items()},
        "tables": {key: _table(t) for key, t in env.tables.items()},
        "principals": {key: _principal(p) for key, p in env.principals.items()},
    }


def _assume_role(env: Environment) -> dict[str, Any] | None:
    role = env.spec.assume_role
    if role is None:
        return None
    return {
        "role_arn": role.role_arn,
        "external_id": role.external_id,
        "session_name": role.session_name,
        "duration": f"{role.duration}s",
    }


def access_log_target(bucket: Bucket, env: Environment) -> dict[str, str] | None:
    """Where the bucket's server access logs go (a target given by its key in this config resolved to its
    AWS name), or None when logging is off."""
    logging = bucket.spec.access_logging
    if logging is None:
        return None
    target = logging.target_bucket
    return {
        "target_bucket": env.buckets[target].name if target in env.buckets else target,
        "target_prefix": logging.target_prefix,
    }


def replication_rule(bucket: Bucket, env: Environment) -> dict[str, Any] | None:
    """The bucket's replication as the s3-bucket module takes it: the destination resolved to its ARN (a
    bucket key of this config to that bucket's name), metrics on when Replication Time Control is (S3
    requires them), or None when off."""
    r = bucket.spec.replication
    if r is None:
        return None
    target = env.buckets.get(r.destination_bucket or "")
    return {
        # load resolves a destination key to its ARN; resolved again here for an Environment made by hand
        "destination_bucket_arn": r.destination_bucket_arn or (target.arn if target else None),
        "storage_class": r.storage_class,
        "prefix": r.prefix,
        "replica_kms_key_arn": r.replica_kms_key_arn,
        "role_arn": r.role_arn,
        "delete_marker_replication": r.delete_marker_replication,
        "replication_time": r.replication_time,
        "metrics": r.metrics or r.replication_time,
        "replica_modifications": r.replica_modifications,
    }


def _bucket(bucket: Bucket, env: Environment) -> dict[str, Any]:
    s = bucket.spec
    return {
        "name": bucket.name,
        "region": bucket.region,
        "force_destroy": s.force_destroy,
        "versioning": s.versioning,
        "encryption": s.encryption.model_dump(),
        "lifecycle_rules": [
            {
                "id": r.id,
                "enabled": r.enabled,
                "prefix": r.prefix,
                "tags": dict(r.tags),
                "object_size_greater_than": r.object_size_greater_than,
                "object_size_less_than": r.object_size_less_than,
                "transitions": [t.model_dump() for t in r.transitions],
                "expiration_days": r.expiration_days,
                "noncurrent_transitions": [t.model_dump() for t in r.noncurrent_transitions],
                "noncurrent_expiration_days": r.noncurrent_expiration_days,
                "newer_noncurrent_versions": r.newer_noncurrent_versions,
                "abort_incomplete_multipart_days": r.abort_incomplete_multipart_days,
            }
            for r in s.lifecycle
        ],
        "cors_rules": [c.model_dump() for c in s.cors],
        "public_read_prefix": s.public_read_prefix,
        "tls_only": s.tls_only,
        "min_tls_version": s.min_tls_version,
        "deny_unencrypted_uploads": s.deny_unencrypted_uploads,
        "access_logging": access_log_target(bucket, env),
        "replication": replication_rule(bucket, env),
        "object_lock": s.object_lock.model_dump() if s.object_lock else None,
        "intelligent_tiering": s.intelligent_tiering.model_dump() if s.intelligent_tiering else None,
    }


def _key(attribute: KeyAttribute | None) -> dict[str, str] | None:
    return attribute.model_dump() if attribute else None


def _table(table: Table) -> dict[str, Any]:
    s = table.spec
    return {
        "name": table.name,
        "region": table.region,
        "hash_key": _key(s.hash_key),
        "range_key": _key(s.range_key),
        "billing_mode": _BILLING[s.billing],
        "read_capacity": s.capacity.read if s.capacity else None,
        "write_capacity": s.capacity.write if s.capacity else None,
        "autoscaling": s.autoscaling.model_dump() if s.autoscaling else None,
        "global_secondary_indexes": [
            {
                "name": g.name,
                "hash_key": _key(g.hash_key),
                "range_key": _key(g.range_key),
                "projection_type": g.projection,
                "non_key_attributes": list(g.non_key_attributes),
                "read_capacity": g.capacity.read if g.capacity else None,
                "write_capacity": g.capacity.write if g.capacity else None,
                "autoscaling": g.autoscaling.model_dump() if g.autoscaling else None,
            }
            for g in s.global_indexes
        ],
        "local_secondary_indexes": [
            {
                "name": ix.name,
                "range_key": _key(ix.range_key),
                "projection_type": ix.projection,
                "non_key_attributes": list(ix.non_key_attributes),
            }
            for ix in s.local_indexes
        ],
        "point_in_time_recovery": s.point_in_time_recovery,
        "ttl_attribute": s.ttl_attribute,
        "encryption": s.encryption.model_dump(),
        "stream_view_type": s.stream,
        "deletion_protection": s.deletion_protection,
        "table_class": s.table_class,
    }


def _principal(principal: Principal) -> dict[str, Any]:
    s = principal.spec
    return {
        "name": principal.name,
        "kind": s.kind,
        "path": s.path,
        "assume_role_services": list(s.assume_role_services),
        "assume_role_arns": list(s.assume_role_arns),
        "assume_role_external_id": s.assume_role_external_id,
        "permissions_boundary_arn": s.permissions_boundary_arn,
        "grants": [
            {
                "bucket": g.bucket,
                "table": g.table,
                "prefix": g.prefix,
                "actions": list(g.actions),
                "kms_key_arn": g.kms_key_arn,
                "client_side_encryption": g.client_side_encryption,
            }
            for g in s.grants
        ],
    }


# ---------------------------------------------------------------- declared resources


@dataclass(frozen=True)
class DeclaredResource:
    address: str
    type: str
    kind: str  # bucket | table | principal
    key: str  # the logical key in config.yaml
    name: str  # the AWS name of the bucket/table/principal it belongs to
    region: str | None = None  # where a regional resource lives (its bucket's or table's); None for IAM

    def to_json(self) -> dict[str, str]:
        return {"address": self.address, "type": self.type, "kind": self.kind, "key": self.key, "name": self.name}


def declared_resources(env: Environment) -> list[DeclaredResource]:
    """Every resource the root stack declares for `env`, as Terraform will address it."""
    out: list[DeclaredResource] = []
    for key, bucket in env.buckets.items():
        out += [
            DeclaredResource(
                f'module.buckets["{key}"].{addr}',
                addr.split(".")[0],
                "bucket",
                key,
                bucket.name,
                None if addr.startswith("aws_iam_") else bucket.region,
            )
            for addr in _bucket_addresses(bucket, env)
        ]
    for key, table in env.tables.items():
        out += [
            DeclaredResource(
                f'module.tables["{key}"].{addr}', addr.split(".")[0], "table", key, table.name, table.region
            )
            for addr in _table_addresses(table)
        ]
    for key, principal in env.principals.items():
        out += [
            DeclaredResource(f'module.principals["{key}"].{addr}', addr.split(".")[0], "principal", key, principal.name)
            for addr in _principal_addresses(principal)
        ]
    return out


def _bucket_addresses(bucket: Bucket, env: Environment) -> list[str]:
    s = bucket.spec
    addresses = [
        "aws_s3_bucket.this",
        "aws_s3_bucket_ownership_controls.this",
        "aws_s3_bucket_public_access_block.this",
        "aws_s3_bucket_server_side_encryption_configuration.this",
    ]
    logged_into = any(
        b.spec.access_logging and b.spec.access_logging.target_bucket in (bucket.key, bucket.name)
        for b in env.buckets.values()
    )
    optional = {
        # the module writes a policy only when it has a statement for it
        "aws_s3_bucket_policy.this[0]": (
            s.tls_only or s.deny_unencrypted_uploads or s.public_read_prefix is not None or logged_into
        ),
        "aws_s3_bucket_versioning.this[0]": s.versioning or s.object_lock is not None,
        "aws_s3_bucket_lifecycle_configuration.this[0]": bool(s.lifecycle),
        "aws_s3_bucket_cors_configuration.this[0]": bool(s.cors),
        "aws_s3_bucket_logging.this[0]": s.access_logging is not None,
        "aws_s3_bucket_replication_configuration.this[0]": s.replication is not None,
        # a role of the user's own (`role_arn`) replaces the generated one
        "aws_iam_role.replication[0]": s.replication is not None and s.replication.role_arn is None,
        "aws_iam_role_policy.replication[0]": s.replication is not None and s.replication.role_arn is None,
        "aws_s3_bucket_object_lock_configuration.this[0]": s.object_lock is not None,
        "aws_s3_bucket_intelligent_tiering_configuration.this[0]": s.intelligent_tiering is not None,
    }
    return addresses + [address for address, wanted in optional.items() if wanted]


def _table_addresses(table: Table) -> list[str]:
    s = table.spec
    addresses = ["aws_dynamodb_table.this"]
    if s.billing == "provisioned" and s.autoscaling is not None:
        addresses += [
            "aws_appautoscaling_target.read[0]",
            "aws_appautoscaling_target.write[0]",
            "aws_appautoscaling_policy.read[0]",
            "aws_appautoscaling_policy.write[0]",
        ]
    if s.billing == "provisioned":
        for g in s.global_indexes:
            if g.autoscaling is not None:
                addresses += [
                    f'aws_appautoscaling_target.index_read["{g.name}"]',
                    f'aws_appautoscaling_target.index_write["{g.name}"]',
                    f'aws_appautoscaling_policy.index_read["{g.name}"]',
                    f'aws_appautoscaling_policy.index_write["{g.name}"]',
                ]
    return addresses


def _principal_addresses(principal: Principal) -> list[str]:
    if principal.spec.kind == "user":
        return [
            "aws_iam_policy.this",
            "aws_iam_user.this[0]",
            "aws_iam_group.this[0]",
            "aws_iam_group_policy_attachment.this[0]",
            "aws_iam_user_group_membership.this[0]",
        ]
    return ["aws_iam_policy.this", "aws_iam_role.this[0]", "aws_iam_role_policy_attachment.this[0]"]

"""Each declared resource's key settings in a few readable lines, for `cargohold preview`: what the stack
will make, not only its addresses (a table's keys and indexes, a bucket's encryption, versioning, lifecycle
and CORS, a principal's policy actions). Derived from the same resolved config the stack is rendered from."""

from __future__ import annotations

from typing import Any

from cargohold_core.config.model import Bucket, Environment, Principal, Table
from cargohold_core.config.schema import KeyAttribute

_SSE = {"sse-s3": "SSE-S3 (AES256)", "sse-kms": "SSE-KMS"}


def resource_settings(env: Environment) -> dict[str, dict[str, list[str]]]:
    return {
        "buckets": {key: bucket_settings(b) for key, b in env.buckets.items()},
        "tables": {key: table_settings(t) for key, t in env.tables.items()},
        "principals": {key: principal_settings(p) for key, p in env.principals.items()},
    }


def bucket_settings(bucket: Bucket) -> list[str]:
    s = bucket.spec
    encryption = _SSE[s.encryption.type]
    if s.encryption.type == "sse-kms":
        encryption += f" with {s.encryption.kms_key_arn or 'the AWS managed aws/s3 key'}"
        encryption += ", bucket key" if s.encryption.bucket_key else ", no bucket key"
    access = "ACLs disabled; public access blocked"
    if s.public_read_prefix is not None:
        access = f"ACLs disabled; anonymous GetObject under {s.public_read_prefix!r} only"
    policy = [f"TLS only (>= {s.min_tls_version})" if s.tls_only else "TLS-only policy OFF"]
    if s.deny_unencrypted_uploads:
        policy.append("uploads asking for another encryption denied")
    out = [
        f"encryption: {encryption}",
        f"versioning: {'on' if s.versioning or s.object_lock else 'off'}"
        + (f"; object lock {s.object_lock.mode} {s.object_lock.days} d" if s.object_lock else ""),
        f"access: {access}; {'; '.join(policy)}",
    ]
    for rule in s.lifecycle:
        out.append(f"lifecycle {rule.id}: {_lifecycle(rule)}" + ("" if rule.enabled else " (disabled)"))
    for cors in s.cors:
        out.append(f"CORS: {','.join(cors.allowed_methods)} from {', '.join(cors.allowed_origins)}")
    if s.access_logging is not None:
        out.append(f"access logs -> {s.access_logging.target_bucket}/{s.access_logging.target_prefix}")
    if s.replication is not None:
        r = s.replication
        options: list[str] = [r.storage_class]
        options += [
            words
            for wanted, words in (
                (r.delete_marker_replication, "delete markers"),
                (r.replication_time, "RTC 15 min"),
                (r.metrics and not r.replication_time, "metrics"),
                (r.replica_modifications, "replica modifications"),
                (r.replica_kms_key_arn is not None, f"replicas encrypted with {r.replica_kms_key_arn}"),
                (r.role_arn is not None, f"role {r.role_arn}"),
            )
            if wanted
        ]
        out.append(f"replication -> {r.destination_bucket_arn} ({', '.join(options)})")
    if s.intelligent_tiering is not None:
        tiers = s.intelligent_tiering
        out.append(
            "intelligent tiering: "
            + ", ".join(
                f"{name} after {days} d"
                for name, days in (
                    ("archive", tiers.archive_access_days),
                    ("deep archive", tiers.deep_archive_access_days),
                )
                if days is not None
            )
        )
    if s.force_destroy:
        out.append("force_destroy: destroy deletes its objects")
    return out


def _lifecycle(rule: Any) -> str:
    scope = f"under {rule.prefix!r}" if rule.prefix else "whole bucket"
    actions = [f"{t.storage_class} at {t.days} d" for t in rule.transitions]
    if rule.expiration_days is not None:
        actions.append(f"expire at {rule.expiration_days} d")
    actions += [f"noncurrent {t.storage_class} at {t.days} d" for t in rule.noncurrent_transitions]
    if rule.noncurrent_expiration_days is not None:
        actions.append(f"noncurrent expire at {rule.noncurrent_expiration_days} d")
    if rule.abort_incomplete_multipart_days is not None:
        actions.append(f"abort multipart at {rule.abort_incomplete_multipart_days} d")
    return f"{scope}: {', '.join(actions)}"


def _key(k: KeyAttribute) -> str:
    return f"{k.name} ({k.type})"


def table_settings(table: Table) -> list[str]:
    s = table.spec
    keys = _key(s.hash_key) + (f" / {_key(s.range_key)}" if s.range_key else "")
    billing = "on-demand"
    if s.billing == "provisioned" and s.capacity is not None:
        billing = f"provisioned {s.capacity.read} RCU / {s.capacity.write} WCU"
    if s.autoscaling is not None:
        billing += _scaling(s.autoscaling)
    out = [
        f"keys: {keys}",
        f"billing: {billing}",
        f"point-in-time recovery: {'on' if s.point_in_time_recovery else 'off'}; "
        f"deletion protection: {'on' if s.deletion_protection else 'off'}; encryption: {s.encryption.type}",
    ]
    for g in s.global_indexes:
        out.append(
            f"GSI {g.name}: {_key(g.hash_key)}"
            + (f" / {_key(g.range_key)}" if g.range_key else "")
            + _projected(g)
            + (_scaling(g.autoscaling) if g.autoscaling is not None and s.billing == "provisioned" else "")
        )
    for ix in s.local_indexes:
        out.append(f"LSI {ix.name}: {_key(s.hash_key)} / {_key(ix.range_key)}" + _projected(ix))
    if s.ttl_attribute:
        out.append(f"TTL on {s.ttl_attribute}")
    if s.stream:
        out.append(f"stream: {s.stream}")
    return out


def _scaling(a: Any) -> str:
    return f", autoscaling read {a.min_read}-{a.max_read}, write {a.min_write}-{a.max_write} at {a.target_utilization}%"


def _projected(index: Any) -> str:
    if index.projection == "INCLUDE":
        return f", projects {', '.join(index.non_key_attributes)}"
    return f", projects {index.projection}"


def principal_settings(principal: Principal) -> list[str]:
    spec = principal.spec
    out = [f"{spec.kind} {principal.arn}"]
    if spec.kind == "role":
        callers = ", ".join(spec.assume_role_services + spec.assume_role_arns) or "nobody yet"
        # The external id is not a secret to AWS, but is often kept as one: never echoed.
        out.append(f"assumable by: {callers}" + (" (external id set)" if spec.assume_role_external_id else ""))
        account = principal.arn.split(":")[4]
        others = sorted({a.split(":")[4] for a in spec.assume_role_arns} - {account})
        if others and spec.assume_role_external_id is None:
            out.append(
                f"note: {'account' if len(others) == 1 else 'accounts'} {', '.join(others)} may assume it "
                "without an external id "
                "(the audit's iam.role-trust-cross-account fails it; set assume_role_external_id)"
            )
    account = principal.arn.split(":")[4]
    for statement in principal.policy["Statement"]:  # model._statement: Allow, lists of actions and resources
        line = f"{statement['Effect']} {', '.join(statement['Action'])} on {', '.join(statement['Resource'])}"
        via = statement.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")
        out.append(line + (f" through {via}" if via else ""))
        key_accounts = {r.split(":")[4] for r in statement["Resource"] if r.startswith("arn:") and ":kms:" in r}
        if key_accounts - {account}:
            out.append(
                f"note: the key is in account {', '.join(sorted(key_accounts - {account}))}: its key policy must allow "
                "this principal too (terraform/modules/iam-principal/README.md, 'The key policy side')"
            )
    if spec.permissions_boundary_arn:
        out.append(f"permissions boundary: {spec.permissions_boundary_arn}")
    return out

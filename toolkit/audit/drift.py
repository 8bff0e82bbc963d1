"""Drift: every resource config.yaml declares, compared attribute by attribute with the live one.

Both sides are put in the terms of `cargohold_core.config.desired` (the same model the offline Terraform
evaluation is tested against), so "expected" is exactly what `cargohold apply` would make.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from cargohold_core.config import names
from cargohold_core.config.desired import bucket_state, index_state, lifecycle_filter, principal_state, table_state
from cargohold_core.config.model import Bucket, Environment, Principal, Project, Table
from toolkit.audit import policy
from toolkit.audit.fetch import CannotRead
from toolkit.audit.inventory import BucketInfo, Inventory, PrincipalInfo, TableInfo
from toolkit.audit.live import lifecycle_scope
from toolkit.findings import Finding, define, errored, failed, passed

_SEE = "Run `cargohold plan --env ENV` to see the change Terraform would make, then `cargohold apply`."

MISSING = define(
    id="drift.missing",
    title="A resource config.yaml declares exists in the account",
    category="drift",
    service="account",
    severity="high",
    permissions=["s3:ListAllMyBuckets", "dynamodb:ListTables", "iam:GetAccountAuthorizationDetails"],
    remediation="Create it with `cargohold plan` and `cargohold apply`, or, if it was renamed or deleted on "
    "purpose, remove it from config.yaml.",
    config_fix="# remove the resource from config.yaml, or set `name:` to the name it really has",
    security_hub=[],
    checkov=[],
)
CHANGED = define(
    id="drift.changed",
    title="A declared resource's live settings match config.yaml",
    category="drift",
    service="account",
    severity="medium",
    permissions=[
        "s3:GetBucketVersioning",
        "s3:GetEncryptionConfiguration",
        "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketOwnershipControls",
        "s3:GetBucketPolicy",
        "s3:GetLifecycleConfiguration",
        "s3:GetBucketCORS",
        "s3:GetBucketLogging",
        "s3:GetReplicationConfiguration",
        "dynamodb:DescribeTable",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:DescribeTimeToLive",
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:DescribeScalingPolicies",
        "s3:GetBucketTagging",
        "dynamodb:ListTagsOfResource",
        "iam:GetAccountAuthorizationDetails",
    ],
    remediation="Someone changed the resource outside Terraform. " + _SEE + " Or, if the change is wanted, "
    "write it into config.yaml.",
    config_fix="# write the live value into config.yaml if the change is intended; the finding lists each attribute",
    security_hub=[],
    checkov=[],
)
UNMANAGED = define(
    id="drift.unmanaged",
    title="No resource named like the project's is missing from config.yaml",
    category="drift",
    service="account",
    severity="low",
    permissions=["s3:ListAllMyBuckets", "dynamodb:ListTables", "iam:GetAccountAuthorizationDetails"],
    remediation="Declare it in config.yaml (then `terraform import` it; `cargohold discover` writes both), or "
    "delete it if it is left over.",
    config_fix="buckets:\n  NEW-KEY:\n    name: THE-LIVE-NAME   # adopt it under its existing name",
    security_hub=[],
    checkov=[],
)


def drift_findings(project: Project, env: Environment, inventory: Inventory) -> list[Finding]:
    return list(_declared(env, inventory)) + list(_unmanaged(project, env, inventory))


def _declared(env: Environment, inv: Inventory) -> Iterator[Finding]:
    kinds: list[tuple[str, Any, Any, Any, Any]] = [
        ("bucket", env.buckets, inv.buckets, lambda x: inv.bucket(x.name), lambda b, live: _bucket_pair(b, live, env)),
        (
            "table",
            env.tables,
            inv.tables,
            lambda x: inv.table(x.name, x.region),
            lambda t, live: _table_pair(t, live, env),
        ),
        (
            "principal",
            env.principals,
            inv.principals,
            lambda x: inv.principal(x.spec.kind, x.name),
            lambda p, live: _principal_pair(p, live, env),
        ),
    ]
    for kind, declared, listing, find, pair in kinds:
        for key, item in declared.items():
            resource = getattr(item, "arn", item.name)
            if not listing.ok:
                yield errored(MISSING, resource, f"{kind} {key}: cannot list {kind}s: {listing.error}")
                continue
            live = find(item)
            if live is None:
                yield failed(MISSING, resource, f"{kind} {key} ({item.name}) is declared but does not exist")
                continue
            yield passed(MISSING, resource, f"{kind} {key} exists")
            try:
                want, have = pair(item, live)
            except CannotRead as exc:
                yield errored(CHANGED, resource, f"{kind} {key}: cannot read its settings: {exc}")
                continue
            changed = [attr for attr in want if _norm(want[attr]) != _norm(have.get(attr))]
            if changed:
                yield failed(
                    CHANGED,
                    resource,
                    f"{kind} {key}: {', '.join(changed)} differ from config.yaml",
                    expected={a: want[a] for a in changed},
                    actual={a: have.get(a) for a in changed},
                )
            else:
                yield passed(CHANGED, resource, f"{kind} {key} matches config.yaml")


def _bucket_pair(bucket: Bucket, live: BucketInfo, env: Environment) -> tuple[dict[str, Any], dict[str, Any]]:
    want = bucket_state(bucket, env)
    want.pop("name")
    want.pop("region")  # where the bucket was found: the inventory reads it there
    want.pop("object_lock")  # not read by the audit
    want["lifecycle"] = sorted(want["lifecycle"], key=lambda r: str(r["id"]))
    if want["min_tls_version"] is not None:  # None: tls_only is off, no policy states a minimum
        want["min_tls_version"] = f"{float(want['min_tls_version']):.1f}"
    if not live.details_read:  # config asks for neither, so the audit did not spend the two calls
        del want["logging"], want["replication"]
    return want, _bucket_live(live, want)


def _table_pair(table: Table, live: TableInfo, env: Environment) -> tuple[dict[str, Any], dict[str, Any]]:
    want = table_state(table, env)
    want.pop("name")
    want.pop("region")  # where the table was found: the inventory reads each region the environment uses
    return want, _table_live(live, want)


def _principal_pair(
    principal: Principal, live: PrincipalInfo, env: Environment
) -> tuple[dict[str, Any], dict[str, Any]]:
    state = principal_state(principal, env)
    want = {
        "kind": state["kind"],
        "policy": _canonical_policy(state["policy"]),
        "other_policies": [],
        "tags": state["tags"],
    }
    return want, _principal_live(live, principal.name)


def _norm(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _bucket_live(b: BucketInfo, want: dict[str, Any]) -> dict[str, Any]:
    document = b.policy.get()
    encryption = b.encryption.get() or {}
    algorithm = encryption.get("algorithm")
    versioning = b.versioning.get()
    return {
        # Suspended is what is left of versioning turned off: the same as never enabled when config.yaml
        # does not ask for it (the stack manages versioning only where it is on), shown as such otherwise.
        "versioning": None if versioning == "Suspended" and want["versioning"] is None else versioning,
        "encryption": {
            "algorithm": algorithm,
            # Only compared where config names them: AWS reports the key it resolved.
            "kms_key_arn": encryption.get("kms_key_arn") if want["encryption"]["kms_key_arn"] else None,
            "bucket_key": encryption.get("bucket_key") if algorithm == "aws:kms" else None,
        },
        "ownership": b.ownership.get(),
        "public_access_block": {
            flag: bool((b.public_access_block.get() or {}).get(flag)) for flag in want["public_access_block"]
        },
        "public_read_prefix": _public_prefix(document, b.name),
        "tls_only": policy.denies_insecure_transport(document),
        "min_tls_version": _tls_text(policy.minimum_tls(document)),
        "lifecycle": sorted((_lifecycle_rule(r) for r in b.lifecycle.get()), key=lambda r: str(r["id"])),
        "cors": [_cors_rule(r) for r in b.cors.get()],
        "logging": _logging(b.logging.get()),
        "replication": _replication(b.replication.get()),
        "tags": b.tags.get(),
    }


def _replication(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """A live replication configuration in the desired-state model's terms (`desired.replication_state`):
    its one rule, or what there is instead (rules counted) when it is not one rule."""
    if config is None:
        return None
    rules = config.get("Rules") or []
    if len(rules) != 1:
        return {"rules": len(rules), "role": config.get("Role")}
    rule = rules[0]
    destination = rule.get("Destination") or {}
    criteria = rule.get("SourceSelectionCriteria") or {}
    scope = rule.get("Filter") or {}

    def on(part: Any) -> bool:
        return isinstance(part, dict) and part.get("Status") == "Enabled"

    return {
        "destination": destination.get("Bucket"),
        "role": config.get("Role"),
        "prefix": (scope.get("Prefix") if "Prefix" in scope else rule.get("Prefix")) or None,
        "storage_class": destination.get("StorageClass") or "STANDARD",
        "replica_kms_key_arn": (destination.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID"),
        "sse_kms_encrypted_objects": on(criteria.get("SseKmsEncryptedObjects")),
        "delete_marker_replication": on(rule.get("DeleteMarkerReplication")),
        "replication_time": on(destination.get("ReplicationTime")),
        "metrics": on(destination.get("Metrics")),
        "replica_modifications": on(criteria.get("ReplicaModifications")),
    }


def _tls_text(version: float | None) -> str | None:
    return None if version is None else f"{version:.1f}"


def _public_prefix(document: dict[str, Any] | None, bucket: str) -> str | None:
    """The prefix a PublicReadPrefix-style statement opens (what `public_read_prefix` renders)."""
    head = f"arn:aws:s3:::{bucket}/"
    for statement in policy.public_allows(document):
        for resource in map(str, policy.as_list(statement.get("Resource"))):
            if resource.startswith(head) and resource.endswith("*"):
                return resource[len(head) : -1]
    return None


def _logging(enabled: dict[str, Any] | None) -> dict[str, Any] | None:
    if not enabled:
        return None
    return {"target_bucket": enabled.get("TargetBucket"), "target_prefix": enabled.get("TargetPrefix", "")}


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    noncurrent = rule.get("NoncurrentVersionExpiration", {})
    return {
        "id": rule.get("ID"),
        "status": rule.get("Status"),
        "filter": lifecycle_filter(*lifecycle_scope(rule)),
        "transitions": sorted((t.get("Days"), t.get("StorageClass")) for t in rule.get("Transitions", [])),
        "expiration_days": rule.get("Expiration", {}).get("Days"),
        "noncurrent_transitions": sorted(
            (t.get("NoncurrentDays"), t.get("StorageClass")) for t in rule.get("NoncurrentVersionTransitions", [])
        ),
        "noncurrent_expiration_days": noncurrent.get("NoncurrentDays"),
        "newer_noncurrent_versions": noncurrent.get("NewerNoncurrentVersions"),
        "abort_incomplete_multipart_days": rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"),
    }


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "AllowedOrigins": sorted(rule.get("AllowedOrigins", [])),
        "AllowedMethods": sorted(rule.get("AllowedMethods", [])),
        "AllowedHeaders": sorted(rule.get("AllowedHeaders", [])),
        "ExposeHeaders": sorted(rule.get("ExposeHeaders", [])),
        "MaxAgeSeconds": rule.get("MaxAgeSeconds"),
    }


def _table_live(t: TableInfo, want: dict[str, Any]) -> dict[str, Any]:
    d = t.description.get()
    types = {a["AttributeName"]: a["AttributeType"] for a in d.get("AttributeDefinitions", [])}
    hash_key, range_key = _keys(d.get("KeySchema", []), types)
    sse = d.get("SSEDescription") or {}
    stream = d.get("StreamSpecification") or {}
    kms = sse.get("SSEType") == "KMS" and sse.get("Status") in ("ENABLED", "UPDATING")
    return {
        "hash_key": hash_key,
        "range_key": range_key,
        "billing_mode": (d.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED"),
        "point_in_time_recovery": t.pitr.get(),
        "ttl_attribute": t.ttl_attribute.get(),
        "deletion_protection": bool(d.get("DeletionProtectionEnabled", False)),
        # AWS reports KMS for both the AWS managed and a customer key; compare "KMS or not".
        "sse": want["sse"] if kms == (want["sse"] != "aws-owned") else ("aws-owned" if not kms else "kms"),
        "stream_view_type": stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
        "table_class": (d.get("TableClassSummary") or {}).get("TableClass", "STANDARD"),
        "global_indexes": _indexes(d.get("GlobalSecondaryIndexes", []), types),
        "local_indexes": _indexes(d.get("LocalSecondaryIndexes", []), types),
        "autoscaling": t.scaling.get(),
        "tags": t.tags.get(),
    }


def _keys(schema: list[dict[str, Any]], types: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A table's or an index's (hash key, range key) as {name, type}, from its KeySchema."""
    keys = {k["KeyType"]: k["AttributeName"] for k in schema}
    hash_key = {"name": keys.get("HASH"), "type": types.get(keys.get("HASH", ""))}
    range_key = {"name": keys["RANGE"], "type": types.get(keys["RANGE"])} if "RANGE" in keys else None
    return hash_key, range_key


def _indexes(indexes: list[dict[str, Any]], types: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for ix in indexes:
        projection = ix.get("Projection") or {}
        out.append(
            index_state(
                ix["IndexName"],
                *_keys(ix.get("KeySchema", []), types),
                projection.get("ProjectionType", "ALL"),
                projection.get("NonKeyAttributes", []),
            )
        )
    return sorted(out, key=lambda ix: str(ix["name"]))


def _principal_live(p: PrincipalInfo, name: str) -> dict[str, Any]:
    # cargohold attaches one customer managed policy named like the principal (to a user's group).
    documents = [x.document for x in p.policies if x.name == name and x.document is not None]
    return {
        "kind": p.kind,
        "policy": _canonical_policy(documents[0]) if documents else None,
        "other_policies": sorted(x.name for x in p.policies if x.name != name),
        "tags": p.tags,
    }


def _canonical_policy(document: dict[str, Any]) -> dict[str, Any]:
    statements = []
    for s in policy.statements(document):
        c = dict(s)
        for key in ("Action", "Resource"):
            if key in c:
                c[key] = sorted(map(str, policy.as_list(c[key])))
        statements.append(c)
    return {"Version": document.get("Version"), "Statement": statements}


def _unmanaged(project: Project, env: Environment, inv: Inventory) -> Iterator[Finding]:
    prefix = _name_prefix(project, env)
    if not prefix:
        return  # a template that starts with {name} names nothing recognisably the project's
    declared_buckets = {b.name for b in env.buckets.values()} | {env.state.bucket}
    declared_tables = {t.name for t in env.tables.values()} | {env.state.lock_table}
    declared_principals = {(p.spec.kind, p.name) for p in env.principals.values()}
    for b in inv.buckets.value or []:
        if b.name.startswith(prefix) and b.name not in declared_buckets:
            yield failed(UNMANAGED, b.arn, f"bucket {b.name} is named like this environment's but not declared")
    for t in inv.tables.value or []:
        if t.name.startswith(prefix) and t.name not in declared_tables:
            yield failed(UNMANAGED, t.arn, f"table {t.name} is named like this environment's but not declared")
    for p in inv.principals.value or []:
        if p.name.startswith(prefix) and (p.kind, p.name) not in declared_principals:
            yield failed(UNMANAGED, p.arn, f"{p.kind} {p.name} is named like this environment's but not declared")


def _name_prefix(project: Project, env: Environment) -> str:
    marker = "\x00"
    rendered = names.render(
        project.config.name_template,
        project=project.name,
        env=env.name,
        name=marker,
        account=env.account,
        region=env.region,
    )
    return rendered.split(marker, 1)[0]

"""The stack's resources in the desired-state model's terms (`cargohold_core.config.desired`), read from what
Terraform would create: tfparse's offline evaluation of the HCL, or the planned values of a real
`terraform plan` (`terraform show -json`). One reader for both, so each is held to the same model.
Tags are read from `tags_all` (the provider's default_tags merged with the resource's own)."""

from __future__ import annotations

import json
from typing import Any

from cargohold_core.config.desired import index_state, lifecycle_filter, trust_state

UNREADABLE = "(not readable offline)"


def as_list(value: Any) -> list[Any]:
    """tfparse returns a block that occurs once as a dict and repeated blocks as a list (the plan: a list)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def module_key(address: str) -> str:
    return address.split('["', 1)[1].split('"]', 1)[0]


def of_type(found: dict[str, dict[str, Any]], rtype: str) -> dict[str, dict[str, Any]]:
    """Resources of one type, by the config key of the module instance that declares them."""
    return {module_key(a): r for a, r in found.items() if a.rsplit(".", 2)[-2] == rtype}


def observed_buckets(
    found: dict[str, dict[str, Any]], *, account: str, rule_ids: bool = False
) -> dict[str, dict[str, Any]]:
    versioning = of_type(found, "aws_s3_bucket_versioning")
    sse = of_type(found, "aws_s3_bucket_server_side_encryption_configuration")
    ownership = of_type(found, "aws_s3_bucket_ownership_controls")
    blocks = of_type(found, "aws_s3_bucket_public_access_block")
    policies = of_type(found, "aws_s3_bucket_policy")
    lifecycles = of_type(found, "aws_s3_bucket_lifecycle_configuration")
    cors = of_type(found, "aws_s3_bucket_cors_configuration")
    logging = of_type(found, "aws_s3_bucket_logging")
    replication = of_type(found, "aws_s3_bucket_replication_configuration")
    locks = of_type(found, "aws_s3_bucket_object_lock_configuration")
    # the replication role a bucket's module makes (not a principal's role of the same key)
    roles = of_type({a: r for a, r in found.items() if a.startswith("module.buckets[")}, "aws_iam_role")
    out = {}
    for key, bucket in of_type(found, "aws_s3_bucket").items():
        default = as_list(sse[key]["rule"])[0]
        by_default = as_list(default["apply_server_side_encryption_by_default"])[0]
        algorithm = by_default["sse_algorithm"]
        # no policy resource when it would have no statement (tls_only: false and nothing else)
        statements = json.loads(policies[key]["policy"])["Statement"] if key in policies else []
        public = [s for s in statements if s["Effect"] == "Allow" and s.get("Principal") in ("*", {"AWS": "*"})]
        public_prefix = None
        if public:
            resource = as_list(public[0]["Resource"])[0]
            public_prefix = resource.split("/", 1)[1].removesuffix("*")
        tls = [s for s in statements if s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s)]
        min_tls = [s for s in statements if s["Effect"] == "Deny" and "s3:TlsVersion" in json.dumps(s)]
        block = blocks[key]
        lock = locks.get(key)
        lock_rule = as_list(lock["rule"])[0]["default_retention"] if lock else None
        lock_rule = as_list(lock_rule)[0] if lock_rule else None
        out[key] = {
            "name": bucket["bucket"],
            "region": bucket["region"],
            "versioning": as_list(versioning[key]["versioning_configuration"])[0]["status"]
            if key in versioning
            else None,
            "encryption": {
                "algorithm": algorithm,
                "kms_key_arn": by_default.get("kms_master_key_id"),
                "bucket_key": default.get("bucket_key_enabled") if algorithm == "aws:kms" else None,
            },
            "ownership": as_list(ownership[key]["rule"])[0]["object_ownership"],
            "public_access_block": {
                "BlockPublicAcls": block["block_public_acls"],
                "IgnorePublicAcls": block["ignore_public_acls"],
                "BlockPublicPolicy": block["block_public_policy"],
                "RestrictPublicBuckets": block["restrict_public_buckets"],
            },
            "public_read_prefix": public_prefix,
            "tls_only": bool(tls),
            "min_tls_version": str(
                next(iter(json.loads(json.dumps(min_tls[0]["Condition"]))["NumericLessThan"].values()))
            )
            if min_tls
            else None,
            "lifecycle": [lifecycle_rule(r, rule_ids=rule_ids) for r in as_list(lifecycles[key]["rule"])]
            if key in lifecycles
            else [],
            "cors": [
                {
                    # sets in the provider, compared sorted (as the model does)
                    "AllowedOrigins": sorted(r["allowed_origins"]),
                    "AllowedMethods": sorted(r["allowed_methods"]),
                    "AllowedHeaders": sorted(r.get("allowed_headers") or []),
                    "ExposeHeaders": sorted(r.get("expose_headers") or []),
                    "MaxAgeSeconds": r["max_age_seconds"],
                }
                for r in as_list(cors[key]["cors_rule"])
            ]
            if key in cors
            else [],
            "logging": {
                "target_bucket": logging[key]["target_bucket"],
                "target_prefix": logging[key].get("target_prefix") or "",
            }
            if key in logging
            else None,
            "replication": replication_rule(replication[key], roles.get(key), account)
            if key in replication
            else None,
            "object_lock": {"mode": lock_rule["mode"], "days": lock_rule["days"]} if lock_rule else None,
            "tags": bucket["tags_all"],
        }
    return out


def replication_rule(config: dict[str, Any], role: dict[str, Any] | None, account: str) -> dict[str, Any]:
    """The one replication rule. The generated role's ARN is known only after apply, so it is read as the
    ARN of the role the module makes (by its name); a role config.yaml brings is read as written."""
    rule = as_list(config["rule"])[0]
    destination = as_list(rule["destination"])[0]
    criteria = as_list(rule.get("source_selection_criteria"))
    criteria = criteria[0] if criteria else {}
    encryption = as_list(destination.get("encryption_configuration"))

    def on(block: Any) -> bool:
        found = as_list(block)
        return bool(found) and found[0].get("status") == "Enabled"

    return {
        "destination": destination["bucket"],
        "role": f"arn:aws:iam::{account}:role/{role['name']}" if role else config["role"],
        "prefix": as_list(rule.get("filter"))[0].get("prefix") or None,
        "storage_class": destination.get("storage_class"),
        "replica_kms_key_arn": encryption[0]["replica_kms_key_id"] if encryption else None,
        "sse_kms_encrypted_objects": on(criteria.get("sse_kms_encrypted_objects")),
        "delete_marker_replication": on(rule.get("delete_marker_replication")),
        "replication_time": on(destination.get("replication_time")),
        "metrics": on(destination.get("metrics")),
        "replica_modifications": on(criteria.get("replica_modifications")),
    }


def lifecycle_rule(rule: dict[str, Any], *, rule_ids: bool) -> dict[str, Any]:
    def block(name: str, within: dict[str, Any] = rule) -> dict[str, Any]:
        found = as_list(within.get(name))
        return found[0] if found else {}

    scope = block("filter")
    both = block("and", scope)
    tags = known(both.get("tags")) or {t["key"]: t["value"] for t in as_list(scope.get("tag"))}
    sizes = [known(both.get(k) or scope.get(k)) for k in ("object_size_greater_than", "object_size_less_than")]
    noncurrent = block("noncurrent_version_expiration")
    return {
        # tfparse gives every block an `id` of its own, hiding the rule's id
        "id": rule["id"] if rule_ids else UNREADABLE,
        "status": rule["status"],
        "filter": lifecycle_filter(known(both.get("prefix") or scope.get("prefix")), tags, *sizes),
        "transitions": sorted((t["days"], t["storage_class"]) for t in as_list(rule.get("transition"))),
        "expiration_days": block("expiration").get("days"),
        "noncurrent_transitions": sorted(
            (t["noncurrent_days"], t["storage_class"]) for t in as_list(rule.get("noncurrent_version_transition"))
        ),
        "noncurrent_expiration_days": noncurrent.get("noncurrent_days"),
        "newer_noncurrent_versions": known(noncurrent.get("newer_noncurrent_versions")),
        "abort_incomplete_multipart_days": block("abort_incomplete_multipart_upload").get("days_after_initiation"),
    }


def known(value: Any) -> Any:
    """tfparse renders a null variable passed through as a reference placeholder."""
    return None if isinstance(value, dict) and "__attribute__" in value else value


def observed_tables(found: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for key, table in of_type(found, "aws_dynamodb_table").items():
        types = {a["name"]: a["type"] for a in as_list(table.get("attribute"))}
        range_key = table.get("range_key")
        ttl = as_list(table.get("ttl"))
        sse = as_list(table.get("server_side_encryption"))
        sse_type = "aws-owned"
        if sse and sse[0].get("enabled"):
            sse_type = "customer-kms" if sse[0].get("kms_key_arn") else "aws-managed"
        out[key] = {
            "name": table["name"],
            "region": table["region"],
            "hash_key": {"name": table["hash_key"], "type": types[table["hash_key"]]},
            "range_key": {"name": range_key, "type": types[range_key]} if range_key else None,
            "billing_mode": table["billing_mode"],
            "point_in_time_recovery": as_list(table.get("point_in_time_recovery"))[0]["enabled"],
            "ttl_attribute": ttl[0]["attribute_name"] if ttl and ttl[0].get("enabled") else None,
            "deletion_protection": table["deletion_protection_enabled"],
            "sse": sse_type,
            "stream_view_type": table.get("stream_view_type") if table.get("stream_enabled") else None,
            "table_class": table["table_class"],
            "global_indexes": sorted(
                (_global_index(g, types) for g in as_list(table.get("global_secondary_index"))),
                key=lambda ix: str(ix["name"]),
            ),
            "local_indexes": sorted(
                (_local_index(ix, table["hash_key"], types) for ix in as_list(table.get("local_secondary_index"))),
                key=lambda ix: str(ix["name"]),
            ),
            "autoscaling": observed_scaling(found, key),
            "tags": table["tags_all"],
        }
    return out


def observed_scaling(found: dict[str, dict[str, Any]], key: str) -> dict[str, dict[str, dict[str, Any]]]:
    """The table module's scalable targets and policies in the model's terms (`autoscaling_state`), told
    apart by address: `read[0]`/`write[0]` scale the table, `index_read["NAME"]`/`index_write["NAME"]` an index."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for address, resource in found.items():
        if not address.startswith(f'module.tables["{key}"].aws_appautoscaling_'):
            continue
        rtype, rest = address.split('"].', 1)[1].split(".", 1)
        name = rest.split("[", 1)[0]
        scope = "index/" + rest.split('["', 1)[1].rsplit('"]', 1)[0] if name.startswith("index_") else "table"
        entry = out.setdefault(scope, {}).setdefault(name.removeprefix("index_"), {})
        if rtype == "aws_appautoscaling_target":
            entry.update(min=resource["min_capacity"], max=resource["max_capacity"])
        else:
            entry["target"] = as_list(resource["target_tracking_scaling_policy_configuration"])[0]["target_value"]
    return out


def _global_index(index: dict[str, Any], types: dict[str, str]) -> dict[str, Any]:
    keys = {k["key_type"]: k["attribute_name"] for k in as_list(index.get("key_schema"))}
    return index_state(
        index["name"],
        {"name": keys["HASH"], "type": types[keys["HASH"]]},
        {"name": keys["RANGE"], "type": types[keys["RANGE"]]} if "RANGE" in keys else None,
        index["projection_type"],
        list(index.get("non_key_attributes") or []),
    )


def _local_index(index: dict[str, Any], hash_key: str, types: dict[str, str]) -> dict[str, Any]:
    return index_state(
        index["name"],
        {"name": hash_key, "type": types[hash_key]},
        {"name": index["range_key"], "type": types[index["range_key"]]},
        index["projection_type"],
        list(index.get("non_key_attributes") or []),
    )


def planned_resources(show: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A saved plan's planned values (`terraform show -json`), by resource address. Values Terraform
    knows only after apply are absent."""
    out: dict[str, dict[str, Any]] = {}

    def walk(module: dict[str, Any]) -> None:
        for resource in module.get("resources", []):
            if resource.get("mode") == "managed":
                out[resource["address"]] = resource.get("values") or {}
        for child in module.get("child_modules", []):
            walk(child)

    walk(show["planned_values"]["root_module"])
    return out


def observed_principals(found: dict[str, dict[str, Any]], account: str) -> dict[str, dict[str, Any]]:
    users, roles = of_type(found, "aws_iam_user"), of_type(found, "aws_iam_role")
    out = {}
    for key, policy in of_type(found, "aws_iam_policy").items():
        kind, principal = ("user", users[key]) if key in users else ("role", roles[key])
        out[key] = {
            "name": principal["name"],
            "kind": kind,
            "arn": f"arn:aws:iam::{account}:{kind}{principal.get('path') or '/'}{principal['name']}",
            "policy": json.loads(policy["policy"]),
            "trust_policy": trust_state(json.loads(principal["assume_role_policy"])) if kind == "role" else None,
            "permissions_boundary_arn": known(principal.get("permissions_boundary")),
            "tags": principal["tags_all"],
        }
    return out

"""Handlers for aws_s3_bucket and its split configuration resources (see base.py for the contract).

Ids and import ids: the bucket name for aws_s3_bucket and every split resource (the real provider
also accepts `bucket,expected_bucket_owner`; the part after a comma is ignored here), except
aws_s3_bucket_intelligent_tiering_configuration: `bucket:name`.

moto gaps (the handlers send what real S3 takes and read back only what moto holds): lifecycle
object-size filters and NoncurrentVersionExpiration.NewerNoncurrentVersions are dropped; replication
keeps only ID/Priority/Status/Destination (Filter reads as {Prefix: ""}, DeleteMarkerReplication as
Disabled, SourceSelectionCriteria and ExistingObjectReplication are lost); there is no
intelligent-tiering API at all (see _it_get).
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from cargohold_core.aws import tag_dict
from toolkit.tfprovider.resources.base import (
    Api,
    Handler,
    ResourceError,
    State,
    aws_failure,
    error_code,
    first_block,
)


def _bucket_of(import_id: str) -> str:
    return import_id.split(",", 1)[0]


def _gone(exc: Exception, *codes: str) -> bool:
    return isinstance(exc, ClientError) and error_code(exc) in ("NoSuchBucket", *codes)


# --- aws_s3_bucket_versioning


def _versioning_put(api: Api, planned: State) -> State:
    config = planned["versioning_configuration"][0]
    body: dict[str, Any] = {"Status": config["status"]}
    if config.get("mfa_delete"):
        body["MFADelete"] = config["mfa_delete"]
    api.s3.put_bucket_versioning(Bucket=planned["bucket"], VersioningConfiguration=body)
    return {**planned, "id": planned["bucket"], "region": api.region}


def _versioning_read(api: Api, state: State) -> State | None:
    bucket = state.get("bucket") or state["id"]
    try:
        live = api.s3.get_bucket_versioning(Bucket=bucket)
    except Exception as exc:
        if _gone(exc):
            return None
        raise
    prior = (state.get("versioning_configuration") or [{}])[0]
    status = live.get("Status")
    if status is None:  # never enabled: the real provider reports "Disabled"
        status = "Disabled"
    mfa = live.get("MFADelete") if prior.get("mfa_delete") or live.get("MFADelete") == "Enabled" else None
    return {
        "id": bucket,
        "bucket": bucket,
        "region": api.region,
        "versioning_configuration": [{"status": status, "mfa_delete": mfa}],
    }


def _versioning_delete(api: Api, state: State) -> None:
    # S3 cannot turn versioning off once on: the real provider suspends it.
    try:
        if api.s3.get_bucket_versioning(Bucket=state["bucket"]).get("Status") == "Enabled":
            api.s3.put_bucket_versioning(Bucket=state["bucket"], VersioningConfiguration={"Status": "Suspended"})
    except Exception as exc:
        if not _gone(exc):
            raise


VERSIONING = Handler(
    type_name="aws_s3_bucket_versioning",
    create=_versioning_put,
    read=_versioning_read,
    update=lambda api, prior, planned: _versioning_put(api, planned),
    delete=_versioning_delete,
    import_state=lambda api, import_id: {"id": import_id, "bucket": _bucket_of(import_id)},
    replace_on=frozenset({"bucket", "expected_bucket_owner"}),
)


# --- shared helpers


def _code(exc: Exception) -> str:
    return error_code(exc) if isinstance(exc, ClientError) else ""


def _num(value: Any) -> Any:
    """Numbers as Terraform wants them: int where integral (moto passes some through as strings)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _fill(planned: Any, live: Any) -> Any:
    """Planned values where known, live values where the plan left them null (computed ones)."""
    if isinstance(planned, dict) and isinstance(live, dict):
        return {k: _fill(planned.get(k), live.get(k)) for k in {**live, **planned}}
    if isinstance(planned, list) and isinstance(live, list) and len(planned) == len(live):
        return [_fill(p, v) for p, v in zip(planned, live, strict=True)]
    return live if planned is None else planned


def _empty_list_kept(prior: Any, live: Any) -> Any:
    """S3 omits empty lists: report [] (not null) when the configuration wrote []."""
    if live:
        return list(live)
    return [] if prior == [] else None


def _bucket_name(state: State) -> str:
    return str(state.get("bucket") or state["id"])


def _after_put(api: Api, planned: State, read: Any, what: str) -> State:
    live = read(api, {**planned, "id": planned.get("id") or planned["bucket"]})
    if live is None:
        raise ResourceError(f"{what} for bucket {planned['bucket']} not found right after it was written")
    return dict(_fill(planned, live))


def _date(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _tags_list(tags: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in (tags or {}).items()]


# --- aws_s3_bucket

# Route 53 hosted zone ids of the S3 website/endpoint zones (a few regions; None elsewhere).
_HOSTED_ZONES = {
    "us-east-1": "Z3AQBSTGFYJSTF",
    "us-east-2": "Z2O1EMRO9K5GLX",
    "us-west-1": "Z2F56UZL2M1ACD",
    "us-west-2": "Z3BJ6K6RIION7M",
    "ca-central-1": "Z1QDHH18159H29",
    "eu-west-1": "Z1BKCTXD74EZPE",
    "eu-west-2": "Z3GKZC51ZF0DB4",
    "eu-west-3": "Z3R1K369G5AVDG",
    "eu-central-1": "Z21DNDUVLTQW6Q",
    "eu-north-1": "Z3BAZG2TWCNX0D",
    "ap-south-1": "Z11RGJOFQNVJUP",
    "ap-northeast-1": "Z2M4EHUR26P7ZW",
    "ap-northeast-2": "Z3W03O7B5YMIYP",
    "ap-southeast-1": "Z3O0J2DXBE1FTB",
    "ap-southeast-2": "Z1WCIGYICN2BYD",
    "sa-east-1": "Z7KQH4QJS55SO",
}


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _bucket_create(api: Api, planned: State) -> State:
    name = planned.get("bucket")
    if not name:
        prefix = planned.get("bucket_prefix") or "terraform-"
        name = f"{prefix}{uuid.uuid4().hex[: 26 if len(prefix) < 37 else 63 - len(prefix)]}"
    try:
        api.s3.head_bucket(Bucket=name)
    except ClientError as exc:
        if _code(exc) not in ("404", "NoSuchBucket", "403"):
            raise aws_failure(f"creating S3 Bucket ({name})", exc) from exc
    else:
        # us-east-1 answers CreateBucket for an owned bucket with success (moto too): refuse as the
        # other regions do, rather than adopting the bucket.
        raise ResourceError(
            f"creating S3 Bucket ({name}): BucketAlreadyOwnedByYou",
            "The bucket already exists and is owned by you: import it (terraform import) instead.",
        )
    args: dict[str, Any] = {"Bucket": name}
    if api.region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": api.region}
    if planned.get("object_lock_enabled"):
        args["ObjectLockEnabledForBucket"] = True
    try:
        api.s3.create_bucket(**args)
        if planned.get("tags_all"):
            api.s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tags_list(planned["tags_all"])})
    except ClientError as exc:
        raise aws_failure(f"creating S3 Bucket ({name})", exc) from exc
    live = _bucket_read(api, {**planned, "bucket": name, "id": name})
    if live is None:
        raise ResourceError(f"S3 Bucket ({name}) not found right after it was created")
    return {
        **_fill(planned, live),
        "tags": planned.get("tags"),
        "tags_all": planned.get("tags_all"),
        "force_destroy": planned.get("force_destroy"),
    }


def _bucket_read(api: Api, state: State) -> State | None:
    name = _bucket_name(state)
    s3 = api.s3
    try:
        s3.head_bucket(Bucket=name)
        region = s3.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1"
    except ClientError as exc:
        if _code(exc) in ("404", "NoSuchBucket"):
            return None
        raise aws_failure(f"reading S3 Bucket ({name})", exc) from exc
    region = {"EU": "eu-west-1"}.get(region, region)

    def optional(call: Any, missing: str, pick: Any) -> Any:
        try:
            return pick(call(Bucket=name))
        except ClientError as exc:
            if _code(exc) == missing:
                return None
            raise aws_failure(f"reading S3 Bucket ({name})", exc) from exc

    live_tags = optional(s3.get_bucket_tagging, "NoSuchTagSet", lambda r: tag_dict(r.get("TagSet"))) or {}
    lock = optional(
        s3.get_object_lock_configuration,
        "ObjectLockConfigurationNotFoundError",
        lambda r: r.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled",
    )
    policy = optional(s3.get_bucket_policy, "NoSuchBucketPolicy", lambda r: r.get("Policy"))
    if policy is not None and _policy_equal(policy, state.get("policy")):
        policy = state["policy"]
    payer = optional(s3.get_bucket_request_payment, "", lambda r: r.get("Payer") or "BucketOwner")
    accel = optional(s3.get_bucket_accelerate_configuration, "", lambda r: r.get("Status"))
    own = api.tags_for(live_tags)
    partition = _partition(region)
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return {
        "id": name,
        "bucket": name,
        "arn": f"arn:{partition}:s3:::{name}",
        "bucket_domain_name": f"{name}.s3.{suffix}",
        "bucket_regional_domain_name": f"{name}.s3.{region}.{suffix}",
        "hosted_zone_id": _HOSTED_ZONES.get(region),
        "bucket_region": region,
        "region": region,
        "object_lock_enabled": bool(lock),
        "policy": policy,
        "request_payer": payer,
        "acceleration_status": accel,
        "tags": own if own else ({} if state.get("tags") == {} else None),
        # No tags: {} (as the real provider), unless the prior state spelled it null.
        "tags_all": live_tags if live_tags else (None if "tags_all" in state and state["tags_all"] is None else {}),
    }


def _bucket_update(api: Api, prior: State, planned: State) -> State:
    name = _bucket_name(prior)
    try:
        if (planned.get("tags_all") or {}) != (prior.get("tags_all") or {}):
            if planned.get("tags_all"):
                api.s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tags_list(planned["tags_all"])})
            else:
                api.s3.delete_bucket_tagging(Bucket=name)
    except ClientError as exc:
        raise aws_failure(f"updating S3 Bucket ({name}) tags", exc) from exc
    live = _bucket_read(api, {**prior, **planned})
    if live is None:
        raise ResourceError(f"S3 Bucket ({name}) not found while updating it")
    return {
        **_fill(planned, live),
        "tags": planned.get("tags"),
        "tags_all": planned.get("tags_all"),
        "force_destroy": planned.get("force_destroy"),
    }


def _empty_bucket(api: Api, name: str) -> None:
    """force_destroy: every object version and delete marker (and unfinished upload) goes first."""
    s3 = api.s3
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=name):
        for upload in page.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        keys = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(keys), 1000):
            result = s3.delete_objects(
                Bucket=name,
                Delete={"Objects": keys[start : start + 1000], "Quiet": True},
                BypassGovernanceRetention=True,
            )
            errors = result.get("Errors") or []
            if errors:
                first = errors[0]
                raise ResourceError(
                    f"emptying S3 Bucket ({name}): {len(errors)} object(s) not deleted",
                    f"{first.get('Key')} ({first.get('VersionId')}): {first.get('Code')} {first.get('Message')}",
                )


def _bucket_delete(api: Api, state: State) -> None:
    name = _bucket_name(state)
    try:
        if state.get("force_destroy"):
            _empty_bucket(api, name)
        api.s3.delete_bucket(Bucket=name)
    except ClientError as exc:
        if _gone(exc):
            return
        if _code(exc) == "BucketNotEmpty":
            raise ResourceError(
                f"deleting S3 Bucket ({name}): BucketNotEmpty",
                "The bucket still holds objects (or object versions): empty it, or set force_destroy = true "
                "and apply before destroying.",
            ) from exc
        raise aws_failure(f"deleting S3 Bucket ({name})", exc) from exc


BUCKET = Handler(
    type_name="aws_s3_bucket",
    create=_bucket_create,
    read=_bucket_read,
    update=_bucket_update,
    delete=_bucket_delete,
    import_state=lambda api, import_id: {"id": import_id, "bucket": import_id, "force_destroy": False},
    replace_on=frozenset({"bucket", "bucket_prefix", "bucket_namespace", "object_lock_enabled"}),
)


# --- aws_s3_bucket_ownership_controls


def _ownership_put(api: Api, planned: State) -> State:
    rule = first_block(planned.get("rule"))
    try:
        api.s3.put_bucket_ownership_controls(
            Bucket=planned["bucket"], OwnershipControls={"Rules": [{"ObjectOwnership": rule["object_ownership"]}]}
        )
    except ClientError as exc:
        raise aws_failure(f"putting S3 Bucket ({planned['bucket']}) Ownership Controls", exc) from exc
    return _after_put(api, planned, _ownership_read, "Ownership controls")


def _ownership_read(api: Api, state: State) -> State | None:
    bucket = _bucket_name(state)
    try:
        live = api.s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    except ClientError as exc:
        if _gone(exc, "OwnershipControlsNotFoundError"):
            return None
        raise aws_failure(f"reading S3 Bucket ({bucket}) Ownership Controls", exc) from exc
    rules = [{"object_ownership": r.get("ObjectOwnership")} for r in live.get("Rules", [])]
    return {"id": bucket, "bucket": bucket, "region": api.region, "rule": rules[:1]}


def _ownership_delete(api: Api, state: State) -> None:
    try:
        api.s3.delete_bucket_ownership_controls(Bucket=_bucket_name(state))
    except ClientError as exc:
        if not _gone(exc, "OwnershipControlsNotFoundError"):
            raise aws_failure(f"deleting S3 Bucket ({_bucket_name(state)}) Ownership Controls", exc) from exc


OWNERSHIP_CONTROLS = Handler(
    type_name="aws_s3_bucket_ownership_controls",
    create=_ownership_put,
    read=_ownership_read,
    update=lambda api, prior, planned: _ownership_put(api, planned),
    delete=_ownership_delete,
    import_state=lambda api, import_id: {"id": import_id, "bucket": _bucket_of(import_id)},
    replace_on=frozenset({"bucket"}),
)


# --- aws_s3_bucket_public_access_block

_PAB = {
    "block_public_acls": "BlockPublicAcls",
    "block_public_policy": "BlockPublicPolicy",
    "ignore_public_acls": "IgnorePublicAcls",
    "restrict_public_buckets": "RestrictPublicBuckets",
}


def _pab_put(api: Api, planned: State) -> State:
    body = {aws: bool(planned.get(tf)) for tf, aws in _PAB.items()}
    try:
        api.s3.put_public_access_block(Bucket=planned["bucket"], PublicAccessBlockConfiguration=body)
    except ClientError as exc:
        raise aws_failure(f"putting S3 Bucket ({planned['bucket']}) Public Access Block", exc) from exc
    return _after_put(api, planned, _pab_read, "Public access block")


def _pab_read(api: Api, state: State) -> State | None:
    bucket = _bucket_name(state)
    try:
        live = api.s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except ClientError as exc:
        if _gone(exc, "NoSuchPublicAccessBlockConfiguration"):
            return None
        raise aws_failure(f"reading S3 Bucket ({bucket}) Public Access Block", exc) from exc
    out: State = {"id": bucket, "bucket": bucket, "region": api.region}
    for tf, aws in _PAB.items():
        value = bool(live.get(aws))
        # An unset argument is sent as false: report false as the null the configuration wrote.
        out[tf] = None if (not value and state.get(tf) is None) else value
    return out


def _pab_delete(api: Api, state: State) -> None:
    if state.get("skip_destroy"):
        return
    try:
        api.s3.delete_public_access_block(Bucket=_bucket_name(state))
    except ClientError as exc:
        if not _gone(exc, "NoSuchPublicAccessBlockConfiguration"):
            raise aws_failure(f"deleting S3 Bucket ({_bucket_name(state)}) Public Access Block", exc) from exc


PUBLIC_ACCESS_BLOCK = Handler(
    type_name="aws_s3_bucket_public_access_block",
    create=_pab_put,
    read=_pab_read,
    update=lambda api, prior, planned: _pab_put(api, planned),
    delete=_pab_delete,
    import_state=lambda api, import_id: {"id": import_id, "bucket": _bucket_of(import_id)},
    replace_on=frozenset({"bucket"}),
)


# --- aws_s3_bucket_policy

_SCALAR_LISTS = {"Action", "NotAction", "Resource", "NotResource", "AWS", "Service", "Federated", "CanonicalUser"}


def _normalise_policy(value: Any, key: str | None = None, in_condition: bool = False) -> Any:
    """A policy as S3/IAM compare them: one-element lists as scalars, lists of strings unordered,
    condition values as strings, a lone Statement object as a list."""
    if isinstance(value, dict):
        return {k: _normalise_policy(v, k, in_condition or k == "Condition") for k, v in value.items()}
    if isinstance(value, list):
        items = [_normalise_policy(v, None, in_condition) for v in value]
        if key != "Statement" and (key in _SCALAR_LISTS or in_condition):
            if len(items) == 1:
                return items[0]
            if all(isinstance(i, str) for i in items):
                return sorted(items)
        return items
    if key == "Statement" and isinstance(value, dict):
        return [value]
    if in_condition and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(_num(value))
    return value


def _policy_equal(live: str | None, prior: str | None) -> bool:
    if live is None or prior is None:
        return False
    try:
        a, b = json.loads(unquote(live) if live.lstrip().startswith("%7B") else live), json.loads(prior)
    except ValueError:
        return False
    if a == b:
        return True
    if isinstance(a, dict) and isinstance(a.get("Statement"), dict):
        a["Statement"] = [a["Statement"]]
    if isinstance(b, dict) and isinstance(b.get("Statement"), dict):
        b["Statement"] = [b["Statement"]]
    return bool(_normalise_policy(a) == _normalise_policy(b))


def _policy_put(api: Api, planned: State) -> State:
    try:
        api.s3.put_bucket_policy(Bucket=planned["bucket"], Policy=planned["policy"])
    except ClientError as exc:
        raise aws_failure(f"putting S3 Bucket ({planned['bucket']}) Policy", exc) from exc
    return _after_put(api, planned, _policy_read, "Bucket policy")


def _policy_read(api: Api, state: State) -> State | None:
    bucket = _bucket_name(state)
    try:
        live = api.s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as exc:
        if _gone(exc, "NoSuchBucketPolicy"):
            return None
        raise aws_failure(f"reading S3 Bucket ({bucket}) Policy", exc) from exc
    policy = state["policy"] if _policy_equal(live, state.get("policy")) else live
    return {"id": bucket, "bucket": bucket, "region": api.region, "policy": policy}


def _policy_delete(api: Api, state: State) -> None:
    try:
        api.s3.delete_bucket_policy(Bucket=_bucket_name(state))
    except ClientError as exc:
        if not _gone(exc, "NoSuchBucketPolicy"):
            raise aws_failure(f"deleting S3 Bucket ({_bucket_name(state)}) Policy", exc) from exc


POLICY = Handler(
    type_name="aws_s3_bucket_policy",
    create=_policy_put,
    read=_policy_read,
    update=lambda api, prior, planned: _policy_put(api, planned),
    delete=_policy_delete,
    import_state=lambda api, import_id: {"id": import_id, "bucket": _bucket_of(import_id)},
    replace_on=frozenset({"bucket"}),
)


# --- aws_s3_bucket_server_side_encryption_configuration


def _sse_put(api: Api, planned: State) -> State:
    rules = []
    for rule in planned.get("rule") or []:
        out: dict[str, Any] = {}
        default = first_block(rule.get("apply_server_side_encryption_by_default"))
        if default:
            body = {"SSEAlgorithm": default["sse_algorithm"]}
            if default.get("kms_master_key_id"):
                body["KMSMasterKeyID"] = default["kms_master_key_id"]
            out["ApplyServerSideEncryptionByDefault"] = body
        if rule.get("bucket_key_enabled") is not None:
            out["BucketKeyEnabled"] = bool(rule["bucket_key_enabled"])
        if rule.get("blocked_encryption_types"):
            out["BlockedEncryptionTypes"] = {"EncryptionType": list(rule["blocked_encryption_types"])}
        rules.append(out)
    args: dict[str, Any] = {"Bucket": planned["bucket"], "ServerSideEncryptionConfiguration": {"Rules": rules}}
    if planned.get("expected_bucket_owner"):
        args["ExpectedBucketOwner"] = planned["expected_bucket_owner"]
    try:
        api.s3.put_bucket_encryption(**args)
    except ClientError as exc:
        raise aws_failure(f"putting S3 Bucket ({planned['bucket']}) Server-side Encryption Configuration", exc) from exc
    return _after_put(api, planned, _sse_read, "Server-side encryption configuration")


def _sse_read(api: Api, state: State) -> State | None:
    bucket = _bucket_name(state)
    try:
        live = api.s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    except ClientError as exc:
        if _gone(exc, "ServerSideEncryptionConfigurationNotFoundError"):
            return None
        raise aws_failure(f"reading S3 Bucket ({bucket}) Server-side Encryption Configuration", exc) from exc
    rules = []
    for rule in live.get("Rules", []):
        default = rule.get("ApplyServerSideEncryptionByDefault")
        blocked = (rule.get("BlockedEncryptionTypes") or {}).get("EncryptionType")
        rules.append(
            {
                "apply_server_side_encryption_by_default": (
                    [{"sse_algorithm": default.get("SSEAlgorithm"), "kms_master_key_id": default.get("KMSMasterKeyID")}]
                    if default
                    else []
                ),
                "bucket_key_enabled": rule.get("BucketKeyEnabled"),
                "blocked_encryption_types": list(blocked) if blocked else None,
            }
        )
    return {"id": bucket, "bucket": bucket, "region": api.region, "rule": rules}


def _sse_delete(api: Api, state: State) -> None:
    try:
        api.s3.delete_bucket_encryption(Bucket=_bucket_name(state))
    except ClientError as exc:
        if not _gone(exc, "ServerSideEncryptionConfigurationNotFoundError"):
            raise aws_failure(f"deleting S3 Bucket ({_bucket_name(state)}) Server-side Encryption", exc) from exc


SERVER_SIDE_ENCRYPTION = Handler(
    type_name="aws_s3_bucket_server_side_encryption_configuration",
    create=_sse_put,
    read=_sse_read,
    update=lambda api, prior, planned: _sse_put(api, planned),
    delete=_sse_delete,
    import_state=lambda api, import_id: {"id": import_id, "bucket": _bucket_of(import_id)},
    replace_on=frozenset({"bucket", "expected_bucket_owner"}),
)


# --- aws_s3_bucket_lifecycle_configuration


def _lc_filter_out(f: dict[str, Any]) -> dict[str, Any]:
    and_ = first_block(f.get("and"))
    if and_:
        body: dict[str, Any] = {}
        if and_.get("prefix") is not None:
            body["Prefix"] = and_["prefix"]
        if and_.get("tags"):
            body["Tags"] = _tags_list(and_["tags"])
        for tf, aws in (
            ("object_size_greater_than", "ObjectSizeGreaterThan"),
            ("object_size_less_than", "ObjectSizeLessThan"),
        ):
            if and_.get(tf) is not None:
                body[aws] = int(and_[tf])
        return {"And": body}
    out: dict[str, Any] = {}
    tag = first_block(f.get("tag"))
    if tag:
        out["Tag"] = {"Key": tag["key"], "Value": tag["value"]}
    if f.get("prefix") is not None:
        out["Prefix"] = f["prefix"]
    if f.get("object_size_greater_than") is not None:
        out["ObjectSizeGreaterThan"] = int(f["object_size_greater_than"])
    if f.get("object_size_less_than") is not None:
        out["ObjectSizeLessThan"] = int(f["object_size_less_than"])
    return out  # {} = the whole bucket (an empty `filter {}` block)


def _lc_rule_out(rule: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"ID": rule["id"], "Status": rule["status"]}
    if rule.get("filter"):
        out["Filter"] = _lc_filter_out(first_block(rule["filter"]))
    else:
        out["Prefix"] = rule.get("prefix") or ""  # the deprecated rule-level prefix
    transitions = []
    for t in rule.get("transition") or []:
        body: dict[str, Any] = {"StorageClass": t["storage_class"]}
        if t.get("date"):
            body["Date"] = t["date"]
        elif t.get("days") is not None:
            body["Days"] = int(t["days"])
        transitions.append(body)
    if transitions:
        out["Transitions"] = transitions
    expiration = first_block(rule.get("expiration"))
    if expiration:
        body = {}
        if expiration.get("date"):
            body["Date"] = expiration["date"]
        if expiration.get("days") is not None:
            body["Days"] = int(expiration["days"])
        if expiration.get("expired_object_delete_marker") is not None:
            body["ExpiredObjectDeleteMarker"] = bool(expiration["expired_object_delete_marker"])
        out["Expiration"] = body
    noncurrent = []
    for t in rule.get("noncurrent_version_transition") or []:
        body = {"NoncurrentDays": int(t["noncurrent_days"]), "StorageClass": t["storage_class"]}
        if t.get("newer_noncurrent_versions") is not None:
            body["NewerNoncurrentVersions"] = int(t["newer_noncurrent_versions"])
        noncurrent.append(body)
    if noncurrent:
        out["NoncurrentVersionTransitions"] = noncurrent
    nve = first_block(rule.get("noncurrent_version_expiration"))
    if nve:
        body = {"NoncurrentDays": int(nve["noncurrent_days"])}
        if nve.get("newer_noncurrent_versions") is not None:
            body["NewerNoncurrentVersions"] = int(nve["newer_noncurrent_versions"])
        out["NoncurrentVersionExpiration"] = body
    abort = first_block(rule.get("abort_incomplete_multipart_upload"))
    if abort and abort.get("days_after_initiation") is not None:
        out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(abort["days_after_initiation"])}
    return out


def _lc_filter_in(live: dict[str, Any], prior: dict[str, Any]) -> dict[str, Any]:
    and_, tag = live.get("And"), live.get("Tag")
    prefix = live.get("Prefix")
    if prefix == "" and prior.get("prefix") is None:
        prefix = None  # S3 may echo the whole-bucket filter as Prefix ""
    return {
        "prefix": prefix,
        "object_size_greater_than": _num(live.get("ObjectSizeGreaterThan")),
        "object_size_less_than": _num(live.get("ObjectSizeLessThan")),
        "tag": [{"key": tag["Key"], "value": tag["Value"]}] if tag else [],
        "and": (
            [
                {
                    "prefix": and_.get("Prefix"),
                    "tags": tag_dict(and_.get("Tags")) or None,
                    "object_size_greater_than": _num(and_.get("ObjectSizeGreaterThan")),
                    "object_size_less_than": _num(and_.get("ObjectSizeLessThan")),
                }
            ]
            if and_
            else []
        ),
    }


def _lc_rule_in(live: dict[str, Any], prior: dict[str, Any]) -> dict[str, Any]:
    expiration = live.get("Expiration")
    nve = live.get("NoncurrentVersionExpiration")
    abort = live.get("AbortIncompleteMultipartUpload")
    return {
        "id": live.get("ID"),
        "status": live.get("Status"),
        # the deprecated rule-level prefix (computed): "" where the configuration left it null is null
        "prefix": None if live.get("Prefix") == "" and prior.get("prefix") is None else live.get("Prefix"),
        "filter": [_lc_filter_in(live["Filter"], first_block(prior.get("filter")))] if "Filter" in live else [],
        "transition": [
            {"date": _date(t.get("Date")), "days": _num(t.get("Days")), "storage_class": t.get("StorageClass")}
            for t in live.get("Transitions") or []
        ],
        "expiration": (
            [
                {
                    "date": _date(expiration.get("Date")),
                    "days": _num(expiration.get("Days")),
                    "expired_object_delete_marker": expiration.get("ExpiredObjectDeleteMarker"),
                }
            ]
            if expiration
            else []
        ),
        "noncurrent_version_transition": [
            {
                "noncurrent_days": _num(t.get("NoncurrentDays")),
                "storage_class": t.get("StorageClass"),
                "newer_noncurrent_versions": _num(t.get("NewerNoncurrentVersions")),
            }
            for t in live.get("NoncurrentVersionTransitions") or []
        ],
        "noncurrent_version_expiration": (
            [
                {
                    "noncurrent_days": _num(nve.get("NoncurrentDays")),
                    "newer_noncurrent_versions": _num(nve.get("NewerNoncurrentVersions")),
                }
            ]
            if nve
            else []
        ),
        "abort_incomplete_multipart_upload": (
            [{"days_after_initiation": _num(abort.get("DaysAfterInitiation"))}] if abort else []
        ),
    }


def _lifecycle_put(api: Api, planned: State) -> State:
    args: dict[str, Any] = {
        "Bucket": planned["bucket"],
        "LifecycleConfiguration": {"Rules": [_lc_rule_out(r) for r in planned.get("rule") or []]},
    }
    if planned.get("transition_default_minimum_object_size"):
        args["TransitionDefaultMinimumObjectSize"] = planned["transition_default_minimum_object_size"]
    if planned.get("expected_bucket_owner"):
        args["ExpectedBucketOwner"] = planned["expected_bucket_owner"]
    try:
        api.s3.put_bucket_lifecycle_configuration(**args)
    except ClientError as exc:
        raise aws_failure(f"creating S3 Bucket ({planned['bucket']}) Lifecycle Configuration", exc) from exc
    live = _lifecycle_read(api, {**planned, "id": planned["bucket"]})
    if live is None:
        raise ResourceError(
            f"Lifecycle configuration for bucket {planned['bucket']} not found right after it was written"
        )
    # What the plan knows stands (a read that differs shows in the next plan); computed values from S3.
    return {
        **planned,
        "id": live["id"],
        "region": api.region,
        "rule": _fill(planned.get("rule"), live["rule"]),
        "transition_default_minimum_object_size": planned.get("transition_default_minimum_object_size")
        or live["transition_default_minimum_object_size"],
    }


def _lifecycle_read(api: Api, state: State) -> State | None:
    bucket = _bucket_name(state)
    try:
        live = api.s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    except ClientError as exc:
        if _gone(exc, "NoSuchLifecycleConfiguration"):
            return None
        raise aws_failure(f"reading S3 Bucket ({bucket}) Lifecycle Configuration", exc) from exc
    prior_rules = {r.get("id"): r for r in state.get("rule") or []}
    return {
        "id": bucket,
        "bucket": bucket,
        "region": api.region,
        "transition_default_minimum_object_size": live.get("TransitionDefaultMinimumObjectSize"),
        "rule": [_lc_rule_in(r, prior_rules.get(r.get("ID")) or {}) for r in live.get("Rules", [])],
    }


def _lifecycle_delete(api: Api, state: State) -> None:
    try:
        api.s3.delete_bucket_lifecycle(Bucket=_bucket_name(state))
    except ClientError as exc:
        if not _gone(exc, "NoSuchLifecycleConfiguration"):
            raise aws_failure(f"deleting S3 Bucket ({_bucket_name(state)}) Lifecycle Configuration", exc) from exc


LIFECYCLE = Handler(
    type_name="aws_s3_bucket_lifecycle_configuration",
    create=_lifecycle_put,
    read=_lifecycle_read,
    update=lambda api, prior, planned: _lifecycle_put(api, planned),
    delete=_lifecycle_delete,
    import_state=lambda api, import_id: {"id": import_id, "bucket": _bucket_of(import_id)},
    replace_on=frozenset({"bucket", "expected_bucket_owner"}),
)


# --- aws_s3_bucket_cors_configuration

_CORS_LISTS = {
    "allowed_headers": "AllowedHeaders",
    "allowed_methods": "AllowedMethods",
    "allowed_origins": "AllowedOrigins",
    "expose_headers": "ExposeHeaders",
}


def _cors_put(api: Api, planned: State) -> State:
    rules = []
    for rule in planned.get("cors_rule") or []:
        body: dict[str, Any] = {aws: list(rule[tf]) for tf, aws in _CORS_LISTS.items() if rule.get(tf)}
        if rule.get("max_age_seconds") is not None:
            body["MaxAgeSeconds"] = int(rule["max_age_seconds"])
        if rule.get("id"):
            body["ID"] = rule["id"]
        rules.append(body)
    args: dict[str, Any] = {"Bucket": planned["bucket"], "CORSConfiguration": {"CORSRules": rules}}
    if planned.get("expected_bucket_owner"):
        args["ExpectedBucketOwner"] = planned["expected_bucket_owner"]
    try:
        api.s3.put_bucket_cors(**args)
    except ClientError as exc:
        raise aws_failure(f"creating S3 Bucket ({planned['bucket']}) CORS Configuration", exc) from exc
    return _after_put(api, planned, _cors_read, "CORS configuration")


def _cors_read(api: Api, state: State) -> State | None:
    bucket = _bucket_name(state)
    try:
        live = api.s3.get_bucket_cors(Bucket=bucket)
    except ClientError as exc:
        if _gone(exc, "NoSuchCORSConfiguration"):
            return None
        raise aws_failure(f"reading S3 Bucket ({bucket}) CORS Configuration", exc) from exc
    prior_rules = state.get("cors_rule") or []
    rules = []
    for i, rule in enumerate(live.get("CORSRules", [])):
        prior = prior_rules[i] if i < len(prior_rules) else {}
        out: dict[str, Any] = {tf: _empty_list_kept(prior.get(tf), rule.get(aws)) for tf, aws in _CORS_LISTS.items()}
        out["id"] = rule.get("ID")
        out["max_age_seconds"] = _num(rule.get("MaxAgeSeconds"))
        rules.append(out)
    return {"id": bucket, "bucket": bucket, "region": api.region, "cors_rule": rules}


def _cors_delete(api: Api, state: State) -> None:
    try:
        api.s3.delete_bucket_cors(Bucket=_bucket_name(state))
    except ClientError as exc:
        if not _gone(exc, "NoSuchCORSConfiguration"):
            raise aws_failure(f"deleting S3 Bucket ({_bucket_name(state)}) CORS Configuration", exc) from exc


CORS = Handler(
    type_name="aws_s3_bucket_cors_configuration",
    create=_cors_put,
    read=_cors_read,
    update=lambda api, prior, planned: _cors_put(api, planned),
    delete=_cors_delete,
    import_state=lambda api, import_id: {"id": import_id, "bucket": _bucket_of(import_id)},
    replace_on=frozenset({"bucket", "expected_bucket_owner"}),
)


# --- aws_s3_bucket_logging


def _logging_body(planned: State) -> dict[str, Any]:
    body: dict[str, Any] = {
        "TargetBucket": planned["target_bucket"],
        "TargetPrefix": planned.get("target_prefix") or "",
    }
    grants = []
    for grant in planned.get("target_grant") or []:
        grantee = first_block(grant.get("grantee"))
        g: dict[str, Any] = {"Type": grantee["type"]}
        for tf, aws in (("id", "ID"), ("uri", "URI"), ("email_address", "EmailAddress")):
            if grantee.get(tf):
                g[aws] = grantee[tf]
        grants.append({"Grantee": g, "Permission": grant["permission"]})
    if grants:
        body["TargetGrants"] = grants
    key_format = first_block(planned.get("target_object_key_format"))
    if key_format:
        partitioned = first_block(key_format.get("partitioned_prefix"))
        if partitioned:
            body["TargetObjectKeyFormat"] = {
                "PartitionedPrefix": {"PartitionDateSource": partitioned["partition_date_source"]}
            }
        else:
            body["TargetObjectKeyFormat"] = {"SimplePrefix": {}}
    return body


def _logging_put(api: Api, planned: State) -> State:
    bucket, target = planned["bucket"], planned["target_bucket"]
    args: dict[str, Any] = {"Bucket": bucket, "BucketLoggingStatus": {"LoggingEnabled": _logging_body(planned)}}
    if planned.get("expected_bucket_owner"):
        args["ExpectedBucketOwner"] = planned["expected_bucket_owner"]
    try:
        _with_moto_logging_grant(api, target, lambda: api.s3.put_bucket_logging(**args))
    except ClientError as exc:
        raise aws_failure(f"putting S3 Bucket ({bucket}) Logging", exc) from exc
    return _after_put(api, planned, _logging_read, "Logging")


def _with_moto_logging_grant(api: Api, target: str, call: Any) -> None:
    """moto's logging-permission check reads `Principal.Service` of every statement of the target's
    policy and fails (HTTP 500) on one whose Principal is a string ("*"): for the call only, the
    target's policy is cut down to its statements with an object Principal, then put back as it was."""
    try:
        original = api.s3.get_bucket_policy(Bucket=target)["Policy"]
        statements = json.loads(original).get("Statement", [])
    except (ClientError, ValueError, AttributeError):
        call()
        return
    if isinstance(statements, dict):
        statements = [statements]
    kept = [s for s in statements if isinstance(s, dict) and isinstance(s.get("Principal"), dict)]
    if len(kept) == len(statements):
        call()
        return
    if kept:
        api.s3.put_bucket_policy(Bucket=target, Policy=json.dumps({**json.loads(original), "Statement": kept}))
    else:
        api.s3.delete_bucket_policy(Bucket=target)
    try:
        call()
    finally:
        api.s3.put_bucket_policy(Bucket=target, Policy=original)


def _logging_read(api: Api, state: State) -> State | None:
    bucket = _bucket_name(state)
    try:
        live = api.s3.get_bucket_logging(Bucket=bucket).get("LoggingEnabled")
    except ClientError as exc:
        if _gone(exc):
            return None
        raise aws_failure(f"reading S3 Bucket ({bucket}) Logging", exc) from exc
    if not live:
        return None
    grants = []
    for grant in live.get("TargetGrants") or []:
        g = grant.get("Grantee", {})
        grants.append(
            {
                "permission": grant.get("Permission"),
                "grantee": [
                    {
                        "type": g.get("Type"),
                        "id": g.get("ID"),
                        "uri": g.get("URI"),
                        "email_address": g.get("EmailAddress"),
                        "display_name": g.get("DisplayName"),
                    }
                ],
            }
        )
    key_format = live.get("TargetObjectKeyFormat")
    formats = []
    if key_format:
        partitioned = key_format.get("PartitionedPrefix")
        formats.append(
            {
                "partitioned_prefix": (
                    [{"partition_date_source": partitioned.get("PartitionDateSource")}] if partitioned else []
                ),
                "simple_prefix": [{}] if "SimplePrefix" in key_format else [],
            }
        )
    return {
        "id": bucket,
        "bucket": bucket,
        "region": api.region,
        "target_bucket": live.get("TargetBucket"),
        "target_prefix": live.get("TargetPrefix") or "",
        "target_grant": grants,
        "target_object_key_format": formats,
    }


def _logging_delete(api: Api, state: State) -> None:
    try:
        api.s3.put_bucket_logging(Bucket=_bucket_name(state), BucketLoggingStatus={})
    except ClientError as exc:
        if not _gone(exc):
            raise aws_failure(f"deleting S3 Bucket ({_bucket_name(state)}) Logging", exc) from exc


LOGGING = Handler(
    type_name="aws_s3_bucket_logging",
    create=_logging_put,
    read=_logging_read,
    update=lambda api, prior, planned: _logging_put(api, planned),
    delete=_logging_delete,
    import_state=lambda api, import_id: {"id": import_id, "bucket": _bucket_of(import_id)},
    replace_on=frozenset({"bucket", "expected_bucket_owner"}),
)


# --- aws_s3_bucket_intelligent_tiering_configuration (id and import id `bucket:name`)


def _it_split(state: State) -> tuple[str, str]:
    if state.get("bucket") and state.get("name"):
        return str(state["bucket"]), str(state["name"])
    bucket, _, name = str(state["id"]).partition(":")
    return bucket, name


def _it_get(api: Api, bucket: str, name: str) -> dict[str, Any] | None:
    """The live configuration; None when there is none; {} when the emulator does not implement the
    call: moto answers GET ?intelligent-tiering with an empty 200 (it has no such API), and would
    take a PUT for CreateBucket and a DELETE for DeleteBucket."""
    try:
        live = api.s3.get_bucket_intelligent_tiering_configuration(Bucket=bucket, Id=name)
    except ClientError as exc:
        if _gone(exc, "NoSuchConfiguration"):
            return None
        raise aws_failure(f"reading S3 Bucket ({bucket}) Intelligent-Tiering Configuration ({name})", exc) from exc
    config: dict[str, Any] = live.get("IntelligentTieringConfiguration") or {}
    return config


def _it_put(api: Api, planned: State) -> State:
    bucket, name = planned["bucket"], planned["name"]
    body: dict[str, Any] = {
        "Id": name,
        "Status": planned.get("status") or "Enabled",
        "Tierings": [{"AccessTier": t["access_tier"], "Days": int(t["days"])} for t in planned.get("tiering") or []],
    }
    f = first_block(planned.get("filter"))
    if f:
        tags, prefix = f.get("tags") or {}, f.get("prefix")
        if len(tags) + (prefix is not None) > 1:
            and_: dict[str, Any] = {"Tags": _tags_list(tags)}
            if prefix is not None:
                and_["Prefix"] = prefix
            body["Filter"] = {"And": and_}
        elif tags:
            body["Filter"] = {"Tag": _tags_list(tags)[0]}
        else:
            body["Filter"] = {"Prefix": prefix}
    state = {**planned, "id": f"{bucket}:{name}", "region": api.region}
    live = _it_get(api, bucket, name)
    if live is not None and not live.get("Id"):
        return state  # moto has no intelligent-tiering API (see _it_get): nothing is stored
    try:
        api.s3.put_bucket_intelligent_tiering_configuration(
            Bucket=bucket, Id=name, IntelligentTieringConfiguration=body
        )
    except ClientError as exc:
        raise aws_failure(f"creating S3 Bucket ({bucket}) Intelligent-Tiering Configuration ({name})", exc) from exc
    return dict(_fill(state, _it_read(api, state) or {}))


def _it_read(api: Api, state: State) -> State | None:
    bucket, name = _it_split(state)
    live = _it_get(api, bucket, name)
    if live is None:
        return None
    out: State = {"id": f"{bucket}:{name}", "bucket": bucket, "name": name, "region": api.region}
    if not live.get("Id"):
        return out  # moto: nothing to read back (see _it_get); the other values keep their state
    f = live.get("Filter")
    filters = []
    if f:
        and_ = f.get("And") or {}
        tags = tag_dict(and_.get("Tags")) or (tag_dict([f["Tag"]]) if f.get("Tag") else {})
        filters.append({"prefix": and_.get("Prefix", f.get("Prefix")), "tags": tags or None})
    out.update(
        status=live.get("Status"),
        filter=filters,
        tiering=[{"access_tier": t.get("AccessTier"), "days": _num(t.get("Days"))} for t in live.get("Tierings", [])],
    )
    return out


def _it_delete(api: Api, state: State) -> None:
    bucket, name = _it_split(state)
    live = _it_get(api, bucket, name)
    if not live or not live.get("Id"):
        return  # gone, or moto (whose DELETE ?intelligent-tiering would delete the bucket itself)
    try:
        api.s3.delete_bucket_intelligent_tiering_configuration(Bucket=bucket, Id=name)
    except ClientError as exc:
        if not _gone(exc, "NoSuchConfiguration"):
            raise aws_failure(f"deleting S3 Bucket ({bucket}) Intelligent-Tiering Configuration ({name})", exc) from exc


def _it_import(api: Api, import_id: str) -> State | None:
    bucket, sep, name = import_id.partition(":")
    if not sep or not bucket or not name:
        raise ResourceError(
            f"unexpected import id {import_id!r}", "An intelligent-tiering configuration is imported as BUCKET:NAME."
        )
    return {"id": import_id, "bucket": bucket, "name": name}


INTELLIGENT_TIERING = Handler(
    type_name="aws_s3_bucket_intelligent_tiering_configuration",
    create=_it_put,
    read=_it_read,
    update=lambda api, prior, planned: _it_put(api, planned),
    delete=_it_delete,
    import_state=_it_import,
    replace_on=frozenset({"bucket", "name"}),
)


# --- aws_s3_bucket_object_lock_configuration


def _olc_put(api: Api, planned: State) -> State:
    bucket = planned["bucket"]
    config: dict[str, Any] = {"ObjectLockEnabled": planned.get("object_lock_enabled") or "Enabled"}
    retention = first_block(first_block(planned.get("rule")).get("default_retention"))
    if planned.get("rule"):
        body: dict[str, Any] = {}
        if retention.get("mode"):
            body["Mode"] = retention["mode"]
        if retention.get("days") is not None:
            body["Days"] = int(retention["days"])
        if retention.get("years") is not None:
            body["Years"] = int(retention["years"])
        config["Rule"] = {"DefaultRetention": body}
    args: dict[str, Any] = {"Bucket": bucket, "ObjectLockConfiguration": config}
    for tf, aws in (("token", "Token"), ("expected_bucket_owner", "ExpectedBucketOwner")):
        if planned.get(tf):
            args[aws] = planned[tf]
    try:
        api.s3.put_object_lock_configuration(**args)
    except ClientError as exc:
        raise aws_failure(f"creating S3 Bucket ({bucket}) Object Lock Configuration", exc) from exc
    return _after_put(api, planned, _olc_read, "Object lock configuration")


def _olc_read(api: Api, state: State) -> State | None:
    bucket = _bucket_name(state)
    try:
        live = api.s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except ClientError as exc:
        if _gone(exc, "ObjectLockConfigurationNotFoundError"):
            return None
        raise aws_failure(f"reading S3 Bucket ({bucket}) Object Lock Configuration", exc) from exc
    retention = (live.get("Rule") or {}).get("DefaultRetention")
    if not retention and state.get("rule"):
        return None  # the rule this resource wrote is gone (what its delete leaves)
    rules = []
    if retention:
        # moto reports Years 0 next to Days (S3 accepts only >= 1 for either): 0 is "not set".
        rules.append(
            {
                "default_retention": [
                    {
                        "mode": retention.get("Mode"),
                        "days": _num(retention.get("Days")) or None,
                        "years": _num(retention.get("Years")) or None,
                    }
                ]
            }
        )
    enabled = live.get("ObjectLockEnabled")
    return {
        "id": bucket,
        "bucket": bucket,
        "region": api.region,
        # Optional, sent as "Enabled" when unset: report that as the null the configuration wrote.
        "object_lock_enabled": None if state.get("object_lock_enabled") is None and enabled == "Enabled" else enabled,
        "rule": rules,
    }


def _olc_delete(api: Api, state: State) -> None:
    # Object lock cannot be turned off: as the real provider does, drop the default retention rule.
    try:
        api.s3.put_object_lock_configuration(
            Bucket=_bucket_name(state), ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
        )
    except ClientError as exc:
        if not _gone(exc, "ObjectLockConfigurationNotFoundError", "InvalidBucketState"):
            raise aws_failure(f"deleting S3 Bucket ({_bucket_name(state)}) Object Lock Configuration", exc) from exc


OBJECT_LOCK = Handler(
    type_name="aws_s3_bucket_object_lock_configuration",
    create=_olc_put,
    read=_olc_read,
    update=lambda api, prior, planned: _olc_put(api, planned),
    delete=_olc_delete,
    import_state=lambda api, import_id: {"id": import_id, "bucket": _bucket_of(import_id)},
    replace_on=frozenset({"bucket", "expected_bucket_owner", "object_lock_enabled"}),
)


# --- aws_s3_bucket_replication_configuration


def _status(block: Any) -> dict[str, Any] | None:
    one = first_block(block)
    return {"Status": one["status"]} if one else None


def _repl_rule_out(rule: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"Status": rule["status"]}
    if rule.get("id"):
        out["ID"] = rule["id"]
    if rule.get("priority") is not None:
        out["Priority"] = int(rule["priority"])
    f = first_block(rule.get("filter"))
    if rule.get("filter"):
        and_, tag = first_block(f.get("and")), first_block(f.get("tag"))
        if and_:
            body: dict[str, Any] = {"Tags": _tags_list(and_.get("tags"))}
            if and_.get("prefix") is not None:
                body["Prefix"] = and_["prefix"]
            out["Filter"] = {"And": body}
        elif tag:
            out["Filter"] = {"Tag": {"Key": tag["key"], "Value": tag["value"]}}
        else:
            out["Filter"] = {"Prefix": f.get("prefix") or ""}
    elif rule.get("prefix") is not None:
        out["Prefix"] = rule["prefix"]
    dest = first_block(rule.get("destination"))
    d: dict[str, Any] = {"Bucket": dest["bucket"]}
    if dest.get("storage_class"):
        d["StorageClass"] = dest["storage_class"]
    if dest.get("account"):
        d["Account"] = dest["account"]
    enc = first_block(dest.get("encryption_configuration"))
    if enc:
        d["EncryptionConfiguration"] = {"ReplicaKmsKeyID": enc["replica_kms_key_id"]}
    act = first_block(dest.get("access_control_translation"))
    if act:
        d["AccessControlTranslation"] = {"Owner": act["owner"]}
    metrics = first_block(dest.get("metrics"))
    if metrics:
        m: dict[str, Any] = {"Status": metrics["status"]}
        threshold = first_block(metrics.get("event_threshold"))
        if threshold:
            m["EventThreshold"] = {"Minutes": int(threshold["minutes"])}
        d["Metrics"] = m
    rtc = first_block(dest.get("replication_time"))
    if rtc:
        d["ReplicationTime"] = {
            "Status": rtc["status"],
            "Time": {"Minutes": int(first_block(rtc.get("time"))["minutes"])},
        }
    out["Destination"] = d
    for tf, aws in (
        ("delete_marker_replication", "DeleteMarkerReplication"),
        ("existing_object_replication", "ExistingObjectReplication"),
    ):
        status = _status(rule.get(tf))
        if status:
            out[aws] = status
    ssc = first_block(rule.get("source_selection_criteria"))
    if ssc:
        criteria: dict[str, Any] = {}
        for tf, aws in (
            ("sse_kms_encrypted_objects", "SseKmsEncryptedObjects"),
            ("replica_modifications", "ReplicaModifications"),
        ):
            status = _status(ssc.get(tf))
            if status:
                criteria[aws] = status
        out["SourceSelectionCriteria"] = criteria
    return out


def _status_in(live: Any) -> list[dict[str, Any]]:
    return [{"status": live.get("Status")}] if live else []


def _repl_rule_in(live: dict[str, Any], prior: dict[str, Any]) -> dict[str, Any]:
    priority = _num(live.get("Priority"))
    if prior.get("priority") is None and priority in (0, 1):
        priority = None  # not set: S3 assigns 0 (moto 1)
    f = live.get("Filter")
    filters = []
    if f is not None:
        and_, tag = f.get("And"), f.get("Tag")
        filters.append(
            {
                "prefix": f.get("Prefix"),
                "tag": [{"key": tag["Key"], "value": tag["Value"]}] if tag else [],
                "and": [{"prefix": and_.get("Prefix"), "tags": tag_dict(and_.get("Tags")) or None}] if and_ else [],
            }
        )
    d = live.get("Destination") or {}
    metrics, rtc = d.get("Metrics"), d.get("ReplicationTime")
    ssc = live.get("SourceSelectionCriteria")
    return {
        "id": live.get("ID"),
        "priority": priority,
        "prefix": live.get("Prefix"),
        "status": live.get("Status"),
        "filter": filters,
        "delete_marker_replication": _status_in(live.get("DeleteMarkerReplication")),
        "existing_object_replication": _status_in(live.get("ExistingObjectReplication")),
        "destination": [
            {
                "bucket": d.get("Bucket"),
                "storage_class": d.get("StorageClass"),
                "account": d.get("Account"),
                "encryption_configuration": (
                    [{"replica_kms_key_id": d["EncryptionConfiguration"].get("ReplicaKmsKeyID")}]
                    if d.get("EncryptionConfiguration")
                    else []
                ),
                "access_control_translation": (
                    [{"owner": d["AccessControlTranslation"].get("Owner")}] if d.get("AccessControlTranslation") else []
                ),
                "metrics": (
                    [
                        {
                            "status": metrics.get("Status"),
                            "event_threshold": (
                                [{"minutes": _num(metrics["EventThreshold"].get("Minutes"))}]
                                if metrics.get("EventThreshold")
                                else []
                            ),
                        }
                    ]
                    if metrics
                    else []
                ),
                "replication_time": (
                    [{"status": rtc.get("Status"), "time": [{"minutes": _num((rtc.get("Time") or {}).get("Minutes"))}]}]
                    if rtc
                    else []
                ),
            }
        ],
        "source_selection_criteria": (
            [
                {
                    "sse_kms_encrypted_objects": _status_in(ssc.get("SseKmsEncryptedObjects")),
                    "replica_modifications": _status_in(ssc.get("ReplicaModifications")),
                }
            ]
            if ssc
            else []
        ),
    }


def _repl_put(api: Api, planned: State) -> State:
    bucket = planned["bucket"]
    args: dict[str, Any] = {
        "Bucket": bucket,
        "ReplicationConfiguration": {
            "Role": planned["role"],
            "Rules": [_repl_rule_out(r) for r in planned.get("rule") or []],
        },
    }
    if planned.get("token"):
        args["Token"] = planned["token"]
    try:
        api.s3.put_bucket_replication(**args)
    except ClientError as exc:
        raise aws_failure(f"creating S3 Bucket ({bucket}) Replication Configuration", exc) from exc
    live = _repl_read(api, {**planned, "id": bucket})
    if live is None:
        raise ResourceError(f"Replication configuration for bucket {bucket} not found right after it was written")
    # The plan's values stand (what moto drops shows in the next plan); computed rule ids from S3.
    return {**planned, "id": bucket, "region": api.region, "rule": _fill(planned.get("rule"), live["rule"])}


def _repl_read(api: Api, state: State) -> State | None:
    bucket = _bucket_name(state)
    try:
        live = api.s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
    except ClientError as exc:
        if _gone(exc, "ReplicationConfigurationNotFoundError"):
            return None
        raise aws_failure(f"reading S3 Bucket ({bucket}) Replication Configuration", exc) from exc
    prior_rules = state.get("rule") or []
    rules = []
    for i, rule in enumerate(live.get("Rules", [])):
        prior = next((r for r in prior_rules if r.get("id") and r.get("id") == rule.get("ID")), None)
        if prior is None:
            prior = prior_rules[i] if i < len(prior_rules) else {}
        rules.append(_repl_rule_in(rule, prior))
    return {"id": bucket, "bucket": bucket, "region": api.region, "role": live.get("Role"), "rule": rules}


def _repl_delete(api: Api, state: State) -> None:
    try:
        api.s3.delete_bucket_replication(Bucket=_bucket_name(state))
    except ClientError as exc:
        if not _gone(exc, "ReplicationConfigurationNotFoundError"):
            raise aws_failure(f"deleting S3 Bucket ({_bucket_name(state)}) Replication Configuration", exc) from exc


REPLICATION = Handler(
    type_name="aws_s3_bucket_replication_configuration",
    create=_repl_put,
    read=_repl_read,
    update=lambda api, prior, planned: _repl_put(api, planned),
    delete=_repl_delete,
    import_state=lambda api, import_id: {"id": import_id, "bucket": _bucket_of(import_id)},
    replace_on=frozenset({"bucket"}),
)

HANDLERS: list[Handler] = [
    BUCKET,
    OWNERSHIP_CONTROLS,
    PUBLIC_ACCESS_BLOCK,
    POLICY,
    VERSIONING,
    SERVER_SIDE_ENCRYPTION,
    LIFECYCLE,
    CORS,
    LOGGING,
    INTELLIGENT_TIERING,
    OBJECT_LOCK,
    REPLICATION,
]

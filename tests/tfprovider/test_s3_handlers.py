"""S3 handlers against moto: create, read back as written, drift seen, update, import, delete."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from toolkit.tfprovider.resources.base import Api, Handler, ResourceError
from toolkit.tfprovider.resources.s3 import (
    BUCKET,
    CORS,
    HANDLERS,
    INTELLIGENT_TIERING,
    LIFECYCLE,
    LOGGING,
    OBJECT_LOCK,
    OWNERSHIP_CONTROLS,
    POLICY,
    PUBLIC_ACCESS_BLOCK,
    REPLICATION,
    SERVER_SIDE_ENCRYPTION,
    VERSIONING,
)


def test_versioning_round_trip_drift_and_import(api: Api, unique: Callable[[str], str]) -> None:
    name = unique("ver")
    api.s3.create_bucket(Bucket=name)
    planned = {"bucket": name, "versioning_configuration": [{"status": "Enabled", "mfa_delete": None}]}
    state = VERSIONING.create(api, planned)
    assert state["id"] == name
    read = VERSIONING.read(api, state)
    assert read is not None and read["versioning_configuration"] == planned["versioning_configuration"]

    api.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    drifted = VERSIONING.read(api, state)
    assert drifted is not None and drifted["versioning_configuration"][0]["status"] == "Suspended"

    imported = VERSIONING.import_state(api, name)
    assert imported is not None
    assert VERSIONING.read(api, imported) == drifted

    VERSIONING.delete(api, state)
    assert api.s3.get_bucket_versioning(Bucket=name)["Status"] == "Suspended"
    api.s3.delete_bucket(Bucket=name)
    assert VERSIONING.read(api, state) is None


# --- helpers


def _bucket(api: Api, name: str, **kwargs: Any) -> None:
    api.s3.create_bucket(Bucket=name, **kwargs)


def _subset(state: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any]:
    return {k: state.get(k) for k in planned}


def _import_reads_same(handler: Handler, api: Api, import_id: str, read: dict[str, Any] | None) -> None:
    imported = handler.import_state(api, import_id)
    assert imported is not None
    assert handler.read(api, imported) == read


# --- aws_s3_bucket


def test_bucket_round_trip_tags_import_and_force_destroy(api: Api, unique: Callable[[str], str]) -> None:
    name = unique("bkt")
    planned = {
        "bucket": name,
        "force_destroy": True,
        "object_lock_enabled": False,
        "tags": {"Team": "data"},
        "tags_all": {"Team": "data"},
    }
    state = BUCKET.create(api, planned)
    assert _subset(state, planned) == planned
    assert state["id"] == name and state["arn"] == f"arn:aws:s3:::{name}"
    assert state["bucket_domain_name"] == f"{name}.s3.amazonaws.com"
    assert state["bucket_regional_domain_name"] == f"{name}.s3.us-east-1.amazonaws.com"
    assert state["hosted_zone_id"] == "Z3AQBSTGFYJSTF" and state["region"] == state["bucket_region"] == "us-east-1"
    read = BUCKET.read(api, state)
    assert read is not None and {**state, **read} == state

    api.s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "Team", "Value": "ops"}]})
    drifted = BUCKET.read(api, state)
    assert drifted is not None and drifted["tags"] == drifted["tags_all"] == {"Team": "ops"}

    updated = BUCKET.update(api, state, {**state, "tags": None, "tags_all": {}})
    assert updated["tags_all"] == {}
    read = BUCKET.read(api, updated)
    assert read is not None and read["tags"] is None and read["tags_all"] == {}

    imported = BUCKET.import_state(api, name)
    assert imported is not None and imported["force_destroy"] is False
    assert BUCKET.read(api, imported) == read

    # force_destroy: every version and delete marker goes first.
    api.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"1", b"2"):
        api.s3.put_object(Bucket=name, Key="k", Body=body)
    api.s3.delete_object(Bucket=name, Key="k")
    BUCKET.delete(api, updated)
    assert BUCKET.read(api, updated) is None
    BUCKET.delete(api, updated)  # already gone: fine


def test_bucket_refuses_non_empty_delete_and_existing_name(api: Api, unique: Callable[[str], str]) -> None:
    name = unique("bkt")
    state = BUCKET.create(api, {"bucket": name, "force_destroy": False, "tags": None, "tags_all": {}})
    assert state["object_lock_enabled"] is False and state["tags_all"] == {}
    with pytest.raises(ResourceError, match="BucketAlreadyOwnedByYou"):
        BUCKET.create(api, {"bucket": name})
    api.s3.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(ResourceError, match="BucketNotEmpty"):
        BUCKET.delete(api, state)
    BUCKET.delete(api, {**state, "force_destroy": True})
    assert BUCKET.read(api, state) is None


def test_bucket_object_lock_and_default_tags(api: Api, unique: Callable[[str], str]) -> None:
    name = unique("lock")
    api.default_tags = {"Owner": "platform"}
    planned = {"bucket": name, "object_lock_enabled": True, "tags": None, "tags_all": {"Owner": "platform"}}
    state = BUCKET.create(api, planned)
    read = BUCKET.read(api, state)
    assert read is not None and read["object_lock_enabled"] is True
    assert read["tags"] is None and read["tags_all"] == {"Owner": "platform"}
    assert "object_lock_enabled" in BUCKET.replace_on and "bucket" in BUCKET.replace_on
    BUCKET.delete(api, state)
    assert BUCKET.read(api, state) is None


# --- ownership controls, public access block


def test_ownership_controls(api: Api, unique: Callable[[str], str]) -> None:
    name = unique("own")
    _bucket(api, name)
    planned = {"bucket": name, "rule": [{"object_ownership": "BucketOwnerEnforced"}]}
    state = OWNERSHIP_CONTROLS.create(api, planned)
    assert state == {**planned, "id": name, "region": "us-east-1"}
    assert OWNERSHIP_CONTROLS.read(api, state) == state
    api.s3.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    drifted = OWNERSHIP_CONTROLS.read(api, state)
    assert drifted is not None and drifted["rule"] == [{"object_ownership": "ObjectWriter"}]
    _import_reads_same(OWNERSHIP_CONTROLS, api, name, drifted)
    assert OWNERSHIP_CONTROLS.update(api, drifted, state) == state
    OWNERSHIP_CONTROLS.delete(api, state)
    assert OWNERSHIP_CONTROLS.read(api, state) is None
    OWNERSHIP_CONTROLS.delete(api, state)


def test_public_access_block(api: Api, unique: Callable[[str], str]) -> None:
    name = unique("pab")
    _bucket(api, name)
    planned = {
        "bucket": name,
        "block_public_acls": True,
        "block_public_policy": False,
        "ignore_public_acls": True,
        "restrict_public_buckets": False,
    }
    state = PUBLIC_ACCESS_BLOCK.create(api, planned)
    assert state == {**planned, "id": name, "region": "us-east-1"}
    assert PUBLIC_ACCESS_BLOCK.read(api, state) == state
    api.s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False,
        },
    )
    drifted = PUBLIC_ACCESS_BLOCK.read(api, state)
    assert drifted is not None and drifted["block_public_acls"] is False and drifted["block_public_policy"] is True
    imported = PUBLIC_ACCESS_BLOCK.import_state(api, name)
    assert imported is not None
    read = PUBLIC_ACCESS_BLOCK.read(api, imported)
    # an import has no prior value: false reads as null, as the real provider's unset default
    assert read is not None and read["block_public_policy"] is True and read["ignore_public_acls"] is True
    assert PUBLIC_ACCESS_BLOCK.update(api, drifted, state) == state
    PUBLIC_ACCESS_BLOCK.delete(api, state)
    assert PUBLIC_ACCESS_BLOCK.read(api, state) is None


# --- policy


def test_policy_keeps_equivalent_string_and_sees_drift(api: Api, unique: Callable[[str], str]) -> None:
    name = unique("pol")
    _bucket(api, name)
    arn = f"arn:aws:s3:::{name}"
    doc: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyOutdatedTls",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}},
            }
        ],
    }
    planned = {"bucket": name, "policy": json.dumps(doc, separators=(",", ":"))}
    state = POLICY.create(api, planned)
    assert state == {**planned, "id": name, "region": "us-east-1"}
    # Same document, other spelling (S3/IAM normalisation): the prior string is kept.
    respelled = dict(doc, Statement=[{**doc["Statement"][0], "Action": ["s3:*"], "Resource": [f"{arn}/*", arn]}])
    api.s3.put_bucket_policy(Bucket=name, Policy=json.dumps(respelled, indent=2))
    assert POLICY.read(api, state) == state
    changed = dict(doc, Statement=[{**doc["Statement"][0], "Sid": "Other"}])
    api.s3.put_bucket_policy(Bucket=name, Policy=json.dumps(changed))
    drifted = POLICY.read(api, state)
    assert drifted is not None and json.loads(drifted["policy"]) == changed
    _import_reads_same(POLICY, api, name, drifted)
    assert POLICY.update(api, drifted, state) == state
    with pytest.raises(ResourceError, match="NoSuchBucket"):  # moto accepts any policy text, so: no bucket
        POLICY.create(api, {**planned, "bucket": unique("nobucket")})
    POLICY.delete(api, state)
    assert POLICY.read(api, state) is None
    POLICY.delete(api, state)


# --- server-side encryption


def test_server_side_encryption(api: Api, unique: Callable[[str], str]) -> None:
    name = unique("sse")
    _bucket(api, name)
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    planned = {
        "bucket": name,
        "rule": [
            {
                "apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms", "kms_master_key_id": key}],
                "bucket_key_enabled": True,
                "blocked_encryption_types": None,
            }
        ],
    }
    state = SERVER_SIDE_ENCRYPTION.create(api, planned)
    assert _subset(state, planned) == planned and state["id"] == name
    assert SERVER_SIDE_ENCRYPTION.read(api, state) == state
    api.s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    drifted = SERVER_SIDE_ENCRYPTION.read(api, state)
    assert drifted is not None
    assert drifted["rule"][0]["apply_server_side_encryption_by_default"] == [
        {"sse_algorithm": "AES256", "kms_master_key_id": None}
    ]
    _import_reads_same(SERVER_SIDE_ENCRYPTION, api, name, drifted)
    # sse-s3 as the module writes it: kms key and bucket key null (both computed).
    s3_plan = {
        "bucket": name,
        "rule": [
            {
                "apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256", "kms_master_key_id": None}],
                "bucket_key_enabled": None,
            }
        ],
    }
    updated = SERVER_SIDE_ENCRYPTION.update(api, drifted, s3_plan)
    assert updated["rule"][0]["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "AES256"
    assert SERVER_SIDE_ENCRYPTION.read(api, updated) == updated
    SERVER_SIDE_ENCRYPTION.delete(api, updated)
    assert SERVER_SIDE_ENCRYPTION.read(api, updated) is None


# --- lifecycle


def _lc_filter(**kw: Any) -> dict[str, Any]:
    return {
        "prefix": None,
        "object_size_greater_than": None,
        "object_size_less_than": None,
        "tag": [],
        "and": [],
        **kw,
    }


def _lc_rule(rule_id: str, **kw: Any) -> dict[str, Any]:
    return {
        "id": rule_id,
        "status": "Enabled",
        "prefix": None,
        "filter": [_lc_filter()],
        "transition": [],
        "expiration": [],
        "noncurrent_version_transition": [],
        "noncurrent_version_expiration": [],
        "abort_incomplete_multipart_upload": [],
        **kw,
    }


def test_lifecycle_module_shapes_round_trip(api: Api, unique: Callable[[str], str]) -> None:
    name = unique("lc")
    _bucket(api, name)
    rules = [
        _lc_rule(
            "archive-reports",
            filter=[
                _lc_filter(
                    **{
                        "and": [
                            {
                                "prefix": "reports/",
                                "tags": {"class": "archive", "team": "data"},
                                "object_size_greater_than": None,
                                "object_size_less_than": None,
                            }
                        ]
                    }
                )
            ],
            transition=[
                {"date": None, "days": 30, "storage_class": "STANDARD_IA"},
                {"date": None, "days": 90, "storage_class": "GLACIER"},
            ],
            expiration=[{"date": None, "days": 365, "expired_object_delete_marker": None}],
            noncurrent_version_transition=[
                {"noncurrent_days": 30, "storage_class": "GLACIER_IR", "newer_noncurrent_versions": 2}
            ],
            noncurrent_version_expiration=[{"noncurrent_days": 90, "newer_noncurrent_versions": None}],
            abort_incomplete_multipart_upload=[{"days_after_initiation": 7}],
        ),
        _lc_rule(
            "tmp-only",
            filter=[_lc_filter(prefix="tmp/")],
            expiration=[{"date": None, "days": 1, "expired_object_delete_marker": None}],
        ),
        _lc_rule(
            "tagged",
            status="Disabled",
            filter=[_lc_filter(tag=[{"key": "class", "value": "scratch"}])],
            expiration=[{"date": None, "days": 2, "expired_object_delete_marker": None}],
        ),
        _lc_rule(  # whole bucket: an empty `filter {}` block
            "whole-bucket-hygiene",
            noncurrent_version_expiration=[{"noncurrent_days": 30, "newer_noncurrent_versions": None}],
            abort_incomplete_multipart_upload=[{"days_after_initiation": 3}],
        ),
    ]
    planned = {"bucket": name, "rule": rules, "transition_default_minimum_object_size": None}
    state = LIFECYCLE.create(api, planned)
    assert state["rule"] == rules and state["id"] == name
    assert state["transition_default_minimum_object_size"] == "all_storage_classes_128K"
    read = LIFECYCLE.read(api, state)
    assert read is not None and {**state, **read} == state

    api.s3.put_bucket_lifecycle_configuration(
        Bucket=name,
        LifecycleConfiguration={
            "Rules": [
                {"ID": "tmp-only", "Status": "Disabled", "Filter": {"Prefix": "scratch/"}, "Expiration": {"Days": 5}}
            ]
        },
    )
    drifted = LIFECYCLE.read(api, state)
    assert drifted is not None
    assert drifted["rule"] == [
        _lc_rule(
            "tmp-only",
            status="Disabled",
            filter=[_lc_filter(prefix="scratch/")],
            expiration=[{"date": None, "days": 5, "expired_object_delete_marker": None}],
        )
    ]
    _import_reads_same(LIFECYCLE, api, name, drifted)
    updated = LIFECYCLE.update(api, drifted, planned)
    assert updated["rule"] == rules
    LIFECYCLE.delete(api, updated)
    assert LIFECYCLE.read(api, updated) is None


def test_lifecycle_what_moto_drops_reads_as_dropped(api: Api, unique: Callable[[str], str]) -> None:
    """moto keeps no object-size filter and no NoncurrentVersionExpiration.NewerNoncurrentVersions:
    the handler sends them (real S3 keeps them) and reports what the emulator holds."""
    name = unique("lc")
    _bucket(api, name)
    rule = _lc_rule(
        "big",
        filter=[_lc_filter(object_size_greater_than=1024)],
        noncurrent_version_expiration=[{"noncurrent_days": 90, "newer_noncurrent_versions": 3}],
    )
    state = LIFECYCLE.create(api, {"bucket": name, "rule": [rule]})
    assert state["rule"] == [rule]
    read = LIFECYCLE.read(api, state)
    assert read is not None
    assert read["rule"][0]["filter"][0]["object_size_greater_than"] is None
    assert read["rule"][0]["noncurrent_version_expiration"][0]["newer_noncurrent_versions"] is None


# --- CORS


def test_cors(api: Api, unique: Callable[[str], str]) -> None:
    name = unique("cors")
    _bucket(api, name)
    rules = [
        {
            "allowed_origins": ["https://lms.example.com"],
            "allowed_methods": ["GET", "PUT"],
            "allowed_headers": ["*"],
            "expose_headers": ["ETag"],
            "max_age_seconds": 3000,
            "id": None,
        },
        {
            "allowed_origins": ["*"],
            "allowed_methods": ["GET"],
            "allowed_headers": [],
            "expose_headers": [],
            "max_age_seconds": 3000,
            "id": None,
        },
    ]
    planned = {"bucket": name, "cors_rule": rules}
    state = CORS.create(api, planned)
    assert state == {**planned, "id": name, "region": "us-east-1"}
    assert CORS.read(api, state) == state
    api.s3.put_bucket_cors(
        Bucket=name, CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]}]}
    )
    drifted = CORS.read(api, state)
    assert drifted is not None
    assert drifted["cors_rule"] == [
        {
            "allowed_origins": ["*"],
            "allowed_methods": ["HEAD"],
            "allowed_headers": None,
            "expose_headers": None,
            "max_age_seconds": None,
            "id": None,
        }
    ]
    _import_reads_same(CORS, api, name, drifted)
    assert CORS.update(api, drifted, planned) == state
    CORS.delete(api, state)
    assert CORS.read(api, state) is None


# --- logging


def test_logging_into_a_bucket_with_the_module_policy(api: Api, unique: Callable[[str], str]) -> None:
    source, target = unique("src"), unique("logs")
    _bucket(api, source)
    _bucket(api, target)
    target_arn = f"arn:aws:s3:::{target}"
    target_policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [target_arn, f"{target_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
                {
                    "Sid": "AllowServerAccessLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"{target_arn}/{source}/*",
                    "Condition": {"ArnLike": {"aws:SourceArn": [f"arn:aws:s3:::{source}"]}},
                },
            ],
        }
    )
    api.s3.put_bucket_policy(Bucket=target, Policy=target_policy)
    planned = {"bucket": source, "target_bucket": target, "target_prefix": f"{source}/"}
    state = LOGGING.create(api, planned)
    assert _subset(state, planned) == planned and state["id"] == source
    assert state["target_grant"] == [] and state["target_object_key_format"] == []
    assert api.s3.get_bucket_policy(Bucket=target)["Policy"] == target_policy  # put back as it was
    assert LOGGING.read(api, state) == state

    other = unique("logs")
    _bucket(api, other)
    grant = {
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{other}/*",
    }
    api.s3.put_bucket_policy(Bucket=other, Policy=json.dumps({"Version": "2012-10-17", "Statement": [grant]}))
    api.s3.put_bucket_logging(
        Bucket=source, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": other, "TargetPrefix": "self/"}}
    )
    drifted = LOGGING.read(api, state)
    assert drifted is not None and (drifted["target_bucket"], drifted["target_prefix"]) == (other, "self/")
    _import_reads_same(LOGGING, api, source, drifted)
    assert LOGGING.update(api, drifted, state) == state
    LOGGING.delete(api, state)
    assert LOGGING.read(api, state) is None


# --- intelligent tiering


def test_intelligent_tiering_on_moto(api: Api, unique: Callable[[str], str]) -> None:
    """moto has no intelligent-tiering API: create stores nothing and read keeps the state as
    written; the bucket and its settings are untouched (moto would take PUT/DELETE for the bucket)."""
    name = unique("it")
    _bucket(api, name)
    api.s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    planned = {
        "bucket": name,
        "name": "cargohold",
        "status": "Enabled",
        "filter": [{"prefix": "archive/", "tags": None}],
        "tiering": [{"access_tier": "ARCHIVE_ACCESS", "days": 90}, {"access_tier": "DEEP_ARCHIVE_ACCESS", "days": 180}],
    }
    state = INTELLIGENT_TIERING.create(api, planned)
    assert state == {**planned, "id": f"{name}:cargohold", "region": "us-east-1"}
    read = INTELLIGENT_TIERING.read(api, state)
    assert read is not None and {**state, **read} == state
    imported = INTELLIGENT_TIERING.import_state(api, f"{name}:cargohold")
    assert imported == {"id": f"{name}:cargohold", "bucket": name, "name": "cargohold"}
    with pytest.raises(ResourceError):
        INTELLIGENT_TIERING.import_state(api, name)
    INTELLIGENT_TIERING.delete(api, state)
    assert api.s3.get_bucket_tagging(Bucket=name)["TagSet"] == [{"Key": "k", "Value": "v"}]
    api.s3.delete_bucket(Bucket=name)
    assert INTELLIGENT_TIERING.read(api, state) is None


# --- object lock


def test_object_lock_configuration(api: Api, unique: Callable[[str], str]) -> None:
    name = unique("olc")
    _bucket(api, name, ObjectLockEnabledForBucket=True)
    planned = {
        "bucket": name,
        "object_lock_enabled": None,
        "rule": [{"default_retention": [{"mode": "GOVERNANCE", "days": 30, "years": None}]}],
    }
    state = OBJECT_LOCK.create(api, planned)
    assert state == {**planned, "id": name, "region": "us-east-1"}
    assert OBJECT_LOCK.read(api, state) == state
    api.s3.put_object_lock_configuration(
        Bucket=name,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 1}},
        },
    )
    drifted = OBJECT_LOCK.read(api, state)
    assert drifted is not None
    assert drifted["rule"] == [{"default_retention": [{"mode": "COMPLIANCE", "days": None, "years": 1}]}]
    _import_reads_same(OBJECT_LOCK, api, name, drifted)
    assert OBJECT_LOCK.update(api, drifted, planned) == state
    OBJECT_LOCK.delete(api, state)
    assert OBJECT_LOCK.read(api, state) is None
    lock = api.s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]
    assert lock == {"ObjectLockEnabled": "Enabled"}


# --- replication


def _repl_rule(**kw: Any) -> dict[str, Any]:
    return {
        "id": "replicate",
        "priority": None,
        "prefix": None,
        "status": "Enabled",
        "filter": [{"prefix": "", "tag": [], "and": []}],
        "delete_marker_replication": [{"status": "Disabled"}],
        "existing_object_replication": [],
        "destination": [
            {
                "bucket": "arn:aws:s3:::lms-dr-student-docs",
                "storage_class": "STANDARD_IA",
                "account": None,
                "encryption_configuration": [],
                "access_control_translation": [],
                "metrics": [],
                "replication_time": [],
            }
        ],
        "source_selection_criteria": [],
        **kw,
    }


def test_replication_configuration(api: Api, unique: Callable[[str], str]) -> None:
    name = unique("repl")
    _bucket(api, name)
    role = "arn:aws:iam::123456789012:role/s3rep-x"
    planned = {"bucket": name, "role": role, "rule": [_repl_rule()]}
    with pytest.raises(ResourceError, match="InvalidRequest"):  # versioning is off
        REPLICATION.create(api, planned)
    api.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    state = REPLICATION.create(api, planned)
    assert state == {**planned, "id": name, "region": "us-east-1"}
    assert REPLICATION.read(api, state) == state

    kms = "arn:aws:kms:us-west-2:123456789012:key/abcd"
    with_key = _repl_rule()
    with_key["destination"] = [
        {**with_key["destination"][0], "encryption_configuration": [{"replica_kms_key_id": kms}]}
    ]
    updated = REPLICATION.update(api, state, {**state, "rule": [with_key]})
    assert updated["rule"] == [with_key]
    read = REPLICATION.read(api, updated)
    assert read is not None and read["rule"][0]["destination"] == with_key["destination"]
    # moto keeps no SourceSelectionCriteria: the handler sends it and reports that moto lost it.
    sse_kms = [{"sse_kms_encrypted_objects": [{"status": "Enabled"}], "replica_modifications": []}]
    updated = REPLICATION.update(
        api, updated, {**updated, "rule": [{**with_key, "source_selection_criteria": sse_kms}]}
    )
    assert updated["rule"][0]["source_selection_criteria"] == sse_kms
    read = REPLICATION.read(api, updated)
    assert read is not None and read["rule"][0]["source_selection_criteria"] == []

    api.s3.put_bucket_replication(
        Bucket=name,
        ReplicationConfiguration={
            "Role": role,
            "Rules": [
                {
                    "ID": "replicate",
                    "Status": "Disabled",
                    "Priority": 1,
                    "Filter": {"Prefix": ""},
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Destination": {"Bucket": "arn:aws:s3:::elsewhere"},
                }
            ],
        },
    )
    drifted = REPLICATION.read(api, state)
    assert drifted is not None and drifted["rule"][0]["status"] == "Disabled"
    assert drifted["rule"][0]["destination"][0]["bucket"] == "arn:aws:s3:::elsewhere"
    _import_reads_same(REPLICATION, api, name, drifted)
    REPLICATION.delete(api, state)
    assert REPLICATION.read(api, state) is None


def test_handlers_list() -> None:
    names = [h.type_name for h in HANDLERS]
    assert len(names) == len(set(names)) == 12 and "aws_s3_bucket_versioning" in names

"""`preview`'s key settings: each line says what the stack will make, from the resolved config."""

from __future__ import annotations

from pathlib import Path

from cargohold_core.config import load_project
from cargohold_core.config.settings import resource_settings

CONFIG = """\
version: 1
project: varied
environments:
  test: {region: eu-west-1, account: "123456789012"}
buckets:
  vault:
    encryption:
      type: sse-kms
      kms_key_arn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    object_lock: {mode: COMPLIANCE, days: 30}
    min_tls_version: "1.3"
    deny_unencrypted_uploads: true
    lifecycle:
      - {id: cold, prefix: archive/, transitions: [{days: 30, storage_class: STANDARD_IA}], expiration_days: 400}
      - {id: paused, enabled: false, abort_incomplete_multipart_days: 2}
    intelligent_tiering: {deep_archive_access_days: 180}
    replication: {destination_bucket_arn: "arn:aws:s3:::varied-dr-vault", storage_class: GLACIER_IR,
                  replica_kms_key_arn: "arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ac"}
  site:
    public_read_prefix: public/
    cors:
      - {allowed_origins: ["https://app.example.com"], allowed_methods: [GET, HEAD]}
tables:
  events:
    hash_key: {name: pk, type: S}
    range_key: {name: at, type: N}
    billing: provisioned
    capacity: {read: 5, write: 3}
    autoscaling: {min_read: 5, max_read: 50, min_write: 3, max_write: 30, target_utilization: 60}
    global_indexes:
      - {name: by-kind, hash_key: {name: kind, type: S}, projection: INCLUDE, non_key_attributes: [title],
         capacity: {read: 2, write: 1}}
    local_indexes:
      - {name: by-size, range_key: {name: size, type: N}, projection: KEYS_ONLY}
    stream: NEW_AND_OLD_IMAGES
    ttl_attribute: expires_at
    deletion_protection: false
principals:
  ingest:
    kind: role
    assume_role_services: [lambda.amazonaws.com]
    grants:
      - {bucket: site, prefix: public/, actions: [write]}
"""


def test_each_resource_reads_as_what_it_makes(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    settings = resource_settings(load_project(tmp_path / "config.yaml").environment("test"))
    assert settings["buckets"]["vault"] == [
        "encryption: SSE-KMS with arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab, "
        "bucket key",
        "versioning: on; object lock COMPLIANCE 30 d",
        "access: ACLs disabled; public access blocked; TLS only (>= 1.3); uploads asking for another encryption denied",
        "lifecycle cold: under 'archive/': STANDARD_IA at 30 d, expire at 400 d",
        "lifecycle paused: whole bucket: abort multipart at 2 d (disabled)",
        "replication -> arn:aws:s3:::varied-dr-vault (GLACIER_IR, replicas encrypted with "
        "arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ac)",
        "intelligent tiering: deep archive after 180 d",
    ]
    site = settings["buckets"]["site"]
    assert "access: ACLs disabled; anonymous GetObject under 'public/' only; TLS only (>= 1.2)" in site
    assert "CORS: GET,HEAD from https://app.example.com" in site
    assert settings["tables"]["events"] == [
        "keys: pk (S) / at (N)",
        "billing: provisioned 5 RCU / 3 WCU, autoscaling read 5-50, write 3-30 at 60%",
        "point-in-time recovery: on; deletion protection: off; encryption: aws-owned",
        "GSI by-kind: kind (S), projects title",
        "LSI by-size: pk (S) / size (N), projects KEYS_ONLY",
        "TTL on expires_at",
        "stream: NEW_AND_OLD_IMAGES",
    ]
    assert settings["principals"]["ingest"] == [
        "role arn:aws:iam::123456789012:role/varied-test-ingest",
        "assumable by: lambda.amazonaws.com",
        "Allow s3:PutObject on arn:aws:s3:::varied-test-site/public/*",
    ]


def test_a_roles_external_id_is_never_shown_and_its_absence_is_noted(tmp_path: Path) -> None:
    roles = """\
  vendor:
    kind: role
    assume_role_arns: ["arn:aws:iam::210987654321:role/vendor", "arn:aws:iam::123456789012:role/ci"]
    assume_role_external_id: do-not-echo-me
    grants: [{bucket: site, actions: [read]}]
  open:
    kind: role
    assume_role_arns: ["arn:aws:iam::210987654321:role/vendor", "arn:aws:iam::123456789012:role/ci"]
    grants: [{bucket: site, actions: [read]}]
"""
    (tmp_path / "config.yaml").write_text(CONFIG + roles, encoding="utf-8")
    settings = resource_settings(load_project(tmp_path / "config.yaml").environment("test"))["principals"]
    assert settings["vendor"][1] == (
        "assumable by: arn:aws:iam::210987654321:role/vendor, arn:aws:iam::123456789012:role/ci (external id set)"
    )
    assert "do-not-echo-me" not in str(settings)
    assert not any(line.startswith("note:") for line in settings["vendor"])
    assert settings["open"][2] == (
        "note: account 210987654321 may assume it without an external id "
        "(the audit's iam.role-trust-cross-account fails it; set assume_role_external_id)"
    )
    assert not any(line.startswith("note:") for line in settings["ingest"])

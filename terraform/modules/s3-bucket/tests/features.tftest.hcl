# What each optional feature makes, and that it makes nothing when off (plan only; the provider is mocked).
mock_provider "aws" {}

variables {
  name = "lms-dev-student-docs"
}

run "defaults_are_hardened" {
  command = plan
  assert {
    condition     = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled"
  }
  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
    ])
    error_message = "all public access must be blocked"
  }
  assert {
    condition     = [for s in jsondecode(aws_s3_bucket_policy.this[0].policy).Statement : s.Sid] == ["DenyInsecureTransport", "DenyOutdatedTls"]
    error_message = "the policy denies plain HTTP and old TLS (DenyUnencryptedUploads is opt-in, as in the schema)"
  }
  assert {
    # a string: the statements' Condition maps unify to map(string) (IAM reads "1.2" as a number)
    condition     = jsondecode(aws_s3_bucket_policy.this[0].policy).Statement[1].Condition.NumericLessThan["s3:TlsVersion"] == "1.2"
    error_message = "TLS below 1.2 is denied by default"
  }
  assert {
    condition     = length(aws_s3_bucket_versioning.this) == 1
    error_message = "versioning is on by default"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256"
    error_message = "SSE-S3 by default"
  }
  assert {
    condition = alltrue([
      length(aws_s3_bucket_lifecycle_configuration.this) == 0,
      length(aws_s3_bucket_cors_configuration.this) == 0,
      length(aws_s3_bucket_logging.this) == 0,
      length(aws_s3_bucket_intelligent_tiering_configuration.this) == 0,
      length(aws_s3_bucket_object_lock_configuration.this) == 0,
      length(aws_s3_bucket_replication_configuration.this) == 0,
      length(aws_iam_role.replication) == 0,
      !aws_s3_bucket.this.object_lock_enabled,
      !aws_s3_bucket.this.force_destroy,
    ])
    error_message = "optional features are off by default"
  }
}

run "deny_unencrypted_uploads_on" {
  command = plan
  variables {
    deny_unencrypted_uploads = true
  }
  assert {
    condition     = [for s in jsondecode(aws_s3_bucket_policy.this[0].policy).Statement : s.Sid] == ["DenyInsecureTransport", "DenyOutdatedTls", "DenyUnencryptedUploads"]
    error_message = "deny_unencrypted_uploads = true adds DenyUnencryptedUploads"
  }
}

run "no_policy_without_statements" {
  command = plan
  variables {
    tls_only = false
  }
  assert {
    condition     = length(aws_s3_bucket_policy.this) == 0
    error_message = "S3 refuses an empty policy, so none is written"
  }
}

run "versioning_off" {
  command = plan
  variables {
    versioning = false
  }
  assert {
    condition     = length(aws_s3_bucket_versioning.this) == 0
    error_message = "versioning = false writes no versioning resource"
  }
}

run "sse_kms_with_bucket_key" {
  command = plan
  variables {
    encryption               = { type = "sse-kms", kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/abc" }
    deny_unencrypted_uploads = true # off by default; on an sse-kms bucket it keeps clients on the key
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == "arn:aws:kms:us-east-1:123456789012:key/abc"
    error_message = "the configured KMS key is the default"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled
    error_message = "a bucket key cuts KMS requests"
  }
  assert {
    condition     = jsondecode(aws_s3_bucket_policy.this[0].policy).Statement[2].Condition.StringNotEquals["s3:x-amz-server-side-encryption"] == "aws:kms"
    error_message = "uploads asking for another algorithm than aws:kms are denied"
  }
}

run "lifecycle_filters_and_actions" {
  command = plan
  variables {
    lifecycle_rules = [
      { id = "whole", abort_incomplete_multipart_days = 7, noncurrent_expiration_days = 30, newer_noncurrent_versions = 3 },
      { id = "prefix", prefix = "tmp/", expiration_days = 1 },
      { id = "tagged", tags = { class = "logs" }, transitions = [{ days = 30, storage_class = "STANDARD_IA" }, { days = 90, storage_class = "GLACIER" }], expiration_days = 365 },
      { id = "both", prefix = "big/", object_size_greater_than = 1048576, noncurrent_transitions = [{ days = 30, storage_class = "GLACIER_IR" }] },
    ]
  }
  assert {
    condition     = [for r in aws_s3_bucket_lifecycle_configuration.this[0].rule : r.id] == ["whole", "prefix", "tagged", "both"]
    error_message = "every rule, in order"
  }
  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this[0].rule[0].abort_incomplete_multipart_upload[0].days_after_initiation == 7
    error_message = "abandoned uploads are aborted"
  }
  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this[0].rule[0].noncurrent_version_expiration[0].newer_noncurrent_versions == 3
    error_message = "noncurrent versions beyond the newest 3 expire"
  }
  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this[0].rule[1].filter[0].prefix == "tmp/" && length(aws_s3_bucket_lifecycle_configuration.this[0].rule[1].filter[0].and) == 0
    error_message = "one filter element is written directly"
  }
  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this[0].rule[2].filter[0].tag[0].value == "logs"
    error_message = "a single tag filters directly"
  }
  assert {
    condition     = [for t in aws_s3_bucket_lifecycle_configuration.this[0].rule[2].transition : t.storage_class] == ["STANDARD_IA", "GLACIER"]
    error_message = "transitions in order"
  }
  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this[0].rule[3].filter[0].and[0].prefix == "big/" && aws_s3_bucket_lifecycle_configuration.this[0].rule[3].filter[0].and[0].object_size_greater_than == 1048576
    error_message = "several filter elements go in an and block"
  }
}

run "cors" {
  command = plan
  variables {
    cors_rules = [{ allowed_origins = ["https://app.example.com"], allowed_methods = ["GET", "PUT"], allowed_headers = ["*"], expose_headers = ["ETag"] }]
  }
  assert {
    condition     = one(aws_s3_bucket_cors_configuration.this[0].cors_rule).allowed_methods == toset(["GET", "PUT"])
    error_message = "the configured methods"
  }
  assert {
    condition     = one(aws_s3_bucket_cors_configuration.this[0].cors_rule).max_age_seconds == 3000
    error_message = "preflight answers are cached for 3000 s by default"
  }
}

run "public_read_prefix" {
  command = plan
  variables {
    public_read_prefix = "public/"
  }
  assert {
    condition     = !aws_s3_bucket_public_access_block.this.block_public_policy && !aws_s3_bucket_public_access_block.this.restrict_public_buckets
    error_message = "the public policy is allowed through"
  }
  assert {
    condition     = aws_s3_bucket_public_access_block.this.block_public_acls && aws_s3_bucket_public_access_block.this.ignore_public_acls
    error_message = "ACLs stay blocked"
  }
  assert {
    condition     = [for s in jsondecode(aws_s3_bucket_policy.this[0].policy).Statement : s.Resource if s.Sid == "PublicReadPrefix"] == [["arn:aws:s3:::lms-dev-student-docs/public/*"]]
    error_message = "anonymous GetObject under the prefix only"
  }
}

run "access_logging_and_log_delivery" {
  command = plan
  variables {
    access_logging       = { target_bucket = "lms-dev-logs", target_prefix = "docs/" }
    account_id           = "123456789012"
    log_delivery_sources = [{ source_bucket_arn = "arn:aws:s3:::lms-dev-other", prefix = "other/" }]
  }
  assert {
    condition     = aws_s3_bucket_logging.this[0].target_bucket == "lms-dev-logs" && aws_s3_bucket_logging.this[0].target_prefix == "docs/"
    error_message = "logs go to the target bucket under its prefix"
  }
  assert {
    condition = one([for s in jsondecode(aws_s3_bucket_policy.this[0].policy).Statement : s if s.Sid == "AllowServerAccessLogs"]) == {
      Sid       = "AllowServerAccessLogs"
      Effect    = "Allow"
      Principal = { Service = "logging.s3.amazonaws.com" }
      Action    = "s3:PutObject"
      Resource  = "arn:aws:s3:::lms-dev-student-docs/other/*"
      Condition = { ArnLike = { "aws:SourceArn" = ["arn:aws:s3:::lms-dev-other"] }, StringEquals = { "aws:SourceAccount" = "123456789012" } }
    }
    error_message = "the logging service may write, scoped to the source bucket and account"
  }
}

run "object_lock_forces_versioning" {
  command = plan
  variables {
    versioning  = false
    object_lock = { mode = "COMPLIANCE", days = 30 }
  }
  assert {
    condition     = aws_s3_bucket.this.object_lock_enabled && length(aws_s3_bucket_versioning.this) == 1
    error_message = "object lock is enabled at creation and forces versioning"
  }
  assert {
    condition     = aws_s3_bucket_object_lock_configuration.this[0].rule[0].default_retention[0].mode == "COMPLIANCE"
    error_message = "the default retention"
  }
}

run "intelligent_tiering" {
  command = plan
  variables {
    intelligent_tiering = { prefix = "archive/", archive_access_days = 90, deep_archive_access_days = 180 }
  }
  assert {
    condition     = aws_s3_bucket_intelligent_tiering_configuration.this[0].filter[0].prefix == "archive/"
    error_message = "only under the prefix"
  }
  assert {
    condition     = { for t in aws_s3_bucket_intelligent_tiering_configuration.this[0].tiering : t.access_tier => t.days } == { ARCHIVE_ACCESS = 90, DEEP_ARCHIVE_ACCESS = 180 }
    error_message = "both archive tiers"
  }
}

run "replication_with_replica_key" {
  command = plan
  variables {
    encryption  = { type = "sse-kms", kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/src" }
    replication = { destination_bucket_arn = "arn:aws:s3:::lms-dr-student-docs", storage_class = "STANDARD_IA", replica_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/dst" }
  }
  assert {
    condition     = aws_iam_role.replication[0].name == "s3rep-lms-dev-student-docs"
    error_message = "a dedicated role"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.replication[0].policy).Statement : s.Sid] == ["SourceBucket", "SourceObjects", "DestinationObjects", "DecryptSource", "EncryptReplica"]
    error_message = "the role reads the source, writes the destination and uses both keys"
  }
  assert {
    condition     = aws_s3_bucket_replication_configuration.this[0].rule[0].destination[0].storage_class == "STANDARD_IA"
    error_message = "the replica's storage class"
  }
  assert {
    condition     = aws_s3_bucket_replication_configuration.this[0].rule[0].delete_marker_replication[0].status == "Disabled"
    error_message = "deletes are not mirrored"
  }
}

run "dr_bucket_in_another_region" {
  command = plan
  variables {
    region      = "us-west-2"
    object_lock = { mode = "GOVERNANCE", days = 30 }
    replication = { destination_bucket_arn = "arn:aws:s3:::lms-dr-student-docs" }
  }
  assert {
    condition     = aws_s3_bucket.this.region == "us-west-2" && aws_s3_bucket_versioning.this[0].region == "us-west-2" && aws_s3_bucket_replication_configuration.this[0].region == "us-west-2"
    error_message = "the bucket and its configuration live in the module's region"
  }
}

run "replication_of_an_object_locked_source_with_every_option" {
  command = plan
  variables {
    object_lock = { mode = "COMPLIANCE", days = 365 }
    replication = {
      destination_bucket_arn    = "arn:aws:s3:::lms-dr-student-docs"
      delete_marker_replication = true
      replication_time          = true
      replica_modifications     = true
    }
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.replication[0].policy).Statement : s.Sid] == ["SourceBucket", "SourceObjects", "SourceObjectLock", "DestinationObjects"]
    error_message = "an object-locked source's role reads retention and legal holds"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.replication[0].policy).Statement[2].Action == ["s3:GetObjectLegalHold", "s3:GetObjectRetention"]
    error_message = "the object-lock permissions"
  }
  assert {
    condition     = contains(jsondecode(aws_iam_role_policy.replication[0].policy).Statement[3].Action, "s3:ReplicateDelete")
    error_message = "delete markers need s3:ReplicateDelete"
  }
  assert {
    condition     = aws_s3_bucket_replication_configuration.this[0].rule[0].delete_marker_replication[0].status == "Enabled"
    error_message = "delete markers are mirrored"
  }
  assert {
    condition     = aws_s3_bucket_replication_configuration.this[0].rule[0].destination[0].replication_time[0].time[0].minutes == 15
    error_message = "Replication Time Control, 15 minutes"
  }
  assert {
    condition     = aws_s3_bucket_replication_configuration.this[0].rule[0].destination[0].metrics[0].status == "Enabled"
    error_message = "RTC turns the metrics on"
  }
  assert {
    condition     = aws_s3_bucket_replication_configuration.this[0].rule[0].source_selection_criteria[0].replica_modifications[0].status == "Enabled" && length(aws_s3_bucket_replication_configuration.this[0].rule[0].source_selection_criteria[0].sse_kms_encrypted_objects) == 0
    error_message = "replica modifications, and no SSE-KMS selection without a replica key"
  }
}

run "replication_with_a_role_of_ones_own" {
  command = plan
  variables {
    replication = { destination_bucket_arn = "arn:aws:s3:::lms-dr-student-docs", role_arn = "arn:aws:iam::123456789012:role/s3-replication" }
  }
  assert {
    condition     = length(aws_iam_role.replication) == 0 && length(aws_iam_role_policy.replication) == 0
    error_message = "no role is generated"
  }
  assert {
    condition     = aws_s3_bucket_replication_configuration.this[0].role == "arn:aws:iam::123456789012:role/s3-replication"
    error_message = "S3 assumes the given role"
  }
  assert {
    condition     = output.replication_role_arn == "arn:aws:iam::123456789012:role/s3-replication"
    error_message = "the output names the role in use"
  }
}

locals {
  # Built from the name (not aws_s3_bucket.this.arn) so the policy is fully known at plan time.
  bucket_arn     = "arn:${var.partition}:s3:::${var.name}"
  objects_arn    = "${local.bucket_arn}/*"
  is_kms         = var.encryption.type == "sse-kms"
  sse_algorithm  = local.is_kms ? "aws:kms" : "AES256"
  versioning_on  = var.versioning || var.object_lock != null
  public_enabled = var.public_read_prefix != null

  # Server access logs from other buckets into this one (see var.log_delivery_sources).
  log_delivery_on        = length(var.log_delivery_sources) > 0
  log_delivery_resources = sort(distinct([for s in var.log_delivery_sources : "${local.bucket_arn}/${s.prefix}*"]))
  log_delivery_arns      = sort(distinct([for s in var.log_delivery_sources : s.source_bucket_arn]))
  # A plain string for one prefix (moto only recognises the grant in that form), else the list;
  # the jsonencode/jsondecode pair lets one expression be either type.
  log_delivery_resource = jsondecode(length(local.log_delivery_resources) == 1 ? jsonencode(local.log_delivery_resources[0]) : jsonencode(local.log_delivery_resources))

  policy_statements = concat(
    var.tls_only ? [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [local.bucket_arn, local.objects_arn]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        Sid       = "DenyOutdatedTls"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [local.bucket_arn, local.objects_arn]
        Condition = { NumericLessThan = { "s3:TlsVersion" = tonumber(var.min_tls_version) } }
      },
    ] : [],
    # Every new object is encrypted with the bucket default when the request carries no
    # x-amz-server-side-encryption header, so denying header-less uploads (the pre-2023
    # pattern) would only break clients. Deny only an explicit request for a different
    # algorithm: the Null=false clause makes the statement apply when the header is present.
    var.deny_unencrypted_uploads ? [
      {
        Sid       = "DenyUnencryptedUploads"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:PutObject"
        Resource  = [local.objects_arn]
        Condition = {
          StringNotEquals = { "s3:x-amz-server-side-encryption" = local.sse_algorithm }
          Null            = { "s3:x-amz-server-side-encryption" = "false" }
        }
      },
    ] : [],
    local.public_enabled ? [
      {
        Sid       = "PublicReadPrefix"
        Effect    = "Allow"
        Principal = "*"
        Action    = "s3:GetObject"
        Resource  = ["${local.bucket_arn}/${var.public_read_prefix}*"]
      },
    ] : [],
    # ACLs are disabled (BucketOwnerEnforced), so S3 delivers server access logs only when the
    # target bucket's policy grants the logging service principal, scoped to the source buckets
    # and account.
    local.log_delivery_on ? [
      {
        Sid       = "AllowServerAccessLogs"
        Effect    = "Allow"
        Principal = { Service = "logging.s3.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = local.log_delivery_resource
        Condition = {
          ArnLike      = { "aws:SourceArn" = local.log_delivery_arns }
          StringEquals = { "aws:SourceAccount" = var.account_id }
        }
      },
    ] : [],
  )

  policy_json = jsonencode({
    Version   = "2012-10-17"
    Statement = local.policy_statements
  })

  lifecycle_rules = [for r in var.lifecycle_rules : merge(r, {
    has_prefix = r.prefix != null && r.prefix != ""
    filter_elements = (
      (r.prefix != null && r.prefix != "" ? 1 : 0) + length(r.tags) +
      (r.object_size_greater_than != null ? 1 : 0) + (r.object_size_less_than != null ? 1 : 0)
    )
  })]
}

resource "aws_s3_bucket" "this" {
  region              = var.region
  bucket              = var.name
  force_destroy       = var.force_destroy
  object_lock_enabled = var.object_lock != null
  tags                = var.tags
}

# S3 rejects concurrent configuration changes on one bucket ("A conflicting conditional
# operation is currently in progress"), and a public-read policy is refused while
# BlockPublicPolicy is still on. The sub-resources below therefore form a chain:
# ownership controls -> public access block -> policy -> versioning -> encryption ->
# lifecycle / CORS / logging / intelligent tiering / object lock; replication after versioning.

resource "aws_s3_bucket_ownership_controls" "this" {
  region = var.region
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced" # ACLs disabled
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  region = var.region
  bucket = aws_s3_bucket.this.id

  block_public_acls = true
  # A public-read prefix is granted by the bucket policy only; ACLs stay blocked.
  block_public_policy     = !local.public_enabled
  ignore_public_acls      = true
  restrict_public_buckets = !local.public_enabled

  depends_on = [aws_s3_bucket_ownership_controls.this]
}

resource "aws_s3_bucket_policy" "this" {
  # S3 refuses a policy without statements (only possible with tls_only = false).
  count = length(local.policy_statements) > 0 ? 1 : 0

  region = var.region
  bucket = aws_s3_bucket.this.id
  policy = local.policy_json

  lifecycle {
    precondition {
      condition     = !local.log_delivery_on || var.account_id != null
      error_message = "log_delivery_sources is set, so the log-delivery grant needs aws:SourceAccount: set account_id to the 12-digit account that owns the source buckets."
    }
  }

  depends_on = [aws_s3_bucket_public_access_block.this]
}

moved {
  from = aws_s3_bucket_policy.this
  to   = aws_s3_bucket_policy.this[0]
}

resource "aws_s3_bucket_versioning" "this" {
  count = local.versioning_on ? 1 : 0

  region = var.region
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }

  depends_on = [aws_s3_bucket_policy.this]
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  region = var.region
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = local.sse_algorithm
      kms_master_key_id = local.is_kms ? var.encryption.kms_key_arn : null
    }
    bucket_key_enabled = local.is_kms ? var.encryption.bucket_key : null
  }

  depends_on = [aws_s3_bucket_policy.this, aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count = length(var.lifecycle_rules) > 0 ? 1 : 0

  region = var.region
  bucket = aws_s3_bucket.this.id

  dynamic "rule" {
    for_each = local.lifecycle_rules
    content {
      id     = rule.value.id
      status = rule.value.enabled ? "Enabled" : "Disabled"

      # The provider wants a single filter element directly in `filter`, and an `and`
      # block as soon as there are two or more (or more than one tag). No element = whole
      # bucket. (`filter` is written as a one-element dynamic block because tfparse, used by
      # the tests, does not expand dynamic blocks nested in static ones.)
      dynamic "filter" {
        for_each = [rule.value]
        content {
          prefix                   = filter.value.filter_elements == 1 && filter.value.has_prefix ? filter.value.prefix : null
          object_size_greater_than = filter.value.filter_elements == 1 ? filter.value.object_size_greater_than : null
          object_size_less_than    = filter.value.filter_elements == 1 ? filter.value.object_size_less_than : null

          dynamic "tag" {
            for_each = filter.value.filter_elements == 1 ? filter.value.tags : {}
            content {
              key   = tag.key
              value = tag.value
            }
          }

          dynamic "and" {
            for_each = filter.value.filter_elements > 1 ? [filter.value] : []
            content {
              prefix                   = and.value.has_prefix ? and.value.prefix : null
              tags                     = length(and.value.tags) > 0 ? and.value.tags : null
              object_size_greater_than = and.value.object_size_greater_than
              object_size_less_than    = and.value.object_size_less_than
            }
          }
        }
      }

      dynamic "transition" {
        for_each = rule.value.transitions
        content {
          days          = transition.value.days
          storage_class = transition.value.storage_class
        }
      }

      dynamic "expiration" {
        for_each = rule.value.expiration_days != null ? [rule.value.expiration_days] : []
        content {
          days = expiration.value
        }
      }

      dynamic "noncurrent_version_transition" {
        for_each = rule.value.noncurrent_transitions
        content {
          noncurrent_days           = noncurrent_version_transition.value.days
          storage_class             = noncurrent_version_transition.value.storage_class
          newer_noncurrent_versions = noncurrent_version_transition.value.newer_noncurrent_versions
        }
      }

      dynamic "noncurrent_version_expiration" {
        for_each = rule.value.noncurrent_expiration_days != null ? [rule.value] : []
        content {
          noncurrent_days           = noncurrent_version_expiration.value.noncurrent_expiration_days
          newer_noncurrent_versions = noncurrent_version_expiration.value.newer_noncurrent_versions
        }
      }

      dynamic "abort_incomplete_multipart_upload" {
        for_each = rule.value.abort_incomplete_multipart_days != null ? [rule.value.abort_incomplete_multipart_days] : []
        content {
          days_after_initiation = abort_incomplete_multipart_upload.value
        }
      }
    }
  }

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.this]
}

resource "aws_s3_bucket_cors_configuration" "this" {
  count = length(var.cors_rules) > 0 ? 1 : 0

  region = var.region
  bucket = aws_s3_bucket.this.id

  dynamic "cors_rule" {
    for_each = var.cors_rules
    content {
      allowed_origins = cors_rule.value.allowed_origins
      allowed_methods = cors_rule.value.allowed_methods
      allowed_headers = cors_rule.value.allowed_headers
      expose_headers  = cors_rule.value.expose_headers
      max_age_seconds = cors_rule.value.max_age_seconds
    }
  }

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.this]
}

resource "aws_s3_bucket_logging" "this" {
  count = var.access_logging != null ? 1 : 0

  region        = var.region
  bucket        = aws_s3_bucket.this.id
  target_bucket = var.access_logging.target_bucket
  target_prefix = var.access_logging.target_prefix

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.this]
}

resource "aws_s3_bucket_intelligent_tiering_configuration" "this" {
  count = var.intelligent_tiering != null ? 1 : 0

  region = var.region
  bucket = aws_s3_bucket.this.id
  name   = "cargohold"
  status = "Enabled"

  dynamic "filter" {
    for_each = try(var.intelligent_tiering.prefix, null) != null ? [var.intelligent_tiering.prefix] : []
    content {
      prefix = filter.value
    }
  }

  dynamic "tiering" {
    for_each = try(var.intelligent_tiering.archive_access_days, null) != null ? [var.intelligent_tiering.archive_access_days] : []
    content {
      access_tier = "ARCHIVE_ACCESS"
      days        = tiering.value
    }
  }

  dynamic "tiering" {
    for_each = try(var.intelligent_tiering.deep_archive_access_days, null) != null ? [var.intelligent_tiering.deep_archive_access_days] : []
    content {
      access_tier = "DEEP_ARCHIVE_ACCESS"
      days        = tiering.value
    }
  }

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.this]
}

resource "aws_s3_bucket_object_lock_configuration" "this" {
  count = var.object_lock != null ? 1 : 0

  region = var.region
  bucket = aws_s3_bucket.this.id

  rule {
    default_retention {
      mode = var.object_lock.mode
      days = var.object_lock.days
    }
  }

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.this]
}

# --- Replication: a dedicated role that S3 assumes, scoped to this bucket and the destination, unless
# replication.role_arn brings one.

locals {
  replicating   = var.replication != null
  own_role      = local.replicating && try(var.replication.role_arn, null) == null
  replica_kms   = local.replicating && try(var.replication.replica_kms_key_arn, null) != null
  replicate_rtc = local.replicating && try(var.replication.replication_time, false)
  # S3 requires replication metrics whenever Replication Time Control is on.
  replicate_metrics = local.replicating && (try(var.replication.metrics, false) || local.replicate_rtc)

  replication_policy = !local.own_role ? null : jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "SourceBucket"
          Effect   = "Allow"
          Action   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
          Resource = [local.bucket_arn]
        },
        {
          Sid      = "SourceObjects"
          Effect   = "Allow"
          Action   = ["s3:GetObjectVersionAcl", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"]
          Resource = [local.objects_arn]
        },
      ],
      # An object-locked source: S3 reads each version's retention and legal hold to copy them along.
      var.object_lock != null ? [
        {
          Sid      = "SourceObjectLock"
          Effect   = "Allow"
          Action   = ["s3:GetObjectLegalHold", "s3:GetObjectRetention"]
          Resource = [local.objects_arn]
        },
      ] : [],
      [
        {
          Sid      = "DestinationObjects"
          Effect   = "Allow"
          Action   = concat(var.replication.delete_marker_replication ? ["s3:ReplicateDelete"] : [], ["s3:ReplicateObject", "s3:ReplicateTags"])
          Resource = ["${var.replication.destination_bucket_arn}/*"]
        },
      ],
      local.replica_kms ? [
        {
          Sid      = "DecryptSource"
          Effect   = "Allow"
          Action   = ["kms:Decrypt"]
          Resource = [local.is_kms && var.encryption.kms_key_arn != null ? var.encryption.kms_key_arn : "*"]
          Condition = {
            StringLike = {
              "kms:ViaService"                   = "s3.*.amazonaws.com"
              "kms:EncryptionContext:aws:s3:arn" = "${local.bucket_arn}/*"
            }
          }
        },
        {
          Sid      = "EncryptReplica"
          Effect   = "Allow"
          Action   = ["kms:Encrypt"]
          Resource = [var.replication.replica_kms_key_arn]
          Condition = {
            StringLike = {
              "kms:ViaService"                   = "s3.*.amazonaws.com"
              "kms:EncryptionContext:aws:s3:arn" = "${var.replication.destination_bucket_arn}/*"
            }
          }
        },
      ] : [],
    )
  })
}

resource "aws_iam_role" "replication" {
  count = local.own_role ? 1 : 0

  # IAM role names are limited to 64 characters.
  name = "s3rep-${substr(var.name, 0, 58)}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "s3.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "replication" {
  count = local.own_role ? 1 : 0

  name   = "replication"
  role   = aws_iam_role.replication[0].id
  policy = local.replication_policy
}

resource "aws_s3_bucket_replication_configuration" "this" {
  count = local.replicating ? 1 : 0

  region = var.region

  bucket = aws_s3_bucket.this.id
  role   = local.own_role ? aws_iam_role.replication[0].arn : var.replication.role_arn

  lifecycle {
    precondition {
      condition     = local.versioning_on
      error_message = "Replication needs versioning on the source bucket: set versioning = true."
    }
    precondition {
      condition     = !local.is_kms || var.replication.replica_kms_key_arn != null
      error_message = "This bucket uses sse-kms, so S3 only replicates its objects with a key for the replicas: set replication.replica_kms_key_arn."
    }
  }

  # `rule` and `destination` are one-element dynamic blocks only so that tfparse (used by
  # the tests) expands the dynamic blocks inside them; Terraform renders the same thing.
  dynamic "rule" {
    for_each = [var.replication]
    content {
      id     = "replicate"
      status = "Enabled"

      filter {
        prefix = rule.value.prefix # "" = whole bucket
      }

      # Off by default: a delete marker in the source leaves the replica readable.
      delete_marker_replication {
        status = rule.value.delete_marker_replication ? "Enabled" : "Disabled"
      }

      dynamic "destination" {
        for_each = [rule.value]
        content {
          bucket        = destination.value.destination_bucket_arn
          storage_class = destination.value.storage_class

          dynamic "encryption_configuration" {
            for_each = destination.value.replica_kms_key_arn != null ? [destination.value.replica_kms_key_arn] : []
            content {
              replica_kms_key_id = encryption_configuration.value
            }
          }

          # S3 Replication Time Control: 99.99% of objects within 15 minutes (the only value S3 takes).
          dynamic "replication_time" {
            for_each = local.replicate_rtc ? [15] : []
            content {
              status = "Enabled"
              time {
                minutes = replication_time.value
              }
            }
          }

          dynamic "metrics" {
            for_each = local.replicate_metrics ? [15] : []
            content {
              status = "Enabled"
              event_threshold {
                minutes = metrics.value
              }
            }
          }
        }
      }

      # S3 skips SSE-KMS objects unless sse_kms_encrypted_objects is on (it requires a replica key);
      # replica_modifications replicates metadata changes made on replicas.
      dynamic "source_selection_criteria" {
        for_each = local.replica_kms || rule.value.replica_modifications ? [rule.value] : []
        content {
          dynamic "sse_kms_encrypted_objects" {
            for_each = local.replica_kms ? ["Enabled"] : []
            content {
              status = sse_kms_encrypted_objects.value
            }
          }
          dynamic "replica_modifications" {
            for_each = source_selection_criteria.value.replica_modifications ? ["Enabled"] : []
            content {
              status = replica_modifications.value
            }
          }
        }
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.this, aws_iam_role_policy.replication]
}

variable "region" {
  description = "Region the bucket lives in (the AWS provider 6 per-resource `region`); null = the provider's region."
  type        = string
  default     = null

  validation {
    condition     = var.region == null ? true : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region code such as \"us-west-2\", or null for the provider's region."
  }
}

variable "name" {
  description = "Bucket name (3-63 chars: lowercase letters, digits, dots and hyphens; starts and ends with a letter or digit)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name)) && !can(regex("\\.\\.|^\\d+\\.\\d+\\.\\d+\\.\\d+$|^xn--|-s3alias$|--ol-s3$", var.name))
    error_message = "Bucket names are 3-63 characters of lowercase letters, digits, dots and hyphens, start and end with a letter or digit, and are not IP addresses; write e.g. \"lms-dev-student-docs\"."
  }
}

variable "partition" {
  description = "AWS partition used to build the bucket ARN inside the bucket policy (aws, aws-cn, aws-us-gov). Building it from the name keeps the policy fully known at plan time."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "aws-cn", "aws-us-gov"], var.partition)
    error_message = "Write one of \"aws\", \"aws-cn\" or \"aws-us-gov\"."
  }
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete a bucket that still holds objects. Keep false outside throwaway environments."
  type        = bool
  default     = false
}

variable "versioning" {
  description = "Enable object versioning. Object lock forces it on."
  type        = bool
  default     = true
}

variable "encryption" {
  description = "Default encryption. type = \"sse-s3\" (AES256) or \"sse-kms\"; kms_key_arn = null uses the AWS managed aws/s3 key; bucket_key only applies to sse-kms."
  type = object({
    type        = optional(string, "sse-s3")
    kms_key_arn = optional(string)
    bucket_key  = optional(bool, true)
  })
  default = {}

  validation {
    condition     = contains(["sse-s3", "sse-kms"], var.encryption.type)
    error_message = "encryption.type must be \"sse-s3\" or \"sse-kms\"."
  }

  validation {
    condition     = var.encryption.kms_key_arn == null || var.encryption.type == "sse-kms"
    error_message = "encryption.kms_key_arn is only used with type = \"sse-kms\"; set it to null or change the type to \"sse-kms\"."
  }

  validation {
    condition     = var.encryption.kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:", var.encryption.kms_key_arn))
    error_message = "encryption.kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), or null for the AWS managed aws/s3 key."
  }
}

variable "lifecycle_rules" {
  description = "Lifecycle rules. A rule with several filter elements (prefix, tags, object sizes) is rendered with an `and` filter block; no filter element means the whole bucket."
  type = list(object({
    id                       = string
    enabled                  = optional(bool, true)
    prefix                   = optional(string)
    tags                     = optional(map(string), {})
    object_size_greater_than = optional(number)
    object_size_less_than    = optional(number)
    transitions = optional(list(object({
      days          = number
      storage_class = string
    })), [])
    expiration_days = optional(number)
    noncurrent_transitions = optional(list(object({
      days                      = number
      storage_class             = string
      newer_noncurrent_versions = optional(number)
    })), [])
    noncurrent_expiration_days      = optional(number)
    newer_noncurrent_versions       = optional(number)
    abort_incomplete_multipart_days = optional(number)
  }))
  default = []

  validation {
    condition     = length(distinct([for r in var.lifecycle_rules : r.id])) == length(var.lifecycle_rules)
    error_message = "Each lifecycle rule needs a unique id; rename the duplicates."
  }

  validation {
    condition = alltrue(flatten([for r in var.lifecycle_rules : [
      for t in concat(r.transitions, r.noncurrent_transitions) :
      contains(["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"], t.storage_class)
    ]]))
    error_message = "Transition storage_class must be one of STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE."
  }

  validation {
    condition = alltrue([for r in var.lifecycle_rules : alltrue([
      for d in concat([for t in r.transitions : t.days], [for t in r.noncurrent_transitions : t.days],
      [for d in [r.expiration_days, r.noncurrent_expiration_days, r.abort_incomplete_multipart_days] : d if d != null]) : d >= 0 && floor(d) == d
    ])])
    error_message = "Lifecycle days must be whole numbers >= 0."
  }

  validation {
    condition = alltrue([for r in var.lifecycle_rules : alltrue([
      for i in range(1, max(1, length(r.transitions))) : r.transitions[i].days > r.transitions[i - 1].days
    ])])
    error_message = "List each rule's transitions in ascending order of days (e.g. STANDARD_IA at 30, then GLACIER at 90)."
  }

  validation {
    condition = alltrue([for r in var.lifecycle_rules :
      r.expiration_days == null ? true : alltrue([for t in r.transitions : t.days < r.expiration_days])
    ])
    error_message = "expiration_days must be later than every transition of the same rule; raise it or drop the late transitions."
  }

  validation {
    condition = alltrue([for r in var.lifecycle_rules :
      r.object_size_greater_than == null || r.object_size_less_than == null ? true : r.object_size_greater_than < r.object_size_less_than
    ])
    error_message = "object_size_greater_than must be smaller than object_size_less_than."
  }

  validation {
    condition = alltrue([for r in var.lifecycle_rules :
      length(r.transitions) + length(r.noncurrent_transitions) > 0 || r.expiration_days != null || r.noncurrent_expiration_days != null || r.abort_incomplete_multipart_days != null
    ])
    error_message = "Each lifecycle rule needs an action: transitions, expiration_days, noncurrent_transitions, noncurrent_expiration_days or abort_incomplete_multipart_days."
  }
}

variable "cors_rules" {
  description = "CORS rules for browser access."
  type = list(object({
    allowed_origins = list(string)
    allowed_methods = list(string)
    allowed_headers = optional(list(string), [])
    expose_headers  = optional(list(string), [])
    max_age_seconds = optional(number, 3000)
  }))
  default = []

  validation {
    condition = alltrue([for c in var.cors_rules :
      length(c.allowed_methods) > 0 && alltrue([for m in c.allowed_methods : contains(["GET", "PUT", "POST", "DELETE", "HEAD"], m)])
    ])
    error_message = "cors_rules[*].allowed_methods takes one or more of GET, PUT, POST, DELETE, HEAD (upper case)."
  }

  validation {
    condition     = alltrue([for c in var.cors_rules : length(c.allowed_origins) > 0])
    error_message = "Each CORS rule needs at least one allowed origin, e.g. \"https://app.example.com\"."
  }
}

variable "public_read_prefix" {
  description = "Key prefix that anonymous users may read (s3:GetObject only), e.g. \"uploads/\". null keeps the whole bucket private."
  type        = string
  default     = null

  validation {
    condition     = var.public_read_prefix == null ? true : !contains(["", "/", "*"], var.public_read_prefix) && !startswith(var.public_read_prefix, "/") && !strcontains(var.public_read_prefix, "*")
    error_message = "public_read_prefix would make the whole bucket public; name a prefix like \"uploads/\" (no leading \"/\", no \"*\"), or use null to keep the bucket private."
  }
}

variable "tls_only" {
  description = "Deny plain-HTTP requests and TLS below min_tls_version in the bucket policy. Keep true; only an emulator that cannot evaluate these conditions needs false."
  type        = bool
  default     = true
}

variable "min_tls_version" {
  description = "Requests negotiated with a TLS version below this are denied by the bucket policy."
  type        = string
  default     = "1.2"

  validation {
    condition     = contains(["1.0", "1.1", "1.2", "1.3"], var.min_tls_version)
    error_message = "min_tls_version must be \"1.2\" (recommended), \"1.3\", \"1.1\" or \"1.0\"."
  }
}

variable "deny_unencrypted_uploads" {
  description = "Deny PutObject requests that ask for a server-side encryption other than the bucket's (requests without the header get the default encryption)."
  type        = bool
  default     = false
}

variable "access_logging" {
  description = "Server access logging to another bucket; null = off."
  type = object({
    target_bucket = string
    target_prefix = optional(string, "")
  })
  default = null
}

variable "log_delivery_sources" {
  description = "Buckets whose server access logs are delivered into this bucket: source bucket ARN and the target_prefix it writes under (\"\" = anywhere). Adds the AllowServerAccessLogs statement (Principal logging.s3.amazonaws.com) to this bucket's policy; with ACLs disabled, S3 delivers no logs without it. [] = none."
  type = list(object({
    source_bucket_arn = string
    prefix            = optional(string, "")
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.log_delivery_sources : can(regex("^arn:[a-z-]+:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", s.source_bucket_arn))])
    error_message = "log_delivery_sources[*].source_bucket_arn must be a bucket ARN such as \"arn:aws:s3:::lms-prod-student-docs\"."
  }
}

variable "account_id" {
  description = "12-digit account that owns the buckets in log_delivery_sources (the grant's aws:SourceAccount condition). Required when log_delivery_sources is set; unused otherwise."
  type        = string
  default     = null

  validation {
    condition     = var.account_id == null ? true : can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be the 12-digit account number as a string, e.g. \"123456789012\"."
  }
}

variable "replication" {
  description = "Replication of the whole bucket (prefix = \"\") or a prefix to another versioned bucket, in any region. Creates a dedicated IAM role unless role_arn names one of yours. delete_marker_replication mirrors deletes; replication_time turns on S3 Replication Time Control (15 minutes, with metrics, which RTC requires); metrics alone reports replication latency; replica_modifications replicates metadata changes made on replicas. An object-locked source's role may read retention and legal holds. null = off."
  type = object({
    destination_bucket_arn    = string
    storage_class             = optional(string, "STANDARD")
    prefix                    = optional(string, "")
    replica_kms_key_arn       = optional(string)
    role_arn                  = optional(string)
    delete_marker_replication = optional(bool, false)
    replication_time          = optional(bool, false)
    metrics                   = optional(bool, false)
    replica_modifications     = optional(bool, false)
  })
  default = null

  validation {
    condition     = var.replication == null ? true : can(regex("^arn:[a-z-]+:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.replication.destination_bucket_arn))
    error_message = "replication.destination_bucket_arn must be a bucket ARN such as \"arn:aws:s3:::lms-dr-student-docs\"."
  }

  validation {
    condition     = var.replication == null ? true : contains(["STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR"], var.replication.storage_class)
    error_message = "replication.storage_class must be one of STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE."
  }

  validation {
    condition     = var.replication == null ? true : var.replication.role_arn == null || can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/", var.replication.role_arn))
    error_message = "replication.role_arn must be an IAM role ARN such as \"arn:aws:iam::123456789012:role/s3-replication\", or null to create a dedicated role."
  }
}

variable "object_lock" {
  description = "Default object-lock retention (mode GOVERNANCE or COMPLIANCE, days). Can only be turned on when the bucket is created. null = off."
  type = object({
    mode = string
    days = number
  })
  default = null

  validation {
    condition     = var.object_lock == null ? true : contains(["GOVERNANCE", "COMPLIANCE"], var.object_lock.mode)
    error_message = "object_lock.mode must be \"GOVERNANCE\" or \"COMPLIANCE\"."
  }

  validation {
    condition     = var.object_lock == null ? true : var.object_lock.days >= 1 && floor(var.object_lock.days) == var.object_lock.days
    error_message = "object_lock.days must be a whole number of days >= 1."
  }
}

variable "intelligent_tiering" {
  description = "Archive tiers for objects stored in INTELLIGENT_TIERING. null = off."
  type = object({
    prefix                   = optional(string)
    archive_access_days      = optional(number)
    deep_archive_access_days = optional(number)
  })
  default = null

  validation {
    condition     = var.intelligent_tiering == null ? true : (var.intelligent_tiering.archive_access_days != null || var.intelligent_tiering.deep_archive_access_days != null)
    error_message = "intelligent_tiering needs archive_access_days (>= 90) and/or deep_archive_access_days (>= 180); or set intelligent_tiering = null."
  }

  validation {
    condition     = var.intelligent_tiering == null ? true : (var.intelligent_tiering.archive_access_days == null ? true : var.intelligent_tiering.archive_access_days >= 90 && var.intelligent_tiering.archive_access_days <= 730)
    error_message = "intelligent_tiering.archive_access_days must be between 90 and 730."
  }

  validation {
    condition     = var.intelligent_tiering == null ? true : (var.intelligent_tiering.deep_archive_access_days == null ? true : var.intelligent_tiering.deep_archive_access_days >= 180 && var.intelligent_tiering.deep_archive_access_days <= 730)
    error_message = "intelligent_tiering.deep_archive_access_days must be between 180 and 730."
  }
}

variable "tags" {
  description = "Tags for the bucket and the replication role (added to the provider's default_tags)."
  type        = map(string)
  default     = {}
}

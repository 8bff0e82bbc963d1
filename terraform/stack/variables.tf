# The input contract rendered by the toolkit into terraform.tfvars.json (see README.md).
# Field semantics: docs in ../modules/*/README.md. Defaults make the stack usable by hand;
# the toolkit always writes every field.

variable "project" {
  description = "Project name, e.g. \"lms\" (default tag Project)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,31}$", var.project))
    error_message = "project is 1-32 lowercase letters, digits and hyphens, e.g. \"lms\"."
  }
}

variable "environment" {
  description = "Environment name, e.g. \"dev\" (default tag Environment)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,31}$", var.environment))
    error_message = "environment is 1-32 lowercase letters, digits and hyphens, e.g. \"dev\"."
  }
}

variable "region" {
  description = "AWS region, e.g. \"us-east-1\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region code such as \"us-east-1\" or \"eu-west-3\"."
  }
}

variable "account_id" {
  description = "12-digit AWS account ID (used to build table ARNs offline)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be the 12-digit account number as a string, e.g. \"123456789012\"."
  }
}

variable "partition" {
  description = "AWS partition: aws, aws-cn or aws-us-gov."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "aws-cn", "aws-us-gov"], var.partition)
    error_message = "partition must be \"aws\", \"aws-cn\" or \"aws-us-gov\"."
  }
}

variable "endpoint" {
  description = "Emulator URL (moto, LocalStack) for S3, DynamoDB, IAM, STS, Application Auto Scaling and KMS; null for real AWS."
  type        = string
  default     = null

  validation {
    condition     = var.endpoint == null ? true : can(regex("^https?://[^/\\s]+/?$", var.endpoint))
    error_message = "endpoint must be a base URL such as \"http://127.0.0.1:5000\", or null for real AWS."
  }
}

variable "profile" {
  description = "The named AWS profile to reach the account with (config.yaml's environment `profile:`); null for the default credential chain."
  type        = string
  default     = null
}

variable "assume_role" {
  description = "A role to assume in the account (config.yaml's environment `assume_role:`); null to use the credentials as they are."
  type = object({
    role_arn     = string
    external_id  = optional(string)
    session_name = optional(string, "cargohold")
    duration     = optional(string, "3600s")
  })
  default = null

  validation {
    condition     = var.assume_role == null ? true : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.assume_role.role_arn))
    error_message = "assume_role.role_arn must be an IAM role ARN, e.g. \"arn:aws:iam::123456789012:role/cargohold-deployer\"."
  }
}

variable "tags" {
  description = "Tags applied to every resource through the provider's default_tags (Project, Environment and ManagedBy are added)."
  type        = map(string)
  default     = {}
}

variable "buckets" {
  description = "S3 buckets by logical name."
  type = map(object({
    name          = string
    region        = optional(string) # null: var.region
    force_destroy = optional(bool, false)
    versioning    = optional(bool, true)
    encryption = optional(object({
      type        = optional(string, "sse-s3")
      kms_key_arn = optional(string)
      bucket_key  = optional(bool, true)
    }), {})
    lifecycle_rules = optional(list(object({
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
    })), [])
    cors_rules = optional(list(object({
      allowed_origins = list(string)
      allowed_methods = list(string)
      allowed_headers = optional(list(string), [])
      expose_headers  = optional(list(string), [])
      max_age_seconds = optional(number, 3000)
    })), [])
    public_read_prefix       = optional(string)
    tls_only                 = optional(bool, true)
    min_tls_version          = optional(string, "1.2")
    deny_unencrypted_uploads = optional(bool, false)
    access_logging = optional(object({
      target_bucket = string
      target_prefix = optional(string, "")
    }))
    replication = optional(object({
      destination_bucket_arn    = string
      storage_class             = optional(string, "STANDARD")
      prefix                    = optional(string, "")
      replica_kms_key_arn       = optional(string)
      role_arn                  = optional(string)
      delete_marker_replication = optional(bool, false)
      replication_time          = optional(bool, false)
      metrics                   = optional(bool, false)
      replica_modifications     = optional(bool, false)
    }))
    object_lock = optional(object({
      mode = string
      days = number
    }))
    intelligent_tiering = optional(object({
      prefix                   = optional(string)
      archive_access_days      = optional(number)
      deep_archive_access_days = optional(number)
    }))
  }))
  default = {}

  validation {
    condition = alltrue([for k, b in var.buckets :
      can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", b.name)) && !can(regex("\\.\\.|^\\d+\\.\\d+\\.\\d+\\.\\d+$|^xn--|-s3alias$|--ol-s3$", b.name))
    ])
    error_message = "Bucket names are 3-63 characters of lowercase letters, digits, dots and hyphens, start and end with a letter or digit, and are not IP addresses; write e.g. \"lms-dev-student-docs\"."
  }

  validation {
    condition     = length(distinct([for k, b in var.buckets : b.name])) == length(var.buckets)
    error_message = "Two buckets have the same name; bucket names must be unique."
  }

  validation {
    condition     = alltrue([for k, b in var.buckets : contains(["sse-s3", "sse-kms"], b.encryption.type)])
    error_message = "encryption.type must be \"sse-s3\" or \"sse-kms\"."
  }

  validation {
    condition     = alltrue([for k, b in var.buckets : b.encryption.kms_key_arn == null || b.encryption.type == "sse-kms"])
    error_message = "encryption.kms_key_arn is only used with type = \"sse-kms\"; set it to null or change the type."
  }

  validation {
    condition = alltrue(flatten([for k, b in var.buckets : [for r in b.lifecycle_rules : [
      for t in concat(r.transitions, r.noncurrent_transitions) :
      contains(["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"], t.storage_class)
    ]]]))
    error_message = "Lifecycle transition storage_class must be one of STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE."
  }

  validation {
    condition = alltrue(flatten([for k, b in var.buckets : [for r in b.lifecycle_rules : [
      for i in range(1, max(1, length(r.transitions))) : r.transitions[i].days > r.transitions[i - 1].days
    ]]]))
    error_message = "List each lifecycle rule's transitions in ascending order of days (e.g. STANDARD_IA at 30, then GLACIER at 90)."
  }

  validation {
    condition = alltrue(flatten([for k, b in var.buckets : [
      length(distinct([for r in b.lifecycle_rules : r.id])) == length(b.lifecycle_rules)
    ]]))
    error_message = "Lifecycle rule ids must be unique within a bucket."
  }

  validation {
    condition = alltrue(flatten([for k, b in var.buckets : [for c in b.cors_rules :
      length(c.allowed_methods) > 0 && alltrue([for m in c.allowed_methods : contains(["GET", "PUT", "POST", "DELETE", "HEAD"], m)])
    ]]))
    error_message = "cors_rules[*].allowed_methods takes one or more of GET, PUT, POST, DELETE, HEAD (upper case)."
  }

  validation {
    condition = alltrue([for k, b in var.buckets :
      b.public_read_prefix == null ? true : !contains(["", "/", "*"], b.public_read_prefix) && !startswith(b.public_read_prefix, "/") && !strcontains(b.public_read_prefix, "*")
    ])
    error_message = "public_read_prefix would make the whole bucket public; name a prefix like \"uploads/\" (no leading \"/\", no \"*\"), or use null to keep the bucket private."
  }

  validation {
    condition     = alltrue([for k, b in var.buckets : contains(["1.0", "1.1", "1.2", "1.3"], b.min_tls_version)])
    error_message = "min_tls_version must be \"1.2\" (recommended), \"1.3\", \"1.1\" or \"1.0\"."
  }

  validation {
    condition     = alltrue([for k, b in var.buckets : b.object_lock == null ? true : contains(["GOVERNANCE", "COMPLIANCE"], b.object_lock.mode)])
    error_message = "object_lock.mode must be \"GOVERNANCE\" or \"COMPLIANCE\"."
  }

  validation {
    condition = alltrue([for k, b in var.buckets : b.intelligent_tiering == null ? true : (
      (b.intelligent_tiering.archive_access_days != null || b.intelligent_tiering.deep_archive_access_days != null) &&
      (b.intelligent_tiering.archive_access_days == null ? true : b.intelligent_tiering.archive_access_days >= 90) &&
      (b.intelligent_tiering.deep_archive_access_days == null ? true : b.intelligent_tiering.deep_archive_access_days >= 180)
    )])
    error_message = "intelligent_tiering needs archive_access_days (>= 90) and/or deep_archive_access_days (>= 180); or set it to null."
  }

  validation {
    condition = alltrue([for k, b in var.buckets : b.replication == null ? true :
    can(regex("^arn:[a-z-]+:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", b.replication.destination_bucket_arn))])
    error_message = "replication.destination_bucket_arn must be a bucket ARN such as \"arn:aws:s3:::lms-dr-student-docs\"."
  }
}

variable "tables" {
  description = "DynamoDB tables by logical name."
  type = map(object({
    name   = string
    region = optional(string) # null: var.region
    hash_key = object({
      name = string
      type = string
    })
    range_key = optional(object({
      name = string
      type = string
    }))
    billing_mode   = optional(string, "PAY_PER_REQUEST")
    read_capacity  = optional(number)
    write_capacity = optional(number)
    autoscaling = optional(object({
      min_read           = number
      max_read           = number
      min_write          = number
      max_write          = number
      target_utilization = optional(number, 70)
    }))
    global_secondary_indexes = optional(list(object({
      name = string
      hash_key = object({
        name = string
        type = string
      })
      range_key = optional(object({
        name = string
        type = string
      }))
      projection_type    = optional(string, "ALL")
      non_key_attributes = optional(list(string), [])
      read_capacity      = optional(number)
      write_capacity     = optional(number)
      autoscaling = optional(object({
        min_read           = number
        max_read           = number
        min_write          = number
        max_write          = number
        target_utilization = optional(number, 70)
      }))
    })), [])
    local_secondary_indexes = optional(list(object({
      name = string
      range_key = object({
        name = string
        type = string
      })
      projection_type    = optional(string, "ALL")
      non_key_attributes = optional(list(string), [])
    })), [])
    point_in_time_recovery = optional(bool, true)
    ttl_attribute          = optional(string)
    encryption = optional(object({
      type        = optional(string, "aws-owned")
      kms_key_arn = optional(string)
    }), {})
    stream_view_type    = optional(string)
    deletion_protection = optional(bool, true)
    table_class         = optional(string, "STANDARD")
  }))
  default = {}

  validation {
    condition     = alltrue([for k, t in var.tables : can(regex("^[A-Za-z0-9_.-]{3,255}$", t.name))])
    error_message = "Table names are 3-255 characters of letters, digits, underscore, dot and hyphen; write e.g. \"lms-dev-photos\"."
  }

  validation {
    condition     = length(distinct([for k, t in var.tables : t.name])) == length(var.tables)
    error_message = "Two tables have the same name; table names must be unique."
  }

  validation {
    condition = alltrue(flatten([for k, t in var.tables : [
      for key in concat([t.hash_key], t.range_key == null ? [] : [t.range_key],
        flatten([for g in t.global_secondary_indexes : concat([g.hash_key], g.range_key == null ? [] : [g.range_key])]),
      [for l in t.local_secondary_indexes : l.range_key]) : contains(["S", "N", "B"], key.type)
    ]]))
    error_message = "Key attribute types must be \"S\" (string), \"N\" (number) or \"B\" (binary)."
  }

  validation {
    condition     = alltrue([for k, t in var.tables : contains(["PAY_PER_REQUEST", "PROVISIONED"], t.billing_mode)])
    error_message = "billing_mode must be \"PAY_PER_REQUEST\" or \"PROVISIONED\"."
  }

  validation {
    condition = alltrue([for k, t in var.tables : t.billing_mode == "PROVISIONED" ?
      ((t.read_capacity != null && t.write_capacity != null) || t.autoscaling != null) :
      (t.read_capacity == null && t.write_capacity == null && t.autoscaling == null)
    ])
    error_message = "PROVISIONED tables need read_capacity and write_capacity (or autoscaling); PAY_PER_REQUEST tables take read_capacity = null, write_capacity = null, autoscaling = null."
  }

  validation {
    condition = alltrue(flatten([for k, t in var.tables : [
      for i in concat(t.global_secondary_indexes, t.local_secondary_indexes) : contains(["ALL", "KEYS_ONLY", "INCLUDE"], i.projection_type)
    ]]))
    error_message = "Index projection_type must be ALL, KEYS_ONLY or INCLUDE."
  }

  validation {
    condition     = alltrue([for k, t in var.tables : length(t.local_secondary_indexes) == 0 || t.range_key != null])
    error_message = "Local secondary indexes need a table range_key; add one or use a global secondary index."
  }

  validation {
    condition     = alltrue([for k, t in var.tables : contains(["aws-owned", "aws-managed", "customer-kms"], t.encryption.type)])
    error_message = "encryption.type must be \"aws-owned\", \"aws-managed\" or \"customer-kms\"."
  }

  validation {
    condition     = alltrue([for k, t in var.tables : (t.encryption.type == "customer-kms") == (t.encryption.kms_key_arn != null)])
    error_message = "Set encryption.kms_key_arn exactly when encryption.type = \"customer-kms\" (null otherwise)."
  }

  validation {
    condition     = alltrue([for k, t in var.tables : t.stream_view_type == null ? true : contains(["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"], t.stream_view_type)])
    error_message = "stream_view_type must be NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES or KEYS_ONLY, or null for no stream."
  }

  validation {
    condition     = alltrue([for k, t in var.tables : contains(["STANDARD", "STANDARD_INFREQUENT_ACCESS"], t.table_class)])
    error_message = "table_class must be \"STANDARD\" or \"STANDARD_INFREQUENT_ACCESS\"."
  }
}

variable "principals" {
  description = "IAM users and roles by logical name, with grants on the buckets and tables above."
  type = map(object({
    name                     = string
    kind                     = string
    path                     = optional(string, "/")
    assume_role_services     = optional(list(string), [])
    assume_role_arns         = optional(list(string), [])
    assume_role_external_id  = optional(string)
    permissions_boundary_arn = optional(string)
    grants = list(object({
      bucket                 = optional(string)
      table                  = optional(string)
      prefix                 = optional(string)
      actions                = list(string)
      kms_key_arn            = optional(string)
      client_side_encryption = optional(bool, false)
    }))
  }))
  default = {}

  validation {
    condition     = alltrue([for k, p in var.principals : can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", p.name))])
    error_message = "IAM names are 1-64 characters of letters, digits and + = , . @ _ -; write e.g. \"lms-dev-backend\"."
  }

  validation {
    condition     = alltrue([for k, p in var.principals : contains(["user", "role"], p.kind)])
    error_message = "kind must be \"user\" or \"role\"."
  }

  validation {
    condition = alltrue([for k, p in var.principals : p.kind == "role" ?
      length(p.assume_role_services) + length(p.assume_role_arns) > 0 :
      length(p.assume_role_services) + length(p.assume_role_arns) == 0
    ])
    error_message = "A role needs assume_role_services (e.g. [\"ecs-tasks.amazonaws.com\"]) and/or assume_role_arns; a user takes empty lists for both."
  }

  validation {
    condition     = alltrue([for k, p in var.principals : p.assume_role_external_id == null || (p.kind == "role" && length(p.assume_role_arns) > 0)])
    error_message = "assume_role_external_id is a condition on the trust of a role's assume_role_arns: set it only on a role with assume_role_arns (null elsewhere)."
  }

  validation {
    condition     = alltrue([for k, p in var.principals : length(p.grants) > 0])
    error_message = "Give each principal at least one grant."
  }

  validation {
    condition     = alltrue(flatten([for k, p in var.principals : [for g in p.grants : (g.bucket == null) != (g.table == null)]]))
    error_message = "Each grant names exactly one of bucket (a key of buckets) or table (a key of tables); set the other to null."
  }

  validation {
    condition     = alltrue(flatten([for k, p in var.principals : [for g in p.grants : !g.client_side_encryption || g.kms_key_arn != null]]))
    error_message = "client_side_encryption needs the grant's kms_key_arn: the key the application encrypts with."
  }

  validation {
    condition     = alltrue(flatten([for k, p in var.principals : [for g in p.grants : g.table == null || g.prefix == null]]))
    error_message = "prefix only applies to bucket grants; set it to null on table grants."
  }

  validation {
    condition = alltrue(flatten([for k, p in var.principals : [for g in p.grants :
      length(g.actions) > 0 && alltrue([for a in g.actions : contains(g.bucket != null ? ["read", "write", "delete", "list", "locate"] : ["read", "write"], a)])
    ]]))
    # Mirrors modules/iam-principal/actions.json (a variable validation cannot read files on
    # Terraform < 1.9); the module re-checks every word against the file itself.
    error_message = "Grant actions: bucket grants take read, write, delete, list, locate; table grants take read, write (as in modules/iam-principal/actions.json)."
  }
}

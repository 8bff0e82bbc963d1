variable "region" {
  description = "Region the table (and its autoscaling) lives in (the AWS provider 6 per-resource `region`); null = the provider's region."
  type        = string
  default     = null

  validation {
    condition     = var.region == null ? true : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region code such as \"us-west-2\", or null for the provider's region."
  }
}

variable "name" {
  description = "Table name (3-255 characters: letters, digits, _ . -)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.name))
    error_message = "Table names are 3-255 characters of letters, digits, underscore, dot and hyphen; write e.g. \"lms-dev-photos\"."
  }
}

variable "hash_key" {
  description = "Partition key: name and type (S, N or B)."
  type = object({
    name = string
    type = string
  })

  validation {
    condition     = contains(["S", "N", "B"], var.hash_key.type)
    error_message = "hash_key.type must be \"S\" (string), \"N\" (number) or \"B\" (binary)."
  }
}

variable "range_key" {
  description = "Sort key (name and type S, N or B); null = none."
  type = object({
    name = string
    type = string
  })
  default = null

  validation {
    condition     = var.range_key == null ? true : contains(["S", "N", "B"], var.range_key.type)
    error_message = "range_key.type must be \"S\" (string), \"N\" (number) or \"B\" (binary)."
  }
}

variable "billing_mode" {
  description = "PAY_PER_REQUEST (on demand) or PROVISIONED."
  type        = string
  default     = "PAY_PER_REQUEST"

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.billing_mode)
    error_message = "billing_mode must be \"PAY_PER_REQUEST\" or \"PROVISIONED\"."
  }
}

variable "read_capacity" {
  description = "Provisioned read capacity units (PROVISIONED only). With autoscaling, null starts at autoscaling.min_read."
  type        = number
  default     = null

  validation {
    condition     = var.read_capacity == null ? true : var.read_capacity >= 1 && floor(var.read_capacity) == var.read_capacity
    error_message = "read_capacity must be a whole number >= 1, or null."
  }
}

variable "write_capacity" {
  description = "Provisioned write capacity units (PROVISIONED only). With autoscaling, null starts at autoscaling.min_write."
  type        = number
  default     = null

  validation {
    condition     = var.write_capacity == null ? true : var.write_capacity >= 1 && floor(var.write_capacity) == var.write_capacity
    error_message = "write_capacity must be a whole number >= 1, or null."
  }
}

variable "autoscaling" {
  description = "Target-tracking autoscaling of the table's read and write capacity (PROVISIONED only); null = off."
  type = object({
    min_read           = number
    max_read           = number
    min_write          = number
    max_write          = number
    target_utilization = optional(number, 70)
  })
  default = null

  validation {
    condition = var.autoscaling == null ? true : (
      var.autoscaling.min_read >= 1 && var.autoscaling.min_read <= var.autoscaling.max_read &&
      var.autoscaling.min_write >= 1 && var.autoscaling.min_write <= var.autoscaling.max_write
    )
    error_message = "autoscaling needs 1 <= min_read <= max_read and 1 <= min_write <= max_write."
  }

  validation {
    condition     = var.autoscaling == null ? true : var.autoscaling.target_utilization >= 20 && var.autoscaling.target_utilization <= 90
    error_message = "autoscaling.target_utilization is a percentage between 20 and 90 (70 is a good start)."
  }
}

variable "global_secondary_indexes" {
  description = "Global secondary indexes."
  type = list(object({
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
    # Target tracking of the index's own capacity (PROVISIONED only), as `autoscaling` does for the
    # table; null = the index stays at read_capacity/write_capacity.
    autoscaling = optional(object({
      min_read           = number
      max_read           = number
      min_write          = number
      max_write          = number
      target_utilization = optional(number, 70)
    }))
  }))
  default = []

  validation {
    condition = alltrue([for i in var.global_secondary_indexes : i.autoscaling == null ? true : (
      i.autoscaling.min_read >= 1 && i.autoscaling.min_read <= i.autoscaling.max_read &&
      i.autoscaling.min_write >= 1 && i.autoscaling.min_write <= i.autoscaling.max_write &&
      i.autoscaling.target_utilization >= 20 && i.autoscaling.target_utilization <= 90
    )])
    error_message = "global_secondary_indexes[*].autoscaling needs 1 <= min_read <= max_read, 1 <= min_write <= max_write and a target_utilization between 20 and 90."
  }

  validation {
    condition     = alltrue([for i in var.global_secondary_indexes : contains(["ALL", "KEYS_ONLY", "INCLUDE"], i.projection_type)])
    error_message = "global_secondary_indexes[*].projection_type must be ALL, KEYS_ONLY or INCLUDE."
  }

  validation {
    condition = alltrue([for i in var.global_secondary_indexes :
      contains(["S", "N", "B"], i.hash_key.type) && (i.range_key == null ? true : contains(["S", "N", "B"], try(i.range_key.type, "")))
    ])
    error_message = "Index key types must be \"S\", \"N\" or \"B\"."
  }

  validation {
    condition     = alltrue([for i in var.global_secondary_indexes : i.projection_type == "INCLUDE" || length(i.non_key_attributes) == 0])
    error_message = "non_key_attributes is only used with projection_type = \"INCLUDE\"; empty it or change the projection."
  }
}

variable "local_secondary_indexes" {
  description = "Local secondary indexes (share the table's hash key; need a table range key; can only be created with the table)."
  type = list(object({
    name = string
    range_key = object({
      name = string
      type = string
    })
    projection_type    = optional(string, "ALL")
    non_key_attributes = optional(list(string), [])
  }))
  default = []

  validation {
    condition     = alltrue([for i in var.local_secondary_indexes : contains(["ALL", "KEYS_ONLY", "INCLUDE"], i.projection_type)])
    error_message = "local_secondary_indexes[*].projection_type must be ALL, KEYS_ONLY or INCLUDE."
  }

  validation {
    condition     = alltrue([for i in var.local_secondary_indexes : contains(["S", "N", "B"], i.range_key.type)])
    error_message = "Index key types must be \"S\", \"N\" or \"B\"."
  }

  validation {
    condition     = alltrue([for i in var.local_secondary_indexes : i.projection_type == "INCLUDE" || length(i.non_key_attributes) == 0])
    error_message = "non_key_attributes is only used with projection_type = \"INCLUDE\"; empty it or change the projection."
  }
}

variable "point_in_time_recovery" {
  description = "Continuous backups (point-in-time recovery)."
  type        = bool
  default     = true
}

variable "ttl_attribute" {
  description = "Name of the attribute holding the expiry epoch seconds; null = TTL off."
  type        = string
  default     = null

  validation {
    condition     = var.ttl_attribute == null ? true : length(var.ttl_attribute) > 0
    error_message = "ttl_attribute must be an attribute name such as \"expires_at\", or null."
  }
}

variable "encryption" {
  description = "Encryption at rest: \"aws-owned\" (DynamoDB's own key), \"aws-managed\" (aws/dynamodb KMS key) or \"customer-kms\" (kms_key_arn)."
  type = object({
    type        = optional(string, "aws-owned")
    kms_key_arn = optional(string)
  })
  default = {}

  validation {
    condition     = contains(["aws-owned", "aws-managed", "customer-kms"], var.encryption.type)
    error_message = "encryption.type must be \"aws-owned\", \"aws-managed\" or \"customer-kms\"."
  }

  validation {
    condition     = (var.encryption.type == "customer-kms") == (var.encryption.kms_key_arn != null)
    error_message = "Set encryption.kms_key_arn exactly when encryption.type = \"customer-kms\" (null otherwise)."
  }
}

variable "stream_view_type" {
  description = "DynamoDB stream: NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES or KEYS_ONLY; null = no stream."
  type        = string
  default     = null

  validation {
    condition     = var.stream_view_type == null ? true : contains(["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"], var.stream_view_type)
    error_message = "stream_view_type must be NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES or KEYS_ONLY, or null for no stream."
  }
}

variable "deletion_protection" {
  description = "Refuse DeleteTable while on."
  type        = bool
  default     = true
}

variable "table_class" {
  description = "STANDARD or STANDARD_INFREQUENT_ACCESS."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "STANDARD_INFREQUENT_ACCESS"], var.table_class)
    error_message = "table_class must be \"STANDARD\" or \"STANDARD_INFREQUENT_ACCESS\"."
  }
}

variable "tags" {
  description = "Tags for the table (added to the provider's default_tags)."
  type        = map(string)
  default     = {}
}

variable "name" {
  description = "IAM user or role name (also the name of the managed policy, and of the group for users)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.name))
    error_message = "IAM names are 1-64 characters of letters, digits and + = , . @ _ -; write e.g. \"lms-dev-backend\"."
  }
}

variable "kind" {
  description = "\"user\" (an IAM user in its own group; access keys are issued out of band) or \"role\" (assumed by services or principals)."
  type        = string

  validation {
    condition     = contains(["user", "role"], var.kind)
    error_message = "kind must be \"user\" or \"role\"."
  }
}

variable "path" {
  description = "IAM path for the principal, its group and its policy."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([\\x21-\\x7e]{0,510}/)?$", var.path)) && !strcontains(var.path, "//")
    error_message = "path must start and end with \"/\", e.g. \"/\" or \"/cargohold/\"."
  }
}

variable "assume_role_services" {
  description = "Role only: AWS service principals allowed to assume the role, e.g. [\"ecs-tasks.amazonaws.com\"]."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.assume_role_services : can(regex("^[a-z0-9.-]+\\.amazonaws\\.com(\\.cn)?$", s))])
    error_message = "assume_role_services takes service principals such as \"ecs-tasks.amazonaws.com\" or \"lambda.amazonaws.com\"."
  }
}

variable "assume_role_arns" {
  description = "Role only: IAM principal ARNs allowed to assume the role, e.g. [\"arn:aws:iam::123456789012:role/ci\"]."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.assume_role_arns : can(regex("^arn:[a-z-]+:(iam|sts)::[0-9]{12}:(root|(role|user|assumed-role)/[^*]+)$", a))])
    error_message = "assume_role_arns takes IAM ARNs such as \"arn:aws:iam::123456789012:role/ci\" or \"arn:aws:iam::123456789012:root\"; no wildcards."
  }
}

variable "assume_role_external_id" {
  description = "Role only, with assume_role_arns: the sts:ExternalId those principals must pass (the statement that trusts them gets a StringEquals condition on it); null = no condition. Not a secret to AWS, but kept out of plan output."
  type        = string
  default     = null
  sensitive   = true

  validation {
    # RE2 repeats at most 1000 times: the length is checked apart.
    condition = var.assume_role_external_id == null ? true : (
      length(var.assume_role_external_id) >= 2 && length(var.assume_role_external_id) <= 1224 &&
      can(regex("^[[:alnum:]_+=,.@:/-]+$", var.assume_role_external_id))
    )
    error_message = "assume_role_external_id is 2-1224 characters of letters, digits and _ + = , . @ : / -, as the third party gave it to you; or null."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of a managed policy used as permissions boundary; null = none."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null ? true : can(regex("^arn:[a-z-]+:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be a policy ARN such as \"arn:aws:iam::123456789012:policy/boundary\", or null."
  }
}

variable "grants" {
  description = "Access grants resolved to ARNs. kind = \"bucket\" (arn = bucket ARN; actions from read, write, delete, list, locate; prefix narrows object actions and listing) or \"table\" (arn = table ARN; actions from read, write). The words are defined in actions.json. kms_key_arn: the KMS key the data is encrypted with (a key or alias ARN; null = none IAM must allow: SSE-S3, AWS owned or AWS managed keys), used through the service named by kms_via_service (e.g. \"s3.us-east-1.amazonaws.com\"; null = called directly, client-side encryption), with the words' kms actions (kms_client_side_actions for client-side encryption)."
  type = list(object({
    kind                    = string
    arn                     = string
    prefix                  = optional(string)
    actions                 = list(string)
    kms_key_arn             = optional(string)
    kms_via_service         = optional(string)
    kms_client_side_actions = optional(bool, false)
  }))

  validation {
    condition     = length(var.grants) > 0
    error_message = "Give the principal at least one grant (an IAM policy needs at least one statement)."
  }

  validation {
    condition     = alltrue([for g in var.grants : contains(["bucket", "table"], g.kind)])
    error_message = "grants[*].kind must be \"bucket\" or \"table\"."
  }

  validation {
    condition     = alltrue([for g in var.grants : g.arn != null])
    error_message = "A grant has no ARN: it names a bucket or table key that is not defined in the stack's buckets/tables."
  }

  validation {
    condition = alltrue([for g in var.grants : g.arn == null ? true : (
      g.kind == "bucket" ? can(regex("^arn:[a-z-]+:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", g.arn)) :
      can(regex("^arn:[a-z-]+:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$", g.arn))
    )])
    error_message = "Bucket grants take a bucket ARN (arn:aws:s3:::NAME) and table grants a table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME); no wildcards."
  }

  validation {
    condition     = alltrue([for g in var.grants : g.kind == "bucket" || g.prefix == null])
    error_message = "prefix only applies to bucket grants; set it to null on table grants."
  }

  validation {
    condition     = alltrue([for g in var.grants : g.prefix == null ? true : !startswith(g.prefix, "/") && !strcontains(g.prefix, "*")])
    error_message = "A grant prefix is a key prefix such as \"reports/\": no leading \"/\" and no \"*\" (null = whole bucket)."
  }

  validation {
    condition     = alltrue([for g in var.grants : length(g.actions) > 0])
    error_message = "Each grant needs at least one action: read, write, delete, list or locate for buckets; read or write for tables."
  }

  validation {
    condition     = alltrue([for g in var.grants : g.kms_key_arn == null ? true : can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/.+$", g.kms_key_arn))])
    error_message = "kms_key_arn takes a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID) or alias ARN (arn:aws:kms:REGION:ACCOUNT:alias/NAME), or null."
  }

  validation {
    condition     = alltrue([for g in var.grants : g.kms_via_service == null ? true : can(regex("^(s3|dynamodb)\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$", g.kms_via_service))])
    error_message = "kms_via_service is the service that uses the key for the principal, e.g. \"s3.us-east-1.amazonaws.com\" or \"dynamodb.us-east-1.amazonaws.com\"; or null when the application calls KMS itself."
  }

  # Only the vocabulary words can be used, so "*" or "s3:*" can never reach the policy.
  # The words themselves are checked against actions.json by a precondition on aws_iam_policy.this.
  validation {
    condition     = alltrue([for g in var.grants : alltrue([for a in g.actions : can(regex("^[a-z]+$", a))])])
    error_message = "Grant actions are words, not IAM actions or wildcards: read, write, delete, list, locate for buckets; read, write for tables."
  }
}

variable "tags" {
  description = "Tags for the principal, group and policy (added to the provider's default_tags)."
  type        = map(string)
  default     = {}
}

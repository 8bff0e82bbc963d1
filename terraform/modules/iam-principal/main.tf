locals {
  # The grant vocabulary, shared with the Python toolkit: word -> {scope, actions}.
  vocabulary = jsondecode(file("${path.module}/actions.json"))

  unknown_actions = flatten([for i, g in var.grants : [
    for a in g.actions : "grants[${i}] (${g.kind}): \"${a}\"" if !contains(keys(try(local.vocabulary[g.kind], {})), a)
  ]])

  grant_parts = [for i, g in var.grants : {
    index  = i
    arn    = g.arn
    prefix = g.prefix == null ? "" : g.prefix
    words  = distinct(g.actions)
    # With a prefix, ListBucket is conditioned on s3:prefix; GetBucketLocation has no
    # prefix, so "locate" then gets its own statement without the condition.
    split_locate = g.prefix != null && g.prefix != "" && contains(g.actions, "list") && contains(g.actions, "locate")
    list_scoped  = g.prefix != null && g.prefix != "" && contains(g.actions, "list")
    vocab        = try(local.vocabulary[g.kind], {})
    kms_key_arn  = g.kms_key_arn
    kms_field    = g.kms_client_side_actions ? "kms_client_side" : "kms"
    # IAM authorises key use on the key's ARN: an alias ARN becomes the keys of its account and
    # region that carry that alias (kms:ResourceAliases).
    kms_alias    = g.kms_key_arn == null ? null : try(regex(":alias/(.+)$", g.kms_key_arn)[0], null)
    kms_resource = g.kms_key_arn == null ? null : try("${regex("^(.+):alias/", g.kms_key_arn)[0]}:key/*", g.kms_key_arn)
    kms_via      = g.kms_via_service
  }]

  grant_actions = [for p in local.grant_parts : merge(p, {
    object_actions = sort(distinct(flatten([for w in p.words : p.vocab[w].actions if try(p.vocab[w].scope, "") == "object"])))
    bucket_actions = sort(distinct(flatten([for w in p.words : p.vocab[w].actions if try(p.vocab[w].scope, "") == "bucket" && !(p.split_locate && w == "locate")])))
    locate_actions = p.split_locate ? sort(distinct(p.vocab["locate"].actions)) : []
    table_actions  = sort(distinct(flatten([for w in p.words : p.vocab[w].actions if try(p.vocab[w].scope, "") == "table"])))
    # The KMS actions the words need on the grant's key (none without a key IAM must allow).
    kms_actions = p.kms_key_arn == null ? [] : sort(distinct(flatten([for w in p.words : try(p.vocab[w][p.kms_field], [])])))
  })]

  # Statements per grant, in the contract's order: objects, bucket (+ locate), table.
  policy_statements = flatten([for g in local.grant_actions : concat(
    length(g.object_actions) > 0 ? [{
      Sid      = "G${g.index}Objects"
      Effect   = "Allow"
      Action   = g.object_actions
      Resource = ["${g.arn}/${g.prefix}*"]
    }] : [],
    length(g.bucket_actions) > 0 ? [merge(
      {
        Sid      = "G${g.index}Bucket"
        Effect   = "Allow"
        Action   = g.bucket_actions
        Resource = [g.arn]
      },
      g.list_scoped ? { Condition = { StringLike = { "s3:prefix" = ["${g.prefix}*"] } } } : {},
    )] : [],
    length(g.locate_actions) > 0 ? [{
      Sid      = "G${g.index}Locate"
      Effect   = "Allow"
      Action   = g.locate_actions
      Resource = [g.arn]
    }] : [],
    length(g.table_actions) > 0 ? [{
      Sid      = "G${g.index}Table"
      Effect   = "Allow"
      Action   = g.table_actions
      Resource = [g.arn, "${g.arn}/index/*"]
    }] : [],
    length(g.kms_actions) > 0 ? [merge(
      {
        Sid      = "G${g.index}Kms"
        Effect   = "Allow"
        Action   = g.kms_actions
        Resource = [g.kms_resource]
      },
      g.kms_alias == null && g.kms_via == null ? {} : {
        Condition = merge(
          g.kms_alias == null ? {} : { "ForAnyValue:StringEquals" = { "kms:ResourceAliases" = "alias/${g.kms_alias}" } },
          g.kms_via == null ? {} : { StringEquals = { "kms:ViaService" = g.kms_via } },
        )
      },
    )] : [],
  )])

  policy_json = jsonencode({
    Version   = "2012-10-17"
    Statement = local.policy_statements
  })

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      length(var.assume_role_services) > 0 ? [{
        Sid       = "Services"
        Effect    = "Allow"
        Principal = { Service = var.assume_role_services }
        Action    = "sts:AssumeRole"
      }] : [],
      length(var.assume_role_arns) > 0 ? [merge(
        {
          Sid       = "Principals"
          Effect    = "Allow"
          Principal = { AWS = var.assume_role_arns }
          Action    = "sts:AssumeRole"
        },
        # Another account's principal passes the id it was given (the confused deputy); services pass none.
        # Whether one is set is no secret: without one, the trust policy stays readable in plans.
        nonsensitive(var.assume_role_external_id == null) ? {} : {
          Condition = { StringEquals = { "sts:ExternalId" = var.assume_role_external_id } }
        },
      )] : [],
    )
  })
}

resource "aws_iam_policy" "this" {
  name        = var.name
  path        = var.path
  description = "cargohold grants for ${var.kind} ${var.name}"
  policy      = local.policy_json
  tags        = var.tags

  lifecycle {
    precondition {
      condition     = length(local.unknown_actions) == 0
      error_message = "Unknown grant actions ${join(", ", local.unknown_actions)}. Write one of: ${join("; ", [for kind, words in local.vocabulary : "${kind}: ${join(", ", sort(keys(words)))}"])}."
    }
    precondition {
      condition     = !anytrue([for s in local.policy_statements : anytrue([for a in s.Action : a == "*" || endswith(a, ":*")])])
      error_message = "actions.json maps a word to a wildcard IAM action; only list explicit actions there."
    }
  }
}

# --- kind = "user": the policy is attached to a group of one, never directly to the user
# (Security Hub IAM.2 / CIS). No access key or login profile here: keys are issued out of
# band by the toolkit, so no secret ever lands in the Terraform state.

resource "aws_iam_user" "this" {
  count = var.kind == "user" ? 1 : 0

  name                 = var.name
  path                 = var.path
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags

  lifecycle {
    precondition {
      condition     = length(var.assume_role_services) + length(var.assume_role_arns) == 0
      error_message = "assume_role_services and assume_role_arns only apply to kind = \"role\"; empty them for a user."
    }
    precondition {
      condition     = var.assume_role_external_id == null
      error_message = "assume_role_external_id only applies to kind = \"role\" (a condition of its trust policy); set it to null for a user."
    }
  }
}

resource "aws_iam_group" "this" {
  count = var.kind == "user" ? 1 : 0

  name = var.name
  path = var.path
}

resource "aws_iam_group_policy_attachment" "this" {
  count = var.kind == "user" ? 1 : 0

  group      = aws_iam_group.this[0].name
  policy_arn = aws_iam_policy.this.arn
}

resource "aws_iam_user_group_membership" "this" {
  count = var.kind == "user" ? 1 : 0

  user   = aws_iam_user.this[0].name
  groups = [aws_iam_group.this[0].name]
}

# --- kind = "role"

resource "aws_iam_role" "this" {
  count = var.kind == "role" ? 1 : 0

  name                 = var.name
  path                 = var.path
  assume_role_policy   = local.assume_role_policy
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags

  lifecycle {
    precondition {
      condition     = length(var.assume_role_services) + length(var.assume_role_arns) > 0
      error_message = "A role needs someone to assume it: set assume_role_services (e.g. [\"ecs-tasks.amazonaws.com\"]) and/or assume_role_arns."
    }
    precondition {
      condition     = var.assume_role_external_id == null || length(var.assume_role_arns) > 0
      error_message = "assume_role_external_id is passed by the principals in assume_role_arns, and there are none: add them, or set it to null (services pass no external id)."
    }
  }
}

resource "aws_iam_role_policy_attachment" "this" {
  count = var.kind == "role" ? 1 : 0

  role       = aws_iam_role.this[0].name
  policy_arn = aws_iam_policy.this.arn
}

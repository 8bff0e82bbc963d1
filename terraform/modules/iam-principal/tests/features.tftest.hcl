mock_provider "aws" {}

variables {
  name = "lms-dev-backend"
  kind = "user"
  grants = [{
    kind    = "bucket"
    arn     = "arn:aws:s3:::lms-dev-photos"
    actions = ["read"]
  }]
}

# --- Principal kinds

run "user" {
  command = plan

  assert {
    condition = (
      length(aws_iam_user.this) == 1 && length(aws_iam_group.this) == 1 &&
      length(aws_iam_group_policy_attachment.this) == 1 && length(aws_iam_user_group_membership.this) == 1
    )
    error_message = "A user comes with its own group, the group's policy attachment and the membership."
  }

  assert {
    condition     = length(aws_iam_role.this) == 0 && length(aws_iam_role_policy_attachment.this) == 0
    error_message = "No role for kind = \"user\"."
  }

  assert {
    condition = (
      aws_iam_user.this[0].name == "lms-dev-backend" && aws_iam_user.this[0].path == "/" &&
      aws_iam_user.this[0].permissions_boundary == null
    )
    error_message = "The user is named after var.name, on path \"/\", without a permissions boundary."
  }

  assert {
    condition     = aws_iam_group.this[0].name == "lms-dev-backend" && aws_iam_group.this[0].path == "/"
    error_message = "The group has the user's name and path."
  }

  assert {
    condition = (
      aws_iam_user_group_membership.this[0].user == "lms-dev-backend" &&
      aws_iam_user_group_membership.this[0].groups == toset(["lms-dev-backend"])
    )
    error_message = "The user is a member of its group (and only of it)."
  }

  assert {
    condition     = aws_iam_group_policy_attachment.this[0].group == "lms-dev-backend"
    error_message = "The policy is attached to the group, not to the user."
  }

  assert {
    condition = (
      aws_iam_policy.this.name == "lms-dev-backend" && aws_iam_policy.this.path == "/" &&
      aws_iam_policy.this.description == "cargohold grants for user lms-dev-backend"
    )
    error_message = "The managed policy is named after the principal and describes it."
  }

  assert {
    condition     = output.principal_name == "lms-dev-backend" && output.group_name == "lms-dev-backend"
    error_message = "principal_name and group_name are the user's and group's names."
  }
}

run "user_policy_attachment" {
  command = plan

  override_resource {
    target          = aws_iam_policy.this
    override_during = plan
    values = {
      arn = "arn:aws:iam::123456789012:policy/lms-dev-backend"
    }
  }

  assert {
    condition     = aws_iam_group_policy_attachment.this[0].policy_arn == "arn:aws:iam::123456789012:policy/lms-dev-backend"
    error_message = "The group gets the module's managed policy."
  }

  assert {
    condition     = output.policy_arn == "arn:aws:iam::123456789012:policy/lms-dev-backend"
    error_message = "policy_arn is the managed policy's ARN."
  }
}

run "role" {
  command = plan

  variables {
    kind                 = "role"
    assume_role_services = ["ecs-tasks.amazonaws.com", "lambda.amazonaws.com"]
    assume_role_arns     = ["arn:aws:iam::123456789012:role/ci"]
  }

  assert {
    condition     = length(aws_iam_role.this) == 1 && length(aws_iam_role_policy_attachment.this) == 1
    error_message = "kind = \"role\" makes a role and attaches the policy to it."
  }

  assert {
    condition = (
      length(aws_iam_user.this) == 0 && length(aws_iam_group.this) == 0 &&
      length(aws_iam_group_policy_attachment.this) == 0 && length(aws_iam_user_group_membership.this) == 0
    )
    error_message = "No user, group or membership for a role."
  }

  assert {
    condition = (
      aws_iam_role.this[0].name == "lms-dev-backend" && aws_iam_role.this[0].path == "/" &&
      aws_iam_role.this[0].permissions_boundary == null
    )
    error_message = "The role is named after var.name, on path \"/\", without a permissions boundary."
  }

  assert {
    condition = jsondecode(aws_iam_role.this[0].assume_role_policy) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid       = "Services"
          Effect    = "Allow"
          Principal = { Service = ["ecs-tasks.amazonaws.com", "lambda.amazonaws.com"] }
          Action    = "sts:AssumeRole"
        },
        {
          Sid       = "Principals"
          Effect    = "Allow"
          Principal = { AWS = ["arn:aws:iam::123456789012:role/ci"] }
          Action    = "sts:AssumeRole"
        },
      ]
    }
    error_message = "The trust policy lets the services and the principal ARNs assume the role."
  }

  assert {
    condition     = aws_iam_role_policy_attachment.this[0].role == "lms-dev-backend"
    error_message = "The policy is attached to the role."
  }

  assert {
    condition     = aws_iam_policy.this.description == "cargohold grants for role lms-dev-backend"
    error_message = "The policy description names the role."
  }

  assert {
    condition     = output.principal_name == "lms-dev-backend" && output.group_name == null
    error_message = "principal_name is the role's name; roles have no group."
  }
}

run "role_services_only" {
  command = plan

  variables {
    kind                 = "role"
    assume_role_services = ["ecs-tasks.amazonaws.com"]
  }

  assert {
    condition = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement == [{
      Sid       = "Services"
      Effect    = "Allow"
      Principal = { Service = ["ecs-tasks.amazonaws.com"] }
      Action    = "sts:AssumeRole"
    }]
    error_message = "Without assume_role_arns the trust policy has only the Services statement."
  }
}

run "role_arns_only" {
  command = plan

  variables {
    kind             = "role"
    assume_role_arns = ["arn:aws:iam::123456789012:root"]
  }

  assert {
    condition = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement == [{
      Sid       = "Principals"
      Effect    = "Allow"
      Principal = { AWS = ["arn:aws:iam::123456789012:root"] }
      Action    = "sts:AssumeRole"
    }]
    error_message = "Without assume_role_services the trust policy has only the Principals statement."
  }
}

run "role_arns_with_external_id" {
  command = plan

  variables {
    kind                    = "role"
    assume_role_services    = ["ecs-tasks.amazonaws.com"]
    assume_role_arns        = ["arn:aws:iam::210987654321:role/vendor"]
    assume_role_external_id = "vendor-issued-id"
  }

  assert {
    condition = nonsensitive(jsondecode(aws_iam_role.this[0].assume_role_policy).Statement) == [
      {
        Sid       = "Services"
        Effect    = "Allow"
        Principal = { Service = ["ecs-tasks.amazonaws.com"] }
        Action    = "sts:AssumeRole"
      },
      {
        Sid       = "Principals"
        Effect    = "Allow"
        Principal = { AWS = ["arn:aws:iam::210987654321:role/vendor"] }
        Action    = "sts:AssumeRole"
        Condition = { StringEquals = { "sts:ExternalId" = "vendor-issued-id" } }
      },
    ]
    error_message = "The external id is a StringEquals condition on the Principals statement only (services pass none)."
  }
}

run "role_policy_attachment" {
  command = plan

  variables {
    kind                 = "role"
    assume_role_services = ["ecs-tasks.amazonaws.com"]
  }

  override_resource {
    target          = aws_iam_policy.this
    override_during = plan
    values = {
      arn = "arn:aws:iam::123456789012:policy/lms-dev-backend"
    }
  }

  assert {
    condition     = aws_iam_role_policy_attachment.this[0].policy_arn == "arn:aws:iam::123456789012:policy/lms-dev-backend"
    error_message = "The role gets the module's managed policy."
  }
}

# --- Permissions boundary, path, tags

run "user_permissions_boundary" {
  command = plan

  variables {
    permissions_boundary_arn = "arn:aws:iam::123456789012:policy/boundary"
  }

  assert {
    condition     = aws_iam_user.this[0].permissions_boundary == "arn:aws:iam::123456789012:policy/boundary"
    error_message = "permissions_boundary_arn is set on the user."
  }
}

run "role_permissions_boundary" {
  command = plan

  variables {
    kind                     = "role"
    assume_role_services     = ["ecs-tasks.amazonaws.com"]
    permissions_boundary_arn = "arn:aws:iam::aws:policy/PowerUserAccess"
  }

  assert {
    condition     = aws_iam_role.this[0].permissions_boundary == "arn:aws:iam::aws:policy/PowerUserAccess"
    error_message = "permissions_boundary_arn is set on the role."
  }
}

run "user_path_and_tags" {
  command = plan

  variables {
    path = "/cargohold/"
    tags = { team = "lms" }
  }

  assert {
    condition = (
      aws_iam_user.this[0].path == "/cargohold/" && aws_iam_group.this[0].path == "/cargohold/" &&
      aws_iam_policy.this.path == "/cargohold/"
    )
    error_message = "path applies to the user, its group and the policy."
  }

  assert {
    condition     = aws_iam_user.this[0].tags == tomap({ team = "lms" }) && aws_iam_policy.this.tags == tomap({ team = "lms" })
    error_message = "tags are set on the user and the policy."
  }
}

run "role_path_and_tags" {
  command = plan

  variables {
    kind                 = "role"
    assume_role_services = ["ecs-tasks.amazonaws.com"]
    path                 = "/cargohold/"
    tags                 = { team = "lms" }
  }

  assert {
    condition     = aws_iam_role.this[0].path == "/cargohold/" && aws_iam_policy.this.path == "/cargohold/"
    error_message = "path applies to the role and the policy."
  }

  assert {
    condition     = aws_iam_role.this[0].tags == tomap({ team = "lms" }) && aws_iam_policy.this.tags == tomap({ team = "lms" })
    error_message = "tags are set on the role and the policy."
  }
}

# --- The policy document

run "policy_bucket_read" {
  command = plan

  assert {
    condition = jsondecode(aws_iam_policy.this.policy) == {
      Version = "2012-10-17"
      Statement = [{
        Sid      = "G0Objects"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = ["arn:aws:s3:::lms-dev-photos/*"]
      }]
    }
    error_message = "A read grant allows s3:GetObject on every object of the bucket, nothing else."
  }

  assert {
    condition     = jsondecode(output.policy_json) == jsondecode(aws_iam_policy.this.policy)
    error_message = "policy_json is the planned policy document."
  }
}

run "policy_bucket_all_words_without_prefix" {
  command = plan

  variables {
    grants = [{
      kind    = "bucket"
      arn     = "arn:aws:s3:::lms-dev-photos"
      actions = ["write", "read", "delete", "list", "locate", "read"]
    }]
  }

  assert {
    condition = jsondecode(aws_iam_policy.this.policy).Statement == [
      {
        Sid      = "G0Objects"
        Effect   = "Allow"
        Action   = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
        Resource = ["arn:aws:s3:::lms-dev-photos/*"]
      },
      {
        Sid      = "G0Bucket"
        Effect   = "Allow"
        Action   = ["s3:GetBucketLocation", "s3:ListBucket"]
        Resource = ["arn:aws:s3:::lms-dev-photos"]
      },
    ]
    error_message = "Object actions go on bucket/*, bucket actions on the bucket; sorted, deduplicated, no condition without a prefix."
  }
}

run "policy_bucket_prefix_with_list_and_locate" {
  command = plan

  variables {
    grants = [{
      kind    = "bucket"
      arn     = "arn:aws:s3:::lms-dev-photos"
      prefix  = "reports/"
      actions = ["read", "list", "locate"]
    }]
  }

  assert {
    condition = jsondecode(aws_iam_policy.this.policy).Statement == [
      {
        Sid      = "G0Objects"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = ["arn:aws:s3:::lms-dev-photos/reports/*"]
      },
      {
        Sid       = "G0Bucket"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = ["arn:aws:s3:::lms-dev-photos"]
        Condition = { StringLike = { "s3:prefix" = ["reports/*"] } }
      },
      {
        Sid      = "G0Locate"
        Effect   = "Allow"
        Action   = ["s3:GetBucketLocation"]
        Resource = ["arn:aws:s3:::lms-dev-photos"]
      },
    ]
    error_message = "A prefix narrows objects and listing; GetBucketLocation gets its own statement without the condition."
  }
}

run "policy_bucket_prefix_with_list_only" {
  command = plan

  variables {
    grants = [{
      kind    = "bucket"
      arn     = "arn:aws:s3:::lms-dev-photos"
      prefix  = "reports/"
      actions = ["list"]
    }]
  }

  assert {
    condition = jsondecode(aws_iam_policy.this.policy).Statement == [{
      Sid       = "G0Bucket"
      Effect    = "Allow"
      Action    = ["s3:ListBucket"]
      Resource  = ["arn:aws:s3:::lms-dev-photos"]
      Condition = { StringLike = { "s3:prefix" = ["reports/*"] } }
    }]
    error_message = "A prefixed list grant is one ListBucket statement conditioned on s3:prefix, without object or locate statements."
  }
}

run "policy_bucket_prefix_with_locate_only" {
  command = plan

  variables {
    grants = [{
      kind    = "bucket"
      arn     = "arn:aws:s3:::lms-dev-photos"
      prefix  = "reports/"
      actions = ["locate"]
    }]
  }

  assert {
    condition = jsondecode(aws_iam_policy.this.policy).Statement == [{
      Sid      = "G0Bucket"
      Effect   = "Allow"
      Action   = ["s3:GetBucketLocation"]
      Resource = ["arn:aws:s3:::lms-dev-photos"]
    }]
    error_message = "Without list, locate stays in the bucket statement and no s3:prefix condition is added."
  }
}

run "policy_table" {
  command = plan

  variables {
    grants = [{
      kind    = "table"
      arn     = "arn:aws:dynamodb:eu-west-1:123456789012:table/lms-dev-jobs"
      actions = ["write", "read"]
    }]
  }

  assert {
    condition = jsondecode(aws_iam_policy.this.policy).Statement == [{
      Sid    = "G0Table"
      Effect = "Allow"
      Action = [
        "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem",
        "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan",
        "dynamodb:UpdateItem",
      ]
      Resource = [
        "arn:aws:dynamodb:eu-west-1:123456789012:table/lms-dev-jobs",
        "arn:aws:dynamodb:eu-west-1:123456789012:table/lms-dev-jobs/index/*",
      ]
    }]
    error_message = "A table grant allows the read and write item actions on the table and its indexes."
  }
}

run "policy_several_grants" {
  command = plan

  variables {
    grants = [
      { kind = "table", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/lms-dev-jobs", actions = ["read"] },
      { kind = "bucket", arn = "arn:aws:s3:::lms-dev-photos", prefix = "in/", actions = ["write", "list"] },
    ]
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_policy.this.policy).Statement : s.Sid] == ["G0Table", "G1Objects", "G1Bucket"]
    error_message = "Statements follow the grants' order, with Sids numbered by grant."
  }

  assert {
    condition = (
      [for s in jsondecode(aws_iam_policy.this.policy).Statement : s.Resource if s.Sid == "G0Table"][0] == [
        "arn:aws:dynamodb:eu-west-1:123456789012:table/lms-dev-jobs",
        "arn:aws:dynamodb:eu-west-1:123456789012:table/lms-dev-jobs/index/*",
      ] &&
      [for s in jsondecode(aws_iam_policy.this.policy).Statement : s.Resource if s.Sid == "G1Objects"][0] == ["arn:aws:s3:::lms-dev-photos/in/*"]
    )
    error_message = "Each grant's statements target its own ARN."
  }

  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_policy.this.policy).Statement : s.Effect == "Allow"])
    error_message = "The policy only allows."
  }
}

run "kms_statements_per_grant_word" {
  command = plan

  variables {
    grants = [
      {
        kind            = "bucket"
        arn             = "arn:aws:s3:::lms-dev-photos"
        actions         = ["read", "write", "list"]
        kms_key_arn     = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        kms_via_service = "s3.us-east-1.amazonaws.com"
      },
      {
        kind            = "table"
        arn             = "arn:aws:dynamodb:us-east-1:123456789012:table/lms-dev-users"
        actions         = ["read"]
        kms_key_arn     = "arn:aws:kms:us-east-1:123456789012:alias/tables"
        kms_via_service = "dynamodb.us-east-1.amazonaws.com"
      },
      {
        kind                    = "bucket"
        arn                     = "arn:aws:s3:::lms-dev-photos"
        actions                 = ["write", "delete"]
        kms_key_arn             = "arn:aws:kms:us-east-1:123456789012:key/abcd"
        kms_client_side_actions = true
      },
      {
        kind        = "bucket"
        arn         = "arn:aws:s3:::lms-dev-photos"
        actions     = ["list", "locate"]
        kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/abcd"
      },
    ]
  }

  assert {
    condition = jsondecode(aws_iam_policy.this.policy).Statement[2] == {
      Sid       = "G0Kms"
      Effect    = "Allow"
      Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource  = ["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
      Condition = { StringEquals = { "kms:ViaService" = "s3.us-east-1.amazonaws.com" } }
    }
    error_message = "read + write on an SSE-KMS bucket: Decrypt and GenerateDataKey on its key, through S3 only."
  }

  assert {
    condition = jsondecode(aws_iam_policy.this.policy).Statement[4] == {
      Sid      = "G1Kms"
      Effect   = "Allow"
      Action   = ["kms:Decrypt"]
      Resource = ["arn:aws:kms:us-east-1:123456789012:key/*"]
      Condition = {
        "ForAnyValue:StringEquals" = { "kms:ResourceAliases" = "alias/tables" }
        StringEquals               = { "kms:ViaService" = "dynamodb.us-east-1.amazonaws.com" }
      }
    }
    error_message = "A key named by alias: the keys carrying the alias, through DynamoDB only."
  }

  assert {
    condition = jsondecode(aws_iam_policy.this.policy).Statement[6] == {
      Sid      = "G2Kms"
      Effect   = "Allow"
      Action   = ["kms:GenerateDataKey"]
      Resource = ["arn:aws:kms:us-east-1:123456789012:key/abcd"]
    }
    error_message = "Client-side encryption: the application calls KMS itself (no kms:ViaService)."
  }

  assert {
    condition     = length(jsondecode(aws_iam_policy.this.policy).Statement) == 8
    error_message = "list and locate use no key: no KMS statement for the last grant."
  }
}

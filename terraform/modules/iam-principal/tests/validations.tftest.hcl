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

run "valid_minimal" {
  command = plan
}

# --- Variable validations

run "name_with_space" {
  command = plan

  variables {
    name = "lms dev backend"
  }

  expect_failures = [var.name]
}

run "kind_unknown" {
  command = plan

  variables {
    kind = "group"
  }

  expect_failures = [var.kind]
}

run "path_without_trailing_slash" {
  command = plan

  variables {
    path = "/cargohold"
  }

  expect_failures = [var.path]
}

run "assume_role_service_not_a_service_principal" {
  command = plan

  variables {
    kind                 = "role"
    assume_role_services = ["ecs-tasks"]
  }

  expect_failures = [var.assume_role_services]
}

run "assume_role_arn_wildcard_role" {
  command = plan

  variables {
    kind             = "role"
    assume_role_arns = ["arn:aws:iam::123456789012:role/*"]
  }

  expect_failures = [var.assume_role_arns]
}

run "assume_role_arn_wildcard_account" {
  command = plan

  variables {
    kind             = "role"
    assume_role_arns = ["arn:aws:iam::*:root"]
  }

  expect_failures = [var.assume_role_arns]
}

run "permissions_boundary_not_a_policy_arn" {
  command = plan

  variables {
    permissions_boundary_arn = "arn:aws:iam::123456789012:role/boundary"
  }

  expect_failures = [var.permissions_boundary_arn]
}

run "grants_empty" {
  command = plan

  variables {
    grants = []
  }

  expect_failures = [var.grants]
}

# A valid table ARN, so only the kind check fails (not the ARN format check).
run "grant_kind_unknown" {
  command = plan

  variables {
    grants = [{
      kind    = "queue"
      arn     = "arn:aws:dynamodb:eu-west-1:123456789012:table/lms-dev-jobs"
      actions = ["read"]
    }]
  }

  expect_failures = [var.grants]
}

# What the toolkit passes when a grant names a bucket or table key the stack does not define.
run "grant_arn_null" {
  command = plan

  variables {
    grants = [{
      kind    = "bucket"
      arn     = null
      actions = ["read"]
    }]
  }

  expect_failures = [var.grants]
}

run "grant_bucket_arn_wildcard" {
  command = plan

  variables {
    grants = [{
      kind    = "bucket"
      arn     = "arn:aws:s3:::lms-*"
      actions = ["read"]
    }]
  }

  expect_failures = [var.grants]
}

run "grant_table_with_prefix" {
  command = plan

  variables {
    grants = [{
      kind    = "table"
      arn     = "arn:aws:dynamodb:eu-west-1:123456789012:table/lms-dev-jobs"
      prefix  = "reports/"
      actions = ["read"]
    }]
  }

  expect_failures = [var.grants]
}

run "grant_prefix_leading_slash" {
  command = plan

  variables {
    grants = [{
      kind    = "bucket"
      arn     = "arn:aws:s3:::lms-dev-photos"
      prefix  = "/reports/"
      actions = ["read"]
    }]
  }

  expect_failures = [var.grants]
}

run "grant_without_actions" {
  command = plan

  variables {
    grants = [{
      kind    = "bucket"
      arn     = "arn:aws:s3:::lms-dev-photos"
      actions = []
    }]
  }

  expect_failures = [var.grants]
}

run "grant_raw_iam_action" {
  command = plan

  variables {
    grants = [{
      kind    = "bucket"
      arn     = "arn:aws:s3:::lms-dev-photos"
      actions = ["s3:GetObject"]
    }]
  }

  expect_failures = [var.grants]
}

# --- Preconditions

# "list" is a bucket word: valid syntax, but not in the table vocabulary of actions.json.
run "grant_word_not_in_vocabulary" {
  command = plan

  variables {
    grants = [{
      kind    = "table"
      arn     = "arn:aws:dynamodb:eu-west-1:123456789012:table/lms-dev-jobs"
      actions = ["read", "list"]
    }]
  }

  expect_failures = [aws_iam_policy.this]
}

run "user_with_assume_role_principals" {
  command = plan

  variables {
    assume_role_services = ["ecs-tasks.amazonaws.com"]
  }

  expect_failures = [aws_iam_user.this]
}

run "external_id_not_in_sts_form" {
  command = plan

  variables {
    kind                    = "role"
    assume_role_arns        = ["arn:aws:iam::210987654321:role/vendor"]
    assume_role_external_id = "has spaces"
  }

  expect_failures = [var.assume_role_external_id]
}

run "user_with_external_id" {
  command = plan

  variables {
    assume_role_external_id = "vendor-issued-id"
  }

  expect_failures = [aws_iam_user.this]
}

run "role_external_id_without_arns" {
  command = plan

  variables {
    kind                    = "role"
    assume_role_services    = ["ecs-tasks.amazonaws.com"]
    assume_role_external_id = "vendor-issued-id"
  }

  expect_failures = [aws_iam_role.this]
}

run "role_without_assume_role_principals" {
  command = plan

  variables {
    kind = "role"
  }

  expect_failures = [aws_iam_role.this]
}

run "grant_kms_key_not_a_key_arn" {
  command = plan

  variables {
    grants = [{
      kind        = "bucket"
      arn         = "arn:aws:s3:::lms-dev-photos"
      actions     = ["read"]
      kms_key_arn = "arn:aws:s3:::not-a-key"
    }]
  }

  expect_failures = [var.grants]
}

run "grant_kms_via_service_unknown" {
  command = plan

  variables {
    grants = [{
      kind            = "bucket"
      arn             = "arn:aws:s3:::lms-dev-photos"
      actions         = ["read"]
      kms_key_arn     = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
      kms_via_service = "sqs.us-east-1.amazonaws.com"
    }]
  }

  expect_failures = [var.grants]
}

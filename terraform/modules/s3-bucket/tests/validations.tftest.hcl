# Every variable validation of the module, each broken on its own (plan only; the provider is mocked).
mock_provider "aws" {}

variables {
  name = "lms-dev-student-docs"
}

run "valid_minimal" {
  command = plan
}

run "name_with_upper_case" {
  command = plan
  variables {
    name = "Student_Docs"
  }
  expect_failures = [var.name]
}

run "name_is_an_ip_address" {
  command = plan
  variables {
    name = "192.168.1.10"
  }
  expect_failures = [var.name]
}

run "unknown_partition" {
  command = plan
  variables {
    partition = "aws-eu"
  }
  expect_failures = [var.partition]
}

run "unknown_encryption_type" {
  command = plan
  variables {
    encryption = { type = "sse-c" }
  }
  expect_failures = [var.encryption]
}

run "kms_key_without_sse_kms" {
  command = plan
  variables {
    encryption = { type = "sse-s3", kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/abc" }
  }
  expect_failures = [var.encryption]
}

run "kms_key_not_an_arn" {
  command = plan
  variables {
    encryption = { type = "sse-kms", kms_key_arn = "alias/docs" }
  }
  expect_failures = [var.encryption]
}

run "duplicate_lifecycle_ids" {
  command = plan
  variables {
    lifecycle_rules = [
      { id = "tidy", expiration_days = 30 },
      { id = "tidy", abort_incomplete_multipart_days = 7 },
    ]
  }
  expect_failures = [var.lifecycle_rules]
}

run "unknown_storage_class" {
  command = plan
  variables {
    lifecycle_rules = [{ id = "cold", transitions = [{ days = 30, storage_class = "COLD" }] }]
  }
  expect_failures = [var.lifecycle_rules]
}

run "fractional_days" {
  command = plan
  variables {
    lifecycle_rules = [{ id = "tidy", expiration_days = 1.5 }]
  }
  expect_failures = [var.lifecycle_rules]
}

run "transitions_out_of_order" {
  command = plan
  variables {
    lifecycle_rules = [{ id = "cold", transitions = [
      { days = 90, storage_class = "GLACIER" },
      { days = 30, storage_class = "STANDARD_IA" },
    ] }]
  }
  expect_failures = [var.lifecycle_rules]
}

run "expiration_before_transition" {
  command = plan
  variables {
    lifecycle_rules = [{ id = "cold", expiration_days = 20, transitions = [{ days = 30, storage_class = "STANDARD_IA" }] }]
  }
  expect_failures = [var.lifecycle_rules]
}

run "object_size_range_inverted" {
  command = plan
  variables {
    lifecycle_rules = [{ id = "big", expiration_days = 30, object_size_greater_than = 1000, object_size_less_than = 10 }]
  }
  expect_failures = [var.lifecycle_rules]
}

run "lifecycle_rule_without_action" {
  command = plan
  variables {
    lifecycle_rules = [{ id = "nothing", prefix = "tmp/" }]
  }
  expect_failures = [var.lifecycle_rules]
}

run "cors_lower_case_method" {
  command = plan
  variables {
    cors_rules = [{ allowed_origins = ["https://app.example.com"], allowed_methods = ["get"] }]
  }
  expect_failures = [var.cors_rules]
}

run "cors_without_methods" {
  command = plan
  variables {
    cors_rules = [{ allowed_origins = ["https://app.example.com"], allowed_methods = [] }]
  }
  expect_failures = [var.cors_rules]
}

run "cors_without_origins" {
  command = plan
  variables {
    cors_rules = [{ allowed_origins = [], allowed_methods = ["GET"] }]
  }
  expect_failures = [var.cors_rules]
}

run "public_prefix_is_whole_bucket" {
  command = plan
  variables {
    public_read_prefix = "*"
  }
  expect_failures = [var.public_read_prefix]
}

run "public_prefix_with_leading_slash" {
  command = plan
  variables {
    public_read_prefix = "/uploads/"
  }
  expect_failures = [var.public_read_prefix]
}

run "unknown_min_tls_version" {
  command = plan
  variables {
    min_tls_version = "1.4"
  }
  expect_failures = [var.min_tls_version]
}

run "log_source_not_a_bucket_arn" {
  command = plan
  variables {
    account_id           = "123456789012"
    log_delivery_sources = [{ source_bucket_arn = "lms-dev-student-docs" }]
  }
  expect_failures = [var.log_delivery_sources]
}

run "account_id_not_12_digits" {
  command = plan
  variables {
    account_id = "12345"
  }
  expect_failures = [var.account_id]
}

run "log_delivery_without_account_id" {
  command = plan
  variables {
    log_delivery_sources = [{ source_bucket_arn = "arn:aws:s3:::lms-dev-student-docs" }]
  }
  expect_failures = [aws_s3_bucket_policy.this]
}

run "replication_destination_not_a_bucket_arn" {
  command = plan
  variables {
    replication = { destination_bucket_arn = "arn:aws:s3:us-east-1::dr" }
  }
  expect_failures = [var.replication]
}

run "replication_unknown_storage_class" {
  command = plan
  variables {
    replication = { destination_bucket_arn = "arn:aws:s3:::lms-dr-student-docs", storage_class = "COLD" }
  }
  expect_failures = [var.replication]
}

run "replication_role_not_a_role_arn" {
  command = plan
  variables {
    replication = { destination_bucket_arn = "arn:aws:s3:::lms-dr-student-docs", role_arn = "arn:aws:iam::123456789012:user/me" }
  }
  expect_failures = [var.replication]
}

run "region_not_a_region" {
  command = plan
  variables {
    region = "moon-base-1"
  }
  expect_failures = [var.region]
}

run "object_lock_unknown_mode" {
  command = plan
  variables {
    object_lock = { mode = "LEGAL_HOLD", days = 30 }
  }
  expect_failures = [var.object_lock]
}

run "object_lock_zero_days" {
  command = plan
  variables {
    object_lock = { mode = "GOVERNANCE", days = 0 }
  }
  expect_failures = [var.object_lock]
}

run "intelligent_tiering_without_tiers" {
  command = plan
  variables {
    intelligent_tiering = { prefix = "archive/" }
  }
  expect_failures = [var.intelligent_tiering]
}

run "archive_access_too_soon" {
  command = plan
  variables {
    intelligent_tiering = { archive_access_days = 30 }
  }
  expect_failures = [var.intelligent_tiering]
}

run "deep_archive_access_too_soon" {
  command = plan
  variables {
    intelligent_tiering = { deep_archive_access_days = 90 }
  }
  expect_failures = [var.intelligent_tiering]
}

run "replication_without_versioning" {
  command = plan
  variables {
    versioning  = false
    replication = { destination_bucket_arn = "arn:aws:s3:::lms-dr-student-docs" }
  }
  expect_failures = [aws_s3_bucket_replication_configuration.this]
}

run "kms_replication_without_replica_key" {
  command = plan
  variables {
    encryption  = { type = "sse-kms", kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/abc" }
    replication = { destination_bucket_arn = "arn:aws:s3:::lms-dr-student-docs" }
  }
  expect_failures = [aws_s3_bucket_replication_configuration.this]
}

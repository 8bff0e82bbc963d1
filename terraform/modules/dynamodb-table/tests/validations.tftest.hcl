mock_provider "aws" {}

variables {
  name     = "lms-dev-photos"
  hash_key = { name = "pk", type = "S" }
}

run "valid_minimal" {
  command = plan
}

# --- Variable validations

run "region_not_a_region" {
  command = plan
  variables {
    region = "US West"
  }
  expect_failures = [var.region]
}

run "name_too_short" {
  command = plan

  variables {
    name = "ab"
  }

  expect_failures = [var.name]
}

run "hash_key_bad_type" {
  command = plan

  variables {
    hash_key = { name = "pk", type = "X" }
  }

  expect_failures = [var.hash_key]
}

run "range_key_bad_type" {
  command = plan

  variables {
    range_key = { name = "sk", type = "STRING" }
  }

  expect_failures = [var.range_key]
}

run "billing_mode_unknown" {
  command = plan

  variables {
    billing_mode = "ON_DEMAND"
  }

  expect_failures = [var.billing_mode]
}

run "read_capacity_fractional" {
  command = plan

  variables {
    billing_mode   = "PROVISIONED"
    read_capacity  = 2.5
    write_capacity = 5
  }

  expect_failures = [var.read_capacity]
}

run "write_capacity_zero" {
  command = plan

  variables {
    billing_mode   = "PROVISIONED"
    read_capacity  = 5
    write_capacity = 0
  }

  expect_failures = [var.write_capacity]
}

run "autoscaling_min_above_max" {
  command = plan

  variables {
    billing_mode = "PROVISIONED"
    autoscaling  = { min_read = 10, max_read = 5, min_write = 1, max_write = 5 }
  }

  expect_failures = [var.autoscaling]
}

run "autoscaling_target_out_of_range" {
  command = plan

  variables {
    billing_mode = "PROVISIONED"
    autoscaling  = { min_read = 1, max_read = 5, min_write = 1, max_write = 5, target_utilization = 95 }
  }

  expect_failures = [var.autoscaling]
}

run "gsi_autoscaling_min_above_max" {
  command = plan

  variables {
    billing_mode   = "PROVISIONED"
    read_capacity  = 5
    write_capacity = 5
    global_secondary_indexes = [{
      name        = "by-owner"
      hash_key    = { name = "owner", type = "S" }
      autoscaling = { min_read = 10, max_read = 5, min_write = 1, max_write = 5 }
    }]
  }

  expect_failures = [var.global_secondary_indexes]
}

run "gsi_bad_projection_type" {
  command = plan

  variables {
    global_secondary_indexes = [{
      name            = "by-owner"
      hash_key        = { name = "owner", type = "S" }
      projection_type = "SOME"
    }]
  }

  expect_failures = [var.global_secondary_indexes]
}

run "gsi_bad_key_type" {
  command = plan

  variables {
    global_secondary_indexes = [{
      name      = "by-owner"
      hash_key  = { name = "owner", type = "S" }
      range_key = { name = "created", type = "DATE" }
    }]
  }

  expect_failures = [var.global_secondary_indexes]
}

run "gsi_non_key_attributes_without_include" {
  command = plan

  variables {
    global_secondary_indexes = [{
      name               = "by-owner"
      hash_key           = { name = "owner", type = "S" }
      projection_type    = "KEYS_ONLY"
      non_key_attributes = ["title"]
    }]
  }

  expect_failures = [var.global_secondary_indexes]
}

run "lsi_bad_projection_type" {
  command = plan

  variables {
    range_key = { name = "sk", type = "S" }
    local_secondary_indexes = [{
      name            = "by-created"
      range_key       = { name = "created", type = "N" }
      projection_type = "SOME"
    }]
  }

  expect_failures = [var.local_secondary_indexes]
}

run "lsi_bad_key_type" {
  command = plan

  variables {
    range_key = { name = "sk", type = "S" }
    local_secondary_indexes = [{
      name      = "by-created"
      range_key = { name = "created", type = "DATE" }
    }]
  }

  expect_failures = [var.local_secondary_indexes]
}

run "lsi_non_key_attributes_without_include" {
  command = plan

  variables {
    range_key = { name = "sk", type = "S" }
    local_secondary_indexes = [{
      name               = "by-created"
      range_key          = { name = "created", type = "N" }
      non_key_attributes = ["title"]
    }]
  }

  expect_failures = [var.local_secondary_indexes]
}

run "ttl_attribute_empty" {
  command = plan

  variables {
    ttl_attribute = ""
  }

  expect_failures = [var.ttl_attribute]
}

run "encryption_unknown_type" {
  command = plan

  variables {
    encryption = { type = "sse-s3" }
  }

  expect_failures = [var.encryption]
}

run "encryption_customer_kms_without_key" {
  command = plan

  variables {
    encryption = { type = "customer-kms" }
  }

  expect_failures = [var.encryption]
}

run "stream_view_type_unknown" {
  command = plan

  variables {
    stream_view_type = "ALL"
  }

  expect_failures = [var.stream_view_type]
}

run "table_class_unknown" {
  command = plan

  variables {
    table_class = "GLACIER"
  }

  expect_failures = [var.table_class]
}

# --- Preconditions on aws_dynamodb_table.this

run "provisioned_without_capacity" {
  command = plan

  variables {
    billing_mode = "PROVISIONED"
  }

  expect_failures = [aws_dynamodb_table.this]
}

run "on_demand_with_capacity" {
  command = plan

  variables {
    read_capacity  = 5
    write_capacity = 5
  }

  expect_failures = [aws_dynamodb_table.this]
}

run "lsi_without_table_range_key" {
  command = plan

  variables {
    local_secondary_indexes = [{
      name      = "by-created"
      range_key = { name = "created", type = "N" }
    }]
  }

  expect_failures = [aws_dynamodb_table.this]
}

run "key_attribute_conflicting_types" {
  command = plan

  variables {
    global_secondary_indexes = [{
      name     = "by-pk-number"
      hash_key = { name = "pk", type = "N" }
    }]
  }

  expect_failures = [aws_dynamodb_table.this]
}

mock_provider "aws" {}

variables {
  name     = "lms-dev-photos"
  hash_key = { name = "pk", type = "S" }
}

run "defaults" {
  command = plan

  assert {
    condition     = aws_dynamodb_table.this.name == "lms-dev-photos" && output.table_name == "lms-dev-photos"
    error_message = "The table is named after var.name."
  }

  assert {
    condition     = aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST"
    error_message = "Tables are on demand by default."
  }

  assert {
    condition     = aws_dynamodb_table.this.hash_key == "pk" && aws_dynamodb_table.this.range_key == null
    error_message = "The key schema is the hash key alone when range_key is null."
  }

  assert {
    condition     = aws_dynamodb_table.this.attribute == toset([{ name = "pk", type = "S" }])
    error_message = "Only the hash key is declared as an attribute."
  }

  assert {
    condition     = aws_dynamodb_table.this.point_in_time_recovery[0].enabled == true
    error_message = "Point-in-time recovery is on by default."
  }

  assert {
    condition     = aws_dynamodb_table.this.deletion_protection_enabled == true
    error_message = "Deletion protection is on by default."
  }

  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].enabled == false
    error_message = "The default encryption is DynamoDB's AWS owned key (enabled = false), as in the schema."
  }

  assert {
    condition     = aws_dynamodb_table.this.stream_enabled == false && output.table_stream_arn == null
    error_message = "No stream by default."
  }

  assert {
    condition     = length(aws_dynamodb_table.this.ttl) == 0
    error_message = "TTL is off by default."
  }

  assert {
    condition     = length(aws_dynamodb_table.this.global_secondary_index) == 0 && length(aws_dynamodb_table.this.local_secondary_index) == 0
    error_message = "No indexes by default."
  }

  assert {
    condition     = aws_dynamodb_table.this.table_class == "STANDARD"
    error_message = "The table class is STANDARD by default."
  }

  assert {
    condition = (
      length(aws_appautoscaling_target.read) == 0 && length(aws_appautoscaling_target.write) == 0 &&
      length(aws_appautoscaling_policy.read) == 0 && length(aws_appautoscaling_policy.write) == 0
    )
    error_message = "No autoscaling resources for an on-demand table."
  }
}

run "range_key" {
  command = plan

  variables {
    range_key = { name = "sk", type = "N" }
  }

  assert {
    condition     = aws_dynamodb_table.this.hash_key == "pk" && aws_dynamodb_table.this.range_key == "sk"
    error_message = "range_key becomes the table's sort key."
  }

  assert {
    condition     = aws_dynamodb_table.this.attribute == toset([{ name = "pk", type = "S" }, { name = "sk", type = "N" }])
    error_message = "Both keys are declared as attributes with their types."
  }
}

run "global_secondary_indexes" {
  command = plan

  variables {
    range_key = { name = "sk", type = "S" }
    global_secondary_indexes = [
      {
        name      = "by-owner"
        hash_key  = { name = "owner", type = "S" }
        range_key = { name = "created", type = "N" }
      },
      {
        # Reuses the table's sort key as its partition key: one attribute block for "sk".
        name               = "by-sk"
        hash_key           = { name = "sk", type = "S" }
        projection_type    = "INCLUDE"
        non_key_attributes = ["title", "size"]
      },
    ]
  }

  assert {
    condition     = sort([for g in aws_dynamodb_table.this.global_secondary_index : g.name]) == tolist(["by-owner", "by-sk"])
    error_message = "One global_secondary_index block per index."
  }

  assert {
    condition = aws_dynamodb_table.this.attribute == toset([
      { name = "pk", type = "S" }, { name = "sk", type = "S" },
      { name = "owner", type = "S" }, { name = "created", type = "N" },
    ])
    error_message = "Every key attribute of the table and its indexes is declared exactly once."
  }

  assert {
    condition = [for g in aws_dynamodb_table.this.global_secondary_index : g.key_schema if g.name == "by-owner"][0] == tolist([
      { attribute_name = "owner", key_type = "HASH" },
      { attribute_name = "created", key_type = "RANGE" },
    ])
    error_message = "An index with a range key has key_schema HASH then RANGE."
  }

  assert {
    condition = [for g in aws_dynamodb_table.this.global_secondary_index : g.key_schema if g.name == "by-sk"][0] == tolist([
      { attribute_name = "sk", key_type = "HASH" },
    ])
    error_message = "An index without a range key has a single HASH key_schema."
  }

  assert {
    condition = (
      [for g in aws_dynamodb_table.this.global_secondary_index : g.projection_type if g.name == "by-owner"][0] == "ALL" &&
      [for g in aws_dynamodb_table.this.global_secondary_index : g.non_key_attributes if g.name == "by-owner"][0] == null
    )
    error_message = "projection_type defaults to ALL, without non_key_attributes."
  }

  assert {
    condition = (
      [for g in aws_dynamodb_table.this.global_secondary_index : g.projection_type if g.name == "by-sk"][0] == "INCLUDE" &&
      [for g in aws_dynamodb_table.this.global_secondary_index : g.non_key_attributes if g.name == "by-sk"][0] == toset(["size", "title"])
    )
    error_message = "An INCLUDE index carries its non_key_attributes."
  }
}

run "local_secondary_indexes" {
  command = plan

  variables {
    range_key = { name = "sk", type = "S" }
    local_secondary_indexes = [
      { name = "by-created", range_key = { name = "created", type = "N" } },
      { name = "by-title", range_key = { name = "title", type = "S" }, projection_type = "INCLUDE", non_key_attributes = ["size"] },
    ]
  }

  assert {
    condition = { for l in aws_dynamodb_table.this.local_secondary_index : l.name => [l.range_key, l.projection_type] } == {
      "by-created" = ["created", "ALL"]
      "by-title"   = ["title", "INCLUDE"]
    }
    error_message = "One local_secondary_index block per index, with its sort key and projection (ALL by default)."
  }

  assert {
    condition = (
      [for l in aws_dynamodb_table.this.local_secondary_index : l.non_key_attributes if l.name == "by-created"][0] == null &&
      [for l in aws_dynamodb_table.this.local_secondary_index : l.non_key_attributes if l.name == "by-title"][0] == tolist(["size"])
    )
    error_message = "Only the INCLUDE index carries non_key_attributes."
  }

  assert {
    condition = aws_dynamodb_table.this.attribute == toset([
      { name = "pk", type = "S" }, { name = "sk", type = "S" },
      { name = "created", type = "N" }, { name = "title", type = "S" },
    ])
    error_message = "Local index sort keys are declared as attributes."
  }
}

run "stream" {
  command = plan

  variables {
    stream_view_type = "NEW_AND_OLD_IMAGES"
  }

  assert {
    condition     = aws_dynamodb_table.this.stream_enabled == true && aws_dynamodb_table.this.stream_view_type == "NEW_AND_OLD_IMAGES"
    error_message = "stream_view_type enables the stream with that view type."
  }
}

run "ttl" {
  command = plan

  variables {
    ttl_attribute = "expires_at"
  }

  assert {
    condition     = length(aws_dynamodb_table.this.ttl) == 1
    error_message = "ttl_attribute adds a ttl block."
  }

  assert {
    condition     = aws_dynamodb_table.this.ttl[0].enabled == true && aws_dynamodb_table.this.ttl[0].attribute_name == "expires_at"
    error_message = "TTL is enabled on the named attribute."
  }
}

run "recovery_and_protection_off" {
  command = plan

  variables {
    point_in_time_recovery = false
    deletion_protection    = false
  }

  assert {
    condition     = aws_dynamodb_table.this.point_in_time_recovery[0].enabled == false
    error_message = "point_in_time_recovery = false turns continuous backups off."
  }

  assert {
    condition     = aws_dynamodb_table.this.deletion_protection_enabled == false
    error_message = "deletion_protection = false turns deletion protection off."
  }
}

run "provisioned_fixed_capacity" {
  command = plan

  variables {
    billing_mode   = "PROVISIONED"
    read_capacity  = 5
    write_capacity = 3
    global_secondary_indexes = [
      { name = "by-owner", hash_key = { name = "owner", type = "S" } },
      { name = "by-status", hash_key = { name = "status", type = "S" }, read_capacity = 2, write_capacity = 1 },
    ]
  }

  assert {
    condition     = aws_dynamodb_table.this.billing_mode == "PROVISIONED"
    error_message = "billing_mode is passed through."
  }

  assert {
    condition     = aws_dynamodb_table.this.read_capacity == 5 && aws_dynamodb_table.this.write_capacity == 3
    error_message = "The table gets the configured capacity."
  }

  assert {
    condition = (
      [for g in aws_dynamodb_table.this.global_secondary_index : [g.read_capacity, g.write_capacity] if g.name == "by-owner"][0] == [5, 3] &&
      [for g in aws_dynamodb_table.this.global_secondary_index : [g.read_capacity, g.write_capacity] if g.name == "by-status"][0] == [2, 1]
    )
    error_message = "An index inherits the table's capacity unless it sets its own."
  }

  assert {
    condition     = length(aws_appautoscaling_target.read) == 0 && length(aws_appautoscaling_policy.write) == 0
    error_message = "No autoscaling without var.autoscaling."
  }
}

run "autoscaling" {
  command = plan

  variables {
    billing_mode = "PROVISIONED"
    autoscaling  = { min_read = 2, max_read = 20, min_write = 1, max_write = 10 }
  }

  assert {
    condition = (
      length(aws_appautoscaling_target.read) == 1 && length(aws_appautoscaling_target.write) == 1 &&
      length(aws_appautoscaling_policy.read) == 1 && length(aws_appautoscaling_policy.write) == 1
    )
    error_message = "Autoscaling creates a target and a policy for reads and for writes."
  }

  assert {
    condition     = aws_dynamodb_table.this.read_capacity == 2 && aws_dynamodb_table.this.write_capacity == 1
    error_message = "Without explicit capacity the table starts at the autoscaling minimums."
  }

  assert {
    condition = (
      aws_appautoscaling_target.read[0].min_capacity == 2 && aws_appautoscaling_target.read[0].max_capacity == 20 &&
      aws_appautoscaling_target.write[0].min_capacity == 1 && aws_appautoscaling_target.write[0].max_capacity == 10
    )
    error_message = "The scalable targets get the autoscaling min/max."
  }

  assert {
    condition = (
      aws_appautoscaling_target.read[0].service_namespace == "dynamodb" &&
      aws_appautoscaling_target.read[0].resource_id == "table/lms-dev-photos" &&
      aws_appautoscaling_target.read[0].scalable_dimension == "dynamodb:table:ReadCapacityUnits" &&
      aws_appautoscaling_target.write[0].resource_id == "table/lms-dev-photos" &&
      aws_appautoscaling_target.write[0].scalable_dimension == "dynamodb:table:WriteCapacityUnits"
    )
    error_message = "The targets scale the table's read and write capacity units."
  }

  assert {
    condition = (
      aws_appautoscaling_policy.read[0].policy_type == "TargetTrackingScaling" &&
      aws_appautoscaling_policy.read[0].name == "DynamoDBReadCapacityUtilization:table/lms-dev-photos" &&
      aws_appautoscaling_policy.read[0].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "DynamoDBReadCapacityUtilization" &&
      aws_appautoscaling_policy.write[0].policy_type == "TargetTrackingScaling" &&
      aws_appautoscaling_policy.write[0].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "DynamoDBWriteCapacityUtilization"
    )
    error_message = "The policies track read and write capacity utilization."
  }

  assert {
    condition = (
      aws_appautoscaling_policy.read[0].target_tracking_scaling_policy_configuration[0].target_value == 70 &&
      aws_appautoscaling_policy.write[0].target_tracking_scaling_policy_configuration[0].target_value == 70
    )
    error_message = "target_utilization defaults to 70 %."
  }
}

run "autoscaling_with_start_capacity_and_target" {
  command = plan

  variables {
    billing_mode   = "PROVISIONED"
    read_capacity  = 8
    write_capacity = 4
    autoscaling    = { min_read = 2, max_read = 20, min_write = 1, max_write = 10, target_utilization = 50 }
  }

  assert {
    condition     = aws_dynamodb_table.this.read_capacity == 8 && aws_dynamodb_table.this.write_capacity == 4
    error_message = "Explicit capacity wins over the autoscaling minimums as start value."
  }

  assert {
    condition = (
      aws_appautoscaling_policy.read[0].target_tracking_scaling_policy_configuration[0].target_value == 50 &&
      aws_appautoscaling_policy.write[0].target_tracking_scaling_policy_configuration[0].target_value == 50
    )
    error_message = "target_utilization is the policies' target value."
  }
}

run "encryption_aws_managed" {
  command = plan

  variables {
    encryption = { type = "aws-managed" }
  }

  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].enabled == true
    error_message = "The AWS managed key (aws/dynamodb) means server_side_encryption.enabled = true."
  }
}

run "encryption_customer_kms" {
  command = plan

  variables {
    encryption = { type = "customer-kms", kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b" }
  }

  assert {
    condition = (
      aws_dynamodb_table.this.server_side_encryption[0].enabled == true &&
      aws_dynamodb_table.this.server_side_encryption[0].kms_key_arn == "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
    )
    error_message = "customer-kms encrypts with kms_key_arn."
  }
}

run "table_class_and_tags" {
  command = plan

  variables {
    table_class = "STANDARD_INFREQUENT_ACCESS"
    tags        = { team = "lms" }
  }

  assert {
    condition     = aws_dynamodb_table.this.table_class == "STANDARD_INFREQUENT_ACCESS"
    error_message = "table_class is passed through."
  }

  assert {
    condition     = aws_dynamodb_table.this.tags == tomap({ team = "lms" })
    error_message = "tags are set on the table."
  }
}

run "in_another_region" {
  command = plan
  variables {
    region       = "eu-west-1"
    billing_mode = "PROVISIONED"
    autoscaling  = { min_read = 1, max_read = 10, min_write = 1, max_write = 10 }
  }
  assert {
    condition     = aws_dynamodb_table.this.region == "eu-west-1" && aws_appautoscaling_target.read[0].region == "eu-west-1" && aws_appautoscaling_policy.write[0].region == "eu-west-1"
    error_message = "the table and its autoscaling live in the module's region"
  }
}

run "index_autoscaling" {
  command = plan

  variables {
    billing_mode   = "PROVISIONED"
    read_capacity  = 5
    write_capacity = 5
    autoscaling    = { min_read = 5, max_read = 50, min_write = 5, max_write = 50 }
    global_secondary_indexes = [
      { name = "by-a", hash_key = { name = "a", type = "S" }, autoscaling = { min_read = 2, max_read = 20, min_write = 1, max_write = 10, target_utilization = 60 } },
      { name = "by-b", hash_key = { name = "b", type = "S" }, read_capacity = 3, write_capacity = 3 },
    ]
  }

  assert {
    condition     = keys(aws_appautoscaling_target.index_read) == ["by-a"] && keys(aws_appautoscaling_policy.index_write) == ["by-a"]
    error_message = "Only the index with autoscaling gets targets and policies."
  }

  assert {
    condition = (
      aws_appautoscaling_target.index_read["by-a"].resource_id == "table/lms-dev-photos/index/by-a" &&
      aws_appautoscaling_target.index_read["by-a"].scalable_dimension == "dynamodb:index:ReadCapacityUnits" &&
      aws_appautoscaling_target.index_read["by-a"].min_capacity == 2 && aws_appautoscaling_target.index_read["by-a"].max_capacity == 20 &&
      aws_appautoscaling_target.index_write["by-a"].scalable_dimension == "dynamodb:index:WriteCapacityUnits" &&
      aws_appautoscaling_target.index_write["by-a"].min_capacity == 1 && aws_appautoscaling_target.index_write["by-a"].max_capacity == 10
    )
    error_message = "The index's targets scale its own read and write capacity units within its min/max."
  }

  assert {
    condition = (
      aws_appautoscaling_policy.index_read["by-a"].name == "DynamoDBReadCapacityUtilization:table/lms-dev-photos/index/by-a" &&
      aws_appautoscaling_policy.index_read["by-a"].target_tracking_scaling_policy_configuration[0].target_value == 60 &&
      aws_appautoscaling_policy.index_write["by-a"].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "DynamoDBWriteCapacityUtilization"
    )
    error_message = "The index's policies track its utilization at its own target."
  }

  assert {
    condition     = one([for g in aws_dynamodb_table.this.global_secondary_index : g.read_capacity if g.name == "by-a"]) == 2
    error_message = "An autoscaled index without capacity starts at its autoscaling minimum."
  }
}

locals {
  provisioned = var.billing_mode == "PROVISIONED"
  autoscaled  = local.provisioned && var.autoscaling != null

  # Every attribute used as a key by the table or one of its indexes needs exactly one
  # `attribute` block; the `...` grouping dedupes names shared by several keys.
  key_attributes = concat(
    [var.hash_key],
    var.range_key != null ? [var.range_key] : [],
    flatten([for g in var.global_secondary_indexes : concat([g.hash_key], g.range_key != null ? [g.range_key] : [])]),
    [for l in var.local_secondary_indexes : l.range_key],
  )
  attribute_types = { for a in local.key_attributes : a.name => a.type... }

  # Global indexes with their own target tracking, by index name (PROVISIONED tables only).
  autoscaled_indexes = local.provisioned ? { for g in var.global_secondary_indexes : g.name => g.autoscaling if g.autoscaling != null } : {}

  read_capacity  = local.provisioned ? try(coalesce(var.read_capacity, try(var.autoscaling.min_read, null)), null) : null
  write_capacity = local.provisioned ? try(coalesce(var.write_capacity, try(var.autoscaling.min_write, null)), null) : null
}

resource "aws_dynamodb_table" "this" {
  region = var.region

  name                        = var.name
  billing_mode                = var.billing_mode
  hash_key                    = var.hash_key.name
  range_key                   = try(var.range_key.name, null)
  read_capacity               = local.read_capacity
  write_capacity              = local.write_capacity
  stream_enabled              = var.stream_view_type != null
  stream_view_type            = var.stream_view_type
  deletion_protection_enabled = var.deletion_protection
  table_class                 = var.table_class
  tags                        = var.tags

  # Static blocks (point_in_time_recovery, server_side_encryption, lifecycle) come before
  # the dynamic ones: tfparse, which the tests use to evaluate this stack offline, drops a
  # dynamic block that is followed by a static block. Terraform itself ignores the order.

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  # enabled = false means the AWS owned key (no KMS charges); true uses KMS: the
  # aws/dynamodb managed key, or the customer key when kms_key_arn is set.
  server_side_encryption {
    enabled     = var.encryption.type != "aws-owned"
    kms_key_arn = var.encryption.type == "customer-kms" ? var.encryption.kms_key_arn : null
  }

  lifecycle {
    # Application Auto Scaling moves the table's capacity; without this every plan would
    # reset it to the configured start value. ignore_changes cannot depend on a variable,
    # so it applies to every table: for PROVISIONED tables without autoscaling, a changed
    # read/write capacity is not applied to an existing table (see README).
    ignore_changes = [read_capacity, write_capacity]

    precondition {
      condition     = !local.provisioned || (local.read_capacity != null && local.write_capacity != null)
      error_message = "A PROVISIONED table needs read_capacity and write_capacity (or autoscaling); or use billing_mode = \"PAY_PER_REQUEST\"."
    }
    precondition {
      condition     = local.provisioned || (var.autoscaling == null && var.read_capacity == null && var.write_capacity == null)
      error_message = "read_capacity, write_capacity and autoscaling only apply to billing_mode = \"PROVISIONED\"; set them to null for PAY_PER_REQUEST."
    }
    precondition {
      condition     = length(var.local_secondary_indexes) == 0 || var.range_key != null
      error_message = "Local secondary indexes need a table range_key; add one or move the index to global_secondary_indexes."
    }
    precondition {
      condition     = alltrue([for name, types in local.attribute_types : length(distinct(types)) == 1])
      error_message = "A key attribute is declared with different types across the table and its indexes; use one type per attribute name."
    }
  }

  dynamic "attribute" {
    for_each = local.attribute_types
    content {
      name = attribute.key
      type = attribute.value[0]
    }
  }

  dynamic "global_secondary_index" {
    for_each = var.global_secondary_indexes
    content {
      name               = global_secondary_index.value.name
      projection_type    = global_secondary_index.value.projection_type
      non_key_attributes = global_secondary_index.value.projection_type == "INCLUDE" ? global_secondary_index.value.non_key_attributes : null
      read_capacity      = local.provisioned ? try(coalesce(global_secondary_index.value.read_capacity, try(global_secondary_index.value.autoscaling.min_read, null), local.read_capacity), null) : null
      write_capacity     = local.provisioned ? try(coalesce(global_secondary_index.value.write_capacity, try(global_secondary_index.value.autoscaling.min_write, null), local.write_capacity), null) : null

      # The index's keys as `key_schema` blocks (its `hash_key`/`range_key` arguments are
      # deprecated in provider 6.x): the partition key (HASH) first, then the sort key (RANGE).
      # One dynamic block, not a static HASH block plus a dynamic RANGE one, so that tfparse
      # (which drops a dynamic block followed by a static one) sees both.
      dynamic "key_schema" {
        for_each = concat(
          [{ name = global_secondary_index.value.hash_key.name, type = "HASH" }],
          global_secondary_index.value.range_key != null ? [{ name = global_secondary_index.value.range_key.name, type = "RANGE" }] : [],
        )
        content {
          attribute_name = key_schema.value.name
          key_type       = key_schema.value.type
        }
      }
    }
  }

  dynamic "local_secondary_index" {
    for_each = var.local_secondary_indexes
    content {
      name               = local_secondary_index.value.name
      range_key          = local_secondary_index.value.range_key.name
      projection_type    = local_secondary_index.value.projection_type
      non_key_attributes = local_secondary_index.value.projection_type == "INCLUDE" ? local_secondary_index.value.non_key_attributes : null
    }
  }

  dynamic "ttl" {
    for_each = var.ttl_attribute != null ? [var.ttl_attribute] : []
    content {
      enabled        = true
      attribute_name = ttl.value
    }
  }
}

# --- Autoscaling (PROVISIONED tables only): target tracking on consumed/provisioned ratio.

resource "aws_appautoscaling_target" "read" {
  count = local.autoscaled ? 1 : 0

  region             = var.region
  service_namespace  = "dynamodb"
  resource_id        = "table/${aws_dynamodb_table.this.name}"
  scalable_dimension = "dynamodb:table:ReadCapacityUnits"
  min_capacity       = var.autoscaling.min_read
  max_capacity       = var.autoscaling.max_read
}

resource "aws_appautoscaling_policy" "read" {
  count = local.autoscaled ? 1 : 0

  region             = var.region
  name               = "DynamoDBReadCapacityUtilization:${aws_appautoscaling_target.read[0].resource_id}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.read[0].service_namespace
  resource_id        = aws_appautoscaling_target.read[0].resource_id
  scalable_dimension = aws_appautoscaling_target.read[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = var.autoscaling.target_utilization

    predefined_metric_specification {
      predefined_metric_type = "DynamoDBReadCapacityUtilization"
    }
  }
}

resource "aws_appautoscaling_target" "write" {
  count = local.autoscaled ? 1 : 0

  region             = var.region
  service_namespace  = "dynamodb"
  resource_id        = "table/${aws_dynamodb_table.this.name}"
  scalable_dimension = "dynamodb:table:WriteCapacityUnits"
  min_capacity       = var.autoscaling.min_write
  max_capacity       = var.autoscaling.max_write
}

resource "aws_appautoscaling_policy" "write" {
  count = local.autoscaled ? 1 : 0

  region             = var.region
  name               = "DynamoDBWriteCapacityUtilization:${aws_appautoscaling_target.write[0].resource_id}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.write[0].service_namespace
  resource_id        = aws_appautoscaling_target.write[0].resource_id
  scalable_dimension = aws_appautoscaling_target.write[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = var.autoscaling.target_utilization

    predefined_metric_specification {
      predefined_metric_type = "DynamoDBWriteCapacityUtilization"
    }
  }
}

# --- Autoscaling of global secondary indexes: the same target tracking, per index.

resource "aws_appautoscaling_target" "index_read" {
  for_each = local.autoscaled_indexes

  region             = var.region
  service_namespace  = "dynamodb"
  resource_id        = "table/${aws_dynamodb_table.this.name}/index/${each.key}"
  scalable_dimension = "dynamodb:index:ReadCapacityUnits"
  min_capacity       = each.value.min_read
  max_capacity       = each.value.max_read
}

resource "aws_appautoscaling_policy" "index_read" {
  for_each = local.autoscaled_indexes

  region             = var.region
  name               = "DynamoDBReadCapacityUtilization:${aws_appautoscaling_target.index_read[each.key].resource_id}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.index_read[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.index_read[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.index_read[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = each.value.target_utilization

    predefined_metric_specification {
      predefined_metric_type = "DynamoDBReadCapacityUtilization"
    }
  }
}

resource "aws_appautoscaling_target" "index_write" {
  for_each = local.autoscaled_indexes

  region             = var.region
  service_namespace  = "dynamodb"
  resource_id        = "table/${aws_dynamodb_table.this.name}/index/${each.key}"
  scalable_dimension = "dynamodb:index:WriteCapacityUnits"
  min_capacity       = each.value.min_write
  max_capacity       = each.value.max_write
}

resource "aws_appautoscaling_policy" "index_write" {
  for_each = local.autoscaled_indexes

  region             = var.region
  name               = "DynamoDBWriteCapacityUtilization:${aws_appautoscaling_target.index_write[each.key].resource_id}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.index_write[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.index_write[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.index_write[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = each.value.target_utilization

    predefined_metric_specification {
      predefined_metric_type = "DynamoDBWriteCapacityUtilization"
    }
  }
}

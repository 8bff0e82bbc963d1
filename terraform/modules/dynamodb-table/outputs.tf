output "table_name" {
  description = "The table's name."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "The table's ARN."
  value       = aws_dynamodb_table.this.arn
}

output "table_stream_arn" {
  description = "ARN of the table's stream; null when stream_view_type is null."
  value       = var.stream_view_type != null ? try(aws_dynamodb_table.this.stream_arn, null) : null
}

output "bucket_names" {
  description = "Bucket name by logical key."
  value       = { for k, m in module.buckets : k => m.bucket_name }
}

output "bucket_arns" {
  description = "Bucket ARN by logical key."
  value       = { for k, m in module.buckets : k => m.bucket_arn }
}

output "table_names" {
  description = "Table name by logical key."
  value       = { for k, m in module.tables : k => m.table_name }
}

output "table_arns" {
  description = "Table ARN by logical key."
  value       = { for k, m in module.tables : k => m.table_arn }
}

output "principal_arns" {
  description = "IAM user or role ARN by logical key."
  value       = { for k, m in module.principals : k => m.principal_arn }
}

output "policy_documents" {
  description = "Rendered IAM policy JSON by principal key (known at plan time)."
  value       = { for k, m in module.principals : k => m.policy_json }
}

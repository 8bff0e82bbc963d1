output "bucket_id" {
  description = "The bucket's ID (its name)."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "The bucket's ARN."
  value       = aws_s3_bucket.this.arn
}

output "bucket_name" {
  description = "The bucket's name."
  value       = aws_s3_bucket.this.bucket
}

output "bucket_regional_domain_name" {
  description = "Region-specific domain name of the bucket (for CloudFront origins and SDK endpoints)."
  value       = aws_s3_bucket.this.bucket_regional_domain_name
}

output "bucket_policy_json" {
  description = "The bucket policy document as rendered (known at plan time)."
  value       = local.policy_json
}

output "replication_role_arn" {
  description = "ARN of the IAM role S3 assumes for replication (the generated one, or replication.role_arn); null when replication is off."
  value       = try(aws_iam_role.replication[0].arn, var.replication.role_arn, null)
}

output "principal_arn" {
  description = "ARN of the IAM user or role."
  value       = try(aws_iam_user.this[0].arn, aws_iam_role.this[0].arn, null)
}

output "principal_name" {
  description = "Name of the IAM user or role."
  value       = try(aws_iam_user.this[0].name, aws_iam_role.this[0].name, null)
}

output "policy_arn" {
  description = "ARN of the managed policy holding the grants."
  value       = aws_iam_policy.this.arn
}

output "policy_json" {
  description = "The rendered policy document (known at plan time; compare it with the toolkit's own rendering)."
  value       = local.policy_json
}

output "group_name" {
  description = "Name of the user's group; null for roles."
  value       = try(aws_iam_group.this[0].name, null)
}

output "policy_json" {
  description = "The deployer's permissions (the rendered deployer-policy.json.tftpl)."
  value       = local.policy
}

output "role_arn" {
  description = "ARN of the deployer role: the aws env's assume_role_arn."
  value       = aws_iam_role.this.arn
}

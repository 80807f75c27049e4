output "function_name" {
  description = "Name of the function that re-encrypts one batch of objects."
  value       = aws_lambda_function.reencrypt.function_name
}

output "function_policy_json" {
  description = "The function role's inline policy."
  value       = data.aws_iam_policy_document.reencrypt_function.json
}

output "function_role_arn" {
  description = "ARN of the role the function runs as."
  value       = aws_iam_role.reencrypt_function.arn
}

output "log_group_names" {
  description = "CloudWatch log groups, by what logs to them (function, state_machine)."
  value = {
    function      = aws_cloudwatch_log_group.reencrypt_function.name
    state_machine = aws_cloudwatch_log_group.state_machine.name
  }
}

output "max_concurrency" {
  description = "The map's MaxConcurrency (batches at once)."
  value       = var.max_concurrency
}

output "role_names" {
  description = "Names of the IAM roles, by who runs as them (function, state_machine)."
  value = {
    function      = aws_iam_role.reencrypt_function.name
    state_machine = aws_iam_role.state_machine.name
  }
}

output "source_bucket" {
  description = "Name of the bucket the map lists."
  value       = local.source_bucket_name
}

output "state_machine_arn" {
  description = "ARN of the state machine (start it with {\"job\": ..., \"prefix\": ...})."
  value       = aws_sfn_state_machine.reencrypt.arn
}

output "state_machine_policy_json" {
  description = "The state machine role's inline policy."
  value       = data.aws_iam_policy_document.state_machine.json
}

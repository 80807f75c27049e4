output "download_function_arn" {
  description = "ARN of the download function."
  value       = aws_lambda_function.this["download"].arn
}

output "download_function_name" {
  description = "Name of the download function."
  value       = aws_lambda_function.this["download"].function_name
}

output "log_group_names" {
  description = "CloudWatch log groups of the functions, by role (upload, download)."
  value       = { for k, g in aws_cloudwatch_log_group.function : k => g.name }
}

output "policy_json" {
  description = "The role's inline policy."
  value       = data.aws_iam_policy_document.sse_c_access.json
}

output "role_arn" {
  description = "ARN of the role both functions run as."
  value       = aws_iam_role.function.arn
}

output "role_name" {
  description = "Name of the role both functions run as."
  value       = aws_iam_role.function.name
}

output "upload_function_arn" {
  description = "ARN of the upload function."
  value       = aws_lambda_function.this["upload"].arn
}

output "upload_function_name" {
  description = "Name of the upload function."
  value       = aws_lambda_function.this["upload"].function_name
}

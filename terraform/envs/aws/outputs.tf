output "account_id" {
  description = "Account the stack is deployed in."
  value       = module.sse_patterns.account_id
}

output "aws_managed_s3_key_alias_arn" {
  description = "ARN of the alias of the AWS managed key aws/s3."
  value       = module.sse_patterns.aws_managed_s3_key_alias_arn
}

output "buckets" {
  description = "The buckets by pattern."
  value       = module.sse_patterns.buckets
}

output "customer_managed_key" {
  description = "The customer managed key."
  value       = module.sse_patterns.customer_managed_key
}

output "dns_suffix" {
  description = "DNS suffix of the partition the stack is deployed in."
  value       = module.sse_patterns.dns_suffix
}

output "env" {
  description = "Which env this is."
  value       = "aws"
}

output "functions" {
  description = "The SSE-C functions."
  value       = module.sse_patterns.functions
}

output "partition" {
  description = "Partition the stack is deployed in."
  value       = module.sse_patterns.partition
}

output "reencrypt_engine" {
  description = "The distributed re-encryption engine (state machine, function, buckets), or null when it is not deployed."
  value       = module.sse_patterns.reencrypt_engine
}

output "region" {
  description = "Region the stack is deployed in."
  value       = module.sse_patterns.region
}

output "sse_c_key_secret" {
  description = "The secret holding the SSE-C key (never its value)."
  value       = module.sse_patterns.sse_c_key_secret
}

output "buckets" {
  description = "Each pattern's bucket: name, ARN, default encryption and what it does with SSE-C."
  value       = module.sse_patterns.buckets
}

output "sse_c_key_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the SSE-C key (the key itself is never an output)."
  value       = module.sse_patterns.sse_c_key_secret.arn
}

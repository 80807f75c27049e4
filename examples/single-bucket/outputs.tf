output "bucket_arn" {
  description = "ARN of the bucket."
  value       = module.bucket.arn
}

output "kms_key_arn" {
  description = "ARN of the bucket's default encryption key."
  value       = module.key.arn
}

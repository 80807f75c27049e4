output "arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.this.arn
}

output "blocked_encryption_type" {
  description = "The BlockedEncryptionTypes value written to the bucket's encryption configuration: NONE (SSE-C allowed) or SSE-C (blocked)."
  value       = local.blocked_encryption_type
}

output "default_encryption" {
  description = "The bucket's default encryption as configured here (null: none of its own)."
  value       = var.default_encryption
}

output "name" {
  description = "Name of the bucket."
  value       = aws_s3_bucket.this.id

  # Consumers that write objects must wait for the policy and the SSE-C setting.
  depends_on = [aws_s3_bucket_policy.this, terraform_data.sse_c_encryption_type]
}

output "policy_json" {
  description = "The bucket policy document."
  value       = data.aws_iam_policy_document.bucket.json
}

output "region" {
  description = "Region of the bucket."
  value       = aws_s3_bucket.this.region
}

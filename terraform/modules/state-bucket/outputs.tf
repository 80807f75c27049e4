output "backend_settings" {
  description = "Settings of Terraform's S3 backend for this bucket (a partial configuration: the key is per stack)."
  value = {
    bucket       = module.bucket.name
    region       = module.bucket.region
    encrypt      = true
    kms_key_id   = module.key.arn
    use_lockfile = true
  }
}

output "bucket_arn" {
  description = "ARN of the state bucket."
  value       = module.bucket.arn
}

output "bucket_name" {
  description = "Name of the state bucket."
  value       = module.bucket.name
}

output "kms_key_arn" {
  description = "ARN of the key that encrypts the state."
  value       = module.key.arn
}

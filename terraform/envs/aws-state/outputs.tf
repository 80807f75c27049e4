output "backend_settings" {
  description = "Settings of the S3 backend for the aws env (./inv state-bucket writes them to terraform/envs/aws/backend.s3.tfbackend)."
  value       = module.state_bucket.backend_settings
}

output "bucket_name" {
  description = "Name of the state bucket."
  value       = module.state_bucket.bucket_name
}

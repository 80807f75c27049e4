output "account_id" {
  description = "Account the stack is deployed in."
  value       = data.aws_caller_identity.current.account_id
}

output "aws_managed_s3_key_alias_arn" {
  description = "ARN of the alias of the AWS managed key aws/s3 used by the sse_kms_aws_managed bucket."
  value       = local.aws_managed_s3_key_alias_arn
}

output "buckets" {
  description = "The buckets by pattern: name, ARN, default encryption and the SSE-C setting as configured, and the pattern's registry entry (algorithm, kms_key, bucket_key, sse_c, suffix, title) that the checks after apply are driven by."
  value = {
    for pattern, bucket in merge(module.bucket, module.customer_managed_key_bucket) : pattern => merge(local.patterns[pattern], {
      name                    = bucket.name
      arn                     = bucket.arn
      default_encryption      = bucket.default_encryption
      blocked_encryption_type = bucket.blocked_encryption_type
    })
  }
}

output "customer_managed_key" {
  description = "The customer managed key: ARN, id and alias ARN."
  value = {
    arn       = module.customer_managed_key.arn
    key_id    = module.customer_managed_key.key_id
    alias_arn = module.customer_managed_key.alias_arn
  }
}

output "dns_suffix" {
  description = "DNS suffix of the partition the stack is deployed in (service names such as s3.<region>.<dns_suffix>)."
  value       = data.aws_partition.current.dns_suffix
}

output "functions" {
  description = "The SSE-C functions: names, role and log groups."
  value = {
    upload          = module.sse_c_functions.upload_function_name
    download        = module.sse_c_functions.download_function_name
    upload_arn      = module.sse_c_functions.upload_function_arn
    download_arn    = module.sse_c_functions.download_function_arn
    role_arn        = module.sse_c_functions.role_arn
    role_name       = module.sse_c_functions.role_name
    log_group_names = module.sse_c_functions.log_group_names
    object_key      = var.object_key
  }
}

output "partition" {
  description = "Partition the stack is deployed in (the second field of every ARN)."
  value       = data.aws_partition.current.partition
}

output "reencrypt_engine" {
  description = "The distributed re-encryption engine (enable_reencrypt_engine): its state machine, function, roles, log groups, source bucket, destination buckets and MaxConcurrency; null when it is not deployed."
  value = var.enable_reencrypt_engine ? {
    state_machine_arn   = module.reencrypt_engine[0].state_machine_arn
    function_name       = module.reencrypt_engine[0].function_name
    source_bucket       = module.reencrypt_engine[0].source_bucket
    destination_buckets = [for bucket in local.reencrypt_destinations : bucket.name]
    max_concurrency     = module.reencrypt_engine[0].max_concurrency
    allow_delete_source = var.reencrypt_allow_delete_source
    log_group_names     = module.reencrypt_engine[0].log_group_names
    role_names          = module.reencrypt_engine[0].role_names
  } : null
}

output "region" {
  description = "Region the stack is deployed in."
  value       = data.aws_region.current.id
}

output "sse_c_key_secret" {
  description = "The secret holding the SSE-C key (ARN, name, key length) — never its value."
  value = {
    arn        = module.sse_c_key_secret.arn
    name       = module.sse_c_key_secret.name
    key_length = module.sse_c_key_secret.key_length
  }
}

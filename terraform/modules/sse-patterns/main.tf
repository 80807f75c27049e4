data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # Bucket names are global across accounts and regions, IAM role names across regions: both carry
  # the infix (the aws env passes <account>-<region>), so stacks can stand side by side.
  global_name_prefix = join("-", compact([var.prefix, var.global_name_infix]))

  # The AWS managed key for S3, named by its alias ARN in this region and account (as in the
  # walkthrough). The key itself is created by AWS on first use, so it cannot be looked up here.
  aws_managed_s3_key_alias_arn = "arn:${data.aws_partition.current.partition}:kms:${data.aws_region.current.id}:${data.aws_caller_identity.current.account_id}:alias/aws/s3"

  # The pattern registry: one entry per bucket, and the one place a pattern is declared. The buckets,
  # their guards, the outputs, the checks after apply, the plan expectations, the prefix-length
  # validation and the README's table of patterns all follow from it.
  #   suffix      the bucket is <prefix>[-<infix>]-<suffix>
  #   algorithm   its default encryption (AES256, aws:kms, aws:kms:dsse), or null: none of its own
  #   kms_key     "aws_managed" (aws/s3, by its alias ARN), "customer_managed" (this module's key), or null
  #   bucket_key  an S3 Bucket Key for SSE-KMS (fewer KMS requests)
  #   sse_c       "require" (SSE-C only, and unblocked) or "deny"
  #   title       the pattern in one line, for the README
  # A customer managed key's bucket says so instead of holding the key's ARN: the ARN is known only
  # once the key exists, and whatever read it here would wait for it (~12 s of the provider's
  # propagation waits). Its module call below passes the ARN.
  patterns = {
    sse_s3 = {
      suffix     = "sse-s3"
      algorithm  = "AES256"
      kms_key    = null
      bucket_key = false
      sse_c      = "deny"
      title      = "SSE-S3 (`AES256`)"
    }
    sse_kms_aws_managed = {
      suffix     = "sse-kms-aws-managed"
      algorithm  = "aws:kms"
      kms_key    = "aws_managed"
      bucket_key = false
      sse_c      = "deny"
      title      = "SSE-KMS with the AWS managed key `aws/s3`"
    }
    sse_kms_cmk = {
      suffix     = "sse-kms-cmk"
      algorithm  = "aws:kms"
      kms_key    = "customer_managed"
      bucket_key = false
      sse_c      = "deny"
      title      = "SSE-KMS with the customer managed key"
    }
    sse_kms_bucket_key = {
      suffix     = "sse-kms-bucket-key"
      algorithm  = "aws:kms"
      kms_key    = "customer_managed"
      bucket_key = true
      sse_c      = "deny"
      title      = "SSE-KMS with the customer managed key and an S3 Bucket Key (not in the walkthrough; AWS's recommendation: up to 99% fewer KMS requests)"
    }
    dsse_kms = {
      suffix     = "dsse-kms"
      algorithm  = "aws:kms:dsse"
      kms_key    = "customer_managed"
      bucket_key = false
      sse_c      = "deny"
      title      = "DSSE-KMS (`aws:kms:dsse`, not in the walkthrough) with the customer managed key"
    }
    sse_c = {
      suffix     = "sse-c"
      algorithm  = null # as in the walkthrough: nothing of its own
      kms_key    = null
      bucket_key = false
      sse_c      = "require"
      title      = "none of its own, as in the walkthrough (S3 applies SSE-S3)"
    }
  }

  # The longest suffix sets how long the prefix may be (variables.tf).
  longest_bucket_suffix = max([for pattern in values(local.patterns) : length(pattern.suffix)]...)

  buckets = {
    for key, pattern in local.patterns : key => {
      name = "${local.global_name_prefix}-${pattern.suffix}"
      default_encryption = pattern.algorithm == null ? null : {
        sse_algorithm      = pattern.algorithm
        kms_key_arn        = pattern.kms_key == "aws_managed" ? local.aws_managed_s3_key_alias_arn : null
        aws_managed_key    = pattern.kms_key == "aws_managed"
        bucket_key_enabled = pattern.bucket_key
      }
      customer_managed_key = pattern.kms_key == "customer_managed"
      sse_c                = pattern.sse_c
    }
  }
}

module "customer_managed_key" {
  source                  = "../kms-key"
  alias_name              = "${var.prefix}-cmk"
  description             = "${var.prefix}: customer managed key for the SSE-KMS and DSSE-KMS buckets"
  policy_id               = "${var.prefix}-cmk"
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  via_services            = ["s3"]
  tags                    = var.tags
}

# Two calls of one module, so that each bucket waits only for what it reads: the buckets of this
# call start at once; those of the next get the key's ARN as an argument of their own, so there
# only the encryption configuration, the policy that names the key and the helper after them wait
# for the key (a module call's for_each and arguments are one node each in Terraform's graph).
module "bucket" {
  source   = "../encrypted-bucket"
  for_each = { for pattern, bucket in local.buckets : pattern => bucket if !bucket.customer_managed_key }

  bucket_name        = each.value.name
  default_encryption = each.value.default_encryption
  sse_c              = each.value.sse_c
  force_destroy      = var.force_destroy
  tags               = merge(var.tags, { "sse-pattern" = each.key })

  abort_incomplete_multipart_upload_days = var.abort_incomplete_multipart_upload_days

  # The helper that sets BlockedEncryptionTypes acts as the provider's principal.
  aws_profile     = var.aws_profile
  assume_role_arn = var.assume_role_arn
}

module "customer_managed_key_bucket" {
  source   = "../encrypted-bucket"
  for_each = { for pattern, bucket in local.buckets : pattern => bucket if bucket.customer_managed_key }

  bucket_name        = each.value.name
  default_encryption = merge(each.value.default_encryption, { kms_key_arn = module.customer_managed_key.arn })
  sse_c              = each.value.sse_c
  force_destroy      = var.force_destroy
  tags               = merge(var.tags, { "sse-pattern" = each.key })

  abort_incomplete_multipart_upload_days = var.abort_incomplete_multipart_upload_days

  aws_profile     = var.aws_profile
  assume_role_arn = var.assume_role_arn
}

module "sse_c_key_secret" {
  source                  = "../sse-c-key-secret"
  name                    = var.prefix
  key_version             = var.sse_c_key_version
  recovery_window_in_days = var.secret_recovery_window_in_days
  tags                    = var.tags
}

module "sse_c_functions" {
  source = "../sse-c-lambdas"

  upload_function_name   = "${var.prefix}-function1"
  download_function_name = "${var.prefix}-function2"
  role_name              = "${local.global_name_prefix}-function-role"
  upload_package_path    = "${var.lambda_package_dir}/upload.zip"
  download_package_path  = "${var.lambda_package_dir}/download.zip"
  runtime                = var.lambda_runtime
  architecture           = var.lambda_architecture
  log_retention_in_days  = var.lambda_log_retention_in_days
  # From the name, not from module.bucket: its outputs wait for the bucket's policy and helper, and
  # creating the functions need not (they are not invoked during apply).
  bucket_name             = local.buckets.sse_c.name
  bucket_arn              = "arn:${data.aws_partition.current.partition}:s3:::${local.buckets.sse_c.name}"
  object_key              = var.object_key
  secret_arn              = module.sse_c_key_secret.arn
  verifier_principal_arns = var.verifier_principal_arns
  tags                    = var.tags
}

# The distributed re-encryption engine (opt-in): a Step Functions Distributed Map over the SSE-C
# bucket that rotates its objects' key in place or migrates them to the destination buckets.
locals {
  reencrypt_destinations = [for pattern in var.reencrypt_destination_patterns : local.buckets[pattern]]
}

module "reencrypt_engine" {
  source = "../sse-c-reencrypt"
  count  = var.enable_reencrypt_engine ? 1 : 0

  state_machine_name      = "${var.prefix}-sse-c-reencrypt"
  state_machine_role_name = "${local.global_name_prefix}-reencrypt-map-role"
  function_name           = "${var.prefix}-sse-c-reencrypt"
  function_role_name      = "${local.global_name_prefix}-reencrypt-function-role"
  package_path            = "${var.lambda_package_dir}/reencrypt.zip"
  runtime                 = var.lambda_runtime
  architecture            = var.lambda_architecture
  log_retention_in_days   = var.lambda_log_retention_in_days
  max_concurrency         = var.reencrypt_max_concurrency
  allow_delete_source     = var.reencrypt_allow_delete_source
  # From the names, as for the functions above: nothing here waits for the buckets' policies.
  source_bucket_arn       = "arn:${data.aws_partition.current.partition}:s3:::${local.buckets.sse_c.name}"
  destination_bucket_arns = [for bucket in local.reencrypt_destinations : "arn:${data.aws_partition.current.partition}:s3:::${bucket.name}"]
  kms_key_arn             = anytrue([for bucket in local.reencrypt_destinations : bucket.customer_managed_key]) ? module.customer_managed_key.arn : null
  secret_arn              = module.sse_c_key_secret.arn
  tags                    = var.tags
}

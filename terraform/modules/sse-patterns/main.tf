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

  # One bucket per pattern. Only the SSE-C bucket accepts (and requires) SSE-C. A bucket whose
  # encryption names the customer managed key says so (customer_managed_key) instead of holding the
  # key's ARN: the ARN is known only once the key exists, and whatever reads this map would wait for
  # it (the KMS key spends ~12 s in the provider's propagation waits).
  buckets = {
    sse_s3 = {
      name                 = "${local.global_name_prefix}-sse-s3"
      default_encryption   = { sse_algorithm = "AES256" }
      customer_managed_key = false
      sse_c                = "deny"
    }
    sse_kms_aws_managed = {
      name                 = "${local.global_name_prefix}-sse-kms-aws-managed"
      default_encryption   = { sse_algorithm = "aws:kms", kms_key_arn = local.aws_managed_s3_key_alias_arn, aws_managed_key = true }
      customer_managed_key = false
      sse_c                = "deny"
    }
    sse_kms_cmk = {
      name                 = "${local.global_name_prefix}-sse-kms-cmk"
      default_encryption   = { sse_algorithm = "aws:kms" }
      customer_managed_key = true
      sse_c                = "deny"
    }
    dsse_kms = {
      name                 = "${local.global_name_prefix}-dsse-kms"
      default_encryption   = { sse_algorithm = "aws:kms:dsse" }
      customer_managed_key = true
      sse_c                = "deny"
    }
    sse_c = {
      name                 = "${local.global_name_prefix}-sse-c"
      default_encryption   = null # as in the walkthrough: nothing of its own
      customer_managed_key = false
      sse_c                = "require"
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

locals {
  tags = {
    project     = "s3-sse-patterns"
    environment = "aws"
  }
}

data "aws_caller_identity" "current" {}

# The role behind the deploying session (an assumed-role ARN names a session, not a principal).
data "aws_iam_session_context" "current" {
  arn = data.aws_caller_identity.current.arn
}

module "sse_patterns" {
  source = "../../modules/sse-patterns"

  prefix = var.prefix
  # Bucket names are global, the role's name is global across regions: fa-125-<account>-<region>-sse-s3.
  global_name_infix               = coalesce(var.global_name_infix, "${data.aws_caller_identity.current.account_id}-${var.region}")
  lambda_package_dir              = var.lambda_package_dir
  lambda_runtime                  = var.lambda_runtime
  lambda_architecture             = var.lambda_architecture
  object_key                      = var.object_key
  enable_reencrypt_engine         = var.enable_reencrypt_engine
  reencrypt_max_concurrency       = var.reencrypt_max_concurrency
  reencrypt_allow_delete_source   = var.reencrypt_allow_delete_source
  kms_key_deletion_window_in_days = var.kms_key_deletion_window_in_days
  secret_recovery_window_in_days  = var.secret_recovery_window_in_days

  # The BlockedEncryptionTypes helper acts as the same principal as the provider.
  aws_profile     = var.profile
  assume_role_arn = var.assume_role_arn

  # `./inv verify --env aws` runs with the deploying credentials and acts as the functions' role
  # to show its least privilege; it may only do so when the caller is an IAM user or role.
  verifier_principal_arns = can(regex(":(user|role)/", data.aws_iam_session_context.current.issuer_arn)) ? [data.aws_iam_session_context.current.issuer_arn] : []
}

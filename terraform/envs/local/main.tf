locals {
  tags = {
    project     = "s3-sse-patterns"
    environment = "local"
  }
}

module "sse_patterns" {
  source = "../../modules/sse-patterns"

  prefix                    = var.prefix
  lambda_package_dir        = var.lambda_package_dir
  lambda_runtime            = var.lambda_runtime
  lambda_architecture       = var.lambda_architecture
  object_key                = var.object_key
  enable_reencrypt_engine   = var.enable_reencrypt_engine
  reencrypt_max_concurrency = var.reencrypt_max_concurrency

  reencrypt_allow_delete_source = var.reencrypt_allow_delete_source

  # The checks run as the operator user (operator.tf), which may also act as the functions' role.
  verifier_principal_arns = [aws_iam_user.operator.arn]
}

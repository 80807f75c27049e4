# The state bucket of the aws env (./inv state-bucket --env aws): one per account.
locals {
  tags = {
    project     = "s3-sse-patterns"
    environment = "aws-state"
  }
}

module "state_bucket" {
  source = "../../modules/state-bucket"

  bucket_name        = var.bucket_name
  kms_key_alias_name = var.kms_key_alias_name

  aws_profile     = var.profile
  assume_role_arn = var.assume_role_arn
}

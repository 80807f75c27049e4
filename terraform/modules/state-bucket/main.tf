# The bucket that holds the Terraform state of the aws env: one per account, in one home region,
# shared by the stacks of every region (each under its own key). The same encrypted-bucket module as
# the patterns, with versioning (every earlier state stays recoverable) and SSE-KMS with a customer
# managed key and an S3 Bucket Key (one KMS request per bucket key, not per state write).

module "key" {
  source                  = "../kms-key"
  alias_name              = var.kms_key_alias_name
  description             = "Terraform state in s3://${var.bucket_name}"
  policy_id               = var.kms_key_alias_name
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  via_services            = ["s3"]
  tags                    = var.tags
}

module "bucket" {
  source = "../encrypted-bucket"

  bucket_name = var.bucket_name
  default_encryption = {
    sse_algorithm      = "aws:kms"
    kms_key_arn        = module.key.arn
    bucket_key_enabled = true
  }
  sse_c              = "deny"
  versioning_enabled = true
  force_destroy      = var.force_destroy
  tags               = var.tags

  aws_profile     = var.aws_profile
  assume_role_arn = var.assume_role_arn
}

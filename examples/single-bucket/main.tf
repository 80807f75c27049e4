# One bucket of one pattern, SSE-KMS with a customer managed key, with all of its guards: the bucket
# policy denies uploads that ask for another algorithm or key, plain HTTP and SSE-C headers; SSE-C
# is blocked in the encryption configuration; public access is blocked; ownership is enforced.
# In your root, give the modules' source as a git URL pinned to a tag (see README.md).

module "key" {
  source = "../../terraform/modules/kms-key"

  alias_name  = var.bucket_name
  description = "Default encryption key of the S3 bucket ${var.bucket_name}"
  policy_id   = var.bucket_name
  # Principals of this account may use the key only through S3.
  via_services = ["s3"]
}

module "bucket" {
  source = "../../terraform/modules/encrypted-bucket"

  bucket_name = var.bucket_name
  default_encryption = {
    sse_algorithm      = "aws:kms"
    kms_key_arn        = module.key.arn
    bucket_key_enabled = true # one data key per bucket for a while: far fewer KMS requests
  }
  sse_c = "deny"
}

locals {
  bucket_arn  = aws_s3_bucket.this.arn
  objects_arn = "${aws_s3_bucket.this.arn}/*"

  algorithm   = try(var.default_encryption.sse_algorithm, null)
  uses_kms    = contains(["aws:kms", "aws:kms:dsse"], coalesce(local.algorithm, "none"))
  kms_key_arn = try(var.default_encryption.kms_key_arn, null)
  # A PutObject that says aws:kms but names no key is encrypted with the AWS managed key aws/s3,
  # not the bucket default: on a customer managed key bucket that is the wrong key.
  # (An input, not derived from the ARN: a new key's ARN is unknown until apply.)
  uses_customer_managed_key = local.uses_kms && !try(var.default_encryption.aws_managed_key, false)

  # Since April 2026 S3 blocks SSE-C writes on new buckets unless the bucket's encryption
  # configuration carries BlockedEncryptionTypes = NONE. hashicorp/aws < 6.22 cannot set it.
  blocked_encryption_type = var.sse_c == "require" ? "NONE" : "SSE-C"
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_145:not KMS on purpose for the SSE-S3 (AES256) pattern; checkov 3.3.30 also fails DSSE-KMS (aws:kms:dsse), which is KMS
  #checkov:skip=CKV_AWS_19:fails only DSSE-KMS: checkov 3.3.30 accepts AES256 and aws:kms, but aws:kms:dsse is KMS encryption at rest (two layers)
  #checkov:skip=CKV_AWS_18:access logging is out of scope for a demonstration of encryption patterns: it needs a log bucket and adds cost
  #checkov:skip=CKV_AWS_21:versioning is out of scope for a demonstration of encryption patterns: noncurrent versions add storage cost
  #checkov:skip=CKV_AWS_144:replication is out of scope: a versioned replica bucket per pattern in another region and a role, at twice the storage cost
  #checkov:skip=CKV2_AWS_62:event notifications are out of scope: nothing in this demonstration consumes object events
  #checkov:skip=CKV2_AWS_61:the lifecycle rule is opt-in (abort_incomplete_multipart_upload_days): hashicorp/aws waits ~55 s per new lifecycle configuration
  #checkov:skip=CKV_AWS_300:the abort-incomplete-multipart-upload rule is opt-in (abort_incomplete_multipart_upload_days), off by default
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced" # ACLs disabled
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  count  = var.default_encryption == null ? 0 : 1
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.default_encryption.sse_algorithm
      kms_master_key_id = var.default_encryption.kms_key_arn
    }
    bucket_key_enabled = var.default_encryption.bucket_key_enabled
  }
}

# Housekeeping that leaves the encryption patterns alone, opt-in: the parts of a multipart upload
# that is never completed are stored, and billed, until the upload is aborted. Off by default:
# hashicorp/aws waits ~55 s after creating a lifecycle configuration until it reads back steadily.
resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count  = var.abort_incomplete_multipart_upload_days == null ? 0 : 1
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }
}

# Off for the pattern buckets (noncurrent versions would keep old SSE-C keys' objects around);
# on for the Terraform state bucket, where every earlier state must stay recoverable.
resource "aws_s3_bucket_versioning" "this" {
  count  = var.versioning_enabled ? 1 : 0
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json

  # S3 rejects concurrent changes to a bucket's policy and its public access block.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

# Allow or block SSE-C in the bucket's encryption configuration (BlockedEncryptionTypes).
# The helper reads the configuration Terraform (or S3's default) put there, adds the
# BlockedEncryptionTypes element to every rule and writes it back; the provider ignores the
# element it does not know, so there is no perpetual diff. It runs again whenever Terraform
# rewrites the configuration (which drops the element).
resource "terraform_data" "sse_c_encryption_type" {
  triggers_replace = {
    bucket             = aws_s3_bucket.this.id
    blocked            = local.blocked_encryption_type
    default_encryption = jsonencode(var.default_encryption)
  }

  provisioner "local-exec" {
    # A POSIX sh wrapper runs the helper with the `python3` on PATH (./inv puts the project's
    # virtualenv first), or says in one line that there is none.
    interpreter = ["/bin/sh", "${path.module}/scripts/put_blocked_encryption_types.sh"]
    command     = aws_s3_bucket.this.id
    environment = {
      BLOCKED_ENCRYPTION_TYPE = local.blocked_encryption_type
      AWS_REGION              = aws_s3_bucket.this.region
      # The provider's principal. "" when unset (the helper then uses the standard AWS environment,
      # as the provider does) rather than absent: a value the terraform process inherited must not
      # apply instead.
      SSE_PATTERNS_AWS_PROFILE     = var.aws_profile == null ? "" : var.aws_profile
      SSE_PATTERNS_ASSUME_ROLE_ARN = var.assume_role_arn == null ? "" : var.assume_role_arn
    }
  }

  # After every other write of the bucket's configuration: S3 answers OperationAborted to
  # concurrent ones. (The opt-in lifecycle rule is left out: hashicorp/aws waits ~55 s after writing
  # it, and the helper retries OperationAborted anyway.)
  depends_on = [
    aws_s3_bucket_ownership_controls.this,
    aws_s3_bucket_policy.this,
    aws_s3_bucket_public_access_block.this,
    aws_s3_bucket_server_side_encryption_configuration.this,
  ]
}

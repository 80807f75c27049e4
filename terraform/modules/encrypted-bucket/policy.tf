# The bucket policy, one small document per concern, merged below
# (the style of terraform-aws-modules/s3-bucket, with guards that let uploads rely on the
# bucket default: a header is only judged when it is present).

data "aws_iam_policy_document" "bucket" {
  source_policy_documents = concat(
    [data.aws_iam_policy_document.tls_only.json],
    data.aws_iam_policy_document.require_sse_c[*].json,
    data.aws_iam_policy_document.deny_sse_c[*].json,
    data.aws_iam_policy_document.deny_other_algorithm[*].json,
    data.aws_iam_policy_document.deny_other_kms_key[*].json,
    data.aws_iam_policy_document.deny_kms_without_key_id[*].json,
  )
}

data "aws_iam_policy_document" "tls_only" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.bucket_arn, local.objects_arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# The walkthrough's policy: no upload without the SSE-C algorithm header.
data "aws_iam_policy_document" "require_sse_c" {
  count = var.sse_c == "require" ? 1 : 0

  statement {
    sid       = "DenyUploadWithoutSseC"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = [local.objects_arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption-customer-algorithm"
      values   = ["true"]
    }
  }
}

# Every other bucket: no unintended SSE-C (an object nobody can read without the client's key).
data "aws_iam_policy_document" "deny_sse_c" {
  count = var.sse_c == "deny" ? 1 : 0

  statement {
    sid       = "DenyUploadWithSseC"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = [local.objects_arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption-customer-algorithm"
      values   = ["false"]
    }
  }
}

# An x-amz-server-side-encryption header, when present, must name the bucket's algorithm.
data "aws_iam_policy_document" "deny_other_algorithm" {
  count = local.algorithm != null ? 1 : 0

  statement {
    sid       = "DenyOtherEncryptionAlgorithm"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = [local.objects_arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["false"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "s3:x-amz-server-side-encryption"
      values   = [local.algorithm]
    }
  }
}

# A KMS key id header, when present, must name the bucket's key (by its ARN).
data "aws_iam_policy_document" "deny_other_kms_key" {
  count = local.uses_kms ? 1 : 0

  statement {
    sid       = "DenyOtherKmsKey"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = [local.objects_arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = ["false"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = [local.kms_key_arn]
    }
  }
}

# On a customer managed key bucket, a header that asks for KMS without naming a key would get
# the AWS managed key aws/s3 instead of the bucket's key.
data "aws_iam_policy_document" "deny_kms_without_key_id" {
  count = local.uses_customer_managed_key ? 1 : 0

  statement {
    sid       = "DenyKmsWithoutKeyId"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = [local.objects_arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["false"]
    }

    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = ["true"]
    }
  }
}

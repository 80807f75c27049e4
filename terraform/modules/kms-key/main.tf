data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  # kms:ViaService names the regional endpoint of the service (s3.<region>.amazonaws.com).
  via_service_names = [
    for service in var.via_services : "${service}.${data.aws_region.current.id}.${data.aws_partition.current.dns_suffix}"
  ]
}

resource "aws_kms_key" "this" {
  description              = var.description
  key_usage                = "ENCRYPT_DECRYPT"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  multi_region             = false
  enable_key_rotation      = true
  deletion_window_in_days  = var.deletion_window_in_days
  policy                   = data.aws_iam_policy_document.key.json
  tags                     = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.alias_name}"
  target_key_id = aws_kms_key.this.key_id
}

# Modelled on the key policy of the AWS managed key aws/s3, as in the walkthrough.
data "aws_iam_policy_document" "key" {
  policy_id = var.policy_id

  statement {
    sid    = "AllowUseThroughServicesForThisAccount"
    effect = "Allow"
    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey*",
      "kms:ReEncrypt*",
    ]
    # In a key policy "*" is the key itself.
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:CallerAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = local.via_service_names
    }
  }

  statement {
    sid    = "AllowAccountRootToAdministerTheKey"
    effect = "Allow"
    # The default key policy: without it IAM policies cannot grant access to the key and the
    # key can become unmanageable. Narrowing it risks locking the account out of its own key.
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"]
    }
  }
}

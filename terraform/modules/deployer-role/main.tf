# The role a deployment acts as (Terraform, its helper, ./inv verify/rotate): exactly what applying,
# verifying and destroying the aws env needs, scoped by the prefix. ./inv rehearse gives the same
# policy document to its deployer role on the emulator, so a missing permission shows up there.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  policy = templatefile("${path.module}/deployer-policy.json.tftpl", {
    account_id         = data.aws_caller_identity.current.account_id
    deployer_role_name = var.role_name
    partition          = data.aws_partition.current.partition
    prefix             = var.prefix
  })
}

data "aws_iam_policy_document" "trust" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = var.trusted_principal_arns
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.role_name
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = var.max_session_duration
  tags                 = var.tags
}

resource "aws_iam_role_policy" "deploy" {
  name   = "deploy-${var.prefix}"
  role   = aws_iam_role.this.id
  policy = local.policy
}

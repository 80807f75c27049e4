# The role a deployment acts as (Terraform, its helper, ./inv verify/rotate): exactly what applying,
# verifying and destroying the aws env needs, scoped by the prefix. ./inv rehearse applies this module
# (through examples/deployer-role) on the emulator and deploys as the role, so a missing permission
# shows up there as an AccessDenied.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  policy = templatefile("${path.module}/deployer-policy.json.tftpl", {
    account_id         = data.aws_caller_identity.current.account_id
    deployer_role_name = var.role_name
    partition          = data.aws_partition.current.partition
    prefix             = var.prefix
  })

  # GitHub's OIDC tokens name the job's repository and, for a job with an environment, only the
  # environment; without one, the ref. One sub pattern, no wildcard: nothing else of the repository
  # (another branch, a pull request, another environment) can assume the role.
  github_oidc_subject = var.github_oidc == null ? null : (
    var.github_oidc.environment != null
    ? "repo:${var.github_oidc.repository}:environment:${var.github_oidc.environment}"
    : "repo:${var.github_oidc.repository}:ref:refs/heads/${var.github_oidc.branch}"
  )
}

data "aws_iam_policy_document" "trust" {
  dynamic "statement" {
    for_each = length(var.trusted_principal_arns) > 0 ? [var.trusted_principal_arns] : []

    content {
      sid     = "TrustedPrincipals"
      effect  = "Allow"
      actions = ["sts:AssumeRole"]

      principals {
        type        = "AWS"
        identifiers = statement.value
      }
    }
  }

  dynamic "statement" {
    for_each = var.github_oidc == null ? [] : [var.github_oidc]

    content {
      sid     = "GitHubActions"
      effect  = "Allow"
      actions = ["sts:AssumeRoleWithWebIdentity"]

      principals {
        type        = "Federated"
        identifiers = [statement.value.provider_arn]
      }

      condition {
        test     = "StringEquals"
        variable = "token.actions.githubusercontent.com:aud"
        values   = ["sts.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "token.actions.githubusercontent.com:sub"
        values   = [local.github_oidc_subject]
      }
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

# The deployer role of one stack (one prefix) in this account, for people and for GitHub Actions.
# Apply it once per account as an administrator; then the aws env deploys as the role
# (assume_role_arn in terraform.tfvars, or .github/workflows/aws.yml through OIDC).
# In your root, give the module's source as a git URL pinned to a tag (see README.md).

# GitHub's OIDC identity provider: one per account. If the account has one already, pass its ARN
# as github_oidc_provider_arn instead of creating another (IAM allows only one per URL).
resource "aws_iam_openid_connect_provider" "github" {
  count = var.github_repository != null && var.github_oidc_provider_arn == null ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
  # No thumbprint_list: IAM verifies GitHub's certificate through its own trusted root CAs, and the
  # argument is optional in the provider version this project runs (5.100.0).
}

locals {
  github_oidc_provider_arn = var.github_repository == null ? null : coalesce(
    var.github_oidc_provider_arn, one(aws_iam_openid_connect_provider.github[*].arn)
  )
}

module "deployer_role" {
  source = "../../terraform/modules/deployer-role"

  allow_reencrypt_engine = var.allow_reencrypt_engine
  prefix                 = var.prefix
  role_name              = var.role_name
  trusted_principal_arns = var.trusted_principal_arns
  github_oidc = var.github_repository == null ? null : {
    branch       = var.github_branch
    environment  = var.github_environment
    provider_arn = local.github_oidc_provider_arn
    repository   = var.github_repository
  }
}

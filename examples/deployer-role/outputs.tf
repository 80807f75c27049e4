output "github_oidc_provider_arn" {
  description = "ARN of GitHub's OIDC provider the role trusts (null without github_repository)."
  value       = local.github_oidc_provider_arn
}

output "role_arn" {
  description = "ARN of the deployer role: the aws env's assume_role_arn, and the repository variable AWS_DEPLOYER_ROLE_ARN."
  value       = module.deployer_role.role_arn
}

variable "allow_reencrypt_engine" {
  description = "Let the role deploy the opt-in re-encryption engine too (the envs' enable_reencrypt_engine)."
  type        = bool
  default     = false
}

variable "github_branch" {
  description = "Instead of an environment: the branch whose jobs may assume the role (set github_environment = null then)."
  type        = string
  default     = null
}

variable "github_environment" {
  description = "The GitHub environment whose jobs may assume the role (give it required reviewers). The workflow .github/workflows/aws.yml runs in \"aws\"."
  type        = string
  default     = "aws"
}

variable "github_oidc_provider_arn" {
  description = "ARN of the account's existing OIDC provider for token.actions.githubusercontent.com; null: create one."
  type        = string
  default     = null
}

variable "github_repository" {
  description = "The repository (\"owner/name\") whose workflow deploys; null: no GitHub trust, only trusted_principal_arns."
  type        = string
  default     = null
}

variable "prefix" {
  description = "Prefix of the stack the role deploys (the aws env's prefix input)."
  type        = string
  default     = "fa-125"
}

variable "region" {
  description = "AWS region of the provider (IAM is global: any region the account uses)."
  type        = string
}

variable "role_name" {
  description = "Name of the deployer role."
  type        = string
  default     = "sse-patterns-deployer"
}

variable "trusted_principal_arns" {
  description = "IAM users or roles that may assume the role by hand (e.g. your SSO administrators' role)."
  type        = list(string)
  default     = []
}

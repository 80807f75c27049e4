variable "allow_reencrypt_engine" {
  description = "Also let the role deploy the opt-in re-encryption engine (enable_reencrypt_engine in the envs): its Step Functions state machine, its log group and log delivery, and passing its role to Step Functions."
  type        = bool
  default     = false
}

variable "max_session_duration" {
  description = "Longest session of the role in seconds (3600 to 43200): a cold deploy takes minutes."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "max_session_duration must be from 3600 to 43200 seconds (IAM's range)."
  }
}

variable "github_oidc" {
  description = "GitHub Actions jobs that may assume the role through the account's OIDC provider for token.actions.githubusercontent.com: one repository (\"owner/name\") and exactly one of an environment (recommended: give it required reviewers) or a branch. null: no web identity trust."
  type = object({
    branch       = optional(string)
    environment  = optional(string)
    provider_arn = string
    repository   = string
  })
  default = null

  validation {
    condition     = var.github_oidc == null ? true : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", var.github_oidc.provider_arn))
    error_message = "github_oidc.provider_arn must be the ARN of the account's OIDC provider for token.actions.githubusercontent.com."
  }

  validation {
    condition     = var.github_oidc == null ? true : can(regex("^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$", var.github_oidc.repository))
    error_message = "github_oidc.repository must be \"owner/name\", without wildcards."
  }

  validation {
    condition     = var.github_oidc == null ? true : (var.github_oidc.environment == null) != (var.github_oidc.branch == null)
    error_message = "github_oidc must name exactly one of environment and branch."
  }

  validation {
    condition     = var.github_oidc == null ? true : alltrue([for name in compact([var.github_oidc.environment, var.github_oidc.branch]) : can(regex("^[^*?\\s]+$", name))])
    error_message = "github_oidc.environment and github_oidc.branch must be names, without wildcards or spaces."
  }
}

variable "prefix" {
  description = "Prefix of the stack's resource names: the role may manage only resources whose names start with it."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", var.prefix))
    error_message = "prefix may contain only lowercase letters, digits and hyphens, and must begin and end with a letter or digit."
  }
}

variable "role_name" {
  description = "Name of the deployer role."
  type        = string
  default     = "sse-patterns-deployer"
}

variable "tags" {
  description = "Tags for the role."
  type        = map(string)
  default     = {}
}

variable "trusted_principal_arns" {
  description = "IAM users or roles that may assume the deployer role (e.g. your SSO administrators' role). At least one of this and github_oidc."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.trusted_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(user|role|root)", arn))])
    error_message = "trusted_principal_arns must hold IAM user, role or account root ARNs."
  }

  validation {
    condition     = length(var.trusted_principal_arns) > 0 || var.github_oidc != null
    error_message = "Give trusted_principal_arns, github_oidc or both: a role nobody can assume deploys nothing."
  }
}

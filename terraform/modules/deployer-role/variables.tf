variable "max_session_duration" {
  description = "Longest session of the role in seconds (3600 to 43200): a cold deploy takes minutes."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "max_session_duration must be from 3600 to 43200 seconds (IAM's range)."
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
  description = "IAM users or roles that may assume the deployer role (e.g. your SSO administrators' role)."
  type        = list(string)

  validation {
    condition     = length(var.trusted_principal_arns) > 0 && alltrue([for arn in var.trusted_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(user|role|root)", arn))])
    error_message = "trusted_principal_arns must hold at least one IAM user, role or account root ARN."
  }
}

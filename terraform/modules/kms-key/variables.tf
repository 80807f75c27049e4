variable "alias_name" {
  description = "Alias of the key, without the alias/ prefix."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9/_-]{1,250}$", var.alias_name)) && !startswith(var.alias_name, "aws/")
    error_message = "alias_name must be 1 to 250 letters, digits, '/', '_' or '-', without the alias/ prefix, and must not start with aws/ (reserved for AWS managed keys)."
  }
}

variable "deletion_window_in_days" {
  description = "Waiting period before KMS deletes the key after `terraform destroy`."
  type        = number
  default     = 7

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30 && floor(var.deletion_window_in_days) == var.deletion_window_in_days
    error_message = "deletion_window_in_days must be a whole number from 7 to 30 (the range KMS accepts)."
  }
}

variable "description" {
  description = "Description of the key."
  type        = string
}

variable "policy_id" {
  description = "Id of the key policy document."
  type        = string
}

variable "tags" {
  description = "Tags for the key."
  type        = map(string)
  default     = {}
}

variable "via_services" {
  description = "Service names (the part before `.<region>.<dns suffix>`, e.g. s3) through which principals of this account may use the key."
  type        = list(string)
  default     = ["s3"]

  validation {
    condition     = length(var.via_services) > 0 && alltrue([for s in var.via_services : can(regex("^[a-z0-9-]+$", s))])
    error_message = "via_services must list at least one service name such as s3 (lowercase letters, digits, hyphens)."
  }
}

variable "description" {
  description = "Description of the secret."
  type        = string
  default     = "Secret for S3 SSE-C."
}

variable "key_version" {
  description = "Version of the generated key. The key is written once; raising this number has Secrets Manager generate and store a new one on the next apply. Objects already written stay encrypted under the old key and become unreadable with the new one unless they are re-encrypted (CopyObject onto themselves with both keys)."
  type        = number
  default     = 1

  validation {
    condition     = var.key_version >= 1 && floor(var.key_version) == var.key_version
    error_message = "key_version must be a whole number, 1 or more."
  }
}

variable "name" {
  description = "Name of the secret."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9/_+=.@-]{1,512}$", var.name))
    error_message = "name must be 1 to 512 letters, digits or /_+=.@- characters (Secrets Manager naming rules)."
  }
}

variable "recovery_window_in_days" {
  description = "Days Secrets Manager keeps the secret recoverable after `terraform destroy`; 0 deletes it at once, so the same name can be used again right away."
  type        = number
  default     = 0

  validation {
    condition     = var.recovery_window_in_days == 0 || (var.recovery_window_in_days >= 7 && var.recovery_window_in_days <= 30)
    error_message = "recovery_window_in_days must be 0 (delete at once) or from 7 to 30."
  }
}

variable "tags" {
  description = "Tags for the secret."
  type        = map(string)
  default     = {}
}

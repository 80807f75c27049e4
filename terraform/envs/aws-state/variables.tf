variable "bucket_name" {
  description = "Name of the state bucket (./inv state-bucket passes <prefix>-<account>-<region>-tfstate)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3 to 63 lowercase letters, digits and hyphens, beginning and ending with a letter or digit."
  }
}

variable "kms_key_alias_name" {
  description = "Alias of the state's customer managed key, without alias/ (./inv state-bucket passes <prefix>-tfstate)."
  type        = string
}

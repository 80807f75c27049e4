variable "assume_role_arn" {
  description = "Role the encrypted-bucket module's BlockedEncryptionTypes helper assumes: the same as the provider's assume_role (null: none)."
  type        = string
  default     = null
}

variable "aws_profile" {
  description = "Named profile the BlockedEncryptionTypes helper uses: the same as the provider's (null: none)."
  type        = string
  default     = null
}

variable "bucket_name" {
  description = "Name of the state bucket (globally unique: ./inv state-bucket uses <prefix>-<account>-<region>-tfstate)."
  type        = string
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket with every state version in it. Off by default: losing state orphans every stack it tracked."
  type        = bool
  default     = false
}

variable "kms_key_alias_name" {
  description = "Alias of the customer managed key that encrypts the state, without the alias/ prefix."
  type        = string
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before KMS deletes the state key after destroy (7 to 30)."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for the bucket and the key."
  type        = map(string)
  default     = {}
}

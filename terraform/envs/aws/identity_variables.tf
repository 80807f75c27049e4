# Who deploys, and where: shared by the roots of the aws env (aws-state links to this file).
# ./inv reads the same values (terraform.tfvars, --var-file, TF_VAR_*) and acts as the same principal.

variable "allowed_account_ids" {
  description = "Accounts this env may deploy to; any other is refused before a change (null: any)."
  type        = list(string)
  default     = null

  validation {
    condition     = var.allowed_account_ids == null || alltrue([for id in coalesce(var.allowed_account_ids, []) : can(regex("^[0-9]{12}$", id))])
    error_message = "allowed_account_ids must be a list of 12-digit AWS account ids."
  }
}

variable "assume_role_arn" {
  description = "Role to assume for every call (Terraform, its helper, ./inv), e.g. a deployer role (null: use the credentials as they are)."
  type        = string
  default     = null

  validation {
    condition     = var.assume_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.assume_role_arn))
    error_message = "assume_role_arn must be an IAM role ARN: arn:<partition>:iam::<12-digit account>:role/<name>."
  }
}

variable "profile" {
  description = "Named profile of your AWS shared config to use (null: the standard credential chain)."
  type        = string
  default     = null
}

variable "region" {
  description = "Region to deploy to (./inv passes the region of your AWS configuration unless you give --region)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

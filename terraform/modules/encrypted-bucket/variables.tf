variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which a lifecycle rule aborts an unfinished multipart upload (and deletes its parts), or null for no lifecycle rule. Off by default: hashicorp/aws waits about a minute for a new lifecycle configuration to read back steadily."
  type        = number
  default     = null

  validation {
    condition     = var.abort_incomplete_multipart_upload_days == null || try(var.abort_incomplete_multipart_upload_days >= 1 && floor(var.abort_incomplete_multipart_upload_days) == var.abort_incomplete_multipart_upload_days, false)
    error_message = "abort_incomplete_multipart_upload_days must be null or a whole number of days, 1 or more."
  }
}

variable "assume_role_arn" {
  description = "Role the helper assumes, the same as the provider's assume_role (null: none)."
  type        = string
  default     = null

  validation {
    condition     = var.assume_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+", var.assume_role_arn))
    error_message = "assume_role_arn must be null or an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/<name>)."
  }
}

variable "aws_profile" {
  description = "Named profile of the AWS shared config the helper uses; the same as the provider's (null: the standard AWS environment)."
  type        = string
  default     = null

  validation {
    condition     = var.aws_profile == null || try(trimspace(var.aws_profile) != "", false)
    error_message = "aws_profile must be null or a profile name (not empty)."
  }
}

variable "bucket_name" {
  description = "Name of the bucket (globally unique on AWS)."
  type        = string

  validation {
    condition     = length(var.bucket_name) >= 3 && length(var.bucket_name) <= 63
    error_message = "bucket_name must be 3 to 63 characters long (S3 bucket naming rules)."
  }
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name may contain only lowercase letters, digits and hyphens, and must begin and end with a letter or digit (dots are not allowed: they break TLS on virtual-hosted-style URLs)."
  }
}

variable "default_encryption" {
  description = "The bucket's default encryption, or null to leave the bucket without an encryption configuration of its own (S3 then applies SSE-S3). sse_algorithm is AES256 (SSE-S3), aws:kms (SSE-KMS) or aws:kms:dsse (DSSE-KMS); kms_key_arn is required for the two KMS algorithms; aws_managed_key says that kms_key_arn names the AWS managed key aws/s3 (by its alias ARN) rather than a customer managed key. The bucket policy compares a request's KMS key id header with kms_key_arn as a string: clients that name a key must name exactly that ARN (or rely on the default)."
  type = object({
    sse_algorithm      = string
    kms_key_arn        = optional(string)
    aws_managed_key    = optional(bool, false)
    bucket_key_enabled = optional(bool, false)
  })
  default = null

  validation {
    condition     = var.default_encryption == null || contains(["AES256", "aws:kms", "aws:kms:dsse"], try(var.default_encryption.sse_algorithm, ""))
    error_message = "default_encryption.sse_algorithm must be one of AES256, aws:kms, aws:kms:dsse."
  }
  validation {
    condition = (
      var.default_encryption == null ||
      (try(var.default_encryption.sse_algorithm, "") == "AES256") == (try(var.default_encryption.kms_key_arn, null) == null)
    )
    error_message = "default_encryption.kms_key_arn is required for aws:kms and aws:kms:dsse and must be null for AES256."
  }
  validation {
    condition     = var.default_encryption == null || !try(var.default_encryption.aws_managed_key, false) || endswith(coalesce(try(var.default_encryption.kms_key_arn, null), "none"), ":alias/aws/s3")
    error_message = "default_encryption.aws_managed_key = true requires kms_key_arn to be the alias ARN of aws/s3 (arn:<partition>:kms:<region>:<account>:alias/aws/s3)."
  }
  validation {
    condition     = var.default_encryption == null || !try(var.default_encryption.bucket_key_enabled, false) || try(var.default_encryption.sse_algorithm, "") == "aws:kms"
    error_message = "default_encryption.bucket_key_enabled can only be true with aws:kms (S3 Bucket Keys do not apply to SSE-S3 or DSSE-KMS)."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket together with the objects in it."
  type        = bool
  default     = false
}

variable "sse_c" {
  description = "What the bucket does with SSE-C (customer-provided keys): \"require\" denies every upload without SSE-C headers and unblocks SSE-C in the bucket's encryption configuration; \"deny\" denies every upload with SSE-C headers and blocks SSE-C."
  type        = string

  validation {
    condition     = contains(["require", "deny"], var.sse_c)
    error_message = "sse_c must be \"require\" or \"deny\"."
  }
}

variable "tags" {
  description = "Tags for the bucket."
  type        = map(string)
  default     = {}
}

variable "versioning_enabled" {
  description = "Keep every version of every object (S3 versioning). Off by default: the encryption patterns do not need it; the Terraform state bucket does."
  type        = bool
  default     = false
}

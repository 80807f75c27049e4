variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which every bucket aborts unfinished multipart uploads, or null (default) for no lifecycle rule (see encrypted-bucket)."
  type        = number
  default     = null
}

variable "assume_role_arn" {
  description = "Role the buckets' SSE-C setting helper assumes, the same as the provider's assume_role (null: none; see encrypted-bucket)."
  type        = string
  default     = null
}

variable "aws_profile" {
  description = "Named profile of the AWS shared config the buckets' SSE-C setting helper uses; the same as the provider's (null: the standard AWS environment; see encrypted-bucket)."
  type        = string
  default     = null
}

variable "enable_reencrypt_engine" {
  description = "Deploy the distributed re-encryption engine (../sse-c-reencrypt): a Step Functions Distributed Map and a function that rotate the SSE-C bucket's objects to the current key or migrate them to the destination buckets. Off by default: nothing of it is created."
  type        = bool
  default     = false
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the buckets with the objects in them."
  type        = bool
  default     = true
}

variable "global_name_infix" {
  description = "Inserted after the prefix in the names of global resources, the buckets (global across accounts and regions) and the functions' IAM role (global across regions): fa-125-<infix>-sse-s3, fa-125-<infix>-function-role. The aws env passes <account>-<region>, so several accounts and regions hold the stack side by side (\"\" for none)."
  type        = string
  default     = ""

  validation {
    condition     = var.global_name_infix == "" || can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", var.global_name_infix))
    error_message = "global_name_infix may contain only lowercase letters, digits and hyphens, and must begin and end with a letter or digit."
  }
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before KMS deletes the customer managed key after destroy (7 to 30)."
  type        = number
  default     = 7
}

variable "lambda_architecture" {
  description = "Instruction set of the two functions (arm64 or x86_64)."
  type        = string
  default     = "arm64"
}

variable "lambda_log_retention_in_days" {
  description = "Retention of the functions' log groups in days."
  type        = number
  default     = 14
}

variable "lambda_package_dir" {
  description = "Folder holding upload.zip and download.zip (built by `./inv build`)."
  type        = string
}

variable "lambda_runtime" {
  description = "Python runtime of the two functions."
  type        = string
  default     = "python3.13"
}

variable "object_key" {
  description = "Key of the object the functions upload and download."
  type        = string
  default     = "test.txt"
}

variable "prefix" {
  description = "Prefix of every resource name (the walkthrough's fa-125)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9-]+$", var.prefix))
    error_message = "prefix may contain only lowercase letters, digits and hyphens (no uppercase: S3 bucket names are lowercase; no dots: they break TLS on virtual-hosted-style URLs, and \"..\" is never valid)."
  }
  validation {
    condition     = !startswith(var.prefix, "-") && !endswith(var.prefix, "-")
    error_message = "prefix must not begin or end with a hyphen (S3 bucket names begin and end with a letter or digit)."
  }
  validation {
    # The longest global name is a bucket, <prefix>[-<infix>]-<the longest suffix of the pattern
    # registry, local.patterns in main.tf>, of S3's 63 characters (the role,
    # <prefix>[-<infix>]-function-role, has 14 of IAM's 64).
    condition     = length(var.prefix) + (var.global_name_infix == "" ? 0 : length(var.global_name_infix) + 1) + 1 + local.longest_bucket_suffix <= 63
    error_message = "prefix is too long: the longest bucket name, <prefix>${var.global_name_infix == "" ? "" : "-${var.global_name_infix}"}-${[for pattern in values(local.patterns) : pattern.suffix if length(pattern.suffix) == local.longest_bucket_suffix][0]}, must fit in S3's limit of 63 characters, so with this ${var.global_name_infix == "" ? "configuration" : "infix (${length(var.global_name_infix)} characters)"} prefix may have at most ${63 - 1 - local.longest_bucket_suffix - (var.global_name_infix == "" ? 0 : length(var.global_name_infix) + 1)} characters, and has ${length(var.prefix)}."
  }
  validation {
    condition     = !startswith(var.prefix, "xn--") && !startswith(var.prefix, "sthree-") && !startswith(var.prefix, "amzn-s3-demo-")
    error_message = "prefix must not start with xn--, sthree- or amzn-s3-demo- (reserved by S3 for bucket names)."
  }
}

variable "reencrypt_allow_delete_source" {
  description = "Let the re-encryption engine's function delete SSE-C sources (migrations with --delete-source, each after its copy is verified); off: the engine refuses such a migration."
  type        = bool
  default     = false
}

variable "reencrypt_destination_patterns" {
  description = "Patterns (keys of the pattern registry) whose buckets the re-encryption engine may migrate SSE-C objects to; the SSE-C bucket itself is always its source."
  type        = list(string)
  default     = ["sse_kms_cmk"]

  validation {
    condition     = alltrue([for pattern in var.reencrypt_destination_patterns : contains(keys(local.patterns), pattern) && pattern != "sse_c"])
    error_message = "reencrypt_destination_patterns must name patterns of the registry other than sse_c: ${join(", ", [for pattern in keys(local.patterns) : pattern if pattern != "sse_c"])}."
  }
}

variable "reencrypt_max_concurrency" {
  description = "How many batches of objects the re-encryption engine's map runs at once (see sse-c-reencrypt's max_concurrency)."
  type        = number
  default     = 40
}

variable "secret_recovery_window_in_days" {
  description = "Days the SSE-C key secret stays recoverable after destroy (0: deleted at once)."
  type        = number
  default     = 0
}

variable "sse_c_key_version" {
  description = "Version of the generated SSE-C key; raise it to have a new key generated and stored."
  type        = number
  default     = 1
}

variable "verifier_principal_arns" {
  description = "IAM user or role ARNs that may assume the functions' role for verification (see sse-c-lambdas)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

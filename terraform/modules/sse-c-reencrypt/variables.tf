variable "allow_delete_source" {
  description = "Grant the function s3:DeleteObject on the source bucket's objects, for migrations with delete_source (the source is deleted only after its copy is verified). Off: such a migration's deletes fail, and are reported per object."
  type        = bool
  default     = false
}

variable "architecture" {
  description = "Instruction set of the function."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "destination_bucket_arns" {
  description = "ARNs of the buckets a migration may copy to (their default encryption applies). The source bucket is always a destination too (a rotation re-encrypts in place)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.destination_bucket_arns : can(regex("^arn:[a-z-]+:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", arn))])
    error_message = "destination_bucket_arns must hold S3 bucket ARNs (arn:<partition>:s3:::<bucket>)."
  }
}

variable "function_name" {
  description = "Name of the function that re-encrypts one batch of objects."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1 to 64 letters, digits, hyphens or underscores."
  }
}

variable "function_role_name" {
  description = "Name of the IAM role the function runs as."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,64}$", var.function_role_name))
    error_message = "function_role_name must be 1 to 64 letters, digits or +=,.@_- characters."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer managed key of the SSE-KMS destination buckets: the function may use it through S3 only (kms:ViaService). null: no destination uses a customer managed key."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]{36}$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<key id>), not an alias, or null."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the function's and the state machine's CloudWatch log groups."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "max_concurrency" {
  description = "How many batches the Distributed Map runs at once (its MaxConcurrency; each is one invocation of the function)."
  type        = number
  default     = 40

  validation {
    condition     = var.max_concurrency >= 1 && var.max_concurrency <= 10000 && floor(var.max_concurrency) == var.max_concurrency
    error_message = "max_concurrency must be a whole number from 1 to 10000 (a Distributed Map's limit)."
  }
}

variable "max_items_per_batch" {
  description = "Objects per invocation of the function (the map's ItemBatcher MaxItemsPerBatch; MiniStack ignores it and sends one each)."
  type        = number
  default     = 100

  validation {
    condition     = var.max_items_per_batch >= 1 && var.max_items_per_batch <= 1000 && floor(var.max_items_per_batch) == var.max_items_per_batch
    error_message = "max_items_per_batch must be a whole number from 1 to 1000 (a batch's input must stay under Lambda's 256 KiB)."
  }
}

variable "memory_size" {
  description = "Memory of the function in MB (the copies are server-side: only a verified migration with delete_source reads object bodies, 8 MiB at a time)."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be from 128 to 10240 MB."
  }
}

variable "package_path" {
  description = "Path of the function's zip (reencrypt.zip, built by `./inv build`)."
  type        = string

  validation {
    condition     = endswith(var.package_path, ".zip")
    error_message = "package_path must be the path of a .zip file."
  }
}

variable "runtime" {
  description = "Python runtime of the function (as for sse-c-lambdas)."
  type        = string
  default     = "python3.13"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13", "python3.14"], var.runtime)
    error_message = "runtime must be a Python runtime AWS Lambda accepts for new functions: python3.11, python3.12, python3.13 or python3.14."
  }
}

variable "secret_arn" {
  description = "ARN of the Secrets Manager secret whose versions are the SSE-C keys (the function's SECRET_ARN)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.secret_arn))
    error_message = "secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "source_bucket_arn" {
  description = "ARN of the SSE-C bucket whose objects are re-encrypted (the map lists it)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.source_bucket_arn))
    error_message = "source_bucket_arn must be an S3 bucket ARN (arn:<partition>:s3:::<bucket>)."
  }
}

variable "state_machine_name" {
  description = "Name of the state machine."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,80}$", var.state_machine_name))
    error_message = "state_machine_name must be 1 to 80 letters, digits, hyphens or underscores."
  }
}

variable "state_machine_role_name" {
  description = "Name of the IAM role the state machine runs as."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,64}$", var.state_machine_role_name))
    error_message = "state_machine_role_name must be 1 to 64 letters, digits or +=,.@_- characters."
  }
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}

variable "timeout" {
  description = "Timeout of one invocation (one batch) in seconds."
  type        = number
  default     = 900

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be from 1 to 900 seconds."
  }
}

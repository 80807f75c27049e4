variable "architecture" {
  description = "Instruction set of both functions."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "bucket_arn" {
  description = "ARN of the SSE-C bucket the functions write to and read from."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_arn))
    error_message = "bucket_arn must be an S3 bucket ARN (arn:<partition>:s3:::<bucket>)."
  }
}

variable "bucket_name" {
  description = "Name of the SSE-C bucket (the functions' BUCKET_NAME)."
  type        = string
}

variable "download_function_name" {
  description = "Name of the function that downloads the object with SSE-C."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.download_function_name))
    error_message = "download_function_name must be 1 to 64 letters, digits, hyphens or underscores."
  }
}

variable "download_package_path" {
  description = "Path of the download function's zip (built by `./inv build`)."
  type        = string
}

variable "log_retention_in_days" {
  description = "Retention of the functions' CloudWatch log groups."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "memory_size" {
  description = "Memory of each function in MB."
  type        = number
  default     = 128

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be from 128 to 10240 MB."
  }
}

variable "object_key" {
  description = "Key of the test object (the functions' OBJECT_KEY)."
  type        = string
  default     = "test.txt"

  validation {
    condition     = length(var.object_key) >= 1 && length(var.object_key) <= 1024 && !startswith(var.object_key, "/")
    error_message = "object_key must be 1 to 1024 characters and must not start with '/'."
  }
}

variable "role_name" {
  description = "Name of the IAM role both functions run as."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name must be 1 to 64 letters, digits or +=,.@_- characters."
  }
}

variable "runtime" {
  description = "Python runtime of both functions: one AWS Lambda accepts for new functions (as of 2026-12 python3.9 and python3.10 are deprecated, python3.10 blocked for new functions since 2026-11-30; the walkthrough's python3.8 long since). python3.14 needs hashicorp/aws >= 6.21 (5.100.0 rejects it at plan)."
  type        = string
  default     = "python3.13"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13", "python3.14"], var.runtime)
    error_message = "runtime must be a Python runtime AWS Lambda accepts for new functions: python3.11, python3.12, python3.13 or python3.14."
  }
}

variable "secret_arn" {
  description = "ARN of the Secrets Manager secret that holds the SSE-C key (the functions' SECRET_ARN)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.secret_arn))
    error_message = "secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "tags" {
  description = "Tags for the functions, their role and log groups."
  type        = map(string)
  default     = {}
}

variable "timeout" {
  description = "Timeout of each function in seconds."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be from 1 to 900 seconds."
  }
}

variable "verifier_principal_arns" {
  description = "IAM principals (role or user ARNs) that may also assume the functions' role, so that `./inv verify` can show the role's least privilege by acting as it. Empty: only Lambda may assume it."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.verifier_principal_arns : can(regex("^arn:[a-z-]+:iam::[0-9]{12}:(user|role)/.+$", arn))])
    error_message = "verifier_principal_arns must hold IAM user or role ARNs (arn:<partition>:iam::<account>:user/... or :role/...); for an assumed-role session give the role's ARN."
  }
}

variable "upload_function_name" {
  description = "Name of the function that uploads the object with SSE-C."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.upload_function_name))
    error_message = "upload_function_name must be 1 to 64 letters, digits, hyphens or underscores."
  }
}

variable "upload_package_path" {
  description = "Path of the upload function's zip (built by `./inv build`)."
  type        = string
}

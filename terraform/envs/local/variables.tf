variable "emulator_endpoint" {
  description = "HTTPS endpoint of the local emulator (./inv passes the configured port)."
  type        = string
  default     = "https://127.0.0.1:4566"

  validation {
    condition     = can(regex("^https://(127\\.0\\.0\\.1|localhost):[0-9]{2,5}$", var.emulator_endpoint))
    error_message = "emulator_endpoint must be https://127.0.0.1:<port> or https://localhost:<port>: the local env only ever talks to the emulator on this machine."
  }
}

variable "enable_reencrypt_engine" {
  description = "Deploy the distributed re-encryption engine (a Step Functions Distributed Map and its function) for `./inv rotate-sse-c-key --engine stepfunctions`; off by default."
  type        = bool
  default     = false
}

variable "lambda_architecture" {
  description = "Instruction set of the two functions (arm64 or x86_64)."
  type        = string
  default     = "arm64"
}

variable "lambda_package_dir" {
  description = "Folder with the function zips, relative to this folder (./inv build writes them there)."
  type        = string
  default     = "../../../build/lambda"
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
  description = "Prefix of every resource name; the walkthrough's fa-125 by default."
  type        = string
  default     = "fa-125"
}

variable "reencrypt_allow_delete_source" {
  description = "Let the re-encryption engine delete SSE-C sources (`./inv migrate-sse-c --engine stepfunctions --delete-source`, each after its copy is verified)."
  type        = bool
  default     = false
}

variable "reencrypt_max_concurrency" {
  description = "How many batches of objects the re-encryption engine's Distributed Map runs at once (with enable_reencrypt_engine)."
  type        = number
  default     = 40
}

variable "region" {
  description = "Region the emulator pretends to be."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

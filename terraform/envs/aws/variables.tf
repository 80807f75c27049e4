variable "enable_reencrypt_engine" {
  description = "Deploy the distributed re-encryption engine (a Step Functions Distributed Map and its function) for `./inv rotate-sse-c-key --engine stepfunctions`; off by default."
  type        = bool
  default     = false
}

variable "global_name_infix" {
  description = "Inserted after the prefix in the names of global resources (buckets, the IAM role); null: <account>-<region>, so several accounts and regions hold the stack side by side."
  type        = string
  default     = null
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
  description = "Prefix of every resource name. Global names also carry global_name_infix (<account>-<region>), to be unique."
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

variable "secret_recovery_window_in_days" {
  description = "Days the SSE-C key secret stays recoverable after destroy (0: deleted at once, so the name can be reused)."
  type        = number
  default     = 0
}

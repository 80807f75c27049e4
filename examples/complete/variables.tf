variable "lambda_package_dir" {
  description = "Folder holding upload.zip and download.zip, the two functions' packages (`./inv build` writes them to build/lambda of the s3-sse-patterns repository)."
  type        = string
}

variable "prefix" {
  description = "Prefix of every name the stack creates (buckets, key alias, secret, functions)."
  type        = string
  default     = "sse-demo"
}

variable "region" {
  description = "AWS region to deploy to."
  type        = string
}

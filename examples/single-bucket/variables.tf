variable "bucket_name" {
  description = "Name of the bucket (globally unique on AWS: include your account id and region)."
  type        = string
}

variable "region" {
  description = "AWS region to deploy to."
  type        = string
}

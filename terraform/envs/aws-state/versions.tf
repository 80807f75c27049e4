terraform {
  # Write-only arguments (the SSE-C key never reaches state or plan) need Terraform 1.11.
  required_version = ">= 1.11.0"

  # This root's own state lives in the bucket it creates (key bootstrap/state-bucket.tfstate):
  # ./inv state-bucket applies it once with local state in a temporary folder, then pushes that state
  # into the new bucket; every later run uses the bucket.
  backend "s3" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

terraform {
  # Write-only arguments (the SSE-C key never reaches state or plan) need Terraform 1.11.
  required_version = ">= 1.11.0"

  # The version this project ran (README: "Provider versions"); the modules accept a range.
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

terraform {
  # Write-only arguments (the SSE-C key never reaches state or plan) need Terraform 1.11.
  required_version = ">= 1.11.0"

  # Shared state with locking: ./inv state-bucket creates the bucket and writes the settings to
  # backend.s3.tfbackend (git-ignored); ./inv init adds the key (one per region). Partial on purpose:
  # the bucket is per account. For local state instead, see the README ("Remote state").
  backend "s3" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

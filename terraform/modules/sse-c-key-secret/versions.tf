terraform {
  # Ephemeral resources need 1.10, write-only arguments 1.11.
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.88.0, < 7.0.0" # secret_string_wo
    }
  }
}

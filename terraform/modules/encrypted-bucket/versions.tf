terraform {
  # terraform_data needs 1.4; the project as a whole needs 1.11 (write-only arguments).
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.4.0" # aws:kms:dsse
    }
  }
}

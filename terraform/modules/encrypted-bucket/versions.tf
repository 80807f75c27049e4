terraform {
  # terraform_data needs 1.4; the project as a whole needs 1.11 (write-only arguments).
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # >= 5.4: aws:kms:dsse. < 7: the next major release, never run. Not 6.22.x to 6.39.x: they know
      # rule.blocked_encryption_types as Optional only, so the value the helper sets shows as a diff in
      # every plan (hashicorp/terraform-provider-aws#47320, fixed in 6.40 by #47359). README: Provider versions.
      version = ">= 5.4.0, != 6.22.0, != 6.22.1, != 6.23.0, != 6.24.0, != 6.25.0, != 6.26.0, != 6.27.0, != 6.28.0, != 6.29.0, != 6.30.0, != 6.31.0, != 6.32.0, != 6.32.1, != 6.33.0, != 6.34.0, != 6.35.0, != 6.35.1, != 6.36.0, != 6.37.0, != 6.38.0, != 6.39.0, < 7.0.0"
    }
  }
}

# A real AWS account. Shared by the roots of the aws env (aws-state links to this file): the
# provider, the BlockedEncryptionTypes helper and ./inv act as one principal, given by the identity
# inputs (profile, assume_role_arn) or, with neither, by the standard credential chain.
provider "aws" {
  region              = var.region
  profile             = var.profile
  allowed_account_ids = var.allowed_account_ids

  dynamic "assume_role" {
    for_each = var.assume_role_arn == null ? [] : [var.assume_role_arn]
    content {
      role_arn     = assume_role.value
      session_name = "sse-patterns-terraform"
    }
  }

  default_tags {
    tags = local.tags
  }
}

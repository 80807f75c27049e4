# A real AWS account, with credentials from the standard chain (environment, shared config and
# SSO profiles, instance or container roles). ./inv checks them before running terraform.
provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

# MiniStack, the local AWS emulator started by `./inv emulator.start` (or `./inv up`).
# Its root credentials are the fixed pair test/test: nothing secret.
# TLS: ./inv sets AWS_CA_BUNDLE to a bundle that trusts the emulator's self-signed certificate.
provider "aws" {
  region     = var.region
  access_key = "test"
  secret_key = "test"

  s3_use_path_style       = true
  skip_metadata_api_check = true

  endpoints {
    cloudwatchlogs = var.emulator_endpoint
    iam            = var.emulator_endpoint
    kms            = var.emulator_endpoint
    lambda         = var.emulator_endpoint
    s3             = var.emulator_endpoint
    secretsmanager = var.emulator_endpoint
    sfn            = var.emulator_endpoint
    sts            = var.emulator_endpoint
  }

  default_tags {
    tags = local.tags
  }
}

locals {
  # AES-256 takes a 256-bit key: 32 characters of this alphabet are 32 bytes.
  key_length = 32
}

# Encrypted with the AWS managed key alias/aws/secretsmanager (the default when no key is given),
# as in the walkthrough.
resource "aws_secretsmanager_secret" "this" {
  #checkov:skip=CKV_AWS_149:aws/secretsmanager as in the walkthrough; the project's CMK may only be used through S3 (kms:ViaService)
  #checkov:skip=CKV2_AWS_57:S3 keeps no SSE-C key, so an automatic rotation would orphan every object under the old key; raise key_version instead
  name                    = var.name
  description             = var.description
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

# Secrets Manager generates the key (GetRandomPassword). The value is ephemeral: it reaches
# the write-only argument below and is never stored in the plan or the state.
ephemeral "aws_secretsmanager_random_password" "sse_c_key" {
  password_length            = local.key_length
  exclude_lowercase          = false
  exclude_numbers            = false
  exclude_punctuation        = true
  exclude_uppercase          = true
  include_space              = false
  require_each_included_type = true
}

resource "aws_secretsmanager_secret_version" "this" {
  secret_id                = aws_secretsmanager_secret.this.id
  secret_string_wo         = ephemeral.aws_secretsmanager_random_password.sse_c_key.random_password
  secret_string_wo_version = var.key_version
}

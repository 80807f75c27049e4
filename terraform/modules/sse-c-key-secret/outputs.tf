output "arn" {
  description = "ARN of the secret that holds the SSE-C key."
  value       = aws_secretsmanager_secret.this.arn

  # Consumers read the key: wait until a value is stored.
  depends_on = [aws_secretsmanager_secret_version.this]
}

output "key_length" {
  description = "Length of the generated key in characters (= bytes)."
  value       = local.key_length
}

output "name" {
  description = "Name of the secret."
  value       = aws_secretsmanager_secret.this.name
}

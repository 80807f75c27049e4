# The function's role, inline policy and log group were named `function`, as in the sse-c-lambdas
# module. checkov, scanning a plan, finds each resource's inline skips by type and name alone, so two
# modules with an aws_iam_role.function got each other's (ssepatterns/scan.py): an engine deployed
# before the rename moves them, it does not replace them.
moved {
  from = aws_iam_role.function
  to   = aws_iam_role.reencrypt_function
}

moved {
  from = aws_iam_role_policy.function
  to   = aws_iam_role_policy.reencrypt_function
}

moved {
  from = aws_cloudwatch_log_group.function
  to   = aws_cloudwatch_log_group.reencrypt_function
}

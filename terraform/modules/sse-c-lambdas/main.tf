data "aws_partition" "current" {}

locals {
  handler = "index.lambda_handler"
  environment = {
    BUCKET_NAME = var.bucket_name
    OBJECT_KEY  = var.object_key
    SECRET_ARN  = var.secret_arn
  }
  functions = {
    upload   = { name = var.upload_function_name, package = var.upload_package_path }
    download = { name = var.download_function_name, package = var.download_package_path }
  }
}

# One role for both functions, as in the walkthrough.
resource "aws_iam_role" "function" {
  name               = var.role_name
  assume_role_policy = data.aws_iam_policy_document.assume_by_lambda.json
  tags               = var.tags
}

data "aws_iam_policy_document" "assume_by_lambda" {
  statement {
    sid     = "AssumedByLambda"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }

  # Verification acts as the role to show what it may not do (read another bucket or secret).
  dynamic "statement" {
    for_each = length(var.verifier_principal_arns) > 0 ? [1] : []

    content {
      sid     = "AssumedByVerifier"
      effect  = "Allow"
      actions = ["sts:AssumeRole"]

      principals {
        type        = "AWS"
        identifiers = var.verifier_principal_arns
      }
    }
  }
}

resource "aws_iam_role_policy_attachment" "basic_execution" {
  role       = aws_iam_role.function.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

# Only what the handlers do: read the key, write and read the bucket's objects.
resource "aws_iam_role_policy" "sse_c_access" {
  name   = "sse-c-access"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.sse_c_access.json
}

data "aws_iam_policy_document" "sse_c_access" {
  statement {
    sid       = "ReadTheSseCKey"
    effect    = "Allow"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.secret_arn]
  }

  statement {
    sid       = "WriteAndReadTheObjects"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${var.bucket_arn}/*"]
  }
}

# Created before the functions so that Lambda does not create them without a retention period.
resource "aws_cloudwatch_log_group" "function" {
  for_each          = local.functions
  name              = "/aws/lambda/${each.value.name}"
  retention_in_days = var.log_retention_in_days
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  for_each         = local.functions
  function_name    = each.value.name
  role             = aws_iam_role.function.arn
  handler          = local.handler
  runtime          = var.runtime
  architectures    = [var.architecture]
  filename         = each.value.package
  source_code_hash = filebase64sha256(each.value.package)
  memory_size      = var.memory_size
  timeout          = var.timeout
  tags             = var.tags

  environment {
    variables = local.environment
  }

  depends_on = [
    aws_cloudwatch_log_group.function,
    aws_iam_role_policy.sse_c_access,
    aws_iam_role_policy_attachment.basic_execution,
  ]
}

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

# Only what the handlers do: read the key (GetSecretValue also covers reading a given version),
# write and read the bucket's objects and their key-version tags.
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

  # The object tag records which secret version encrypts an object (written with the object,
  # read before it), so downloads find the right key, during a key rotation too.
  statement {
    sid       = "WriteAndReadTheObjectsAndTheirKeyVersionTags"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:GetObjectTagging", "s3:PutObject", "s3:PutObjectTagging"]
    resources = ["${var.bucket_arn}/*"]
  }
}

# Created before the functions so that Lambda does not create them without a retention period.
resource "aws_cloudwatch_log_group" "function" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest anyway, the handlers never log key material, and the project's CMK is for S3 only
  #checkov:skip=CKV_AWS_338:14 days (log_retention_in_days) on purpose for two demonstration functions: a year of logs only adds cost
  for_each          = local.functions
  name              = "/aws/lambda/${each.value.name}"
  retention_in_days = var.log_retention_in_days
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:invoked synchronously (by ./inv verify and by hand); a dead-letter queue only receives failed asynchronous events
  #checkov:skip=CKV_AWS_117:no VPC: the functions only call S3 and Secrets Manager, and a VPC would need NAT or VPC endpoints, at a cost
  #checkov:skip=CKV_AWS_115:reserved concurrency comes out of the account's unreserved pool and fails on accounts with a low concurrency quota
  #checkov:skip=CKV_AWS_272:code signing needs an AWS Signer profile and signed zips; out of scope for two demonstration functions
  #checkov:skip=CKV_AWS_173:no secret in the environment (bucket name, object key, secret ARN): the key is read from Secrets Manager at run time
  #checkov:skip=CKV_AWS_50:X-Ray would add xray:PutTraceSegments to a role kept to exactly what the handlers do; out of scope here
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

# A non-root principal for everything that checks behaviour. MiniStack's root caller bypasses
# IAM and bucket policies, so checks made as root would prove nothing; on AWS the checks run
# with the caller's own credentials. Its access key lives in this env's state: that is an
# emulator credential, never a real one.

resource "aws_iam_user" "operator" {
  #checkov:skip=CKV_AWS_273:local env only: a test principal on the emulator, which has no SSO and whose root user bypasses every policy
  name = "${var.prefix}-operator"
}

resource "aws_iam_access_key" "operator" {
  user = aws_iam_user.operator.name
}

resource "aws_iam_user_policy" "operator" {
  #checkov:skip=CKV_AWS_40:the one emulator-only test user; a group would add two resources without changing what it may do
  name   = "sse-patterns-operator"
  user   = aws_iam_user.operator.name
  policy = data.aws_iam_policy_document.operator.json
}

locals {
  stack       = module.sse_patterns
  bucket_arns = [for b in local.stack.buckets : b.arn]
}

data "aws_iam_policy_document" "operator" {
  statement {
    sid    = "UseTheBuckets"
    effect = "Allow"
    # GetBucketVersioning and ListBucketVersions: a rotation looks for noncurrent versions under the old
    # key before it retires it (ssepatterns/reencrypt/versioned.py).
    actions = [
      "s3:GetBucketPolicy", "s3:GetBucketVersioning", "s3:GetEncryptionConfiguration", "s3:ListBucket",
      "s3:ListBucketVersions",
    ]
    resources = local.bucket_arns
  }

  statement {
    sid    = "UseTheObjects"
    effect = "Allow"
    # AbortMultipartUpload: a multipart copy that fails is aborted; GetObjectVersionTagging: the key
    # version of a noncurrent version.
    actions = [
      "s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:GetObjectTagging",
      "s3:GetObjectVersionTagging", "s3:PutObject", "s3:PutObjectTagging",
    ]
    resources = [for arn in local.bucket_arns : "${arn}/*"]
  }

  # Reading the key, and rotating it (./inv rotate-sse-c-key): a new version, its staging labels.
  statement {
    sid    = "ReadAndRotateTheSseCKey"
    effect = "Allow"
    actions = [
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetSecretValue",
      "secretsmanager:ListSecretVersionIds",
      "secretsmanager:PutSecretValue",
      "secretsmanager:UpdateSecretVersionStage",
    ]
    resources = [local.stack.sse_c_key_secret.arn]
  }

  statement {
    sid     = "GenerateKeys"
    effect  = "Allow"
    actions = ["secretsmanager:GetRandomPassword"]
    # GetRandomPassword touches no resource: IAM accepts only "*" for it.
    resources = ["*"]
  }

  statement {
    sid       = "InvokeTheFunctions"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = [local.stack.functions.upload_arn, local.stack.functions.download_arn]
  }

  statement {
    sid       = "ActAsTheFunctionRole"
    effect    = "Allow"
    actions   = ["sts:AssumeRole"]
    resources = [local.stack.functions.role_arn]
  }

  # --engine stepfunctions: start the re-encryption state machine and follow its executions and map
  # runs (ssepatterns/reencrypt/stepfunctions.py), when it is deployed.
  dynamic "statement" {
    for_each = local.stack.reencrypt_engine == null ? [] : [local.stack.reencrypt_engine.state_machine_arn]

    content {
      sid     = "RunTheReencryptionEngine"
      effect  = "Allow"
      actions = ["states:DescribeExecution", "states:DescribeMapRun", "states:ListMapRuns", "states:StartExecution"]
      resources = [
        statement.value,
        "${replace(statement.value, ":stateMachine:", ":execution:")}:*",
        "${replace(statement.value, ":stateMachine:", ":mapRun:")}/*",
      ]
    }
  }

  statement {
    sid       = "InspectTheKey"
    effect    = "Allow"
    actions   = ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus"]
    resources = [local.stack.customer_managed_key.arn]
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.id
  # The source bucket's name, for the Map's ItemReader (ListObjectsV2 takes a name, not an ARN).
  source_bucket_name = split(":::", var.source_bucket_arn)[1]
  object_arns        = [for arn in concat([var.source_bucket_arn], var.destination_bucket_arns) : "${arn}/*"]
  # Built from the name, not from the resource: the state machine's own role names it (child
  # workflow executions of the Distributed Map), and the resource depends on that role.
  state_machine_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${var.state_machine_name}"
  # From the name too, so that the definition and the policy that names the function are known at
  # plan (the plan tests read them); the state machine depends on the function explicitly.
  function_arn = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.function_name}"

  # One Distributed Map over the source bucket's listing: each child workflow invokes the function
  # with one batch of objects, and returns the batch's counts (never key material). The execution's
  # input is {"job": <Job.to_dict()>, "prefix": "<prefix>"}; each item carries the job, since the
  # function is stateless and MiniStack has no ItemBatcher (docs/emulator.md).
  definition = {
    Comment = "Re-encrypt the SSE-C objects under a prefix of ${local.source_bucket_name} (ssepatterns/reencrypt/stepfunctions.py starts it)"
    StartAt = "ReEncryptObjects"
    States = {
      ReEncryptObjects = {
        Type           = "Map"
        Label          = "ReEncryptObjects"
        MaxConcurrency = var.max_concurrency
        ItemReader = {
          Resource = "arn:${local.partition}:states:::s3:listObjectsV2"
          Parameters = {
            Bucket     = local.source_bucket_name
            "Prefix.$" = "$.prefix"
          }
        }
        ItemSelector = {
          "Key.$"  = "$$.Map.Item.Value.Key"
          "Size.$" = "$$.Map.Item.Value.Size"
          "Etag.$" = "$$.Map.Item.Value.Etag"
          "job.$"  = "$.job"
        }
        ItemBatcher = {
          MaxItemsPerBatch = var.max_items_per_batch
        }
        ItemProcessor = {
          ProcessorConfig = {
            Mode          = "DISTRIBUTED"
            ExecutionType = "STANDARD"
          }
          StartAt = "ReEncryptBatch"
          States = {
            ReEncryptBatch = {
              Type     = "Task"
              Resource = "arn:${local.partition}:states:::lambda:invoke"
              Parameters = {
                FunctionName = local.function_arn
                "Payload.$"  = "$"
              }
              OutputPath = "$.Payload"
              Retry = [
                {
                  ErrorEquals     = ["Lambda.TooManyRequestsException", "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException"]
                  IntervalSeconds = 2
                  MaxAttempts     = 6
                  BackoffRate     = 2
                  JitterStrategy  = "FULL"
                },
              ]
              End = true
            }
          }
        }
        End = true
      }
    }
  }
}

# --- the function ------------------------------------------------------------------------------

resource "aws_iam_role" "reencrypt_function" {
  name               = var.function_role_name
  assume_role_policy = data.aws_iam_policy_document.assume_by_reencrypt_function.json
  tags               = var.tags
}

data "aws_iam_policy_document" "assume_by_reencrypt_function" {
  statement {
    sid     = "AssumedByLambda"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "reencrypt_function" {
  name   = "sse-c-reencrypt"
  role   = aws_iam_role.reencrypt_function.id
  policy = data.aws_iam_policy_document.reencrypt_function.json
}

# Exactly what sse_c_reencrypt.process does with the items it is given: no listing (the Map lists).
data "aws_iam_policy_document" "reencrypt_function" {
  statement {
    sid       = "ReadTheSseCKeyVersions"
    effect    = "Allow"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.secret_arn]
  }

  # Copy (CopyObject, or UploadPartCopy for large objects: s3:GetObject on the source, s3:PutObject
  # on the destination), read and write the key-version and migration tags.
  statement {
    sid       = "CopyTheObjectsAndTheirTags"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:GetObjectTagging", "s3:PutObject", "s3:PutObjectTagging"]
    resources = local.object_arns
  }

  # A migration with delete_source deletes a source object once its copy is verified.
  dynamic "statement" {
    for_each = var.allow_delete_source ? [1] : []

    content {
      sid       = "DeleteMigratedSourceObjects"
      effect    = "Allow"
      actions   = ["s3:DeleteObject"]
      resources = ["${var.source_bucket_arn}/*"]
    }
  }

  # S3 calls KMS as the caller for a destination whose default encryption is SSE-KMS with the CMK.
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [1]

    content {
      sid       = "UseTheCmkThroughS3"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [var.kms_key_arn]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.${data.aws_partition.current.dns_suffix}"]
      }
    }
  }

  statement {
    sid       = "WriteItsOwnLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.reencrypt_function.arn}:*"]
  }
}

# Created before the function so that Lambda does not create it without a retention period.
resource "aws_cloudwatch_log_group" "reencrypt_function" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest anyway, the handler never logs key material, and the project's CMK is for S3 only
  #checkov:skip=CKV_AWS_338:retention (log_retention_in_days, 14 by default) as the project's other log groups: a year of logs only adds cost
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_in_days
  tags              = var.tags
}

resource "aws_lambda_function" "reencrypt" {
  #checkov:skip=CKV_AWS_116:invoked synchronously by the state machine (lambda:invoke), which retries; a dead-letter queue only receives failed asynchronous events
  #checkov:skip=CKV_AWS_117:no VPC: the function only calls S3 and Secrets Manager, and a VPC would need NAT or VPC endpoints, at a cost
  #checkov:skip=CKV_AWS_115:concurrency is bounded by the map's MaxConcurrency; reserved concurrency comes out of the account's unreserved pool and fails on accounts with a low quota
  #checkov:skip=CKV_AWS_272:code signing needs an AWS Signer profile and signed zips; out of scope here, as for the other functions
  #checkov:skip=CKV_AWS_173:no secret in the environment (the secret's ARN only): the keys are read from Secrets Manager at run time
  #checkov:skip=CKV_AWS_50:X-Ray would add xray:PutTraceSegments to a role kept to exactly what the handler does; out of scope here
  function_name    = var.function_name
  role             = aws_iam_role.reencrypt_function.arn
  handler          = "index.lambda_handler"
  runtime          = var.runtime
  architectures    = [var.architecture]
  filename         = var.package_path
  source_code_hash = filebase64sha256(var.package_path)
  memory_size      = var.memory_size
  timeout          = var.timeout
  tags             = var.tags

  environment {
    variables = {
      SECRET_ARN = var.secret_arn
    }
  }

  depends_on = [aws_cloudwatch_log_group.reencrypt_function, aws_iam_role_policy.reencrypt_function]
}

# --- the state machine -------------------------------------------------------------------------

resource "aws_iam_role" "state_machine" {
  name               = var.state_machine_role_name
  assume_role_policy = data.aws_iam_policy_document.assume_by_step_functions.json
  tags               = var.tags
}

data "aws_iam_policy_document" "assume_by_step_functions" {
  statement {
    sid     = "AssumedByStepFunctions"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    # Only for this account's state machines (the confused-deputy guard AWS documents).
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "sse-c-reencrypt-map"
  role   = aws_iam_role.state_machine.id
  policy = data.aws_iam_policy_document.state_machine.json
}

data "aws_iam_policy_document" "state_machine" {
  statement {
    sid       = "InvokeTheReEncryptionFunction"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = [local.function_arn, "${local.function_arn}:*"]
  }

  # The ItemReader's ListObjectsV2 (s3:ListBucket is the bucket-level action that authorizes it).
  statement {
    sid       = "ListTheSourceBucket"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [var.source_bucket_arn]
  }

  # A Distributed Map runs each batch as a child workflow execution of this state machine.
  statement {
    sid       = "RunTheMapsChildWorkflows"
    effect    = "Allow"
    actions   = ["states:StartExecution"]
    resources = [local.state_machine_arn]
  }

  statement {
    sid       = "ManageTheMapsChildWorkflows"
    effect    = "Allow"
    actions   = ["states:DescribeExecution", "states:StopExecution"]
    resources = ["arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${var.state_machine_name}/*"]
  }

  # Log delivery to CloudWatch Logs: these actions support no resource-level permission, so IAM
  # accepts only "*" as their resource (AWS: "IAM policies for CloudWatch Logs" of Step Functions).
  statement {
    sid    = "DeliverTheStateMachinesLogs"
    effect = "Allow"
    actions = [
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DescribeLogGroups",
      "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:UpdateLogDelivery",
    ]
    resources = ["*"]
  }
}

resource "aws_cloudwatch_log_group" "state_machine" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest anyway, execution data is not logged (include_execution_data = false), and the project's CMK is for S3 only
  #checkov:skip=CKV_AWS_338:retention (log_retention_in_days, 14 by default) as the project's other log groups: a year of logs only adds cost
  name              = "/aws/vendedlogs/states/${var.state_machine_name}"
  retention_in_days = var.log_retention_in_days
  tags              = var.tags
}

resource "aws_sfn_state_machine" "reencrypt" {
  #checkov:skip=CKV_AWS_285:execution data (object names, the job) stays out of the logs on purpose; the execution history keeps it, and the driver reports the counts
  #checkov:skip=CKV_AWS_284:X-Ray tracing would add xray:PutTraceSegments and xray:GetSamplingRules on * to a role kept to what the map does; the execution's map run counts are the progress
  name       = var.state_machine_name
  type       = "STANDARD"
  role_arn   = aws_iam_role.state_machine.arn
  definition = jsonencode(local.definition)
  tags       = var.tags

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = false # object names and the job stay out of the logs
    level                  = "ERROR"
  }

  depends_on = [aws_iam_role_policy.state_machine, aws_lambda_function.reencrypt]
}

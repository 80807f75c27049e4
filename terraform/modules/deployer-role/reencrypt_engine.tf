# With allow_reencrypt_engine: what deploying the opt-in re-encryption engine adds
# (terraform/modules/sse-c-reencrypt, enable_reencrypt_engine = true): its state machine, the role
# Step Functions assumes, the state machine's log group, and the log delivery Step Functions logging
# requires. A separate inline policy, so a deployer of the default stack has none of it.
resource "aws_iam_role_policy" "reencrypt_engine" {
  count = var.allow_reencrypt_engine ? 1 : 0

  name   = "deploy-${var.prefix}-reencrypt-engine"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.reencrypt_engine.json
}

data "aws_iam_policy_document" "reencrypt_engine" {
  statement {
    sid    = "StateMachine"
    effect = "Allow"
    actions = [
      "states:CreateStateMachine",
      "states:DeleteStateMachine",
      "states:DescribeStateMachine",
      "states:ListStateMachineVersions",
      "states:ListTagsForResource",
      "states:TagResource",
      "states:UntagResource",
      "states:UpdateStateMachine",
    ]
    resources = ["arn:${data.aws_partition.current.partition}:states:*:${data.aws_caller_identity.current.account_id}:stateMachine:${var.prefix}-*"]
  }

  # ./inv rotate-sse-c-key / migrate-sse-c --engine stepfunctions and ./inv verify, as this role: start
  # the engine and follow its executions and map runs.
  statement {
    sid     = "RunTheEngine"
    effect  = "Allow"
    actions = ["states:DescribeExecution", "states:DescribeMapRun", "states:ListMapRuns", "states:StartExecution"]
    resources = [
      "arn:${data.aws_partition.current.partition}:states:*:${data.aws_caller_identity.current.account_id}:stateMachine:${var.prefix}-*",
      "arn:${data.aws_partition.current.partition}:states:*:${data.aws_caller_identity.current.account_id}:execution:${var.prefix}-*:*",
      "arn:${data.aws_partition.current.partition}:states:*:${data.aws_caller_identity.current.account_id}:mapRun:${var.prefix}-*/*",
    ]
  }

  # The provider validates the definition at plan; AWS defines no resource for this action, nor for
  # the CloudWatch Logs delivery actions that Step Functions logging needs of whoever configures it.
  statement {
    sid    = "NoResourceLevelPermissions"
    effect = "Allow"
    actions = [
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:UpdateLogDelivery",
      "states:ValidateStateMachineDefinition",
    ]
    resources = ["*"]
  }

  statement {
    sid    = "StateMachineLogGroup"
    effect = "Allow"
    actions = [
      "logs:CreateLogGroup",
      "logs:DeleteLogGroup",
      "logs:ListTagsForResource",
      "logs:ListTagsLogGroup",
      "logs:PutRetentionPolicy",
      "logs:TagLogGroup",
      "logs:TagResource",
      "logs:UntagResource",
    ]
    resources = ["arn:${data.aws_partition.current.partition}:logs:*:${data.aws_caller_identity.current.account_id}:log-group:/aws/vendedlogs/states/${var.prefix}-*"]
  }

  statement {
    sid       = "PassTheEngineRoleToStepFunctions"
    effect    = "Allow"
    actions   = ["iam:PassRole"]
    resources = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:role/${var.prefix}-*"]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["states.amazonaws.com"]
    }
  }
}

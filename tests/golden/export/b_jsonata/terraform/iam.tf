# The IAM roles of sfnecs stack 'nightly' (pattern B), from `sfnecs export`.
# The same StackSpec and builders as `sfnecs apply`: regenerate rather than edit by hand.
resource "aws_iam_role" "sfn" {
  name        = "nightly-sfn"
  description = "sfnecs stack nightly"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "TrustStepFunctionsForThisStateMachine"
        Effect = "Allow"
        Principal = {
          Service = "states.amazonaws.com"
        }
        Action = ["sts:AssumeRole"]
        Condition = {
          ArnLike = {
            "aws:SourceArn" = [
              "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:nightly",
              "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:nightly:*",
            ]
          }
          StringEquals = {
            "aws:SourceAccount" = local.account_id
          }
        }
      },
    ]
  })
  tags = local.tags
}

resource "aws_iam_role_policy" "sfn" {
  name = "sfnecs"
  role = aws_iam_role.sfn.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "RunTaskFamilyInStackCluster"
        Effect = "Allow"
        Action = ["ecs:RunTask"]
        Resource = [
          "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/nightly-job:*",
        ]
        Condition = {
          ArnEquals = {
            "ecs:cluster" = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:cluster/nightly"
          }
        }
      },
      {
        Sid      = "StopAndDescribeTasksInStackCluster"
        Effect   = "Allow"
        Action   = ["ecs:DescribeTasks", "ecs:StopTask"]
        Resource = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/nightly/*"]
      },
      {
        Sid    = "SyncRuleManagedByStepFunctions"
        Effect = "Allow"
        Action = ["events:DescribeRule", "events:PutRule", "events:PutTargets"]
        Resource = [
          "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/StepFunctionsGetEventsForECSTaskRule",
        ]
      },
      {
        Sid    = "PassTaskAndExecutionRolesToEcsTasks"
        Effect = "Allow"
        Action = ["iam:PassRole"]
        Resource = [
          "arn:${local.partition}:iam::${local.account_id}:role/nightly-task",
          "arn:${local.partition}:iam::${local.account_id}:role/nightly-task-exec",
        ]
        Condition = {
          StringEquals = {
            "iam:PassedToService" = "ecs-tasks.amazonaws.com"
          }
        }
      },
      {
        Sid      = "PublishRunNotifications"
        Effect   = "Allow"
        Action   = ["sns:Publish"]
        Resource = ["arn:${local.partition}:sns:${local.region}:${local.account_id}:nightly-alerts"]
      },
      {
        Sid      = "GuardListsOwnExecutions"
        Effect   = "Allow"
        Action   = ["states:ListExecutions"]
        Resource = ["arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:nightly"]
      },
      {
        Sid    = "LogDeliveryApisTakeNoResourceArn"
        Effect = "Allow"
        Action = [
          "logs:CreateLogDelivery",
          "logs:DeleteLogDelivery",
          "logs:DescribeLogGroups",
          "logs:DescribeResourcePolicies",
          "logs:GetLogDelivery",
          "logs:ListLogDeliveries",
          "logs:PutResourcePolicy",
          "logs:UpdateLogDelivery",
        ]
        Resource = ["*"]
      },
    ]
  })
}

resource "aws_iam_role" "scheduler" {
  name        = "nightly-scheduler"
  description = "sfnecs stack nightly"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "TrustSchedulerForThisScheduleGroup"
        Effect = "Allow"
        Principal = {
          Service = "scheduler.amazonaws.com"
        }
        Action = ["sts:AssumeRole"]
        Condition = {
          ArnLike = {
            "aws:SourceArn" = "arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule-group/nightly"
          }
          StringEquals = {
            "aws:SourceAccount" = local.account_id
          }
        }
      },
    ]
  })
  tags = local.tags
}

resource "aws_iam_role_policy" "scheduler" {
  name = "sfnecs"
  role = aws_iam_role.scheduler.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "StartStackStateMachine"
        Effect   = "Allow"
        Action   = ["states:StartExecution"]
        Resource = ["arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:nightly"]
      },
      {
        Sid      = "SendUndeliveredToDeadLetterQueue"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = ["arn:${local.partition}:sqs:${local.region}:${local.account_id}:nightly-dlq"]
      },
    ]
  })
}

resource "aws_iam_role" "task" {
  name        = "nightly-task"
  description = "sfnecs stack nightly"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "TrustEcsTasksOfThisAccount"
        Effect = "Allow"
        Principal = {
          Service = "ecs-tasks.amazonaws.com"
        }
        Action = ["sts:AssumeRole"]
        Condition = {
          ArnLike = {
            "aws:SourceArn" = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:*"
          }
          StringEquals = {
            "aws:SourceAccount" = local.account_id
          }
        }
      },
    ]
  })
  tags = local.tags
}

resource "aws_iam_role" "execution" {
  name        = "nightly-task-exec"
  description = "sfnecs stack nightly"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "TrustEcsTasksToPullAndLog"
        Effect = "Allow"
        Principal = {
          Service = "ecs-tasks.amazonaws.com"
        }
        Action = ["sts:AssumeRole"]
      },
    ]
  })
  tags = local.tags
}

resource "aws_iam_role_policy" "execution" {
  name = "sfnecs"
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "PullStackImageLayers"
        Effect   = "Allow"
        Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        Resource = ["arn:${local.partition}:ecr:${local.region}:${local.account_id}:repository/nightly"]
      },
      {
        Sid      = "EcrAuthTokenIsAccountWide"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = ["*"]
      },
      {
        Sid      = "WriteTaskLogsToStackLogGroup"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/ecs/nightly:*"]
      },
    ]
  })
}

# The resources of sfnecs stack 'nightly' (pattern A), from `sfnecs export`.
# The same StackSpec and builders as `sfnecs apply`: regenerate rather than edit by hand.
data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  image      = var.image != "" ? var.image : "${aws_ecr_repository.job.repository_url}:latest"
  # every resource that takes tags carries sfnecs:stack: what lacks it, sfnecs never changes
  tags = {
    "sfnecs:stack" = "nightly"
    team           = "data"
  }
}

resource "aws_cloudwatch_log_group" "job" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts log data at rest by default; a customer-managed key would need a key policy for the logs service and is not needed for a job's own output
  #checkov:skip=CKV_AWS_338:retention is the StackSpec's log_retention_days (30 by default): job output for debugging, not an audit trail; raise it in the spec where a policy asks for a year
  name              = "/ecs/nightly"
  retention_in_days = 30
  skip_destroy      = true
  tags              = local.tags
}

resource "aws_ecr_repository" "job" {
  #checkov:skip=CKV_AWS_136:ECR encrypts images at rest with AES-256 by default; a KMS key adds a key policy and cost for no protection this job's image needs
  #checkov:skip=CKV_AWS_163:image scanning is an account setting (registry scanning configuration, basic or Inspector), which overrides a repository's scan-on-push; the stack does not own the registry
  #checkov:skip=CKV_AWS_51:the task definition runs the tag `latest`, which each push moves: immutable tags would refuse the second push; pin a digest in the spec's image for immutability
  name = "nightly"
  tags = local.tags
}

resource "aws_ecs_cluster" "job" {
  #checkov:skip=CKV_AWS_65:Container Insights is billed per metric; a scheduled job is watched by the stack's alarms, notifications and logs
  name = "nightly"
  tags = local.tags
}

resource "aws_ecs_cluster_capacity_providers" "job" {
  cluster_name       = aws_ecs_cluster.job.name
  capacity_providers = ["FARGATE_SPOT"]
}

resource "aws_sqs_queue" "dead_letter" {
  name                      = "nightly-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = local.tags
}

resource "aws_sns_topic" "alerts" {
  #checkov:skip=CKV_AWS_26:the topic carries run notifications (names, states), no secrets; the AWS managed key aws/sns cannot be used by CloudWatch alarms and EventBridge, which publish to it
  name = "nightly-alerts"
  tags = local.tags
}

resource "aws_sns_topic_subscription" "alerts_email" {
  # the recipient must confirm by e-mail before anything is delivered (SNS developer guide)
  count     = var.notify_email == "" ? 0 : 1
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.notify_email
}

resource "aws_sns_topic_policy" "alerts" {
  arn = aws_sns_topic.alerts.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Id      = "nightly-alerts"
    Statement = [
      {
        Sid    = "TaskFailureRule"
        Effect = "Allow"
        Principal = {
          Service = "events.amazonaws.com"
        }
        Action   = "sns:Publish"
        Resource = aws_sns_topic.alerts.arn
        Condition = {
          ArnEquals = {
            "aws:SourceArn" = "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/nightly-task-failed"
          }
        }
      },
      {
        Sid    = "StackAlarms"
        Effect = "Allow"
        Principal = {
          Service = "cloudwatch.amazonaws.com"
        }
        Action   = "sns:Publish"
        Resource = aws_sns_topic.alerts.arn
        Condition = {
          ArnEquals = {
            "aws:SourceArn" = [
              "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:nightly-dlq-messages",
            ]
          }
          StringEquals = {
            "aws:SourceAccount" = local.account_id
          }
        }
      },
    ]
  })
}

resource "aws_ecs_task_definition" "job" {
  #checkov:skip=CKV_AWS_336:the job's image decides where it writes (e.g. /tmp); a read-only root filesystem breaks images not built for it
  family                   = "nightly-job"
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions = jsonencode([
    {
      name      = "job"
      image     = local.image
      essential = true
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.job.name
          awslogs-region        = local.region
          awslogs-stream-prefix = "nightly"
        }
      }
    },
  ])
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "ARM64"
  }
  tags = local.tags
}

resource "aws_scheduler_schedule_group" "job" {
  name = "nightly"
  tags = local.tags
}

resource "aws_scheduler_schedule" "job" {
  #checkov:skip=CKV_AWS_297:the schedule holds no secret (its input is the scheduled time); the Scheduler encrypts it with an AWS owned key
  name                         = "nightly"
  group_name                   = aws_scheduler_schedule_group.job.name
  description                  = "sfnecs stack nightly (pattern A)"
  schedule_expression          = "cron(0 3 * * ? *)"
  schedule_expression_timezone = "Asia/Tokyo"
  state                        = "ENABLED"
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = aws_ecs_cluster.job.arn
    role_arn = aws_iam_role.scheduler.arn
    dead_letter_config {
      arn = aws_sqs_queue.dead_letter.arn
    }
    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 2
    }
    ecs_parameters {
      task_definition_arn = aws_ecs_task_definition.job.arn
      task_count          = 1
      capacity_provider_strategy {
        capacity_provider = "FARGATE_SPOT"
        weight            = 1
        base              = 0
      }
      network_configuration {
        subnets          = var.subnets
        security_groups  = var.security_groups
        assign_public_ip = false
      }
      propagate_tags          = "TASK_DEFINITION"
      enable_ecs_managed_tags = true
    }
  }
}

resource "aws_cloudwatch_event_rule" "task_failed" {
  name        = "nightly-task-failed"
  description = "sfnecs nightly: tasks of nightly-job that stop without a clean exit -> alert topic"
  state       = "ENABLED"
  event_pattern = jsonencode({
    detail = {
      "$or" = [
        {
          stopCode = [
            {
              anything-but = "EssentialContainerExited"
            },
          ]
        },
        {
          containers = {
            exitCode = [
              {
                anything-but = 0
              },
            ]
          }
        },
        {
          containers = {
            exitCode = [
              {
                exists = false
              },
            ]
          }
        },
      ]
      clusterArn = [aws_ecs_cluster.job.arn]
      lastStatus = ["STOPPED"]
      taskDefinitionArn = [
        {
          prefix = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/nightly-job:"
        },
      ]
    }
    detail-type = ["ECS Task State Change"]
    source      = ["aws.ecs"]
  })
  tags = local.tags
}

resource "aws_cloudwatch_event_target" "task_failed" {
  rule      = aws_cloudwatch_event_rule.task_failed.name
  target_id = "alert-topic"
  arn       = aws_sns_topic.alerts.arn
  input_transformer {
    input_paths = {
      task            = "$.detail.taskArn"
      stopCode        = "$.detail.stopCode"
      reason          = "$.detail.stoppedReason"
      exitCode        = "$.detail.containers[0].exitCode"
      container       = "$.detail.containers[0].name"
      containerReason = "$.detail.containers[0].reason"
      startedBy       = "$.detail.startedBy"
      stoppedAt       = "$.detail.stoppedAt"
      taskDefinition  = "$.detail.taskDefinitionArn"
    }
    input_template = "\"sfnecs stack nightly: a job task stopped without a clean exit. Stop code: <stopCode>. Reason: <reason>. Exit code of <container>: <exitCode>. <containerReason> Stopped at <stoppedAt>, started by <startedBy>. Task: <task> (<taskDefinition>). Open the task within the hour: https://${local.region}.console.aws.amazon.com/ecs/v2/clusters/nightly/tasks?region=${local.region} ; its logs: https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#logsV2:log-groups/log-group/$252Fecs$252Fnightly ; or run: sfnecs runbook run diagnose -p stack nightly -p run_arn <task>\""
  }
}

resource "aws_cloudwatch_metric_alarm" "dlq_messages" {
  alarm_name        = "nightly-dlq-messages"
  alarm_description = "sfnecs nightly: the schedule could not start a run (a message is in its dead-letter queue nightly-dlq: read its ERROR_CODE and ERROR_MESSAGE attributes)"
  actions_enabled   = true
  alarm_actions     = [aws_sns_topic.alerts.arn]
  namespace         = "AWS/SQS"
  metric_name       = "ApproximateNumberOfMessagesVisible"
  dimensions = {
    QueueName = "nightly-dlq"
  }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  threshold           = 0.0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  tags                = local.tags
}

# The resources of sfnecs stack 'nightly' (pattern B), from `sfnecs export`.
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

resource "aws_cloudwatch_log_group" "state_machine" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts log data at rest by default; a customer-managed key would need a key policy for the logs service and is not needed for a job's own output
  #checkov:skip=CKV_AWS_338:retention is the StackSpec's log_retention_days (30 by default): job output for debugging, not an audit trail; raise it in the spec where a policy asks for a year
  name              = "/aws/vendedlogs/states/nightly"
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
              "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:nightly-executions-aborted",
              "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:nightly-executions-failed",
              "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:nightly-executions-timed-out",
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
    cpu_architecture        = "X86_64"
  }
  tags = local.tags
}

resource "aws_sfn_state_machine" "job" {
  #checkov:skip=CKV_AWS_284:its one Task waits for an ECS task (.sync): the execution history and CloudWatch Logs show every step, and an X-Ray trace would stop at the ECS boundary
  name     = "nightly"
  role_arn = aws_iam_role.sfn.arn
  type     = "STANDARD"
  definition = jsonencode({
    Comment        = "sfnecs stack nightly: run the ECS task nightly-job on Fargate and wait for it (pattern B, built by sfnecs.statemachine)"
    QueryLanguage  = "JSONata"
    StartAt        = "CheckRunning"
    TimeoutSeconds = 7200
    States = {
      CheckRunning = {
        Type     = "Task"
        Comment  = "Overlap guard: the RUNNING executions of this state machine, this one included (ListExecutions lists the most recent first and is eventually consistent)."
        Resource = "arn:${local.partition}:states:::aws-sdk:sfn:listExecutions"
        Arguments = {
          StateMachineArn = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:nightly"
          StatusFilter    = "RUNNING"
          MaxResults      = 100
        }
        Output = {
          count   = "{% $count($states.result.Executions) %}"
          running = "{% [$states.result.Executions.Name] %}"
          oldest  = "{% $count($states.result.Executions) > 0 ? $states.result.Executions[-1].ExecutionArn : null %}"
        }
        Retry = [
          {
            ErrorEquals     = ["States.TaskFailed"]
            IntervalSeconds = 2
            MaxAttempts     = 3
            BackoffRate     = 2.0
            JitterStrategy  = "FULL"
          },
        ]
        Catch = [
          {
            ErrorEquals = ["States.ALL"]
            Output      = "{% $states.errorOutput %}"
            Next        = "NotifyFailure"
          },
        ]
        Next = "AlreadyRunning?"
      }
      "AlreadyRunning?" = {
        Type    = "Choice"
        Comment = "Skip unless this is the oldest RUNNING execution. Not 'more than one RUNNING': two executions started together (a duplicate delivery) would both skip, and an execution not yet listed (eventual consistency) would start beside a running one."
        Choices = [
          {
            Condition = "{% $states.input.count > 0 and $states.input.oldest != $states.context.Execution.Id %}"
            Next      = "SkippedOverlap"
          },
        ]
        Default = "RunJob"
      }
      SkippedOverlap = {
        Type    = "Succeed"
        Comment = "Nothing ran: the older execution still owns the job."
        Output = {
          skipped = true
          reason  = "an older execution of this state machine is still RUNNING (overlap guard)"
          running = "{% $states.input.running %}"
          oldest  = "{% $states.input.oldest %}"
        }
      }
      RunJob = {
        Type     = "Task"
        Comment  = "Run the job on Fargate and wait until the task stops (.sync)."
        Resource = "arn:${local.partition}:states:::ecs:runTask.sync"
        Arguments = {
          CapacityProviderStrategy = [
            {
              CapacityProvider = "FARGATE_SPOT"
              Weight           = 1
              Base             = 0
            },
          ]
          Cluster        = aws_ecs_cluster.job.arn
          TaskDefinition = aws_ecs_task_definition.job.arn
          Group          = "{% 'sfnecs:' & $states.context.Execution.Name %}"
          NetworkConfiguration = {
            AwsvpcConfiguration = {
              Subnets        = var.subnets
              SecurityGroups = var.security_groups
              AssignPublicIp = "DISABLED"
            }
          }
          Overrides = {
            ContainerOverrides = "{% [$merge([{'Name': 'job'}, $exists($states.context.Execution.Input.command) ? {'Command': $states.context.Execution.Input.command} : {}, $exists($states.context.Execution.Input.environment) ? {'Environment': $states.context.Execution.Input.environment} : {}])] %}"
          }
        }
        TimeoutSeconds = 3600
        Output = {
          TaskArn       = "{% $states.result.TaskArn %}"
          ExitCode      = "{% $states.result.Containers[Name = 'job'].ExitCode %}"
          StopCode      = "{% $states.result.StopCode %}"
          StoppedReason = "{% $states.result.StoppedReason %}"
          CreatedAt     = "{% $states.result.CreatedAt %}"
          StartedAt     = "{% $states.result.StartedAt %}"
          StoppedAt     = "{% $states.result.StoppedAt %}"
        }
        Retry = [
          {
            ErrorEquals     = ["ECS.AmazonECSException", "AmazonECS.Unknown"]
            IntervalSeconds = 10
            MaxAttempts     = 3
            BackoffRate     = 2.0
            JitterStrategy  = "FULL"
          },
        ]
        Catch = [
          {
            ErrorEquals = ["States.ALL"]
            Output      = "{% $states.errorOutput %}"
            Next        = "NotifyFailure"
          },
        ]
        End = true
      }
      NotifyFailure = {
        Type     = "Task"
        Comment  = "Tell the topic why the run failed, with the cause parsed when it is JSON (the stopped task for States.TaskFailed)."
        Resource = "arn:${local.partition}:states:::sns:publish"
        Arguments = {
          TopicArn = aws_sns_topic.alerts.arn
          Subject  = "sfnecs nightly: job failed"
          Message  = "{% $string({'execution': $states.context.Execution.Id, 'error': $states.input, 'details': ($c := $states.input.Cause; $type($c) = 'string' and $substring($c, 0, 1) = '{' ? $parse($c))}) %}"
        }
        Output = "{% $states.input %}"
        Catch = [
          {
            ErrorEquals = ["States.ALL"]
            Output      = "{% $states.input %}"
            Next        = "Failed"
          },
        ]
        Next = "Failed"
      }
      Failed = {
        Type    = "Fail"
        Comment = "Fail the execution with the original error (prefixed 'sfnecs.') and cause."
        Error   = "{% 'sfnecs.' & $states.input.Error %}"
        Cause   = "{% $exists($states.input.Cause) ? $states.input.Cause : '' %}"
      }
    }
  })
  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = true
    level                  = "ALL"
  }
  tags       = local.tags
  depends_on = [aws_iam_role_policy.sfn]
}

resource "aws_scheduler_schedule_group" "job" {
  name = "nightly"
  tags = local.tags
}

resource "aws_scheduler_schedule" "job" {
  #checkov:skip=CKV_AWS_297:the schedule holds no secret (its input is the scheduled time); the Scheduler encrypts it with an AWS owned key
  name                         = "nightly"
  group_name                   = aws_scheduler_schedule_group.job.name
  description                  = "sfnecs stack nightly (pattern B)"
  schedule_expression          = "cron(0 3 * * ? *)"
  schedule_expression_timezone = "Asia/Tokyo"
  state                        = "ENABLED"
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = aws_sfn_state_machine.job.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = "{\"scheduled_time\": \"<aws.scheduler.scheduled-time>\"}"
    dead_letter_config {
      arn = aws_sqs_queue.dead_letter.arn
    }
    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 2
    }
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

resource "aws_cloudwatch_metric_alarm" "executions_failed" {
  alarm_name        = "nightly-executions-failed"
  alarm_description = "sfnecs nightly: an execution of nightly ended failed (open the state machine's executions in the console, or run sfnecs audit)"
  actions_enabled   = true
  alarm_actions     = [aws_sns_topic.alerts.arn]
  namespace         = "AWS/States"
  metric_name       = "ExecutionsFailed"
  dimensions = {
    StateMachineArn = aws_sfn_state_machine.job.arn
  }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  threshold           = 0.0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "executions_timed_out" {
  alarm_name        = "nightly-executions-timed-out"
  alarm_description = "sfnecs nightly: an execution of nightly ended timed-out (open the state machine's executions in the console, or run sfnecs audit)"
  actions_enabled   = true
  alarm_actions     = [aws_sns_topic.alerts.arn]
  namespace         = "AWS/States"
  metric_name       = "ExecutionsTimedOut"
  dimensions = {
    StateMachineArn = aws_sfn_state_machine.job.arn
  }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  threshold           = 0.0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "executions_aborted" {
  alarm_name        = "nightly-executions-aborted"
  alarm_description = "sfnecs nightly: an execution of nightly ended aborted (open the state machine's executions in the console, or run sfnecs audit)"
  actions_enabled   = true
  alarm_actions     = [aws_sns_topic.alerts.arn]
  namespace         = "AWS/States"
  metric_name       = "ExecutionsAborted"
  dimensions = {
    StateMachineArn = aws_sfn_state_machine.job.arn
  }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  threshold           = 0.0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  tags                = local.tags
}

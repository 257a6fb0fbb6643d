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
    QueryLanguage  = "JSONPath"
    StartAt        = "CheckRunning"
    TimeoutSeconds = 7200
    States = {
      CheckRunning = {
        Type     = "Task"
        Comment  = "Overlap guard: the RUNNING executions of this state machine, this one included (ListExecutions lists the most recent first and is eventually consistent)."
        Resource = "arn:${local.partition}:states:::aws-sdk:sfn:listExecutions"
        Parameters = {
          StateMachineArn = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:nightly"
          StatusFilter    = "RUNNING"
          MaxResults      = 100
        }
        ResultSelector = {
          "count.$"      = "States.ArrayLength($.Executions)"
          "executions.$" = "$.Executions"
        }
        ResultPath = "$.guard"
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
            ResultPath  = "$.error"
            Next        = "CauseIsJson?"
          },
        ]
        Next = "AnyRunning?"
      }
      "AnyRunning?" = {
        Type    = "Choice"
        Comment = "None listed (not even this one, eventual consistency): nothing to wait for."
        Choices = [
          {
            Variable           = "$.guard.count"
            NumericGreaterThan = 0
            Next               = "FindOldest"
          },
        ]
        Default = "OverridesGiven?"
      }
      FindOldest = {
        Type    = "Pass"
        Comment = "The last listed is the oldest (most recent first). An index computed here, not in CheckRunning, because ArrayGetItem fails on an empty list."
        Parameters = {
          "me.$"      = "$$.Execution.Id"
          "oldest.$"  = "States.ArrayGetItem($.guard.executions, States.MathAdd($.guard.count, -1))"
          "running.$" = "$.guard.executions[*].Name"
        }
        ResultPath = "$.guard"
        Next       = "AlreadyRunning?"
      }
      "AlreadyRunning?" = {
        Type    = "Choice"
        Comment = "Skip unless this is the oldest RUNNING execution. Not 'more than one RUNNING': two executions started together (a duplicate delivery) would both skip."
        Choices = [
          {
            Not = {
              Variable         = "$.guard.oldest.ExecutionArn"
              StringEqualsPath = "$.guard.me"
            }
            Next = "SkippedOverlap"
          },
        ]
        Default = "OverridesGiven?"
      }
      SkippedOverlap = {
        Type    = "Pass"
        Comment = "Nothing ran: the older execution still owns the job."
        Parameters = {
          skipped     = true
          reason      = "an older execution of this state machine is still RUNNING (overlap guard)"
          "running.$" = "$.guard.running"
          "oldest.$"  = "$.guard.oldest.ExecutionArn"
        }
        End = true
      }
      "OverridesGiven?" = {
        Type    = "Choice"
        Comment = "What the execution input overrides: its command and environment replace the task definition's; a field it lacks keeps the task definition's value."
        Choices = [
          {
            And = [
              {
                Variable  = "$.command"
                IsPresent = true
              },
              {
                Variable  = "$.environment"
                IsPresent = true
              },
            ]
            Next = "CommandAndEnvironment"
          },
          {
            Variable  = "$.command"
            IsPresent = true
            Next      = "CommandOnly"
          },
          {
            Variable  = "$.environment"
            IsPresent = true
            Next      = "EnvironmentOnly"
          },
        ]
        Default = "NoOverrides"
      }
      CommandAndEnvironment = {
        Type = "Pass"
        Parameters = {
          Name            = "job"
          "Command.$"     = "$.command"
          "Environment.$" = "$.environment"
        }
        ResultPath = "$.override"
        Next       = "RunJob"
      }
      CommandOnly = {
        Type = "Pass"
        Parameters = {
          Name        = "job"
          "Command.$" = "$.command"
        }
        ResultPath = "$.override"
        Next       = "RunJob"
      }
      EnvironmentOnly = {
        Type = "Pass"
        Parameters = {
          Name            = "job"
          "Environment.$" = "$.environment"
        }
        ResultPath = "$.override"
        Next       = "RunJob"
      }
      NoOverrides = {
        Type = "Pass"
        Parameters = {
          Name = "job"
        }
        ResultPath = "$.override"
        Next       = "RunJob"
      }
      RunJob = {
        Type     = "Task"
        Comment  = "Run the job on Fargate and wait until the task stops (.sync)."
        Resource = "arn:${local.partition}:states:::ecs:runTask.sync"
        Parameters = {
          LaunchType     = "FARGATE"
          Cluster        = aws_ecs_cluster.job.arn
          TaskDefinition = aws_ecs_task_definition.job.arn
          "Group.$"      = "States.Format('sfnecs:{}', $$.Execution.Name)"
          NetworkConfiguration = {
            AwsvpcConfiguration = {
              Subnets        = var.subnets
              SecurityGroups = var.security_groups
              AssignPublicIp = "DISABLED"
            }
          }
          Overrides = {
            "ContainerOverrides.$" = "States.Array($.override)"
          }
        }
        TimeoutSeconds = 3600
        ResultSelector = {
          "TaskArn.$"       = "$.TaskArn"
          "ExitCode.$"      = "$.Containers[0].ExitCode"
          "StopCode.$"      = "$.StopCode"
          "StoppedReason.$" = "$.StoppedReason"
          "CreatedAt.$"     = "$.CreatedAt"
          "StartedAt.$"     = "$.StartedAt"
          "StoppedAt.$"     = "$.StoppedAt"
        }
        ResultPath = "$"
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
            ResultPath  = "$.error"
            Next        = "CauseIsJson?"
          },
        ]
        End = true
      }
      "CauseIsJson?" = {
        Type    = "Choice"
        Comment = "A stopped task's cause is JSON; ECS.AmazonECSException, States.Timeout and others give text, on which States.StringToJson would fail with States.Runtime (no Catch catches it); and the ASL specification says an error output only 'usually' has a Cause."
        Choices = [
          {
            Not = {
              Variable  = "$.error.Cause"
              IsPresent = true
            }
            Next = "NoCause"
          },
          {
            Variable      = "$.error.Cause"
            StringMatches = "{*"
            Next          = "ParseCause"
          },
        ]
        Default = "TextCause"
      }
      NoCause = {
        Type = "Pass"
        Parameters = {
          "execution.$" = "$$.Execution.Id"
          error = {
            "Error.$" = "$.error.Error"
            Cause     = ""
          }
        }
        ResultPath = "$.failure"
        Next       = "NotifyFailure"
      }
      ParseCause = {
        Type = "Pass"
        Parameters = {
          "execution.$" = "$$.Execution.Id"
          "error.$"     = "$.error"
          "details.$"   = "States.StringToJson($.error.Cause)"
        }
        ResultPath = "$.failure"
        Next       = "NotifyFailure"
      }
      TextCause = {
        Type = "Pass"
        Parameters = {
          "execution.$" = "$$.Execution.Id"
          "error.$"     = "$.error"
        }
        ResultPath = "$.failure"
        Next       = "NotifyFailure"
      }
      NotifyFailure = {
        Type     = "Task"
        Comment  = "Tell the topic why the run failed."
        Resource = "arn:${local.partition}:states:::sns:publish"
        Parameters = {
          TopicArn    = aws_sns_topic.alerts.arn
          Subject     = "sfnecs nightly: job failed"
          "Message.$" = "States.JsonToString($.failure)"
        }
        ResultPath = null
        Catch = [
          {
            ErrorEquals = ["States.ALL"]
            ResultPath  = "$.notify_error"
            Next        = "Failed"
          },
        ]
        Next = "Failed"
      }
      Failed = {
        Type      = "Fail"
        Comment   = "Fail the execution with the original error (prefixed 'sfnecs.') and cause."
        ErrorPath = "States.Format('sfnecs.{}', $.failure.error.Error)"
        CausePath = "$.failure.error.Cause"
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

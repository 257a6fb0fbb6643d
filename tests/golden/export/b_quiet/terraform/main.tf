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
  #checkov:skip=CKV_AWS_285:execution logging is off in this StackSpec (execution_logging=False); Step Functions still keeps every execution's history for 90 days
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
          LaunchType     = "FARGATE"
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
        End = true
      }
    }
  })
  logging_configuration {
    level = "OFF"
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

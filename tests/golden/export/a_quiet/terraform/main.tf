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
      launch_type         = "FARGATE"
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

# The outputs of sfnecs stack 'nightly' (pattern A), from `sfnecs export`.
# The same StackSpec and builders as `sfnecs apply`: regenerate rather than edit by hand.
output "cluster_arn" {
  description = "The ECS cluster the job runs in"
  value       = aws_ecs_cluster.job.arn
}

output "task_definition_arn" {
  description = "The task definition revision this code registered"
  value       = aws_ecs_task_definition.job.arn
}

output "schedule_arn" {
  description = "The EventBridge Scheduler schedule"
  value       = aws_scheduler_schedule.job.arn
}

output "schedule_group_arn" {
  description = "The schedule group (it carries the stack tag)"
  value       = aws_scheduler_schedule_group.job.arn
}

output "dead_letter_queue_arn" {
  description = "Where the Scheduler sends invocations it could not deliver"
  value       = aws_sqs_queue.dead_letter.arn
}

output "alert_topic_arn" {
  description = "The topic run notifications are published to"
  value       = aws_sns_topic.alerts.arn
}

output "repository_url" {
  description = "Push the job's image here"
  value       = aws_ecr_repository.job.repository_url
}

output "log_group_name" {
  description = "The job's log group"
  value       = aws_cloudwatch_log_group.job.name
}

output "task_role_arn" {
  description = "The job's own AWS access"
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "ECS pulls the image and ships the logs with it"
  value       = aws_iam_role.execution.arn
}

output "scheduler_role_arn" {
  description = "EventBridge Scheduler starts the run with it"
  value       = aws_iam_role.scheduler.arn
}

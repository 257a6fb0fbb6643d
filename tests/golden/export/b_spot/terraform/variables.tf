# The per-account inputs of sfnecs stack 'nightly' (pattern B), from `sfnecs export`.
# The same StackSpec and builders as `sfnecs apply`: regenerate rather than edit by hand.
variable "subnets" {
  type        = list(string)
  description = "Subnet ids the task runs in (awsvpc); they need a path to ECR: public IP, NAT gateway or VPC endpoints"
  validation {
    condition     = length(var.subnets) >= 1 && length(var.subnets) <= 16
    error_message = "Give 1 to 16 subnet ids: awsvpc needs one, and ECS takes at most 16."
  }
}

variable "security_groups" {
  type        = list(string)
  description = "Security group ids of the task (at most 5)"
  validation {
    condition     = length(var.security_groups) <= 5
    error_message = "Give at most 5 security group ids (ECS takes 5)."
  }
}

variable "image" {
  type        = string
  description = "The job's container image URI; empty: the stack's ECR repository, tag latest"
  default     = ""
}

variable "notify_email" {
  type        = string
  description = "An e-mail address subscribed to the alert topic (it must confirm the subscription); empty: none"
  default     = ""
}

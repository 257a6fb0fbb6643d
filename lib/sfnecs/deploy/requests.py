"""Requests: the create documents of the stack's resources, built from the StackSpec alone (no AWS call).

Why pure: plan diffs these documents with what AWS has, apply sends them, and tests validate them
against the AWS API models; the task call itself comes from sfnecs.runtask, the ASL from
sfnecs.statemachine and the policies from sfnecs.iam, so each fact is written once.
"""

from __future__ import annotations

import json
from typing import Any

from sfnecs.iam import policies_for
from sfnecs.model.spec import POLICY_NAME, StackSpec, log_stream_prefix, schedule_group, sfn_log_group
from sfnecs.runtask import RunTask
from sfnecs.statemachine import build_definition

__all__ = [
    "pin_task_definition",
    "role_documents",
    "schedule_request",
    "state_machine_request",
    "task_definition_request",
]


def task_definition_request(spec: StackSpec) -> dict[str, Any]:
    """The RegisterTaskDefinition request (without tags) for the stack's job."""
    container: dict[str, Any] = {
        "name": spec.container_name,
        "image": spec.image_uri,
        "essential": True,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": spec.log_group,
                "awslogs-region": spec.region,
                "awslogs-stream-prefix": log_stream_prefix(spec),
            },
        },
    }
    if spec.command:
        container["command"] = list(spec.command)
    if spec.environment:
        container["environment"] = [{"name": k, "value": v} for k, v in sorted(spec.environment)]
    if spec.secrets:
        # the agent resolves each with the execution role before the container starts (iam.policies grants it)
        container["secrets"] = [{"name": k, "valueFrom": v} for k, v in sorted(spec.secrets)]
    return {
        "family": spec.family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        # Fargate needs task-level cpu and memory, as strings in the API (ECS API reference)
        "cpu": str(spec.cpu),
        "memory": str(spec.memory),
        "runtimePlatform": {"cpuArchitecture": spec.cpu_architecture, "operatingSystemFamily": spec.os_family},
        "executionRoleArn": spec.role_arn(spec.execution_role),
        "taskRoleArn": spec.role_arn(spec.task_role),
        "containerDefinitions": [container],
    }


def state_machine_request(spec: StackSpec) -> dict[str, Any]:
    """The CreateStateMachine request (without tags); the definition comes from sfnecs.statemachine."""
    logging: dict[str, Any] = {"level": "OFF"}
    if spec.execution_logging:
        logging = {
            "level": "ALL",
            "includeExecutionData": True,
            "destinations": [
                {"cloudWatchLogsLogGroup": {"logGroupArn": spec.arn("logs", f"log-group:{sfn_log_group(spec)}:*")}}
            ],
        }
    return {
        "name": spec.state_machine,
        "definition": build_definition(spec),
        "roleArn": spec.role_arn(spec.sfn_role),
        "type": "STANDARD",
        "loggingConfiguration": logging,
    }


def pin_task_definition(request: dict[str, Any], spec: StackSpec, revision: str | None) -> dict[str, Any]:
    """The CreateStateMachine request with the task definition family in its ASL replaced by `revision`.

    Why pin: a definition naming only the family runs whatever revision is newest, including one
    registered by hand; pinned, the state machine runs what this apply deployed, and its update
    in the plan shows that a new revision will be used.
    """
    if not revision:
        return request
    full = revision if revision.startswith("arn:") else spec.arn("ecs", f"task-definition/{revision}")

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: (full if k in ("TaskDefinition", "taskDefinition") and v in (spec.family,) else walk(v))
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return {**request, "definition": walk(request["definition"])}


def schedule_request(spec: StackSpec, task_definition_arn: str) -> dict[str, Any]:
    """The CreateSchedule request: pattern B targets the state machine, pattern A ECS RunTask."""
    target: dict[str, Any] = {
        "RoleArn": spec.role_arn(spec.scheduler_role),
        "RetryPolicy": {
            "MaximumRetryAttempts": spec.retry_attempts,
            "MaximumEventAgeInSeconds": spec.max_event_age_seconds,
        },
        "DeadLetterConfig": {"Arn": spec.dlq_arn},
    }
    if spec.pattern == "B":
        target["Arn"] = spec.state_machine_arn
        # context attribute (Scheduler User Guide, "Adding context attributes"): the execution
        # knows which scheduled time it serves, as runs.start() passes for a manual run
        target["Input"] = json.dumps({"scheduled_time": "<aws.scheduler.scheduled-time>"})
    else:
        # pattern A: the Scheduler calls RunTask itself, with the task this apply registered
        target.update(RunTask(spec, task_definition_arn).scheduler_target())
    window = (
        {"Mode": "OFF"}
        if spec.flexible_window_minutes == 0
        else {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": spec.flexible_window_minutes}
    )
    return {
        "Name": spec.schedule_name,
        "GroupName": schedule_group(spec),
        "ScheduleExpression": spec.schedule_expression,
        "ScheduleExpressionTimezone": spec.timezone,
        "FlexibleTimeWindow": window,
        "State": "ENABLED" if spec.schedule_enabled else "DISABLED",
        "Description": f"sfnecs stack {spec.name} (pattern {spec.pattern})",
        "Target": target,
    }


def role_documents(spec: StackSpec) -> dict[str, dict[str, Any]]:
    """Each role's trust policy, inline policy and attached managed policy ARNs (the task role's
    `task_policy_arns`), from sfnecs.iam (the same spec as the ASL)."""
    return {
        name: {
            "RoleName": name,
            "AssumeRolePolicyDocument": role.trust,
            "Policies": {POLICY_NAME: role.permissions} if role.permissions else {},
            "AttachedPolicies": sorted(spec.task_policy_arns) if role.kind == "task" else [],
        }
        for name, role in policies_for(spec).items()
    }

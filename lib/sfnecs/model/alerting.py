"""Alerting documents: who is told about a failed run, and how (pure: no AWS call).

Why pure builders: deploy creates these documents, verify compares AWS with them, the export writes
them as Terraform/CloudFormation and the sandbox's end-to-end tests read them; one builder keeps the
four in agreement.

What is built, per pattern:
- A (a schedule that calls RunTask): the EventBridge rule AWS recommends for scheduled tasks, on
  `ECS Task State Change` events of the stack's cluster and task family that end in a stop which is
  not a clean exit, with an input transformer that writes a message for a person (ECS developer guide,
  "Amazon ECS task state change events"; EventBridge Scheduler user guide, "Configuring a dead-letter
  queue": the dead-letter queue only receives invocations that failed, never a task that failed).
- B (a state machine): CloudWatch alarms on the machine's ExecutionsFailed, ExecutionsTimedOut and
  ExecutionsAborted (Step Functions developer guide, "Monitoring Step Functions metrics using
  CloudWatch"); a timed-out execution runs no Catch, so only its alarm tells anyone.
- both: an alarm on the schedule's dead-letter queue (ApproximateNumberOfMessagesVisible > 0), and the
  topic policy that lets exactly this rule and these alarms publish to the topic.
"""

from __future__ import annotations

import json
from typing import Any

from sfnecs.model.console import cluster_tasks_link, log_group_link
from sfnecs.model.policy_evaluation import CONDITION_OPERATORS, as_list
from sfnecs.model.spec import StackSpec

__all__ = [
    "ALARM_PERIOD_SECONDS",
    "EXECUTION_METRICS",
    "RULE_TARGET_ID",
    "alarm_arn",
    "alarm_names",
    "alarm_requests",
    "alerts_on",
    "default_topic_policy",
    "owns_topic",
    "rule_arn",
    "rule_name",
    "rule_request",
    "rule_target",
    "service_may_publish",
    "task_failure_pattern",
    "task_failure_transformer",
    "topic_policy",
]

#: one minute: SQS sends its queue metrics to CloudWatch every minute (SQS developer guide, "Available
#: CloudWatch metrics for Amazon SQS"), Step Functions its execution metrics as executions end
ALARM_PERIOD_SECONDS = 60
#: AWS/States metric -> alarm name suffix (Step Functions developer guide, "Execution metrics")
EXECUTION_METRICS = {
    "ExecutionsFailed": "executions-failed",
    "ExecutionsTimedOut": "executions-timed-out",
    "ExecutionsAborted": "executions-aborted",
}
RULE_TARGET_ID = "alert-topic"
#: the stop code of a task whose essential container exited on its own (ECS API reference, Task.stopCode)
CLEAN_STOP_CODE = "EssentialContainerExited"


def alerts_on(spec: StackSpec) -> bool:
    """Whether the stack tells a person about failures (rule, alarms): `notify_failure`, in both patterns."""
    return spec.notify_failure


def owns_topic(spec: StackSpec) -> bool:
    """Whether the stack creates its own topic: something publishes to it, and no `notify_topic_arn` is given."""
    publishes = spec.notify_failure or (spec.pattern == "B" and spec.notify_success)
    return publishes and not spec.notify_topic_arn


# ---- pattern A: the EventBridge rule ---------------------------------------------------------------
def rule_name(spec: StackSpec) -> str:
    """`<stack>-task-failed` (EventBridge rule names: 1-64 of letters, digits and .-_)."""
    return f"{spec.name}-task-failed"


def rule_arn(spec: StackSpec) -> str:
    """The rule on the default event bus (the ARN names no bus for it)."""
    return spec.arn("events", f"rule/{rule_name(spec)}")


def task_failure_pattern(spec: StackSpec) -> dict[str, Any]:
    """Every STOPPED task of this cluster and task family that is not a clean exit.

    A stop is clean when its stop code is EssentialContainerExited and every container reported exit
    code 0; it alerts when the stop code is another (TaskFailedToStart, SpotInterruption, UserInitiated,
    ...), an exit code is not 0, or no container reported one (EventBridge user guide, "Content filtering
    in Amazon EventBridge event patterns": anything-but, exists; "$or" for the alternatives).
    Pattern values in an array of objects match any element ("Arrays in Amazon EventBridge event
    patterns"): the event does not say which container is essential, so a sidecar that exits non-zero
    alerts too. The family matches by prefix so that every revision is covered.
    """
    family_prefix = spec.arn("ecs", f"task-definition/{spec.family}:")
    return {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {
            "clusterArn": [spec.cluster_arn],
            "taskDefinitionArn": [{"prefix": family_prefix}],
            "lastStatus": ["STOPPED"],
            "$or": [
                {"stopCode": [{"anything-but": CLEAN_STOP_CODE}]},
                {"containers": {"exitCode": [{"anything-but": 0}]}},
                {"containers": {"exitCode": [{"exists": False}]}},
            ],
        },
    }


#: variable -> JSON path in the event (EventBridge user guide, "Amazon EventBridge input transformation")
_PATHS = {
    "task": "$.detail.taskArn",
    "stopCode": "$.detail.stopCode",
    "reason": "$.detail.stoppedReason",
    "exitCode": "$.detail.containers[0].exitCode",
    "container": "$.detail.containers[0].name",
    "containerReason": "$.detail.containers[0].reason",
    "startedBy": "$.detail.startedBy",
    "stoppedAt": "$.detail.stoppedAt",
    "taskDefinition": "$.detail.taskDefinitionArn",
}


def task_failure_transformer(spec: StackSpec) -> dict[str, Any]:
    """An input transformer that turns the event into one line a tired operator can act on.

    A string template (in quotes): EventBridge inserts the values as they are, and a variable whose
    path is not in the event (no exit code when the task never started) is left out ("Common issues
    with transforming input"). The console link lists the cluster's tasks: a template cannot cut the
    task id out of the ARN, and ECS keeps a stopped task visible for about an hour.
    """
    text = (
        f"sfnecs stack {spec.name}: a job task stopped without a clean exit. "
        "Stop code: <stopCode>. Reason: <reason>. "
        "Exit code of <container>: <exitCode>. <containerReason> "
        "Stopped at <stoppedAt>, started by <startedBy>. Task: <task> (<taskDefinition>). "
        f"Open the task within the hour: {cluster_tasks_link(spec.region, spec.cluster)} ; "
        f"its logs: {log_group_link(spec.region, spec.log_group)} ; "
        f"or run: sfnecs runbook run diagnose -p stack {spec.name} -p run_arn <task>"
    )
    return {"InputPathsMap": dict(_PATHS), "InputTemplate": json.dumps(text)}


def rule_request(spec: StackSpec) -> dict[str, Any]:
    """PutRule's arguments (tags aside)."""
    return {
        "Name": rule_name(spec),
        "EventPattern": json.dumps(task_failure_pattern(spec), sort_keys=True),
        "State": "ENABLED",
        "Description": f"sfnecs {spec.name}: tasks of {spec.family} that stop without a clean exit -> alert topic",
    }


def rule_target(spec: StackSpec) -> dict[str, Any]:
    """PutTargets' one target: the alert topic, through the input transformer."""
    return {"Id": RULE_TARGET_ID, "Arn": spec.topic_arn, "InputTransformer": task_failure_transformer(spec)}


# ---- alarms ------------------------------------------------------------------------------------------
def alarm_arn(spec: StackSpec, name: str) -> str:
    return spec.arn("cloudwatch", f"alarm:{name}")


def _alarm(
    spec: StackSpec,
    name: str,
    description: str,
    namespace: str,
    metric: str,
    dimension: tuple[str, str],
    statistic: str,
) -> dict[str, Any]:
    return {
        "AlarmName": name,
        "AlarmDescription": description,
        "ActionsEnabled": True,
        "AlarmActions": [spec.topic_arn],
        "Namespace": namespace,
        "MetricName": metric,
        "Dimensions": [{"Name": dimension[0], "Value": dimension[1]}],
        "Statistic": statistic,
        "Period": ALARM_PERIOD_SECONDS,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
        # no data is good news: Step Functions sends nothing while nothing fails, and SQS stops
        # sending for a queue that has been empty for six hours
        "TreatMissingData": "notBreaching",
    }


def alarm_names(spec: StackSpec) -> list[str]:
    """Every alarm name the stack may have, whatever its pattern and settings (teardown, audit)."""
    return [f"{spec.name}-dlq-messages"] + [f"{spec.name}-{suffix}" for suffix in EXECUTION_METRICS.values()]


def alarm_requests(spec: StackSpec) -> list[dict[str, Any]]:
    """PutMetricAlarm's arguments for every alarm of the stack (none unless `alerts_on`)."""
    if not alerts_on(spec):
        return []
    alarms = [
        _alarm(
            spec,
            f"{spec.name}-dlq-messages",
            f"sfnecs {spec.name}: the schedule could not start a run (a message is in its dead-letter queue "
            f"{spec.dlq}: read its ERROR_CODE and ERROR_MESSAGE attributes)",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            ("QueueName", spec.dlq),
            "Maximum",
        )
    ]
    if spec.pattern == "B":
        alarms += [
            _alarm(
                spec,
                f"{spec.name}-{suffix}",
                f"sfnecs {spec.name}: an execution of {spec.state_machine} ended {suffix.removeprefix('executions-')} "
                "(open the state machine's executions in the console, or run sfnecs audit)",
                "AWS/States",
                metric,
                ("StateMachineArn", spec.state_machine_arn),
                "Sum",
            )
            for metric, suffix in EXECUTION_METRICS.items()
        ]
    return alarms


# ---- the topic policy --------------------------------------------------------------------------------
def topic_policy(spec: StackSpec) -> dict[str, Any]:
    """Who may publish to the alert topic besides this account's IAM principals: this rule
    (events.amazonaws.com, aws:SourceArn = the rule) and this stack's alarms (cloudwatch.amazonaws.com,
    aws:SourceArn = its alarms, aws:SourceAccount) — the confused-deputy conditions of the EventBridge
    user guide ("Using resource-based policies for Amazon EventBridge": Amazon SNS permissions) and the
    CloudWatch user guide ("Using Amazon CloudWatch alarms": confused deputy prevention)."""
    statements: list[dict[str, Any]] = []
    if alerts_on(spec) and spec.pattern == "A":
        statements.append(
            {
                "Sid": "TaskFailureRule",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": spec.topic_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn(spec)}},
            }
        )
    alarms = [alarm_arn(spec, a["AlarmName"]) for a in alarm_requests(spec)]
    if alarms:
        statements.append(
            {
                "Sid": "StackAlarms",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": spec.topic_arn,
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": sorted(alarms)},
                    "StringEquals": {"aws:SourceAccount": spec.account},
                },
            }
        )
    return {"Version": "2012-10-17", "Id": f"{spec.name}-alerts", "Statement": statements}


def default_topic_policy(topic_arn: str, account: str) -> dict[str, Any]:
    """The policy SNS gives a new topic (this account's principals may use it), put back when the stack
    no longer wants its own."""
    return {
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [
            {
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "SNS:GetTopicAttributes",
                    "SNS:SetTopicAttributes",
                    "SNS:AddPermission",
                    "SNS:RemovePermission",
                    "SNS:DeleteTopic",
                    "SNS:Subscribe",
                    "SNS:ListSubscriptionsByTopic",
                    "SNS:Publish",
                ],
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
            }
        ],
    }


def service_may_publish(
    policy: dict[str, Any], topic_arn: str, service: str, context: dict[str, str], *, as_owner: bool = False
) -> bool:
    """Whether a topic policy lets an AWS service principal publish, with `context` its condition keys
    (aws:SourceArn, aws:SourceAccount, and aws:SourceOwner): an Allow for the principal, action and topic
    whose conditions hold, and no such Deny (IAM user guide, "Policy evaluation logic"). Operators other
    than the String/Arn ones fail closed.

    `as_owner`: the service also passes statements for any AWS principal of the topic's account. AWS
    does not document this; it is what is observed: a CloudWatch alarm publishes to a topic that keeps
    SNS's default policy (any principal, AWS:SourceOwner = the account), an EventBridge rule does not
    (the EventBridge user guide asks for an events.amazonaws.com statement, "Amazon SNS permissions").
    """
    keys = {k.lower(): [v] for k, v in context.items()}
    verdicts = set()
    for st in as_list(policy.get("Statement", [])):
        principal = st.get("Principal")
        services = as_list(principal.get("Service", [])) if isinstance(principal, dict) else [principal]
        anyone = principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS", [])))
        if service not in services and "*" not in services and not (as_owner and anyone):
            continue
        actions = [a.lower() for a in as_list(st.get("Action", []))]
        if not {"sns:publish", "sns:*", "*"} & set(actions):
            continue
        if not any(r in ("*", topic_arn) for r in as_list(st.get("Resource", "*"))):
            continue
        if _holds(st.get("Condition") or {}, keys):
            verdicts.add(st.get("Effect"))
    return "Allow" in verdicts and "Deny" not in verdicts


def _holds(condition: dict[str, dict[str, Any]], context: dict[str, list[str]]) -> bool:
    for operator, block in condition.items():
        compare = CONDITION_OPERATORS.get(operator.removesuffix("IfExists"))
        for key, wanted in block.items():
            present = context.get(key.lower())
            if compare is None or not present:
                return False
            if not any(compare(str(w), have) for w in as_list(wanted) for have in present):
                return False
    return True

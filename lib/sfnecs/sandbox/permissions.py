"""Which IAM action on which resource each call a service makes for the user needs: the one table.

Why one place: the sandbox enforces IAM on AWS's behalf (`sfnecs.sandbox.enforcement`) for Step Functions'
integrations, the Scheduler's target invocation and the Fargate agent; each of those callers asks here
what its call needs, so "what does RunTask need?" has one answer. Each entry cites the AWS page it
follows. The requests are read as botocore sends them (the API's own casing).

The facts here (LOG_DELIVERY_ACTIONS, the managed rule's name, ECS_TASKS) are written again on purpose, not
imported from `sfnecs.iam`: the sandbox judges the library's generated policies, so its idea of what AWS
checks must come from the AWS pages, not from the code under test (and the sandbox may not import `iam`).

A `Need` is one authorization: the action, the resource ARN it is evaluated on, and the condition keys
the request context carries (IAM User Guide, "IAM JSON policy elements: Condition").
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sfnecs.model.arns import ECR_IMAGE_RE, partition_of

__all__ = [
    "ECS_TASKS",
    "KMS_DECRYPT",
    "LOG_DELIVERY_ACTIONS",
    "MANAGED_RULES",
    "SECRET_READS",
    "SERVICE_CALLS",
    "ServiceCall",
    "Need",
    "ecr_pull_needs",
    "log_needs",
    "call_for",
    "state_machine_needs",
]

#: the service principal of ECS tasks, to which the task and execution roles are passed
ECS_TASKS = "ecs-tasks.amazonaws.com"

#: Step Functions developer guide, "Logging using CloudWatch Logs" (https://docs.aws.amazon.com/step-functions/
#: latest/dg/cw-logs.html): the actions the state machine's role needs for execution logging. AWS does not
#: say which of them CreateStateMachine checks; the sandbox requires all of them.
LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
)

#: Step Functions developer guide, "IAM policies for Amazon ECS/AWS Fargate" (https://docs.aws.amazon.com/
#: step-functions/latest/dg/ecs-iam.html): a `.sync` integration -> the managed rule Step Functions creates
#: with the state machine's role to learn that the job ended.
MANAGED_RULES = {
    "ecs:runTask.sync": "StepFunctionsGetEventsForECSTaskRule",
    "states:startExecution.sync": "StepFunctionsGetEventsForStepFunctionsExecutionRule",
}
_RULE_ACTIONS = ("events:PutTargets", "events:PutRule", "events:DescribeRule")


@dataclass(frozen=True)
class Need:
    """One authorization a call needs: `action` on `resource`, with the request's condition keys."""

    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceCall:
    """An API call a service makes with a role: what it needs, how the service refuses, and the source.

    `denial_code`/`status`: the error the API answers when IAM denies (its own AccessDenied name).
    """

    service: str  # botocore service name
    operation: str  # API operation name
    source: str  # AWS page title and URL
    needs: Callable[[dict[str, Any], str, str], list[Need]]  # (request, account, region) -> needs
    denial_code: str = "AccessDeniedException"
    status: int = 400


def _arn(region: str, account: str, service: str, resource: str) -> str:
    return f"arn:{partition_of(region)}:{service}:{region}:{account}:{resource}"


def _cluster_arn(ref: str | None, account: str, region: str) -> str:
    ref = ref or "default"
    return ref if ref.startswith("arn:") else _arn(region, account, "ecs", f"cluster/{ref}")


def _task_arn(ref: str, cluster_arn: str, account: str, region: str) -> str:
    return (
        ref if ref.startswith("arn:") else _arn(region, account, "ecs", f"task/{cluster_arn.rsplit('/', 1)[-1]}/{ref}")
    )


def _task_definition(ref: str, account: str, region: str) -> Any:
    """moto's task definition for `ref` (family, family:revision or ARN), or None when there is none."""
    from moto.ecs.models import ecs_backends  # the sandbox's own ECS: imported when a call is checked

    try:
        return ecs_backends[account][region].describe_task_definition(ref)
    except Exception:  # noqa: BLE001 - moto's ClientException: RunTask itself then answers as ECS does
        return None


def _run_task(request: dict[str, Any], account: str, region: str) -> list[Need]:
    # Service Authorization Reference, Amazon ECS (https://docs.aws.amazon.com/service-authorization/latest/
    # reference/list_amazonelasticcontainerservice.html): RunTask on the task-definition ARN with ecs:cluster;
    # ECS developer guide, "Amazon ECS task execution IAM role" / "Task IAM role": the caller passes both roles
    # (iam:PassRole with iam:PassedToService); "Grant permission to tag resources on creation"
    # (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html):
    # tags on the new task need ecs:TagResource with ecs:CreateAction = RunTask.
    cluster = _cluster_arn(request.get("cluster"), account, region)
    ref = str(request.get("taskDefinition") or "")
    td = _task_definition(ref, account, region)
    td_arn = (
        td.arn
        if td is not None
        else (ref if ref.startswith("arn:") else _arn(region, account, "ecs", f"task-definition/{ref}"))
    )
    needs = [Need("ecs:RunTask", td_arn, {"ecs:cluster": cluster})]
    if td is not None:
        for role in (getattr(td, "task_role_arn", None), getattr(td, "execution_role_arn", None)):
            if role:
                needs.append(Need("iam:PassRole", role, {"iam:PassedToService": ECS_TASKS}))
    propagated = request.get("propagateTags") == "TASK_DEFINITION" and td is not None and bool(td.tags)
    if request.get("tags") or propagated:
        # the new task's id is not known before RunTask answers; any id of the cluster stands for it
        new_task = _task_arn(uuid.uuid4().hex, cluster, account, region)
        needs.append(Need("ecs:TagResource", new_task, {"ecs:CreateAction": "RunTask", "ecs:cluster": cluster}))
    return needs


def _on_tasks(action: str) -> Callable[[dict[str, Any], str, str], list[Need]]:
    # Service Authorization Reference, Amazon ECS: StopTask and DescribeTasks authorize on the task ARN.
    def needs(request: dict[str, Any], account: str, region: str) -> list[Need]:
        cluster = _cluster_arn(request.get("cluster"), account, region)
        refs = request.get("tasks") or [request.get("task") or ""]
        return [Need(action, _task_arn(str(r), cluster, account, region), {"ecs:cluster": cluster}) for r in refs]

    return needs


def _on(action: str, key: str) -> Callable[[dict[str, Any], str, str], list[Need]]:
    def needs(request: dict[str, Any], account: str, region: str) -> list[Need]:
        return [Need(action, str(request.get(key) or "*"))]

    return needs


def _send_message(request: dict[str, Any], account: str, region: str) -> list[Need]:
    # the queue URL's last two parts are the owner account and the queue name
    owner, name = str(request.get("QueueUrl", "")).rstrip("/").split("/")[-2:]
    return [Need("sqs:SendMessage", _arn(region, owner, "sqs", "").rstrip(":") + f":{name}")]


_SAR_ECS = "Service Authorization Reference, Amazon ECS (list_amazonelasticcontainerservice.html)"
#: (botocore service, operation) -> what the call needs when a service makes it with a role
SERVICE_CALLS: dict[tuple[str, str], ServiceCall] = {
    (c.service, c.operation): c
    for c in (
        ServiceCall(
            "ecs", "RunTask", f"Step Functions 'IAM policies for Amazon ECS/AWS Fargate'; {_SAR_ECS}", _run_task
        ),
        ServiceCall(
            "ecs",
            "StopTask",
            f"Step Functions 'IAM policies for Amazon ECS/AWS Fargate'; {_SAR_ECS}",
            _on_tasks("ecs:StopTask"),
        ),
        ServiceCall(
            "ecs",
            "DescribeTasks",
            f"Step Functions 'IAM policies for Amazon ECS/AWS Fargate'; {_SAR_ECS}",
            _on_tasks("ecs:DescribeTasks"),
        ),
        # Step Functions developer guide, "IAM policies for Amazon SNS"; SNS answers a denial with
        # AuthorizationError, HTTP 403 (Amazon SNS API reference, Publish: Errors)
        ServiceCall(
            "sns",
            "Publish",
            "Step Functions 'IAM policies for Amazon SNS'; SNS API reference 'Publish'",
            _on("sns:Publish", "TopicArn"),
            "AuthorizationError",
            403,
        ),
        # Service Authorization Reference, AWS Step Functions: both on the stateMachine ARN
        ServiceCall(
            "stepfunctions",
            "ListExecutions",
            "Service Authorization Reference, AWS Step Functions",
            _on("states:ListExecutions", "stateMachineArn"),
        ),
        ServiceCall(
            "stepfunctions",
            "StartExecution",
            "EventBridge Scheduler 'Set up the execution role' (setting-up.html#setting-up-execution-role)",
            _on("states:StartExecution", "stateMachineArn"),
        ),
        # EventBridge Scheduler user guide, "Configuring a dead-letter queue" (configuring-schedule-dlq.html)
        ServiceCall(
            "sqs",
            "SendMessage",
            "EventBridge Scheduler 'Configuring a dead-letter queue'",
            _send_message,
            "AccessDenied",
            403,
        ),
    )
}


def call_for(service: str, operation: str) -> ServiceCall | None:
    """The table's entry for a call, or None when the sandbox does not check that call."""
    return SERVICE_CALLS.get((service, operation))


# ---- what the Fargate agent does with the task execution role ----------------------------------------
#: ECS developer guide, "Required IAM permissions for Amazon ECS secrets" (https://docs.aws.amazon.com/AmazonECS/
#: latest/developerguide/secrets-iam.html): the read of each secret's source, on its ARN, and kms:Decrypt on a
#: customer-managed key (sfnecs.sandbox.secrets resolves them)
SECRET_READS = {"ssm": "ssm:GetParameters", "secretsmanager": "secretsmanager:GetSecretValue"}
KMS_DECRYPT = "kms:Decrypt"


def ecr_pull_needs(image: str, region: str) -> tuple[Need, list[Need]] | None:
    """(registry auth, pull) needs of an ECR image, or None for an image from another registry.

    Amazon ECR user guide, "Using Amazon ECR images with Amazon ECS" (https://docs.aws.amazon.com/AmazonECR/
    latest/userguide/ECR_on_ECS.html): the Fargate agent needs ecr:GetAuthorizationToken, ecr:BatchGetImage
    and ecr:GetDownloadUrlForLayer. (ecr:BatchCheckLayerAvailability, in AmazonECSTaskExecutionRolePolicy, is
    not among them: a pull does not need it.)
    """
    m = ECR_IMAGE_RE.match(image)
    if not m:
        return None
    repository = f"arn:{partition_of(m['region'])}:ecr:{m['region']}:{m['account']}:repository/{m['repo']}"
    auth = Need("ecr:GetAuthorizationToken", "*")
    return auth, [Need("ecr:BatchGetImage", repository), Need("ecr:GetDownloadUrlForLayer", repository)]


def log_needs(action: str, group: str, stream: str, account: str, region: str) -> Need:
    """logs:CreateLogStream / logs:PutLogEvents on a stream (ECS developer guide, "Amazon ECS task execution
    IAM role": the awslogs driver writes with the execution role; the ARN form is the Service Authorization
    Reference's, CloudWatch Logs: `log-group:<group>:log-stream:<stream>`)."""
    return Need(action, _arn(region, account, "logs", f"log-group:{group}:log-stream:{stream}"))


# ---- what Step Functions checks when a state machine is created or updated -------------------------------
def state_machine_needs(
    definition: dict[str, Any], logging: dict[str, Any] | None, account: str, region: str
) -> tuple[list[Need], list[Need]]:
    """(managed-rule needs, log-delivery needs) of a state machine's role at CreateStateMachine/UpdateStateMachine.

    The managed rule of each `.sync` integration (MANAGED_RULES) and, with logging on, LOG_DELIVERY_ACTIONS.
    """
    rules: list[Need] = []
    for resource in sorted(_task_resources(definition)):
        key = resource.split(":::", 1)[-1]
        rule = MANAGED_RULES.get(key)
        if rule:
            arn = _arn(region, account, "events", f"rule/{rule}")
            rules += [Need(a, arn) for a in _RULE_ACTIONS if Need(a, arn) not in rules]
    logs: list[Need] = []
    if logging and logging.get("level", "OFF") != "OFF" and logging.get("destinations"):
        logs = [Need(a, "*") for a in LOG_DELIVERY_ACTIONS]
    return rules, logs


def _task_resources(value: Any) -> set[str]:
    """Every Task state's Resource, nested states (Parallel branches, Map processors) included."""
    found: set[str] = set()
    if isinstance(value, dict):
        if value.get("Type") == "Task" and isinstance(value.get("Resource"), str):
            found.add(value["Resource"])
        for item in value.values():
            found |= _task_resources(item)
    elif isinstance(value, list):
        for item in value:
            found |= _task_resources(item)
    return found

"""The exported stack: every resource `apply` would create, as its request document with tokens, plus the
per-account variables and the outputs both formats write.

Why one model for both formats: the documents come from `sfnecs.deploy.stack.desired_resources` (the
same registry and builders plan and apply use), so Terraform, CloudFormation and `apply` cannot
disagree about a policy, the ASL or the schedule target; a format only spells them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sfnecs.deploy.resource import NEXT_REVISION
from sfnecs.deploy.stack import desired_resources
from sfnecs.export.tokens import Ref, neutral
from sfnecs.iam import policies_for
from sfnecs.model.spec import StackSpec, sfn_log_group

__all__ = ["Exported", "Output", "StackModel", "Variable", "stack_model"]


@dataclass(frozen=True)
class Exported:
    """One resource: its deploy kind (a `sfnecs.deploy.resources` key), its short logical name, its AWS
    name and its request document with tokens (`sfnecs.export.tokens`)."""

    kind: str
    name: str
    aws_name: str
    document: Any

    @property
    def key(self) -> str:
        """`kind.name`, e.g. `role.sfn`: what a `Ref` names."""
        return f"{self.kind}.{self.name}"


@dataclass(frozen=True)
class Variable:
    """A per-account input (Terraform variable, CloudFormation parameter); `value`: this spec's, written to
    the values file (terraform.tfvars, parameters.json) rather than into the code; `default`: None when the
    user must give one."""

    name: str
    type: str  # string, list(string)
    description: str
    value: Any
    default: Any = None


@dataclass(frozen=True)
class Output:
    """An ARN (or name, URL) the stack publishes for whoever runs or watches it."""

    name: str
    description: str
    ref: Ref


@dataclass(frozen=True)
class StackModel:
    """Everything one export writes, in `apply`'s creation order."""

    spec: StackSpec
    resources: tuple[Exported, ...]
    variables: tuple[Variable, ...]
    outputs: tuple[Output, ...]
    existing_cluster: bool = False

    def has(self, key: str) -> bool:
        return any(r.key == key for r in self.resources)


#: deploy kind -> logical name, for kinds with one resource per stack
_NAMES = {
    "repository": "job",
    "cluster": "job",
    "queue": "dead_letter",
    "topic": "alerts",
    "task_definition": "job",
    "state_machine": "job",
    "schedule_group": "job",
    "schedule": "job",
    "topic_policy": "alerts",
    "task_failure_rule": "task_failed",
}


def _name(spec: StackSpec, kind: str, aws_name: str, document: Any) -> str:
    if kind == "log_group":
        return "job" if aws_name == spec.log_group else "state_machine"
    if kind == "role":
        return next(r.kind for r in policies_for(spec).values() if r.name == aws_name)
    if kind == "alarm":
        return aws_name.removeprefix(f"{spec.name}-").replace("-", "_")
    return _NAMES[kind]


def _refs(spec: StackSpec, present: set[str]) -> dict[str, Ref]:
    """Whole-ARN strings of the stack's own resources -> the resource that makes them."""
    revision = f"{spec.family}:{NEXT_REVISION}"
    candidates = {
        revision: Ref("task_definition.job"),
        spec.arn("ecs", f"task-definition/{revision}"): Ref("task_definition.job"),
        spec.cluster_arn: Ref("cluster.job"),
        spec.state_machine_arn: Ref("state_machine.job"),
        spec.topic_arn: Ref("topic.alerts"),
        spec.dlq_arn: Ref("queue.dead_letter"),
        spec.arn("logs", f"log-group:{sfn_log_group(spec)}:*"): Ref("log_group.state_machine", "log_arn"),
        **{spec.role_arn(r.name): Ref(f"role.{r.kind}") for r in policies_for(spec).values()},
    }
    return {text: ref for text, ref in candidates.items() if ref.resource in present}


def stack_model(spec: StackSpec, *, existing_cluster: bool = False, email: str = "") -> StackModel:
    """The stack `apply` would create for `spec`, as tokens: account, region and partition looked up where
    the code runs, the stack's own ARNs as references, subnets, security groups, image and e-mail as inputs.

    `existing_cluster`: refer to a cluster of that name instead of creating it (apply uses an untagged
    cluster as is). Role documents keep their ARNs as strings (with tokens): a policy naming the state
    machine that runs with it would otherwise be a dependency cycle.
    """
    desired = desired_resources(spec)
    named = [(d, _name(spec, d.kind, d.name, d.document)) for d in desired]
    present = {f"{d.kind}.{name}" for d, name in named}
    refs = _refs(spec, present)
    resources = []
    for d, name in named:
        own = {spec.log_group: Ref("log_group.job", "name")} if d.kind == "task_definition" else {}
        # IAM documents keep ARNs as strings: a reference there would be a cycle (see above); so does a
        # resource naming itself (the guard lists the state machine's own executions)
        mine = f"{d.kind}.{name}"
        known = {} if d.kind == "role" else {k: v for k, v in {**refs, **own}.items() if v.resource != mine}
        document = d.document
        if d.kind == "task_failure_rule":  # PutRule takes the pattern as JSON text; code writes it as a document
            document = {**document, "EventPattern": json.loads(document["EventPattern"])}
        resources.append(Exported(d.kind, name, d.name, neutral(document, spec, known)))
    return StackModel(spec, tuple(resources), _variables(spec, present, email), _outputs(present), existing_cluster)


def _variables(spec: StackSpec, present: set[str], email: str) -> tuple[Variable, ...]:
    own_repository = "repository.job" in present
    out = [
        Variable(
            "subnets",
            "list(string)",
            "Subnet ids the task runs in (awsvpc); they need a path to ECR: public IP, NAT gateway or VPC endpoints",
            list(spec.subnets),
        ),
    ]
    if spec.security_groups:
        out.append(
            Variable(
                "security_groups",
                "list(string)",
                "Security group ids of the task (at most 5)",
                list(spec.security_groups),
            )
        )
    out.append(
        Variable(
            "image",
            "string",
            "The job's container image URI"
            + ("; empty: the stack's ECR repository, tag latest" if own_repository else ""),
            # this spec's image (a tag of its own repository included) goes to the values file
            spec.image_uri if spec.image else "",
            "" if own_repository else None,
        )
    )
    if "topic.alerts" in present:
        out.append(
            Variable(
                "notify_email",
                "string",
                "An e-mail address subscribed to the alert topic (it must confirm the subscription); empty: none",
                email,
                "",
            )
        )
    return tuple(out)


#: (output name, description, resource key, attribute), published when the resource is exported
_OUTPUTS = (
    ("cluster_arn", "The ECS cluster the job runs in", "cluster.job", "arn"),
    ("task_definition_arn", "The task definition revision this code registered", "task_definition.job", "arn"),
    ("state_machine_arn", "The state machine that runs and watches the job (pattern B)", "state_machine.job", "arn"),
    ("schedule_arn", "The EventBridge Scheduler schedule", "schedule.job", "arn"),
    ("schedule_group_arn", "The schedule group (it carries the stack tag)", "schedule_group.job", "arn"),
    ("dead_letter_queue_arn", "Where the Scheduler sends invocations it could not deliver", "queue.dead_letter", "arn"),
    ("alert_topic_arn", "The topic run notifications are published to", "topic.alerts", "arn"),
    ("repository_url", "Push the job's image here", "repository.job", "url"),
    ("log_group_name", "The job's log group", "log_group.job", "name"),
    ("task_role_arn", "The job's own AWS access", "role.task", "arn"),
    ("execution_role_arn", "ECS pulls the image and ships the logs with it", "role.execution", "arn"),
    ("state_machine_role_arn", "Step Functions runs the task with it", "role.sfn", "arn"),
    ("scheduler_role_arn", "EventBridge Scheduler starts the run with it", "role.scheduler", "arn"),
)


def _outputs(present: set[str]) -> tuple[Output, ...]:
    return tuple(Output(n, d, Ref(key, attr)) for n, d, key, attr in _OUTPUTS if key in present)

"""RunTask: one description of "run the stack's job once on Fargate", rendered for every caller.

Why one object (as aws-cdk's `EcsRunTask` does): the RunTask API request (`runs.run_direct`), the
EventBridge Scheduler `EcsParameters` target (pattern A), the Step Functions Task state's arguments
(pattern B) and the IAM statements each of them needs are all rendered here from one StackSpec, so
the network block, the placement and the policy cannot drift apart. Each AWS API spells the same
fields in its own casing; the values are written once and only the casing differs per renderer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sfnecs.exceptions import ValidationError
from sfnecs.model.spec import StackSpec

__all__ = [
    "ECS_TASKS",
    "INTEGRATION_ACTIONS",
    "RUN_TASK_SYNC",
    "RunTask",
    "SYNC_RULE",
    "network_configuration",
    "run_task_placement",
]

#: the Step Functions optimized integration that runs a task and waits until it stops
RUN_TASK_SYNC = "arn:aws:states:::ecs:runTask.sync"
#: the service principal of ECS tasks (the task and execution roles are passed to it). The same name in
#: every partition: AWS documents no China-specific form for it, and a `.amazonaws.com.cn` principal is
#: refused there as invalid (reported by users, e.g. terraform-aws-modules/terraform-aws-ecs issue 124);
#: unverified by the kit on a China or GovCloud account.
ECS_TASKS = "ecs-tasks.amazonaws.com"
#: the rule Step Functions creates and owns to learn that a .sync task stopped
SYNC_RULE = "StepFunctionsGetEventsForECSTaskRule"

# The IAM actions, by what they are for (Step Functions developer guide, "IAM policies for Amazon
# ECS/AWS Fargate"): every RunTask passes the task's roles; `.sync` also stops the task on timeout,
# polls it, and manages the rule through which ECS reports the task's end.
_RUN = ("ecs:RunTask",)
_TRACK = ("ecs:StopTask", "ecs:DescribeTasks")
_RULE = ("events:PutTargets", "events:PutRule", "events:DescribeRule")
_PASS = ("iam:PassRole",)
#: the ECS optimized integrations -> the IAM actions the state machine's role needs for each
INTEGRATION_ACTIONS: dict[str, tuple[str, ...]] = {
    "ecs:runTask": _RUN + _PASS,
    "ecs:runTask.waitForTaskToken": _RUN + _PASS,
    "ecs:runTask.sync": _RUN + _TRACK + _RULE + _PASS,
}


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def _same(name: str) -> str:
    return name


def _allow(
    sid: str, actions: tuple[str, ...], resources: list[str], condition: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """An Allow statement, actions and resources sorted (the form sfnecs.iam renders every statement in)."""
    st: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": sorted(resources)}
    if condition:
        st["Condition"] = condition
    return st


@dataclass(frozen=True)
class RunTask:
    """One ECS RunTask of the stack's job: cluster, task definition, placement and awsvpc network.

    `task_definition`: what to run, a revision ARN or `family:revision`; empty (the default) is the
    spec's family, for which RunTask runs the latest ACTIVE revision (ECS API reference, RunTask).
    """

    spec: StackSpec
    task_definition: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.spec, StackSpec):
            raise ValidationError("spec", self.spec, "a StackSpec (sfnecs.model.StackSpec)")
        if not isinstance(self.task_definition, str):
            raise ValidationError(
                "task_definition",
                self.task_definition,
                "a task definition ARN, family:revision, or '' for the spec's family",
            )

    @property
    def definition(self) -> str:
        """The task definition RunTask is given: `task_definition`, or the spec's family."""
        return self.task_definition or self.spec.family

    # ---- the facts, each once; `outer` spells the top-level key, `inner` the keys inside -------------
    def _placement(self, outer: Callable[[str], str], inner: Callable[[str], str]) -> dict[str, Any]:
        # launchType FARGATE, or the capacity provider strategy instead, never both (ECS API reference,
        # RunTask: "If a capacityProviderStrategy is specified, the launchType parameter must be
        # omitted"); the stack associates the providers with its cluster.
        # platformVersion only when one is pinned: without it Fargate runs LATEST (ECS API reference, RunTask)
        version = (
            {} if self.spec.platform_version == "LATEST" else {outer("platformVersion"): self.spec.platform_version}
        )
        if not self.spec.capacity_provider_strategy:
            return {outer("launchType"): "FARGATE", **version}
        return {
            outer("capacityProviderStrategy"): [
                {inner("capacityProvider"): p, inner("weight"): w, inner("base"): b}
                for p, w, b in self.spec.capacity_provider_strategy
            ],
            **version,
        }

    def _awsvpc(self, case: Callable[[str], str], order: tuple[str, ...]) -> dict[str, Any]:
        # awsvpc is the only network mode Fargate has; no security group given: the VPC's default applies
        values = {
            "subnets": list(self.spec.subnets),
            "securityGroups": list(self.spec.security_groups),
            "assignPublicIp": "ENABLED" if self.spec.assign_public_ip else "DISABLED",
        }
        return {case(key): values[key] for key in order if key != "securityGroups" or values[key]}

    # ---- the ECS RunTask API (camelCase) -------------------------------------------------------------
    def placement(self) -> dict[str, Any]:
        """RunTask's `launchType` FARGATE, or its `capacityProviderStrategy` (camelCase, as the API)."""
        return self._placement(_same, _same)

    def network_configuration(self) -> dict[str, Any]:
        """RunTask's `networkConfiguration` (awsvpc, required on Fargate)."""
        return {"awsvpcConfiguration": self._awsvpc(_same, ("subnets", "assignPublicIp", "securityGroups"))}

    def api_request(self) -> dict[str, Any]:
        """The ECS RunTask request for one task (the caller adds clientToken, startedBy, ...)."""
        return {
            "cluster": self.spec.cluster,
            "taskDefinition": self.definition,
            **self.placement(),
            "count": 1,
            "networkConfiguration": self.network_configuration(),
        }

    # ---- the EventBridge Scheduler target (pattern A) ------------------------------------------------
    def scheduler_target(self) -> dict[str, Any]:
        """The Scheduler target's `Arn` (the cluster) and `EcsParameters` for this task.

        Scheduler API reference, EcsParameters: PascalCase fields, but `NetworkConfiguration` holds a
        camelCase `awsvpcConfiguration` (of PascalCase fields) and the capacity provider strategy's
        items are camelCase like RunTask's: AWS's own mix, reproduced as is.
        """
        vpc = self._awsvpc(_pascal, ("subnets", "assignPublicIp", "securityGroups"))
        return {
            "Arn": self.spec.cluster_arn,
            "EcsParameters": {
                "TaskDefinitionArn": self.definition,
                "TaskCount": 1,
                **self._placement(_pascal, _same),
                "NetworkConfiguration": {"awsvpcConfiguration": vpc},
                # the task gets the task definition's tags (the stack tag), which needs ecs:TagResource
                # (scheduler_statements), and ECS's own cluster/service tags
                "PropagateTags": "TASK_DEFINITION",
                "EnableECSManagedTags": True,
            },
        }

    # ---- the Step Functions Task state (pattern B) ---------------------------------------------------
    def state_arguments(self, *, group: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
        """The arguments of the `ecs:runTask.sync` Task state, in Step Functions' PascalCase.

        The same in both query languages (JSONPath `Parameters`, JSONata `Arguments`): every value
        here is static. Only `group` (the task group, e.g. the execution's name) and `overrides` (from
        the execution input) are expressions, so the state machine's dialect renders and passes them.
        """
        return {
            **self._placement(_pascal, _pascal),
            "Cluster": self.spec.cluster_arn,
            # the family name by default: RunTask runs its latest ACTIVE revision, so a new revision
            # needs no new state machine (ECS API reference, RunTask taskDefinition)
            "TaskDefinition": self.definition,
            # StartedBy is not set: under .sync Step Functions sets it to "AWS Step Functions"
            # itself; community-observed, the integration's docs are silent (fact: sync-output-task-object).
            # The task group carries the execution name instead, so a task in the ECS console
            # names the execution that started it.
            **group,
            "NetworkConfiguration": {
                "AwsvpcConfiguration": self._awsvpc(_pascal, ("subnets", "securityGroups", "assignPublicIp"))
            },
            "Overrides": overrides,
        }

    # ---- the IAM statements each caller needs --------------------------------------------------------
    def _task_arns(self) -> str:
        return self.spec.arn("ecs", f"task/{self.spec.cluster}/*")

    def run_statements(self) -> list[dict[str, Any]]:
        """RunTask on every revision of the family, in the stack's cluster only, plus PassRole for its roles."""
        spec = self.spec
        return [
            _allow(
                "RunTaskFamilyInStackCluster",
                _RUN,
                [spec.task_definition_arn_pattern],
                {"ArnEquals": {"ecs:cluster": spec.cluster_arn}},
            ),
            # both roles: a task definition with a task role cannot launch unless the caller may pass it
            _allow(
                "PassTaskAndExecutionRolesToEcsTasks",
                _PASS,
                [spec.role_arn(spec.task_role), spec.role_arn(spec.execution_role)],
                {"StringEquals": {"iam:PassedToService": ECS_TASKS}},
            ),
        ]

    def sync_statements(self) -> list[dict[str, Any]]:
        """What `.sync` adds to a RunTask: stop and describe the task, manage the rule that reports its end."""
        return [
            # Step Functions stops/describes only the task it started; its ARN is unknown until RunTask
            # answers, but the cluster part is known, so the task ARNs of the stack's cluster suffice.
            _allow("StopAndDescribeTasksInStackCluster", _TRACK, [self._task_arns()]),
            _allow("SyncRuleManagedByStepFunctions", _RULE, [self.spec.arn("events", f"rule/{SYNC_RULE}")]),
        ]

    def state_statements(self) -> list[dict[str, Any]]:
        """The state machine role's statements for the `ecs:runTask.sync` Task state (pattern B)."""
        run_task, pass_role = self.run_statements()
        return [run_task, *self.sync_statements(), pass_role]

    def scheduler_statements(self) -> list[dict[str, Any]]:
        """The scheduler role's statements for the `EcsParameters` target (pattern A)."""
        return self.run_statements() + [
            # the target propagates the task definition's tags (scheduler_target): ECS then authorizes
            # ecs:TagResource on the new task, only as part of RunTask (ecs:CreateAction).
            _allow(
                "TagTasksAtLaunchInStackCluster",
                ("ecs:TagResource",),
                [self._task_arns()],
                {"StringEquals": {"ecs:CreateAction": "RunTask"}},
            ),
        ]


def network_configuration(spec: StackSpec) -> dict[str, Any]:
    """RunTask's networkConfiguration (awsvpc, required on Fargate) for the spec's task."""
    return RunTask(spec).network_configuration()


def run_task_placement(spec: StackSpec) -> dict[str, Any]:
    """RunTask's launchType FARGATE, or the spec's capacityProviderStrategy instead (never both)."""
    return RunTask(spec).placement()

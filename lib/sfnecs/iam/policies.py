"""Trust and permission policies of every role the stack creates, built from one `StackSpec`.

Why from one description (as aws-cdk's `EcsRunTask` does): the policy comes from the same
stack description as the state machine, so a switch (guard, notifications, execution logging) adds
exactly the statements it needs and nothing else. Every builder is pure (data in, dict out).

Sources, cited once here and referred to by name below:
- Step Functions developer guide, "IAM policies for Amazon ECS/AWS Fargate" (runTask.sync needs
  ecs:RunTask on the task definition, ecs:StopTask/DescribeTasks, the events actions on the
  managed rule `StepFunctionsGetEventsForECSTaskRule`, and iam:PassRole for the task's roles) and
  "Logging using CloudWatch Logs" (the log-delivery actions, which take no resource ARN).
- Service Authorization Reference, Amazon ECS: RunTask supports the `ecs:cluster` condition key;
  StopTask and DescribeTasks authorize against the task ARN `task/<cluster>/<id>`.
- Amazon ECS developer guide, "Amazon ECS EventBridge IAM role" (PassRole for both task roles,
  limited by iam:PassedToService) and "Grant permission to tag resources on creation".
- EventBridge Scheduler user guide, "Set up the execution role" and "Configuring a dead-letter
  queue" (sqs:SendMessage); "Troubleshooting quotas": since 7 September 2023 the role is assumed
  with the *schedule group* ARN as aws:SourceArn.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_
from sfnecs.model.arns import ECR_IMAGE_RE
from sfnecs.model.job import secret_source, task_statements
from sfnecs.model.policy_evaluation import as_list
from sfnecs.model.spec import StackSpec, schedule_group
from sfnecs.runtask import ECS_TASKS, RunTask
from sfnecs.runtask import SYNC_RULE as SYNC_RULE  # re-exported: sfnecs.iam's modules read it here
from sfnecs.statemachine import analysis

VERSION = "2012-10-17"
#: Step Functions developer guide, "Logging using CloudWatch Logs": the delivery actions it needs
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

#: every statement whose Resource is "*" says why in its Sid; the full reason, by Sid
STAR_REASONS: dict[str, str] = {
    "EcrAuthTokenIsAccountWide": N_(
        "ecr:GetAuthorizationToken returns the registry login token ECS needs before it can pull from any "
        "private repository; the action has no resource type (Service Authorization Reference), so only '*' is "
        "valid. The pull itself is limited to the one repository by PullStackImageLayers."
    ),
    "LogDeliveryApisTakeNoResourceArn": N_(
        "The CloudWatch Logs delivery APIs Step Functions calls to set up execution logging take no resource "
        "ARN, so AWS documents them with Resource '*' (Step Functions developer guide, 'Logging using "
        "CloudWatch Logs')."
    ),
}


# ---- statements -----------------------------------------------------------------------------------
def _statement(
    sid: str,
    actions: list[str] | tuple[str, ...],
    resources: list[str],
    condition: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An Allow statement; actions and resources sorted so the JSON is stable."""
    st: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": sorted(resources)}
    if condition:
        st["Condition"] = condition
    return st


def _document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": statements}


def _ecr_repository_arn(spec: StackSpec) -> str | None:
    """The ECR repository the task pulls from, or None when the image is not in ECR (no pull grant needed)."""
    m = ECR_IMAGE_RE.match(spec.image_uri)
    if not m:
        return None
    return f"arn:{spec.partition}:ecr:{m['region']}:{m['account']}:repository/{m['repo']}"


def _dead_letter(spec: StackSpec) -> dict[str, Any]:
    # the stack always configures a DLQ on the schedule target (stack.schedule_request)
    return _statement("SendUndeliveredToDeadLetterQueue", ["sqs:SendMessage"], [spec.dlq_arn])


def _sfn_permissions(spec: StackSpec) -> list[dict[str, Any]]:
    # the RunJob state's needs, from the same RunTask description that renders its arguments
    statements = RunTask(spec).state_statements()
    if spec.notify_failure or spec.notify_success:
        statements.append(_statement("PublishRunNotifications", ["sns:Publish"], [spec.topic_arn]))
    if spec.guard:
        statements.append(_statement("GuardListsOwnExecutions", ["states:ListExecutions"], [spec.state_machine_arn]))
    if spec.execution_logging:
        statements.append(_statement("LogDeliveryApisTakeNoResourceArn", LOG_DELIVERY_ACTIONS, ["*"]))
    return statements


def _scheduler_permissions(spec: StackSpec) -> list[dict[str, Any]]:
    if spec.pattern == "B":
        return [
            _statement("StartStackStateMachine", ["states:StartExecution"], [spec.state_machine_arn]),
            _dead_letter(spec),
        ]
    # the EcsParameters target's needs, from the same RunTask description that renders the target
    return RunTask(spec).scheduler_statements() + [_dead_letter(spec)]


def _execution_permissions(spec: StackSpec) -> list[dict[str, Any]]:
    statements = []
    repository = _ecr_repository_arn(spec)
    if repository:
        statements += [
            _statement(
                "PullStackImageLayers",
                ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                [repository],
            ),
            _statement("EcrAuthTokenIsAccountWide", ["ecr:GetAuthorizationToken"], ["*"]),
        ]
    statements.append(
        _statement(
            "WriteTaskLogsToStackLogGroup", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{spec.log_group_arn}:*"]
        )
    )
    return statements + _secret_reads(spec)


def _secret_reads(spec: StackSpec) -> list[dict[str, Any]]:
    """Exactly the reads the agent makes to resolve the container's `secrets`, and kms:Decrypt on the stack's key.

    ECS developer guide, "Required IAM permissions for Amazon ECS secrets": the execution role needs
    secretsmanager:GetSecretValue (Secrets Manager) or ssm:GetParameters (Parameter Store) on each one,
    and kms:Decrypt only for a customer-managed key. A Secrets Manager ARN is granted as given (without
    a JSON-key suffix): the guide's example policy (as AWS Batch's copy, "Required IAM permissions for
    private registry authentication") grants a plain secret ARN with no `-??????` wildcard, so AWS does
    not require one; the wildcard only stands in for the random 6-character suffix when a policy names
    a secret without it, and the spec's valueFrom is the full ARN, suffix included.
    """
    sources: dict[str, set[str]] = {"secretsmanager": set(), "ssm": set()}
    for _, value_from in spec.secrets:
        service, arn = secret_source(value_from)
        sources[service].add(arn)
    statements = []
    if sources["secretsmanager"]:
        statements.append(
            _statement(
                "ReadJobSecretsFromSecretsManager", ["secretsmanager:GetSecretValue"], list(sources["secretsmanager"])
            )
        )
    if sources["ssm"]:
        statements.append(_statement("ReadJobParametersFromSsm", ["ssm:GetParameters"], list(sources["ssm"])))
    if spec.secrets_kms_key:
        statements.append(_statement("DecryptJobSecretsWithStackKey", ["kms:Decrypt"], [spec.secrets_kms_key]))
    return statements


def _task_permissions(spec: StackSpec) -> list[dict[str, Any]]:
    # The job's own AWS access: none by default. Whatever the container needs (an S3 prefix, a
    # secret) is the job's business and is added by its owner (`task_policy_statements` here, managed
    # policies through `task_policy_arns`), so the kit grants nothing it cannot justify; a role is still
    # created so the task definition can name it and PassRole can pin it.
    return task_statements(spec.task_policy_statements)


# ---- trust ------------------------------------------------------------------------------------------
def _sfn_trust(spec: StackSpec) -> dict[str, dict[str, Any]]:
    # The Step Functions console's own roles use ArnLike aws:SourceArn on stateMachine ARNs. AWS does
    # not say whether a run of a version or alias presents the qualified ARN, so `<arn>:*` is allowed
    # too; both name only this state machine.
    return {
        "ArnLike": {"aws:SourceArn": [spec.state_machine_arn, f"{spec.state_machine_arn}:*"]},
        "StringEquals": {"aws:SourceAccount": spec.account},
    }


def _scheduler_trust(spec: StackSpec) -> dict[str, dict[str, Any]]:
    return {
        "ArnLike": {"aws:SourceArn": spec.arn("scheduler", f"schedule-group/{schedule_group(spec)}")},
        "StringEquals": {"aws:SourceAccount": spec.account},
    }


def _task_trust(spec: StackSpec) -> dict[str, dict[str, Any]]:
    # ECS developer guide, "Task IAM role": the confused-deputy conditions for roles tasks assume
    return {"ArnLike": {"aws:SourceArn": spec.arn("ecs", "*")}, "StringEquals": {"aws:SourceAccount": spec.account}}


def _execution_trust(spec: StackSpec) -> dict[str, dict[str, Any]]:
    # ECS documents the confused-deputy conditions for the task role only; its task execution role
    # page shows none. We add none rather than risk a task that cannot pull its image.
    return {}


@dataclass(frozen=True)
class RoleTemplate:
    """One kind of role the stack creates: which spec field names it, who assumes it, what it may do.

    Why a template: each stack makes its role of this kind from it (`policies_for`), with the spec's name and ARNs.
    """

    key: str
    field: str
    service: str
    purpose: str
    trust_sid: str
    trust_condition: Callable[[StackSpec], dict[str, dict[str, Any]]]
    permissions: Callable[[StackSpec], list[dict[str, Any]]]


ROLE_KINDS: dict[str, RoleTemplate] = {
    k.key: k
    for k in (
        RoleTemplate(
            "sfn",
            "sfn_role",
            "states.amazonaws.com",
            N_("Step Functions runs the task (.sync), watches it, and notifies"),
            "TrustStepFunctionsForThisStateMachine",
            _sfn_trust,
            _sfn_permissions,
        ),
        RoleTemplate(
            "scheduler",
            "scheduler_role",
            "scheduler.amazonaws.com",
            N_("EventBridge Scheduler starts the run (the state machine in B, the task in A)"),
            "TrustSchedulerForThisScheduleGroup",
            _scheduler_trust,
            _scheduler_permissions,
        ),
        RoleTemplate(
            "task",
            "task_role",
            ECS_TASKS,
            N_("the job's own AWS access (none by default)"),
            "TrustEcsTasksOfThisAccount",
            _task_trust,
            _task_permissions,
        ),
        RoleTemplate(
            "execution",
            "execution_role",
            ECS_TASKS,
            N_("ECS pulls the image and ships the logs"),
            "TrustEcsTasksToPullAndLog",
            _execution_trust,
            _execution_permissions,
        ),
    )
}
#: the roles each pattern needs
PATTERN_ROLES: dict[str, tuple[str, ...]] = {
    "A": ("scheduler", "task", "execution"),
    "B": ("sfn", "scheduler", "task", "execution"),
}


def trust_policy(spec: StackSpec, kind: str) -> dict[str, Any]:
    """The trust (assume-role) policy of the stack's role of `kind` (sfn, scheduler, task, execution)."""
    role = _template(kind)
    statement: dict[str, Any] = {
        "Sid": role.trust_sid,
        "Effect": "Allow",
        "Principal": {"Service": role.service},
        "Action": ["sts:AssumeRole"],
    }
    condition = role.trust_condition(spec)
    if condition:
        statement["Condition"] = condition
    return _document([statement])


def permission_policy(spec: StackSpec, kind: str) -> dict[str, Any] | None:
    """The inline permission policy of the stack's role of `kind`, or None when it needs no permissions."""
    statements = _template(kind).permissions(spec)
    return _document(statements) if statements else None


def _template(kind: str) -> RoleTemplate:
    if kind not in ROLE_KINDS:
        raise ValidationError("kind", kind, "one of " + ", ".join(ROLE_KINDS))
    return ROLE_KINDS[kind]


@dataclass(frozen=True)
class RolePolicies:
    """One role of the stack: its name and ARN, who may assume it, and its inline permission policy."""

    name: str
    kind: str
    arn: str
    service: str
    purpose: str
    trust: dict[str, Any]
    permissions: dict[str, Any] | None

    def to_frame(self) -> pd.DataFrame:
        return _statements_frame({self.name: self})


def policies_for(spec: StackSpec) -> dict[str, RolePolicies]:
    """Every role `spec.pattern` needs, by role name, with its trust and permission policies.

    Why by name: that is how IAM knows them, and `stack` creates them by name. Two roles of one
    pattern may not share a name (their trust and permissions differ).
    """
    out: dict[str, RolePolicies] = {}
    owners: dict[str, str] = {}
    for key in PATTERN_ROLES[spec.pattern]:
        kind = ROLE_KINDS[key]
        name = getattr(spec, kind.field)
        if name in owners:
            raise ValidationError(
                kind.field,
                name,
                f"a role name different from {owners[name]}={name!r}: each role has its own trust and permissions",
            )
        owners[name] = kind.field
        out[name] = RolePolicies(
            name,
            key,
            spec.role_arn(name),
            kind.service,
            kind.purpose,
            trust_policy(spec, key),
            permission_policy(spec, key),
        )
    return out


#: the statement table's columns (English names; shown translated by `sfnecs.i18n.localize`)
_STATEMENT_COLUMNS = [
    N_("role"),
    N_("policy"),
    N_("sid"),
    N_("effect"),
    N_("action"),
    N_("resource"),
    N_("condition"),
    N_("why_star"),
]


def roles_table(roles: dict[str, RolePolicies]) -> pd.DataFrame:
    """One row per role of `policies_for`: its name, the service that assumes it, what it is for (for notebooks)."""
    return pd.DataFrame(
        [{"role": r.name, "assumed by": r.service, "what it is for": r.purpose} for r in roles.values()],
        columns=[N_("role"), N_("assumed by"), N_("what it is for")],
    )


def _statements_frame(roles: dict[str, RolePolicies]) -> pd.DataFrame:
    rows = []
    for name, role in roles.items():
        for policy, doc in ((N_("trust"), role.trust), (N_("permissions"), role.permissions)):
            for st in as_list((doc or {}).get("Statement", [])):
                rows.append(
                    {
                        "role": name,
                        "policy": policy,
                        "sid": st.get("Sid", ""),
                        "effect": st["Effect"],
                        "action": ", ".join(as_list(st.get("Action", []))),
                        "resource": ", ".join(as_list(st.get("Resource", []))) or json.dumps(st.get("Principal")),
                        "condition": json.dumps(st["Condition"], sort_keys=True) if "Condition" in st else "",
                        "why_star": STAR_REASONS.get(st.get("Sid", ""), ""),
                    }
                )
    return pd.DataFrame(rows, columns=_STATEMENT_COLUMNS)


def policy_table(spec: StackSpec) -> pd.DataFrame:
    """Every statement of every role of the stack, one row each (for notebooks)."""
    return _statements_frame(policies_for(spec))


# ---- what a state machine definition needs ---------------------------------------------------------
#: IAM actions each optimized integration needs, keyed by its Resource ARN; the table itself lives in
#: `sfnecs.statemachine` (one source, so the policy and the definition cannot drift).
INTEGRATION_ACTIONS: dict[str, tuple[str, ...]] = {
    f"arn:aws:states:::{key}": actions for key, actions in analysis.INTEGRATION_ACTIONS.items()
}


def required_actions(definition: dict[str, Any]) -> set[str]:
    """The IAM actions the Task states of an ASL definition call (Parallel and Map branches included).

    Why: the test that the Step Functions role grants what the state machine uses, and nothing
    else, reads the definition rather than trusting either builder. Same as
    `sfnecs.statemachine.states_used`, which owns the reading.
    """
    return analysis.states_used(definition)

"""Trust and permission policies for both patterns, built from one `StackSpec`; rendering, lint, simulation.

Why one module: the aws-cdk `EcsRunTask` lesson (STYLE.md) — the policy comes from the same stack
description as the state machine, so a switch (guard, notifications, execution logging) adds
exactly the statements it needs and nothing else. Every builder is pure (data in, dict out);
only `simulate` talks to AWS, through the IAM client it is given.

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

import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

import pandas as pd

from sfnecs import statemachine as _statemachine
from sfnecs.exceptions import ValidationError
from sfnecs.model.arns import ECR_IMAGE_RE
from sfnecs.model.policy_evaluation import simulate_custom_policy
from sfnecs.model.spec import POLICY_NAME, StackSpec, schedule_group

__all__ = [
    "ACCEPTED_FINDINGS", "DECISIONS", "INTEGRATION_ACTIONS", "LOG_DELIVERY_ACTIONS", "PATTERN_ROLES", "ROLE_KINDS",
    "STAR_REASONS", "Call", "Finding", "RoleKind", "RolePolicies", "broad_policy", "compare_with_broad",
    "default_matrix", "lint", "permission_policy", "policies_for", "policy_table", "required_actions", "simulate",
    "simulate_roles", "to_json", "to_terraform", "trust_policy",
]

VERSION = "2012-10-17"
ECS_TASKS = "ecs-tasks.amazonaws.com"
#: the rule Step Functions creates and owns to learn that a .sync task stopped
SYNC_RULE = "StepFunctionsGetEventsForECSTaskRule"
#: Step Functions developer guide, "Logging using CloudWatch Logs": the delivery actions it needs
LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
)
Decision = Literal["allowed", "implicitDeny", "explicitDeny"]
DECISIONS: tuple[str, ...] = ("allowed", "implicitDeny", "explicitDeny")

#: every statement whose Resource is "*" says why in its Sid; the full reason, by Sid
STAR_REASONS: dict[str, str] = {
    "EcrAuthTokenIsAccountWide": (
        "ecr:GetAuthorizationToken returns the registry login token ECS needs before it can pull from any "
        "private repository; the action has no resource type (Service Authorization Reference), so only '*' is "
        "valid. The pull itself is limited to the one repository by PullStackImageLayers."),
    "LogDeliveryApisTakeNoResourceArn": (
        "The CloudWatch Logs delivery APIs Step Functions calls to set up execution logging take no resource "
        "ARN, so AWS documents them with Resource '*' (Step Functions developer guide, 'Logging using "
        "CloudWatch Logs')."),
}

# ---- statements -----------------------------------------------------------------------------------
def _statement(sid: str, actions: list[str] | tuple[str, ...], resources: list[str],
               condition: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
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
    return f"arn:aws:ecr:{m['region']}:{m['account']}:repository/{m['repo']}"


def _task_arns_in_cluster(spec: StackSpec) -> str:
    return spec.arn("ecs", f"task/{spec.cluster}/*")


def _run_task(spec: StackSpec) -> list[dict[str, Any]]:
    """RunTask on every revision of the family, in the stack's cluster only, plus PassRole for its roles."""
    return [
        _statement("RunTaskFamilyInStackCluster", ["ecs:RunTask"], [spec.task_definition_arn_pattern],
                   {"ArnEquals": {"ecs:cluster": spec.cluster_arn}}),
        # both roles: a task definition with a task role cannot launch unless the caller may pass it
        _statement("PassTaskAndExecutionRolesToEcsTasks", ["iam:PassRole"],
                   [spec.role_arn(spec.task_role), spec.role_arn(spec.execution_role)],
                   {"StringEquals": {"iam:PassedToService": ECS_TASKS}}),
    ]


def _dead_letter(spec: StackSpec) -> dict[str, Any]:
    # the stack always configures a DLQ on the schedule target (stack.schedule_request)
    return _statement("SendUndeliveredToDeadLetterQueue", ["sqs:SendMessage"], [spec.dlq_arn])


def _sfn_permissions(spec: StackSpec) -> list[dict[str, Any]]:
    run_task, pass_role = _run_task(spec)
    statements = [
        run_task,
        # Step Functions stops/describes only the task it started; its ARN is unknown until RunTask
        # answers, but the cluster part is known, so the task ARNs of the stack's cluster suffice.
        _statement("StopAndDescribeTasksInStackCluster", ["ecs:DescribeTasks", "ecs:StopTask"],
                   [_task_arns_in_cluster(spec)]),
        _statement("SyncRuleManagedByStepFunctions", ["events:DescribeRule", "events:PutRule", "events:PutTargets"],
                   [spec.arn("events", f"rule/{SYNC_RULE}")]),
        pass_role,
    ]
    if spec.notify_failure or spec.notify_success:
        statements.append(_statement("PublishRunNotifications", ["sns:Publish"], [spec.topic_arn]))
    if spec.guard:
        statements.append(_statement("GuardListsOwnExecutions", ["states:ListExecutions"], [spec.state_machine_arn]))
    if spec.execution_logging:
        statements.append(_statement("LogDeliveryApisTakeNoResourceArn", LOG_DELIVERY_ACTIONS, ["*"]))
    return statements


def _scheduler_permissions(spec: StackSpec) -> list[dict[str, Any]]:
    if spec.pattern == "B":
        return [_statement("StartStackStateMachine", ["states:StartExecution"], [spec.state_machine_arn]),
                _dead_letter(spec)]
    return _run_task(spec) + [
        # pattern A's target propagates the task definition's tags (stack.schedule_request): ECS then
        # authorizes ecs:TagResource on the new task, only as part of RunTask (ecs:CreateAction).
        _statement("TagTasksAtLaunchInStackCluster", ["ecs:TagResource"], [_task_arns_in_cluster(spec)],
                   {"StringEquals": {"ecs:CreateAction": "RunTask"}}),
        _dead_letter(spec),
    ]


def _execution_permissions(spec: StackSpec) -> list[dict[str, Any]]:
    statements = []
    repository = _ecr_repository_arn(spec)
    if repository:
        statements += [
            _statement("PullStackImageLayers",
                       ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                       [repository]),
            _statement("EcrAuthTokenIsAccountWide", ["ecr:GetAuthorizationToken"], ["*"]),
        ]
    statements.append(_statement("WriteTaskLogsToStackLogGroup", ["logs:CreateLogStream", "logs:PutLogEvents"],
                                 [f"{spec.log_group_arn}:*"]))
    return statements


def _task_permissions(spec: StackSpec) -> list[dict[str, Any]]:
    # The job's own AWS access: none by default. Whatever the container needs (an S3 prefix, a
    # secret) is the job's business and is added by its owner, so the kit grants nothing it cannot
    # justify; a role is still created so the task definition can name it and PassRole can pin it.
    return []


# ---- trust ------------------------------------------------------------------------------------------
def _sfn_trust(spec: StackSpec) -> dict[str, dict[str, Any]]:
    # The Step Functions console's own roles use ArnLike aws:SourceArn on stateMachine ARNs. AWS does
    # not say whether a run of a version or alias presents the qualified ARN, so `<arn>:*` is allowed
    # too; both name only this state machine.
    return {"ArnLike": {"aws:SourceArn": [spec.state_machine_arn, f"{spec.state_machine_arn}:*"]},
            "StringEquals": {"aws:SourceAccount": spec.account}}


def _scheduler_trust(spec: StackSpec) -> dict[str, dict[str, Any]]:
    return {"ArnLike": {"aws:SourceArn": spec.arn("scheduler", f"schedule-group/{schedule_group(spec)}")},
            "StringEquals": {"aws:SourceAccount": spec.account}}


def _task_trust(spec: StackSpec) -> dict[str, dict[str, Any]]:
    # ECS developer guide, "Task IAM role": the confused-deputy conditions for roles tasks assume
    return {"ArnLike": {"aws:SourceArn": spec.arn("ecs", "*")}, "StringEquals": {"aws:SourceAccount": spec.account}}


def _execution_trust(spec: StackSpec) -> dict[str, dict[str, Any]]:
    # ECS documents the confused-deputy conditions for the task role only; its task execution role
    # page shows none. We add none rather than risk a task that cannot pull its image.
    return {}


@dataclass(frozen=True)
class RoleKind:
    """One kind of role the stack creates: which spec field names it, who assumes it, what it may do."""

    key: str
    field: str
    service: str
    purpose: str
    trust_sid: str
    trust_condition: Callable[[StackSpec], dict[str, dict[str, Any]]]
    permissions: Callable[[StackSpec], list[dict[str, Any]]]


ROLE_KINDS: dict[str, RoleKind] = {k.key: k for k in (
    RoleKind("sfn", "sfn_role", "states.amazonaws.com",
             "Step Functions runs the task (.sync), watches it, and notifies", "TrustStepFunctionsForThisStateMachine",
             _sfn_trust, _sfn_permissions),
    RoleKind("scheduler", "scheduler_role", "scheduler.amazonaws.com",
             "EventBridge Scheduler starts the run (the state machine in B, the task in A)",
             "TrustSchedulerForThisScheduleGroup", _scheduler_trust, _scheduler_permissions),
    RoleKind("task", "task_role", ECS_TASKS, "the job's own AWS access (none by default)",
             "TrustEcsTasksOfThisAccount", _task_trust, _task_permissions),
    RoleKind("execution", "execution_role", ECS_TASKS, "ECS pulls the image and ships the logs",
             "TrustEcsTasksToPullAndLog", _execution_trust, _execution_permissions),
)}
#: the roles each pattern needs
PATTERN_ROLES: dict[str, tuple[str, ...]] = {"A": ("scheduler", "task", "execution"),
                                             "B": ("sfn", "scheduler", "task", "execution")}

_TRUST_IS_ASSUME_ROLE = (
    "A trust policy's sts:AssumeRole is what lets the named service use this one role; parliament lints it "
    "as an identity policy, where AssumeRole would hand out credentials of other roles.")

#: parliament findings AWS makes unavoidable, accepted only for this finding type on this Sid
ACCEPTED_FINDINGS: dict[tuple[str, str], str] = {
    **{("CREDENTIALS_EXPOSURE", kind.trust_sid): _TRUST_IS_ASSUME_ROLE for kind in ROLE_KINDS.values()},
    ("CREDENTIALS_EXPOSURE", "EcrAuthTokenIsAccountWide"): STAR_REASONS["EcrAuthTokenIsAccountWide"],
    ("PERMISSIONS_MANAGEMENT_ACTIONS", "PassTaskAndExecutionRolesToEcsTasks"): (
        "RunTask must pass the task role and the task execution role (ECS developer guide); the grant names "
        "exactly those two role ARNs and only for iam:PassedToService = ecs-tasks.amazonaws.com."),
    ("PERMISSIONS_MANAGEMENT_ACTIONS", "LogDeliveryApisTakeNoResourceArn"): (
        "logs:PutResourcePolicy is one of the delivery actions Step Functions needs to log executions to "
        "CloudWatch Logs; it takes no resource ARN. " + STAR_REASONS["LogDeliveryApisTakeNoResourceArn"]),
    ("RESOURCE_MISMATCH", "GuardListsOwnExecutions"): (
        "states:ListExecutions takes either a stateMachineArn or a mapRunArn (Step Functions API reference); "
        "parliament wants a resource of both types in the statement. The guard lists this state machine's "
        "executions only, so granting map runs would widen the policy to please the linter."),
}


def trust_policy(spec: StackSpec, kind: str) -> dict[str, Any]:
    """The trust (assume-role) policy of the stack's role of `kind` (sfn, scheduler, task, execution)."""
    role = _kind(kind)
    statement: dict[str, Any] = {"Sid": role.trust_sid,
                                 "Effect": "Allow", "Principal": {"Service": role.service},
                                 "Action": ["sts:AssumeRole"]}
    condition = role.trust_condition(spec)
    if condition:
        statement["Condition"] = condition
    return _document([statement])


def permission_policy(spec: StackSpec, kind: str) -> dict[str, Any] | None:
    """The inline permission policy of the stack's role of `kind`, or None when it needs no permissions."""
    statements = _kind(kind).permissions(spec)
    return _document(statements) if statements else None


def _kind(kind: str) -> RoleKind:
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
            raise ValidationError(kind.field, name, f"a role name different from {owners[name]}={name!r}: "
                                  "each role has its own trust and permissions")
        owners[name] = kind.field
        out[name] = RolePolicies(name, key, spec.role_arn(name), kind.service, kind.purpose,
                                 trust_policy(spec, key), permission_policy(spec, key))
    return out


def _statements_frame(roles: dict[str, RolePolicies]) -> pd.DataFrame:
    rows = []
    for name, role in roles.items():
        for policy, doc in (("trust", role.trust), ("permissions", role.permissions)):
            for st in _as_list((doc or {}).get("Statement", [])):
                rows.append({"role": name, "policy": policy, "sid": st.get("Sid", ""), "effect": st["Effect"],
                             "action": ", ".join(_as_list(st.get("Action", []))),
                             "resource": ", ".join(_as_list(st.get("Resource", []))) or
                             json.dumps(st.get("Principal")),
                             "condition": json.dumps(st["Condition"], sort_keys=True) if "Condition" in st else "",
                             "why_star": STAR_REASONS.get(st.get("Sid", ""), "")})
    return pd.DataFrame(rows, columns=["role", "policy", "sid", "effect", "action", "resource", "condition",
                                       "why_star"])


def policy_table(spec: StackSpec) -> pd.DataFrame:
    """Every statement of every role of the stack, one row each (for notebooks)."""
    return _statements_frame(policies_for(spec))


# ---- rendering ---------------------------------------------------------------------------------------
_KEY_ORDER = ("Version", "Id", "Statement", "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
              "Resource", "NotResource", "Condition")


def _canonical(value: Any) -> Any:
    """IAM's usual key order first (Version, Statement; Sid, Effect, ...), any other keys sorted."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (_KEY_ORDER.index(k) if k in _KEY_ORDER else len(_KEY_ORDER), k))
        return {k: _canonical(value[k]) for k in keys}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def to_json(doc: dict[str, Any]) -> str:
    """A policy document as the JSON string boto3 takes (PolicyDocument=...), in a stable key order."""
    return json.dumps(_canonical(doc), indent=2)


_HCL_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _hcl_string(text: str) -> str:
    # JSON string escapes are a subset of HCL's; `${` and `%{` start templates in HCL and are doubled
    return json.dumps(text).replace("${", "$${").replace("%{", "%%{")


def _hcl_key(key: str) -> str:
    return key if _HCL_IDENTIFIER.fullmatch(key) else _hcl_string(key)


def _hcl(value: Any, indent: int = 0) -> str:
    """A JSON-like value as an HCL expression, laid out as `terraform fmt` would."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        width = max(len(_hcl_key(k)) for k in value)
        body = [f"{pad}  {_hcl_key(k).ljust(width)} = {_hcl(v, indent + 1)}" for k, v in value.items()]
        return "\n".join(["{", *body, pad + "}"])
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            one_line = "[" + ", ".join(_hcl_string(v) for v in value) + "]"
            if len(one_line) <= 80:
                return one_line
        return "\n".join(["[", *(f"{pad}  {_hcl(v, indent + 1)}," for v in value), pad + "]"])
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return _hcl_string(str(value))


def _hcl_block(kind: str, name: str, attributes: dict[str, str]) -> str:
    width = max(len(k) for k in attributes)
    body = "\n".join(f"  {k.ljust(width)} = {v}" for k, v in attributes.items())
    return f'resource "{kind}" "{name}" {{\n{body}\n}}\n'


def to_terraform(spec: StackSpec) -> str:
    """The stack's roles as Terraform: `aws_iam_role` + `aws_iam_role_policy`, policies via `jsonencode`.

    Why: the note this kit teaches from writes its policy in Terraform; this is the least-privilege
    counterpart in the same style. ARNs are literal (from the spec) so the text stands alone; swap
    in resource references (e.g. `aws_iam_role.task.arn`) when the roles live in your own module.
    """
    parts = [f"# IAM roles for sfnecs stack {spec.name!r} (pattern {spec.pattern}), from sfnecs.iam.to_terraform.\n"
             "# Least privilege: compare with the broad policy via sfnecs.iam.compare_with_broad.\n"]
    for role in policies_for(spec).values():
        parts.append(_hcl_block("aws_iam_role", role.kind, {
            "name": _hcl_string(role.name),
            "assume_role_policy": f"jsonencode({_hcl(_canonical(role.trust), 1)})",
            "tags": _hcl(spec.all_tags, 1),
        }))
        if role.permissions:
            parts.append(_hcl_block("aws_iam_role_policy", role.kind, {
                "name": _hcl_string(POLICY_NAME),
                "role": f"aws_iam_role.{role.kind}.id",
                "policy": f"jsonencode({_hcl(_canonical(role.permissions), 1)})",
            }))
    return "\n".join(parts)


# ---- what a state machine definition needs ---------------------------------------------------------
#: IAM actions each optimized integration needs, keyed by its Resource ARN; the table itself lives in
#: `sfnecs.statemachine` (one source, so the policy and the definition cannot drift).
INTEGRATION_ACTIONS: dict[str, tuple[str, ...]] = {
    f"arn:aws:states:::{key}": actions for key, actions in _statemachine.INTEGRATION_ACTIONS.items()}


def required_actions(definition: dict[str, Any]) -> set[str]:
    """The IAM actions the Task states of an ASL definition call (Parallel and Map branches included).

    Why: the test that the Step Functions role grants what the state machine uses, and nothing
    else, reads the definition rather than trusting either builder. Same as
    `sfnecs.statemachine.states_used`, which owns the reading.
    """
    return _statemachine.states_used(definition)


# ---- the note's broad policy, and how ours differs ---------------------------------------------------
def broad_policy(spec: StackSpec) -> dict[str, Any]:
    """The Step Functions role policy of the note this kit teaches from (ORIGINAL_NOTE.md), for `spec`.

    Why: the kit's lesson compares it with ours; kept as written (no Sids), with the note's
    `aws_iam_role.ecs_task_execution_role.arn` resolved to the spec's execution role.
    """
    return {"Version": VERSION, "Statement": [
        {"Effect": "Allow", "Action": ["ecs:RunTask", "ecs:StopTask", "ecs:DescribeTasks"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": [spec.role_arn(spec.execution_role)]},
        {"Effect": "Allow", "Action": ["events:PutTargets", "events:PutRule", "events:DescribeRule"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["iam:CreateServiceLinkedRole", "iam:AttachRolePolicy", "iam:PutRolePolicy"],
         "Resource": "arn:aws:iam::*:role/aws-service-role/events.amazonaws.com/AWSServiceRoleForCloudWatchEvents*",
         "Condition": {"StringEquals": {"iam:AWSServiceName": "events.amazonaws.com"}}},
    ]}


def _other(name: str, taken: set[str]) -> str:
    """A name like `name` that is none of `taken` (for "someone else's resource" probes)."""
    candidate = f"{name}-other"
    while candidate in taken:
        candidate += "x"
    return candidate


def _compare_probes(spec: StackSpec) -> list[tuple[Call, str, str]]:
    """(probe, what the broad grant allows beyond ours, why ours does not need it)."""
    own_td = spec.arn("ecs", f"task-definition/{spec.family}:1")
    cluster = {"ecs:cluster": spec.cluster_arn}
    to_ecs = {"iam:PassedToService": ECS_TASKS}
    other_cluster = _other(spec.cluster, {spec.cluster})
    slr = "arn:aws:iam::{}:role/aws-service-role/events.amazonaws.com/AWSServiceRoleForCloudWatchEvents".format(
        spec.account)
    same = "(both grant it)"
    probes = [
        (Call("ecs:RunTask", own_td, cluster), same, "needed: the Task state runs this family in this cluster"),
        (Call("ecs:RunTask", spec.arn("ecs", f"task-definition/{_other(spec.family, {spec.family})}:1"), cluster),
         "start any task definition of the account (any image, with whatever task role it names) as this role",
         "the state machine runs one family; ours names task-definition/<family>:* (every revision)"),
        (Call("ecs:RunTask", own_td, {"ecs:cluster": spec.arn("ecs", f"cluster/{other_cluster}")}),
         "launch into any cluster of the account",
         "the ecs:cluster condition pins the stack's cluster"),
        (Call("ecs:StopTask", spec.arn("ecs", f"task/{other_cluster}/0123456789abcdef")),
         "stop any task in any cluster, e.g. a production service's tasks",
         "Step Functions stops only the task it started, which runs in the stack's cluster"),
        (Call("ecs:DescribeTasks", spec.arn("ecs", f"task/{spec.cluster}/0123456789abcdef")), same,
         "needed: .sync reads the task it started"),
        (Call("iam:PassRole", spec.role_arn(spec.execution_role), to_ecs), same,
         "needed: the task definition names the execution role"),
        (Call("iam:PassRole", spec.role_arn(spec.task_role), to_ecs), "(missing from the broad policy)",
         "needed, and missing from the note: its PassRole names only the execution role, so a task "
         "definition with a task role fails to launch (AccessDenied on iam:PassRole)"),
        (Call("iam:PassRole", spec.role_arn(spec.execution_role), {"iam:PassedToService": "lambda.amazonaws.com"}),
         "hand the execution role to services other than ECS tasks",
         "iam:PassedToService = ecs-tasks.amazonaws.com is the only use"),
        (Call("events:PutTargets", spec.arn("events", f"rule/{SYNC_RULE}")), same,
         f"needed: .sync learns that the task stopped through the managed rule {SYNC_RULE}"),
        (Call("events:PutRule", spec.arn("events", "rule/any-rule")),
         "create or change any EventBridge rule on the default bus (and with PutTargets send its events "
         "anywhere)", f"Step Functions manages only the rule {SYNC_RULE}"),
        (Call("iam:CreateServiceLinkedRole", slr, {"iam:AWSServiceName": "events.amazonaws.com"}),
         "create EventBridge's service-linked role",
         "runTask.sync needs no IAM action besides PassRole (AWS's template has none)"),
        (Call("iam:PutRolePolicy", slr),
         "nothing in practice: iam:AWSServiceName is not in PutRolePolicy's (or AttachRolePolicy's) request "
         "context, so the StringEquals never matches (parliament: UNKNOWN_CONDITION_FOR_ACTION)",
         "dead text that reads like a privilege-escalation grant"),
    ]
    if spec.notify_failure or spec.notify_success:
        probes.append((Call("sns:Publish", spec.topic_arn), "(not in the broad policy)",
                       "needed by notify_failure/notify_success: the note's policy has no notifications"))
    if spec.guard:
        probes.append((Call("states:ListExecutions", spec.state_machine_arn), "(not in the broad policy)",
                       "needed by the overlap guard: the note's policy has none"))
    if spec.execution_logging:
        probes.append((Call("logs:CreateLogDelivery", "*"), "(not in the broad policy)",
                       "needed by execution logging: the note's policy has none"))
    return probes


def compare_with_broad(spec: StackSpec) -> pd.DataFrame:
    """What the note's broad policy grants that the kit's Step Functions role does not, and the reverse.

    Why: a learner sees each extra grant with what it would let the role do and why runTask.sync
    does not need it. The granted columns are computed by the sandbox's policy evaluator (pure,
    offline), so the table cannot claim what the policies do not say.
    """
    ours = permission_policy(spec, "sfn") or _document([])
    rows = []
    for call, allows, why in _compare_probes(spec):
        verdicts = {}
        for label, doc in (("broad", broad_policy(spec)), ("ours", ours)):
            statements = _as_list(doc["Statement"])
            result = simulate_custom_policy([to_json(_document([st])) for st in statements], [call.action],
                                            [] if call.resource == "*" else [call.resource],
                                            _context_entries(call.context))[0]
            outcome = _resource_outcome(result, call.resource)
            verdicts[label] = (outcome[0] == "allowed", _statement_names(outcome[1], statements, label))
        rows.append({"statement": verdicts["broad"][1], "our_statement": verdicts["ours"][1], "action": call.action,
                     "resource": call.resource, "context": json.dumps(call.context, sort_keys=True) if call.context
                     else "", "granted_by_broad": verdicts["broad"][0],
                     "granted_by_ours": verdicts["ours"][0], "extra_grant_allows": allows, "why_not_needed": why})
    return pd.DataFrame(rows)


# ---- lint (parliament) -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """One parliament finding, with the statement (Sid) it concerns and, if accepted, why."""

    issue: str
    severity: str
    title: str
    detail: str
    sid: str | None
    actions: tuple[str, ...] = ()
    accepted: str = ""


def _parliament_meta() -> dict[str, dict[str, Any]]:
    """parliament's finding titles and severities, with its community auditors' (read, not installed)."""
    import parliament
    import yaml

    override = Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml"
    return {**parliament.config, **yaml.safe_load(override.read_text())}


def _lintable(doc: dict[str, Any]) -> dict[str, Any]:
    """The document parliament can read: a trust statement's resource is its role, implied by IAM;
    parliament insists on a Resource element, so the role is written in (any role of any account)."""
    statements = [dict(st, Resource=["arn:aws:iam::*:role/*"])
                  if "Principal" in st and "Resource" not in st and "NotResource" not in st else st
                  for st in _as_list(doc.get("Statement", []))]
    return {**doc, "Statement": statements}


def lint(doc: dict[str, Any], *, include_accepted: bool = False) -> list[Finding]:
    """parliament's findings (with its community auditors) on a policy, each tied to its statement.

    Why: a maintained linter judges the policies, not us. A finding AWS makes unavoidable is
    accepted only for the (finding type, Sid) pairs in ACCEPTED_FINDINGS, each with its written
    reason; accepted findings are left out unless `include_accepted`. Nothing else is filtered.
    A statement without a Sid is named by its position (`#1`, ...).
    """
    import parliament

    meta = _parliament_meta()
    statements = _as_list(doc.get("Statement", []))
    names = [st.get("Sid") or f"#{n}" for n, st in enumerate(statements, 1)]
    policy = parliament.analyze_policy_string(json.dumps(_lintable(doc)), include_community_auditors=True)
    located = [(names[n], f) for n, st in enumerate(policy.statements) for f in st.findings]
    seen = {id(f) for _, f in located}
    out: list[Finding] = []
    for name, f in located + [(None, f) for f in policy.findings if id(f) not in seen]:
        # parliament puts a statement finding's specifics in `detail`, a community auditor's in `location`
        raw = f.detail or {k: v for k, v in (f.location or {}).items() if k != "filepath"}
        actions = _finding_actions(raw)
        if isinstance(raw, dict) and "actions" in raw:
            raw = {**raw, "actions": actions}
        if name is not None:
            owners: list[str | None] = [name]
        else:
            owners = sorted(_granting_statements(statements, names, actions), key=str) or [None]
        reasons = [ACCEPTED_FINDINGS.get((f.issue, o)) if o is not None else None for o in owners]
        accepted = " / ".join(dict.fromkeys(r for r in reasons if r)) if all(reasons) else ""
        info = meta.get(f.issue, {})
        detail = raw if isinstance(raw, str) else json.dumps(raw, default=str, sort_keys=True)
        for owner in owners:
            finding = Finding(f.issue, str(info.get("severity", "")), str(info.get("title", "")), detail, owner,
                              tuple(actions), accepted)
            if (include_accepted or not accepted) and finding not in out:
                out.append(finding)
    return out


def _finding_actions(raw: Any) -> list[str]:
    """The actions a parliament finding names, whatever shape its detail has."""
    if isinstance(raw, dict) and isinstance(raw.get("actions"), list):
        return sorted(str(a) for a in raw["actions"])  # community auditors collect them in a set
    if isinstance(raw, list):
        return [str(d["action"]) if isinstance(d, dict) else str(d) for d in raw
                if isinstance(d, str) or (isinstance(d, dict) and "action" in d)]
    return []


def _granting_statements(statements: list[dict[str, Any]], names: list[str], actions: list[str]) -> set[str]:
    """Names of the statements whose Action patterns cover any of `actions` (case-insensitive, as IAM)."""
    return {name for st, name in zip(statements, names)
            if any(fnmatch.fnmatchcase(a.lower(), str(pattern).lower())
                   for a in actions for pattern in _as_list(st.get("Action", [])))}


# ---- simulation ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    """One API call to simulate: action, resource ARN (or *), request context, and what we expect."""

    action: str
    resource: str = "*"
    context: dict[str, str | list[str]] = field(default_factory=dict)
    expected: Decision | None = None
    label: str = ""
    role: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.action, str) or ":" not in self.action:
            raise ValidationError("action", self.action, "service:Action, e.g. ecs:RunTask")
        if self.expected is not None and self.expected not in DECISIONS:
            raise ValidationError("expected", self.expected, "None or one of " + ", ".join(DECISIONS))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _context_entries(context: dict[str, str | list[str]]) -> list[dict[str, Any]]:
    return [{"ContextKeyName": key, "ContextKeyValues": list(value) if isinstance(value, (list, tuple)) else [value],
             "ContextKeyType": "stringList" if isinstance(value, (list, tuple)) else "string"}
            for key, value in context.items()]


def _resource_outcome(result: dict[str, Any], resource: str) -> tuple[str, list[dict[str, Any]]]:
    """(decision, matched statements) for `resource`: per-resource when IAM reports it, else top level."""
    for specific in result.get("ResourceSpecificResults") or []:
        if specific.get("EvalResourceName") == resource:
            return specific["EvalResourceDecision"], specific.get("MatchedStatements") or []
    return result["EvalDecision"], result.get("MatchedStatements") or []


def _statement_names(matched: list[dict[str, Any]], statements: list[dict[str, Any]], label: str) -> str:
    """Sids (or `#n`) of matched statements, each submitted as its own policy `PolicyInputList.n`."""
    names = []
    for m in matched:
        source = str(m.get("SourcePolicyId", ""))
        number = source.rsplit(".", 1)[-1]
        if source.startswith("PolicyInputList.") and number.isdigit() and 0 < int(number) <= len(statements):
            names.append(statements[int(number) - 1].get("Sid") or f"{label} #{number}")
        else:
            names.append(source)
    return ", ".join(names)


def simulate(iam_client: Any, policy_doc: dict[str, Any], calls: list[Call]) -> pd.DataFrame:
    """Ask IAM's SimulateCustomPolicy how `policy_doc` answers each call; one row per call.

    Why: the real evaluator (or the sandbox's) is the judge, not our reading of the JSON. Each
    statement is sent as its own policy so a match names its Sid; each call is its own request
    because the request context differs per call.
    """
    statements = _as_list(policy_doc["Statement"])
    inputs = [to_json({"Version": policy_doc.get("Version", VERSION), "Statement": [st]}) for st in statements]
    paginator = iam_client.get_paginator("simulate_custom_policy")
    rows = []
    for call in calls:
        request: dict[str, Any] = {"PolicyInputList": inputs, "ActionNames": [call.action],
                                   "ContextEntries": _context_entries(call.context)}
        if call.resource != "*":
            request["ResourceArns"] = [call.resource]
        results = [r for page in paginator.paginate(**request) for r in page["EvaluationResults"]]
        decision, matched = _resource_outcome(results[0], call.resource)
        rows.append({"role": call.role, "label": call.label, "action": call.action, "resource": call.resource,
                     "context": dict(call.context), "decision": decision, "expected": call.expected,
                     "as_expected": None if call.expected is None else decision == call.expected,
                     "matched": _statement_names(matched, statements, "statement"),
                     "missing_context": ", ".join(sorted({k for r in results for k in r.get("MissingContextValues")
                                                          or []}))})
    return pd.DataFrame(rows, columns=["role", "label", "action", "resource", "context", "decision", "expected",
                                       "as_expected", "matched", "missing_context"])


def simulate_roles(iam_client: Any, spec: StackSpec, calls: list[Call] | None = None) -> pd.DataFrame:
    """`simulate` for every role of the stack that has permissions, on the calls aimed at it."""
    calls = default_matrix(spec) if calls is None else calls
    frames = [simulate(iam_client, role.permissions, [c for c in calls if c.role == name])
              for name, role in policies_for(spec).items() if role.permissions and any(c.role == name for c in calls)]
    return pd.concat(frames, ignore_index=True) if frames else simulate(iam_client, _document([]), [])


def _launcher_calls(spec: StackSpec) -> list[Call]:
    own_td = spec.arn("ecs", f"task-definition/{spec.family}:1")
    cluster = {"ecs:cluster": spec.cluster_arn}
    to_ecs = {"iam:PassedToService": ECS_TASKS}
    roles = {spec.task_role, spec.execution_role, spec.sfn_role, spec.scheduler_role}
    return [
        Call("ecs:RunTask", own_td, cluster, "allowed", "own task definition in own cluster"),
        Call("ecs:RunTask", spec.arn("ecs", f"task-definition/{_other(spec.family, {spec.family})}:1"), cluster,
             "implicitDeny", "another family"),
        Call("ecs:RunTask", own_td, {"ecs:cluster": spec.arn("ecs", f"cluster/{_other(spec.cluster, set())}")},
             "implicitDeny", "another cluster"),
        Call("iam:PassRole", spec.role_arn(spec.task_role), to_ecs, "allowed", "pass the task role to ECS tasks"),
        Call("iam:PassRole", spec.role_arn(spec.execution_role), to_ecs, "allowed",
             "pass the execution role to ECS tasks"),
        Call("iam:PassRole", spec.role_arn(_other(spec.task_role, roles)), to_ecs, "implicitDeny",
             "pass another role"),
        Call("iam:PassRole", spec.role_arn(spec.task_role), {"iam:PassedToService": "lambda.amazonaws.com"},
             "implicitDeny", "pass the task role to another service"),
    ]


def _dead_letter_calls(spec: StackSpec) -> list[Call]:
    return [Call("sqs:SendMessage", spec.dlq_arn, {}, "allowed", "dead letter to own queue"),
            Call("sqs:SendMessage", spec.arn("sqs", _other(spec.dlq, set())), {}, "implicitDeny", "another queue")]


def _on(switch: bool) -> str:
    return "allowed" if switch else "implicitDeny"


def _sfn_calls(spec: StackSpec) -> list[Call]:
    task = f"task/{spec.cluster}/0123456789abcdef0123456789abcdef"
    slr = f"arn:aws:iam::{spec.account}:role/aws-service-role/events.amazonaws.com/AWSServiceRoleForCloudWatchEvents"
    return _launcher_calls(spec) + [
        Call("ecs:StopTask", spec.arn("ecs", task), {}, "allowed", "stop a task in own cluster"),
        Call("ecs:DescribeTasks", spec.arn("ecs", task), {}, "allowed", "describe a task in own cluster"),
        Call("ecs:StopTask", spec.arn("ecs", f"task/{_other(spec.cluster, set())}/0123456789abcdef"), {},
             "implicitDeny", "stop a task in another cluster"),
        Call("events:PutRule", spec.arn("events", f"rule/{SYNC_RULE}"), {}, "allowed", "the managed .sync rule"),
        Call("events:PutRule", spec.arn("events", "rule/any-rule"), {}, "implicitDeny", "any other rule"),
        Call("iam:CreateServiceLinkedRole", slr, {"iam:AWSServiceName": "events.amazonaws.com"}, "implicitDeny",
             "the note's service-linked-role grant"),
        Call("sns:Publish", spec.topic_arn, {}, _on(spec.notify_failure or spec.notify_success), "notify"),
        Call("states:ListExecutions", spec.state_machine_arn, {}, _on(spec.guard), "overlap guard"),
        Call("logs:CreateLogDelivery", "*", {}, _on(spec.execution_logging), "execution logging"),
    ]


def _scheduler_calls(spec: StackSpec) -> list[Call]:
    if spec.pattern == "B":
        return [
            Call("states:StartExecution", spec.state_machine_arn, {}, "allowed", "start own state machine"),
            Call("states:StartExecution", spec.arn("states", f"stateMachine:{_other(spec.state_machine, set())}"),
                 {}, "implicitDeny", "another state machine"),
            Call("ecs:RunTask", spec.arn("ecs", f"task-definition/{spec.family}:1"),
                 {"ecs:cluster": spec.cluster_arn}, "implicitDeny", "pattern B's scheduler does not launch tasks"),
        ] + _dead_letter_calls(spec)
    task = spec.arn("ecs", f"task/{spec.cluster}/0123456789abcdef0123456789abcdef")
    return _launcher_calls(spec) + [
        Call("ecs:TagResource", task, {"ecs:CreateAction": "RunTask"}, "allowed", "tag the task it launches"),
        Call("ecs:TagResource", task, {}, "implicitDeny", "tag an existing task"),
    ] + _dead_letter_calls(spec)


def _execution_calls(spec: StackSpec) -> list[Call]:
    repository = _ecr_repository_arn(spec)
    stream = f"{spec.log_group_arn}:log-stream:{spec.container_name}/{spec.container_name}/0123456789abcdef"
    calls = [
        Call("logs:PutLogEvents", stream, {}, "allowed", "write own task logs"),
        Call("logs:PutLogEvents", spec.arn("logs", f"log-group:{_other(spec.log_group, set())}:log-stream:x"), {},
             "implicitDeny", "another log group"),
        Call("logs:CreateLogGroup", f"{spec.log_group_arn}:*", {}, "implicitDeny", "the stack creates the group"),
    ]
    if repository:
        calls += [
            Call("ecr:BatchGetImage", repository, {}, "allowed", "pull own image"),
            Call("ecr:BatchGetImage", repository.rsplit("/", 1)[0] + "/" + _other(repository.rsplit("/", 1)[1], set()),
                 {}, "implicitDeny", "another repository"),
            Call("ecr:GetAuthorizationToken", "*", {}, "allowed", "registry login"),
        ]
    return calls


_MATRIX: dict[str, Callable[[StackSpec], list[Call]]] = {
    "sfn": _sfn_calls, "scheduler": _scheduler_calls, "execution": _execution_calls}


def default_matrix(spec: StackSpec) -> list[Call]:
    """The calls that show each role of the stack can do its job and nothing next to it.

    Why: own task definition in own cluster is allowed; another family, another cluster, another
    role to pass, another service to pass to, another state machine, queue, log group or
    repository are not. Each Call names the role it probes and the decision we expect.
    """
    out: list[Call] = []
    for name, role in policies_for(spec).items():
        for call in _MATRIX.get(role.kind, lambda s: [])(spec):
            out.append(Call(call.action, call.resource, call.context, call.expected, call.label, name))
    return out

"""Asking IAM's policy simulator how the stack's roles answer calls, and the default call matrix.

Why: the real evaluator (or the sandbox's) is the judge, not our reading of the JSON; the matrix
shows each role can do its job and nothing next to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_
from sfnecs.iam.policies import ECS_TASKS, SYNC_RULE, VERSION, _document, _ecr_repository_arn, policies_for
from sfnecs.iam.render import to_json
from sfnecs.model.policy_evaluation import as_list
from sfnecs.model.spec import StackSpec

Decision = Literal["allowed", "implicitDeny", "explicitDeny"]
DECISIONS: tuple[str, ...] = ("allowed", "implicitDeny", "explicitDeny")


@dataclass(frozen=True)
class Call:
    """One API call to simulate: action, resource ARN (or *), request context, and what we expect."""

    action: str
    resource: str = "*"
    context: Mapping[str, str | list[str]] = field(default_factory=dict)
    expected: Decision | None = None
    label: str = ""
    role: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.action, str) or ":" not in self.action:
            raise ValidationError("action", self.action, "service:Action, e.g. ecs:RunTask")
        if self.expected is not None and self.expected not in DECISIONS:
            raise ValidationError("expected", self.expected, "None or one of " + ", ".join(DECISIONS))


def _context_entries(context: Mapping[str, str | list[str]]) -> list[dict[str, Any]]:
    return [
        {
            "ContextKeyName": key,
            "ContextKeyValues": list(value) if isinstance(value, (list, tuple)) else [value],
            "ContextKeyType": "stringList" if isinstance(value, (list, tuple)) else "string",
        }
        for key, value in context.items()
    ]


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


#: the simulation table's columns (English names; shown translated by `sfnecs.i18n.localize`)
_SIMULATION_COLUMNS = [
    N_("role"),
    N_("label"),
    N_("action"),
    N_("resource"),
    N_("context"),
    N_("decision"),
    N_("expected"),
    N_("as_expected"),
    N_("matched"),
    N_("missing_context"),
]


def simulate(iam_client: Any, policy_doc: dict[str, Any], calls: list[Call]) -> pd.DataFrame:
    """Ask IAM's SimulateCustomPolicy how `policy_doc` answers each call; one row per call.

    Why: the real evaluator (or the sandbox's) is the judge, not our reading of the JSON. Each
    statement is sent as its own policy so a match names its Sid; each call is its own request
    because the request context differs per call.
    """
    statements = as_list(policy_doc["Statement"])
    inputs = [to_json({"Version": policy_doc.get("Version", VERSION), "Statement": [st]}) for st in statements]
    paginator = iam_client.get_paginator("simulate_custom_policy")
    rows = []
    for call in calls:
        request: dict[str, Any] = {
            "PolicyInputList": inputs,
            "ActionNames": [call.action],
            "ContextEntries": _context_entries(call.context),
        }
        if call.resource != "*":
            request["ResourceArns"] = [call.resource]
        results = [r for page in paginator.paginate(**request) for r in page["EvaluationResults"]]
        decision, matched = _resource_outcome(results[0], call.resource)
        rows.append(
            {
                "role": call.role,
                "label": call.label,
                "action": call.action,
                "resource": call.resource,
                "context": dict(call.context),
                "decision": decision,
                "expected": call.expected,
                "as_expected": None if call.expected is None else decision == call.expected,
                "matched": _statement_names(matched, statements, "statement"),
                "missing_context": ", ".join(sorted({k for r in results for k in r.get("MissingContextValues") or []})),
            }
        )
    return pd.DataFrame(rows, columns=_SIMULATION_COLUMNS)


def simulate_roles(iam_client: Any, spec: StackSpec, calls: list[Call] | None = None) -> pd.DataFrame:
    """`simulate` for every role of the stack that has permissions, on the calls aimed at it."""
    calls = default_matrix(spec) if calls is None else calls
    frames = [
        simulate(iam_client, role.permissions, [c for c in calls if c.role == name])
        for name, role in policies_for(spec).items()
        if role.permissions and any(c.role == name for c in calls)
    ]
    return pd.concat(frames, ignore_index=True) if frames else simulate(iam_client, _document([]), [])


def _other(name: str, taken: set[str]) -> str:
    """A name like `name` that is none of `taken` (for "someone else's resource" probes)."""
    candidate = f"{name}-other"
    while candidate in taken:
        candidate += "x"
    return candidate


def _launcher_calls(spec: StackSpec) -> list[Call]:
    own_td = spec.arn("ecs", f"task-definition/{spec.family}:1")
    cluster = {"ecs:cluster": spec.cluster_arn}
    to_ecs = {"iam:PassedToService": ECS_TASKS}
    roles = {spec.task_role, spec.execution_role, spec.sfn_role, spec.scheduler_role}
    return [
        Call("ecs:RunTask", own_td, cluster, "allowed", N_("own task definition in own cluster")),
        Call(
            "ecs:RunTask",
            spec.arn("ecs", f"task-definition/{_other(spec.family, {spec.family})}:1"),
            cluster,
            "implicitDeny",
            N_("another family"),
        ),
        Call(
            "ecs:RunTask",
            own_td,
            {"ecs:cluster": spec.arn("ecs", f"cluster/{_other(spec.cluster, set())}")},
            "implicitDeny",
            N_("another cluster"),
        ),
        Call("iam:PassRole", spec.role_arn(spec.task_role), to_ecs, "allowed", N_("pass the task role to ECS tasks")),
        Call(
            "iam:PassRole",
            spec.role_arn(spec.execution_role),
            to_ecs,
            "allowed",
            N_("pass the execution role to ECS tasks"),
        ),
        Call(
            "iam:PassRole",
            spec.role_arn(_other(spec.task_role, roles)),
            to_ecs,
            "implicitDeny",
            N_("pass another role"),
        ),
        Call(
            "iam:PassRole",
            spec.role_arn(spec.task_role),
            {"iam:PassedToService": "lambda.amazonaws.com"},
            "implicitDeny",
            N_("pass the task role to another service"),
        ),
    ]


def _dead_letter_calls(spec: StackSpec) -> list[Call]:
    return [
        Call("sqs:SendMessage", spec.dlq_arn, {}, "allowed", N_("dead letter to own queue")),
        Call("sqs:SendMessage", spec.arn("sqs", _other(spec.dlq, set())), {}, "implicitDeny", N_("another queue")),
    ]


def _on(switch: bool) -> Decision:
    return "allowed" if switch else "implicitDeny"


def _sfn_calls(spec: StackSpec) -> list[Call]:
    task = f"task/{spec.cluster}/0123456789abcdef0123456789abcdef"
    slr = (
        f"arn:{spec.partition}:iam::{spec.account}:role/aws-service-role/events.amazonaws.com/"
        "AWSServiceRoleForCloudWatchEvents"
    )
    return _launcher_calls(spec) + [
        Call("ecs:StopTask", spec.arn("ecs", task), {}, "allowed", N_("stop a task in own cluster")),
        Call("ecs:DescribeTasks", spec.arn("ecs", task), {}, "allowed", N_("describe a task in own cluster")),
        Call(
            "ecs:StopTask",
            spec.arn("ecs", f"task/{_other(spec.cluster, set())}/0123456789abcdef"),
            {},
            "implicitDeny",
            N_("stop a task in another cluster"),
        ),
        Call("events:PutRule", spec.arn("events", f"rule/{SYNC_RULE}"), {}, "allowed", N_("the managed .sync rule")),
        Call("events:PutRule", spec.arn("events", "rule/any-rule"), {}, "implicitDeny", N_("any other rule")),
        Call(
            "iam:CreateServiceLinkedRole",
            slr,
            {"iam:AWSServiceName": "events.amazonaws.com"},
            "implicitDeny",
            N_("the note's service-linked-role grant"),
        ),
        Call("sns:Publish", spec.topic_arn, {}, _on(spec.notify_failure or spec.notify_success), N_("notify")),
        Call("states:ListExecutions", spec.state_machine_arn, {}, _on(spec.guard), N_("overlap guard")),
        Call("logs:CreateLogDelivery", "*", {}, _on(spec.execution_logging), N_("execution logging")),
    ]


def _scheduler_calls(spec: StackSpec) -> list[Call]:
    if spec.pattern == "B":
        return [
            Call("states:StartExecution", spec.state_machine_arn, {}, "allowed", N_("start own state machine")),
            Call(
                "states:StartExecution",
                spec.arn("states", f"stateMachine:{_other(spec.state_machine, set())}"),
                {},
                "implicitDeny",
                N_("another state machine"),
            ),
            Call(
                "ecs:RunTask",
                spec.arn("ecs", f"task-definition/{spec.family}:1"),
                {"ecs:cluster": spec.cluster_arn},
                "implicitDeny",
                N_("pattern B's scheduler does not launch tasks"),
            ),
        ] + _dead_letter_calls(spec)
    task = spec.arn("ecs", f"task/{spec.cluster}/0123456789abcdef0123456789abcdef")
    return (
        _launcher_calls(spec)
        + [
            Call("ecs:TagResource", task, {"ecs:CreateAction": "RunTask"}, "allowed", N_("tag the task it launches")),
            Call("ecs:TagResource", task, {}, "implicitDeny", N_("tag an existing task")),
        ]
        + _dead_letter_calls(spec)
    )


def _execution_calls(spec: StackSpec) -> list[Call]:
    repository = _ecr_repository_arn(spec)
    stream = f"{spec.log_group_arn}:log-stream:{spec.container_name}/{spec.container_name}/0123456789abcdef"
    calls = [
        Call("logs:PutLogEvents", stream, {}, "allowed", N_("write own task logs")),
        Call(
            "logs:PutLogEvents",
            spec.arn("logs", f"log-group:{_other(spec.log_group, set())}:log-stream:x"),
            {},
            "implicitDeny",
            N_("another log group"),
        ),
        Call("logs:CreateLogGroup", f"{spec.log_group_arn}:*", {}, "implicitDeny", N_("the stack creates the group")),
    ]
    if repository:
        calls += [
            Call("ecr:BatchGetImage", repository, {}, "allowed", N_("pull own image")),
            Call(
                "ecr:BatchGetImage",
                repository.rsplit("/", 1)[0] + "/" + _other(repository.rsplit("/", 1)[1], set()),
                {},
                "implicitDeny",
                N_("another repository"),
            ),
            Call("ecr:GetAuthorizationToken", "*", {}, "allowed", N_("registry login")),
        ]
    return calls


_MATRIX: dict[str, Callable[[StackSpec], list[Call]]] = {
    "sfn": _sfn_calls,
    "scheduler": _scheduler_calls,
    "execution": _execution_calls,
}


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

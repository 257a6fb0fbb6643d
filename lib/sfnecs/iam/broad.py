"""The broad Step Functions policy of the note this kit teaches from, and what it grants beyond ours.

Why: the least-privilege lesson shows each extra grant, what it would let the role do, and why
runTask.sync does not need it; the verdicts come from the policy evaluator, not from prose.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from sfnecs.i18n import N_, tr
from sfnecs.iam.policies import ECS_TASKS, SYNC_RULE, VERSION, _document, permission_policy
from sfnecs.iam.render import to_json
from sfnecs.iam.simulate import (
    Call,
    _context_entries,
    _other,
    _resource_outcome,
    _statement_names,
    default_matrix,
    simulate,
)
from sfnecs.model.policy_evaluation import as_list, simulate_custom_policy
from sfnecs.model.spec import StackSpec


def broad_policy(spec: StackSpec) -> dict[str, Any]:
    """The Step Functions role policy of the note this kit teaches from, for `spec` (fact: correction-note-policy).

    Why: the kit's lesson compares it with ours; kept as written (no Sids), with the note's
    `aws_iam_role.ecs_task_execution_role.arn` resolved to the spec's execution role.
    """
    return {
        "Version": VERSION,
        "Statement": [
            {"Effect": "Allow", "Action": ["ecs:RunTask", "ecs:StopTask", "ecs:DescribeTasks"], "Resource": "*"},
            {"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": [spec.role_arn(spec.execution_role)]},
            {
                "Effect": "Allow",
                "Action": ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": ["iam:CreateServiceLinkedRole", "iam:AttachRolePolicy", "iam:PutRolePolicy"],
                "Resource": f"arn:{spec.partition}:iam::*:role/aws-service-role/events.amazonaws.com/"
                "AWSServiceRoleForCloudWatchEvents*",
                "Condition": {"StringEquals": {"iam:AWSServiceName": "events.amazonaws.com"}},
            },
        ],
    }


def _compare_probes(spec: StackSpec) -> list[tuple[Call, str, str]]:
    """(probe, what the broad grant allows beyond ours, why ours does not need it)."""
    own_td = spec.arn("ecs", f"task-definition/{spec.family}:1")
    cluster = {"ecs:cluster": spec.cluster_arn}
    to_ecs = {"iam:PassedToService": ECS_TASKS}
    other_cluster = _other(spec.cluster, {spec.cluster})
    slr = (
        f"arn:{spec.partition}:iam::{spec.account}:role/aws-service-role/events.amazonaws.com/"
        "AWSServiceRoleForCloudWatchEvents"
    )
    same = N_("(both grant it)")
    probes = [
        (Call("ecs:RunTask", own_td, cluster), same, N_("needed: the Task state runs this family in this cluster")),
        (
            Call("ecs:RunTask", spec.arn("ecs", f"task-definition/{_other(spec.family, {spec.family})}:1"), cluster),
            N_("start any task definition of the account (any image, with whatever task role it names) as this role"),
            N_("the state machine runs one family; ours names task-definition/<family>:* (every revision)"),
        ),
        (
            Call("ecs:RunTask", own_td, {"ecs:cluster": spec.arn("ecs", f"cluster/{other_cluster}")}),
            N_("launch into any cluster of the account"),
            N_("the ecs:cluster condition pins the stack's cluster"),
        ),
        (
            Call("ecs:StopTask", spec.arn("ecs", f"task/{other_cluster}/0123456789abcdef")),
            N_("stop any task in any cluster, e.g. a production service's tasks"),
            N_("Step Functions stops only the task it started, which runs in the stack's cluster"),
        ),
        (
            Call("ecs:DescribeTasks", spec.arn("ecs", f"task/{spec.cluster}/0123456789abcdef")),
            same,
            N_("needed: .sync reads the task it started"),
        ),
        (
            Call("iam:PassRole", spec.role_arn(spec.execution_role), to_ecs),
            same,
            N_("needed: the task definition names the execution role"),
        ),
        (
            Call("iam:PassRole", spec.role_arn(spec.task_role), to_ecs),
            N_("(missing from the broad policy)"),
            N_(
                "needed, and missing from the note: its PassRole names only the execution role, so a task "
                "definition with a task role fails to launch (AccessDenied on iam:PassRole)"
            ),
        ),
        (
            Call("iam:PassRole", spec.role_arn(spec.execution_role), {"iam:PassedToService": "lambda.amazonaws.com"}),
            N_("hand the execution role to services other than ECS tasks"),
            N_("iam:PassedToService = ecs-tasks.amazonaws.com is the only use"),
        ),
        (
            Call("events:PutTargets", spec.arn("events", f"rule/{SYNC_RULE}")),
            same,
            tr("needed: .sync learns that the task stopped through the managed rule {rule}", rule=SYNC_RULE),
        ),
        (
            Call("events:PutRule", spec.arn("events", "rule/any-rule")),
            N_(
                "create or change any EventBridge rule on the default bus "
                "(and with PutTargets send its events anywhere)"
            ),
            tr("Step Functions manages only the rule {rule}", rule=SYNC_RULE),
        ),
        (
            Call("iam:CreateServiceLinkedRole", slr, {"iam:AWSServiceName": "events.amazonaws.com"}),
            N_("create EventBridge's service-linked role"),
            N_("runTask.sync needs no IAM action besides PassRole (AWS's template has none)"),
        ),
        (
            Call("iam:PutRolePolicy", slr),
            N_(
                "nothing in practice: iam:AWSServiceName is not in PutRolePolicy's (or AttachRolePolicy's) "
                "request context, so the StringEquals never matches (parliament: UNKNOWN_CONDITION_FOR_ACTION)"
            ),
            N_("dead text that reads like a privilege-escalation grant"),
        ),
    ]
    if spec.notify_failure or spec.notify_success:
        probes.append(
            (
                Call("sns:Publish", spec.topic_arn),
                N_("(not in the broad policy)"),
                N_("needed by notify_failure/notify_success: the note's policy has no notifications"),
            )
        )
    if spec.guard:
        probes.append(
            (
                Call("states:ListExecutions", spec.state_machine_arn),
                N_("(not in the broad policy)"),
                N_("needed by the overlap guard: the note's policy has none"),
            )
        )
    if spec.execution_logging:
        probes.append(
            (
                Call("logs:CreateLogDelivery", "*"),
                N_("(not in the broad policy)"),
                N_("needed by execution logging: the note's policy has none"),
            )
        )
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
            statements = as_list(doc["Statement"])
            result = simulate_custom_policy(
                [to_json(_document([st])) for st in statements],
                [call.action],
                [] if call.resource == "*" else [call.resource],
                _context_entries(call.context),
            )[0]
            outcome = _resource_outcome(result, call.resource)
            verdicts[label] = (outcome[0] == "allowed", _statement_names(outcome[1], statements, label))
        rows.append(
            {
                "statement": verdicts["broad"][1],
                "our_statement": verdicts["ours"][1],
                "action": call.action,
                "resource": call.resource,
                "context": json.dumps(call.context, sort_keys=True) if call.context else "",
                "granted_by_broad": verdicts["broad"][0],
                "granted_by_ours": verdicts["ours"][0],
                "extra_grant_allows": allows,
                "why_not_needed": why,
            }
        )
    return pd.DataFrame(rows, columns=_COMPARE_COLUMNS)


#: compare_with_broad's columns (English names; shown translated by `sfnecs.i18n.localize`)
_COMPARE_COLUMNS = [
    N_("statement"),
    N_("our_statement"),
    N_("action"),
    N_("resource"),
    N_("context"),
    N_("granted_by_broad"),
    N_("granted_by_ours"),
    N_("extra_grant_allows"),
    N_("why_not_needed"),
]


def simulate_against_broad(iam_client: Any, spec: StackSpec) -> pd.DataFrame:
    """How the kit's Step Functions role policy and the note's broad one answer the same calls, by IAM's simulator.

    Why: the lesson sets the two verdicts side by side on the calls of `default_matrix` aimed at the
    Step Functions role; the real evaluator (or the sandbox's) decides both columns.
    """
    calls = [call for call in default_matrix(spec) if call.role == spec.sfn_role]
    ours = simulate(iam_client, permission_policy(spec, "sfn") or _document([]), calls)
    broad = simulate(iam_client, broad_policy(spec), calls)
    return pd.DataFrame(
        {"call": ours["label"], "action": ours["action"], "ours": ours["decision"], "broad": broad["decision"]},
        columns=[N_("call"), N_("action"), N_("ours"), N_("broad")],
    )

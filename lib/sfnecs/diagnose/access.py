"""The AccessDenied categories: a role that may not make a call a service makes for the user.

Why its own module: these failures arrive in every envelope (a `.sync` state's `ECS.AccessDeniedException`,
a Notify state's `SNS.AuthorizationErrorException`, the guard's `Sfn.*` error, a task stopped with
`ResourceInitializationError`/`CannotPullContainerError`, a Scheduler dead letter's ERROR_MESSAGE, a
CreateStateMachine/UpdateStateMachine refusal) yet have one fix: give the named role the named action.
The texts read are IAM's ("Troubleshoot access denied error messages": `User: <assumed-role ARN> is not
authorized to perform: <action> on resource: <ARN>`) and Step Functions' refusals as users report them
(*community*: "is not authorized to create managed-rule", "not authorized to access the Log
Destination", "Neither the global service principal ... is authorized to assume the provided role").
"""

from __future__ import annotations

import re

from sfnecs.diagnose.evidence import Facts, _hits_evidence
from sfnecs.diagnose.result import Diagnosis
from sfnecs.i18n import N_, tr
from sfnecs.iam.policies import LOG_DELIVERY_ACTIONS, SYNC_RULE

__all__ = ["ACCESS_MATCHERS", "access_denied", "log_delivery_denied", "managed_rule_denied", "role_not_assumable"]

_DENIED = re.compile(
    r"User: (?P<who>arn:[\w-]+:(?:sts|iam)::\d+:(?:assumed-role|role|user)/(?P<role>[\w+=,.@-]+)(?:/\S+)?) "
    r"is not authorized to perform: (?P<action>[\w-]+:[\w*]+) on resource: (?P<resource>\S+?)"
    r"(?: because|\s|$|\))",
    re.IGNORECASE,
)
#: who makes the call, from the shape the failure came in
_CALLERS: list[tuple[str, str]] = [
    (r"^(ECS|SNS|Sfn|States)\.|Service: Amazon(ECS|SNS)", N_("Step Functions (the state machine's role)")),
    (r"ResourceInitializationError|CannotPullContainerError", N_("the Fargate agent (the task execution role)")),
    (r"states:StartExecution|sqs:SendMessage|TagResource", N_("EventBridge Scheduler (the schedule's role)")),
]


def _caller(facts: Facts, text: str) -> str:
    probe = f"{facts.error} {text}"
    return tr(next((who for pattern, who in _CALLERS if re.search(pattern, probe)), N_("the service acting for you")))


def access_denied(facts: Facts) -> Diagnosis | None:
    """IAM refused a call a service made with a role: the action, resource and role are in the text."""
    hits = facts.find(_DENIED.pattern)
    if hits:
        src, text, m = hits[0]
        role, action, resource = m["role"], m["action"], m["resource"].rstrip(".,;")
        caller = _caller(facts, text)
        return Diagnosis(
            "access_denied",
            "high",
            tr(
                "{caller} was refused {action} on {resource}: the role {role} does not allow it.",
                caller=caller,
                action=action,
                resource=resource,
                role=role,
            ),
            tuple(_hits_evidence(hits[:3])),
            tr(
                "Grant the role {role} the action {action} on {resource} (with the conditions the call carries, "
                "e.g. iam:PassedToService for iam:PassRole), then run again. For a stack's role, `sfnecs apply` "
                "puts the generated policy back (sfnecs.iam.policies_for lists what each role is granted and why).",
                role=role,
                action=action,
                resource=resource,
            ),
        )
    return None


def managed_rule_denied(facts: Facts) -> Diagnosis | None:
    """CreateStateMachine/UpdateStateMachine: the role may not manage the `.sync` integration's rule."""
    hits = facts.find(r"'(arn:[^']+:role/([^']+))' is not authorized to create managed-rule")
    if not hits:
        return None
    role = hits[0][2][2]
    rule = f"arn:<partition>:events:<region>:<account>:rule/{SYNC_RULE}"
    return Diagnosis(
        "managed_rule_denied",
        "high",
        tr(
            "Step Functions could not create the managed rule of a .sync integration with the role {role}.",
            role=role,
        ),
        tuple(_hits_evidence(hits[:1])),
        tr(
            "Grant the role {role} events:PutTargets, events:PutRule and events:DescribeRule on "
            "{rule} (Step Functions developer guide, "
            "'IAM policies for Amazon ECS/AWS Fargate'), then create or update the state machine again.",
            role=role,
            rule=rule,
        ),
    )


def log_delivery_denied(facts: Facts) -> Diagnosis | None:
    """CreateStateMachine/UpdateStateMachine with logging on: the role may not deliver the logs."""
    hits = facts.find(r"not authorized to access the Log Destination")
    if not hits:
        return None
    return Diagnosis(
        "log_delivery_denied",
        "high",
        tr("Step Functions refused the state machine's logging: its role may not deliver logs to CloudWatch Logs."),
        tuple(_hits_evidence(hits[:1])),
        tr(
            'Grant the state machine\'s role {actions} on "*" (Step Functions developer guide, "Logging using '
            'CloudWatch Logs"), or turn execution logging off (StackSpec execution_logging=False).',
            actions=", ".join(LOG_DELIVERY_ACTIONS),
        ),
    )


def role_not_assumable(facts: Facts) -> Diagnosis | None:
    """The service may not assume the role: its trust policy does not name the service (or its conditions fail)."""
    hits = facts.find(
        r"service principal (\S+), nor the regional one is authorized to assume|(\S+\.amazonaws\.com) cannot "
        r"assume (arn:\S+)|ECS was unable to assume the role '([^']+)'"
    )
    if not hits:
        return None
    m = hits[0][2]
    service = m[1] or m[2] or "ecs-tasks.amazonaws.com"
    role = m[3] or m[4] or tr("the role")
    principal = f'{{"Service": "{service}"}}'
    return Diagnosis(
        "role_not_assumable",
        "high",
        tr("{service} may not assume {role}: the role's trust policy does not allow it.", service=service, role=role),
        tuple(_hits_evidence(hits[:1])),
        tr(
            "Give {role} a trust policy with Principal {principal} and Action sts:AssumeRole; its "
            "aws:SourceArn / aws:SourceAccount conditions must match the caller (the state machine, the schedule "
            "group, or the account's ECS tasks). sfnecs.iam.trust_policy renders the stack's.",
            role=role,
            principal=principal,
        ),
    )


#: the AccessDenied matchers, most specific first (they run before every other category)
ACCESS_MATCHERS = [
    ("role_not_assumable", role_not_assumable),
    ("managed_rule_denied", managed_rule_denied),
    ("log_delivery_denied", log_delivery_denied),
    ("access_denied", access_denied),
]

"""The least-privilege drill: remove one permission, run, read the failure, diagnose it, put it back.

Why a library call: lesson 02's exercise shows that each grant of the generated policies is needed and how
its absence fails, in the sandbox (which enforces IAM on AWS's behalf) as in an account. One call does the
whole round, so the lesson's cell is `drill(target, spec, "iam:PassRole")` and its table.

What "run" means depends on who uses the grant: Step Functions' integration calls need an execution; the
managed rule and log delivery are checked when the state machine is created or updated; the Scheduler's
grants need a delivery (a probe schedule that fires once); the execution role's need a task (RunTask).
"""

from __future__ import annotations

import html
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from sfnecs.diagnose import Diagnosis, diagnose_task
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, localize, tr
from sfnecs.iam import LOG_DELIVERY_ACTIONS, Grant, grants, permission_policy, without
from sfnecs.model.spec import POLICY_NAME, StackSpec, schedule_group
from sfnecs.model.target import Target
from sfnecs.runs import run_direct, start, wait

__all__ = ["Drill", "drill"]

#: the drill's step for the Scheduler's grants (the others are the AWS API the drill calls)
DELIVERY = N_("a schedule delivery")


@dataclass(frozen=True)
class Drill:
    """One round of the drill: the grant removed, what was done, how it failed, the diagnosis, and the restore."""

    grant: Grant
    step: str  # what was done to meet the failure
    failed: bool
    error: str
    cause: str
    diagnosis: Diagnosis | None
    restored: bool

    def to_frame(self) -> pd.DataFrame:
        """The round as a two-column table (what, value); labels in English, shown translated by `_repr_html_`."""
        removed = tr(
            "{action} on {resource} from {role}",
            action=self.grant.action,
            resource=self.grant.resource,
            role=self.grant.role,
        )
        rows = [
            (N_("removed"), removed),
            (N_("step"), self.step),
            (N_("failed"), str(self.failed)),
            (N_("error"), self.error),
            (N_("cause"), self.cause),
            (N_("diagnosis"), self.diagnosis.verdict if self.diagnosis else ""),
            (N_("fix"), self.diagnosis.fix if self.diagnosis else ""),
            (N_("put back"), str(self.restored)),
        ]
        return pd.DataFrame(rows, columns=[N_("what"), N_("value")])

    def _repr_html_(self) -> str:
        table = localize(self.to_frame()).to_html(index=False, escape=True)
        if self.failed:
            return table
        return table + "<p>" + html.escape(tr("Nothing failed: {cause}", cause=self.cause)) + "</p>"


def _choose(spec: StackSpec, action: str, role: str | None, resource: str | None) -> Grant:
    found = [
        g
        for g in grants(spec)
        if g.action == action and role in (None, g.kind, g.role) and resource in (None, g.resource)
    ]
    if not found:
        granted = sorted({f"{g.action} ({g.kind})" for g in grants(spec)})
        raise ValidationError("action", action, "an action the stack's roles are granted: " + ", ".join(granted))
    return found[0]


def _put(target: Target, role: str, policy: dict[str, Any]) -> None:
    target.client("iam").put_role_policy(RoleName=role, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(policy))


def drill(
    target: Target,
    spec: StackSpec,
    action: str,
    *,
    role: str | None = None,
    resource: str | None = None,
    job_fails: bool = False,
    timeout: float = 120.0,
) -> Drill:
    """Remove `action` from the stack's role, meet the failure, diagnose it and put the generated policy back.

    `role`: the role kind (sfn, scheduler, task, execution) or name when several grant `action`; `resource`:
    one resource of the grant (e.g. the task role for iam:PassRole). `job_fails` (sandbox only) makes the job
    exit 3, for grants used only after a failure (sns:Publish of notify_failure).
    """
    grant = _choose(spec, action, role, resource)
    if job_fails and not target.is_sandbox:
        raise ValidationError("job_fails", job_fails, "False on AWS (the sandbox injects the failing job)")
    _put(target, grant.role, without(spec, grant.kind, action, grant.resource))
    try:
        step, error, cause = _meet(target, spec, grant, job_fails, timeout)
    finally:
        _put(target, grant.role, permission_policy(spec, grant.kind) or {"Version": "2012-10-17", "Statement": []})
        if job_fails:
            target.control("DELETE", "faults", {})
    failed = bool(error)
    return Drill(
        grant,
        step,
        failed,
        error,
        cause,
        diagnose_task(None, error=error, cause=cause) if failed else None,
        True,
    )


def _meet(target: Target, spec: StackSpec, grant: Grant, job_fails: bool, timeout: float) -> tuple[str, str, str]:
    """(what was done, error, cause) of the failure the missing grant causes ('' error: nothing failed)."""
    if grant.kind == "sfn" and (grant.action.startswith("events:") or grant.action in LOG_DELIVERY_ACTIONS):
        try:
            target.client("stepfunctions").update_state_machine(
                stateMachineArn=spec.state_machine_arn, roleArn=spec.role_arn(spec.sfn_role)
            )
        except ClientError as exc:
            return "UpdateStateMachine", exc.response["Error"]["Code"], exc.response["Error"]["Message"]
        return "UpdateStateMachine", "", tr("the update was accepted")
    if job_fails:
        target.control("POST", "faults", {"kind": "exit_code", "exit_code": 3, "family": spec.family})
    if grant.kind == "sfn":
        result = wait(
            target, start(target, spec, name=f"drill-{uuid.uuid4().hex[:12]}"), progress=False, timeout=timeout
        )
        events = target.client("stepfunctions").get_execution_history(
            executionArn=result.execution_arn, maxResults=1000
        )["events"]
        failures = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
        denied = next((f for f in failures if "not authorized" in f.get("cause", "")), None)
        if denied:
            return "StartExecution", denied["error"], denied["cause"]
        return (
            "StartExecution",
            result.error or "",
            result.cause or tr("the execution ended {status}", status=result.status),
        )
    if grant.kind == "scheduler":
        return _fire_once(target, spec, timeout)
    result = run_direct(target, spec, progress=False, timeout=timeout, client_token=uuid.uuid4().hex)
    if result.ok:
        return "RunTask", "", tr("the task ran and exited {exit_code}", exit_code=result.exit_code)
    return "RunTask", result.stop_code or result.status, result.stopped_reason or ""


def _fire_once(target: Target, spec: StackSpec, timeout: float) -> tuple[str, str, str]:
    """Deliver the stack's schedule target once (a probe rate schedule fires at creation) and read the DLQ."""
    sched, sqs = target.client("scheduler"), target.client("sqs")
    group = schedule_group(spec)
    probe = f"drill-{uuid.uuid4().hex[:10]}"
    stack_target = sched.get_schedule(Name=spec.schedule_name, GroupName=group)["Target"]
    url = sqs.get_queue_url(QueueName=spec.dlq_arn.rsplit(":", 1)[-1])["QueueUrl"]
    sched.create_schedule(
        Name=probe,
        GroupName=group,
        ScheduleExpression="rate(1 day)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=stack_target,
    )
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in sqs.receive_message(
                QueueUrl=url, MessageAttributeNames=["All"], MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", []):
                attrs = {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()}
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                if attrs.get("SCHEDULE_ARN", "").endswith(f"/{probe}"):
                    return DELIVERY, attrs.get("ERROR_CODE", ""), attrs.get("ERROR_MESSAGE", "")
        return (
            DELIVERY,
            "",
            tr("no dead letter within {seconds} s: the invocation was delivered", seconds=format(timeout, "g")),
        )
    finally:
        sched.delete_schedule(Name=probe, GroupName=group)

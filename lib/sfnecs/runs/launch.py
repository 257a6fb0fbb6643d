"""Starting runs: one execution of a pattern B stack (`start`), or the task of a pattern A stack (`run_direct`).

Why here: both name the run after its intended minute, so starting twice for the same minute is
one run (an execution name, a RunTask clientToken), and both refuse early with an error an
operator can act on (no stack yet, a name used with other input, RunTask failures).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, Unpack

from botocore.exceptions import ClientError

from sfnecs.deploy.verify import check_spec
from sfnecs.exceptions import RunError, ValidationError
from sfnecs.i18n import N_, tr
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target
from sfnecs.runs.polling import _Counter
from sfnecs.runs.results import Run, RunResult, _log_location
from sfnecs.runs.validation import _intended
from sfnecs.runs.waiting import WaitOptions, check_wait_options, wait
from sfnecs.runtask import RunTask

# StartExecution API reference, `name`: 1-80 characters, no whitespace, brackets, wildcards,
# special characters (" # % \ ^ | ~ ` $ & , ; : /) or control characters.
_EXECUTION_NAME = re.compile(r"[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}")


def execution_name(at: datetime, prefix: str = "run") -> str:
    """The execution name for a run intended at `at`: `run-20240131T0900Z` (minute precision).

    Why: schedules have minute precision, and Step Functions refuses a second execution with the
    same name (an identical running one is returned instead; a finished one's name is kept 90 days),
    so two starts for the same intended minute make one execution.
    """
    return f"{prefix}-{at.astimezone(UTC):%Y%m%dT%H%M}Z"


# ---- start ----------------------------------------------------------------------------------------
def start(
    target: Target,
    spec: StackSpec,
    input: dict[str, Any] | None = None,
    name: str | None = None,
    *,
    at: datetime | None = None,
) -> Run:
    """Start one execution of the stack's state machine (pattern B) and return at once.

    The name defaults to `execution_name(at)` (at: now) and the input to
    `{"scheduled_time": <at>}`, the shape the schedule sends; starting again for the same minute
    returns the existing execution (`Run.deduplicated`) instead of a second run.
    """
    spec = check_spec(target, spec)
    if spec.pattern != "B":
        raise ValidationError(
            "spec.pattern", spec.pattern, N_("B for start(); a pattern A stack runs with run_direct()")
        )
    # minute precision, as schedules have: two starts for the same minute are the same run
    when = _intended(at).replace(second=0, microsecond=0)
    name = execution_name(when) if name is None else name
    if not isinstance(name, str) or not _EXECUTION_NAME.fullmatch(name):
        raise ValidationError(
            "name", name, N_('1-80 characters without whitespace, brackets, wildcards or " # % \\ ^ | ~ ` $ & , ; : /')
        )
    if input is None:
        input = {"scheduled_time": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if not isinstance(input, dict):
        raise ValidationError("input", input, N_("a JSON object (dict) or None"))
    body = json.dumps(input, sort_keys=True)
    sfn = target.client("stepfunctions")
    log = _log_location(spec)
    arn = spec.arn("states", f"execution:{spec.state_machine}:{name}")
    existing = _describe_or_none(sfn, arn)
    if existing is None:
        try:
            started = sfn.start_execution(stateMachineArn=spec.state_machine_arn, name=name, input=body)
            return Run(started["executionArn"], "execution", name, spec.name, when, False, **log)
        except sfn.exceptions.ExecutionAlreadyExists:
            existing = _describe_or_none(sfn, arn)  # started by someone else since we looked
        except sfn.exceptions.StateMachineDoesNotExist:
            raise RunError(
                tr("state machine {arn} does not exist: apply the stack first", arn=spec.state_machine_arn)
            ) from None
    # Step Functions keeps a name for 90 days: the same name and input is the same intended run,
    # the duplicate we were asked to avoid. (Two starters racing both get the one execution:
    # StartExecution with a running execution's name and input is idempotent.)
    if existing is None or json.loads(existing.get("input") or "null") != input:
        raise RunError(
            tr(
                "execution name={name} is already used by {arn} with other input: pass another name or the same input",
                name=repr(name),
                arn=arn,
            )
        )
    return Run(arn, "execution", name, spec.name, when, True, **log)


def _describe_or_none(sfn: Any, arn: str) -> dict[str, Any] | None:
    try:
        return sfn.describe_execution(executionArn=arn)
    except sfn.exceptions.ExecutionDoesNotExist:
        return None


# ---- pattern A by hand ----------------------------------------------------------------------------
def _run_task_request(spec: StackSpec, client_token: str) -> dict[str, Any]:
    """The RunTask request that runs the stack's task once, as pattern A's schedule does.

    Why one function: it is the only place run_direct says what to run; the placement and network
    block come from sfnecs.runtask, which renders the schedule's and the state machine's too.
    """
    return {
        **RunTask(spec).api_request(),
        "clientToken": client_token,
        "startedBy": "sfnecs",
        "propagateTags": "TASK_DEFINITION",
    }


def run_direct(
    target: Target,
    spec: StackSpec,
    *,
    at: datetime | None = None,
    client_token: str | None = None,
    **waiting: Unpack[WaitOptions],
) -> RunResult:
    """Run the stack's task once with RunTask, as pattern A's schedule does, and wait for it.

    Why by hand: the Scheduler counts an invocation as delivered even when RunTask answers HTTP
    200 with `failures` and no task (fact: direct-runtask-silent); here those failures come back as a FAILED
    RunResult with the reasons. `client_token` (default: stack name + intended minute) makes a
    repeated call within 24 h return the same task instead of starting another (RunTask API).
    `waiting`: the options of `wait` (timeout, progress, log_lines, backoff, sleep), checked first.
    """
    spec = check_spec(target, spec)
    when = _intended(at).replace(second=0, microsecond=0)
    token = client_token if client_token is not None else f"{spec.name}-{when:%Y%m%dT%H%M}Z"
    if not isinstance(token, str) or not 1 <= len(token) <= 64:
        raise ValidationError("client_token", token, N_("1-64 characters (RunTask clientToken)"))
    check_wait_options("run_direct", waiting)
    calls = _Counter()
    ecs = target.client("ecs")
    try:
        out = calls(ecs.run_task, **_run_task_request(spec, token))
    except ecs.exceptions.ClusterNotFoundException:
        raise RunError(
            tr(
                "cluster {cluster} does not exist in {region}: apply the stack first",
                cluster=repr(spec.cluster),
                region=spec.region,
            )
        ) from None
    except ClientError as exc:  # ClientException, InvalidParameterException, AccessDeniedException, throttling ...
        raise RunError(tr("RunTask for stack {stack} was refused: {error}", stack=repr(spec.name), error=exc)) from None
    if out.get("failures") or not out.get("tasks"):
        failures = out.get("failures") or []
        reasons = "; ".join(f"{f.get('reason')}" + (f" ({f['detail']})" if f.get("detail") else "") for f in failures)
        return RunResult(
            status="FAILED",
            error="RunTaskFailure",
            cause=reasons or "RunTask started no task",
            failures=failures,
            api_calls=calls.n,
        )
    task_arn = out["tasks"][0]["taskArn"]
    run = Run(task_arn, "task", task_arn.rsplit("/", 1)[-1], spec.name, when, **_log_location(spec))
    result = wait(target, run, **waiting)
    result.api_calls += calls.n
    return result

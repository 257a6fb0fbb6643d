"""The pattern-B state machine's builder: an ASL definition from a `StackSpec`, in either query language.

Why one builder: the definition, the IAM policy (`states_used` feeds `sfnecs.iam`) and the deployed
stack all come from the same `StackSpec`, so a switch (guard, notifications, retries, query
language) changes the ASL and the permissions it needs together.

The definition is a Standard workflow, since Express supports neither `.sync` nor callbacks
(fact: sync-standard-only):

    [CheckRunning -> AlreadyRunning? -> SkippedOverlap]      spec.guard
    RunJob  (ecs:runTask.sync, Retry on launch errors)       [+ States.TaskFailed: spec.retry_job_failures]
            (LaunchType FARGATE, or spec.capacity_provider_strategy, e.g. FARGATE_SPOT)
    [NotifySuccess]                                          spec.notify_success
    [Catch -> NotifyFailure -> Failed]                       spec.notify_failure

The guard runs the job only in the oldest RUNNING execution (ListExecutions is best effort: it is
eventually consistent). The execution input may carry "command" (a list of strings) and
"environment" ([{"Name", "Value"}]) to override the task definition's for one run.

Both query languages are built from the same plan. JSONata (the default) needs fewer states: it
branches inside an expression, where JSONPath needs Choice and Pass states to leave out a missing
input field, find the oldest running execution or parse a cause that may not be JSON.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Callable, Mapping
from typing import Any

from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_
from sfnecs.model.budget import (
    BACKOFF_RATE,
    GUARD_RETRY_ATTEMPTS,
    GUARD_RETRY_INTERVAL_SECONDS,
    JOB_RETRY_INTERVAL_SECONDS,
    LAUNCH_RETRY_INTERVAL_SECONDS,
)
from sfnecs.model.spec import StackSpec
from sfnecs.runtask import RUN_TASK_SYNC, RunTask

# ---- service integrations used ------------------------------------------------------------------
#: the integrations as written in the aws partition; a definition names its stack's partition
#: (StackSpec.integration_arn), as aws-cdk writes `arn:${Partition}:states:::...`
SNS_PUBLISH = "arn:aws:states:::sns:publish"
LIST_EXECUTIONS = "arn:aws:states:::aws-sdk:sfn:listExecutions"
_AWS_INTEGRATION = "arn:aws:states:::"


def _in_partition(spec: StackSpec, integration: str) -> str:
    """One of the integration constants above, rewritten for the stack's partition."""
    return spec.integration_arn(integration.removeprefix(_AWS_INTEGRATION))


# ---- state names shared by both languages (sfnecs.patterns counts transitions with them) --------------
CHECK_RUNNING = "CheckRunning"
ALREADY_RUNNING = "AlreadyRunning?"
SKIPPED = "SkippedOverlap"
RUN_JOB = "RunJob"
NOTIFY_SUCCESS = "NotifySuccess"
NOTIFY_FAILURE = "NotifyFailure"
FAILED = "Failed"
# JSONPath only: what JSONata does inside an expression takes a state here
ANY_RUNNING = "AnyRunning?"
FIND_OLDEST = "FindOldest"
OVERRIDES_GIVEN = "OverridesGiven?"
WITH_BOTH = "CommandAndEnvironment"
WITH_COMMAND = "CommandOnly"
WITH_ENVIRONMENT = "EnvironmentOnly"
WITH_NEITHER = "NoOverrides"
CAUSE_IS_JSON = "CauseIsJson?"
NO_CAUSE = "NoCause"
PARSE_CAUSE = "ParseCause"
TEXT_CAUSE = "TextCause"

#: Errors of a RunTask that never started a task: throttling and capacity (`ECS.AmazonECSException`,
#: community-observed name) and HTTP 200 with `failures` under `.sync` (`AmazonECS.Unknown`, Step
#: Functions developer guide, "Run Amazon ECS or Fargate tasks"). Safe to retry: no job ran.
LAUNCH_ERRORS = ("ECS.AmazonECSException", "AmazonECS.Unknown")
#: ListExecutions page size: 100 is the API default; one page is plenty when a guard keeps runs apart
#: and keeps the result far below the 256 KiB state payload quota.
LIST_PAGE_SIZE = 100

#: A Fail state cannot re-raise "States.TaskFailed" as it is: error names a state reports "MUST NOT
#: begin with the prefix 'States.'" (ASL specification, Errors), and the sandbox's interpreter
#: (LocalStack's) fails the execution with States.Runtime when one does. So Failed reports
#: "sfnecs." + the original name (e.g. sfnecs.States.TaskFailed) and the original cause unchanged;
#: the task-level error stays in the history (runs.result reads it from there).
FAIL_ERROR_PREFIX = "sfnecs."
FAILED_COMMENT = "Fail the execution with the original error (prefixed 'sfnecs.') and cause."

#: What RunJob keeps of the stopped task (besides the essential container's ExitCode): enough to
#: tell a success from a failure and to time it; the whole task stays in the execution history.
TASK_SUMMARY = ("TaskArn", "StopCode", "StoppedReason", "CreatedAt", "StartedAt", "StoppedAt")

SKIP_REASON = "an older execution of this state machine is still RUNNING (overlap guard)"

Definition = dict[str, Any]


def build_definition(spec: StackSpec) -> Definition:
    """The ASL definition (a dict in a stable key order) for `spec`, in `spec.query_language`.

    Why a dict: `stack.py` serialises it for CreateStateMachine, tests compare it with golden
    files, and `validate`, `diagram` and `states_used` read it back.
    """
    if not isinstance(spec, StackSpec):
        raise ValidationError("spec", spec, N_("a sfnecs.model.StackSpec"))
    dialect = _DIALECTS[spec.query_language](spec)
    states: dict[str, Any] = {}
    if spec.guard:
        states.update(dialect.guard(dialect.run_start))
    states.update(dialect.run())
    states[RUN_JOB] = dialect.run_job()
    if spec.notify_success:
        states[NOTIFY_SUCCESS] = dialect.notify_success()
    if spec.notify_failure:
        states.update(dialect.failure())
    return {
        "Comment": f"sfnecs stack {spec.name}: run the ECS task {spec.family} on Fargate and wait for it "
        f"(pattern B, built by sfnecs.statemachine)",
        "QueryLanguage": spec.query_language,
        "StartAt": next(iter(states)),
        # a stuck execution must end even if a state's own timeout was mis-set
        "TimeoutSeconds": spec.machine_timeout_seconds,
        "States": states,
    }


def to_json(definition: Mapping[str, Any]) -> str:
    """The definition as the JSON text CreateStateMachine takes (indented, key order kept, newline-terminated)."""
    return json.dumps(definition, indent=2, ensure_ascii=False) + "\n"


class _Dialect(abc.ABC):
    """What differs between JSONata and JSONPath; each method returns finished state(s)."""

    args_field: str  # where a Task's service parameters go
    message_key: str  # SNS Publish's message field
    run_start: str  # the first state of the run (after the guard)
    failure_start: str  # where a Catch goes

    def __init__(self, spec: StackSpec) -> None:
        self.spec = spec

    # -- pieces written once for both languages --------------------------------------------------
    def _task(self, resource: str, args: dict[str, Any], comment: str) -> dict[str, Any]:
        return {"Type": "Task", "Comment": comment, "Resource": resource, self.args_field: args}

    def _retry(self) -> list[dict[str, Any]]:
        spec, retriers = self.spec, []
        if spec.launch_retry_attempts:
            retriers.append(
                {
                    "ErrorEquals": list(LAUNCH_ERRORS),
                    "IntervalSeconds": LAUNCH_RETRY_INTERVAL_SECONDS,
                    "MaxAttempts": spec.launch_retry_attempts,
                    "BackoffRate": BACKOFF_RATE,
                    "JitterStrategy": "FULL",
                }
            )
        if spec.retry_job_failures:
            # Off by default on purpose: States.TaskFailed is the job's own failure (a non-zero exit),
            # and as a retrier it matches every error but States.Timeout (Step Functions developer
            # guide, "Error names"), so retrying it reruns a job that already ran and failed. Only
            # idempotent jobs should turn it on. It comes after the launch retrier: the first
            # retrier whose ErrorEquals matches is the one used.
            retriers.append(
                {
                    "ErrorEquals": ["States.TaskFailed"],
                    "IntervalSeconds": JOB_RETRY_INTERVAL_SECONDS,
                    "MaxAttempts": spec.retry_job_failures,
                    "BackoffRate": BACKOFF_RATE,
                    "JitterStrategy": "FULL",
                }
            )
        return retriers

    def _guard_retry(self) -> list[dict[str, Any]]:
        # ListExecutions is read-only: retrying it (throttling, transient errors) is always safe
        return [
            {
                "ErrorEquals": ["States.TaskFailed"],
                "IntervalSeconds": GUARD_RETRY_INTERVAL_SECONDS,
                "MaxAttempts": GUARD_RETRY_ATTEMPTS,
                "BackoffRate": BACKOFF_RATE,
                "JitterStrategy": "FULL",
            }
        ]

    def _catch(self) -> dict[str, Any]:
        return {"Catch": [self.catcher(self.failure_start)]} if self.spec.notify_failure else {}

    def _list_executions(self, next_state: str) -> dict[str, Any]:
        state = self._task(
            _in_partition(self.spec, LIST_EXECUTIONS),
            {"StateMachineArn": self.spec.state_machine_arn, "StatusFilter": "RUNNING", "MaxResults": LIST_PAGE_SIZE},
            "Overlap guard: the RUNNING executions of this state machine, this one included "
            "(ListExecutions lists the most recent first and is eventually consistent).",
        )
        return {**state, **self.guard_result(), "Retry": self._guard_retry(), **self._catch(), "Next": next_state}

    def run_job(self) -> dict[str, Any]:
        args = RunTask(self.spec).state_arguments(group=self.group(), overrides=self.overrides())
        state = self._task(
            _in_partition(self.spec, RUN_TASK_SYNC),
            args,
            "Run the job on Fargate and wait until the task stops (.sync).",
        )
        # under .sync Step Functions tries to stop the task when the state times out or the
        # execution stops (why AWS's policy template grants ecs:StopTask)
        state["TimeoutSeconds"] = self.spec.task_timeout_seconds
        state.update(self.job_result())
        if retriers := self._retry():
            state["Retry"] = retriers
        state.update(self._catch())
        if self.spec.notify_success:
            state["Next"] = NOTIFY_SUCCESS
        else:
            state["End"] = True
        return state

    def _publish(self, subject: str, message: str, comment: str) -> dict[str, Any]:
        # Subject: ASCII, at most 100 characters (SNS Publish); the stack name keeps it short. The
        # message is always a string the definition builds itself (JSON text), never an object.
        return self._task(
            _in_partition(self.spec, SNS_PUBLISH),
            {
                "TopicArn": self.spec.topic_arn,
                "Subject": f"sfnecs {self.spec.name}: {subject}",
                self.message_key: message,
            },
            comment,
        )

    # -- what each language supplies ---------------------------------------------------------------
    @abc.abstractmethod
    def group(self) -> dict[str, Any]:
        """RunTask's Group (the execution's name), as a field of its args."""

    @abc.abstractmethod
    def overrides(self) -> dict[str, Any]:
        """RunTask's Overrides, from the execution input."""

    @abc.abstractmethod
    def catcher(self, next_state: str) -> dict[str, Any]:
        """A Catch of every error, keeping it for the next state."""

    @abc.abstractmethod
    def guard_result(self) -> dict[str, Any]:
        """CheckRunning's result fields: count, names, oldest."""

    @abc.abstractmethod
    def job_result(self) -> dict[str, Any]:
        """RunJob's result fields: the task summary."""

    @abc.abstractmethod
    def guard(self, run_start: str) -> dict[str, Any]:
        """The overlap guard's states, CheckRunning first."""

    @abc.abstractmethod
    def run(self) -> dict[str, Any]:
        """States between the guard and RunJob (none in JSONata)."""

    @abc.abstractmethod
    def notify_success(self) -> dict[str, Any]:
        """The NotifySuccess state."""

    @abc.abstractmethod
    def failure(self) -> dict[str, Any]:
        """The failure path's states, ending in Failed."""


def _jsonata(expression: str) -> str:
    return "{% " + expression + " %}"


def _literal(value: str) -> str:
    """A JSONata string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class _JSONata(_Dialect):
    """Arguments/Output and `{% %}` expressions; no ResultPath (Transforming data with JSONata, AWS)."""

    args_field = "Arguments"
    message_key = "Message"
    run_start = RUN_JOB
    failure_start = NOTIFY_FAILURE

    _INPUT = "$states.context.Execution.Input"

    def group(self) -> dict[str, Any]:
        return {"Group": _jsonata("'sfnecs:' & $states.context.Execution.Name")}

    def overrides(self) -> dict[str, Any]:
        # "command"/"environment" from the execution input when present; absent, the field is left
        # out and the task definition's value applies (a field set to an empty list would not be)
        i = self._INPUT
        return {
            "ContainerOverrides": _jsonata(
                f"[$merge([{{'Name': {_literal(self.spec.container_name)}}}, "
                f"$exists({i}.command) ? {{'Command': {i}.command}} : {{}}, "
                f"$exists({i}.environment) ? {{'Environment': {i}.environment}} : {{}}])]"
            )
        }

    def catcher(self, next_state: str) -> dict[str, Any]:
        return {"ErrorEquals": ["States.ALL"], "Output": _jsonata("$states.errorOutput"), "Next": next_state}

    def guard_result(self) -> dict[str, Any]:
        r = "$states.result.Executions"
        return {
            "Output": {
                "count": _jsonata(f"$count({r})"),
                "running": _jsonata(f"[{r}.Name]"),
                # most recent first (ListExecutions API reference), so the oldest is the last one
                "oldest": _jsonata(f"$count({r}) > 0 ? {r}[-1].ExecutionArn : null"),
            }
        }

    def guard(self, run_start: str) -> dict[str, Any]:
        return {
            CHECK_RUNNING: self._list_executions(ALREADY_RUNNING),
            ALREADY_RUNNING: {
                "Type": "Choice",
                "Comment": "Skip unless this is the oldest RUNNING execution. Not 'more than one RUNNING': two "
                "executions started together (a duplicate delivery) would both skip, and an "
                "execution not yet listed (eventual consistency) would start beside a running one.",
                "Choices": [
                    {
                        "Condition": _jsonata(
                            "$states.input.count > 0 and $states.input.oldest != $states.context.Execution.Id"
                        ),
                        "Next": SKIPPED,
                    }
                ],
                "Default": run_start,
            },
            SKIPPED: {
                "Type": "Succeed",
                "Comment": "Nothing ran: the older execution still owns the job.",
                "Output": {
                    "skipped": True,
                    "reason": SKIP_REASON,
                    "running": _jsonata("$states.input.running"),
                    "oldest": _jsonata("$states.input.oldest"),
                },
            },
        }

    def run(self) -> dict[str, Any]:
        return {}

    def job_result(self) -> dict[str, Any]:
        exit_code = _jsonata(f"$states.result.Containers[Name = {_literal(self.spec.container_name)}].ExitCode")
        fields = {k: _jsonata(f"$states.result.{k}") for k in TASK_SUMMARY}
        return {"Output": {"TaskArn": fields.pop("TaskArn"), "ExitCode": exit_code, **fields}}

    def notify_success(self) -> dict[str, Any]:
        message = _jsonata("$string({'execution': $states.context.Execution.Id, 'task': $states.input})")
        return {
            **self._publish("job succeeded", message, "Tell the topic the job succeeded."),
            # the execution's output stays the task summary, not the SNS MessageId
            "Output": _jsonata("$states.input"),
            "End": True,
        }

    def failure(self) -> dict[str, Any]:
        # The cause is JSON for a stopped task (States.TaskFailed) but plain text for others
        # (ECS.AmazonECSException, States.Timeout, ...), and the ASL specification says the error
        # output only "usually" has a Cause: parse it only when it is a string starting with "{".
        cause = "($c := $states.input.Cause; $type($c) = 'string' and $substring($c, 0, 1) = '{' ? $parse($c))"
        message = _jsonata(
            f"$string({{'execution': $states.context.Execution.Id, 'error': $states.input, 'details': {cause}}})"
        )
        notify = self._publish(
            "job failed",
            message,
            "Tell the topic why the run failed, with the cause parsed "
            "when it is JSON (the stopped task for States.TaskFailed).",
        )
        return {
            NOTIFY_FAILURE: {
                **notify,
                "Output": _jsonata("$states.input"),
                # a failed notification must not hide the job's own error
                "Catch": [{"ErrorEquals": ["States.ALL"], "Output": _jsonata("$states.input"), "Next": FAILED}],
                "Next": FAILED,
            },
            FAILED: {
                "Type": "Fail",
                "Comment": FAILED_COMMENT,
                "Error": _jsonata(f"{_literal(FAIL_ERROR_PREFIX)} & $states.input.Error"),
                "Cause": _jsonata("$exists($states.input.Cause) ? $states.input.Cause : ''"),
            },
        }


class _JSONPath(_Dialect):
    """Parameters/ResultSelector/ResultPath, `.$` keys and intrinsic functions."""

    args_field = "Parameters"
    message_key = "Message.$"
    run_start = OVERRIDES_GIVEN
    failure_start = CAUSE_IS_JSON

    def group(self) -> dict[str, Any]:
        return {"Group.$": "States.Format('sfnecs:{}', $$.Execution.Name)"}

    def overrides(self) -> dict[str, Any]:
        # the container override the OverridesGiven? branch left in $.override
        return {"ContainerOverrides.$": "States.Array($.override)"}

    def catcher(self, next_state: str) -> dict[str, Any]:
        return {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": next_state}

    def guard_result(self) -> dict[str, Any]:
        return {
            "ResultSelector": {"count.$": "States.ArrayLength($.Executions)", "executions.$": "$.Executions"},
            "ResultPath": "$.guard",
        }

    def guard(self, run_start: str) -> dict[str, Any]:
        return {
            CHECK_RUNNING: self._list_executions(ANY_RUNNING),
            ANY_RUNNING: {
                "Type": "Choice",
                "Comment": "None listed (not even this one, eventual consistency): nothing to wait for.",
                "Choices": [{"Variable": "$.guard.count", "NumericGreaterThan": 0, "Next": FIND_OLDEST}],
                "Default": run_start,
            },
            FIND_OLDEST: {
                "Type": "Pass",
                "Comment": "The last listed is the oldest (most recent first). An index computed here, not in "
                "CheckRunning, because ArrayGetItem fails on an empty list.",
                "Parameters": {
                    # StringEqualsPath compares with a path of the state input, so the execution's
                    # own ARN is copied there (statelint refuses a $$ context path in a comparison)
                    "me.$": "$$.Execution.Id",
                    "oldest.$": "States.ArrayGetItem($.guard.executions, States.MathAdd($.guard.count, -1))",
                    "running.$": "$.guard.executions[*].Name",
                },
                "ResultPath": "$.guard",
                "Next": ALREADY_RUNNING,
            },
            ALREADY_RUNNING: {
                "Type": "Choice",
                "Comment": "Skip unless this is the oldest RUNNING execution. Not 'more than one RUNNING': two "
                "executions started together (a duplicate delivery) would both skip.",
                "Choices": [
                    {
                        "Not": {"Variable": "$.guard.oldest.ExecutionArn", "StringEqualsPath": "$.guard.me"},
                        "Next": SKIPPED,
                    }
                ],
                "Default": run_start,
            },
            # a Pass, not a Succeed: a JSONPath Succeed cannot shape its output (Output is JSONata only)
            SKIPPED: {
                "Type": "Pass",
                "Comment": "Nothing ran: the older execution still owns the job.",
                "Parameters": {
                    "skipped": True,
                    "reason": SKIP_REASON,
                    "running.$": "$.guard.running",
                    "oldest.$": "$.guard.oldest.ExecutionArn",
                },
                "End": True,
            },
        }

    def run(self) -> dict[str, Any]:
        # JSONPath cannot leave out a field the input lacks ("Command.$" on a missing path fails the
        # state), so each combination of "command"/"environment" in the input gets its own override.
        # (A default merged in with States.JsonMerge would need a JSON string literal in an
        # intrinsic, whose escaped braces moto's interpreter does not unescape; and an empty
        # Command list is no default: what ECS does with one is not documented.)
        name = self.spec.container_name
        command, environment = {"Command.$": "$.command"}, {"Environment.$": "$.environment"}
        branches = {
            WITH_BOTH: {**command, **environment},
            WITH_COMMAND: command,
            WITH_ENVIRONMENT: environment,
            WITH_NEITHER: {},
        }

        def present(field: str) -> dict[str, Any]:
            return {"Variable": f"$.{field}", "IsPresent": True}

        states: dict[str, Any] = {
            OVERRIDES_GIVEN: {
                "Type": "Choice",
                "Comment": "What the execution input overrides: its command and environment replace the task "
                "definition's; a field it lacks keeps the task definition's value.",
                "Choices": [
                    {"And": [present("command"), present("environment")], "Next": WITH_BOTH},
                    {**present("command"), "Next": WITH_COMMAND},
                    {**present("environment"), "Next": WITH_ENVIRONMENT},
                ],
                "Default": WITH_NEITHER,
            }
        }
        for state, fields in branches.items():
            states[state] = {
                "Type": "Pass",
                "Parameters": {"Name": name, **fields},
                "ResultPath": "$.override",
                "Next": RUN_JOB,
            }
        return states

    def job_result(self) -> dict[str, Any]:
        # ExitCode: the task has one container, the one the stack's task definition declares
        # (stack.task_definition_request); statelint's JSONPath has no filter expressions
        fields = {f"{k}.$": f"$.{k}" for k in TASK_SUMMARY}
        return {
            "ResultSelector": {
                "TaskArn.$": fields.pop("TaskArn.$"),
                "ExitCode.$": "$.Containers[0].ExitCode",
                **fields,
            },
            "ResultPath": "$",
        }

    def notify_success(self) -> dict[str, Any]:
        # ResultPath null: the execution's output stays the task summary, not the SNS MessageId
        return {
            **self._publish("job succeeded", "States.JsonToString($)", "Tell the topic the job succeeded."),
            "ResultPath": None,
            "End": True,
        }

    def failure(self) -> dict[str, Any]:
        # Every branch leaves {"execution", "error": {"Error", "Cause"}, ["details"]} in $.failure
        # for NotifyFailure's message and Failed's ErrorPath/CausePath.
        execution = {"execution.$": "$$.Execution.Id"}

        def describe(parameters: dict[str, Any]) -> dict[str, Any]:
            return {
                "Type": "Pass",
                "Parameters": {**execution, **parameters},
                "ResultPath": "$.failure",
                "Next": NOTIFY_FAILURE,
            }

        return {
            CAUSE_IS_JSON: {
                "Type": "Choice",
                "Comment": "A stopped task's cause is JSON; ECS.AmazonECSException, States.Timeout and others give "
                "text, on which States.StringToJson would fail with States.Runtime (no Catch catches "
                "it); and the ASL specification says an error output only 'usually' has a Cause.",
                "Choices": [
                    {"Not": {"Variable": "$.error.Cause", "IsPresent": True}, "Next": NO_CAUSE},
                    {"Variable": "$.error.Cause", "StringMatches": "{*", "Next": PARSE_CAUSE},
                ],
                "Default": TEXT_CAUSE,
            },
            NO_CAUSE: describe({"error": {"Error.$": "$.error.Error", "Cause": ""}}),
            # a cause that starts with "{" but is not JSON still fails here (States.Runtime): not seen
            # from Step Functions' own integrations, whose JSON causes are generated
            PARSE_CAUSE: describe({"error.$": "$.error", "details.$": "States.StringToJson($.error.Cause)"}),
            TEXT_CAUSE: describe({"error.$": "$.error"}),
            NOTIFY_FAILURE: {
                **self._publish("job failed", "States.JsonToString($.failure)", "Tell the topic why the run failed."),
                "ResultPath": None,
                # a failed notification must not hide the job's own error
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.notify_error", "Next": FAILED}],
                "Next": FAILED,
            },
            FAILED: {
                "Type": "Fail",
                "Comment": FAILED_COMMENT,
                "ErrorPath": f"States.Format('{FAIL_ERROR_PREFIX}{{}}', $.failure.error.Error)",
                "CausePath": "$.failure.error.Cause",
            },
        }


_DIALECTS: dict[str, Callable[[StackSpec], _Dialect]] = {"JSONata": _JSONata, "JSONPath": _JSONPath}

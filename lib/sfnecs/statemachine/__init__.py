"""The pattern-B state machine: an ASL definition built from a `StackSpec`, its linting and its diagram.

Why one builder: the definition, the IAM policy (`states_used` feeds `sfnecs.iam`) and the deployed
stack all come from the same `StackSpec`, so a switch (guard, notifications, retries, query
language) changes the ASL and the permissions it needs together.

The definition is a Standard workflow (Express supports neither `.sync` nor callbacks, AWS_FACTS.md):

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
import html
import itertools
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sfnecs.exceptions import ValidationError
from sfnecs.model.spec import StackSpec

# ---- service integrations used ------------------------------------------------------------------
RUN_TASK_SYNC = "arn:aws:states:::ecs:runTask.sync"
SNS_PUBLISH = "arn:aws:states:::sns:publish"
LIST_EXECUTIONS = "arn:aws:states:::aws-sdk:sfn:listExecutions"

# ---- state names shared by both languages (patterns.py counts transitions with them) --------------
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
LAUNCH_RETRY_INTERVAL_SECONDS = 10
JOB_RETRY_INTERVAL_SECONDS = 60
GUARD_RETRY_ATTEMPTS = 3
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


# ==== the builder ==================================================================================

def build_definition(spec: StackSpec) -> Definition:
    """The ASL definition (a dict in a stable key order) for `spec`, in `spec.query_language`.

    Why a dict: `stack.py` serialises it for CreateStateMachine, tests compare it with golden
    files, and `validate`, `diagram` and `states_used` read it back.
    """
    if not isinstance(spec, StackSpec):
        raise ValidationError("spec", spec, "a sfnecs.spec.StackSpec")
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

    def _network(self) -> dict[str, Any]:
        # the same awsvpc settings as stack.network_configuration, in Step Functions' PascalCase
        vpc: dict[str, Any] = {"Subnets": list(self.spec.subnets)}
        if self.spec.security_groups:
            vpc["SecurityGroups"] = list(self.spec.security_groups)
        vpc["AssignPublicIp"] = "ENABLED" if self.spec.assign_public_ip else "DISABLED"
        return {"AwsvpcConfiguration": vpc}

    def _placement(self) -> dict[str, Any]:
        # RunTask takes a launch type or a capacity provider strategy, never both ("If a
        # capacityProviderStrategy is specified, the launchType parameter must be omitted", ECS API
        # reference); the stack associates the providers with its cluster.
        if not self.spec.capacity_provider_strategy:
            return {"LaunchType": "FARGATE"}
        return {"CapacityProviderStrategy": [{"CapacityProvider": p, "Weight": w, "Base": b}
                                             for p, w, b in self.spec.capacity_provider_strategy]}

    def _run_args(self) -> dict[str, Any]:
        return {
            **self._placement(),
            "Cluster": self.spec.cluster_arn,
            # the family name: RunTask runs its latest ACTIVE revision, so a new revision needs no
            # new state machine (ECS API reference, RunTask taskDefinition)
            "TaskDefinition": self.spec.family,
            # StartedBy is not set: under .sync Step Functions sets it to "AWS Step Functions"
            # itself (AWS_FACTS.md; community-observed, the integration's docs are silent on it).
            # The task group carries the execution name instead, so a task in the ECS console
            # names the execution that started it.
            **self.group(),
            "NetworkConfiguration": self._network(),
            "Overrides": self.overrides(),
        }

    def _retry(self) -> list[dict[str, Any]]:
        spec, retriers = self.spec, []
        if spec.launch_retry_attempts:
            retriers.append({"ErrorEquals": list(LAUNCH_ERRORS), "IntervalSeconds": LAUNCH_RETRY_INTERVAL_SECONDS,
                             "MaxAttempts": spec.launch_retry_attempts, "BackoffRate": 2.0,
                             "JitterStrategy": "FULL"})
        if spec.retry_job_failures:
            # Off by default on purpose: States.TaskFailed is the job's own failure (a non-zero exit),
            # and as a retrier it matches every error but States.Timeout (Step Functions developer
            # guide, "Error names"), so retrying it reruns a job that already ran and failed. Only
            # idempotent jobs should turn it on. It comes after the launch retrier: the first
            # retrier whose ErrorEquals matches is the one used.
            retriers.append({"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": JOB_RETRY_INTERVAL_SECONDS,
                             "MaxAttempts": spec.retry_job_failures, "BackoffRate": 2.0, "JitterStrategy": "FULL"})
        return retriers

    def _guard_retry(self) -> list[dict[str, Any]]:
        # ListExecutions is read-only: retrying it (throttling, transient errors) is always safe
        return [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 2, "MaxAttempts": GUARD_RETRY_ATTEMPTS,
                 "BackoffRate": 2.0, "JitterStrategy": "FULL"}]

    def _catch(self) -> dict[str, Any]:
        return {"Catch": [self.catcher(self.failure_start)]} if self.spec.notify_failure else {}

    def _list_executions(self, next_state: str) -> dict[str, Any]:
        state = self._task(LIST_EXECUTIONS, {"StateMachineArn": self.spec.state_machine_arn,
                                             "StatusFilter": "RUNNING", "MaxResults": LIST_PAGE_SIZE},
                           "Overlap guard: the RUNNING executions of this state machine, this one included "
                           "(ListExecutions lists the most recent first and is eventually consistent).")
        return {**state, **self.guard_result(), "Retry": self._guard_retry(), **self._catch(), "Next": next_state}

    def run_job(self) -> dict[str, Any]:
        state = self._task(RUN_TASK_SYNC, self._run_args(),
                           "Run the job on Fargate and wait until the task stops (.sync).")
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
        return self._task(SNS_PUBLISH, {"TopicArn": self.spec.topic_arn,
                                        "Subject": f"sfnecs {self.spec.name}: {subject}", self.message_key: message},
                          comment)

    # -- what each language supplies ---------------------------------------------------------------
    @abc.abstractmethod
    def group(self) -> dict[str, Any]: """RunTask's Group (the execution's name), as a field of its args."""

    @abc.abstractmethod
    def overrides(self) -> dict[str, Any]: """RunTask's Overrides, from the execution input."""

    @abc.abstractmethod
    def catcher(self, next_state: str) -> dict[str, Any]: """A Catch of every error, keeping it for the next state."""

    @abc.abstractmethod
    def guard_result(self) -> dict[str, Any]: """CheckRunning's result fields: count, names, oldest."""

    @abc.abstractmethod
    def job_result(self) -> dict[str, Any]: """RunJob's result fields: the task summary."""

    @abc.abstractmethod
    def guard(self, run_start: str) -> dict[str, Any]: """The overlap guard's states, CheckRunning first."""

    @abc.abstractmethod
    def run(self) -> dict[str, Any]: """States between the guard and RunJob (none in JSONata)."""

    @abc.abstractmethod
    def notify_success(self) -> dict[str, Any]: """The NotifySuccess state."""

    @abc.abstractmethod
    def failure(self) -> dict[str, Any]: """The failure path's states, ending in Failed."""


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
        return {"ContainerOverrides": _jsonata(f"[$merge([{{'Name': {_literal(self.spec.container_name)}}}, "
                        f"$exists({i}.command) ? {{'Command': {i}.command}} : {{}}, "
                        f"$exists({i}.environment) ? {{'Environment': {i}.environment}} : {{}}])]")}

    def catcher(self, next_state: str) -> dict[str, Any]:
        return {"ErrorEquals": ["States.ALL"], "Output": _jsonata("$states.errorOutput"), "Next": next_state}

    def guard_result(self) -> dict[str, Any]:
        r = "$states.result.Executions"
        return {"Output": {
            "count": _jsonata(f"$count({r})"),
            "running": _jsonata(f"[{r}.Name]"),
            # most recent first (ListExecutions API reference), so the oldest is the last one
            "oldest": _jsonata(f"$count({r}) > 0 ? {r}[-1].ExecutionArn : null"),
        }}

    def guard(self, run_start: str) -> dict[str, Any]:
        return {
            CHECK_RUNNING: self._list_executions(ALREADY_RUNNING),
            ALREADY_RUNNING: {
                "Type": "Choice",
                "Comment": "Skip unless this is the oldest RUNNING execution. Not 'more than one RUNNING': two "
                           "executions started together (a duplicate delivery) would both skip, and an "
                           "execution not yet listed (eventual consistency) would start beside a running one.",
                "Choices": [{"Condition": _jsonata("$states.input.count > 0 and $states.input.oldest != "
                                                   "$states.context.Execution.Id"), "Next": SKIPPED}],
                "Default": run_start,
            },
            SKIPPED: {"Type": "Succeed", "Comment": "Nothing ran: the older execution still owns the job.",
                      "Output": {"skipped": True, "reason": SKIP_REASON, "running": _jsonata("$states.input.running"),
                                 "oldest": _jsonata("$states.input.oldest")}},
        }

    def run(self) -> dict[str, Any]:
        return {}

    def job_result(self) -> dict[str, Any]:
        exit_code = _jsonata(f"$states.result.Containers[Name = {_literal(self.spec.container_name)}].ExitCode")
        fields = {k: _jsonata(f"$states.result.{k}") for k in TASK_SUMMARY}
        return {"Output": {"TaskArn": fields.pop("TaskArn"), "ExitCode": exit_code, **fields}}

    def notify_success(self) -> dict[str, Any]:
        message = _jsonata("$string({'execution': $states.context.Execution.Id, 'task': $states.input})")
        return {**self._publish("job succeeded", message, "Tell the topic the job succeeded."),
                # the execution's output stays the task summary, not the SNS MessageId
                "Output": _jsonata("$states.input"), "End": True}

    def failure(self) -> dict[str, Any]:
        # The cause is JSON for a stopped task (States.TaskFailed) but plain text for others
        # (ECS.AmazonECSException, States.Timeout, ...), and the ASL specification says the error
        # output only "usually" has a Cause: parse it only when it is a string starting with "{".
        cause = ("($c := $states.input.Cause; $type($c) = 'string' and $substring($c, 0, 1) = '{' ? $parse($c))")
        message = _jsonata(f"$string({{'execution': $states.context.Execution.Id, 'error': $states.input, "
                           f"'details': {cause}}})")
        notify = self._publish("job failed", message, "Tell the topic why the run failed, with the cause parsed "
                               "when it is JSON (the stopped task for States.TaskFailed).")
        return {
            NOTIFY_FAILURE: {**notify,
                             "Output": _jsonata("$states.input"),
                             # a failed notification must not hide the job's own error
                             "Catch": [{"ErrorEquals": ["States.ALL"], "Output": _jsonata("$states.input"),
                                        "Next": FAILED}],
                             "Next": FAILED},
            FAILED: {"Type": "Fail", "Comment": FAILED_COMMENT,
                     "Error": _jsonata(f"{_literal(FAIL_ERROR_PREFIX)} & $states.input.Error"),
                     "Cause": _jsonata("$exists($states.input.Cause) ? $states.input.Cause : ''")},
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
        return {"ResultSelector": {"count.$": "States.ArrayLength($.Executions)", "executions.$": "$.Executions"},
                "ResultPath": "$.guard"}

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
                "Choices": [{"Not": {"Variable": "$.guard.oldest.ExecutionArn", "StringEqualsPath": "$.guard.me"},
                             "Next": SKIPPED}],
                "Default": run_start,
            },
            # a Pass, not a Succeed: a JSONPath Succeed cannot shape its output (Output is JSONata only)
            SKIPPED: {"Type": "Pass", "Comment": "Nothing ran: the older execution still owns the job.",
                      "Parameters": {"skipped": True, "reason": SKIP_REASON, "running.$": "$.guard.running",
                                     "oldest.$": "$.guard.oldest.ExecutionArn"},
                      "End": True},
        }

    def run(self) -> dict[str, Any]:
        # JSONPath cannot leave out a field the input lacks ("Command.$" on a missing path fails the
        # state), so each combination of "command"/"environment" in the input gets its own override.
        # (A default merged in with States.JsonMerge would need a JSON string literal in an
        # intrinsic, whose escaped braces moto's interpreter does not unescape; and an empty
        # Command list is no default: what ECS does with one is not documented.)
        name = self.spec.container_name
        command, environment = {"Command.$": "$.command"}, {"Environment.$": "$.environment"}
        branches = {WITH_BOTH: {**command, **environment}, WITH_COMMAND: command,
                    WITH_ENVIRONMENT: environment, WITH_NEITHER: {}}

        def present(field: str) -> dict[str, Any]:
            return {"Variable": f"$.{field}", "IsPresent": True}

        states: dict[str, Any] = {OVERRIDES_GIVEN: {
            "Type": "Choice",
            "Comment": "What the execution input overrides: its command and environment replace the task "
                       "definition's; a field it lacks keeps the task definition's value.",
            "Choices": [{"And": [present("command"), present("environment")], "Next": WITH_BOTH},
                        {**present("command"), "Next": WITH_COMMAND},
                        {**present("environment"), "Next": WITH_ENVIRONMENT}],
            "Default": WITH_NEITHER,
        }}
        for state, fields in branches.items():
            states[state] = {"Type": "Pass", "Parameters": {"Name": name, **fields}, "ResultPath": "$.override",
                             "Next": RUN_JOB}
        return states

    def job_result(self) -> dict[str, Any]:
        # ExitCode: the task has one container, the one the stack's task definition declares
        # (stack.task_definition_request); statelint's JSONPath has no filter expressions
        fields = {f"{k}.$": f"$.{k}" for k in TASK_SUMMARY}
        return {"ResultSelector": {"TaskArn.$": fields.pop("TaskArn.$"), "ExitCode.$": "$.Containers[0].ExitCode",
                                   **fields}, "ResultPath": "$"}

    def notify_success(self) -> dict[str, Any]:
        # ResultPath null: the execution's output stays the task summary, not the SNS MessageId
        return {**self._publish("job succeeded", "States.JsonToString($)", "Tell the topic the job succeeded."),
                "ResultPath": None, "End": True}

    def failure(self) -> dict[str, Any]:
        # Every branch leaves {"execution", "error": {"Error", "Cause"}, ["details"]} in $.failure
        # for NotifyFailure's message and Failed's ErrorPath/CausePath.
        execution = {"execution.$": "$$.Execution.Id"}

        def describe(parameters: dict[str, Any]) -> dict[str, Any]:
            return {"Type": "Pass", "Parameters": {**execution, **parameters}, "ResultPath": "$.failure",
                    "Next": NOTIFY_FAILURE}

        return {
            CAUSE_IS_JSON: {
                "Type": "Choice",
                "Comment": "A stopped task's cause is JSON; ECS.AmazonECSException, States.Timeout and others give "
                           "text, on which States.StringToJson would fail with States.Runtime (no Catch catches "
                           "it); and the ASL specification says an error output only 'usually' has a Cause.",
                "Choices": [{"Not": {"Variable": "$.error.Cause", "IsPresent": True}, "Next": NO_CAUSE},
                            {"Variable": "$.error.Cause", "StringMatches": "{*", "Next": PARSE_CAUSE}],
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
            FAILED: {"Type": "Fail", "Comment": FAILED_COMMENT,
                     "ErrorPath": f"States.Format('{FAIL_ERROR_PREFIX}{{}}', $.failure.error.Error)",
                     "CausePath": "$.failure.error.Cause"},
        }


_DIALECTS: dict[str, Callable[[StackSpec], _Dialect]] = {"JSONata": _JSONata, "JSONPath": _JSONPath}


# ==== what the definition calls (for sfnecs.iam) =====================================================

#: Optimized integrations -> the IAM actions the state machine's role needs for them (Step Functions
#: developer guide, "IAM policies for Amazon ECS/AWS Fargate" and "... Amazon SNS"). `.sync` on ECS
#: also stops the task on timeout, polls it, and manages the rule through which ECS reports the
#: task's end; every RunTask passes the task's roles (iam:PassRole, for both task and execution role).
INTEGRATION_ACTIONS: dict[str, tuple[str, ...]] = {
    "ecs:runTask": ("ecs:RunTask", "iam:PassRole"),
    "ecs:runTask.waitForTaskToken": ("ecs:RunTask", "iam:PassRole"),
    "ecs:runTask.sync": ("ecs:RunTask", "ecs:StopTask", "ecs:DescribeTasks", "events:PutTargets",
                         "events:PutRule", "events:DescribeRule", "iam:PassRole"),
    "sns:publish": ("sns:Publish",),
}
#: AWS SDK integrations name the SDK's service; where its IAM prefix differs, the prefix is here.
SDK_IAM_PREFIXES: dict[str, str] = {"sfn": "states"}

_INTEGRATION_ARN = re.compile(r"arn:aws[a-z-]*:states:::(?P<service>aws-sdk:[a-z0-9]+:[A-Za-z0-9]+|[a-z0-9]+:"
                              r"[A-Za-z0-9]+)(?P<pattern>\.sync(?::2)?|\.waitForTaskToken)?")


def states_used(definition: Mapping[str, Any]) -> set[str]:
    """The IAM actions (`service:Action`) the definition's Task states need, nested states included.

    Why: the state machine's role must grant exactly these (plus the log-delivery actions when
    execution logging is on, which no state calls); a test compares the two.
    """
    actions: set[str] = set()
    for path, state in _walk_states(definition):
        if state.get("Type") != "Task":
            continue
        resource = state.get("Resource")
        match = _INTEGRATION_ARN.fullmatch(resource) if isinstance(resource, str) else None
        if match is None:
            raise ValidationError(f"{path}.Resource", resource, "a Step Functions service integration ARN "
                                  "(arn:aws:states:::service:action[.sync|.waitForTaskToken])")
        service, pattern = match["service"], match["pattern"] or ""
        if service.startswith("aws-sdk:"):
            _, sdk, api = service.split(":")
            # AWS SDK integrations call the API action of the same name (PascalCase in IAM)
            actions.add(f"{SDK_IAM_PREFIXES.get(sdk, sdk)}:{api[:1].upper()}{api[1:]}")
            continue
        key = service + pattern
        if key not in INTEGRATION_ACTIONS:
            raise ValidationError(f"{path}.Resource", resource,
                                  "an integration sfnecs knows the IAM needs of: " + ", ".join(INTEGRATION_ACTIONS)
                                  + ", or aws-sdk:<service>:<action>")
        actions.update(INTEGRATION_ACTIONS[key])
    return actions


def _walk_states(definition: Mapping[str, Any], path: str = "States") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every state with its path, descending into Parallel branches and Map item processors."""
    states = definition.get("States") if isinstance(definition, Mapping) else None
    if not isinstance(states, Mapping):
        return
    for name, state in states.items():
        if not isinstance(state, Mapping):
            continue
        here = f"{path}.{name}"
        yield here, state
        for i, branch in enumerate(state.get("Branches") or ()):
            yield from _walk_states(branch, f"{here}.Branches[{i}].States")
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), Mapping):
                yield from _walk_states(state[key], f"{here}.{key}.States")


# ==== validation ===================================================================================

def validate(definition: Mapping[str, Any] | str) -> list[str]:
    """Problems found in a definition; an empty list means it lints clean.

    Why: a definition that CreateStateMachine would reject, or that strands an execution in a
    state with no way on, is cheaper to catch before any AWS call.

    Two maintained checkers, one finding per line:
    * statelint (PyPI `statelint`, a Python port of awslabs/statelint that knows JSONata): the ASL
      structure: required and allowed fields per state type and query language (no `ResultPath`
      or `Parameters` in JSONata states, no `Output` or `Variable` in JSONPath ones), every
      Next/Default/StartAt naming a state, every state reachable, a terminal state present, paths
      and intrinsic functions well formed, value types (e.g. BackoffRate a float).
    * jsonata-python: every `{% ... %}` expression of a JSONata state parses.

    Not checked, for either language: what expressions evaluate to (JSONata functions such as
    `$parse` exist only at run time; intrinsic arguments are checked for form only), service
    parameter names, and AWS quotas. AWS's ValidateStateMachineDefinition API is authoritative but
    needs an account; executing the definition (the sandbox) is the real test.
    """
    from statelint.linter import Linter

    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except ValueError as e:
            return [f"definition is not JSON: {e}"]
    if not isinstance(definition, Mapping):
        return [f"definition is {type(definition).__name__}, not a JSON object"]
    problems = list(Linter.validate(dict(definition)))
    problems += _jsonata_syntax(definition)
    return problems


def _jsonata_syntax(definition: Mapping[str, Any]) -> list[str]:
    from jsonata import Jsonata

    default = definition.get("QueryLanguage", "JSONPath")
    problems = []
    for path, state in _walk_states(definition):
        if state.get("QueryLanguage", default) != "JSONata":
            continue
        for where, text in _strings(state, path):
            if text.startswith("{%") and text.endswith("%}"):
                try:
                    Jsonata(text[2:-2].strip())
                except Exception as e:  # noqa: BLE001 - jsonata-python raises its own JException
                    problems.append(f"{where} is not a valid JSONata expression: {e}")
    return problems


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")


# ==== diagram ======================================================================================

@dataclass(frozen=True)
class Edge:
    """One transition of the diagram: Next, a Choice rule or Default, a Catch, or a Retry (a loop)."""

    source: str
    target: str
    kind: str  # next | choice | default | catch | retry
    label: str = ""


@dataclass(frozen=True)
class Box:
    """A state's box: its top-left corner and size in SVG user units."""

    name: str
    type: str
    x: float
    y: float
    width: float
    height: float
    end: bool = False
    comment: str = ""


@dataclass(frozen=True)
class Route:
    """Where an edge is drawn: the points its curve passes through and where its label sits."""

    edge: Edge
    points: tuple[tuple[float, float], ...]
    label_xy: tuple[float, float]
    label_anchor: str = "middle"


#: fill and stroke per state type (Step Functions console-like colours)
_COLORS = {"Task": ("#dbeafe", "#1d4ed8"), "Choice": ("#fef3c7", "#b45309"), "Pass": ("#f3f4f6", "#4b5563"),
           "Succeed": ("#dcfce7", "#15803d"), "Fail": ("#fee2e2", "#b91c1c"), "Wait": ("#ede9fe", "#6d28d9"),
           "Parallel": ("#e0f2fe", "#0369a1"), "Map": ("#e0f2fe", "#0369a1")}
_EDGE_COLORS = {"next": "#374151", "choice": "#b45309", "default": "#b45309", "catch": "#b91c1c",
                "retry": "#1d4ed8"}
_BOX_H, _ROW_GAP, _COL_GAP, _MARGIN, _CHAR_W, _LABEL_CHAR_W = 44.0, 70.0, 40.0, 24.0, 7.4, 5.9
_TOP = _MARGIN + 28  # room for the start marker
_DUMMY_W = 16.0


@dataclass(frozen=True)
class Diagram:
    """A state machine drawn top-down: SVG for notebooks and pages, Mermaid text, an edge table.

    Why hand-drawn SVG: graphviz binaries are not guaranteed on a learner's machine, and the
    kit's machines (a few dozen states at most) are small enough for a simple layered layout.
    """

    definition: Mapping[str, Any]
    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]
    routes: tuple[Route, ...] = field(repr=False)
    width: float
    height: float
    title: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One row per edge: source, target, kind, label."""
        return pd.DataFrame([e.__dict__ for e in self.edges], columns=["source", "target", "kind", "label"])

    def to_svg(self) -> str:
        """The diagram as a standalone SVG document (parses as XML)."""
        out = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width:.0f} {self.height:.0f}" '
                f'width="{self.width:.0f}" height="{self.height:.0f}" font-family="Helvetica, Arial, sans-serif" '
                f'role="img" aria-label="{html.escape(self.title or "state machine", quote=True)}">'),
               "<defs>" + "".join(
                   f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
                   f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/>'
                   f"</marker>" for kind, color in _EDGE_COLORS.items()) + "</defs>",
               '<rect width="100%" height="100%" fill="#ffffff"/>']
        start = next((b for b in self.boxes if b.name == self.definition.get("StartAt")), None)
        if start is not None:
            cx = start.x + start.width / 2
            out.append(f'<circle cx="{cx:.1f}" cy="{start.y - 22:.1f}" r="6" fill="#111827"/>'
                       f'<line x1="{cx:.1f}" y1="{start.y - 16:.1f}" x2="{cx:.1f}" y2="{start.y - 2:.1f}" '
                       f'stroke="#111827" stroke-width="1.5" marker-end="url(#arrow-next)"/>')
        out += [_svg_route(r) for r in self.routes]
        out += [_svg_box(b) for b in self.boxes]
        out += [_svg_label(r) for r in self.routes if r.edge.label]  # last: over lines and boxes
        out.append("</svg>")
        return "\n".join(out)

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def _repr_html_(self) -> str:
        return f'<div style="max-width:100%;overflow-x:auto">{self.to_svg()}</div>'

    def to_html(self, title: str | None = None) -> str:
        """A static HTML page: the diagram, the transition table and the definition's JSON."""
        title = title or self.title or "State machine"
        return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                f"<title>{html.escape(title)}</title>\n<style>body{{font-family:Helvetica,Arial,sans-serif;"
                "margin:2rem;color:#111827}pre{background:#f9fafb;padding:1rem;overflow-x:auto}"
                "table{border-collapse:collapse}td,th{border:1px solid #d1d5db;padding:.25rem .5rem;"
                "text-align:left}</style>\n</head>\n<body>\n"
                f"<h1>{html.escape(title)}</h1>\n{self.to_svg()}\n<h2>Transitions</h2>\n"
                f"{self.to_frame().to_html(index=False, border=0)}\n"
                f"<details><summary>Definition (ASL)</summary><pre>{html.escape(to_json(self.definition))}</pre>"
                "</details>\n</body>\n</html>\n")

    def to_mermaid(self) -> str:
        """The diagram as Mermaid `flowchart TD` text (renders on GitHub and in JupyterLab Markdown)."""
        ids = {b.name: f"s{i}" for i, b in enumerate(self.boxes)}
        shapes = {"Choice": ('{"', '"}'), "Succeed": ('(["', '"])'), "Fail": ('(["', '"])'), "Pass": ('[/"', '"/]')}
        lines = ["flowchart TD"]
        for box in self.boxes:
            left, right = shapes.get(box.type, ('["', '"]'))
            lines.append(f"  {ids[box.name]}{left}{_mermaid_text(box.name)}{right}")
        if (start := self.definition.get("StartAt")) in ids:
            lines.append(f"  start(( )) --> {ids[start]}")
        for e in self.edges:
            arrow = "-.->" if e.kind in ("catch", "retry") else "-->"
            label = f'|"{_mermaid_text(e.label)}"|' if e.label else ""
            lines.append(f"  {ids[e.source]} {arrow}{label} {ids[e.target]}")
        for kind in ("Task", "Choice", "Pass", "Succeed", "Fail"):
            members = [ids[b.name] for b in self.boxes if b.type == kind]
            if members:
                fill, stroke = _COLORS[kind]
                lines += [f"  classDef {kind.lower()} fill:{fill},stroke:{stroke}",
                          f"  class {','.join(members)} {kind.lower()}"]
        return "\n".join(lines) + "\n"


def diagram(definition: Mapping[str, Any], title: str = "") -> Diagram:
    """Lay out a definition's top-level states top-down, one row per step from StartAt.

    Why: a learner sees what each switch adds (the guard, the retries, the notification path);
    the `Diagram` renders itself in a notebook and as a static page.
    """
    states = definition.get("States") if isinstance(definition, Mapping) else None
    if not isinstance(states, Mapping) or not states or not all(isinstance(s, Mapping) for s in states.values()):
        raise ValidationError("definition", definition, "an ASL definition with a non-empty States object")
    edges = tuple(_edges(states))
    layout = _Layout(states, edges, str(definition.get("StartAt")))
    return Diagram(definition=definition, boxes=layout.boxes, edges=edges, routes=layout.routes,
                   width=layout.width, height=layout.height, title=title or str(definition.get("Comment", "")))


def _edges(states: Mapping[str, Any]) -> Iterator[Edge]:
    for name, state in states.items():
        for retrier in state.get("Retry") or ():
            yield Edge(name, name, "retry", f"retry {', '.join(retrier.get('ErrorEquals', []))} "
                                            f"\u00d7{retrier.get('MaxAttempts', 3)}")
        for rule in state.get("Choices") or ():
            if rule.get("Next") in states:
                yield Edge(name, rule["Next"], "choice", _shorten(_rule_text(rule)))
        if state.get("Default") in states:
            yield Edge(name, state["Default"], "default", "default")
        if state.get("Next") in states:
            yield Edge(name, state["Next"], "next", "")
        for catcher in state.get("Catch") or ():
            if catcher.get("Next") in states:
                yield Edge(name, catcher["Next"], "catch", "catch " + ", ".join(catcher.get("ErrorEquals", [])))


_OPERATORS = {"EqualsPath": "==", "Equals": "==", "GreaterThanEqualsPath": ">=", "GreaterThanEquals": ">=",
              "GreaterThanPath": ">", "GreaterThan": ">", "LessThanEqualsPath": "<=", "LessThanEquals": "<=",
              "LessThanPath": "<", "LessThan": "<", "Matches": "matches"}


def _rule_text(rule: Mapping[str, Any]) -> str:
    """A Choice rule in a few words: the JSONata Condition, or the JSONPath comparison."""
    if "Condition" in rule:
        return str(rule["Condition"]).removeprefix("{%").removesuffix("%}").strip()
    if "And" in rule or "Or" in rule:
        joiner = " and " if "And" in rule else " or "
        return joiner.join(_rule_text(r) for r in rule.get("And") or rule.get("Or") or ())
    if "Not" in rule:
        return f"not ({_rule_text(rule['Not'])})"
    variable = rule.get("Variable", "?")
    for key, value in rule.items():
        if key in ("Variable", "Next", "Comment", "Assign", "Output"):
            continue
        if key.startswith("Is"):
            return f"{variable} {'is' if value else 'is not'} {key[2:].lower()}"
        op = next((sym for suffix, sym in _OPERATORS.items() if key.endswith(suffix)), key)
        return f"{variable} {op} {value if key.endswith('Path') else json.dumps(value)}"
    return variable


def _shorten(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


class _Layout:
    """A layered (Sugiyama-style) top-down layout, small enough to read.

    Rows by longest path from StartAt (edges closing a loop ignored), invisible waypoints where an
    edge skips rows so it does not cut through boxes, one barycentre sweep to reduce crossings.
    """

    def __init__(self, states: Mapping[str, Any], edges: tuple[Edge, ...], start: str) -> None:
        self.states, self.edges = states, edges
        names = list(states)
        successors: dict[str, list[str]] = {n: [] for n in names}
        for e in edges:
            if e.kind != "retry" and e.target not in successors[e.source]:
                successors[e.source].append(e.target)
        # depth-first from StartAt, then from any state it does not reach (drawn below the rest)
        self.forward: set[tuple[str, str]] = set()
        order: list[str] = []
        on_stack: set[str] = set()

        def visit(node: str) -> None:
            order.append(node)
            on_stack.add(node)
            for nxt in successors[node]:
                if nxt not in on_stack:  # an edge back to the stack closes a loop: not a row constraint
                    self.forward.add((node, nxt))
                    if nxt not in order:
                        visit(nxt)
            on_stack.discard(node)

        roots = ([start] if start in successors else []) + names
        depth: dict[str, int] = {}
        for root in roots:
            if root in order:
                continue
            first = len(order)
            visit(root)
            base = max(depth.values(), default=-1) + 1
            for node in _topological(order[first:], self.forward):
                depth.setdefault(node, base)
                for a, b in self.forward:
                    if a == node and b in order[first:]:
                        depth[b] = max(depth.get(b, base), depth[node] + 1)
        self.depth = depth
        # waypoints on the rows an edge skips
        self.waypoints: dict[tuple[str, str], list[str]] = {}
        rows: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
        for node in order:
            rows[depth[node]].append(node)
        parents: dict[str, list[str]] = {}
        for a, b in sorted(self.forward, key=lambda ab: (order.index(ab[0]), order.index(ab[1]))):
            chain = [a]
            for row in range(depth[a] + 1, depth[b]):
                dummy = f"\0{a}\0{b}\0{row}"
                rows[row].append(dummy)
                chain.append(dummy)
            self.waypoints[(a, b)] = chain[1:]
            for p, c in zip(chain, chain[1:] + [b]):
                parents.setdefault(c, []).append(p)
        position = {n: i for row in rows for i, n in enumerate(row)}
        for row in rows[1:]:
            row.sort(key=lambda n: (sum(position[p] for p in parents.get(n, [])) / len(parents[n])
                                    if parents.get(n) else math.inf, position[n]))
            position.update({n: i for i, n in enumerate(row)})
        self.rows = rows
        self._place()
        self._route()

    def _width(self, name: str) -> float:
        if name.startswith("\0"):
            return _DUMMY_W
        return max(120.0, _CHAR_W * max(len(name), len(str(self.states[name].get("Type", ""))) + 6) + 28)

    def _place(self) -> None:
        loops = [e for e in self.edges if e.kind == "retry"]
        backs = any((e.source, e.target) not in self.forward for e in self.edges if e.kind != "retry")
        left = _MARGIN + (90.0 if backs else 0.0)
        row_widths = [sum(self._width(n) for n in row) + _COL_GAP * (len(row) - 1) for row in self.rows]
        widest = max(row_widths)
        self.centres: dict[str, tuple[float, float]] = {}
        boxes = []
        for r, row in enumerate(self.rows):
            x = left + (widest - row_widths[r]) / 2
            y = _TOP + r * (_BOX_H + _ROW_GAP)
            for name in row:
                w = self._width(name)
                self.centres[name] = (x + w / 2, y)
                if not name.startswith("\0"):
                    state = self.states[name]
                    boxes.append(Box(name, str(state.get("Type", "?")), x, y, w, _BOX_H,
                                     end=bool(state.get("End")) or state.get("Type") in ("Succeed", "Fail"),
                                     comment=str(state.get("Comment", ""))))
                x += w + _COL_GAP
        self.boxes = tuple(boxes)
        self.box = {b.name: b for b in boxes}
        # room on the right for retry loops and their labels
        right = max((self.box[e.source].x + self.box[e.source].width + 56 + _LABEL_CHAR_W * len(e.label)
                     for e in loops), default=0.0)
        self.width = max(left + widest, right) + _MARGIN
        self.height = _TOP + len(self.rows) * (_BOX_H + _ROW_GAP) - _ROW_GAP + _MARGIN + 8

    def _ports(self) -> dict[tuple[int, str], float]:
        """x of each forward edge's end on its box: edges leaving (or entering) a box spread along it."""
        ends: dict[tuple[str, str], list[tuple[float, int]]] = {}
        for i, e in enumerate(self.edges):
            if e.kind == "retry" or (e.source, e.target) not in self.forward:
                continue
            way = self.waypoints[(e.source, e.target)]
            first = self.centres[way[0]][0] if way else self.centres[e.target][0]
            last = self.centres[way[-1]][0] if way else self.centres[e.source][0]
            ends.setdefault(("out", e.source), []).append((first, i))
            ends.setdefault(("in", e.target), []).append((last, i))
        ports: dict[tuple[int, str], float] = {}
        for (side, name), items in ends.items():
            box = self.box[name]
            for k, (_, i) in enumerate(sorted(items)):
                ports[(i, side)] = box.x + box.width * (k + 1) / (len(items) + 1)
        return ports

    def _route(self) -> None:
        ports, routes = self._ports(), []
        loops_seen: dict[str, int] = {}
        fan_out: dict[str, int] = {}
        backs_seen = 0
        for i, e in enumerate(self.edges):
            a, b = self.box[e.source], self.box[e.target]
            if e.kind == "retry":
                k = loops_seen[e.source] = loops_seen.get(e.source, -1) + 1
                x, y, reach = a.x + a.width, a.y + a.height / 2, 34 + 10 * k
                points = ((x, y - 8), (x + reach, y - 8 - reach / 3), (x + reach, y + 8 + reach / 3), (x, y + 8))
                routes.append(Route(e, points, (x + reach + 6, y + 4 - 8 + 13 * k), "start"))
            elif (e.source, e.target) in self.forward:
                points = [(ports[(i, "out")], a.y + a.height)]
                for dummy in self.waypoints[(e.source, e.target)]:
                    cx, top = self.centres[dummy]
                    points += [(cx, top), (cx, top + _BOX_H)]
                points.append((ports[(i, "in")], b.y))
                # the label on the segment leaving the state (what makes this transition happen),
                # at three heights in turn where several leave one state, so they do not overlap
                k = fan_out.get(e.source, 0)
                fan_out[e.source] = k + 1
                x, y = _on_curve(points[0], points[1], 0.22 + 0.28 * (k % 3))
                routes.append(Route(e, tuple(points), (x, y + 4)))
            else:  # closes a loop: around the left side
                out = min(a.x, b.x) - 30 - 12 * backs_seen
                backs_seen += 1
                ya, yb = a.y + a.height / 2, b.y + b.height / 2
                points = ((a.x, ya), (out, ya), (out, yb), (b.x, yb))
                routes.append(Route(e, points, (out - 4, (ya + yb) / 2), "end"))
        self.routes = tuple(routes)


def _on_curve(a: tuple[float, float], b: tuple[float, float], t: float) -> tuple[float, float]:
    """The point at parameter t of the vertical S-curve from a to b (as `_svg_route` draws it)."""
    (xa, ya), (xb, yb) = a, b
    bend = (yb - ya) / 2
    u = 1 - t
    return (u**3 * xa + 3 * u * u * t * xa + 3 * u * t * t * xb + t**3 * xb,
            u**3 * ya + 3 * u * u * t * (ya + bend) + 3 * u * t * t * (yb - bend) + t**3 * yb)


def _topological(nodes: list[str], forward: set[tuple[str, str]]) -> list[str]:
    inside = set(nodes)
    indegree = {n: sum(1 for a, b in forward if b == n and a in inside) for n in nodes}
    ready, order = [n for n in nodes if indegree[n] == 0], []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for a, b in sorted(forward, key=lambda ab: nodes.index(ab[1]) if ab[1] in inside else 0):
            if a == node and b in inside:
                indegree[b] -= 1
                if indegree[b] == 0:
                    ready.append(b)
    return order


def _svg_box(box: Box) -> str:
    fill, stroke = _COLORS.get(box.type, ("#ffffff", "#111827"))
    kind = html.escape(box.type) + (" \u00b7 end" if box.end and box.type not in ("Succeed", "Fail") else "")
    tip = html.escape(f"{box.name} ({box.type}){': ' + box.comment if box.comment else ''}")
    cx = box.x + box.width / 2
    return (f'<g class="state" data-state="{html.escape(box.name, quote=True)}"><title>{tip}</title>'
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" '
            f'rx="{14 if box.type == "Choice" else 4}" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{2.5 if box.end else 1.2}"/>'
            f'<text x="{cx:.1f}" y="{box.y + 19:.1f}" text-anchor="middle" font-size="13" font-weight="600" '
            f'fill="#111827">{html.escape(box.name)}</text>'
            f'<text x="{cx:.1f}" y="{box.y + 35:.1f}" text-anchor="middle" font-size="10.5" fill="{stroke}">'
            f"{kind}</text></g>")


def _svg_route(route: Route) -> str:
    kind, points = route.edge.kind, route.points
    color = _EDGE_COLORS.get(kind, "#374151")
    dash = ' stroke-dasharray="5 3"' if kind in ("catch", "retry") else ""
    if kind == "retry" or points[0][1] == points[-1][1] or len(points) == 4 and points[1][1] == points[0][1]:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
        d = f"M{x0:.1f},{y0:.1f} C{x1:.1f},{y1:.1f} {x2:.1f},{y2:.1f} {x3:.1f},{y3:.1f}"
    else:  # smooth vertical S-curves through the waypoints
        d = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
        for (xa, ya), (xb, yb) in itertools.pairwise(points):
            bend = (yb - ya) / 2
            d += f" C{xa:.1f},{ya + bend:.1f} {xb:.1f},{yb - bend:.1f} {xb:.1f},{yb:.1f}"
    return (f'<path class="edge" data-kind="{kind}" data-from="{html.escape(route.edge.source, quote=True)}" '
            f'data-to="{html.escape(route.edge.target, quote=True)}" d="{d}" fill="none" stroke="{color}" '
            f'stroke-width="1.4"{dash} marker-end="url(#arrow-{kind})"/>')


def _svg_label(route: Route) -> str:
    x, y = route.label_xy
    color = _EDGE_COLORS.get(route.edge.kind, "#374151")
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{route.label_anchor}" font-size="10.5" fill="{color}" '
            f'stroke="#ffffff" stroke-width="3" paint-order="stroke">{html.escape(route.edge.label)}</text>')


def _mermaid_text(text: str) -> str:
    """Mermaid label text: quotes, ampersands and angle brackets as entity codes, no line breaks."""
    return " ".join(text.split()).replace("&", "#38;").replace('"', "#34;").replace("<", "#60;").replace(">", "#62;")

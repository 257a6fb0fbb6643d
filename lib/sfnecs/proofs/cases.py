"""The proof suite of a pattern-B stack: every path of its state machine as a chain of TestState steps.

Why from the StackSpec: the expectations (which errors are retried, how often, where a Catch goes,
what ends the run) come from the stack description, the same object the definition is built from;
running them against a definition (the deployed one, or any other) shows whether it does what the
spec says. A pure builder: data in, data out, no AWS call (`sfnecs.proofs.run` calls TestState).

A path is walked state by state: each step tests one state with Step Functions' TestState, and its
output is the next step's input (after a RETRIABLE step, the same state is tested again with the same
input and one more retry counted). Service calls are mocked (`mock.result` / `mock.errorOutput`), so
no task runs and nothing is published. Two limits of TestState shape the suite: `context` may be
given only with a mock, so a Choice that compares with `$states.context.Execution.Id` (the JSONata
guard) cannot be shown "this execution is the oldest" -- the run path uses an empty list instead (no
execution listed yet: ListExecutions is eventually consistent) -- and what TestState reports as
`nextState` for a RETRIABLE state is not documented, so RETRIABLE steps check status and error only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, tr
from sfnecs.model.spec import StackSpec
from sfnecs.statemachine.build import (
    ALREADY_RUNNING,
    ANY_RUNNING,
    CAUSE_IS_JSON,
    CHECK_RUNNING,
    FAIL_ERROR_PREFIX,
    FAILED,
    FIND_OLDEST,
    GUARD_RETRY_ATTEMPTS,
    NO_CAUSE,
    NOTIFY_FAILURE,
    NOTIFY_SUCCESS,
    OVERRIDES_GIVEN,
    PARSE_CAUSE,
    RUN_JOB,
    SKIPPED,
    TEXT_CAUSE,
    WITH_NEITHER,
)

#: the execution every mocked step runs in (its Context object): a name the proofs use alone
EXECUTION_NAME = "sfnecs-prove"
#: TestState's statuses (Step Functions API reference, "TestState", response `status`)
STATUSES = ("SUCCEEDED", "FAILED", "RETRIABLE", "CAUGHT_ERROR")
#: errors the mocks raise: a throttled RunTask (text cause), an SNS outage, a failed ListExecutions
THROTTLED = (
    "ECS.AmazonECSException",
    "Rate exceeded (Service: AmazonECS; Status Code: 400; Error Code: ThrottlingException)",
)
SNS_DOWN = ("SNS.InternalErrorException", "Internal error (Service: AmazonSNS; Status Code: 500)")
LIST_FAILED = ("States.TaskFailed", "ListExecutions failed")


@dataclass(frozen=True)
class Step:
    """One TestState call of a path and what it must give."""

    state: str
    expect_status: str
    expect_next: str | None = None  # the next state; None: none (the run ends here, or RETRIABLE/FAILED)
    expect_error: str | None = None
    mock: dict[str, Any] | None = None
    retry_count: int = 0
    input: Any = None  # None: the previous step's output (or the path's input for the first step)
    expect_output: dict[str, Any] = field(default_factory=dict)  # top-level fields the output must have

    @property
    def expected(self) -> str:
        """The expectation in words, e.g. 'CAUGHT_ERROR -> NotifyFailure'."""
        text = self.expect_status + (f" -> {self.expect_next}" if self.expect_next else "")
        return text + (f" ({self.expect_error})" if self.expect_error else "")


@dataclass(frozen=True)
class ProofPath:
    """A path of the state machine, what walking it proves, and its steps."""

    name: str
    proves: str
    steps: tuple[Step, ...]
    input: Any = field(default_factory=dict)


def execution_arn(spec: StackSpec) -> str:
    """The ARN of the execution the mocked steps run in (their Context object's Execution.Id)."""
    return spec.state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{EXECUTION_NAME}"


def context(spec: StackSpec, execution_input: Any = None) -> dict[str, Any]:
    """The Context object given with every mocked step (TestState allows `context` only with a mock)."""
    return {
        "Execution": {"Id": execution_arn(spec), "Name": EXECUTION_NAME, "Input": execution_input or {}},
        "StateMachine": {"Id": spec.state_machine_arn, "Name": spec.state_machine},
    }


def stopped_task(spec: StackSpec, exit_code: int) -> dict[str, Any]:
    """A stopped task as `ecs:runTask.sync` returns it (DescribeTasks' task, fields capitalised)."""
    return {
        "TaskArn": spec.arn("ecs", f"task/{spec.cluster}/0123456789abcdef0123456789abcdef"),
        "ClusterArn": spec.cluster_arn,
        "LastStatus": "STOPPED",
        "StopCode": "EssentialContainerExited",
        "StoppedReason": "Essential container in task exited",
        "Containers": [{"Name": spec.container_name, "ExitCode": exit_code, "LastStatus": "STOPPED"}],
        "CreatedAt": 1767225600000,
        "StartedAt": 1767225630000,
        "StoppedAt": 1767225690000,
    }


def _times(count: int) -> str:
    return tr("once") if count == 1 else tr("{count} times", count=count)


def _result(value: Any, validation: str = "STRICT") -> dict[str, Any]:
    return {"result": json.dumps(value), "fieldValidationMode": validation}


def _error(error: str, cause: str) -> dict[str, Any]:
    return {"errorOutput": {"error": error, "cause": cause}}


def _listed(spec: StackSpec, *names: str) -> dict[str, Any]:
    """A ListExecutions result listing RUNNING executions, most recent first (as the API lists them)."""
    arn = execution_arn(spec).rsplit(":", 1)[0]
    return {
        "Executions": [
            {
                "ExecutionArn": f"{arn}:{name}",
                "StateMachineArn": spec.state_machine_arn,
                "Name": name,
                "Status": "RUNNING",
                "StartDate": 1767225600000 - 60000 * index,
            }
            for index, name in enumerate(names)
        ]
    }


def _published() -> dict[str, Any]:
    return _result({"MessageId": "5e2d8d0f-0000-4000-8000-000000000000"})


class _Suite:
    """The steps a path is made of, for one spec (both query languages)."""

    def __init__(self, spec: StackSpec) -> None:
        self.spec = spec
        self.jsonpath = spec.query_language == "JSONPath"

    def to_run(self) -> list[Step]:
        """From the first state after the guard to RunJob's input (JSONPath shapes the overrides)."""
        if not self.jsonpath:
            return []
        return [Step(OVERRIDES_GIVEN, "SUCCEEDED", WITH_NEITHER), Step(WITH_NEITHER, "SUCCEEDED", RUN_JOB)]

    def run_start(self) -> str:
        return OVERRIDES_GIVEN if self.jsonpath else RUN_JOB

    def job_fails(self, error: str, cause: str, retry_count: int = 0) -> Step:
        """RunJob failing with `error` after `retry_count` retries: caught (notify) or the run fails."""
        mock = _error(error, cause)
        if self.spec.notify_failure:
            return Step(RUN_JOB, "CAUGHT_ERROR", self.failure_start(), error, mock, retry_count)
        return Step(RUN_JOB, "FAILED", None, error, mock, retry_count)

    def failure_start(self) -> str:
        return CAUSE_IS_JSON if self.jsonpath else NOTIFY_FAILURE

    def notified_and_failed(self, error: str, cause: str | None, *, sns_down: bool = False) -> list[Step]:
        """From the Catch's target to the Fail state, which reports the original error (prefixed)."""
        if not self.spec.notify_failure:
            return []
        steps = []
        if self.jsonpath:
            described = NO_CAUSE if cause is None else PARSE_CAUSE if cause.startswith("{") else TEXT_CAUSE
            steps += [Step(CAUSE_IS_JSON, "SUCCEEDED", described), Step(described, "SUCCEEDED", NOTIFY_FAILURE)]
        if sns_down:
            steps.append(Step(NOTIFY_FAILURE, "CAUGHT_ERROR", FAILED, SNS_DOWN[0], _error(*SNS_DOWN)))
        else:
            steps.append(Step(NOTIFY_FAILURE, "SUCCEEDED", FAILED, mock=_published()))
        return [*steps, Step(FAILED, "FAILED", None, FAIL_ERROR_PREFIX + error)]

    def succeeded(self, retry_count: int = 0) -> list[Step]:
        """RunJob's task exits 0 (after `retry_count` retries): on to NotifySuccess, or the run ends."""
        task = stopped_task(self.spec, 0)
        done = {"ExitCode": 0, "TaskArn": task["TaskArn"]}
        then = NOTIFY_SUCCESS if self.spec.notify_success else None
        # which API model TestState checks a .sync result against is not documented (it is DescribeTasks'
        # task, not RunTask's response): NONE, so that no guess of ours can make AWS refuse the proof
        mock = _result(task, "NONE")
        run = Step(RUN_JOB, "SUCCEEDED", then, mock=mock, retry_count=retry_count, expect_output=done)
        if not self.spec.notify_success:
            return [run]
        return [run, Step(NOTIFY_SUCCESS, "SUCCEEDED", None, mock=_published(), expect_output=done)]

    def retried(self, state: str, error: str, cause: str, attempts: int) -> list[Step]:
        """`state` failing with `error`: RETRIABLE while retries are left (none when `attempts` is 0)."""
        return [Step(state, "RETRIABLE", None, error, _error(error, cause), 0)] if attempts else []


def _guard_paths(s: _Suite) -> list[ProofPath]:
    spec = s.spec
    check = CHECK_RUNNING
    decide = ANY_RUNNING if s.jsonpath else ALREADY_RUNNING
    older = _listed(spec, EXECUTION_NAME, "older-run")
    skip = (
        [Step(decide, "SUCCEEDED", FIND_OLDEST), Step(FIND_OLDEST, "SUCCEEDED", ALREADY_RUNNING)] if s.jsonpath else []
    )
    skip += [
        Step(ALREADY_RUNNING, "SUCCEEDED", SKIPPED),
        Step(SKIPPED, "SUCCEEDED", None, expect_output={"skipped": True}),
    ]
    paths = [
        ProofPath(
            N_("guard: run"),
            tr("with no RUNNING execution listed, the run goes on to the job"),
            (Step(check, "SUCCEEDED", decide, mock=_result(_listed(spec))), Step(decide, "SUCCEEDED", s.run_start())),
        ),
        ProofPath(
            N_("guard: skip"),
            tr("an older RUNNING execution makes this one end without running the job (and it succeeds)"),
            (Step(check, "SUCCEEDED", decide, mock=_result(older)), *skip),
        ),
        ProofPath(
            N_("guard: list fails"),
            tr(
                "a failing ListExecutions is retried {times}, then caught and notified",
                times=_times(GUARD_RETRY_ATTEMPTS),
            ),
            (
                *s.retried(check, *LIST_FAILED, GUARD_RETRY_ATTEMPTS),
                Step(
                    check,
                    "CAUGHT_ERROR" if spec.notify_failure else "FAILED",
                    s.failure_start() if spec.notify_failure else None,
                    LIST_FAILED[0],
                    _error(*LIST_FAILED),
                    GUARD_RETRY_ATTEMPTS,
                ),
                *s.notified_and_failed(*LIST_FAILED),
            ),
        ),
    ]
    if s.jsonpath:
        oldest_is_me = {"guard": {"me": execution_arn(spec), "oldest": {"ExecutionArn": execution_arn(spec)}}}
        paths.append(
            ProofPath(
                N_("guard: oldest runs"),
                tr("the oldest RUNNING execution (this one) runs the job"),
                (Step(ALREADY_RUNNING, "SUCCEEDED", s.run_start(), input=oldest_is_me),),
            )
        )
    return paths


def proof_paths(spec: StackSpec) -> tuple[ProofPath, ...]:
    """Every path of `spec`'s state machine as TestState steps with their expected outcomes."""
    if not isinstance(spec, StackSpec):
        raise ValidationError("spec", spec, N_("a sfnecs.model.StackSpec"))
    if spec.pattern != "B":
        raise ValidationError("spec.pattern", spec.pattern, N_("B: pattern A has no state machine to prove"))
    s = _Suite(spec)
    launches, job_retries = spec.launch_retry_attempts, spec.retry_job_failures
    unknown = ("AmazonECS.Unknown", json.dumps({"Failures": [{"Reason": "RESOURCE:MEMORY"}], "Tasks": []}))
    failed_task = json.dumps(stopped_task(spec, 1))
    timeout = ("States.Timeout", f"the task ran longer than {spec.task_timeout_seconds} s (TimeoutSeconds)")
    retried_job = s.retried(RUN_JOB, "States.TaskFailed", failed_task, job_retries)
    paths = [*_guard_paths(s)] if spec.guard else []
    paths += [
        ProofPath(
            N_("success"),
            tr("a task that exits 0 ends the run successfully, after notifying")
            if spec.notify_success
            else tr("a task that exits 0 ends the run successfully"),
            (*s.to_run(), *s.succeeded()),
        ),
        ProofPath(
            N_("launch retried, then success"),
            tr("a throttled launch is retried, and the next attempt's success ends the run"),
            (*s.to_run(), *s.retried(RUN_JOB, *THROTTLED, launches), *s.succeeded(retry_count=1)),
        )
        if launches
        else ProofPath(
            N_("launch not retried"),
            tr("launch retries are off: a throttled launch is caught, notified, and the run fails"),
            (*s.to_run(), s.job_fails(*THROTTLED), *s.notified_and_failed(*THROTTLED)),
        ),
        ProofPath(
            N_("launch retries exhausted"),
            tr(
                "a launch that keeps failing is retried {times}, then caught, notified, and the run fails",
                times=_times(launches),
            ),
            (
                *s.to_run(),
                *s.retried(RUN_JOB, *unknown, launches),
                s.job_fails(*unknown, launches),
                *s.notified_and_failed(*unknown),
            ),
        ),
        ProofPath(
            N_("job fails"),
            tr(
                "a job that exits non-zero is run again ({times} at most), then caught, notified, the run fails",
                times=_times(job_retries),
            )
            if job_retries
            else tr("a job that exits non-zero is not run again (it already ran): caught, notified, the run fails"),
            (
                *s.to_run(),
                *retried_job,
                s.job_fails("States.TaskFailed", failed_task, job_retries),
                *s.notified_and_failed("States.TaskFailed", failed_task),
            ),
        ),
        ProofPath(
            N_("timeout"),
            tr("a task past TimeoutSeconds (States.Timeout) is not retried: caught, notified, the run fails"),
            (*s.to_run(), s.job_fails(*timeout), *s.notified_and_failed(*timeout)),
        ),
    ]
    if spec.notify_failure:
        paths.append(
            ProofPath(
                N_("notification fails"),
                tr("an SNS outage while notifying cannot hide the job's own error: the run fails with it"),
                (*s.to_run(), s.job_fails(*timeout), *s.notified_and_failed(*timeout, sns_down=True)),
            )
        )
    return tuple(paths)

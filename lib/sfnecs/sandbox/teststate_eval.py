"""One state of a TestState request, evaluated once by moto's Step Functions interpreter.

Why moto's interpreter: the state's data flow (InputPath, Parameters/Arguments, ResultSelector,
ResultPath, Output, Assign), Choice rules, Fail states and error matching are the same code that runs
the sandbox's executions, so a TestState proof and a live run cannot disagree on them. What differs
from an execution is written here, after the Step Functions API reference, "TestState":

- a mock (`mock.result` / `mock.errorOutput`) replaces the service call; `.sync` and
  `.waitForTaskToken` then do not wait (the mocked result is the state's result);
- the state runs once: an error a retrier still covers ends the test RETRIABLE (with the retrier's
  index and backoff in `inspectionData.errorDetails`), one a catcher takes ends CAUGHT_ERROR with the
  catcher's `Next` and output, anything else FAILED. `stateConfiguration.retrierRetryCount` is the
  number of retries already made.

moto's vendored TestState pieces (LocalStack's parser and environment) are reused; its own TestState
entry point predates mocks and refuses `.sync`, so it is not.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

#: the request's fields this module needs, already validated by sfnecs.sandbox.teststate
__all__ = ["Evaluation", "Mock", "evaluate", "parse"]


@dataclass(frozen=True)
class Mock:
    """A validated `mock`: a result (any JSON value) or an error name and cause."""

    result: Any = None
    error: str | None = None
    cause: str | None = None

    @property
    def is_error(self) -> bool:
        return self.error is not None


@dataclass
class Evaluation:
    """What one evaluation gave: the TestState response fields (before JSON encoding)."""

    status: str = "SUCCEEDED"
    output: Any = None
    has_output: bool = False
    error: str | None = None
    cause: str | None = None
    next_state: str | None = None
    inspection: dict[str, Any] = field(default_factory=dict)
    error_details: dict[str, int] = field(default_factory=dict)


class _Retriable(Exception):
    """Stops the state after an error a retrier still covers (the test ends RETRIABLE)."""


def _error_name(name: str) -> Any:
    """The interpreter's error name for a mocked error (`States.*` names are the service's own)."""
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName

    if not name.startswith("States."):
        return CustomErrorName(name)
    try:
        return StatesErrorName.from_name(name)
    except ValueError:  # a States.* name the interpreter does not know: matched by name only
        return ErrorName(name)


def _mocked_failure(env: Any, mock: Mock) -> Exception:
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    details = TaskFailedEventDetails(error=mock.error or "")
    if mock.cause is not None:
        details["cause"] = mock.cause
    return FailureEventException(
        FailureEvent(
            env=env,
            error_name=_error_name(mock.error or ""),
            event_type=HistoryEventType.TaskFailed,
            # moto declares EventDetails total (every key required); an event carries one of them
            event_details=EventDetails(taskFailedEventDetails=details),  # type: ignore[typeddict-item]
        )
    )


def _install_mock(state: Any, mock: Mock) -> None:
    """Make this state's service call answer with the mock, and a `.sync`/callback wait return at once."""

    def service_task(env: Any, **_: Any) -> None:
        if mock.is_error:
            raise _mocked_failure(env, mock)
        env.stack.append(copy.deepcopy(mock.result))

    def no_wait(env: Any, **_: Any) -> None:
        # the mocked result is the integration's final result (the API reference: a mock stands in
        # for the .sync/.waitForTaskToken outcome); the submitted response on the stack stays it
        return None

    # instance attributes: only this parsed state (one request's) is changed, never moto's classes
    state._eval_service_task = service_task
    state._eval_integration_pattern = no_wait


def _backoff_seconds(retrier: Any, retry_count: int) -> int:
    """The retrier's wait before retry number `retry_count + 1`, without jitter.

    IntervalSeconds x BackoffRate^retries, at most MaxDelaySeconds (ASL specification, Retry). With
    JitterStrategy FULL AWS waits a random time up to this value; which value TestState reports
    then is not documented: the sandbox reports the upper bound.
    """
    seconds = retrier.interval_seconds.seconds * retrier.backoff_rate.rate**retry_count
    return int(min(seconds, retrier.max_delay_seconds.max_delays_seconds))


def _run_once(state: Any, outcome: Evaluation, retry_count: int) -> None:
    """Replace the Task state's retry loop by one attempt and the TestState verdict on its error."""
    from moto.stepfunctions.parser.asl.component.common.catch.catch_outcome import CatchOutcome
    from moto.stepfunctions.parser.asl.component.common.catch.catcher_outcome import CatcherOutcomeCaught
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException

    def eval_state(env: Any) -> None:
        env.states.context_object.context_object_data["State"]["RetryCount"] = retry_count
        try:
            state._evaluate_with_timeout(env)
            return
        except Exception as exc:  # noqa: BLE001 - every error becomes the state's error, as in moto
            failure = state._from_error(env=env, ex=exc)
        error_output = state._construct_error_output_value(failure_event=failure)
        env.states.set_error_output(error_output)
        env.states.set_result(error_output)
        outcome.error, outcome.cause = error_output["Error"], error_output["Cause"]
        for index, retrier in enumerate(state.retry.retriers if state.retry else ()):
            env.stack.append(failure.error_name)
            retrier.error_equals.eval(env)
            if not env.stack.pop():
                continue
            # the first retrier whose ErrorEquals matches decides; once its MaxAttempts are used up
            # the catchers are scanned (ASL specification, Retry and Catch)
            if retry_count < retrier.max_attempts.attempts:
                outcome.status = "RETRIABLE"
                outcome.error_details = {
                    "retryIndex": index,
                    "retryBackoffIntervalSeconds": _backoff_seconds(retrier, retry_count),
                }
                raise _Retriable()
            break
        for index, catcher in enumerate(state.catch.catchers if state.catch else ()):
            env.stack.append(failure)
            catcher.eval(env)
            if isinstance(env.stack.pop(), CatcherOutcomeCaught):
                outcome.status = "CAUGHT_ERROR"
                outcome.error_details = {"catchIndex": index}
                env.stack.append(CatchOutcome.Caught)
                return
            env.stack.pop()  # the failure event the catcher handed back
        raise FailureEventException(failure_event=failure)

    state._eval_state = eval_state


def parse(state_definition: str, name: str) -> Any:
    """The tested state as a TestState program, named `name` ($states.context.State.Name)."""
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
    from moto.stepfunctions.parser.asl.parse.asl_parser import (  # antlr4's, as moto's parser imports them
        ASLParserException,
        CommonTokenStream,
        InputStream,
        SyntaxErrorListener,
    )
    from moto.stepfunctions.parser.asl.parse.test_state.preprocessor import TestStatePreprocessor

    class Preprocessor(TestStatePreprocessor):
        STATE_NAME = name  # type: ignore[misc]  # moto's Final; this request's state is named as asked

        def visitArguments_string_jsonata(self, ctx: Any) -> Any:
            return _records_after_arguments(super().visitArguments_string_jsonata(ctx))

        def visitArguments_jsonata_template_value_object(self, ctx: Any) -> Any:
            return _records_after_arguments(super().visitArguments_jsonata_template_value_object(ctx))

    listener = SyntaxErrorListener()
    parser = ASLParser(CommonTokenStream(ASLLexer(InputStream(state_definition))))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    tree = parser.state_decl_body()
    if listener.errors:
        raise ASLParserException(errors=listener.errors)
    return Preprocessor().visit(tree)


def _records_after_arguments(arguments: Any) -> Any:
    """Arguments that record `inspectionData.afterArguments` (JSONata's counterpart of afterParameters)."""
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

    evaluate_body = arguments._eval_body

    def eval_body(env: Any) -> None:
        evaluate_body(env)
        env.inspection_data["afterArguments"] = to_json_str(env.stack[-1])

    arguments._eval_body = eval_body
    return arguments


def _context(given: dict[str, Any], state_input: Any, role_arn: str, account: str, region: str) -> Any:
    """The Context object: the request's `context` over defaults for one synthetic execution.

    AWS does not document the Context object TestState gives a state without `context`; the sandbox
    names a fresh execution of a state machine called TestState.
    """
    from moto.stepfunctions.parser.asl.eval.states import ContextObjectData, ExecutionData, StateMachineData

    name = f"TestState-{uuid.uuid4()}"
    machine = f"arn:aws:states:{region}:{account}:stateMachine:TestState"
    execution = ExecutionData(
        Id=f"arn:aws:states:{region}:{account}:execution:TestState:{name}",
        Input=state_input,
        Name=name,
        RoleArn=role_arn,
        StartTime=_dt.datetime.now(tz=_dt.UTC).isoformat(),
    )
    execution.update(given.get("Execution") or {})  # type: ignore[typeddict-item]
    state_machine = StateMachineData(Id=machine, Name="TestState")
    state_machine.update(given.get("StateMachine") or {})  # type: ignore[typeddict-item]
    context = ContextObjectData(Execution=execution, StateMachine=state_machine)  # type: ignore[typeddict-item]
    if given.get("Task"):
        context["Task"] = given["Task"]
    return context


def evaluate(
    program: Any,
    *,
    state_input: Any,
    role_arn: str,
    account: str,
    region: str,
    mock: Mock | None = None,
    context: dict[str, Any] | None = None,
    variables: dict[str, Any] | None = None,
    retry_count: int = 0,
) -> Evaluation:
    """Evaluate one state (a `parse`d program, used once: evaluation adapts it) once, as TestState does."""
    from moto.stepfunctions.parser.api import StateMachineType
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
    from moto.stepfunctions.parser.asl.eval.evaluation_details import AWSExecutionDetails
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded, ProgramError, ProgramRunning
    from moto.stepfunctions.parser.asl.eval.test_state.environment import TestStateEnvironment
    from moto.stepfunctions.parser.asl.eval.test_state.program_state import ProgramChoiceSelected

    state = program.test_state
    outcome = Evaluation()
    if mock is not None:
        _install_mock(state, mock)
    if isinstance(state, ExecutionState):
        _run_once(state, outcome, retry_count)
    env = TestStateEnvironment(
        aws_execution_details=AWSExecutionDetails(account=account, region=region, role_arn=role_arn),
        execution_type=StateMachineType.STANDARD,
        context=_context(context or {}, state_input, role_arn, account, region),
        event_history_context=EventHistoryContext.of_program_start(),
        activity_store={},
    )
    env.states.reset(input_value=state_input)
    if variables:
        # the test's variables are the state's own scope: it may read and reassign them
        env.variable_store._inner_scope.update(copy.deepcopy(variables))
        env.variable_store._variable_declarations_cache = None
    program.eval(env)

    ended = env.program_state()
    if isinstance(ended, ProgramError):
        details = ended.error or {}
        if outcome.status != "RETRIABLE":
            outcome.status = "FAILED"
            outcome.error, outcome.cause = details.get("error"), details.get("cause")
    elif isinstance(ended, (ProgramEnded, ProgramRunning, ProgramChoiceSelected)):
        outcome.output, outcome.has_output = env.states.get_input(), True
        if isinstance(ended, ProgramChoiceSelected):
            outcome.next_state = ended.next_state_name
        elif isinstance(ended, ProgramRunning):
            outcome.next_state = ended.next_state_name
        if outcome.status != "CAUGHT_ERROR":
            outcome.error = outcome.cause = None
    else:  # timed out (five minutes) or stopped
        outcome.status, outcome.error = "FAILED", "States.Timeout"
        outcome.cause = "The state did not finish within the five minutes TestState allows."
    outcome.inspection = dict(env.inspection_data)
    scope = {**env.variable_store._outer_scope, **env.variable_store._inner_scope}
    if scope:
        outcome.inspection["variables"] = json.dumps(scope, separators=(",", ":"))
    return outcome

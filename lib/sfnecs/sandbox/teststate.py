"""Step Functions `TestState` in the sandbox: one state of a definition, judged the way AWS judges it.

Why: moto has no TestState action, and a proof that runs only against an emulator's own rules proves
little; this front follows the Step Functions API reference, "TestState" (request, response, errors)
and "MockInput" / "TestStateConfiguration" / "InspectionData", and hands the state to moto's
interpreter (`sfnecs.sandbox.teststate_eval`), the code the sandbox's executions run.

Request checks (each a documented error: InvalidDefinition, InvalidArn, InvalidExecutionInput or
ValidationException; which one AWS uses for each case is not always documented and is named below):
`definition` a state, or a full machine with `stateName`; `mock` only on Task, Map or Parallel states,
with exactly one of `result` and `errorOutput`; `context` only with a mock; `.sync`,
`.waitForTaskToken`, Activity, Map and Parallel states only with a mock. Map and Parallel states are
not evaluated by the sandbox (the kit's machines have none): it says so instead of guessing. TRACE
adds the HTTP request and response of an HTTP Task to DEBUG's data; the kit has no HTTP Task, so here
TRACE gives what DEBUG gives, and `revealSecrets` has nothing to reveal.

The host prefix: botocore sends TestState to `sync-<endpoint host>` (as StartSyncExecution), which a
local endpoint cannot resolve; clients of the sandbox set `Config(inject_host_prefix=False)`.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from sfnecs.sandbox import mock_validation
from sfnecs.sandbox.patching import patch, unpatch
from sfnecs.sandbox.teststate_eval import Evaluation, Mock, evaluate, parse

__all__ = ["TestStateError", "TestStateRequest", "handle", "install", "parse_request", "uninstall"]

INSPECTION_LEVELS = ("INFO", "DEBUG", "TRACE")
#: states TestState runs without a mock (API reference, "TestState")
TESTABLE = ("Task", "Pass", "Wait", "Choice", "Succeed", "Fail")
#: states a mock may stand in for ("mock": "A mock can only be specified for Task, Map, or Parallel states")
MOCKABLE = ("Task", "Map", "Parallel")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_MAP_SETTINGS = ("errorCausedByState", "mapIterationFailureCount", "mapItemReaderData")
#: the inspection fields the sandbox fills (HTTP request/response: the kit has no HTTP Task)
_INSPECTION_FIELDS = (
    "input",
    "afterArguments",
    "afterInputPath",
    "afterParameters",
    "result",
    "afterResultSelector",
    "afterResultPath",
    "variables",
)


class TestStateError(Exception):
    """A TestState request AWS would refuse: `code` is the API error name."""

    __test__ = False  # not a pytest test class

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(message: str) -> TestStateError:
    return TestStateError("ValidationException", message)


@dataclass(frozen=True)
class TestStateRequest:
    """A checked TestState request: the state alone (ASL JSON text) and what to run it with."""

    __test__ = False  # not a pytest test class

    program: Any  # the state parsed by moto's interpreter (one per request: evaluation adapts it)
    name: str
    state_type: str
    resource: str
    role_arn: str
    state_input: Any
    inspection_level: str
    mock: Mock | None
    field_validation_mode: str
    context: dict[str, Any] | None
    variables: dict[str, Any] | None
    retry_count: int


def _json(text: Any, parameter: str, code: str = "ValidationException", *, obj: bool = False) -> Any:
    if not isinstance(text, str):
        raise TestStateError(code, f"{parameter} must be a JSON string, got {type(text).__name__}")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TestStateError(code, f"{parameter} is not valid JSON: {exc.msg} at character {exc.pos}") from None
    if obj and not isinstance(value, dict):
        raise TestStateError(code, f"{parameter} must be a JSON object")
    return value


def _find(states: dict[str, Any], name: str, language: str) -> tuple[dict[str, Any], str] | None:
    """The state `name` anywhere in `states` (branches and item processors too), and its query language."""
    for state_name, state in states.items():
        if not isinstance(state, dict):
            continue
        scope = state.get("QueryLanguage", language)
        if state_name == name:
            return state, scope
        inner = [*state.get("Branches", []), state.get("ItemProcessor") or state.get("Iterator") or {}]
        for machine in inner:
            if isinstance(machine, dict) and (found := _find(machine.get("States") or {}, name, scope)):
                return found
    return None


@functools.lru_cache(maxsize=64)
def _machine_problem(definition: str) -> str | None:
    """Why moto's ASL parser refuses a whole machine, or None; cached, as a proof suite sends one
    definition many times and parsing it is most of a request's time."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    try:
        AmazonStateLanguageParser.parse(definition)
    except Exception as exc:  # noqa: BLE001 - every parser failure is an invalid definition
        return str(exc) or type(exc).__name__
    return None


def _the_state(definition: Any, state_name: str | None) -> tuple[dict[str, Any], str]:
    """(the state's definition, its name) from `definition` and `stateName`."""
    if not isinstance(definition, dict):
        raise TestStateError("InvalidDefinition", "definition must be a JSON object (a state or a state machine)")
    if state_name is None:
        if "States" in definition:
            # not documented: the sandbox does not guess which state of a machine to test
            raise _invalid("definition is a full state machine: give stateName, the state to test")
        return definition, "TestState"
    if not isinstance(state_name, str) or not 1 <= len(state_name) <= 80:
        raise _invalid("stateName must be a string of 1 to 80 characters")
    if not isinstance(definition.get("States"), dict):
        raise TestStateError("InvalidDefinition", "stateName needs a full state machine definition (StartAt, States)")
    if problem := _machine_problem(json.dumps(definition, sort_keys=True)):
        raise TestStateError("InvalidDefinition", f"the state machine definition is not valid: {problem}")
    found = _find(definition["States"], state_name, definition.get("QueryLanguage", "JSONPath"))
    if found is None:
        raise _invalid(
            f"stateName {state_name!r} is not a state of the definition: use one of {list(definition['States'])}"
        )
    state, language = found
    # the state's query language is the machine's unless it sets its own (ASL, "QueryLanguage")
    return {**state, "QueryLanguage": language}, state_name


def _mock(raw: Any, state_type: str, resource: str) -> tuple[Mock | None, str]:
    if raw is None:
        return None, "STRICT"
    if state_type not in MOCKABLE:
        raise _invalid(
            f"mock is given for a {state_type} state: a mock can only be specified for Task, Map or Parallel"
        )
    if not isinstance(raw, dict):
        raise _invalid("mock must be an object with result or errorOutput")
    has_result, has_error = raw.get("result") is not None, raw.get("errorOutput") is not None
    if has_result == has_error:
        raise _invalid("mock needs exactly one of result and errorOutput" + (", not both" if has_result else ""))
    mode = raw.get("fieldValidationMode") or "STRICT"
    if mode not in mock_validation.MODES:
        raise _invalid(f"mock.fieldValidationMode {mode!r} is not valid: use STRICT, PRESENT or NONE")
    if has_error:
        error_output = raw["errorOutput"]
        if not isinstance(error_output, dict) or not isinstance(error_output.get("error"), str):
            raise _invalid("mock.errorOutput.error is required when mock.errorOutput is given")
        cause = error_output.get("cause")
        return Mock(error=error_output["error"], cause=cause if isinstance(cause, str) else None), mode
    result = _json(raw["result"], "mock.result")
    if found := mock_validation.problems(result, mock_validation.result_shape(resource), mode):
        # the error name for a mock that fails validation is not documented
        raise _invalid(f"mock.result does not match {resource}'s API model ({mode}): " + "; ".join(found[:5]))
    return Mock(result=result), mode


def _retry_count(raw: Any, state_type: str) -> int:
    if raw is None:
        return 0
    if not isinstance(raw, dict):
        raise _invalid("stateConfiguration must be an object")
    if state_type not in ("Map", "Parallel") and (given := [k for k in _MAP_SETTINGS if raw.get(k) is not None]):
        raise _invalid(f"stateConfiguration.{given[0]} applies to Map and Parallel states, not to a {state_type}")
    count = raw.get("retrierRetryCount", 0)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise _invalid(f"stateConfiguration.retrierRetryCount={count!r} is not valid: use an integer >= 0")
    return count


def parse_request(body: dict[str, Any]) -> TestStateRequest:
    """Check a TestState request body; raise TestStateError as AWS would refuse it."""
    if not body.get("definition"):
        raise _invalid(
            "1 validation error detected: Value null at 'definition' failed to satisfy constraint: "
            "Member must not be null"
        )
    definition = _json(body["definition"], "definition", "InvalidDefinition")
    state, name = _the_state(definition, body.get("stateName"))
    state_type = state.get("Type")
    if state_type not in (*TESTABLE, *MOCKABLE):
        raise TestStateError("InvalidDefinition", f"state {name!r} has Type {state_type!r}: not a state type of ASL")
    resource = state.get("Resource", "") if state_type == "Task" else ""
    role_arn = body.get("roleArn")
    if role_arn is not None and (not isinstance(role_arn, str) or not _ROLE_ARN.match(role_arn)):
        raise TestStateError("InvalidArn", f"Invalid Arn: roleArn={role_arn!r} is not an IAM role ARN")
    level = body.get("inspectionLevel") or "INFO"
    if level not in INSPECTION_LEVELS:
        raise _invalid(f"inspectionLevel {level!r} is not valid: use INFO, DEBUG or TRACE")
    mock, mode = _mock(body.get("mock"), state_type, resource)
    waits = ":activity:" in resource or resource.endswith((".sync", ".waitForTaskToken")) or ".sync:" in resource
    if mock is None and (state_type not in TESTABLE or waits):
        raise _invalid(
            f"{name!r} ({state_type} {resource}) can be tested only with a mock: .sync, "
            ".waitForTaskToken, Activity, Map and Parallel states need one"
        )
    if state_type in ("Map", "Parallel"):
        raise _invalid(f"the sandbox does not evaluate {state_type} states in TestState (the kit builds none)")
    if mock is None and state_type == "Task" and role_arn is None:
        # AWS documents roleArn as optional with a mock; a real service call needs the role
        raise _invalid("roleArn is required to test a Task state without a mock")
    if body.get("context") is not None and mock is None:
        raise _invalid("context may only be specified if a mock is specified in the same request")
    context = _json(body["context"], "context", obj=True) if body.get("context") is not None else None
    state_input = _json(body.get("input") or "{}", "input", "InvalidExecutionInput")
    variables = _json(body["variables"], "variables", obj=True) if body.get("variables") is not None else None
    try:
        program = parse(json.dumps(state), name)
    except Exception as exc:  # noqa: BLE001 - a parser failure is an invalid definition
        raise TestStateError("InvalidDefinition", f"state {name!r} is not valid: {exc}") from None
    return TestStateRequest(
        program=program,
        name=name,
        state_type=state_type,
        resource=resource,
        role_arn=role_arn or "",
        state_input=state_input,
        inspection_level=level,
        mock=mock,
        field_validation_mode=mode,
        context=context,
        variables=variables,
        retry_count=_retry_count(body.get("stateConfiguration"), state_type),
    )


def response(outcome: Evaluation, level: str) -> dict[str, Any]:
    """The TestState response body (TestStateOutput) for an evaluation at `level`."""
    body: dict[str, Any] = {"status": outcome.status}
    if outcome.has_output:
        body["output"] = json.dumps(outcome.output, separators=(",", ":"))
    for key, value in (("error", outcome.error), ("cause", outcome.cause), ("nextState", outcome.next_state)):
        if value is not None:
            body[key] = value
    if level in ("DEBUG", "TRACE"):
        data = {k: outcome.inspection[k] for k in _INSPECTION_FIELDS if k in outcome.inspection}
        if outcome.error_details:
            data["errorDetails"] = dict(outcome.error_details)
        body["inspectionData"] = data
    return body


def handle(body: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    """Serve one TestState request body; raise TestStateError for a request AWS would refuse."""
    request = parse_request(body)
    outcome = evaluate(
        request.program,
        state_input=request.state_input,
        role_arn=request.role_arn,
        account=account,
        region=region,
        mock=request.mock,
        context=request.context,
        variables=request.variables,
        retry_count=request.retry_count,
    )
    return response(outcome, request.inspection_level)


def _test_state(self: Any) -> Any:
    """StepFunctionResponse.test_state: the TestState action moto lacks."""
    from moto.core.exceptions import AWSError

    try:
        body = json.loads(self.body or "{}")
        # JSON text, not moto's ActionResult: moto serialises that with the installed botocore's model,
        # which may predate TestState's newer response fields (inspectionData.errorDetails)
        return json.dumps(handle(body, self.current_account, self.region))
    except TestStateError as exc:
        raise AWSError(exc.message, exception_type=exc.code) from None
    except json.JSONDecodeError:
        raise AWSError("the request body is not JSON", exception_type="ValidationException") from None


def _responses() -> Any:
    from moto.stepfunctions.responses import StepFunctionResponse

    return StepFunctionResponse


def install() -> None:
    """Add the TestState action to moto's Step Functions (the sandbox's server calls this)."""
    patch(_responses(), "test_state", _test_state)


def uninstall() -> None:
    unpatch(_responses(), "test_state")

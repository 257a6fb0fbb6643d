"""TestState in the sandbox, through boto3 as a user calls it: statuses, inspection data, mocks, the
response checked against botocore's model, and bad requests answered with the documented errors."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from sfnecs import statemachine
from sfnecs.model import StackSpec
from sfnecs.sandbox import mock_validation

pytestmark = pytest.mark.sandbox

SPEC = StackSpec("prove-me")
ROLE = "arn:aws:iam::123456789012:role/prove-me-sfn"
TASK = {
    "TaskArn": "arn:aws:ecs:us-east-1:123456789012:task/prove-me/0123456789abcdef",
    "StopCode": "EssentialContainerExited",
    "StoppedReason": "Essential container in task exited",
    "Containers": [{"Name": "job", "ExitCode": 0}],
    "CreatedAt": 1767225600000,
    "StartedAt": 1767225630000,
    "StoppedAt": 1767225690000,
}
CONTEXT = json.dumps({"Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:m:run-7", "Name": "run-7"}})


@pytest.fixture(scope="module")
def sfn(target):
    return target.client("stepfunctions")


def _machine(language: str = "JSONata", **changes) -> str:
    return json.dumps(statemachine.build_definition(SPEC.replace(query_language=language, **changes)))


def _test(sfn, **request) -> dict:
    answer = sfn.test_state(**request)
    answer.pop("ResponseMetadata")
    return answer


def _refused(sfn, **request) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        sfn.test_state(**request)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_sandbox_clients_send_teststate_without_the_sync_host_prefix(target):
    assert target.client("stepfunctions").meta.config.inject_host_prefix is False


def test_pass_state_succeeds_with_its_next_state_and_data_flow(sfn):
    state = {"Type": "Pass", "Parameters": {"x.$": "$.a"}, "ResultPath": "$.b", "InputPath": "$.in", "Next": "Then"}
    answer = _test(sfn, definition=json.dumps(state), input=json.dumps({"in": {"a": 1}}), inspectionLevel="DEBUG")
    assert answer["status"] == "SUCCEEDED" and answer["nextState"] == "Then"
    # ResultPath places the result in the raw state input, not in what InputPath selected
    assert json.loads(answer["output"]) == {"in": {"a": 1}, "b": {"x": 1}}
    data = answer["inspectionData"]
    assert json.loads(data["input"]) == {"in": {"a": 1}}
    assert json.loads(data["afterInputPath"]) == {"a": 1}
    assert json.loads(data["afterParameters"]) == {"x": 1}
    assert json.loads(data["afterResultPath"]) == {"in": {"a": 1}, "b": {"x": 1}}


def test_info_level_gives_no_inspection_data_and_an_end_state_no_next_state(sfn):
    answer = _test(sfn, definition=json.dumps({"Type": "Pass", "End": True}), input='{"k": 2}')
    assert answer == {"status": "SUCCEEDED", "output": '{"k":2}'}


def test_every_documented_status_is_reached(sfn):
    machine = _machine()
    base = {"definition": machine, "stateName": "RunJob", "context": CONTEXT, "inspectionLevel": "DEBUG"}
    throttled = {"errorOutput": {"error": "ECS.AmazonECSException", "cause": "Rate exceeded"}}
    seen = {
        "SUCCEEDED": _test(sfn, **base, mock={"result": json.dumps(TASK)}),
        "RETRIABLE": _test(sfn, **base, mock=throttled, stateConfiguration={"retrierRetryCount": 1}),
        "CAUGHT_ERROR": _test(sfn, **base, mock=throttled, stateConfiguration={"retrierRetryCount": 3}),
        "FAILED": _test(sfn, definition=machine, stateName="Failed", input='{"Error": "States.Timeout", "Cause": "c"}'),
    }
    assert {status: answer["status"] for status, answer in seen.items()} == {s: s for s in seen}
    # RETRIABLE: the first retrier (launch errors), its backoff 10 s x 2^1, the error itself
    assert seen["RETRIABLE"]["inspectionData"]["errorDetails"] == {"retryIndex": 0, "retryBackoffIntervalSeconds": 20}
    assert seen["RETRIABLE"]["error"] == "ECS.AmazonECSException" and "output" not in seen["RETRIABLE"]
    # CAUGHT_ERROR: retries used up, the Catch's Next and its output (the error output)
    caught = seen["CAUGHT_ERROR"]
    assert caught["nextState"] == "NotifyFailure" and caught["inspectionData"]["errorDetails"] == {"catchIndex": 0}
    assert json.loads(caught["output"]) == {"Error": "ECS.AmazonECSException", "Cause": "Rate exceeded"}
    assert json.loads(seen["SUCCEEDED"]["output"])["ExitCode"] == 0 and "nextState" not in seen["SUCCEEDED"]
    assert seen["FAILED"]["error"] == "sfnecs.States.Timeout" and seen["FAILED"]["cause"] == "c"


def test_jsonata_arguments_read_the_context_given_with_the_mock(sfn):
    answer = _test(
        sfn,
        definition=_machine(),
        stateName="RunJob",
        context=CONTEXT,
        inspectionLevel="TRACE",
        mock={"result": json.dumps(TASK)},
    )
    arguments = json.loads(answer["inspectionData"]["afterArguments"])
    assert arguments["Group"] == "sfnecs:run-7" and arguments["TaskDefinition"] == SPEC.family
    assert "afterParameters" not in answer["inspectionData"]  # JSONPath's field, not JSONata's


def test_states_timeout_is_not_retried_by_a_task_failed_retrier(sfn):
    machine = _machine(retry_job_failures=1, machine_timeout_seconds=20000)
    timeout = {"errorOutput": {"error": "States.Timeout", "cause": "hung"}}
    failed = {"errorOutput": {"error": "States.TaskFailed", "cause": "{}"}}
    answer = _test(sfn, definition=machine, stateName="RunJob", mock=timeout, context=CONTEXT)
    assert answer["status"] == "CAUGHT_ERROR"  # States.TaskFailed matches every error but States.Timeout
    answer = _test(sfn, definition=machine, stateName="RunJob", mock=failed, context=CONTEXT, inspectionLevel="DEBUG")
    assert answer["status"] == "RETRIABLE" and answer["inspectionData"]["errorDetails"]["retryIndex"] == 1


def test_without_a_catch_an_exhausted_error_fails_the_state(sfn):
    machine = _machine(notify_failure=False)
    answer = _test(
        sfn,
        definition=machine,
        stateName="RunJob",
        context=CONTEXT,
        mock={"errorOutput": {"error": "AmazonECS.Unknown"}},
        stateConfiguration={"retrierRetryCount": 3},
    )
    assert answer["status"] == "FAILED" and answer["error"] == "AmazonECS.Unknown" and "nextState" not in answer


def test_choice_gives_its_next_state_in_both_languages(sfn):
    older = {"count": 2, "running": ["a", "b"], "oldest": "arn:aws:states:us-east-1:123456789012:execution:m:b"}
    answer = _test(sfn, definition=_machine(), stateName="AlreadyRunning?", input=json.dumps(older))
    assert (answer["status"], answer["nextState"]) == ("SUCCEEDED", "SkippedOverlap")
    answer = _test(sfn, definition=_machine("JSONPath"), stateName="OverridesGiven?", input='{"command": ["x"]}')
    assert answer["nextState"] == "CommandOnly"


def test_variables_are_read_and_reported(sfn):
    state = {
        "Type": "Pass",
        "QueryLanguage": "JSONata",
        "Assign": {"total": "{% $base + 1 %}"},
        "Output": "{% $base %}",
        "End": True,
    }
    answer = _test(sfn, definition=json.dumps(state), variables='{"base": 41}', inspectionLevel="DEBUG")
    assert answer["output"] == "41"
    assert json.loads(answer["inspectionData"]["variables"]) == {"base": 41, "total": 42}


def test_mocked_results_are_validated_against_the_api_model(sfn):
    listing = {"definition": _machine(), "stateName": "CheckRunning", "context": CONTEXT}
    assert _test(sfn, **listing, mock={"result": '{"Executions": []}'})["status"] == "SUCCEEDED"
    code, message = _refused(sfn, **listing, mock={"result": '{"Executions": "none"}'})
    assert code == "ValidationException" and "expected list" in message
    code, message = _refused(sfn, **listing, mock={"result": "{}"})  # STRICT: executions is required
    assert code == "ValidationException" and "Executions" in message
    for mode in ("PRESENT", "NONE"):
        assert _test(sfn, **listing, mock={"result": "{}", "fieldValidationMode": mode})["status"] == "SUCCEEDED"
    code, _ = _refused(
        sfn, **listing, mock={"result": '{"Executions": [], "Bogus": 1}', "fieldValidationMode": "PRESENT"}
    )
    assert code == "ValidationException"
    assert (
        _test(sfn, **listing, mock={"result": '{"Bogus": 1}', "fieldValidationMode": "NONE"})["status"] == "SUCCEEDED"
    )


@pytest.mark.parametrize(
    ("request_", "code", "words"),
    [
        ({"definition": '{"Type": "Pass", '}, "InvalidDefinition", "not valid JSON"),
        ({"definition": '{"Type": "Pass", "Next": 3}'}, "InvalidDefinition", "not valid"),
        ({"definition": "MACHINE", "stateName": "Nope"}, "ValidationException", "not a state"),
        ({"definition": "MACHINE"}, "ValidationException", "stateName"),
        (
            {"definition": "MACHINE", "stateName": "Failed", "mock": {"result": "{}"}},
            "ValidationException",
            "only be specified for Task",
        ),
        (
            {"definition": "MACHINE", "stateName": "RunJob", "mock": {"result": "{}", "errorOutput": {"error": "E"}}},
            "ValidationException",
            "not both",
        ),
        (
            {"definition": "MACHINE", "stateName": "RunJob", "mock": {"fieldValidationMode": "NONE"}},
            "ValidationException",
            "exactly one",
        ),
        ({"definition": "MACHINE", "stateName": "RunJob", "roleArn": ROLE}, "ValidationException", "only with a mock"),
        (
            {"definition": "MACHINE", "stateName": "AlreadyRunning?", "context": "{}"},
            "ValidationException",
            "only be specified if a mock",
        ),
        ({"definition": "MACHINE", "stateName": "Failed", "roleArn": "not-an-arn"}, "InvalidArn", "roleArn"),
        ({"definition": "MACHINE", "stateName": "Failed", "input": "{oops"}, "InvalidExecutionInput", "input"),
        (
            {
                "definition": "MACHINE",
                "stateName": "RunJob",
                "mock": {"errorOutput": {"error": "E"}},
                "stateConfiguration": {"mapIterationFailureCount": 1},
            },
            "ValidationException",
            "Map and Parallel",
        ),
        ({"definition": '{"Type": "Map", "End": true}'}, "ValidationException", "only with a mock"),
        (
            {"definition": '{"Type": "Parallel", "End": true}', "mock": {"result": "[]"}},
            "ValidationException",
            "does not evaluate Parallel",
        ),
        ({"definition": '{"Type": "Bogus", "End": true}'}, "InvalidDefinition", "not a state type"),
        (
            {"definition": "MACHINE", "stateName": "Failed", "inspectionLevel": "LOUD"},
            "ValidationException",
            "inspectionLevel",
        ),
    ],
)
def test_bad_requests_get_the_documented_errors(sfn, request_, code, words):
    if request_["definition"] == "MACHINE":
        request_ = {**request_, "definition": _machine()}
    got, message = _refused(sfn, **request_)
    assert got == code and words in message, message
    # and the sandbox still answers
    assert _test(sfn, definition='{"Type": "Succeed"}')["status"] == "SUCCEEDED"


def test_the_response_matches_botocores_model(target):
    """The raw JSON of each status fits TestStateOutput, and boto3 keeps every field (the kit's model additions)."""
    sfn = target.client("stepfunctions")
    bodies: list[bytes] = []

    def keep(http_response, **_):
        bodies.append(http_response.content)

    sfn.meta.events.register("after-call.sfn.TestState", keep)
    shape = sfn.meta.service_model.operation_model("TestState").output_shape
    throttled = {"errorOutput": {"error": "ECS.AmazonECSException", "cause": "Rate exceeded"}}
    for count in (0, 3):
        body = {
            "definition": _machine(),
            "stateName": "RunJob",
            "context": CONTEXT,
            "inspectionLevel": "DEBUG",
            "mock": throttled,
            "stateConfiguration": {"retrierRetryCount": count},
        }
        parsed = sfn.test_state(**body)
        parsed.pop("ResponseMetadata")
        raw = json.loads(bodies.pop())
        assert mock_validation.problems(raw, shape, "STRICT") == []
        assert set(raw) <= set(shape.members)
        assert parsed == raw, "boto3 dropped or changed a field the sandbox sent"
    sfn.meta.events.unregister("after-call.sfn.TestState", keep)
    assert "errorDetails" in raw["inspectionData"]


def test_the_sandboxs_own_clients_reach_teststate_without_the_sync_host_prefix(sandbox):
    """Sandbox.client (tests, benches, the Scheduler's internal calls) sets inject_host_prefix=False too."""
    sfn = sandbox.client("stepfunctions")
    assert sfn.meta.config.inject_host_prefix is False
    state = {"Type": "Pass", "Result": {"ok": True}, "End": True}
    answer = sfn.test_state(definition=json.dumps(state), input="{}")
    assert (answer["status"], json.loads(answer["output"])) == ("SUCCEEDED", {"ok": True})

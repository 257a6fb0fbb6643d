"""sfnecs.statemachine: the ASL builder, its linting, its IAM needs and its diagram (all offline)."""

from __future__ import annotations

import json
import os
from collections import deque
from pathlib import Path
from typing import Any
from xml.etree import ElementTree  # our own SVG, not untrusted XML

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonata import Jsonata

from sfnecs import statemachine as sm
from sfnecs.exceptions import ValidationError
from sfnecs.model import StackSpec
from sfnecs.model.budget import NOTIFY_MARGIN_SECONDS

GOLDEN = Path(__file__).parent / "golden" / "asl"
LANGUAGES = ("JSONata", "JSONPath")
#: every switch on (and non-default network settings) / every switch off
ALL_ON: dict[str, Any] = {
    "guard": True,
    "notify_failure": True,
    "notify_success": True,
    "launch_retry_attempts": 3,
    "retry_job_failures": 2,
    "security_groups": ("sg-0123abcd",),
    "assign_public_ip": True,
    # 3 attempts of the 3600 s default task timeout, their retry waits and the notification
    # (sfnecs.model.budget): the 7200 s default would end the execution before its alert
    "machine_timeout_seconds": 11_200,
}
MINIMAL: dict[str, Any] = {
    "guard": False,
    "notify_failure": False,
    "notify_success": False,
    "launch_retry_attempts": 0,
    "retry_job_failures": 0,
}
SYNC_ACTIONS = {
    "ecs:RunTask",
    "ecs:StopTask",
    "ecs:DescribeTasks",
    "events:PutTargets",
    "events:PutRule",
    "events:DescribeRule",
    "iam:PassRole",
}


def spec(language: str = "JSONata", **changes: Any) -> StackSpec:
    return StackSpec(name="nightly", query_language=language, **changes)


def states_of(language: str, **changes: Any) -> dict[str, Any]:
    return sm.build_definition(spec(language, **changes))["States"]


# ---- golden files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["all", "minimal"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_definition_matches_golden_file(language: str, variant: str) -> None:
    text = sm.to_json(sm.build_definition(spec(language, **(ALL_ON if variant == "all" else MINIMAL))))
    path = GOLDEN / f"{language.lower()}_{variant}.json"
    if os.environ.get("SFNECS_UPDATE_GOLDEN") == "1":  # regenerate after a deliberate change, then review the diff
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{path.name} differs: rerun with SFNECS_UPDATE_GOLDEN=1 if intended"


def test_definition_is_json_with_a_stable_top_level_order() -> None:
    definition = sm.build_definition(spec())
    assert list(definition) == ["Comment", "QueryLanguage", "StartAt", "TimeoutSeconds", "States"]
    assert json.loads(sm.to_json(definition)) == definition
    assert sm.to_json(definition) == sm.to_json(sm.build_definition(spec()))  # deterministic


def test_build_definition_rejects_anything_but_a_stackspec() -> None:
    with pytest.raises(ValidationError, match="spec="):
        sm.build_definition({"name": "nightly"})  # type: ignore[arg-type]


# ---- each switch changes exactly the states it should ------------------------------------------------


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[set[str], set[str], set[str]]:
    """(added, removed, changed) state names."""
    return (
        set(after) - set(before),
        set(before) - set(after),
        {n for n in set(before) & set(after) if before[n] != after[n]},
    )


GUARD_STATES = {
    "JSONata": {"CheckRunning", "AlreadyRunning?", "SkippedOverlap"},
    "JSONPath": {"CheckRunning", "AnyRunning?", "FindOldest", "AlreadyRunning?", "SkippedOverlap"},
}
FAILURE_STATES = {
    "JSONata": {"NotifyFailure", "Failed"},
    "JSONPath": {"CauseIsJson?", "NoCause", "ParseCause", "TextCause", "NotifyFailure", "Failed"},
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_guard_adds_only_its_states_and_becomes_the_start(language: str) -> None:
    off, on = (
        sm.build_definition(spec(language, **MINIMAL)),
        sm.build_definition(spec(language, **{**MINIMAL, "guard": True})),
    )
    assert diff(off["States"], on["States"]) == (GUARD_STATES[language], set(), set())
    assert (off["StartAt"], on["StartAt"]) == (
        sm.RUN_JOB if language == "JSONata" else sm.OVERRIDES_GIVEN,
        sm.CHECK_RUNNING,
    )
    check = on["States"]["CheckRunning"]
    assert check["Resource"] == "arn:aws:states:::aws-sdk:sfn:listExecutions"
    args = check["Arguments" if language == "JSONata" else "Parameters"]
    assert args["StateMachineArn"] == spec(language).state_machine_arn and args["StatusFilter"] == "RUNNING"


@pytest.mark.parametrize("language", LANGUAGES)
def test_failure_notification_adds_only_its_states_and_a_catch(language: str) -> None:
    off, on = states_of(language, **MINIMAL), states_of(language, **{**MINIMAL, "notify_failure": True})
    assert diff(off, on) == (FAILURE_STATES[language], set(), {"RunJob"})
    assert {k: v for k, v in on["RunJob"].items() if k != "Catch"} == off["RunJob"]
    (catcher,) = on["RunJob"]["Catch"]
    assert catcher["ErrorEquals"] == ["States.ALL"] and catcher["Next"] in FAILURE_STATES[language]
    assert on["NotifyFailure"]["Resource"] == "arn:aws:states:::sns:publish"
    assert on["Failed"]["Type"] == "Fail"


@pytest.mark.parametrize("language", LANGUAGES)
def test_guard_failures_are_caught_only_when_failures_notify(language: str) -> None:
    quiet = states_of(language, **{**MINIMAL, "guard": True})
    loud = states_of(language, **{**MINIMAL, "guard": True, "notify_failure": True})
    assert "Catch" not in quiet["CheckRunning"]
    assert loud["CheckRunning"]["Catch"] == loud["RunJob"]["Catch"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_success_notification_adds_one_state_after_the_job(language: str) -> None:
    off, on = states_of(language, **MINIMAL), states_of(language, **{**MINIMAL, "notify_success": True})
    assert diff(off, on) == ({"NotifySuccess"}, set(), {"RunJob"})
    assert off["RunJob"]["End"] is True and "Next" not in off["RunJob"]
    assert on["RunJob"]["Next"] == "NotifySuccess" and "End" not in on["RunJob"]
    assert on["NotifySuccess"]["End"] is True and on["NotifySuccess"]["Resource"] == sm.SNS_PUBLISH


@pytest.mark.parametrize("language", LANGUAGES)
def test_retries_change_only_the_run_job_retriers(language: str) -> None:
    roomy = {**MINIMAL, "machine_timeout_seconds": 12_000}  # three job attempts need more than the 7200 s default
    none = states_of(language, **roomy)
    launch = states_of(language, **{**roomy, "launch_retry_attempts": 4})
    both = states_of(language, **{**roomy, "launch_retry_attempts": 4, "retry_job_failures": 2})
    assert "Retry" not in none["RunJob"]
    assert diff(none, launch) == (set(), set(), {"RunJob"}) and diff(launch, both) == (set(), set(), {"RunJob"})
    first, second = both["RunJob"]["Retry"]
    assert first == {
        "ErrorEquals": ["ECS.AmazonECSException", "AmazonECS.Unknown"],
        "IntervalSeconds": 10,
        "MaxAttempts": 4,
        "BackoffRate": 2.0,
        "JitterStrategy": "FULL",
    }
    # the job-failure retrier comes second: the first matching retrier is the one used
    assert second["ErrorEquals"] == ["States.TaskFailed"] and second["MaxAttempts"] == 2
    assert launch["RunJob"]["Retry"] == [first]


@pytest.mark.parametrize("language", LANGUAGES)
def test_timeouts_come_from_the_spec(language: str) -> None:
    definition = sm.build_definition(spec(language, task_timeout_seconds=900, machine_timeout_seconds=1800))
    assert definition["TimeoutSeconds"] == 1800
    assert definition["States"]["RunJob"]["TimeoutSeconds"] == 900


@pytest.mark.parametrize("language", LANGUAGES)
def test_query_language_is_declared_and_only_its_fields_are_used(language: str) -> None:
    definition = sm.build_definition(spec(language, **ALL_ON))
    assert definition["QueryLanguage"] == language
    text = json.dumps(definition)
    jsonpath_only = (
        '"Parameters"',
        '"ResultSelector"',
        '"ResultPath"',
        '"InputPath"',
        '"OutputPath"',
        '.$"',
        '"Variable"',
        '"ErrorPath"',
        '"CausePath"',
    )
    jsonata_only = ('"Arguments"', '"Output"', '"Condition"', "{%")
    for marker in jsonpath_only if language == "JSONata" else jsonata_only:
        assert marker not in text, marker


# ---- the RunJob state -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_run_job_runs_the_family_on_fargate_in_the_stack_network(language: str) -> None:
    from sfnecs.deploy.stack import network_configuration

    s = spec(language, **ALL_ON)
    job = sm.build_definition(s)["States"]["RunJob"]
    args = job["Arguments" if language == "JSONata" else "Parameters"]
    assert job["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    assert (args["LaunchType"], args["Cluster"], args["TaskDefinition"]) == ("FARGATE", s.cluster_arn, s.family)
    # the same awsvpc settings the stack (pattern A's target) uses, in Step Functions' PascalCase
    vpc = network_configuration(s)["awsvpcConfiguration"]
    assert args["NetworkConfiguration"]["AwsvpcConfiguration"] == {
        "Subnets": vpc["subnets"],
        "SecurityGroups": vpc["securityGroups"],
        "AssignPublicIp": vpc["assignPublicIp"],
    }
    # Step Functions sets StartedBy itself under .sync; the group names the execution
    assert "StartedBy" not in args
    group = args.get("Group") or args.get("Group.$")
    assert "Execution.Name" in group and "sfnecs:" in group


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_capacity_provider_strategy_replaces_the_launch_type(language: str) -> None:
    from sfnecs.deploy.stack import run_task_placement

    field = "Arguments" if language == "JSONata" else "Parameters"
    s = spec(language, capacity_provider_strategy=[("FARGATE", 1, 1), ("FARGATE_SPOT", 3)])
    args = sm.build_definition(s)["States"]["RunJob"][field]
    # RunTask takes one or the other ("the launchType parameter must be omitted", ECS API reference)
    assert "LaunchType" not in args
    assert args["CapacityProviderStrategy"] == [
        {"CapacityProvider": "FARGATE", "Weight": 1, "Base": 1},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 3, "Base": 0},
    ]
    # the same strategy as pattern A's target and a direct run, in Step Functions' PascalCase
    assert [
        {k[:1].upper() + k[1:]: v for k, v in item.items()}
        for item in run_task_placement(s)["capacityProviderStrategy"]
    ] == args["CapacityProviderStrategy"]
    plain = states_of(language)["RunJob"][field]
    assert plain["LaunchType"] == "FARGATE" and "CapacityProviderStrategy" not in plain
    assert sm.validate(sm.build_definition(s)) == []


def test_security_groups_are_left_out_when_none_are_given() -> None:
    for language in LANGUAGES:
        args = states_of(language, security_groups=())["RunJob"]
        vpc = args["Arguments" if language == "JSONata" else "Parameters"]["NetworkConfiguration"]
        assert vpc == {"AwsvpcConfiguration": {"Subnets": ["subnet-0a1b2c3d"], "AssignPublicIp": "DISABLED"}}


def test_jsonpath_run_job_keeps_the_task_summary() -> None:
    job = states_of("JSONPath")["RunJob"]
    assert set(job["ResultSelector"]) == {
        "TaskArn.$",
        "ExitCode.$",
        "StopCode.$",
        "StoppedReason.$",
        "CreatedAt.$",
        "StartedAt.$",
        "StoppedAt.$",
    }
    assert job["Parameters"]["Overrides"] == {"ContainerOverrides.$": "States.Array($.override)"}


def test_jsonpath_overrides_have_one_branch_per_input_combination() -> None:
    states = states_of("JSONPath", container_name="worker")
    choice = states["OverridesGiven?"]
    targets = [rule["Next"] for rule in choice["Choices"]] + [choice["Default"]]
    assert targets == ["CommandAndEnvironment", "CommandOnly", "EnvironmentOnly", "NoOverrides"]
    fields = {name: states[name]["Parameters"] for name in targets}
    assert fields == {
        "CommandAndEnvironment": {"Name": "worker", "Command.$": "$.command", "Environment.$": "$.environment"},
        "CommandOnly": {"Name": "worker", "Command.$": "$.command"},
        "EnvironmentOnly": {"Name": "worker", "Environment.$": "$.environment"},
        "NoOverrides": {"Name": "worker"},
    }
    assert all(states[name]["Next"] == "RunJob" and states[name]["ResultPath"] == "$.override" for name in targets)


def test_fail_states_never_reraise_a_reserved_error_name() -> None:
    # "States." names are reserved to Step Functions (ASL specification): Failed prefixes them
    jsonpath = states_of("JSONPath")["Failed"]
    assert jsonpath["ErrorPath"] == "States.Format('sfnecs.{}', $.failure.error.Error)"
    assert jsonpath["CausePath"] == "$.failure.error.Cause"
    assert (
        evaluate(states_of("JSONata")["Failed"]["Error"], input={"Error": "States.TaskFailed"})
        == "sfnecs.States.TaskFailed"
    )


# ---- JSONata expressions do what they claim (evaluated with jsonata-python) ----------------------------


def evaluate(field: str, *, input: Any = None, result: Any = None, context: dict[str, Any] | None = None) -> Any:
    """Evaluate a `{% %}` field as Step Functions would, `$states` bound; `$parse` is Step Functions' own."""
    assert field.startswith("{% ") and field.endswith(" %}"), field
    expression = Jsonata(field[3:-3])
    expression.register_lambda("parse", json.loads)
    expression.assign("states", {"input": input, "result": result, "context": context or {}})
    return expression.evaluate(None)


def context(name: str = "run-1", input: dict[str, Any] | None = None) -> dict[str, Any]:
    arn = f"arn:aws:states:us-east-1:123456789012:execution:nightly:{name}"
    return {"Execution": {"Id": arn, "Name": name, "Input": input or {}}}


def executions(*names: str) -> dict[str, Any]:
    """A ListExecutions result as the aws-sdk integration returns it: PascalCase, most recent first."""
    return {
        "Executions": [{"ExecutionArn": context(n)["Execution"]["Id"], "Name": n, "Status": "RUNNING"} for n in names]
    }


@pytest.mark.parametrize(
    ("listed", "skip"),
    [
        ((), False),  # not even this one listed yet (eventual consistency)
        (("run-1",), False),  # only this one
        (("run-2", "run-1"), False),  # a newer one started: it is the one that skips
        (("run-1", "run-0"), True),  # an older one still runs
        (("run-0",), True),  # an older one runs and this one is not listed yet
    ],
)
def test_jsonata_guard_skips_unless_this_is_the_oldest_running(listed: tuple[str, ...], skip: bool) -> None:
    states = states_of("JSONata")
    output = {k: evaluate(v, result=executions(*listed)) for k, v in states["CheckRunning"]["Output"].items()}
    assert output["count"] == len(listed) and output["running"] == list(listed)
    (rule,) = states["AlreadyRunning?"]["Choices"]
    assert bool(evaluate(rule["Condition"], input=output, context=context("run-1"))) is skip
    skipped = states["SkippedOverlap"]["Output"]
    assert skipped["skipped"] is True and evaluate(skipped["running"], input=output) == list(listed)


@pytest.mark.parametrize(
    ("given", "override"),
    [
        ({}, {"Name": "job"}),
        ({"command": ["python", "-m", "job"]}, {"Name": "job", "Command": ["python", "-m", "job"]}),
        (
            {"environment": [{"Name": "MODE", "Value": "full"}]},
            {"Name": "job", "Environment": [{"Name": "MODE", "Value": "full"}]},
        ),
        (
            {"command": ["a"], "environment": [], "scheduled_time": "2025-01-01T00:00:00Z"},
            {"Name": "job", "Command": ["a"], "Environment": []},
        ),
    ],
)
def test_jsonata_overrides_only_what_the_execution_input_gives(given: dict[str, Any], override: dict[str, Any]) -> None:
    field = states_of("JSONata")["RunJob"]["Arguments"]["Overrides"]["ContainerOverrides"]
    assert evaluate(field, context=context(input=given)) == [override]


def test_jsonata_run_job_output_keeps_the_essential_container_exit_code() -> None:
    task = {
        "TaskArn": "arn:aws:ecs:us-east-1:123456789012:task/nightly/abc",
        "StopCode": "EssentialContainerExited",
        "StoppedReason": "Essential container in task exited",
        "CreatedAt": 1,
        "StartedAt": 2,
        "StoppedAt": 3,
        "StartedBy": "AWS Step Functions",
        "Containers": [{"Name": "log-router", "ExitCode": 0}, {"Name": "job", "ExitCode": 3}],
    }
    output = {k: evaluate(v, result=task) for k, v in states_of("JSONata")["RunJob"]["Output"].items()}
    assert output == {
        "TaskArn": task["TaskArn"],
        "ExitCode": 3,
        "StopCode": "EssentialContainerExited",
        "StoppedReason": "Essential container in task exited",
        "CreatedAt": 1,
        "StartedAt": 2,
        "StoppedAt": 3,
    }


@pytest.mark.parametrize(
    ("error", "details"),
    [
        (
            {"Error": "States.TaskFailed", "Cause": json.dumps({"StopCode": "EssentialContainerExited"})},
            {"StopCode": "EssentialContainerExited"},
        ),
        ({"Error": "ECS.AmazonECSException", "Cause": "Rate exceeded (Service: AmazonECS; Status Code: 400)"}, None),
        ({"Error": "States.Timeout", "Cause": ""}, None),
        ({"Error": "States.Timeout"}, None),  # the ASL specification: a Cause is only "usually" there
    ],
)
def test_jsonata_failure_message_parses_the_cause_only_when_it_is_json(error: dict[str, Any], details: Any) -> None:
    states = states_of("JSONata")
    message = json.loads(evaluate(states["NotifyFailure"]["Arguments"]["Message"], input=error, context=context()))
    assert message["execution"] == context()["Execution"]["Id"] and message["error"] == error
    assert message.get("details") == details
    failed = states["Failed"]
    assert evaluate(failed["Error"], input=error) == "sfnecs." + error["Error"]
    assert evaluate(failed["Cause"], input=error) == error.get("Cause", "")


def test_a_failed_notification_still_fails_with_the_jobs_error() -> None:
    for language in LANGUAGES:
        notify = states_of(language)["NotifyFailure"]
        (catcher,) = notify["Catch"]
        assert catcher["ErrorEquals"] == ["States.ALL"] and catcher["Next"] == notify["Next"] == "Failed"


def test_jsonpath_failure_branches_on_the_cause() -> None:
    states = states_of("JSONPath")
    choice = states["CauseIsJson?"]
    assert choice["Choices"] == [
        {"Not": {"Variable": "$.error.Cause", "IsPresent": True}, "Next": "NoCause"},
        {"Variable": "$.error.Cause", "StringMatches": "{*", "Next": "ParseCause"},
    ]
    assert choice["Default"] == "TextCause"
    assert states["ParseCause"]["Parameters"]["details.$"] == "States.StringToJson($.error.Cause)"
    assert all("StringToJson" not in json.dumps(states[n]) for n in ("NoCause", "TextCause"))
    assert states["NoCause"]["Parameters"]["error"] == {"Error.$": "$.error.Error", "Cause": ""}


# ---- validation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", [ALL_ON, MINIMAL, {}], ids=["all", "minimal", "defaults"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_built_definitions_lint_clean(language: str, variant: dict[str, Any]) -> None:
    assert sm.validate(sm.build_definition(spec(language, **variant))) == []


def test_validate_accepts_json_text() -> None:
    assert sm.validate(sm.to_json(sm.build_definition(spec()))) == []


def broken(**states: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states}


@pytest.mark.parametrize(
    ("definition", "finding"),
    [
        (broken(A={"Type": "Pass", "Next": "Nowhere"}), 'No state found named "Nowhere"'),
        (broken(A={"Type": "Teleport", "End": True}), "not one of the allowed values"),
        ({"StartAt": "Missing", "States": {"A": {"Type": "Succeed"}}}, "StartAt value Missing not found"),
        (broken(A={"Type": "Succeed"}, B={"Type": "Succeed"}), "No transition found to state State Machine.B"),
        (broken(A={"Type": "Pass", "Next": "A"}), "No terminal state found"),
        (
            {"QueryLanguage": "JSONata", **broken(A={"Type": "Pass", "ResultPath": "$.x", "End": True})},
            'Field "ResultPath" not allowed',
        ),
        (
            {"QueryLanguage": "JSONata", **broken(A={"Type": "Pass", "Output": "{% $count(( %}", "End": True})},
            "States.A.Output is not a valid JSONata expression",
        ),
        ("{not json", "definition is not JSON"),
        ([1, 2], "not a JSON object"),
    ],
)
def test_validate_reports_broken_definitions(definition: Any, finding: str) -> None:
    problems = sm.validate(definition)
    assert any(finding in p for p in problems), problems


def test_validate_finds_a_dangling_next_in_a_built_definition() -> None:
    definition = sm.build_definition(spec(**ALL_ON))
    definition["States"]["RunJob"]["Next"] = "NotifySucces"  # a typo
    assert any('"NotifySucces"' in p for p in sm.validate(definition))


# ---- moto's ASL parser (the sandbox's interpreter) accepts both variants -------------------------------


@pytest.mark.parametrize("variant", [ALL_ON, MINIMAL], ids=["all", "minimal"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_moto_parses_the_definition(language: str, variant: dict[str, Any]) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.static_analyser.static_analyser import StaticAnalyser

    text = sm.to_json(sm.build_definition(spec(language, **variant)))
    program, _ = AmazonStateLanguageParser.parse(text)
    assert program is not None
    StaticAnalyser().analyse(text)  # what moto's CreateStateMachine runs; raises on a bad definition


# ---- IAM needs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_states_used_follows_the_switches(language: str) -> None:
    def used(**changes: Any) -> set[str]:
        return sm.states_used(sm.build_definition(spec(language, **{**MINIMAL, **changes})))

    assert used() == SYNC_ACTIONS
    assert used(guard=True) == SYNC_ACTIONS | {"states:ListExecutions"}
    assert used(notify_failure=True) == used(notify_success=True) == SYNC_ACTIONS | {"sns:Publish"}
    assert sm.states_used(sm.build_definition(spec(language, **ALL_ON))) == SYNC_ACTIONS | {
        "states:ListExecutions",
        "sns:Publish",
    }


def test_states_used_reads_other_integrations_and_nested_states() -> None:
    definition = broken(
        P={
            "Type": "Parallel",
            "End": True,
            "Branches": [
                broken(S3={"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject", "End": True}),
                broken(Run={"Type": "Task", "Resource": "arn:aws:states:::ecs:runTask", "End": True}),
            ],
        }
    )
    assert sm.states_used(definition) == {"s3:GetObject", "ecs:RunTask", "iam:PassRole"}


def test_states_used_refuses_an_unknown_resource() -> None:
    lambda_arn = "arn:aws:lambda:us-east-1:123456789012:function:job"
    with pytest.raises(ValidationError, match="States.A.Resource"):
        sm.states_used(broken(A={"Type": "Task", "Resource": lambda_arn, "End": True}))
    with pytest.raises(ValidationError, match="knows the IAM needs"):
        sm.states_used(broken(A={"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True}))


# ---- diagram ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", [ALL_ON, MINIMAL], ids=["all", "minimal"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_diagram_draws_every_state_and_transition(language: str, variant: dict[str, Any]) -> None:
    definition = sm.build_definition(spec(language, **variant))
    picture = sm.diagram(definition)
    root = ElementTree.fromstring(picture.to_svg())
    ns = "{http://www.w3.org/2000/svg}"
    drawn = {g.get("data-state") for g in root.iter(f"{ns}g")} - {None}
    assert drawn == set(definition["States"])
    texts = {t.text for t in root.iter(f"{ns}text")}
    assert set(definition["States"]) <= texts
    paths = [
        (p.get("data-from"), p.get("data-to"), p.get("data-kind")) for p in root.iter(f"{ns}path") if p.get("data-kind")
    ]
    assert sorted(paths) == sorted(
        zip(picture.to_frame()["source"], picture.to_frame()["target"], picture.to_frame()["kind"], strict=False)
    )
    # every box inside the picture, none overlapping another
    for box in picture.boxes:
        assert 0 <= box.x and box.x + box.width <= picture.width and box.y + box.height <= picture.height
    for a in picture.boxes:
        for b in picture.boxes:
            if a is not b:
                assert a.x + a.width <= b.x or b.x + b.width <= a.x or a.y + a.height <= b.y or b.y + b.height <= a.y


def test_diagram_edges_name_the_transitions() -> None:
    frame = sm.diagram(sm.build_definition(spec(**ALL_ON))).to_frame()
    rows = set(map(tuple, frame[["source", "target", "kind"]].to_numpy()))
    assert {
        ("CheckRunning", "AlreadyRunning?", "next"),
        ("AlreadyRunning?", "SkippedOverlap", "choice"),
        ("AlreadyRunning?", "RunJob", "default"),
        ("RunJob", "NotifyFailure", "catch"),
        ("RunJob", "RunJob", "retry"),
        ("NotifyFailure", "Failed", "next"),
    } <= rows
    retries = frame[frame.kind == "retry"]
    assert any("ECS.AmazonECSException" in label and "\u00d73" in label for label in retries.label)


def test_diagram_renders_in_notebooks_pages_and_mermaid() -> None:
    definition = sm.build_definition(spec("JSONPath", **ALL_ON))
    picture = sm.diagram(definition, title="nightly <pattern B>")
    assert picture._repr_svg_().startswith("<svg") and "<svg" in picture._repr_html_()
    page = picture.to_html()
    assert page.startswith("<!DOCTYPE html>") and "nightly &lt;pattern B&gt;" in page and "<svg" in page
    assert "&quot;QueryLanguage&quot;: &quot;JSONPath&quot;" in page
    mermaid = picture.to_mermaid()
    assert mermaid.startswith("flowchart TD\n")
    for name in definition["States"]:
        assert f'"{name}"' in mermaid
    assert '|"$.guard.count #62; 0"|' in mermaid  # labels escaped, not raw ">"


def test_diagram_still_draws_a_broken_definition() -> None:
    definition = broken(
        A={"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "A"}], "Default": "B"},
        B={"Type": "Succeed"},
        Orphan={"Type": "Fail"},
    )
    picture = sm.diagram(definition)
    assert {b.name for b in picture.boxes} == {"A", "B", "Orphan"}
    assert ("A", "A", "choice") in set(map(tuple, picture.to_frame()[["source", "target", "kind"]].to_numpy()))
    ElementTree.fromstring(picture.to_svg())
    with pytest.raises(ValidationError, match="definition="):
        sm.diagram({"StartAt": "A"})


# ---- any valid StackSpec gives valid ASL ---------------------------------------------------------------


def reachable(definition: dict[str, Any]) -> set[str]:
    states, seen, todo = definition["States"], set(), deque([definition["StartAt"]])
    while todo:
        name = todo.popleft()
        if name in seen:
            continue
        seen.add(name)
        state = states[name]
        targets = [state.get("Next"), state.get("Default")]
        targets += [r["Next"] for r in state.get("Choices", [])] + [c["Next"] for c in state.get("Catch", [])]
        todo.extend(t for t in targets if t is not None)
    return seen


def nexts(definition: dict[str, Any]) -> list[str]:
    found = []
    for state in definition["States"].values():
        found += [state[k] for k in ("Next", "Default") if k in state]
        found += [r["Next"] for r in state.get("Choices", [])] + [c["Next"] for c in state.get("Catch", [])]
    return found


hex8 = st.text("0123456789abcdef", min_size=8, max_size=8)
spec_kwargs = st.fixed_dictionaries(
    dict(
        name=st.from_regex(r"[a-z][a-z0-9]{1,12}(-[a-z0-9]{1,8})?", fullmatch=True),  # also a valid ECR name
        query_language=st.sampled_from(LANGUAGES),
        container_name=st.from_regex(r"[A-Za-z0-9_-]{1,30}", fullmatch=True),
        subnets=st.lists(hex8.map("subnet-{}".format), min_size=1, max_size=4).map(tuple),
        security_groups=st.lists(hex8.map("sg-{}".format), max_size=5).map(tuple),
        assign_public_ip=st.booleans(),
        guard=st.booleans(),
        notify_failure=st.booleans(),
        notify_success=st.booleans(),
        task_timeout_seconds=st.integers(1, 31_536_000),
        machine_timeout_seconds=st.integers(1, 31_536_000),
        launch_retry_attempts=st.integers(0, 10),
        retry_job_failures=st.integers(0, 10),
        capacity_provider_strategy=st.sampled_from([(), "FARGATE_SPOT", [("FARGATE", 1, 1), ("FARGATE_SPOT", 3)]]),
    )
)


def _accepted(kwargs: dict[str, Any]) -> StackSpec | None:
    try:
        return StackSpec(**kwargs)
    except ValidationError:
        return None


specs = spec_kwargs.map(_accepted).filter(lambda s: s is not None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs)
def test_any_valid_spec_gives_valid_asl(s: StackSpec) -> None:
    definition = sm.build_definition(s)
    assert sm.validate(definition) == []
    assert set(nexts(definition)) <= set(definition["States"])  # every Next resolves
    assert reachable(definition) == set(definition["States"])  # every state reachable
    assert sm.states_used(definition) <= SYNC_ACTIONS | {"states:ListExecutions", "sns:Publish"}
    assert {b.name for b in sm.diagram(definition).boxes} == set(definition["States"])


def worst_case_from_asl(definition: dict[str, Any]) -> float:
    """The longest the definition's Task states can take, read from the ASL itself: each attempt that a
    States.TaskFailed (or States.ALL) retrier repeats may run to the state's TimeoutSeconds, and every
    retry waits at most IntervalSeconds x BackoffRate^k."""
    total = 0.0
    for state in definition["States"].values():
        if state["Type"] != "Task":
            continue
        retriers = state.get("Retry", [])
        long_retries = sum(
            r["MaxAttempts"] for r in retriers if {"States.TaskFailed", "States.ALL"} & set(r["ErrorEquals"])
        )
        total += (1 + long_retries) * state.get("TimeoutSeconds", 0)
        total += sum(r["IntervalSeconds"] * r["BackoffRate"] ** k for r in retriers for k in range(r["MaxAttempts"]))
    return total


#: task timeouts short enough that some machine timeout (at most a year) fits 11 attempts of them
fitting_kwargs = spec_kwargs.map(lambda k: {**k, "task_timeout_seconds": min(k["task_timeout_seconds"], 2_000_000)})


@settings(max_examples=200, deadline=None)
@given(fitting_kwargs)
def test_a_machine_timeout_always_leaves_room_for_the_notification(kwargs: dict[str, Any]) -> None:
    """Any spec StackSpec (and so plan) accepts ends its execution by its own failure, never by the
    uncatchable top-level timeout; any spec it refuses for its timeout would not have."""
    spec = _accepted(kwargs)
    if spec is None:
        roomy = StackSpec(**{**kwargs, "machine_timeout_seconds": 31_536_000})
        need = worst_case_from_asl(sm.build_definition(roomy)) + NOTIFY_MARGIN_SECONDS
        with pytest.raises(ValidationError, match=r"^machine_timeout_seconds=\d+ is not valid: at least \d+ s"):
            StackSpec(**kwargs)
        assert kwargs["machine_timeout_seconds"] < need
        return
    definition = sm.build_definition(spec)
    assert definition["TimeoutSeconds"] >= worst_case_from_asl(definition) + NOTIFY_MARGIN_SECONDS


@pytest.mark.parametrize("machine_timeout, ok", [(11_123, False), (11_124, True)])
def test_the_timeout_rule_at_its_boundary_prints_the_arithmetic(machine_timeout: int, ok: bool) -> None:
    kwargs = {**ALL_ON, "machine_timeout_seconds": machine_timeout}
    if ok:
        assert spec("JSONata", **kwargs).machine_timeout_seconds == machine_timeout
        return
    with pytest.raises(ValidationError) as caught:
        spec("JSONata", **kwargs)
    assert str(caught.value) == (
        "machine_timeout_seconds=11123 is not valid: at least 11124 s, the longest the job's attempts and retries "
        "can take (3 job attempts x 3600 s + launch retry waits 10+20+40 s + job retry waits 60+120 s + guard retry "
        "waits 2+4+8 s + 60 s for the failure notification = 11,124 s): a state machine's own timeout cannot be "
        "caught, so a shorter one would end the execution before its failure is notified"
    )

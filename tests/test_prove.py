"""`sfnecs.proofs`: the TestState suite built from a StackSpec, run on the sandbox against built, deployed and
deliberately broken definitions, and the `sfnecs prove` command."""

from __future__ import annotations

import copy
import json

import pytest
from tests.test_stack import make_spec

from sfnecs import statemachine
from sfnecs.cli import main
from sfnecs.deploy import stack
from sfnecs.exceptions import StackError, ValidationError
from sfnecs.model import StackSpec
from sfnecs.proofs import STATUSES, proof_paths, prove

LANGUAGES = ("JSONata", "JSONPath")
#: the kit's switches that change the state machine's paths
VARIANTS = {
    "defaults": {},
    "job retried, success notified": {
        "retry_job_failures": 2,
        "notify_success": True,
        "machine_timeout_seconds": 20000,
    },
    "bare": {"guard": False, "notify_failure": False, "launch_retry_attempts": 0},
}


def _spec(language: str, **changes) -> StackSpec:
    return StackSpec("proven", query_language=language, **changes)


# ---- the suite (pure) ------------------------------------------------------------------------------------
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_path_states_what_it_proves_and_what_each_step_must_give(language):
    paths = proof_paths(_spec(language))
    assert [p.name for p in paths] == [
        "guard: run",
        "guard: skip",
        "guard: list fails",
        *(["guard: oldest runs"] if language == "JSONPath" else []),
        "success",
        "launch retried, then success",
        "launch retries exhausted",
        "job fails",
        "timeout",
        "notification fails",
    ]
    for path in paths:
        assert path.proves and path.steps
        for step in path.steps:
            assert step.expect_status in STATUSES
            assert step.expected.startswith(step.expect_status)


def test_the_suite_follows_the_spec_switches():
    def statuses(spec: StackSpec, path: str) -> list[str]:
        return [s.expect_status for s in next(p for p in proof_paths(spec) if p.name == path).steps]

    base = _spec("JSONata")
    assert statuses(base, "job fails")[0] == "CAUGHT_ERROR"  # the job's own failure is not run again
    retried = base.replace(retry_job_failures=1, machine_timeout_seconds=20000)
    assert statuses(retried, "job fails")[:2] == ["RETRIABLE", "CAUGHT_ERROR"]
    assert statuses(base, "launch retries exhausted") == ["RETRIABLE", "CAUGHT_ERROR", "SUCCEEDED", "FAILED"]
    bare = base.replace(notify_failure=False, guard=False)
    assert statuses(bare, "timeout") == ["FAILED"] and "guard: run" not in {p.name for p in proof_paths(bare)}


def test_bad_specs_are_refused_before_any_call(target):
    with pytest.raises(ValidationError, match="pattern A has no state machine"):
        proof_paths(StackSpec("direct", pattern="A"))
    with pytest.raises(ValidationError, match="spec"):
        proof_paths("proven")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="paths"):
        prove(target, _spec("JSONata"), definition=statemachine.build_definition(_spec("JSONata")), paths=["nope"])
    with pytest.raises(ValidationError, match="definition"):
        prove(target, _spec("JSONata"), definition=42)  # type: ignore[arg-type]


# ---- on the sandbox ------------------------------------------------------------------------------------------
@pytest.mark.sandbox
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_suite_passes_for_the_kits_machines(target, language, variant):
    spec = _spec(language, **VARIANTS[variant])
    report = prove(target, spec, definition=statemachine.build_definition(spec))
    assert report.passed, report.to_frame().query("not ok").to_string()
    assert report.query_language == language and not report.not_run
    if variant == "defaults":
        assert report.statuses == set(STATUSES)  # every documented status reached
        frame = report.to_frame()
        assert list(frame.columns)[:3] == ["path", "proves", "state"] and frame["ok"].all()


def _broken(language: str, breaks: str) -> dict:
    definition = copy.deepcopy(statemachine.build_definition(_spec(language)))
    run_job = definition["States"]["RunJob"]
    if breaks == "retry on the wrong error":
        run_job["Retry"][0]["ErrorEquals"] = ["States.Timeout"]
    else:
        del run_job["Catch"]
    return definition


@pytest.mark.sandbox
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("breaks", "failing"),
    [
        (
            "retry on the wrong error",
            {"launch retried, then success", "launch retries exhausted", "timeout", "notification fails"},
        ),
        ("Catch missing", {"launch retries exhausted", "job fails", "timeout", "notification fails"}),
    ],
)
def test_a_broken_definition_fails_the_paths_it_breaks(target, language, breaks, failing):
    report = prove(target, _spec(language), definition=_broken(language, breaks))
    assert not report.passed
    assert {path for path, ok in report.paths.items() if not ok} == failing
    first = report.failures[0]
    assert first.why and first.got != first.expected
    if breaks == "Catch missing":
        timeout = next(s for s in report.failures if s.path == "timeout")
        assert (timeout.status, timeout.error) == ("FAILED", "States.Timeout")


@pytest.mark.sandbox
def test_a_definition_teststate_refuses_is_reported_not_raised(target):
    report = prove(target, _spec("JSONata"), definition='{"StartAt": "RunJob", "States": {"RunJob": ')
    assert not report.passed and {s.status for s in report.steps} == {"REFUSED"}
    assert report.steps[0].error == "InvalidDefinition" and report.not_run


@pytest.mark.sandbox
def test_the_deployed_machine_is_proven_with_its_role_and_the_cli(target, capsys):
    spec = make_spec(target, "proven-live")
    with pytest.raises(StackError, match="deploy it first"):
        prove(target, spec)
    stack.apply(target, spec)
    try:
        report = prove(target, spec)
        assert report.passed, report.to_frame().query("not ok").to_string()
        assert report.role_arn == spec.role_arn(spec.sfn_role)
        assert main(["prove", "--stack", spec.name, "--target", "sandbox", "--path", "timeout"]) == 0
        out = capsys.readouterr().out
        assert "timeout" in out and "1/1 paths proven" in out
        assert main(["prove", "--stack", spec.name, "--target", "sandbox", "--path", "timeout", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["passed"] is True
    finally:
        stack.teardown(target, spec)


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_prove_runbook_passes_then_fails_once_the_catch_is_gone(tmp_path, monkeypatch):
    """Through the runbook runner, against a background sandbox as `sfnecs sandbox start` leaves one."""
    from sfnecs.deploy.target import connect
    from sfnecs.ops import runbook
    from sfnecs.sandbox import process

    monkeypatch.setenv("SFNECS_HOME", str(tmp_path / "home"))
    endpoint = process.start(speed=50)["endpoint"]
    try:
        target = connect("sandbox", endpoint_url=endpoint)
        spec = make_spec(target, "proven-runbook")
        stack.apply(target, spec)
        proven = runbook.run("prove", {"stack": spec.name}, output_dir=tmp_path / "runs")
        assert proven.ok and proven.result["passed"] and proven.result["error"] is None, proven.error
        broken = statemachine.build_definition(spec)
        del broken["States"]["RunJob"]["Catch"]
        sfn = target.client("stepfunctions")
        sfn.update_state_machine(stateMachineArn=spec.state_machine_arn, definition=json.dumps(broken))
        failed = runbook.run("prove", {"stack": spec.name}, output_dir=tmp_path / "runs")
        assert not failed.ok and failed.error.startswith("RunbookError: not proven: launch retries exhausted")
    finally:
        process.stop()

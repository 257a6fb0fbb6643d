"""sfnecs.ops.steps: the runbooks' steps — a stack read back from AWS, one run of either pattern, results."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sfnecs.deploy import stack
from sfnecs.exceptions import RunbookError, StackError, ValidationError
from sfnecs.model import StackSpec
from sfnecs.ops import steps as operate
from sfnecs.runs import RunResult


def test_manual_run_names_are_unique_to_the_millisecond():
    at = datetime(2024, 1, 31, 9, 0, 12, 345678, tzinfo=UTC)
    assert operate.manual_run_name(at) == "manual-20240131T090012345Z"


def test_run_result_gives_a_one_line_error_only_for_a_failed_run():
    spec = StackSpec("nightly")
    ok = operate.run_result(spec, RunResult("SUCCEEDED", exit_code=0, log_tail=["done"]))
    assert ok["ok"] and ok["error"] is None and ok["run_error"] is None
    failed = operate.run_result(
        spec,
        RunResult(
            "FAILED",
            exit_code=1,
            stopped_reason="Essential container in task exited",
            task_arn="arn:t",
            error="States.TaskFailed",
            cause='{"big": "json\\nwith lines"}',
            log_tail=["a", "exec x: exec format error"],
        ),
    )
    assert failed["error"] == (
        "job of stack nightly FAILED: exit code 1; Essential container in task exited; last "
        "log line: exec x: exec format error"
    )
    assert failed["run_error"] == "States.TaskFailed" and failed["cause"].startswith('{"big"')
    never = operate.run_result(spec, RunResult("FAILED", error="RunTaskFailure", cause="RESOURCE:MEMORY"))
    assert never["error"] == "job of stack nightly FAILED: RESOURCE:MEMORY"  # no task: the cause says why


def test_raise_if_failed():
    assert operate.raise_if_failed({"ok": True}) == {"ok": True}
    with pytest.raises(RunbookError, match="^job failed$"):
        operate.raise_if_failed({"ok": False, "error": "job failed"})
    with pytest.raises(ValidationError):
        operate.raise_if_failed(None)  # type: ignore[arg-type]


@pytest.mark.sandbox
def test_a_deployed_stack_reads_back_and_runs_in_either_pattern(target):
    from tests.test_stack import make_spec

    for pattern in ("A", "B"):
        spec = make_spec(
            target,
            f"operate-{pattern.lower()}",
            pattern=pattern,
            schedule_enabled=False,
            cpu_architecture="ARM64",
            command=("sh", "-c", "echo hello; exit 0"),
            environment={"TEAM": "ops"},
            launch_retry_attempts=0,
        )
        stack.apply(target, spec)
        try:
            assert operate.push_sample(target, spec, "arm64").endswith(f"/{spec.repository}:latest")
            assert operate.push_sample(target, spec, "arm64") == spec.image_uri  # the same image again: no error
            assert operate.push_sample(target, spec, "") is None
            found = operate.deployed_spec(target, spec.name)
            for field in (
                "pattern",
                "cpu_architecture",
                "command",
                "environment",
                "schedule_expression",
                "schedule_enabled",
                "image_uri",
                "cpu",
                "memory",
            ):
                assert getattr(found, field) == getattr(spec, field), field
            if pattern == "A":  # the network is read from the schedule's RunTask parameters
                assert (found.subnets, found.security_groups) == (spec.subnets, spec.security_groups)
            result = operate.run_once(target, found, progress=False, timeout=30)
            assert result.ok and result.log_tail == ["hello"]
            assert result.execution_arn if pattern == "B" else result.execution_arn is None
        finally:
            stack.teardown(target, spec, delete_logs=True, delete_images=True)
    with pytest.raises(StackError, match="stack 'operate-a' is not deployed on target sandbox in us-east-1"):
        operate.deployed_spec(target, "operate-a")


@pytest.mark.sandbox
def test_a_capacity_provider_reads_back_in_either_pattern_and_the_run_uses_it(target):
    for pattern in ("A", "B"):
        spec = operate.deploy_spec(
            target,
            f"operate-spot-{pattern.lower()}",
            pattern=pattern,
            schedule_enabled=False,
            command=["sh", "-c", "echo on spot"],
            capacity_provider="FARGATE_SPOT",
        )
        assert spec.capacity_provider_strategy == (("FARGATE_SPOT", 1, 0),)
        stack.apply(target, spec)
        try:
            operate.push_sample(target, spec, "amd64")
            found = operate.deployed_spec(target, spec.name)  # from the schedule (A) or the state machine (B)
            assert found.capacity_provider_strategy == spec.capacity_provider_strategy
            result = operate.run_once(target, found, progress=False, timeout=30)
            assert result.ok, result
            (task,) = target.client("ecs").describe_tasks(cluster=spec.cluster, tasks=[result.task_arn])["tasks"]
            assert task["capacityProviderName"] == "FARGATE_SPOT"
        finally:
            stack.teardown(target, spec, delete_logs=True, delete_images=True)


@pytest.mark.sandbox
def test_run_to_diagnose_finds_the_latest_failed_run(target, sandbox):
    from tests.test_stack import deployed, make_spec

    spec = make_spec(target, "operate-diag", schedule_enabled=False, launch_retry_attempts=0)
    with deployed(target, spec, sandbox=sandbox):
        assert operate.run_to_diagnose(target, spec.name) is None
        sandbox.control("POST", "faults", {"kind": "exit_code", "exit_code": 2, "count": 1})
        failed = operate.run_once(target, spec, progress=False, timeout=30)
        operate.run_once(target, spec, progress=False, timeout=30)  # a later success does not hide it
        assert operate.run_to_diagnose(target, spec.name) == failed.execution_arn
        assert operate.run_to_diagnose(target, spec.name, "arn:given") == "arn:given"

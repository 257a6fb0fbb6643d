"""runs.py end to end in the sandbox: start, wait, run_direct, history, executions, logs, timeline."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from tests.test_stack import deployed, make_spec

from sfnecs import runs
from sfnecs.deploy import stack
from sfnecs.exceptions import RunError, ValidationError
from sfnecs.images.sample import push_sample_image
from sfnecs.runs import Backoff, RunResult

LINES = "fetching input|writing report"


@pytest.fixture(scope="module")
def stack_b(target):
    """A pattern B stack whose job logs two lines, run by hand only.

    Its schedule is disabled (an enabled rate() schedule fires at once, and the overlap guard then
    rightly skips a manual start beside it); launch failures are not retried (Step Functions' retry
    intervals are real seconds); JSONPath, since JSONata stacks are run in tests/test_simulation_check.py and
    tests/test_statemachine_sandbox.py (the sandbox evaluates JSONata with jsonata-python).
    """
    spec = make_spec(
        target,
        "runs-b",
        environment={"SFNECS_LOG": LINES},
        launch_retry_attempts=0,
        schedule_enabled=False,
        query_language="JSONPath",
    )
    with deployed(target, spec):
        yield spec


@pytest.fixture(scope="module")
def stack_a(target):
    spec = make_spec(target, "runs-a", pattern="A", environment={"SFNECS_LOG": LINES}, schedule_enabled=False)
    with deployed(target, spec):
        push_sample_image(target, spec.repository, platforms=["amd64"], tag="amd64-index")
        yield spec


@pytest.fixture
def faults(sandbox):
    yield lambda **f: sandbox.control("POST", "faults", f)
    sandbox.control("DELETE", "faults", {})


FAST = Backoff(initial=0.05, factor=1.6, cap=0.5)


def stop_tasks(target: Any, spec: Any, timeout: float = 10.0) -> None:
    """Stop the stack's running task (a hung job), as an operator would with StopTask."""
    ecs = target.client("ecs")
    deadline = time.monotonic() + timeout
    while not (arns := ecs.list_tasks(cluster=spec.cluster, family=spec.family, desiredStatus="RUNNING")["taskArns"]):
        assert time.monotonic() < deadline, "the hung task never started"
        time.sleep(0.02)  # Step Functions launches it moments after the execution starts
    for arn in arns:
        ecs.stop_task(cluster=spec.cluster, task=arn, reason="stopped by the test")


def wait(target: Any, run: Any, **kw: Any) -> RunResult:
    return runs.wait(target, run, progress=False, timeout=30, backoff=FAST, **kw)


# ---- pattern B -----------------------------------------------------------------------------------------
@pytest.mark.sandbox
def test_success_reports_exit_code_stop_code_logs_and_durations(target, stack_b):
    run = runs.start(target, stack_b, name="ok-1")
    assert run.kind == "execution" and run.arn.endswith(":execution:runs-b:ok-1") and not run.deduplicated
    result = wait(target, run)
    assert result.ok and result.status == "SUCCEEDED"
    assert (result.exit_code, result.stop_code) == (0, "EssentialContainerExited")
    assert result.stopped_reason == "Essential container in task exited"
    assert result.log_tail == LINES.split("|")
    assert result.task_arn.startswith("arn:aws:ecs:us-east-1:123456789012:task/runs-b/")
    assert result.execution_arn == run.arn and result.error is None and result.failures == []
    # the Fargate emulator's phases, in virtual seconds: 2 provisioning + 2 pull, then the 5 s job
    assert (result.queue_seconds, result.run_seconds) == (4.0, 5.0)
    assert result.total_seconds > 0 and result.started < result.stopped
    frame = result.to_frame()
    assert frame.loc[0, "status"] == "SUCCEEDED" and frame.loc[0, "log_tail"] == "fetching input\nwriting report"
    assert "SUCCEEDED" in result._repr_html_()
    assert json.loads(json.dumps(result.to_dict()))["ok"] is True


@pytest.mark.sandbox
def test_wait_backs_off_exponentially_and_shows_state_and_elapsed_time(target, stack_b, monkeypatch):
    import io

    import tqdm.auto
    from tqdm.std import tqdm as text_tqdm

    screen = io.StringIO()

    class Bar(text_tqdm):  # the real text bar, drawn to a buffer even though it is not a terminal
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            assert kwargs["disable"] is None  # tqdm decides: shown in terminals and notebooks
            super().__init__(*args, **{**kwargs, "disable": False, "file": screen, "mininterval": 0})

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    # the run takes at least 10 virtual s (0.2 s real at x50): these delays reach their cap well before
    backoff = Backoff(initial=0.01, factor=2.0, cap=0.04)
    result = runs.wait(target, runs.start(target, stack_b, name="progress-1"), timeout=30, backoff=backoff, sleep=sleep)
    assert result.ok
    # one GetExecutionHistory per delay, each delay double the last up to the cap
    assert slept == [d for d, _ in zip(backoff.delays(), slept, strict=False)] and slept[:4] == [0.01, 0.02, 0.04, 0.04]
    assert max(slept) == 0.04 and result.api_calls >= len(slept)
    drawn = screen.getvalue()
    assert "progress-1: RUNNING RunJob [00:0" in drawn  # the state the execution is in, and the elapsed time
    assert drawn.rstrip().endswith("]") and "progress-1: SUCCEEDED [00:0" in drawn


@pytest.mark.sandbox
def test_job_failure_gives_exit_code_and_task_error(target, stack_b, faults):
    faults(kind="exit_code", exit_code=3, family=stack_b.family)
    result = wait(target, runs.start(target, stack_b, name="fail-1"))
    assert result.status == "FAILED" and not result.ok
    assert result.exit_code == 3 and result.stop_code == "EssentialContainerExited"
    assert result.error == "States.TaskFailed"
    assert json.loads(result.cause)["Containers"][0]["ExitCode"] == 3
    assert result.log_tail[-1] == "job failed: exiting with code 3"


@pytest.mark.sandbox
def test_pull_error_fails_to_start_without_logs(target, stack_b, faults):
    faults(kind="pull_error", family=stack_b.family)
    result = wait(target, runs.start(target, stack_b, name="pull-1"))
    assert result.status == "FAILED"
    assert result.stop_code == "TaskFailedToStart" and result.exit_code is None
    assert result.stopped_reason.startswith("CannotPullContainerError")
    assert result.log_tail == [] and result.run_seconds is None


@pytest.mark.sandbox
def test_runtask_failures_fail_the_execution_with_their_reason(target, stack_b, faults):
    faults(kind="runtask_failure", reason="RESOURCE:MEMORY", family=stack_b.family)
    result = wait(target, runs.start(target, stack_b, name="capacity-1"))
    assert result.status == "FAILED" and result.error == "AmazonECS.Unknown"
    assert [f["reason"] for f in result.failures] == ["RESOURCE:MEMORY"]
    assert result.task_arn is None and result.exit_code is None and result.log_tail == []


@pytest.mark.sandbox
def test_duplicate_start_for_the_same_minute_makes_one_execution(target, stack_b):
    at = datetime(2030, 1, 31, 9, 0, 27, tzinfo=UTC)
    first = runs.start(target, stack_b, at=at)
    second = runs.start(target, stack_b, at=at + timedelta(seconds=20))  # same intended minute
    assert first.name == runs.execution_name(at) == "run-20300131T0900Z"
    assert second.arn == first.arn and second.deduplicated and not first.deduplicated
    wait(target, first)
    assert runs.start(target, stack_b, at=at).deduplicated  # after it finished, too
    sfn = target.client("stepfunctions")
    names = [e["name"] for e in sfn.list_executions(stateMachineArn=stack_b.state_machine_arn)["executions"]]
    assert names.count("run-20300131T0900Z") == 1
    with pytest.raises(RunError, match="already used"):
        runs.start(target, stack_b, {"other": "input"}, name="run-20300131T0900Z")


@pytest.mark.sandbox
def test_wait_gives_up_at_the_deadline_naming_the_execution(target, stack_b, faults):
    faults(kind="hang", family=stack_b.family)
    run = runs.start(target, stack_b, name="hang-1")
    with pytest.raises(RunError, match="hang-1.*did not finish within timeout=0.3"):
        runs.wait(target, run, timeout=0.3, progress=False, backoff=FAST)
    stop_tasks(target, stack_b)
    result = wait(target, run)  # waiting again picks up where the first wait gave up
    assert result.status == "FAILED" and result.error == "States.TaskFailed"
    assert (result.stop_code, result.exit_code) == ("UserInitiated", 143)


@pytest.mark.sandbox
def test_a_run_skipped_by_the_overlap_guard_says_so(target, stack_b, faults):
    faults(kind="hang", family=stack_b.family)
    first = runs.start(target, stack_b, name="long-1")
    late = wait(target, runs.start(target, stack_b, name="late-1"))
    assert late.ok and late.skipped and late.task_arn is None
    assert "still RUNNING (overlap guard)" in late.cause
    stop_tasks(target, stack_b)
    assert not wait(target, first).skipped


@pytest.mark.sandbox
def test_history_executions_logs_and_timeline(target, stack_b):
    since = datetime.now(UTC) - timedelta(milliseconds=1)  # start dates have ms precision
    run = runs.start(target, stack_b, name="hist-1")
    result = wait(target, run)
    wait(target, runs.start(target, stack_b, name="hist-2"))
    events = runs.history(target, run)
    assert list(events.columns) == ["id", "timestamp", "seconds", "type", "state", "detail"]
    assert events["type"].iloc[0] == "ExecutionStarted" and events["type"].iloc[-1] == "ExecutionSucceeded"
    assert "TaskSubmitted" in set(events["type"]) and "runTask.sync" in " ".join(events["detail"])
    assert set(events[events["type"] == "TaskSubmitted"]["state"]) == {"RunJob"}
    recent = runs.executions(target, stack_b, since=since)
    assert list(recent["name"]) == ["hist-2", "hist-1"] and set(recent["status"]) == {"SUCCEEDED"}
    assert runs.logs(target, result.task_arn) == LINES.split("|")
    assert runs.logs(target, result, limit=1) == ["writing report"]
    fig = runs.timeline(recent)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["hist-1", "hist-2"]
    assert len(fig.axes[0].patches) >= 2


@pytest.mark.sandbox
def test_wait_for_next_returns_the_oldest_run_it_did_not_know(target, stack_b):
    known = set(runs.executions(target, stack_b)["arn"])
    first = runs.start(target, stack_b, name="next-1")
    runs.start(target, stack_b, name="next-2")
    found = runs.wait_for_next(target, stack_b, known, timeout=10, backoff=FAST)
    assert (found.arn, found.kind, found.name) == (first.arn, "execution", "next-1")
    assert (found.log_group, found.container_name) == (stack_b.log_group, stack_b.container_name)
    assert wait(target, found).ok
    wait(target, "arn:aws:states:us-east-1:123456789012:execution:runs-b:next-2")


@pytest.mark.sandbox
def test_wait_for_next_gives_up_at_its_deadline(target, stack_b):
    known = set(runs.executions(target, stack_b)["arn"])
    naps: list[float] = []
    # 1 s leaves room for the calls between naps on a loaded machine: the first three naps (0.26 s)
    # are not cut by the deadline; the last one is
    with pytest.raises(RunError, match="no new run of stack 'runs-b' started within timeout=1 s"):
        runs.wait_for_next(
            target, stack_b, known, timeout=1.0, backoff=FAST, sleep=lambda s: (naps.append(s), time.sleep(s))
        )
    assert naps[:3] == pytest.approx([0.05, 0.08, 0.128]) and sum(naps) <= 1.0 + 1e-9
    with pytest.raises(ValidationError, match="known="):
        runs.wait_for_next(target, stack_b, "arn:aws:states:us-east-1:123456789012:execution:runs-b:x")
    with pytest.raises(ValidationError, match="timeout="):
        runs.wait_for_next(target, stack_b, known, timeout=-1)


# ---- pattern A by hand ------------------------------------------------------------------------------
@pytest.mark.sandbox
def test_run_direct_success_and_client_token_dedup(target, stack_a):
    at = datetime(2030, 2, 1, 6, 0, tzinfo=UTC)
    result = runs.run_direct(target, stack_a, at=at, progress=False, backoff=FAST, timeout=30)
    assert result.ok and result.exit_code == 0 and result.execution_arn is None
    assert result.log_tail == LINES.split("|")
    assert (result.queue_seconds, result.run_seconds) == (4.0, 5.0)
    assert result.total_seconds == 10.0  # created -> stopped, with the 1 s stop
    again = runs.run_direct(target, stack_a, at=at, progress=False, backoff=FAST, timeout=30)
    assert again.task_arn == result.task_arn  # the same clientToken returns the same task


@pytest.mark.sandbox
def test_run_direct_runtask_failures_are_a_failed_result(target, stack_a, faults):
    faults(kind="runtask_failure", reason="RESOURCE:CPU", family=stack_a.family)
    result = runs.run_direct(target, stack_a, client_token="capacity-a", progress=False, backoff=FAST)
    assert result.status == "FAILED" and result.error == "RunTaskFailure"
    assert result.cause == "RESOURCE:CPU" and result.failures[0]["reason"] == "RESOURCE:CPU"
    assert result.task_arn is None and result.api_calls == 1


@pytest.mark.sandbox
def test_run_direct_exec_format_error(target, stack_a):
    arm = stack_a.replace(cpu_architecture="ARM64")
    stack.apply(target, arm)
    try:
        result = runs.run_direct(target, arm, client_token="arm-1", progress=False, backoff=FAST, timeout=30)
    finally:
        stack.apply(target, stack_a)
    assert result.status == "FAILED" and result.exit_code == 1
    assert result.stop_code == "EssentialContainerExited"
    assert result.log_tail == ["exec /app/job: exec format error"]


@pytest.mark.sandbox
def test_run_direct_index_without_the_platform_fails_the_pull(target, stack_a):
    arm = stack_a.replace(cpu_architecture="ARM64", image=stack_a.image_uri.replace(":latest", ":amd64-index"))
    stack.apply(target, arm)
    try:
        result = runs.run_direct(target, arm, client_token="arm-2", progress=False, backoff=FAST, timeout=30)
    finally:
        stack.apply(target, stack_a)
    assert result.status == "FAILED" and result.stop_code == "TaskFailedToStart"
    assert "descriptor matching platform 'linux/arm64'" in result.stopped_reason
    assert result.error == "TaskFailedToStart" and "CannotPullContainerError" in result.cause


@pytest.mark.sandbox
def test_executions_of_a_pattern_a_stack_are_its_tasks(target, stack_a):
    runs.run_direct(target, stack_a, client_token="list-a", progress=False, backoff=FAST, timeout=30)
    frame = runs.executions(target, stack_a)
    assert set(frame["kind"]) == {"task"} and "SUCCEEDED" in set(frame["status"])


# ---- pure parts and validation -----------------------------------------------------------------------
def test_backoff_grows_to_its_cap():
    delays = [d for d, _ in zip(Backoff().delays(), range(12), strict=False)]
    assert delays[0] == 0.5 and delays[1] == pytest.approx(0.8)
    assert all(b >= a for a, b in zip(delays, delays[1:], strict=False)) and max(delays) == 10.0
    assert Backoff().scaled(10).cap == 1.0
    with pytest.raises(ValidationError, match="cap"):
        Backoff(initial=2, cap=1)
    with pytest.raises(ValidationError, match="factor"):
        Backoff(factor=0.5)


def test_task_succeeded_needs_a_start_and_exit_zero_everywhere():
    ok = {"stopCode": "EssentialContainerExited", "containers": [{"exitCode": 0}, {"exitCode": 0}]}
    assert runs.task_succeeded(ok)
    assert runs.task_succeeded({"StopCode": "EssentialContainerExited", "Containers": [{"ExitCode": 0}]})
    assert not runs.task_succeeded({**ok, "containers": [{"exitCode": 0}, {"exitCode": 2}]})
    assert not runs.task_succeeded({"stopCode": "TaskFailedToStart", "containers": [{}]})
    assert not runs.task_succeeded({"stopCode": "EssentialContainerExited", "containers": [{}]})


def test_overlaps_are_found_and_shaded():
    t = datetime(2030, 1, 1, tzinfo=UTC)
    df = pd.DataFrame(
        [
            {"name": "a", "status": "SUCCEEDED", "start": t, "stop": t + timedelta(minutes=10)},
            {"name": "b", "status": "FAILED", "start": t + timedelta(minutes=5), "stop": t + timedelta(minutes=7)},
            {"name": "c", "status": "SUCCEEDED", "start": t + timedelta(minutes=20), "stop": t + timedelta(minutes=21)},
        ]
    )
    assert runs.overlaps(df) == [(t + timedelta(minutes=5), t + timedelta(minutes=7))]
    fig = runs.timeline(df)
    assert [tick.get_text() for tick in fig.axes[0].get_yticklabels()] == ["a", "b", "c"]
    assert "1 overlap" in fig.axes[0].get_title()
    with pytest.raises(ValidationError, match="columns"):
        runs.timeline(pd.DataFrame({"x": [1]}))


def test_summary_puts_runs_side_by_side_without_volatile_fields():
    ok = RunResult(
        status="SUCCEEDED",
        exit_code=0,
        stop_code="EssentialContainerExited",
        stopped_reason="Essential container in task exited",
        log_tail=["a", "b"],
        task_arn="arn:aws:ecs:us-east-1:123456789012:task/c/" + "0" * 32,
        total_seconds=1.5,
    )
    bad = RunResult(
        status="FAILED", exit_code=1, error="States.TaskFailed", log_tail=["exec /app/job: exec format error"]
    )
    table = runs.summary({"fixed": ok, "broken": bad})
    assert list(table.index) == ["fixed", "broken"] and tuple(table.columns) == runs.SUMMARY_COLUMNS
    assert table.loc["fixed", "log_tail"] == "a | b" and table.loc["broken", "exit_code"] == 1
    assert table.loc["fixed", "error"] is None and "0.0" not in table.to_string()
    assert "task_arn" not in table.columns and "total_seconds" not in table.columns
    assert list(runs.summary(ok, columns=["status", "task_arn"]).loc["run"]) == ["SUCCEEDED", ok.task_arn]
    with pytest.raises(ValidationError, match="results="):
        runs.summary([ok])
    with pytest.raises(ValidationError, match="columns="):
        runs.summary(ok, columns=["status", "nope"])


@pytest.mark.sandbox
def test_arguments_are_checked_before_any_call(target, stack_b, sandbox):
    sandbox.control("DELETE", "calls", {})
    with pytest.raises(ValidationError, match="run="):
        runs.wait(target, "arn:aws:states:us-east-1:123456789012:stateMachine:runs-b")
    with pytest.raises(ValidationError, match="timeout"):
        runs.wait(target, "arn:aws:states:us-east-1:123456789012:execution:runs-b:x", timeout=0)
    with pytest.raises(ValidationError, match="name"):
        runs.start(target, stack_b, name="has space")
    with pytest.raises(ValidationError, match="spec.pattern"):
        runs.start(target, stack_b.replace(pattern="A"))
    with pytest.raises(ValidationError, match="at="):
        runs.start(target, stack_b, at=datetime(2030, 1, 1))
    with pytest.raises(ValidationError, match="client_token"):
        runs.run_direct(target, stack_b, client_token="x" * 65)
    with pytest.raises(ValidationError, match="task="):
        runs.logs(target, "arn:aws:ecs:us-east-1:123456789012:task/nope")
    assert sandbox.control("GET", "calls", {})["total"] == 0


@pytest.mark.sandbox
def test_a_run_that_does_not_exist_is_named_in_a_run_error(target):
    execution = f"arn:aws:states:{target.region}:{target.account}:execution:nowhere:run-1"
    task = f"arn:aws:ecs:{target.region}:{target.account}:task/nowhere/0123456789abcdef0123456789abcdef"
    for call, arn in (
        (lambda: runs.wait(target, execution, progress=False, timeout=5), execution),
        (lambda: runs.history(target, execution), execution),
        (lambda: runs.logs(target, task), task),
    ):
        with pytest.raises(RunError, match=re.escape(arn) + r" was not found in this account and region \("):
            call()

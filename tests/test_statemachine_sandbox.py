"""The kit's state machine executed in the sandbox, in both query languages: retry then success, a
timed-out job caught and notified (the message received on an SQS subscription of the topic), and a
failed job retried when asked (States.TaskFailed) whose success is notified, run on Fargate Spot.

(Guard skips and job-failure notifications in JSONata run in tests/test_simulation_check.py; JSONPath guard
skips and failures in tests/test_runs.py.)
"""

from __future__ import annotations

import json
import time

import pytest
from tests.test_stack import make_spec

from sfnecs import runs
from sfnecs import statemachine as sm
from sfnecs.deploy import stack
from sfnecs.runs.inbox import Inbox

LANGUAGES = ("JSONata", "JSONPath")


def subscribed(target, spec) -> Inbox:
    """Apply the stack and subscribe an SQS queue to its topic."""
    stack.apply(target, spec)
    return Inbox.subscribe(target, spec)


def received(inbox: Inbox, timeout: float = 10.0) -> list[dict]:
    """The notifications on the queue (SNS envelopes), waiting until there is one."""
    deadline, bodies = time.monotonic() + timeout, []
    while not bodies:
        assert time.monotonic() < deadline, "no notification on the topic"
        bodies = inbox.read()
    return bodies


@pytest.fixture(scope="module", params=LANGUAGES)
def deployed(request, target):
    """A pattern-B stack in one query language, its topic subscribed by an SQS queue."""
    language = request.param
    spec = make_spec(
        target,
        f"sm-{language.lower()}",
        query_language=language,
        image="busybox",
        schedule_enabled=False,
        launch_retry_attempts=1,
        task_timeout_seconds=1,
    )
    inbox = subscribed(target, spec)
    yield spec, inbox
    inbox.close()
    stack.teardown(target, spec, delete_logs=True, delete_images=True)


@pytest.fixture(scope="module", params=LANGUAGES)
def retrying(request, target):
    """A pattern-B stack that retries a failed job once, notifies success and runs on Fargate Spot.

    The job retrier waits JOB_RETRY_INTERVAL_SECONDS (60, full jitter) on the sandbox clock: at most
    60 / SANDBOX_SPEED real seconds.
    """
    language = request.param
    spec = make_spec(
        target,
        f"smr-{language.lower()}",
        query_language=language,
        image="busybox",
        schedule_enabled=False,
        launch_retry_attempts=0,
        retry_job_failures=1,
        task_timeout_seconds=1800,  # two attempts, their retry wait and the alert fit the 7200 s default
        notify_success=True,
        capacity_provider_strategy="FARGATE_SPOT",
    )
    inbox = subscribed(target, spec)
    retrier = sm.build_definition(spec)["States"]["RunJob"]["Retry"][-1]  # as deployed
    assert retrier["ErrorEquals"] == ["States.TaskFailed"] and retrier["MaxAttempts"] == 1
    assert retrier["IntervalSeconds"] == sm.JOB_RETRY_INTERVAL_SECONDS
    yield spec, inbox
    inbox.close()
    stack.teardown(target, spec, delete_logs=True, delete_images=True)


def finished(target, arn: str, timeout: float = 30.0) -> dict:
    sfn, deadline = target.client("stepfunctions"), time.monotonic() + timeout
    while (d := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{arn} still RUNNING after {timeout} s"
        time.sleep(0.05)
    return d


def history_types(target, arn: str) -> list[str]:
    return [e["type"] for e in target.client("stepfunctions").get_execution_history(executionArn=arn)["events"]]


def test_a_throttled_launch_is_retried_then_succeeds(target, sandbox, deployed):
    spec, _ = deployed
    sandbox.control("POST", "faults", {"kind": "throttle", "family": spec.family, "count": 1})
    try:
        run = runs.start(target, spec, name=f"retry-{int(time.time() * 1000)}")
        done = finished(target, run.arn, timeout=40.0)  # the retrier waits up to 10 real seconds (FULL jitter)
    finally:
        sandbox.control("DELETE", "faults", {})
    assert done["status"] == "SUCCEEDED", done
    types = history_types(target, run.arn)
    assert types.count("TaskFailed") == 1 and types.count("TaskSucceeded") >= 1
    # a number in both languages (JSONPath's "$.Containers[0].ExitCode" names one node: the
    # sandbox's json_path repair, tests/test_sandbox_repairs.py)
    assert json.loads(done["output"])["ExitCode"] == 0


def test_a_hung_job_times_out_and_the_failure_reaches_the_topic(target, sandbox, deployed):
    spec, inbox = deployed
    sandbox.control("POST", "faults", {"kind": "hang", "family": spec.family, "count": 1})
    try:
        run = runs.start(target, spec, name=f"hang-{int(time.time() * 1000)}")
        done = finished(target, run.arn)
    finally:
        sandbox.control("DELETE", "faults", {})
    assert done["status"] == "FAILED" and "States.Timeout" in done["error"], done
    message = json.loads(received(inbox)[0]["Message"])
    assert message["execution"] == run.arn
    error = message["error"]
    assert error["Error"] == "States.Timeout", message


def test_a_failed_job_is_retried_when_asked_and_its_success_reaches_the_topic(target, sandbox, retrying):
    spec, inbox = retrying
    sandbox.control("POST", "faults", {"kind": "exit_code", "family": spec.family, "exit_code": 3, "count": 1})
    try:
        run = runs.start(target, spec, name=f"again-{int(time.time() * 1000)}")
        done = finished(target, run.arn)
    finally:
        sandbox.control("DELETE", "faults", {})
    assert done["status"] == "SUCCEEDED", done
    events = target.client("stepfunctions").get_execution_history(executionArn=run.arn)["events"]
    failed = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    assert [f["error"] for f in failed] == ["States.TaskFailed"]  # the first run exited 3 ...
    assert json.loads(failed[0]["cause"])["Containers"][0]["ExitCode"] == 3
    ran = [
        json.loads(e["taskSucceededEventDetails"]["output"])
        for e in events
        if e["type"] == "TaskSucceeded" and e["taskSucceededEventDetails"]["resourceType"] == "ecs"
    ]
    assert [(t["CapacityProviderName"], t["Containers"][0]["ExitCode"]) for t in ran] == [("FARGATE_SPOT", 0)]
    assert json.loads(done["output"])["ExitCode"] == 0  # ... the retry exited 0
    (note,) = received(inbox)
    assert note["Subject"] == f"sfnecs {spec.name}: job succeeded"
    message = json.loads(note["Message"])
    if spec.query_language == "JSONata":  # {"execution", "task": RunJob's output}
        assert message["execution"] == run.arn and message["task"]["ExitCode"] == 0
    else:  # RunJob's output itself (States.JsonToString($))
        assert message["ExitCode"] == 0 and message["TaskArn"] == ran[0]["TaskArn"]

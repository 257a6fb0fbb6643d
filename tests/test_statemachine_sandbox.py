"""The kit's state machine executed in the sandbox, in both query languages: retry then success, and a
timed-out job caught and notified (the message received on an SQS subscription of the topic).

(Guard skips and job-failure notifications in JSONata run in tests/test_replay.py; JSONPath guard
skips and failures in tests/test_runs.py.)
"""

from __future__ import annotations

import json
import time

import pytest

from sfnecs import runs, stack
from tests.test_stack import make_spec

LANGUAGES = ("JSONata", "JSONPath")


@pytest.fixture(scope="module", params=LANGUAGES)
def deployed(request, target):
    """A pattern-B stack in one query language, its topic subscribed by an SQS queue."""
    language = request.param
    spec = make_spec(target, f"sm-{language.lower()}", query_language=language, image="busybox",
                     schedule_enabled=False, launch_retry_attempts=1, task_timeout_seconds=1)
    stack.apply(target, spec)
    sqs = target.client("sqs")
    url = sqs.create_queue(QueueName=f"{spec.name}-inbox")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    target.client("sns").subscribe(TopicArn=spec.topic_arn, Protocol="sqs", Endpoint=queue)
    yield spec, url
    stack.teardown(target, spec)
    sqs.delete_queue(QueueUrl=url)


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
    # sandbox's json_path repair, tests/test_sandbox_fixes.py)
    assert json.loads(done["output"])["ExitCode"] == 0


def test_a_hung_job_times_out_and_the_failure_reaches_the_topic(target, sandbox, deployed):
    spec, url = deployed
    sandbox.control("POST", "faults", {"kind": "hang", "family": spec.family, "count": 1})
    try:
        run = runs.start(target, spec, name=f"hang-{int(time.time() * 1000)}")
        done = finished(target, run.arn)
    finally:
        sandbox.control("DELETE", "faults", {})
    assert done["status"] == "FAILED" and "States.Timeout" in done["error"], done
    sqs, deadline, bodies = target.client("sqs"), time.monotonic() + 10, []
    while not bodies:
        assert time.monotonic() < deadline, "no notification on the topic"
        bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url).get("Messages", [])]
    message = json.loads(bodies[0]["Message"])
    assert message["execution"] == run.arn
    error = message["error"]
    assert error["Error"] == "States.Timeout", message

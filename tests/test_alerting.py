"""Failures reach a person: pattern A's task-failure rule and both patterns' alarms, end to end in the
sandbox through boto3 (a queue subscribed to the alert topic stands in for the operator's inbox)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.test_stack import deployed, make_spec

from sfnecs.deploy import stack
from sfnecs.exceptions import ValidationError
from sfnecs.model import StackSpec
from sfnecs.model.alerting import (
    alarm_requests,
    rule_arn,
    task_failure_pattern,
    task_failure_transformer,
    topic_policy,
)
from sfnecs.runs.inbox import Inbox
from sfnecs.runs.launch import run_direct, start
from sfnecs.runs.waiting import wait


def poll(found: Callable[[], Any], timeout: float = 30.0) -> Any:
    """`found()` once it is truthy, or its last value when the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = found()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def collect(inbox: Inbox, want: Callable[[list[Any]], bool], timeout: float = 30.0) -> list[Any]:
    """Every message read from `inbox` until `want(messages)` holds or the deadline passes."""
    got: list[Any] = []

    def done() -> bool:
        got.extend(inbox.read())
        return want(got)

    poll(done, timeout)
    return got


def alarm_messages(messages: list[Any]) -> list[dict[str, Any]]:
    return [m for m in messages if isinstance(m, dict) and "AlarmName" in m]


def quiet_for(inbox: Inbox, virtual_seconds: float, sandbox: Any) -> list[Any]:
    """What arrives while the sandbox clock runs `virtual_seconds` (past a whole alarm period)."""
    end = sandbox.clock.now() + timedelta(seconds=virtual_seconds)
    poll(lambda: sandbox.clock.now() >= end, timeout=virtual_seconds)
    return inbox.read()


# ---- pure documents ------------------------------------------------------------------------------------
def test_the_rule_matches_every_stop_that_is_not_a_clean_exit_of_this_family():
    spec = StackSpec("docs", pattern="A")
    pattern = task_failure_pattern(spec)
    assert pattern["source"] == ["aws.ecs"] and pattern["detail-type"] == ["ECS Task State Change"]
    detail = pattern["detail"]
    assert detail["clusterArn"] == ["arn:aws:ecs:us-east-1:123456789012:cluster/docs"]
    assert detail["taskDefinitionArn"] == [{"prefix": "arn:aws:ecs:us-east-1:123456789012:task-definition/docs-job:"}]
    assert detail["lastStatus"] == ["STOPPED"]
    assert detail["$or"] == [
        {"stopCode": [{"anything-but": "EssentialContainerExited"}]},
        {"containers": {"exitCode": [{"anything-but": 0}]}},
        {"containers": {"exitCode": [{"exists": False}]}},
    ]
    transformer = task_failure_transformer(spec)
    template = json.loads(transformer["InputTemplate"])  # a JSON string: EventBridge sends it as text
    assert all(f"<{name}>" in template for name in transformer["InputPathsMap"])
    assert "sfnecs stack docs" in template and "/ecs/v2/clusters/docs/tasks" in template


def test_alarms_and_topic_policy_follow_the_pattern_and_name_only_this_stack():
    a, b = StackSpec("al", pattern="A"), StackSpec("bl", pattern="B")
    assert [x["AlarmName"] for x in alarm_requests(a)] == ["al-dlq-messages"]
    assert [x["MetricName"] for x in alarm_requests(b)] == [
        "ApproximateNumberOfMessagesVisible",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "ExecutionsAborted",
    ]
    assert all(x["AlarmActions"] == [b.topic_arn] and x["Threshold"] == 0.0 for x in alarm_requests(b))
    assert alarm_requests(b.replace(notify_failure=False)) == []
    events, alarms = topic_policy(a)["Statement"]
    assert events["Principal"] == {"Service": "events.amazonaws.com"} and events["Action"] == "sns:Publish"
    assert events["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arn(a)}}
    assert alarms["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:al-dlq-messages"
    ]
    assert [s["Sid"] for s in topic_policy(b)["Statement"]] == ["StackAlarms"]  # B has no rule


def test_notify_fields_are_checked_at_the_door():
    with pytest.raises(ValidationError, match="notify_email='ops' is not valid: an e-mail address"):
        StackSpec("door", notify_email="ops")
    with pytest.raises(ValidationError, match="notify_topic_arn=.* an SNS topic ARN in us-east-1"):
        StackSpec("door", notify_topic_arn="arn:aws:sns:eu-west-1:123456789012:alerts")
    with pytest.raises(ValidationError, match="notify_email=.* '' with notify_topic_arn"):
        StackSpec("door", notify_email="a@example.com", notify_topic_arn="arn:aws:sns:us-east-1:123456789012:ops")
    theirs = StackSpec("door", notify_topic_arn="arn:aws:sns:us-east-1:123456789012:ops")
    assert theirs.topic_arn == "arn:aws:sns:us-east-1:123456789012:ops"
    assert "AWS::SNS::Topic" not in {d.kind for d in stack.desired_resources(theirs)}


# ---- pattern A end to end ------------------------------------------------------------------------------
@pytest.mark.sandbox
def test_pattern_a_a_failed_task_sends_one_readable_message_and_a_clean_one_none(target, sandbox):
    spec = make_spec(target, "alerta", pattern="A")
    with deployed(target, spec, sandbox=sandbox):
        inbox = Inbox.subscribe(target, spec, raw=True)
        try:
            assert run_direct(target, spec, client_token="clean", timeout=120, progress=False).ok
            assert quiet_for(inbox, 90, sandbox) == []
            sandbox.faults.add(kind="exit_code", exit_code=3, family=spec.family)
            failed = run_direct(target, spec, client_token="fails", timeout=120, progress=False)
            assert failed.status == "FAILED"
            messages = collect(inbox, bool)
            messages += quiet_for(inbox, 90, sandbox)
            assert len(messages) == 1, messages
            text = messages[0]
            assert text.startswith("sfnecs stack alerta: a job task stopped without a clean exit.")
            for part in (
                "Stop code: EssentialContainerExited",
                "Exit code of job: 3.",
                failed.task_arn,
                "https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/alerta/tasks?region=us-east-1",
            ):
                assert part in text
        finally:
            inbox.close()


@pytest.mark.sandbox
def test_pattern_a_a_task_that_never_starts_alerts_without_an_exit_code(target, sandbox):
    spec = make_spec(target, "alertpull", pattern="A")
    with deployed(target, spec, sandbox=sandbox):
        inbox = Inbox.subscribe(target, spec, raw=True)
        try:
            sandbox.faults.add(kind="pull_error", family=spec.family, message="CannotPullContainerError: not found")
            assert run_direct(target, spec, client_token="pull", timeout=120, progress=False).status == "FAILED"
            (text,) = collect(inbox, bool)
            assert "Stop code: TaskFailedToStart. Reason: CannotPullContainerError: not found." in text
            assert "Exit code of job: ." in text  # no exit code: the variable is left out
        finally:
            inbox.close()


@pytest.mark.sandbox
def test_the_dlq_alarm_fires_after_the_schedule_fails_to_start_a_run(target, sandbox):
    # a rate schedule invokes its target once at creation; RunTask throttled and no retry: dead letter
    spec = make_spec(target, "alertdlq", pattern="A", schedule_expression="rate(1 hour)", retry_attempts=0)
    sandbox.faults.add(kind="throttle", count=5)
    with deployed(target, spec, sandbox=sandbox):
        inbox = Inbox.subscribe(target, spec, raw=True)
        try:
            (alarm,) = alarm_messages(collect(inbox, alarm_messages))
            assert alarm["AlarmName"] == "alertdlq-dlq-messages" and alarm["NewStateValue"] == "ALARM"
            assert alarm["Trigger"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
            assert alarm["Trigger"]["Dimensions"] == [{"value": spec.dlq, "name": "QueueName"}]
            state = target.client("cloudwatch").describe_alarms(AlarmNames=["alertdlq-dlq-messages"])["MetricAlarms"]
            assert state[0]["StateValue"] == "ALARM"  # the message stays: so does the alarm
        finally:
            inbox.close()


# ---- pattern B end to end ------------------------------------------------------------------------------
def _execution(target: Any, spec: StackSpec, minutes: int) -> Any:
    return start(target, spec, at=datetime(2030, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes))


@pytest.mark.sandbox
def test_pattern_b_a_failed_run_sends_its_diagnosis_and_the_failed_alarm(target, sandbox):
    spec = make_spec(target, "alertb")
    with deployed(target, spec, sandbox=sandbox):
        inbox = Inbox.subscribe(target, spec, raw=True)
        try:
            assert wait(target, _execution(target, spec, 0), timeout=120, progress=False).ok
            assert quiet_for(inbox, 90, sandbox) == []
            sandbox.faults.add(kind="exit_code", exit_code=3, family=spec.family)
            assert wait(target, _execution(target, spec, 1), timeout=120, progress=False).status == "FAILED"
            messages = collect(inbox, lambda got: len(got) >= 2)
            diagnosis = [m for m in messages if "AlarmName" not in m]
            assert len(diagnosis) == 1 and diagnosis[0]["error"]["Error"] == "States.TaskFailed"
            assert [(a["AlarmName"], a["NewStateValue"]) for a in alarm_messages(messages)] == [
                ("alertb-executions-failed", "ALARM")
            ]
        finally:
            inbox.close()


@pytest.mark.sandbox
def test_pattern_b_aborted_and_timed_out_executions_fire_their_alarms(target, sandbox):
    spec = make_spec(target, "alertbx")
    with deployed(target, spec, sandbox=sandbox):
        inbox = Inbox.subscribe(target, spec, raw=True)
        sfn = target.client("stepfunctions")
        try:
            sandbox.faults.add(kind="hang", family=spec.family)
            hung = _execution(target, spec, 0)
            poll(lambda: sandbox.fargate.in_cluster(spec.cluster_arn))
            sfn.stop_execution(executionArn=hung.arn, cause="operator stopped it")
            aborted = alarm_messages(collect(inbox, alarm_messages))
            assert [a["AlarmName"] for a in aborted] == ["alertbx-executions-aborted"]
            # A valid spec's machine timeout covers every attempt (StackSpec refuses a shorter one),
            # so the machine is made to time out out of band: one Wait longer than its TimeoutSeconds.
            definition = {
                "StartAt": "W",
                "TimeoutSeconds": 1,
                "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}},
            }
            sfn.update_state_machine(stateMachineArn=spec.state_machine_arn, definition=json.dumps(definition))
            timed_out = sfn.start_execution(stateMachineArn=spec.state_machine_arn)["executionArn"]
            assert poll(lambda: sfn.describe_execution(executionArn=timed_out)["status"] == "TIMED_OUT", 20)
            late = alarm_messages(collect(inbox, alarm_messages))
            assert [a["AlarmName"] for a in late] == ["alertbx-executions-timed-out"]
        finally:
            inbox.close()


# ---- verify and audit ----------------------------------------------------------------------------------
@pytest.mark.sandbox
def test_verify_follows_the_path_from_a_failure_to_a_person(target, sandbox):
    from sfnecs.sandbox.notifications import confirm_email  # the recipient's click, which only the sandbox can make

    spec = make_spec(target, "alertver", pattern="A", notify_email="ops@example.com")
    with deployed(target, spec, sandbox=sandbox):

        def rows() -> dict[str, tuple[str, str]]:
            checks = stack.verify(target, spec).checks
            return {f"{c.check} {c.resource}": (c.status, c.detail) for c in checks if c.check in _ALERTING}

        found = rows()
        assert found["e-mail subscription confirmed ops@example.com"][0] == "fail"
        assert "pending confirmation" in found["e-mail subscription confirmed ops@example.com"][1]
        assert found[f"topic policy lets the alerts publish {spec.topic_arn}"][0] == "pass"
        assert found["task failure rule alertver-task-failed"][0] == "pass"
        assert found["alarm alertver-dlq-messages"][0] == "pass"
        assert confirm_email(spec.topic_arn, "ops@example.com")
        assert rows()["e-mail subscription confirmed ops@example.com"][0] == "pass"
        # a policy without the rule's statement: verify says the alerts would be dropped
        sns = target.client("sns")
        sns.set_topic_attributes(
            TopicArn=spec.topic_arn,
            AttributeName="Policy",
            AttributeValue=json.dumps({"Version": "2012-10-17", "Id": "mine", "Statement": []}),
        )
        status, detail = rows()[f"topic policy lets the alerts publish {spec.topic_arn}"]
        assert status == "fail" and "rule/alertver-task-failed" in detail
        target.client("events").disable_rule(Name="alertver-task-failed")
        assert rows()["task failure rule alertver-task-failed"] == ("fail", "state DISABLED")


_ALERTING = {
    "failures alert someone",
    "alert topic exists",
    "topic policy lets the alerts publish",
    "alert topic has a subscriber",
    "e-mail subscription confirmed",
    "task failure rule",
    "alarm",
}


@pytest.mark.sandbox
def test_audit_reports_the_alarms_in_alarm(target, sandbox):
    from sfnecs.runs.audit import audit

    spec = make_spec(target, "alertaud", pattern="A", schedule_expression="rate(1 hour)", retry_attempts=0)
    sandbox.faults.add(kind="throttle", count=5)
    with deployed(target, spec, sandbox=sandbox):
        cw = target.client("cloudwatch")
        alarm = "alertaud-dlq-messages"
        poll(lambda: cw.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"] == "ALARM")
        report = audit(target, spec, hours=1)
        assert report.alarms[alarm]["state"] == "ALARM"
        assert any(f.startswith(f"alarm {alarm} is in ALARM") for f in report.flags)
        assert report.to_dict()["alarms"][alarm]["state"] == "ALARM"
        assert dict(report.to_frame().values.tolist())["alarms in ALARM"] == "1"


def test_an_email_needs_a_topic_of_the_stacks_own():
    from sfnecs.deploy.verify import check_spec

    class Here:
        region, account = "us-east-1", "123456789012"

    theirs = StackSpec("door", notify_topic_arn="arn:aws:sns:us-east-1:123456789012:ops")
    with pytest.raises(ValidationError, match="email='ops@example.com' is not valid: None: the stack has no topic"):
        check_spec(Here(), theirs, "ops@example.com")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="no topic of its own"):
        check_spec(Here(), StackSpec("door", pattern="A", notify_failure=False), "ops@example.com")  # type: ignore[arg-type]
    assert check_spec(Here(), StackSpec("door", pattern="A"), "ops@example.com").name == "door"  # type: ignore[arg-type]

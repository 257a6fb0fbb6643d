"""The sandbox's ECS task events (sandbox.task_events), EventBridge delivery (sandbox.eventbridge) and SNS
(sandbox.notifications): the event shape against the ECS documentation, and each moto repair shown by
the defect coming back without it."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.test_alerting import collect, poll
from tests.test_stack import deployed, make_spec

from sfnecs.model.alerting import service_may_publish, task_failure_pattern
from sfnecs.runs.inbox import Inbox
from sfnecs.runs.launch import run_direct
from sfnecs.sandbox.eventbridge import REPAIRS as EVENT_REPAIRS
from sfnecs.sandbox.eventbridge import fill_template, flatten_event
from sfnecs.sandbox.notifications import PENDING, confirm_email
from sfnecs.sandbox.notifications import REPAIRS as SNS_REPAIRS

#: the example event of the ECS developer guide, with its URL
DOCUMENTED = json.loads((Path(__file__).parent / "golden" / "events" / "ecs_task_state_change.json").read_text())
ISO_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
ISO_MILLIS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
#: documented container fields the sandbox does not emulate, and why
NOT_EMULATED = {
    "imageDigest": "the emulator does not resolve the image's digest",
    "runtimeId": "no container runtime: there is no Docker id",
}


@contextlib.contextmanager
def without(name: str):
    repair = {**EVENT_REPAIRS, **SNS_REPAIRS}[name]
    repair.revert()
    try:
        yield
    finally:
        repair.apply()


def _same_shape(ours: Any, documented: Any, path: str) -> None:
    """Every documented field is in ours with the same JSON type (recursively, first list element)."""
    assert type(ours) is type(documented), f"{path}: {type(ours).__name__} vs documented {type(documented).__name__}"
    if isinstance(documented, dict):
        for key, value in documented.items():
            if key in NOT_EMULATED:
                continue
            assert key in ours, f"{path}.{key} missing"
            _same_shape(ours[key], value, f"{path}.{key}")
    elif isinstance(documented, list) and documented and ours:
        _same_shape(ours[0], documented[0], f"{path}[0]")


# ---- the event -----------------------------------------------------------------------------------------
@pytest.mark.sandbox
def test_a_task_emits_each_change_with_the_documented_shape(target, sandbox):
    spec = make_spec(target, "evshape", pattern="A")
    with deployed(target, spec, sandbox=sandbox):
        result = run_direct(target, spec, client_token="shape", timeout=120, progress=False)
        sent = poll(
            lambda: (
                [e for e in sandbox.task_events.sent if e["resources"] == [result.task_arn]][-1:]
                and [e for e in sandbox.task_events.sent if e["resources"] == [result.task_arn]]
            )
        )
        assert [(e["detail"]["lastStatus"], e["detail"]["desiredStatus"]) for e in sent] == [
            ("PROVISIONING", "RUNNING"),
            ("PENDING", "RUNNING"),
            ("RUNNING", "RUNNING"),
            ("DEPROVISIONING", "STOPPED"),
            ("STOPPED", "STOPPED"),
        ]
        assert [e["detail"]["version"] for e in sent] == [1, 2, 3, 4, 5]  # orders them ("Handling ECS events")
        running, documented = sent[2], DOCUMENTED["event"]
        assert set(running) == set(documented)
        _same_shape(running, documented, "event")
        assert (running["version"], running["detail-type"], running["source"]) == (
            "0",
            "ECS Task State Change",
            "aws.ecs",
        )
        assert ISO_SECONDS.fullmatch(running["time"]) and running["resources"] == [running["detail"]["taskArn"]]
        detail = running["detail"]
        for key in ("createdAt", "connectivityAt", "pullStartedAt", "pullStoppedAt", "startedAt", "updatedAt"):
            assert ISO_MILLIS.fullmatch(detail[key]), key  # ISO strings in events, numbers in DescribeTasks
        assert ISO_MILLIS.fullmatch(documented["detail"]["createdAt"])
        assert (detail["launchType"], detail["connectivity"], detail["group"]) == (
            "FARGATE",
            "CONNECTED",
            f"family:{spec.family}",
        )
        assert detail["attachments"][0]["type"] == documented["detail"]["attachments"][0]["type"] == "eni"
        stopped = sent[-1]["detail"]
        assert (stopped["stopCode"], stopped["stoppedReason"], stopped["containers"][0]["exitCode"]) == (
            "EssentialContainerExited",
            "Essential container in task exited",
            0,
        )
        assert ISO_MILLIS.fullmatch(stopped["stoppedAt"])


# ---- the repairs ----------------------------------------------------------------------------------------
STOPS = {
    "clean": {
        "lastStatus": "STOPPED",
        "stopCode": "EssentialContainerExited",
        "containers": [{"name": "job", "exitCode": 0}],
    },
    "exit 3": {
        "lastStatus": "STOPPED",
        "stopCode": "EssentialContainerExited",
        "containers": [{"name": "job", "exitCode": 3}],
    },
    "no exit code": {"lastStatus": "STOPPED", "stopCode": "EssentialContainerExited", "containers": [{"name": "job"}]},
    "never started": {"lastStatus": "STOPPED", "stopCode": "TaskFailedToStart", "containers": [{"name": "job"}]},
    "spot": {"lastStatus": "STOPPED", "stopCode": "SpotInterruption", "containers": [{"name": "job", "exitCode": 143}]},
}


def _matches(pattern: dict[str, Any], spec: Any) -> dict[str, bool]:
    from moto.events.models import EventPattern

    compiled = EventPattern.load(json.dumps(pattern))
    base = {
        "clusterArn": spec.cluster_arn,
        "taskDefinitionArn": f"{spec.arn('ecs', 'task-definition')}/{spec.family}:7",
    }
    return {
        name: compiled.matches_event(
            {"source": "aws.ecs", "detail-type": "ECS Task State Change", "detail": {**base, **d}}
        )
        for name, d in STOPS.items()
    }


@pytest.mark.sandbox
def test_eventbridge_arrays_repair(target):
    spec = make_spec(target, "evarrays", pattern="A")
    pattern = task_failure_pattern(spec)
    expected = {"clean": False, "exit 3": True, "no exit code": True, "never started": True, "spot": True}
    assert _matches(pattern, spec) == expected
    with without("eventbridge_arrays"):
        # moto does not look inside `containers`: exists:false holds for every event, a clean exit alerts
        assert _matches(pattern, spec)["clean"] is True
    assert flatten_event({"d": {"c": [{"x": 1}, {"x": 2, "y": "a"}]}}) == {"d.c.x": [1, 2], "d.c.y": ["a"]}


def test_the_transformer_inserts_values_raw_in_strings_as_json_elsewhere_and_leaves_missing_ones_out():
    values = {"s": 'say "hi"', "n": 3, "o": {"a": 1}}
    declared = {"s", "n", "o", "gone"}
    assert fill_template('"<s> / <n> / <gone> / <o>"', values, declared) == '"say "hi" / 3 /  / {"a": 1}"'
    assert fill_template('{"s": <s>, "n": <n>, "k": "<n>", "x": <other>}', values, declared) == (
        '{"s": "say \\"hi\\"", "n": 3, "k": "3", "x": <other>}'
    )


@pytest.mark.sandbox
def test_eventbridge_targets_repair(target, sandbox):
    events, sns = target.client("events"), target.client("sns")
    topic = sns.create_topic(Name="evtargets")["TopicArn"]
    rule = events.put_rule(Name="evtargets", EventPattern=json.dumps({"source": ["sfnecs.test"]}))["RuleArn"]
    events.put_targets(
        Rule="evtargets",
        Targets=[
            {
                "Id": "t",
                "Arn": topic,
                "InputTransformer": {
                    "InputPathsMap": {"who": "$.detail.who", "gone": "$.detail.none"},
                    "InputTemplate": '"<who> says <gone>hi"',
                },
            }
        ],
    )
    spec = type("S", (), {"name": "evtargets", "topic_arn": topic})()
    inbox = Inbox.subscribe(target, spec, raw=True)  # type: ignore[arg-type]

    def put() -> None:
        events.put_events(Entries=[{"Source": "sfnecs.test", "DetailType": "t", "Detail": json.dumps({"who": "ops"})}])

    try:
        put()  # the topic keeps SNS's default policy: EventBridge may not publish to it
        assert inbox.read() == []
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": topic,
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule}},
                }
            ],
        }
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))
        put()
        assert collect(inbox, bool) == ["ops says hi"]
        events.disable_rule(Name="evtargets")
        put()
        assert inbox.read() == []  # a disabled rule matches nothing
        events.enable_rule(Name="evtargets")
        with without("eventbridge_targets"), pytest.raises(ClientError, match="Internal Server Error"):
            put()  # moto cannot deliver to a topic: NotImplementedError, HTTP 500
    finally:
        inbox.close()
        events.remove_targets(Rule="evtargets", Ids=["t"])
        events.delete_rule(Name="evtargets")
        sns.delete_topic(TopicArn=topic)


@pytest.mark.sandbox
def test_sns_pending_email_repair(target):
    sns = target.client("sns")
    topic = sns.create_topic(Name="evpending")["TopicArn"]
    try:
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
        (sub,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert sub["SubscriptionArn"] == PENDING  # nobody clicked the link yet
        assert confirm_email(topic, "ops@example.com")
        (sub,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert sub["SubscriptionArn"].startswith("arn:aws:sns:")
        with without("sns_pending_email"):
            sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="late@example.com")
            late = [
                s
                for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
                if s["Endpoint"] == "late@example.com"
            ]
            assert late[0]["SubscriptionArn"].startswith("arn:")  # moto: confirmed without anyone's click
    finally:
        sns.delete_topic(TopicArn=topic)


def test_a_service_publishes_only_where_the_topic_policy_names_it_and_its_source():
    topic, rule = "arn:aws:sns:us-east-1:123456789012:t", "arn:aws:events:us-east-1:123456789012:rule/r"
    allow = {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic,
    }
    scoped = {**allow, "Condition": {"ArnEquals": {"aws:SourceArn": rule}}}
    context = {"aws:SourceArn": rule, "aws:SourceAccount": "123456789012"}
    assert service_may_publish({"Statement": [scoped]}, topic, "events.amazonaws.com", context)
    assert not service_may_publish(
        {"Statement": [scoped]}, topic, "events.amazonaws.com", {**context, "aws:SourceArn": rule + "x"}
    )
    assert not service_may_publish({"Statement": [scoped]}, topic, "cloudwatch.amazonaws.com", context)
    deny = {**allow, "Effect": "Deny"}
    assert not service_may_publish({"Statement": [scoped, deny]}, topic, "events.amazonaws.com", context)
    owner = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": ["SNS:Publish"],
        "Resource": topic,
        "Condition": {"StringEquals": {"AWS:SourceOwner": "123456789012"}},
    }
    assert not service_may_publish({"Statement": [owner]}, topic, "events.amazonaws.com", context)
    assert service_may_publish(
        {"Statement": [owner]},
        topic,
        "cloudwatch.amazonaws.com",
        {**context, "AWS:SourceOwner": "123456789012"},
        as_owner=True,
    )

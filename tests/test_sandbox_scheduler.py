"""The scheduler clock fires schedules and rules on virtual time, with injected at-least-once effects."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from tests.roles import open_role
from tests.test_sandbox import ACCOUNT, REGION, register, wait_for

ROLE = f"arn:aws:iam::{ACCOUNT}:role/sched"


@pytest.fixture(scope="module", autouse=True)
def _roles(sandbox):
    """The role the schedules name (the sandbox enforces IAM on AWS's behalf: roles must exist)."""
    open_role(sandbox.client("iam"), "sched")


@pytest.fixture
def paused(sandbox):
    """A sandbox with a paused clock at a known instant, schedules and deliveries forgotten after."""
    sandbox.clock.pause()
    start = sandbox.clock.now()
    # align to the next whole hour so cron fire times are easy to count
    aligned = (start + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    sandbox.clock.advance((aligned - start).total_seconds())
    yield sandbox
    sched = sandbox.client("scheduler")
    for s in sched.list_schedules()["Schedules"]:
        sched.delete_schedule(Name=s["Name"])
    sandbox.scheduler.reset()
    sandbox.clock.resume()


def step(sandbox, minutes: int, every: int = 1) -> None:
    for _ in range(minutes // every):
        sandbox.clock.advance(minutes=every)
        sandbox.tick()


def pass_machine(sandbox, name: str) -> str:
    defn = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    return sandbox.client("stepfunctions").create_state_machine(name=name, definition=json.dumps(defn), roleArn=ROLE)[
        "stateMachineArn"
    ]


def executions(sandbox, sm: str) -> list[dict]:
    sfn = sandbox.client("stepfunctions")
    return [
        sfn.describe_execution(executionArn=e["executionArn"])
        for e in sfn.list_executions(stateMachineArn=sm)["executions"]
    ]


def test_cron_schedule_starts_executions_with_scheduled_time_input(paused):
    sm = pass_machine(paused, "sched-cron")
    paused.client("scheduler").create_schedule(
        Name="every-5",
        ScheduleExpression="cron(0/5 * * * ? *)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": sm, "RoleArn": ROLE, "Input": json.dumps({"t": "<aws.scheduler.scheduled-time>"})},
    )
    t0 = paused.clock.now()
    paused.tick()  # the scheduler notices the new schedule
    step(paused, 60)
    runs = wait_for(lambda: len(ex := executions(paused, sm)) == 12 and ex)
    times = sorted(json.loads(e["input"])["t"] for e in runs)
    expected = [(t0 + timedelta(minutes=5 * k)).strftime("%Y-%m-%dT%H:%M:%SZ") for k in range(1, 13)]
    assert times == expected


def test_time_zone_is_honoured(paused):
    sm = pass_machine(paused, "sched-tz")
    now = paused.clock.now()
    tokyo_hour = (now.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo")) + timedelta(hours=1)).hour
    paused.client("scheduler").create_schedule(
        Name="tokyo",
        ScheduleExpression=f"cron(0 {tokyo_hour} * * ? *)",
        ScheduleExpressionTimezone="Asia/Tokyo",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": sm, "RoleArn": ROLE, "Input": json.dumps({"t": "<aws.scheduler.scheduled-time>"})},
    )
    paused.tick()
    step(paused, 120, every=10)
    runs = wait_for(lambda: executions(paused, sm))
    assert [json.loads(e["input"])["t"] for e in runs] == [(now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")]


def test_flexible_window_delays_inside_the_window(paused):
    sm = pass_machine(paused, "sched-flex")
    paused.client("scheduler").create_schedule(
        Name="flex",
        ScheduleExpression="cron(0 * * * ? *)",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        Target={"Arn": sm, "RoleArn": ROLE},
    )
    paused.tick()
    step(paused, 200, every=1)  # three firings, each up to 15 minutes late
    delivered = [d for d in paused.scheduler.deliveries if d.target_arn == sm]
    assert len(delivered) == 3
    offsets = [(d.due - d.scheduled_time).total_seconds() for d in delivered]
    assert all(0 <= o < 15 * 60 for o in offsets) and len(set(offsets)) == 3


def test_injected_duplicates_deliver_twice(paused):
    sm = pass_machine(paused, "sched-dup")
    t0 = paused.clock.now()
    dup = (t0 + timedelta(minutes=10)).isoformat()
    paused.control("POST", "scheduler", {"duplicate_times": [dup], "copies": 3})
    paused.client("scheduler").create_schedule(
        Name="dup",
        ScheduleExpression="cron(0/5 * * * ? *)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": sm, "RoleArn": ROLE},
    )
    paused.tick()
    step(paused, 20)
    assert len(wait_for(lambda: len(ex := executions(paused, sm)) == 6 and ex)) == 6  # 4 firings, one of them x3
    dups = [d for d in paused.scheduler.deliveries if d.duplicate]
    assert len(dups) == 2 and {d.scheduled_time.isoformat() for d in dups} == {dup}


def test_ecs_target_runs_tasks_and_failures_count_as_delivered(paused, target):
    ecs = target.client("ecs")
    ecs.create_cluster(clusterName="sched")
    subnet = target.client("ec2").describe_subnets()["Subnets"][0]["SubnetId"]
    td = register(target, "sched-direct")
    target.control("POST", "faults", {"kind": "runtask_failure", "family": "sched-direct"})
    paused.client("scheduler").create_schedule(
        Name="direct",
        ScheduleExpression="cron(0/30 * * * ? *)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/sched",
            "RoleArn": ROLE,
            "EcsParameters": {
                "TaskDefinitionArn": td,
                "LaunchType": "FARGATE",
                "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": [subnet], "AssignPublicIp": "ENABLED"}},
            },
        },
    )
    paused.tick()
    step(paused, 60, every=5)
    direct = [d for d in paused.scheduler.deliveries if "cluster/sched" in d.target_arn]
    assert [d.outcome for d in direct] == ["delivered", "delivered"]  # the failed launch looks delivered
    assert direct[0].result["failures"][0]["reason"] == "RESOURCE:MEMORY" and direct[0].result["taskArns"] == []
    assert len(direct[1].result["taskArns"]) == 1


def test_failed_delivery_retries_then_lands_in_the_dlq(paused):
    sqs = paused.client("sqs")
    url = sqs.create_queue(QueueName="sched-dlq")["QueueUrl"]
    dlq = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    missing = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:does-not-exist"
    paused.client("scheduler").create_schedule(
        Name="broken",
        ScheduleExpression="cron(0 * * * ? *)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": missing,
            "RoleArn": ROLE,
            "DeadLetterConfig": {"Arn": dlq},
            "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
        },
    )
    paused.tick()
    step(paused, 70)
    outcomes = [d.outcome for d in paused.scheduler.deliveries if d.target_arn == missing]
    assert outcomes == ["retrying", "retrying", "dead-lettered"]
    msg = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
    assert msg["MessageAttributes"]["EXHAUSTED_RETRY_CONDITION"]["StringValue"] == "MaximumRetryAttempts"
    assert msg["MessageAttributes"]["TARGET_ARN"]["StringValue"] == missing


def test_legacy_scheduled_rule_fires_in_utc(paused):
    sm = pass_machine(paused, "sched-rule")
    events = paused.client("events")
    events.put_rule(Name="legacy", ScheduleExpression="cron(0/15 * * * ? *)")
    events.put_targets(Rule="legacy", Targets=[{"Id": "1", "Arn": sm, "RoleArn": ROLE}])
    paused.tick()
    step(paused, 60)
    assert len(wait_for(lambda: len(ex := executions(paused, sm)) == 4 and ex)) == 4
    events.remove_targets(Rule="legacy", Ids=["1"])
    events.delete_rule(Name="legacy")


def test_rate_schedule_fires_at_creation_then_every_period(paused):
    sm = pass_machine(paused, "sched-rate")
    paused.clock.advance(minutes=7)  # not aligned to anything: rate periods count from creation
    created = paused.clock.now()
    paused.client("scheduler").create_schedule(
        Name="rate",
        ScheduleExpression="rate(10 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": sm, "RoleArn": ROLE},
    )
    paused.tick()
    step(paused, 30)
    times = [d.scheduled_time for d in paused.scheduler.deliveries if d.target_arn == sm]
    assert times == [created + timedelta(minutes=m) for m in (0, 10, 20, 30)]


def test_bad_injection_plan_is_refused(paused):
    from sfnecs.exceptions import ValidationError

    with pytest.raises(ValidationError, match="duplicate_probability=1.5 is not valid"):
        paused.scheduler.configure(duplicate_probability=1.5)


def test_a_schedule_created_again_under_its_old_name_is_a_new_schedule(paused):
    """Deleted, then created again: it fires as a new rate schedule does, not once per time it missed."""
    sm = pass_machine(paused, "sched-again")
    sched = paused.client("scheduler")
    create = dict(
        Name="again",
        ScheduleExpression="rate(10 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": sm, "RoleArn": ROLE},
    )
    sched.create_schedule(**create)
    paused.tick()
    step(paused, 20)  # fires at creation, +10, +20
    sched.delete_schedule(Name="again")
    step(paused, 60)  # gone: nothing fires
    recreated = paused.clock.now()
    sched.create_schedule(**create)
    paused.tick()
    step(paused, 10)  # fires at its own creation and 10 minutes later
    times = [d.scheduled_time for d in paused.scheduler.deliveries if d.target_arn == sm]
    assert len(times) == 5 and times[3:] == [recreated, recreated + timedelta(minutes=10)]

"""StopTask in the sandbox follows the container: a job that traps SIGTERM exits 143 at once, a PID 1
without a handler is SIGKILLed after its stopTimeout and exits 137 (facts: stop-task-signals, exit-code-signals)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.test_sandbox import LOG_GROUP, ensure_log_group, register, wait_for

from sfnecs.sandbox.fargate import ContainerPlan, EmulatedTask, job_from_container

T0 = datetime(2027, 3, 10, 17, 30, tzinfo=UTC)


def _task(**container: object) -> EmulatedTask:
    plan = ContainerPlan(name="job", image="x", essential=True, duration=600.0, exit_code=0, **container)  # type: ignore[arg-type]
    return EmulatedTask(
        arn="arn:aws:ecs:us-east-1:123456789012:task/c/t", task_id="t", cluster_arn="c", task_definition_arn="d",
        family="f", region="us-east-1", account="123456789012", cpu="256", memory="512", architecture="X86_64",
        group="g", started_by="", launch_type="FARGATE", platform_version="1.4.0", overrides={}, tags=[],
        attachments=[], containers=[plan], created_at=T0,
    )  # fmt: skip


def _at(task: EmulatedTask, seconds: float) -> dict:
    return task.describe(T0 + timedelta(seconds=seconds))


@pytest.mark.parametrize(
    ("container", "stopped_after", "exit_code"),
    [
        ({}, 1.0, 143),
        ({"traps_sigterm": False}, 31.0, 137),
        ({"traps_sigterm": False, "stop_timeout": 90.0}, 91.0, 137),
    ],
    ids=["traps SIGTERM", "no handler, default stopTimeout", "no handler, stopTimeout 90"],
)
def test_a_stopped_job_exits_as_its_signal_handling_says(container, stopped_after, exit_code):
    task = _task(**container)
    task.stop_requested_at = T0 + timedelta(seconds=60)  # StopTask one minute into the run (running from 4 s)
    during = _at(task, 60 + max(stopped_after - 1.2, 0.2))  # SIGTERM sent: stopping, or ignored until SIGKILL
    after = _at(task, 60 + stopped_after + 0.5)
    assert during["desiredStatus"] == "STOPPED" and "exitCode" not in during["containers"][0]
    assert during["lastStatus"] == ("RUNNING" if stopped_after > 1 else "DEPROVISIONING")
    assert after["lastStatus"] == "STOPPED" and after["stopCode"] == "UserInitiated"
    assert after["containers"][0]["exitCode"] == exit_code
    assert (after["stoppedAt"] - task.stop_requested_at).total_seconds() == pytest.approx(stopped_after)


def test_a_job_that_ends_during_the_grace_period_exits_with_its_own_code():
    task = _task(traps_sigterm=False)
    task.containers[0].duration, task.containers[0].exit_code = 70.0, 0  # ends 10 s after the SIGTERM it ignored
    task.stop_requested_at = T0 + timedelta(seconds=64)
    assert _at(task, 120)["containers"][0]["exitCode"] == 0


def test_the_job_language_reads_the_handler_and_the_stop_timeout():
    job = job_from_container({"environment": [{"name": "SFNECS_TRAPS_SIGTERM", "value": "0"}], "stopTimeout": 45}, None)
    assert (job["traps_sigterm"], job["stop_timeout"]) == (False, 45.0)
    assert job_from_container({}, None)["traps_sigterm"] is True  # the sample job handles SIGTERM
    assert job_from_container({"stopTimeout": 600}, None)["stop_timeout"] == 120.0  # Fargate's maximum
    override = {"environment": [{"name": "SFNECS_TRAPS_SIGTERM", "value": "false"}]}
    assert job_from_container({}, override)["traps_sigterm"] is False  # a RunTask override says so too


@pytest.fixture(scope="module")
def cluster(target) -> dict[str, str]:
    """This module's own cluster and subnet. Not tests/test_sandbox.py's module-scoped `env`: imported here it
    runs again whenever both modules share a worker's sandbox, and its ECR repository then exists already."""
    target.client("ecs").create_cluster(clusterName="sbx-sigterm")
    ensure_log_group(target, LOG_GROUP)
    return {"name": "sbx-sigterm", "subnet": target.client("ec2").describe_subnets()["Subnets"][0]["SubnetId"]}


def test_stop_task_through_boto3_kills_a_job_without_handler_with_137(target, cluster):
    register(target, "no-handler-job", env_vars={"SFNECS_DURATION": "3600", "SFNECS_TRAPS_SIGTERM": "0"})
    ecs = target.client("ecs")
    arn = ecs.run_task(
        cluster=cluster["name"],
        taskDefinition="no-handler-job",
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [cluster["subnet"]], "assignPublicIp": "ENABLED"}},
    )["tasks"][0]["taskArn"]

    def describe() -> dict:
        return ecs.describe_tasks(cluster=cluster["name"], tasks=[arn])["tasks"][0]

    wait_for(lambda: describe()["lastStatus"] == "RUNNING")
    ecs.stop_task(cluster=cluster["name"], task=arn, reason="lesson over")
    stopped = wait_for(lambda: (t := describe())["lastStatus"] == "STOPPED" and t)
    assert (stopped["stopCode"], stopped["containers"][0]["exitCode"]) == ("UserInitiated", 137)
    # SIGKILL came stopTimeout (30 virtual seconds) after the stop, not at once
    assert (stopped["stoppingAt"] - stopped["startedAt"]).total_seconds() >= 30

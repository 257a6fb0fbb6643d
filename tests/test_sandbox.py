"""End to end through plain boto3 against the sandbox: `.sync` semantics and the Fargate emulator."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from tests.ecr_push import push_index, push_single
from tests.roles import open_role

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture(scope="module", autouse=True)
def _roles(sandbox):
    """The hand-made roles these tests name (the sandbox enforces IAM on AWS's behalf: roles must exist)."""
    for name in ("sbx-sfn", "calllog", "x"):
        open_role(sandbox.client("iam"), name)


LOG_GROUP = "/ecs/sbx"


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05):
    """Poll `predicate` until it returns something truthy or the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def ensure_log_group(target, name: str) -> None:
    logs = target.client("logs")
    if not any(g["logGroupName"] == name for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]):
        logs.create_log_group(logGroupName=name)


@pytest.fixture(scope="module")
def env(target) -> dict[str, Any]:
    ec2, ecs, logs, sns, sqs, ecr = (target.client(s) for s in ("ec2", "ecs", "logs", "sns", "sqs", "ecr"))
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    ecs.create_cluster(clusterName="sbx")
    ensure_log_group(target, LOG_GROUP)
    topic = sns.create_topic(Name="sbx-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="sbx-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    ecr.create_repository(repositoryName="sbx")
    push_single(ecr, "sbx", "amd64", "amd64")
    push_single(ecr, "sbx", "arm64", "arm64", entrypoint="/usr/local/bin/job")
    push_index(ecr, "sbx", "multi-amd64-only", ["amd64"])
    return {"subnet": subnet, "topic": topic, "queue": queue}


def register(target, family: str, image: str = "busybox", arch: str = "X86_64", env_vars: dict | None = None) -> str:
    """A Fargate task definition with task-level cpu/memory only (no container memory)."""
    return target.client("ecs").register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        runtimePlatform={"cpuArchitecture": arch, "operatingSystemFamily": "LINUX"},
        containerDefinitions=[
            {
                "name": "job",
                "image": image,
                "essential": True,
                "environment": [{"name": k, "value": v} for k, v in (env_vars or {}).items()],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": LOG_GROUP, "awslogs-region": REGION, "awslogs-stream-prefix": family},
                },
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]


def machine(target, env, name: str, family: str, *, timeout: int | None = None, catch: bool = False) -> str:
    run: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::ecs:runTask.sync",
        "Parameters": {
            "LaunchType": "FARGATE",
            "Cluster": "sbx",
            "TaskDefinition": family,
            "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": [env["subnet"]], "AssignPublicIp": "ENABLED"}},
        },
        "End": True,
    }
    states: dict[str, Any] = {"Run": run}
    if timeout:
        run["TimeoutSeconds"] = timeout
    if catch:
        run.pop("End")
        run["Next"] = "Done"
        run["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Notify"}]
        states["Notify"] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {
                "TopicArn": env["topic"],
                "Message": {"error.$": "$.error.Error", "cause.$": "States.StringToJson($.error.Cause)"},
            },
            "Next": "Failed",
        }
        states["Failed"] = {"Type": "Fail", "Error": "JobFailed"}
        states["Done"] = {"Type": "Succeed"}
    defn = {"StartAt": "Run", "States": states}
    return target.client("stepfunctions").create_state_machine(
        name=name, definition=json.dumps(defn), roleArn=f"arn:aws:iam::{ACCOUNT}:role/sbx-sfn", type="STANDARD"
    )["stateMachineArn"]


def execute(target, sm_arn: str, timeout: float = 30.0) -> dict[str, Any]:
    sfn = target.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=sm_arn, input="{}")["executionArn"]
    return wait_for(lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d, timeout)


def failed_event(target, execution: dict[str, Any]) -> dict[str, Any]:
    events = target.client("stepfunctions").get_execution_history(executionArn=execution["executionArn"])["events"]
    return next(e for e in events if e["type"] == "TaskFailed")["taskFailedEventDetails"]


def test_success_has_exit_code_zero_and_full_lifecycle(target, env):
    register(target, "ok-job", env_vars={"SFNECS_DURATION": "20", "SFNECS_LOG": "hello|bye"})
    result = execute(target, machine(target, env, "ok", "ok-job"))
    assert result["status"] == "SUCCEEDED"
    task = json.loads(result["output"])
    assert task["Containers"][0]["ExitCode"] == 0
    assert task["StartedBy"] == "AWS Step Functions"
    assert task["StopCode"] == "EssentialContainerExited" and task["LastStatus"] == "STOPPED"
    # timestamps in lifecycle order, and the emulated run took its 20 virtual seconds
    assert task["CreatedAt"] < task["StartedAt"] < task["StoppingAt"] <= task["StoppedAt"]
    assert task["StoppingAt"] - task["StartedAt"] == 20_000
    events = target.client("logs").get_log_events(
        logGroupName=LOG_GROUP, logStreamName=f"ok-job/job/{task['TaskArn'].rsplit('/', 1)[1]}"
    )["events"]
    assert [e["message"] for e in events] == ["hello", "bye"]


def test_lifecycle_states_are_observable(target, env, sandbox):
    register(target, "slow-job", env_vars={"SFNECS_DURATION": "600"})
    ecs = target.client("ecs")
    task = ecs.run_task(
        cluster="sbx",
        taskDefinition="slow-job",
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [env["subnet"]], "assignPublicIp": "ENABLED"}},
    )["tasks"][0]
    seen = [task["lastStatus"]]

    def status() -> str:
        s = ecs.describe_tasks(cluster="sbx", tasks=[task["taskArn"]])["tasks"][0]["lastStatus"]
        if s != seen[-1]:
            seen.append(s)
        return s == "RUNNING"

    wait_for(status)
    ecs.stop_task(cluster="sbx", task=task["taskArn"], reason="test over")
    stopped = wait_for(
        lambda: (
            (t := ecs.describe_tasks(cluster="sbx", tasks=[task["taskArn"]])["tasks"][0])["lastStatus"] == "STOPPED"
            and t
        )
    )
    assert seen[0] == "PROVISIONING" and "RUNNING" in seen
    assert stopped["stopCode"] == "UserInitiated" and stopped["stoppedReason"] == "test over"
    assert stopped["containers"][0]["exitCode"] == 143


def test_application_failure_fails_task_catch_publishes_parsed_cause(target, env):
    register(target, "fail-job", env_vars={"SFNECS_EXIT_CODE": "3"})
    result = execute(target, machine(target, env, "fail", "fail-job", catch=True))
    assert result["status"] == "FAILED" and result["error"] == "JobFailed"
    details = failed_event(target, result)
    assert details["error"] == "States.TaskFailed"
    cause = json.loads(details["cause"])
    assert cause["Containers"][0]["ExitCode"] == 3
    assert cause["StoppedReason"] == "Essential container in task exited"
    sqs = target.client("sqs")
    messages = wait_for(lambda: sqs.receive_message(QueueUrl=env["queue"], WaitTimeSeconds=0).get("Messages"))
    note = json.loads(json.loads(messages[0]["Body"])["Message"])
    assert note["error"] == "States.TaskFailed" and note["cause"]["Containers"][0]["ExitCode"] == 3


def test_exec_format_error_from_single_platform_image(target, env):
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/sbx:arm64"
    register(target, "arm-image-x86-task", image=image, arch="X86_64")
    result = execute(target, machine(target, env, "execfmt", "arm-image-x86-task"))
    assert result["status"] == "FAILED"
    cause = json.loads(failed_event(target, result)["cause"])
    assert cause["Containers"][0]["ExitCode"] == 1
    assert cause["StoppedReason"] == "Essential container in task exited"
    task_id = cause["TaskArn"].rsplit("/", 1)[1]
    events = target.client("logs").get_log_events(
        logGroupName=LOG_GROUP, logStreamName=f"arm-image-x86-task/job/{task_id}"
    )["events"]
    assert [e["message"] for e in events] == ["exec /usr/local/bin/job: exec format error"]


def test_matching_architecture_succeeds(target, env):
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/sbx:arm64"
    register(target, "arm-image-arm-task", image=image, arch="ARM64")
    assert execute(target, machine(target, env, "armok", "arm-image-arm-task"))["status"] == "SUCCEEDED"


def test_index_without_platform_is_a_pull_error_with_no_container_start(target, env):
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/sbx:multi-amd64-only"
    register(target, "index-arm-task", image=image, arch="ARM64")
    result = execute(target, machine(target, env, "pullerr", "index-arm-task"))
    cause = json.loads(failed_event(target, result)["cause"])
    assert cause["StopCode"] == "TaskFailedToStart"
    assert "image Manifest does not contain descriptor matching platform 'linux/arm64'" in cause["StoppedReason"]
    assert cause["StoppedReason"].startswith("CannotPullContainerError:")
    assert "StartedAt" not in cause and "ExitCode" not in cause["Containers"][0]


def test_runtask_failures_fail_with_amazonecs_unknown(target, env):
    register(target, "capacity-job")
    target.control("POST", "faults", {"kind": "runtask_failure", "reason": "RESOURCE:MEMORY", "family": "capacity-job"})
    result = execute(target, machine(target, env, "capacity", "capacity-job"))
    details = failed_event(target, result)
    assert details["error"] == "AmazonECS.Unknown"
    assert json.loads(details["cause"])["Failures"][0]["Reason"] == "RESOURCE:MEMORY"


def test_runtask_failures_answer_http_200_to_direct_callers(target, env):
    register(target, "direct-capacity")
    target.control("POST", "faults", {"kind": "runtask_failure", "reason": "RESOURCE:CPU", "family": "direct-capacity"})
    resp = target.client("ecs").run_task(
        cluster="sbx",
        taskDefinition="direct-capacity",
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [env["subnet"]], "assignPublicIp": "ENABLED"}},
    )
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["tasks"] == [] and resp["failures"][0]["reason"] == "RESOURCE:CPU"


def test_throttling_is_ecs_amazonecsexception_under_sync(target, env):
    register(target, "throttled-job")
    target.control("POST", "faults", {"kind": "throttle", "family": "throttled-job"})
    details = failed_event(target, execute(target, machine(target, env, "throttled", "throttled-job")))
    assert details["error"] == "ECS.AmazonECSException"
    assert "ThrottlingException" in details["cause"] and "Rate exceeded" in details["cause"]


def test_hang_then_state_timeout_stops_the_task(target, env):
    register(target, "hang-job", env_vars={"SFNECS_HANG": "1"})
    result = execute(target, machine(target, env, "hang", "hang-job", timeout=1))
    assert result["status"] == "FAILED" and result["error"] == "States.Timeout"
    ecs = target.client("ecs")
    # Step Functions stops the task it started once the state times out
    arns = wait_for(lambda: ecs.list_tasks(cluster="sbx", family="hang-job", desiredStatus="STOPPED")["taskArns"])
    assert len(arns) == 1
    task = wait_for(
        lambda: (t := ecs.describe_tasks(cluster="sbx", tasks=arns)["tasks"][0])["lastStatus"] == "STOPPED" and t
    )
    assert task["stopCode"] == "UserInitiated"


def test_exit_code_and_hang_faults_apply_to_next_launch(target, env):
    register(target, "fault-exit")
    target.control("POST", "faults", {"kind": "exit_code", "exit_code": 7, "family": "fault-exit"})
    sm = machine(target, env, "fault-exit", "fault-exit")
    first = execute(target, sm)
    assert json.loads(failed_event(target, first)["cause"])["Containers"][0]["ExitCode"] == 7
    assert execute(target, sm)["status"] == "SUCCEEDED"  # the fault was for one launch only


def test_client_token_makes_runtask_idempotent(target, env):
    register(target, "token-job")
    ecs = target.client("ecs")
    kwargs = dict(
        cluster="sbx",
        taskDefinition="token-job",
        launchType="FARGATE",
        clientToken="tick-2026-11-29T09:00",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [env["subnet"]], "assignPublicIp": "ENABLED"}},
    )
    first, second = ecs.run_task(**kwargs)["tasks"], ecs.run_task(**kwargs)["tasks"]
    assert [t["taskArn"] for t in first] == [t["taskArn"] for t in second]


def test_unknown_subnet_is_rejected_like_aws(target, env):
    register(target, "bad-subnet")
    with pytest.raises(Exception, match="subnet-0000000000000000f"):
        target.client("ecs").run_task(
            cluster="sbx",
            taskDefinition="bad-subnet",
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-0000000000000000f"]}},
        )


def test_plain_boto3_works_with_aws_endpoint_url(sandbox, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(k, "testing")
    sns = boto3.client("sns", region_name=REGION)
    arn = sns.create_topic(Name="plain-boto3")["TopicArn"]
    assert arn in [t["TopicArn"] for t in sns.list_topics()["Topics"]]


def test_scheduler_ecr_sqs_iam_crud_work(target):
    iam = target.client("iam")
    iam.create_role(
        RoleName="crud-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    sched = target.client("scheduler")
    sched.create_schedule(
        Name="crud",
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:x",
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/crud-role",
        },
    )
    assert sched.get_schedule(Name="crud")["ScheduleExpression"] == "rate(5 minutes)"
    sched.delete_schedule(Name="crud")


def test_ecr_blob_download_url_serves_the_config(target, env):
    import urllib.request

    ecr = target.client("ecr")
    digest = push_single(ecr, "sbx", "dl", "arm64")
    url = ecr.get_download_url_for_layer(repositoryName="sbx", layerDigest=digest)["downloadUrl"]
    with urllib.request.urlopen(url) as resp:
        assert json.loads(resp.read())["architecture"] == "arm64"


def test_run_task_with_a_capacity_provider_strategy(target, env):
    # ECS API reference, RunTask: with a capacityProviderStrategy "the launchType parameter must be
    # omitted", and a strategy may only name providers associated with the cluster
    ecs = target.client("ecs")
    ecs.create_cluster(clusterName="sbx-spot", capacityProviders=["FARGATE", "FARGATE_SPOT"])
    register(target, "sbx-spot")
    net = {"awsvpcConfiguration": {"subnets": [env["subnet"]], "assignPublicIp": "ENABLED"}}
    spot = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    with pytest.raises(ecs.exceptions.InvalidParameterException, match="not associated with the cluster"):
        ecs.run_task(cluster="sbx", taskDefinition="sbx-spot", networkConfiguration=net, capacityProviderStrategy=spot)
    with pytest.raises(ecs.exceptions.InvalidParameterException, match="both a launch type and capacity provider"):
        ecs.run_task(
            cluster="sbx-spot",
            taskDefinition="sbx-spot",
            networkConfiguration=net,
            launchType="FARGATE",
            capacityProviderStrategy=spot,
        )
    (task,) = ecs.run_task(
        cluster="sbx-spot",
        taskDefinition="sbx-spot",
        networkConfiguration=net,
        capacityProviderStrategy=spot + [{"capacityProvider": "FARGATE", "weight": 0}],
    )["tasks"]
    assert (task["capacityProviderName"], task["launchType"]) == ("FARGATE_SPOT", "FARGATE")
    described = ecs.describe_tasks(cluster="sbx-spot", tasks=[task["taskArn"]])["tasks"][0]
    assert described["capacityProviderName"] == "FARGATE_SPOT"
    (plain,) = ecs.run_task(
        cluster="sbx-spot", taskDefinition="sbx-spot", networkConfiguration=net, launchType="FARGATE"
    )["tasks"]
    assert "capacityProviderName" not in plain


@pytest.mark.sandbox
def test_call_log_keeps_calls_aws_makes_for_you_apart(target, sandbox):
    """Step Functions' RunTask and the Scheduler's deliveries are not the user's calls."""
    ecs, sfn = target.client("ecs"), target.client("stepfunctions")
    ecs.create_cluster(clusterName="calllog")
    ecs.register_task_definition(
        family="calllog",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "job", "image": "busybox", "command": ["sh", "-c", "exit 0"]}],
    )
    subnet = target.client("ec2").describe_subnets()["Subnets"][0]["SubnetId"]
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask",
                "End": True,
                "Parameters": {
                    "LaunchType": "FARGATE",
                    "Cluster": "calllog",
                    "TaskDefinition": "calllog",
                    "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": [subnet], "AssignPublicIp": "ENABLED"}},
                },
            }
        },
    }
    arn = sfn.create_state_machine(
        name="calllog", definition=json.dumps(definition), roleArn=f"arn:aws:iam::{target.account}:role/calllog"
    )["stateMachineArn"]
    sandbox.control("DELETE", "calls", {})
    run = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    deadline = time.monotonic() + 30
    while sfn.describe_execution(executionArn=run)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
    log = sandbox.control("GET", "calls", {})
    assert log["calls"]["states.StartExecution"] == 1 and "ecs.RunTask" not in log["calls"]
    assert log["internal"]["ecs.RunTask"] == 1


@pytest.mark.sandbox
def test_call_log_counts_a_rest_read_as_a_read(target, sandbox):
    """REST APIs (the Scheduler's) are logged as METHOD:/path: GET changes nothing, POST does."""
    scheduler = target.client("scheduler")
    sandbox.control("DELETE", "calls", {})
    scheduler.list_schedule_groups()
    log = sandbox.control("GET", "calls", {})
    assert (log["total"], log["mutating"]) == (1, 0), log
    scheduler.create_schedule_group(Name="calllog-rest")
    scheduler.delete_schedule_group(Name="calllog-rest")
    assert sandbox.control("GET", "calls", {})["mutating"] == 2


def test_spot_interruption_stops_only_a_fargate_spot_task(target, env):
    # The warning is a SIGTERM (re:Post "fargate-spot-termination-notice"); stopCode SpotInterruption
    # is in the ECS API reference (TaskStopCode). A FARGATE task leaves the fault pending.
    ecs = target.client("ecs")
    ecs.create_cluster(clusterName="sbx-reclaim", capacityProviders=["FARGATE", "FARGATE_SPOT"])
    register(target, "sbx-reclaim", env_vars={"SFNECS_DURATION": "60"})
    target.control("POST", "faults", {"kind": "spot_interruption", "seconds": 20, "family": "sbx-reclaim"})
    net = {"awsvpcConfiguration": {"subnets": [env["subnet"]], "assignPublicIp": "ENABLED"}}
    (plain,) = ecs.run_task(
        cluster="sbx-reclaim", taskDefinition="sbx-reclaim", networkConfiguration=net, launchType="FARGATE"
    )["tasks"]
    assert [f["kind"] for f in target.control("GET", "faults")["pending"]] == ["spot_interruption"]
    (spot,) = ecs.run_task(
        cluster="sbx-reclaim",
        taskDefinition="sbx-reclaim",
        networkConfiguration=net,
        capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
    )["tasks"]
    assert target.control("GET", "faults")["pending"] == []
    assert spot["desiredStatus"] == "RUNNING"  # nothing announced before the interruption itself
    target.control("POST", "clock", {"pause": True})
    try:
        target.control("POST", "clock", {"advance_seconds": 300})
        now = {
            t["taskArn"]: t
            for t in ecs.describe_tasks(cluster="sbx-reclaim", tasks=[plain["taskArn"], spot["taskArn"]])["tasks"]
        }
        plain_now, spot_now = now[plain["taskArn"]], now[spot["taskArn"]]
    finally:
        target.control("POST", "clock", {"pause": False})
    assert (plain_now["stopCode"], plain_now["containers"][0]["exitCode"]) == ("EssentialContainerExited", 0)
    assert (spot_now["stopCode"], spot_now["containers"][0]["exitCode"]) == ("SpotInterruption", 143)
    ran = (spot_now["stoppingAt"] - spot_now["startedAt"]).total_seconds()
    assert ran == pytest.approx(20, abs=1)  # reclaimed 20 s into a 60 s job


def test_concurrent_refreshes_write_each_log_line_once(target, env, sandbox, monkeypatch):
    """Request threads and the ticker refresh the emulator at once: each due line is written exactly once
    (a doubled log tail under load was the symptom). The writer is slowed so the threads overlap for sure."""
    import threading

    register(target, "many-refreshers", env_vars={"SFNECS_DURATION": "20", "SFNECS_LOG": "one|two|three"})
    task = target.client("ecs").run_task(
        cluster="sbx",
        taskDefinition="many-refreshers",
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [env["subnet"]], "assignPublicIp": "ENABLED"}},
    )["tasks"][0]
    write = sandbox.fargate._write_log
    start = threading.Barrier(6)

    def slow_write(*args):  # widen the window between reading a due line and marking it written
        time.sleep(0.02)
        write(*args)

    monkeypatch.setattr(sandbox.fargate, "_write_log", slow_write)

    def refresh():
        start.wait(timeout=10)
        sandbox.fargate.refresh()

    threads = [threading.Thread(target=refresh) for _ in range(6)]
    with sandbox._tick_lock:  # the background tick waits: the lines fall due to these six threads only
        sandbox.clock.advance(300)
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    monkeypatch.setattr(sandbox.fargate, "_write_log", write)
    stream = f"many-refreshers/job/{task['taskArn'].rsplit('/', 1)[1]}"
    events = target.client("logs").get_log_events(logGroupName=LOG_GROUP, logStreamName=stream)["events"]
    assert [e["message"] for e in events] == ["one", "two", "three"]

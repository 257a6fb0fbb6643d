"""sfnecs.diagnose: every failure category from realistic stopped tasks, in both casings and every envelope.

Stopped-task texts come from AWS documentation (stopped task error messages, API failure reasons,
re:Post "ecs-task-exec-format-error" and "ecs-fargate-pull-container-error") and from public
reports of the same errors; ids and account numbers are placeholders.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from tests.roles import open_role

from sfnecs.diagnose import CONFIDENCES, MATCHERS, Diagnosis, diagnose, diagnose_task
from sfnecs.exceptions import ValidationError
from sfnecs.images import build_fixture_image, local_platforms, push_oci_layout
from sfnecs.images.elf import minimal_elf

ACCOUNT, REGION = "123456789012", "us-east-1"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/nightly:latest"
TASK_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/jobs/5e2b1c0d9a8f4e7b9c1d2e3f4a5b6c7d"


def task(*containers: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A stopped Fargate task as DescribeTasks returns it (camelCase)."""
    base: dict[str, Any] = {
        "taskArn": TASK_ARN,
        "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/jobs",
        "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/nightly-job:7",
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "launchType": "FARGATE",
        "platformVersion": "1.4.0",
        "platformFamily": "Linux",
        "cpu": "256",
        "memory": "512",
        "group": "family:nightly-job",
        "startedBy": "AWS Step Functions",
        "availabilityZone": "us-east-1a",
        "attributes": [{"name": "ecs.cpu-architecture", "value": "x86_64"}],
        "createdAt": "2024-05-01T02:00:03.120Z",
        "stoppedAt": "2024-05-01T02:01:10.520Z",
        "containers": [
            {
                "containerArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container/jobs/5e2b/c{i}",
                "taskArn": TASK_ARN,
                "image": IMAGE,
                "lastStatus": "STOPPED",
                "networkInterfaces": [],
                "healthStatus": "UNKNOWN",
                **c,
            }
            for i, c in enumerate(containers or ({"name": "job"},))
        ],
    }
    base.update(fields)
    return base


def exited(**container: Any) -> dict[str, Any]:
    """The job's container exited by itself (any code): how every finished Fargate job stops."""
    return task(
        {"name": "job", **container},
        stopCode="EssentialContainerExited",
        stoppedReason="Essential container in task exited",
    )


def failed_to_start(reason: str) -> dict[str, Any]:
    return task({"name": "job", "reason": reason}, stopCode="TaskFailedToStart", stoppedReason=reason)


def pascal(value: Any) -> Any:
    """camelCase keys -> PascalCase, as Step Functions' `.sync` output and Cause carry them."""
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v) for v in value]
    return value


def envelopes(t: dict[str, Any]) -> dict[str, Any]:
    """The same stopped task in every shape it reaches us."""
    return {
        "describe_tasks_task": t,
        "describe_tasks_response": {"tasks": [t], "failures": []},
        "json_string": json.dumps(t),
        "sync_output_pascal": pascal(t),
        "sync_cause": {"error": "States.TaskFailed", "cause": json.dumps(pascal(t))},
        "history_event": {
            "taskFailedEventDetails": {
                "resourceType": "ecs",
                "resource": "runTask.sync",
                "error": "States.TaskFailed",
                "cause": json.dumps(pascal(t)),
            }
        },
        "eventbridge": {"version": "0", "detail-type": "ECS Task State Change", "source": "aws.ecs", "detail": t},
    }


EXEC_FORMAT = exited(exitCode=1)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], str, str]] = [
    # (name, task, diagnose_task kwargs, category, text expected in summary+fix)
    (
        "exec format error in the log",
        EXEC_FORMAT,
        {"logs": ["exec /app/job: exec format error"]},
        "architecture_mismatch",
        'cpu_architecture        = "ARM64"',
    ),
    (
        "exec format error at container start (EC2)",
        failed_to_start(
            "CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime create "
            'failed: runc create failed: unable to start container process: exec: "/app/job": exec format error: '
            "unknown"
        ),
        {},
        "architecture_mismatch",
        "docker buildx build --platform linux/amd64,linux/arm64",
    ),
    (
        "index without the platform",
        failed_to_start(
            "CannotPullContainerError: pull image manifest has been retried 5 time(s): image Manifest does not contain "
            "descriptor matching platform 'linux/amd64'"
        ),
        {},
        "platform_missing",
        "linux/amd64",
    ),
    (
        "image not found",
        failed_to_start(
            f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
            f"{IMAGE.replace('latest', 'v9')}: {IMAGE.replace('latest', 'v9')}: not found"
        ),
        {},
        "pull_error",
        "does not exist",
    ),
    (
        "registry unreachable",
        failed_to_start(
            "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
            'docker.io/tryretool/backend:2.110.5: failed to do request: Head "https://registry-1.docker.io/v2/tryretool/'
            'backend/manifests/2.110.5": dial tcp 34.205.13.154:443: i/o timeout'
        ),
        {},
        "pull_error",
        "NAT gateway",
    ),
    (
        "bare name looked up on Docker Hub",
        failed_to_start(
            "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref "
            "docker.io/library/repository:latest: pull access denied, repository does not exist or may require "
            "authorization: server message: insufficient_scope: authorization failed"
        ),
        {},
        "pull_error",
        ".dkr.ecr.<region>.amazonaws.com",
    ),
    (
        "registry refuses the execution role",
        failed_to_start(
            f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref {IMAGE}: "
            f"pulling from host {ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com failed with status code [manifests latest]: "
            "403 Forbidden"
        ),
        {},
        "pull_error",
        "AmazonECSTaskExecutionRolePolicy",
    ),
    (
        "secrets denied",
        failed_to_start(
            "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
            "retrieval failed: "
            "unable to retrieve secrets from ssm: service call has been retried 1 time(s): operation error SSM: "
            "GetParameters, https response error StatusCode: 400, RequestID: 1a2b, api error AccessDeniedException: "
            f"User: arn:aws:sts::{ACCOUNT}:assumed-role/nightly-task-exec/5e2b is not authorized to perform: "
            "ssm:GetParameters"
        ),
        {},
        "resource_initialization",
        "ssm:GetParameters",
    ),
    (
        "secrets unreachable",
        failed_to_start(
            "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
            "retrieval failed: "
            "unable to retrieve secrets from ssm: service call has been retried 5 time(s): RequestCanceled: request "
            "context canceled caused by: context deadline exceeded"
        ),
        {},
        "resource_initialization",
        "VPC endpoints",
    ),
    (
        "log group missing",
        failed_to_start(
            "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
            "failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not "
            "exist. : exit status 1"
        ),
        {},
        "resource_initialization",
        "awslogs-create-group",
    ),
    (
        "ENI setup",
        failed_to_start(
            "ResourceInitializationError: failed to configure ENI: failed to setup regular eni: netplugin failed with "
            "no error message"
        ),
        {},
        "resource_initialization",
        "free IP addresses",
    ),
    (
        "out of memory",
        exited(exitCode=137, reason="OutOfMemoryError: Container killed due to memory usage"),
        {"logs": ["loading 3 GB of rows", "Killed"]},
        "out_of_memory",
        "memory 512 -> 1024",
    ),
    (
        "out of memory, no logs",
        exited(exitCode=137, reason="OutOfMemoryError: Container killed due to memory usage"),
        {},
        "out_of_memory",
        "more memory than it was given",
    ),
    (
        "application error",
        exited(exitCode=2),
        {"logs": ["Traceback (most recent call last):", "ValueError: no rows for 2024-05-01"]},
        "application_exit",
        "exited with code 2",
    ),
    (
        "command not found",
        exited(exitCode=127),
        {"logs": ["/bin/sh: 1: run-job: not found"]},
        "application_exit",
        "entryPoint/command",
    ),
    (
        "sidecar died first",
        task(
            {"name": "job", "exitCode": 143},
            {"name": "log-router", "exitCode": 1},
            stopCode="EssentialContainerExited",
            stoppedReason="Essential container in task exited",
        ),
        {},
        "sidecar_exit",
        "essential",
    ),
    (
        "stopped by Step Functions",
        task({"name": "job", "exitCode": 143}, stopCode="UserInitiated", stoppedReason="Task stopped by user"),
        {},
        "stopped",
        "Step Functions",
    ),
    (
        "stopped by an operator",
        task(
            {"name": "job", "exitCode": 143},
            stopCode="UserInitiated",
            startedBy="",
            stoppedReason="Stopped by operator for maintenance",
        ),
        {},
        "stopped",
        "operator for maintenance",
    ),
    (
        "spot interruption",
        task(
            {"name": "job", "exitCode": 143},
            stopCode="SpotInterruption",
            stoppedReason="Your Spot Task was interrupted.",
        ),
        {},
        "stopped",
        "FARGATE",
    ),
    (
        "entrypoint missing",
        failed_to_start(
            "CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime create "
            'failed: runc create failed: unable to start container process: exec: "/app/job": stat /app/job: no such '
            "file or directory: unknown"
        ),
        {},
        "container_start",
        "entryPoint/command",
    ),
    ("success", exited(exitCode=0), {"logs": ["processed 1200 rows"]}, "success", "exit code 0"),
    (
        "still running",
        task({"name": "job"}, lastStatus="RUNNING", desiredStatus="RUNNING"),
        {},
        "not_stopped",
        "RUNNING",
    ),
    (
        "capacity placement",
        task({"name": "job"}, stopCode="TaskFailedToStart", stoppedReason="TaskFailedToStart: RESOURCE:MEMORY"),
        {},
        "capacity",
        "memory",
    ),
]


@pytest.mark.parametrize("name,t,kwargs,category,text", CASES, ids=[c[0] for c in CASES])
def test_each_category_from_every_envelope(name, t, kwargs, category, text):
    for shape, value in envelopes(t).items():
        d = diagnose_task(value, **kwargs)
        assert d.category == category, (shape, d)
        assert text in d.summary + d.fix, (shape, d.summary, d.fix)
        assert d.confidence in CONFIDENCES and d.evidence, shape


def test_a_literal_sync_cause_in_pascal_case():
    # The shape of a States.TaskFailed Cause as Step Functions writes it (PascalCase, times in epoch ms).
    cause = (
        '{"Attachments":[{"Details":[{"Name":"subnetId","Value":"subnet-0a1b2c3d"}],"Id":"1e6c","Status":'
        '"DELETED","Type":"eni"}],"Attributes":[{"Name":"ecs.cpu-architecture","Value":"x86_64"}],'
        '"AvailabilityZone":"us-east-1a","ClusterArn":"arn:aws:ecs:us-east-1:123456789012:cluster/jobs",'
        '"Connectivity":"CONNECTED","Containers":[{"ContainerArn":"arn:aws:ecs:us-east-1:123456789012:container/'
        'jobs/5e2b/0f1","ExitCode":1,"Image":"123456789012.dkr.ecr.us-east-1.amazonaws.com/nightly:latest",'
        '"LastStatus":"STOPPED","Name":"job","TaskArn":"' + TASK_ARN + '"}],"Cpu":"256","CreatedAt":1714528803120,'
        '"DesiredStatus":"STOPPED","LastStatus":"STOPPED","LaunchType":"FARGATE","Memory":"512",'
        '"StartedBy":"AWS Step Functions","StopCode":"EssentialContainerExited","StoppedAt":1714528870520,'
        '"StoppedReason":"Essential container in task exited","TaskArn":"' + TASK_ARN + '"}'
    )
    d = diagnose_task(error="States.TaskFailed", cause=cause, logs=["exec /app/job: exec format error"])
    assert d.category == "architecture_mismatch" and d.confidence == "high"
    assert ("task.stopCode", "EssentialContainerExited") in d.evidence
    assert ("containers[job].exitCode", "1") in d.evidence
    assert "application_exit" in d.also  # exit 1 alone would have said so
    assert f"docker buildx build --platform linux/amd64 -t {IMAGE} --push ." in d.fix


def test_exit_1_without_logs_points_at_the_image_check():
    d = diagnose_task(EXEC_FORMAT)
    assert d.category == "application_exit" and d.confidence == "medium"
    assert "exec format error" in d.fix and "ecr_platforms" in d.fix


def test_architecture_from_the_image_platforms(tmp_path):
    arm64 = local_platforms(build_fixture_image(tmp_path / "arm", "arm64"))
    stopped = diagnose_task(EXEC_FORMAT, image=arm64)
    assert stopped.category == "architecture_mismatch" and stopped.confidence == "high"
    assert 'cpu_architecture        = "ARM64"' in stopped.fix
    assert any("ELF 64-bit LSB, ARM AArch64" in detail for _, detail in stopped.evidence)
    predicted = diagnose_task(None, image=arm64, cpu_architecture="X86_64")
    assert predicted.category == "architecture_mismatch" and predicted.confidence == "medium"
    assert diagnose_task(None, image=arm64, cpu_architecture="ARM64").category == "unknown"


def test_an_arm64_fix_for_a_spot_task_keeps_spot(tmp_path):
    # ECS API reference, CapacityProviderStrategyItem: FARGATE_SPOT runs Linux ARM64 tasks (platform 1.4.0+),
    # so moving a Spot task to ARM64 needs no change of capacity provider
    arm64 = local_platforms(build_fixture_image(tmp_path / "arm", "arm64"))
    on_spot = {**EXEC_FORMAT, "launchType": None, "capacityProviderName": "FARGATE_SPOT"}
    d = diagnose_task(on_spot, image=arm64)
    assert d.category == "architecture_mismatch" and 'cpu_architecture        = "ARM64"' in d.fix
    assert "--platform linux/amd64" in d.fix and "FARGATE_SPOT" not in d.fix
    assert d.fix == diagnose_task(EXEC_FORMAT, image=arm64).fix


def test_label_that_lies_is_explained(tmp_path):
    lie = local_platforms(build_fixture_image(tmp_path / "lie", "amd64", label_architecture="arm64"))
    arm_task = {**exited(exitCode=1), "attributes": [{"name": "ecs.cpu-architecture", "value": "arm64"}]}
    d = diagnose_task(arm_task, image=lie, logs=["exec /app/job: exec format error"])
    assert d.category == "architecture_mismatch" and "TARGETARCH" in d.fix
    assert "the image holds amd64 code" in d.summary and "ARM64 task" in d.summary
    assert 'cpu_architecture        = "X86_64"' in d.fix


def test_missing_platform_predicted_from_an_index(tmp_path):
    att = local_platforms(build_fixture_image(tmp_path / "att", "arm64", attestation=True))
    d = diagnose_task(None, image=att)
    assert d.category == "platform_missing" and "linux/amd64" in d.summary and "attestation" in d.fix
    assert (
        "task cpuArchitecture",
        "X86_64 (assumed: a task definition without runtimePlatform runs on X86_64)",
    ) in d.evidence


def test_exec_format_error_from_a_script_without_shebang(tmp_path):
    script = local_platforms(build_fixture_image(tmp_path / "txt", layers=[{"/app/job": "python3 job.py\n"}]))
    d = diagnose_task(EXEC_FORMAT, image=script, logs=["exec /app/job: exec format error"])
    assert d.category == "entrypoint_not_executable" and "#!" in d.fix


def test_run_task_failures_and_step_functions_errors():
    memory = {
        "tasks": [],
        "failures": [
            {"arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/jobs/7c1", "reason": "RESOURCE:MEMORY"}
        ],
    }
    assert "memory" in diagnose_task(memory).summary
    fargate = [
        {"reason": "Capacity is unavailable at this time. Please try again later or in a different availability zone"}
    ]
    d = diagnose_task(None, failures=fargate)
    assert d.category == "capacity" and d.confidence == "high" and "Availability Zones" in d.fix
    assert diagnose_task(pascal(memory)).category == "capacity"
    unknown = diagnose_task(None, error="AmazonECS.Unknown")
    assert unknown.category == "capacity" and unknown.confidence == "medium"
    denied = diagnose_task(
        {
            "error": "ECS.AccessDeniedException",
            "cause": (
                f"User: arn:aws:sts::{ACCOUNT}:assumed-role/nightly-sfn/abc is not authorized to perform: "
                f"iam:PassRole on "
                f"resource: arn:aws:iam::{ACCOUNT}:role/nightly-task (Service: AmazonECS; Status Code: 400; "
                f"Error Code: "
                "AccessDeniedException)"
            ),
        }
    )
    # an IAM denial is its own category, whose fix names the action and the role (the RunTask rejection too)
    assert denied.category == "access_denied" and "run_task_rejected" in denied.also
    assert "iam:PassRole" in denied.fix and "nightly-sfn" in denied.fix
    bad = diagnose_task(
        None,
        error="ECS.InvalidParameterException",
        cause="Network Configuration must be provided when networkMode 'awsvpc' is specified.",
    )
    assert bad.category == "run_task_rejected" and "networkConfiguration" in bad.fix
    throttled = diagnose_task(None, error="ECS.AmazonECSException", cause="Rate exceeded")
    assert throttled.category == "capacity" and "ECS.AmazonECSException" in throttled.fix
    timeout = diagnose_task({"error": "States.Timeout", "cause": None})
    assert timeout.category == "timeout" and "TimeoutSeconds" in timeout.fix


def test_out_of_memory_fix_names_the_next_fargate_size():
    at_max = copy.deepcopy(exited(exitCode=137, reason="OutOfMemoryError: Container killed due to memory usage"))
    at_max["memory"] = "2048"
    assert "raise cpu to 512" in diagnose_task(at_max).fix
    sigkill = diagnose_task(exited(exitCode=137))
    assert sigkill.category == "out_of_memory" and sigkill.confidence == "low"


def test_naming_the_main_container_settles_the_sidecar_case():
    t = task(
        {"name": "job", "exitCode": 143},
        {"name": "log-router", "exitCode": 1},
        stopCode="EssentialContainerExited",
        stoppedReason="Essential container in task exited",
    )
    assert diagnose_task(t).confidence == "medium"
    assert diagnose_task(t, main_container="job").confidence == "high"
    assert diagnose_task(t, main_container="log-router").category == "application_exit"
    helper_done = task(
        {"name": "job", "exitCode": 143},
        {"name": "init", "exitCode": 0},
        stopCode="EssentialContainerExited",
        stoppedReason="Essential container in task exited",
    )
    assert "'init' exited first (exit 0)" in diagnose_task(helper_done).summary


def test_non_json_and_odd_inputs_are_diagnosed_not_raised():
    for value in ["hello world", "", "[]", "{}", b"\xff\xfe", 42, [1, 2], None, "null", '"text"', {"tasks": "x"}]:
        d = diagnose_task(value)
        assert isinstance(d, Diagnosis) and d.category == "unknown" and d.confidence == "low", value
    assert "not JSON" in diagnose_task("hello world").summary
    text = (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
        f"{IMAGE}: {IMAGE}: not found"
    )
    assert diagnose_task(text).category == "pull_error"  # free text is still read for known signs


def test_validation_of_the_parameters_a_caller_controls():
    with pytest.raises(ValidationError, match="cpu_architecture='arm'"):
        diagnose_task(EXEC_FORMAT, cpu_architecture="arm")
    with pytest.raises(ValidationError, match="image="):
        diagnose_task(EXEC_FORMAT, image="arm64")
    with pytest.raises(ValidationError, match="logs="):
        diagnose_task(EXEC_FORMAT, logs=42)


def test_logs_as_cloudwatch_events_and_rendering():
    d = diagnose_task(EXEC_FORMAT, logs=[{"timestamp": 1, "message": "exec /app/job: exec format error"}])
    assert ("logs[0]", "exec /app/job: exec format error") in d.evidence
    frame = d.to_frame()
    assert list(frame.columns) == ["source", "detail"] and len(frame) == len(d.evidence)
    html = diagnose_task(failed_to_start("CannotPullContainerError: <script>alert(1)</script> not found"))._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert d.verdict == "architecture mismatch (high confidence)" and f"<b>{d.verdict}</b>" in d._repr_html_()
    assert json.loads(json.dumps(d.to_dict()))["category"] == "architecture_mismatch"


def test_matchers_are_a_registry_in_priority_order():
    names = [name for name, _ in MATCHERS]
    assert len(names) == len(set(names))
    assert names.index("platform_missing") < names.index("pull_error") < names.index("architecture_mismatch")
    assert names.index("architecture_mismatch") < names.index("application_exit") < names.index("success")


_KEYS = st.sampled_from(
    [
        "taskArn",
        "containers",
        "exitCode",
        "reason",
        "name",
        "stopCode",
        "stoppedReason",
        "lastStatus",
        "tasks",
        "failures",
        "error",
        "cause",
        "detail",
        "attributes",
        "value",
        "StoppedReason",
        "Containers",
        "ExitCode",
        "taskFailedEventDetails",
        "memory",
        "cpu",
    ]
)
_VALUES = (
    st.none()
    | st.booleans()
    | st.integers(-5, 300)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "EssentialContainerExited",
            "UserInitiated",
            "STOPPED",
            "exec format error",
            "CannotPullContainerError: x",
            "ResourceInitializationError: y",
            "x86_64",
            "arm64",
        ]
    )
)
_JSON = st.recursive(
    _VALUES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS | st.text(max_size=6), inner, max_size=6),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_JSON, st.lists(st.text(max_size=40), max_size=4), _JSON | st.text(max_size=50), st.text(max_size=30))
def test_fuzz_random_json_never_raises(value, logs, cause, error):
    for candidate in (value, json.dumps(value), {"error": error, "cause": json.dumps(cause)}):
        d = diagnose_task(candidate, logs=logs, cause=cause if isinstance(cause, str) else None, error=error)
        assert isinstance(d, Diagnosis) and d.confidence in CONFIDENCES and d.summary


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_fuzz_random_bytes_and_text_never_raise(value):
    assert diagnose_task(value).confidence in CONFIDENCES


# ---- reading runs from the sandbox -----------------------------------------------------------------------------
def _wait(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"not done within {timeout} s")


@pytest.fixture(scope="module")
def arm_job(target, tmp_path_factory):
    """An arm64-only image and an X86_64 Fargate task definition that runs it, with awslogs."""
    ecs, logs, ecr, ec2 = (target.client(s) for s in ("ecs", "logs", "ecr", "ec2"))
    ecs.create_cluster(clusterName="diag")
    logs.create_log_group(logGroupName="/ecs/diag")
    ecr.create_repository(repositoryName="diag")
    layout = build_fixture_image(
        tmp_path_factory.mktemp("img") / "arm", "arm64", layers=[{"/app/job": minimal_elf("arm64")}]
    )
    push_oci_layout(ecr, layout, "diag", "arm64")
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/diag:arm64"
    ecs.register_task_definition(
        family="diag-job",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
        containerDefinitions=[
            {
                "name": "job",
                "image": image,
                "essential": True,
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": "/ecs/diag",
                        "awslogs-region": REGION,
                        "awslogs-stream-prefix": "diag",
                    },
                },
            }
        ],
    )
    return {"subnet": ec2.describe_subnets()["Subnets"][0]["SubnetId"]}


@pytest.mark.sandbox
def test_diagnose_a_task_arn_reads_task_definition_logs_and_image(target, arm_job):
    ecs = target.client("ecs")
    arn = ecs.run_task(
        cluster="diag",
        taskDefinition="diag-job",
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [arm_job["subnet"]], "assignPublicIp": "ENABLED"}},
    )["tasks"][0]["taskArn"]
    _wait(lambda: ecs.describe_tasks(cluster="diag", tasks=[arn])["tasks"][0]["lastStatus"] == "STOPPED")
    d = diagnose(target, arn, inspect_image=True)
    assert d.category == "architecture_mismatch" and d.confidence == "high"
    assert ("logs[0]", "exec /app/job: exec format error") in d.evidence
    assert any(src.startswith("image ecr:diag") and "linux/arm64" in detail for src, detail in d.evidence)
    assert 'cpu_architecture        = "ARM64"' in d.fix


def _run_execution(target, subnet: str, name: str, family: str, **task_state: Any) -> str:
    """Run a one-state `.sync` machine to its end; return the execution ARN."""
    open_role(target.client("iam"), "diag-sfn")  # the sandbox enforces IAM: Step Functions must assume it
    sfn = target.client("stepfunctions")
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "End": True,
                **task_state,
                "Parameters": {
                    "LaunchType": "FARGATE",
                    "Cluster": "diag",
                    "TaskDefinition": family,
                    "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": [subnet], "AssignPublicIp": "ENABLED"}},
                },
            }
        },
    }
    sm = sfn.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=f"arn:aws:iam::{ACCOUNT}:role/diag-sfn", type="STANDARD"
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
    _wait(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING")
    return arn


@pytest.mark.sandbox
def test_diagnose_an_execution_arn_reads_the_sync_cause(target, arm_job):
    d = diagnose(target, _run_execution(target, arm_job["subnet"], "diag-sm", "diag-job"))
    assert d.category == "architecture_mismatch"
    assert ("task.stoppedReason", "Essential container in task exited") in d.evidence
    assert ("logs[0]", "exec /app/job: exec format error") in d.evidence


@pytest.mark.sandbox
def test_diagnose_an_execution_that_timed_out_describes_the_task_it_submitted(target, arm_job):
    target.client("ecs").register_task_definition(
        family="diag-hang",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "job",
                "image": "busybox",
                "essential": True,
                "environment": [{"name": "SFNECS_HANG", "value": "true"}],
            }
        ],
    )
    d = diagnose(target, _run_execution(target, arm_job["subnet"], "diag-hang-sm", "diag-hang", TimeoutSeconds=1))
    assert d.category == "timeout" and ("stepFunctions.error", "States.Timeout") in d.evidence
    # The task it submitted was described: stopping or stopped, depending on how fast the stop lands.
    assert any(src == "task.lastStatus" for src, _ in d.evidence)


def test_diagnose_validates_its_source_and_passes_data_through():
    with pytest.raises(ValidationError, match="source="):
        diagnose(object(), EXEC_FORMAT | {"taskDefinitionArn": ""})
    d = diagnose({}, {k: v for k, v in exited(exitCode=0).items() if k != "taskDefinitionArn"})
    assert d.category == "success"
    with pytest.raises(ValidationError, match="log_lines=0"):
        diagnose({}, EXEC_FORMAT, log_lines=0)


def test_diagnose_a_task_that_ecs_no_longer_describes():
    with mock_aws():
        ecs = boto3.client("ecs", region_name=REGION)
        ecs.create_cluster(clusterName="jobs")
        d = diagnose({"ecs": ecs}, TASK_ARN)
    assert d.category == "task_not_found" and "execution ARN" in d.fix


@pytest.mark.sandbox
def test_wrong_arch_image_run_diagnose_fix_the_task_definition_and_run_again(target):
    """The whole loop of notebook 05: an arm64 image on a default (X86_64) stack fails, the diagnosis
    names the cause and the fix, the fixed task definition runs."""
    from tests.test_stack import deployed, make_spec

    from sfnecs import runs
    from sfnecs.deploy import stack

    spec = make_spec(target, "diag-loop", launch_retry_attempts=0, schedule_enabled=False, query_language="JSONPath")
    with deployed(target, spec, "arm64"):
        fast = runs.Backoff(initial=0.05, factor=1.6, cap=0.5)
        failed = runs.wait(
            target, runs.start(target, spec, name="wrong-arch"), progress=False, timeout=30, backoff=fast
        )
        assert failed.status == "FAILED" and failed.exit_code == 1

        d = diagnose(target, failed.execution_arn, inspect_image=True)
        assert d.category == "architecture_mismatch" and d.confidence == "high"
        assert ("logs[0]", "exec /app/job: exec format error") in d.evidence
        assert ("task cpuArchitecture", "X86_64 (given)") in d.evidence  # read from the task definition
        assert any(
            src == f"image ecr:{spec.repository}:latest" and "linux/arm64" in detail for src, detail in d.evidence
        )
        assert 'cpu_architecture        = "ARM64"' in d.fix

        fixed = spec.replace(cpu_architecture="ARM64")  # what the fix says, applied through the stack
        changed = {c.type for c in stack.apply(target, fixed).changed}
        assert changed == {"AWS::ECS::TaskDefinition", "AWS::StepFunctions::StateMachine"}
        ok = runs.wait(target, runs.start(target, fixed, name="right-arch"), progress=False, timeout=30, backoff=fast)
        assert ok.ok and ok.exit_code == 0
        assert diagnose(target, ok.execution_arn).category == "success"


@pytest.mark.sandbox
def test_a_label_that_lies_fails_like_fargate_and_the_diagnosis_reads_the_binary(target):
    """An arm64-labelled image holding an x86-64 binary: the pull passes on ARM64, the kernel refuses the
    entrypoint, and the diagnosis finds the real CPU in the ELF header (layers read from ECR)."""
    from tests.test_stack import deployed, make_spec

    from sfnecs import runs
    from sfnecs.deploy import stack
    from sfnecs.images.sample import push_sample_image

    spec = make_spec(target, "diag-lie", pattern="A", cpu_architecture="ARM64", schedule_enabled=False)
    with deployed(target, spec, architecture=None):
        push_sample_image(target, spec.repository, "amd64", label_architecture="arm64")
        assert stack.verify(target, spec).ok  # the label matches: a pre-flight check cannot see the lie
        fast = runs.Backoff(initial=0.05, factor=1.6, cap=0.5)
        failed = runs.run_direct(target, spec, client_token="lie-1", progress=False, timeout=30, backoff=fast)
        assert failed.status == "FAILED" and failed.log_tail == ["exec /app/job: exec format error"]

        d = diagnose(target, failed.task_arn, inspect_image=True)
        assert d.category == "architecture_mismatch" and d.confidence == "high"
        assert "the image holds amd64 code" in d.summary and "ARM64 task" in d.summary
        assert any("labelled linux/arm64" in detail and "x86-64" in detail for _, detail in d.evidence)
        assert "TARGETARCH" in d.fix and 'cpu_architecture        = "X86_64"' in d.fix

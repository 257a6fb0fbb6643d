"""stack.py: pure request builders checked against the AWS API models, and plan/apply/teardown/verify
end to end in the sandbox through boto3."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from sfnecs.deploy import stack
from sfnecs.deploy.changes import document_diff
from sfnecs.deploy.resources import retry_role_propagation
from sfnecs.exceptions import StackError, ValidationError
from sfnecs.images.sample import push_sample_image
from sfnecs.model import StackSpec
from sfnecs.sandbox.control import READ_ONLY

TAG = "sfnecs:stack"


# ---- helpers shared with test_runs ------------------------------------------------------------------
def make_spec(target: Any, name: str, **changes: Any) -> StackSpec:
    """A spec in the sandbox's default VPC (the StackSpec default subnet does not exist there)."""
    subnets, groups = stack.default_network(target)
    # A rate schedule fires once at creation (sandbox and AWS alike); a nightly cron keeps tests quiet.
    changes.setdefault("schedule_expression", "cron(0 3 * * ? *)")
    changes.setdefault("assign_public_ip", True)  # as the kit picks it for the default VPC (no NAT gateway there)
    return StackSpec(
        name, region=target.region, account=target.account, subnets=subnets[:2], security_groups=groups, **changes
    )


@contextlib.contextmanager
def deployed(
    target: Any, spec: StackSpec, architecture: str | None = "amd64", sandbox: Any = None
) -> Iterator[StackSpec]:
    """The stack applied, with a sample image for `architecture` pushed (none for None), for the block;
    after it, the sandbox's injected faults cleared (when `sandbox` is given) and the stack torn down."""
    stack.apply(target, spec)
    try:
        if architecture:
            push_sample_image(target, spec.repository, architecture)
        yield spec
    finally:
        if sandbox is not None:
            sandbox.control("DELETE", "faults", {})
        stack.teardown(target, spec, delete_logs=True, delete_images=True)


def mutating_calls(sandbox: Any) -> dict[str, int]:
    """API calls since the last reset of the call log that could change something.

    (REST reads are logged as `GET:/path`.)
    """
    calls = sandbox.control("GET", "calls", {})["calls"]
    return {k: n for k, n in calls.items() if not READ_ONLY.match(k.split(".", 1)[1])}


def tagged_resources(target: Any, name: str) -> list[str]:
    """Every resource in the sandbox region carrying sfnecs:stack=<name>, found service by service."""
    found = []

    def owned(tags: Any) -> bool:
        pairs = (
            tags
            if isinstance(tags, dict)
            else {t.get("Key", t.get("key")): t.get("Value", t.get("value")) for t in tags or []}
        )
        return pairs.get(TAG) == name

    logs = target.client("logs")
    for g in logs.describe_log_groups()["logGroups"]:
        if owned(logs.list_tags_for_resource(resourceArn=g["arn"].removesuffix(":*")).get("tags")):
            found.append(g["logGroupName"])
    ecs = target.client("ecs")
    arns = ecs.list_clusters()["clusterArns"]
    for c in ecs.describe_clusters(clusters=arns, include=["TAGS"])["clusters"] if arns else []:
        if c["status"] == "ACTIVE" and owned(c.get("tags")):
            found.append(c["clusterArn"])
    for status in ("ACTIVE", "INACTIVE"):
        for arn in ecs.list_task_definitions(status=status)["taskDefinitionArns"]:
            if owned(ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"]).get("tags")):
                found.append(arn)
    iam = target.client("iam")
    for r in iam.list_roles()["Roles"]:
        if owned(iam.get_role(RoleName=r["RoleName"])["Role"].get("Tags")):
            found.append(r["Arn"])
    sqs = target.client("sqs")
    for url in sqs.list_queues().get("QueueUrls", []):
        if owned(sqs.list_queue_tags(QueueUrl=url).get("Tags")):
            found.append(url)
    sns = target.client("sns")
    for t in sns.list_topics()["Topics"]:
        if owned(sns.list_tags_for_resource(ResourceArn=t["TopicArn"]).get("Tags")):
            found.append(t["TopicArn"])
    sfn = target.client("stepfunctions")
    for m in sfn.list_state_machines()["stateMachines"]:
        if owned(sfn.list_tags_for_resource(resourceArn=m["stateMachineArn"]).get("tags")):
            found.append(m["stateMachineArn"])
    ecr = target.client("ecr")
    for r in ecr.describe_repositories()["repositories"]:
        if owned(ecr.list_tags_for_resource(resourceArn=r["repositoryArn"]).get("tags")):
            found.append(r["repositoryArn"])
    events = target.client("events")
    for rule in events.list_rules()["Rules"]:
        if owned(events.list_tags_for_resource(ResourceARN=rule["Arn"]).get("Tags")):
            found.append(rule["Arn"])
    cw = target.client("cloudwatch")
    for alarm in cw.describe_alarms()["MetricAlarms"]:
        if owned(cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"]).get("Tags")):
            found.append(alarm["AlarmArn"])
    sched = target.client("scheduler")
    for g in sched.list_schedule_groups()["ScheduleGroups"]:
        if g.get("State") == "ACTIVE" and owned(sched.list_tags_for_resource(ResourceArn=g["Arn"]).get("Tags")):
            found.append(g["Arn"])
            found += [s["Arn"] for s in sched.list_schedules(GroupName=g["Name"])["Schedules"]]
    return found


def actions(frame: Any) -> dict[tuple[str, str], str]:
    return {(row.type, row.resource): row.action for row in frame.itertuples()}


# ---- pure builders -----------------------------------------------------------------------------------
def _validate(service: str, operation: str, params: dict[str, Any]) -> None:
    """Raise if `params` do not fit the AWS API's input shape (botocore's own client-side check)."""
    model = botocore.session.get_session().get_service_model(service)
    report = ParamValidator().validate(params, model.operation_model(operation).input_shape)
    assert not report.has_errors(), report.generate_report()


@pytest.mark.parametrize("pattern", ["A", "B"])
def test_requests_fit_the_aws_api_models(pattern):
    spec = StackSpec(
        "shapes",
        pattern=pattern,
        subnets=("subnet-0a1b2c3d",),
        security_groups=("sg-0a1b2c3d",),
        command=("sh", "-c", "echo hi"),
        environment={"B": "2", "A": "1"},
        flexible_window_minutes=15,
    )
    tags_lc = [{"key": k, "value": v} for k, v in spec.all_tags.items()]
    _validate("ecs", "RegisterTaskDefinition", {**stack.task_definition_request(spec), "tags": tags_lc})
    arn = spec.arn("ecs", f"task-definition/{spec.family}:7")
    _validate("scheduler", "CreateSchedule", stack.schedule_request(spec, arn))
    _validate(
        "ecs",
        "RunTask",
        {"cluster": spec.cluster, "taskDefinition": arn, "networkConfiguration": stack.network_configuration(spec)},
    )
    if pattern == "B":
        req = stack.state_machine_request(spec)
        _validate("stepfunctions", "CreateStateMachine", {**req, "definition": json.dumps(req["definition"])})


def test_task_definition_request_is_fargate_with_runtime_platform_and_awslogs():
    spec = StackSpec("td", cpu=512, memory=2048, cpu_architecture="ARM64", environment={"Z": "1", "A": "2"})
    req = stack.task_definition_request(spec)
    assert req["requiresCompatibilities"] == ["FARGATE"] and req["networkMode"] == "awsvpc"
    assert (req["cpu"], req["memory"]) == ("512", "2048")  # strings, task level
    assert req["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    assert req["executionRoleArn"] == "arn:aws:iam::123456789012:role/td-task-exec"
    assert req["taskRoleArn"] == "arn:aws:iam::123456789012:role/td-task"
    (container,) = req["containerDefinitions"]
    assert container["image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/td:latest"
    assert container["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {"awslogs-group": "/ecs/td", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "td"},
    }
    assert [e["name"] for e in container["environment"]] == ["A", "Z"]
    assert "memory" not in container  # task-level memory only


def test_schedule_request_targets_state_machine_or_runtask():
    b = StackSpec(
        "sch",
        schedule_expression="cron(0 9 * * ? *)",
        timezone="Asia/Tokyo",
        retry_attempts=5,
        max_event_age_seconds=600,
    )
    req = stack.schedule_request(b, "unused")
    assert req["GroupName"] == "sch" and req["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert req["ScheduleExpressionTimezone"] == "Asia/Tokyo" and req["State"] == "ENABLED"
    t = req["Target"]
    assert t["Arn"] == b.state_machine_arn and t["RoleArn"] == b.role_arn("sch-scheduler")
    assert json.loads(t["Input"]) == {"scheduled_time": "<aws.scheduler.scheduled-time>"}
    assert t["RetryPolicy"] == {"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 600}
    assert t["DeadLetterConfig"] == {"Arn": b.dlq_arn} and "EcsParameters" not in t

    a = b.replace(pattern="A", flexible_window_minutes=10, schedule_enabled=False, assign_public_ip=True)
    td = a.arn("ecs", "task-definition/sch-job:3")
    req = stack.schedule_request(a, td)
    assert req["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10}
    assert req["State"] == "DISABLED"
    t = req["Target"]
    assert t["Arn"] == a.cluster_arn and "Input" not in t
    ecs = t["EcsParameters"]
    assert ecs["TaskDefinitionArn"] == td and ecs["LaunchType"] == "FARGATE" and ecs["TaskCount"] == 1
    assert ecs["NetworkConfiguration"] == {
        "awsvpcConfiguration": {"Subnets": ["subnet-0a1b2c3d"], "AssignPublicIp": "ENABLED"}
    }


def test_a_capacity_provider_strategy_reaches_every_launch_and_the_cluster():
    a = StackSpec("spot", pattern="A", capacity_provider_strategy=[("FARGATE_SPOT", 3), ("FARGATE", 1, 1)])
    td = a.arn("ecs", "task-definition/spot-job:2")
    ecs = stack.schedule_request(a, td)["Target"]["EcsParameters"]
    # RunTask's rule, in the Scheduler's EcsParameters too: a strategy, and then no launch type
    assert "LaunchType" not in ecs
    assert ecs["CapacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0},
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
    ]
    _validate("scheduler", "CreateSchedule", stack.schedule_request(a, td))
    placement = stack.run_task_placement(a)
    assert placement == {"capacityProviderStrategy": ecs["CapacityProviderStrategy"]}
    _validate(
        "ecs",
        "RunTask",
        {
            "cluster": a.cluster,
            "taskDefinition": td,
            **placement,
            "networkConfiguration": stack.network_configuration(a),
        },
    )
    for spec in (a, a.replace(pattern="B")):
        (cluster,) = [d for d in stack.desired_resources(spec) if d.kind == "cluster"]
        assert cluster.document == {"clusterName": "spot", "capacityProviders": ["FARGATE", "FARGATE_SPOT"]}
    plain = a.replace(capacity_provider_strategy=())
    assert stack.run_task_placement(plain) == {"launchType": "FARGATE"}
    assert stack.schedule_request(plain, td)["Target"]["EcsParameters"]["LaunchType"] == "FARGATE"
    (cluster,) = [d for d in stack.desired_resources(plain) if d.kind == "cluster"]
    assert cluster.document == {"clusterName": "spot"}


def test_desired_resources_per_pattern():
    kinds_b = [d.kind for d in stack.desired_resources(StackSpec("pat"))]
    kinds_a = [d.kind for d in stack.desired_resources(StackSpec("pat", pattern="A"))]
    assert {"state_machine", "topic", "topic_policy", "alarm"} <= set(kinds_b)
    assert "state_machine" not in kinds_a and "task_failure_rule" not in kinds_b
    # pattern A tells someone too: the task-failure rule and the dead-letter queue's alarm, to the topic
    assert {"topic", "topic_policy", "task_failure_rule", "alarm"} <= set(kinds_a)
    for kinds in (kinds_a, kinds_b):
        assert kinds.index("task_definition") < kinds.index("schedule")  # creation order
        assert kinds.index("role") < kinds.index("task_definition")
    with_image = stack.desired_resources(StackSpec("pat", image="public.ecr.aws/docker/library/busybox:1"))
    assert "repository" not in [d.kind for d in with_image]


@pytest.mark.sandbox
def test_validation_happens_before_any_call(target, sandbox):
    sandbox.control("DELETE", "calls", {})
    with pytest.raises(ValidationError, match="spec.region/account"):
        stack.plan(target, StackSpec("other", account="210987654321"))
    with pytest.raises(ValidationError, match="email"):
        stack.apply(target, make_spec(target, "val"), email="not-an-address")
    with pytest.raises(ValidationError, match="spec"):
        stack.teardown(target, {"name": "val"})  # type: ignore[arg-type]
    assert [k for k in sandbox.control("GET", "calls", {})["calls"] if not k.startswith("ec2.")] == []


# ---- end to end ------------------------------------------------------------------------------------
@pytest.mark.sandbox
def test_apply_converges_and_a_second_apply_changes_nothing(target, sandbox):
    spec = make_spec(target, "conv")
    first = stack.plan(target, spec).to_frame()
    assert set(first["action"]) == {"create"}
    assert list(first.columns) == ["resource", "type", "action", "reason", "diff"]
    done = stack.apply(target, spec)
    assert all(c.done for c in done.changes) and len(done.changed) == len(first)
    assert set(stack.plan(target, spec).to_frame()["action"]) == {"no-op"}
    sandbox.control("DELETE", "calls", {})
    again = stack.apply(target, spec)
    assert again.changed == [] and mutating_calls(sandbox) == {}
    # every resource carries the stack tag (the schedule through its tagged group, the topic's policy
    # through its topic)
    assert len(tagged_resources(target, "conv")) == len(first[first["type"] != "AWS::SNS::TopicPolicy"])
    stack.teardown(target, spec, delete_logs=True, delete_images=True)


@pytest.mark.sandbox
def test_plan_answers_with_the_change_set_type_apply_returns(target):
    spec = make_spec(target, "same")
    planned = stack.plan(target, spec)
    assert isinstance(planned, stack.ChangeSet) and planned.dry_run and not any(c.done for c in planned.changes)
    assert [c.resource for c in planned.changes] == [d.name for d in stack.desired_resources(spec)]
    assert planned.to_frame().attrs["stack"] == "same"


@pytest.mark.parametrize(
    "pattern, dependent", [("B", "AWS::StepFunctions::StateMachine"), ("A", "AWS::Scheduler::Schedule")]
)
@pytest.mark.sandbox
def test_changed_cpu_architecture_updates_only_what_depends_on_it(target, sandbox, pattern, dependent):
    spec = make_spec(target, f"arch-{pattern.lower()}", pattern=pattern)
    stack.apply(target, spec)
    arm = spec.replace(cpu_architecture="ARM64")
    planned = stack.plan(target, arm).to_frame()
    updates = planned[planned["action"] != "no-op"]
    assert sorted(updates["type"]) == sorted(["AWS::ECS::TaskDefinition", dependent])
    td_diff = updates.set_index("type").loc["AWS::ECS::TaskDefinition", "diff"]
    assert td_diff == "runtimePlatform.cpuArchitecture: X86_64 -> ARM64"
    assert stack.NEXT_REVISION in updates.set_index("type").loc[dependent, "diff"]

    sandbox.control("DELETE", "calls", {})
    done = stack.apply(target, arm)
    assert sorted(c.type for c in done.changed) == sorted(["AWS::ECS::TaskDefinition", dependent])
    assert set(mutating_calls(sandbox)) == {
        "ecs.RegisterTaskDefinition",
        "states.UpdateStateMachine" if pattern == "B" else f"scheduler.PUT:/schedules/{spec.schedule_name}",
    }
    ecs = target.client("ecs")
    latest = ecs.describe_task_definition(taskDefinition=spec.family)["taskDefinition"]
    assert latest["revision"] == 2 and latest["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    # the dependent now runs exactly the new revision
    if pattern == "B":
        definition = target.client("stepfunctions").describe_state_machine(stateMachineArn=spec.state_machine_arn)[
            "definition"
        ]
        assert latest["taskDefinitionArn"] in definition
    else:
        s = target.client("scheduler").get_schedule(Name=spec.schedule_name, GroupName=stack.schedule_group(spec))
        assert s["Target"]["EcsParameters"]["TaskDefinitionArn"] == latest["taskDefinitionArn"]
    assert set(stack.plan(target, arm).to_frame()["action"]) == {"no-op"}
    stack.teardown(target, arm, delete_logs=True, delete_images=True)


@pytest.mark.sandbox
def test_switching_pattern_deletes_what_b_alone_needed(target):
    spec = make_spec(target, "switch")
    stack.apply(target, spec)
    planned = stack.plan(target, spec.replace(pattern="A")).to_frame()
    deleted = set(planned[planned["action"] == "delete"]["type"])
    # the topic stays (pattern A's rule publishes to it); B's execution alarms go
    assert deleted == {
        "AWS::StepFunctions::StateMachine",
        "AWS::CloudWatch::Alarm",
        "AWS::IAM::Role",
        "AWS::Logs::LogGroup",
    }
    assert set(planned[planned["action"] == "create"]["type"]) == {"AWS::Events::Rule"}
    schedule_row = planned[planned["type"] == "AWS::Scheduler::Schedule"].iloc[0]
    assert schedule_row["action"] == "update" and "cluster/switch" in schedule_row["diff"]
    stack.apply(target, spec.replace(pattern="A"))
    sfn = target.client("stepfunctions")
    assert spec.state_machine_arn not in [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]
    assert set(stack.plan(target, spec.replace(pattern="A")).to_frame()["action"]) == {"no-op"}
    stack.teardown(target, spec, delete_logs=True, delete_images=True)


@pytest.mark.sandbox
def test_teardown_deletes_only_tagged_resources_and_is_idempotent(target):
    spec = make_spec(target, "tidy")
    # look-alikes nobody tagged: the cluster of the same name (the stack uses it as is), and
    # resources whose names differ by a suffix
    ecs, logs, iam, sqs = (target.client(s) for s in ("ecs", "logs", "iam", "sqs"))
    ecs.create_cluster(clusterName="tidy")
    logs.create_log_group(logGroupName="/ecs/tidy-other")
    iam.create_role(
        RoleName="tidy-sfn-other",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    queue = sqs.create_queue(QueueName="tidy-dlq-other", tags={TAG: "someone-else"})["QueueUrl"]
    ecs.register_task_definition(
        family="tidy-job2",
        containerDefinitions=[{"name": "x", "image": "busybox"}],
        cpu="256",
        memory="512",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
    )

    planned = stack.plan(target, spec).to_frame()
    cluster_row = planned[planned["type"] == "AWS::ECS::Cluster"].iloc[0]
    assert cluster_row["action"] == "no-op" and "used as is" in cluster_row["reason"]
    stack.apply(target, spec)
    assert tagged_resources(target, "tidy")

    result = stack.teardown(target, spec, delete_logs=True, delete_images=True)
    assert tagged_resources(target, "tidy") == []
    kept = [c for c in result.changes if c.action == "no-op"]
    assert [(c.type, c.resource) for c in kept] == [("AWS::ECS::Cluster", "tidy")]
    # the look-alikes survive
    assert ecs.describe_clusters(clusters=["tidy"])["clusters"][0]["status"] == "ACTIVE"
    assert logs.describe_log_groups(logGroupNamePrefix="/ecs/tidy-other")["logGroups"]
    assert iam.get_role(RoleName="tidy-sfn-other")["Role"]["RoleName"] == "tidy-sfn-other"
    assert sqs.get_queue_url(QueueName="tidy-dlq-other")["QueueUrl"] == queue
    assert ecs.describe_task_definition(taskDefinition="tidy-job2")["taskDefinition"]["status"] == "ACTIVE"
    # idempotent: nothing left to delete
    assert stack.teardown(target, spec, delete_logs=True, delete_images=True).changed == []


@pytest.mark.sandbox
def test_teardown_cleans_up_after_apply_fails_midway(target):
    spec = make_spec(target, "half")
    sfn = target.client("stepfunctions")

    def refuse(**kwargs: Any) -> None:
        from botocore.exceptions import ClientError

        raise ClientError(
            {
                "Error": {
                    "Code": "StateMachineLimitExceeded",
                    "Message": "injected fault: the account's state machine quota is reached",
                }
            },
            "CreateStateMachine",
        )

    # a fault injected at the API boundary, as AWS answers it: the state machine cannot be created
    sfn.meta.events.register("before-call.sfn.CreateStateMachine", refuse)
    try:
        with pytest.raises(
            StackError, match="AWS::StepFunctions::StateMachine half failed.*StateMachineLimit"
        ) as caught:
            stack.apply(target, spec)
    finally:
        sfn.meta.events.unregister("before-call.sfn.CreateStateMachine", refuse)
    partial = caught.value.changes  # type: ignore[attr-defined]
    assert [c.type for c in partial.changes if c.done][-1] == "AWS::ECS::TaskDefinition"
    assert tagged_resources(target, "half")  # half a stack is left
    # the plan picks up where apply stopped: what was done is up to date, the rest is still to create
    remaining = stack.plan(target, spec).to_frame()
    created = set(remaining[remaining["action"] == "create"]["type"])
    assert created == {
        "AWS::StepFunctions::StateMachine",
        "AWS::Scheduler::ScheduleGroup",
        "AWS::Scheduler::Schedule",
        "AWS::CloudWatch::Alarm",
    }
    assert set(remaining["action"]) == {"create", "no-op"}
    deleted = stack.teardown(target, spec, delete_logs=True, delete_images=True)
    assert "AWS::StepFunctions::StateMachine" not in {c.type for c in deleted.changes}
    assert tagged_resources(target, "half") == []


@pytest.mark.sandbox
def test_apply_refuses_to_adopt_an_untagged_resource(target, sandbox):
    spec = make_spec(target, "clash")
    iam = target.client("iam")
    iam.create_role(
        RoleName="clash-sfn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    planned = stack.plan(target, spec).to_frame()
    row = planned[planned["resource"] == "clash-sfn"].iloc[0]
    assert row["action"] == "conflict" and "without tag sfnecs:stack=clash" in row["reason"]
    sandbox.control("DELETE", "calls", {})
    with pytest.raises(StackError, match="nothing changed.*clash-sfn"):
        stack.apply(target, spec)
    assert mutating_calls(sandbox) == {}
    assert iam.get_role(RoleName="clash-sfn")["Role"]["AssumeRolePolicyDocument"]["Statement"] == []


@pytest.mark.sandbox
def test_verify_can_read_the_entrypoint_binary_behind_a_label(target):
    # a label that says arm64 over an amd64 binary: the pull passes, the kernel refuses (exec format error)
    spec = make_spec(target, "vbin", cpu_architecture="ARM64")
    stack.apply(target, spec)
    try:
        push_sample_image(target, spec.repository, "amd64", label_architecture="arm64")
        assert stack.verify(target, spec).ok  # the labels alone cannot tell
        deep = stack.verify(target, spec, inspect_binary=True)
        (binary,) = deep.failed
        assert binary.check == "entrypoint binary runs on runtimePlatform"
        assert "/app/job is ELF 64-bit LSB, AMD x86-64" in binary.detail and "exec format error" in binary.detail
        assert "TARGETARCH" in binary.fix and "--platform linux/arm64" in binary.fix
        # on X86_64 the same image runs: its binary decides, not its label (the pull ignores a single image's label)
        x86 = stack.verify(target, spec.replace(cpu_architecture="X86_64"), inspect_binary=True)
        assert x86.ok, x86.to_frame().to_string()
        label = next(c for c in x86.checks if c.check == "image platform matches runtimePlatform")
        assert label.status == "skip" and "the entrypoint binary decides" in label.detail
        with pytest.raises(ValidationError, match="inspect_binary='yes'"):
            stack.verify(target, spec, inspect_binary="yes")
    finally:
        stack.teardown(target, spec, delete_logs=True, delete_images=True)


@pytest.mark.sandbox
def test_verify_passes_on_a_sound_stack_and_names_the_fix(target):
    spec = make_spec(target, "pre")
    before = stack.verify(target, spec)
    assert not before.ok
    failing = {c.check for c in before.failed}
    assert {"cluster exists", "log group exists", "role trusted by service", "image exists"} <= failing

    stack.apply(target, spec)
    push_sample_image(target, spec.repository, "amd64")
    result = stack.verify(target, spec)
    assert result.ok, result.to_frame().to_string()
    assert list(result.to_frame().columns) == ["check", "resource", "status", "detail", "fix"]
    assert {c.check for c in result.checks} >= {
        "cluster exists",
        "role trusted by service",
        "image exists",
        "image platform matches runtimePlatform",
        "log group exists",
        "subnet exists",
        "security group exists",
        "schedule expression valid",
    }

    arm = stack.verify(target, spec.replace(cpu_architecture="ARM64"))
    (platform,) = arm.failed
    assert platform.check == "image platform matches runtimePlatform"
    assert "exec format error" in platform.detail and "--platform linux/arm64" in platform.fix

    push_sample_image(target, spec.repository, platforms=["amd64"], tag="multi")
    index = stack.verify(
        target, spec.replace(cpu_architecture="ARM64", image=spec.image_uri.replace(":latest", ":multi"))
    )
    assert "descriptor matching platform" in index.failed[0].detail

    bad = stack.verify(target, spec.replace(subnets=("subnet-0a1b2c3d",), security_groups=("sg-0a1b2c3d",)))
    assert {(c.check, c.resource) for c in bad.failed} == {
        ("subnet exists", "subnet-0a1b2c3d"),
        ("security group exists", "sg-0a1b2c3d"),
    }

    # a role whose trust was changed by hand is caught
    target.client("iam").update_assume_role_policy(
        RoleName="pre-sfn",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    drifted = stack.verify(target, spec)
    assert [(c.resource, c.status) for c in drifted.failed] == [("pre-sfn", "fail")]
    assert "states.amazonaws.com" in drifted.failed[0].fix
    assert actions(stack.plan(target, spec).to_frame())[("AWS::IAM::Role", "pre-sfn")] == "update"
    stack.teardown(target, spec, delete_logs=True, delete_images=True)


@pytest.mark.sandbox
def test_capacity_providers_are_associated_and_every_launch_runs_on_them(target, sandbox):
    from sfnecs import runs

    ecs = target.client("ecs")
    plain = make_spec(target, "spot", pattern="A", image="busybox", schedule_enabled=False)
    stack.apply(target, plain)  # a cluster without capacity providers, owned by the stack
    spec = plain.replace(capacity_provider_strategy="FARGATE_SPOT")
    check = {c.check: c for c in stack.verify(target, spec).checks}["capacity providers associated"]
    assert check.status == "fail" and "FARGATE_SPOT not associated" in check.detail
    planned = stack.plan(target, spec).to_frame()
    row = planned[planned["type"] == "AWS::ECS::Cluster"].iloc[0]
    assert row["action"] == "update" and "FARGATE_SPOT" in row["diff"]
    stack.apply(target, spec)
    assert ecs.describe_clusters(clusters=["spot"])["clusters"][0]["capacityProviders"] == ["FARGATE_SPOT"]
    assert stack.verify(target, spec).ok and set(stack.plan(target, spec).to_frame()["action"]) == {"no-op"}

    fast = runs.Backoff(initial=0.05, factor=1.6, cap=0.5)
    direct = runs.run_direct(target, spec, timeout=30, progress=False, backoff=fast)
    assert direct.ok, direct
    # the schedule's own launch (pattern A: the Scheduler calls RunTask with the same strategy); an
    # enabled rate() schedule fires at once
    fired = spec.replace(schedule_expression="rate(1 hour)", schedule_enabled=True)
    stack.apply(target, fired)
    found = runs.wait_for_next(target, fired, [direct.task_arn], timeout=20, backoff=fast)
    tasks = ecs.describe_tasks(cluster="spot", tasks=[direct.task_arn, found.arn])["tasks"]
    assert sorted((t.get("startedBy"), t.get("capacityProviderName"), t["launchType"]) for t in tasks) == [
        ("events-scheduler", "FARGATE_SPOT", "FARGATE"),
        ("sfnecs", "FARGATE_SPOT", "FARGATE"),
    ]
    stack.teardown(target, fired, delete_logs=True, delete_images=True)


@pytest.mark.sandbox
def test_default_network_reads_the_default_vpc(target):
    subnets, groups = stack.default_network(target)
    ec2 = target.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    assert subnets and all(s["VpcId"] == vpc for s in ec2.describe_subnets(SubnetIds=list(subnets))["Subnets"])
    assert (
        len(groups) == 1
        and ec2.describe_security_groups(GroupIds=list(groups))["SecurityGroups"][0]["GroupName"] == "default"
    )


def test_diff_compares_only_what_the_spec_sets():
    want = {"cpu": "256", "containerDefinitions": [{"name": "job", "environment": [{"name": "A", "value": "1"}]}]}
    have = {
        "cpu": "256",
        "revision": 4,
        "containerDefinitions": [{"name": "job", "cpu": 0, "environment": [{"name": "A", "value": "2"}]}],
    }
    assert document_diff(want, have) == ["containerDefinitions[0].environment[0].value: 2 -> 1"]
    assert document_diff({"cpu": "256"}, {"cpu": 256}) == []  # the API's strings and numbers
    assert document_diff({"essential": True}, {"essential": "True"}) == ["essential: True -> true"]


def test_a_new_role_is_retried_while_iam_propagates():
    from botocore.exceptions import ClientError

    attempts, slept = [], []

    def create() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ClientError(
                {
                    "Error": {
                        "Code": "AccessDeniedException",
                        "Message": "Neither the global service "
                        "principal states.amazonaws.com, nor the regional one is authorized to assume the "
                        "provided role.",
                    }
                },
                "CreateStateMachine",
            )
        return "arn"

    assert retry_role_propagation(create, sleep=slept.append) == "arn"
    assert slept == [1.0, 2.0]
    refused = ClientError({"Error": {"Code": "ValidationException", "Message": "bad definition"}}, "Create")

    def invalid() -> None:
        raise refused

    with pytest.raises(ClientError):
        retry_role_propagation(invalid, sleep=slept.append)
    assert slept == [1.0, 2.0]  # other errors are not retried


@pytest.mark.sandbox
def test_teardown_finishes_what_an_interrupted_teardown_left(target):
    spec = make_spec(target, "resume", pattern="A")
    stack.apply(target, spec)
    ecs = target.client("ecs")
    # an earlier teardown stopped after deregistering: the revision is INACTIVE but not deleted
    ecs.deregister_task_definition(taskDefinition=f"{spec.family}:1")
    assert stack.plan(target, spec).to_frame().set_index("type").loc["AWS::ECS::TaskDefinition", "action"] == "create"
    result = stack.teardown(target, spec, delete_logs=True, delete_images=True)
    assert ("AWS::ECS::TaskDefinition", "delete") in {(c.type, c.action) for c in result.changes}
    assert tagged_resources(target, "resume") == []


@pytest.mark.sandbox
def test_alert_email_is_subscribed_confirmed_and_removed(target):
    from sfnecs.sandbox.notifications import confirm_email  # the recipient's click, which only the sandbox can make

    spec = make_spec(target, "mail", notify_email="ops@example.com")
    stack.apply(target, spec)
    sns = target.client("sns")

    def subscriptions() -> list[tuple[str, bool]]:
        found = sns.list_subscriptions_by_topic(TopicArn=spec.topic_arn)["Subscriptions"]
        return [(s["Endpoint"], s["SubscriptionArn"].startswith("arn:")) for s in found]

    assert subscriptions() == [("ops@example.com", False)]  # pending until the recipient confirms
    assert set(stack.plan(target, spec).to_frame()["action"]) == {"no-op"}
    assert set(stack.plan(target, spec.replace(notify_email=""), email="ops@example.com").to_frame()["action"]) == {
        "no-op"
    }
    # a pending subscription cannot be removed (SNS): one the spec no longer wants is no difference yet
    assert set(stack.plan(target, spec.replace(notify_email="")).to_frame()["action"]) == {"no-op"}
    assert confirm_email(spec.topic_arn, "ops@example.com")
    row = stack.plan(target, spec.replace(notify_email="")).to_frame().set_index("type").loc["AWS::SNS::Topic"]
    assert row["action"] == "update" and row["diff"] == 'EmailSubscriptions: ["ops@example.com"] -> []'
    stack.apply(target, spec.replace(notify_email=""))
    assert subscriptions() == []
    stack.teardown(target, spec, delete_logs=True, delete_images=True)


@pytest.mark.sandbox
def test_teardown_keeps_logs_and_images_unless_asked(target):
    spec = make_spec(target, "keeper")
    stack.apply(target, spec)
    push_sample_image(target, spec.repository, "amd64")
    logs, ecr = target.client("logs"), target.client("ecr")

    with pytest.raises(ValidationError, match="delete_logs='yes' is not valid: True or False"):
        stack.teardown(target, spec, delete_logs="yes")  # type: ignore[arg-type]
    first = stack.teardown(target, spec)
    kept = {c.resource: c.reason for c in first.kept}
    assert set(kept) == {spec.log_group, "/aws/vendedlogs/states/keeper", spec.repository}
    assert kept[spec.log_group] == (
        f"kept: the logs of past runs; remove with delete_logs=True or `aws logs delete-log-group "
        f"--log-group-name {spec.log_group}`"
    )
    assert "delete_images=True" in kept[spec.repository] and "--force" in kept[spec.repository]
    assert logs.describe_log_groups(logGroupNamePrefix=spec.log_group)["logGroups"]
    assert ecr.describe_images(repositoryName=spec.repository)["imageDetails"]
    assert all(c.done for c in first.changed)  # everything else went

    second = stack.teardown(target, spec, delete_logs=True, delete_images=True)
    assert {c.resource for c in second.changed} == set(kept) and second.kept == []
    assert not logs.describe_log_groups(logGroupNamePrefix=spec.log_group)["logGroups"]
    assert spec.repository not in [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]

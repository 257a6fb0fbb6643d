"""IAM enforced on AWS's behalf in the sandbox: every grant of the generated policies is needed, and shows how.

For each (action, resource) of each role's generated policy, in both patterns, the grant is removed from the
role (iam:PutRolePolicy, as a learner would) and the call that needs it fails the way AWS fails; then the
generated policy is put back. The full policies pass, and so does the original note's broad policy when
the task definition names only the execution role, as the note's did.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.test_stack import deployed, make_spec

from sfnecs import iam, runs
from sfnecs.deploy.requests import pin_task_definition, state_machine_request
from sfnecs.diagnose import diagnose_task
from sfnecs.evidence.permission_drill import drill
from sfnecs.exceptions import ValidationError
from sfnecs.model import StackSpec
from sfnecs.model.spec import POLICY_NAME, schedule_group
from sfnecs.runs import Backoff, RunResult

pytestmark = pytest.mark.sandbox

FAST = Backoff(initial=0.05, factor=1.6, cap=0.5)
DEADLINE_S = 20.0


# ---- stacks and helpers -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stacks(target) -> Iterator[dict[str, StackSpec]]:
    """One deployed stack per pattern, schedules disabled (the tests fire probe schedules)."""
    b = make_spec(target, "iam-b", launch_retry_attempts=0, schedule_enabled=False, query_language="JSONPath")
    a = make_spec(target, "iam-a", pattern="A", schedule_enabled=False)
    with deployed(target, b), deployed(target, a):
        yield {"A": a, "B": b}


@pytest.fixture
def restore(target, sandbox, stacks) -> Iterator[None]:
    """After the test: every role's generated policy back, faults and denials forgotten."""
    sandbox.control("DELETE", "iam", {})
    yield
    sandbox.control("DELETE", "faults", {})
    sfn = target.client("stepfunctions")
    for running in sfn.list_executions(stateMachineArn=stacks["B"].state_machine_arn, statusFilter="RUNNING")[
        "executions"
    ]:
        sfn.stop_execution(executionArn=running["executionArn"])  # a run left by a failed test: the guard skips
    for spec in stacks.values():
        for name, role in iam.policies_for(spec).items():
            if role.permissions:
                put(target, name, role.permissions)


def put(target: Any, role: str, policy: dict[str, Any]) -> None:
    target.client("iam").put_role_policy(RoleName=role, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(policy))


def remove(target: Any, spec: StackSpec, kind: str, action: str, resource: str | None = None) -> None:
    put(target, getattr(spec, f"{kind}_role"), iam.without(spec, kind, action, resource))


def until(found: Callable[[], Any], what: str) -> Any:
    """Poll `found` until it returns something truthy (deadline DEADLINE_S)."""
    deadline = time.monotonic() + DEADLINE_S
    while not (value := found()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    return value


def run_b(target: Any, spec: StackSpec) -> tuple[RunResult, list[dict[str, Any]]]:
    """One execution of the B stack, waited for, with its TaskFailed details."""
    run = runs.start(target, spec, name=f"iam-{uuid.uuid4().hex[:12]}")
    result = runs.wait(target, run, progress=False, timeout=DEADLINE_S, backoff=FAST)
    events = target.client("stepfunctions").get_execution_history(executionArn=result.execution_arn, maxResults=1000)
    return result, [e["taskFailedEventDetails"] for e in events["events"] if e["type"] == "TaskFailed"]


def run_task(target: Any, spec: StackSpec) -> RunResult:
    return runs.run_direct(
        target, spec, timeout=DEADLINE_S, progress=False, backoff=FAST, client_token=uuid.uuid4().hex
    )


def fire(sandbox: Any, target: Any, spec: StackSpec, **override: Any) -> Any:
    """Deliver the stack's schedule target once through a probe schedule (a rate schedule fires at creation)."""
    sched = target.client("scheduler")
    group = schedule_group(spec)
    probe = f"probe-{uuid.uuid4().hex[:10]}"
    stack_target = sched.get_schedule(Name=spec.schedule_name, GroupName=group)["Target"]
    sched.create_schedule(
        Name=probe,
        GroupName=group,
        ScheduleExpression="rate(1 day)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={**stack_target, **override},
    )
    try:
        sandbox.tick()
        return until(
            lambda: next(
                (d for d in sandbox.scheduler.deliveries if d.source.endswith(f"/{probe}") and d.outcome != "retrying"),
                None,
            ),
            f"a delivery of {probe}",
        )
    finally:
        sched.delete_schedule(Name=probe, GroupName=group)


def dead_letters(target: Any, spec: StackSpec) -> list[dict[str, str]]:
    """The DLQ's messages' attributes (the queue is emptied)."""
    sqs = target.client("sqs")
    url = sqs.get_queue_url(QueueName=spec.dlq_arn.rsplit(":", 1)[-1])["QueueUrl"]
    out = []
    while messages := sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], MaxNumberOfMessages=10).get(
        "Messages"
    ):
        for m in messages:
            out.append({k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out


# ---- what removing each grant does ----------------------------------------------------------------------
def _sync_state_fails(target, sandbox, spec, kind, action, resource):
    result, failed = run_b(target, spec)
    assert result.status == "FAILED"
    ecs = [f for f in failed if f["resourceType"] == "ecs"]
    assert ecs and ecs[0]["error"] == "ECS.AccessDeniedException", failed
    assert f"is not authorized to perform: {action} on resource: " in ecs[0]["cause"]
    assert f"assumed-role/{spec.sfn_role}/" in ecs[0]["cause"]
    assert "(Service: AmazonECS; Status Code: 400; Error Code: AccessDeniedException;" in ecs[0]["cause"]
    if action == "iam:PassRole":
        assert f"on resource: {resource} " in ecs[0]["cause"]
    return {"error": ecs[0]["error"], "cause": ecs[0]["cause"]}


def _stop_is_refused(target, sandbox, spec, kind, action, resource):
    # StopTask is needed only when Step Functions stops its task: the execution is stopped mid-run
    sandbox.control("POST", "faults", {"kind": "hang", "family": spec.family})
    run = runs.start(target, spec, name=f"iam-{uuid.uuid4().hex[:12]}")
    ecs, sfn = target.client("ecs"), target.client("stepfunctions")

    def submitted() -> str | None:
        events = sfn.get_execution_history(executionArn=run.arn, maxResults=1000)["events"]
        done = [e["taskSubmittedEventDetails"]["output"] for e in events if e["type"] == "TaskSubmitted"]
        return json.loads(done[0])["Tasks"][0]["TaskArn"] if done else None

    arn = until(submitted, "the hung task")  # the .sync state waits for it now
    sfn.stop_execution(executionArn=run.arn)
    denial = until(
        lambda: [d for d in sandbox.control("GET", "iam", {})["denials"] if d["action"] == "ecs:StopTask"],
        "Step Functions' StopTask",
    )
    assert denial[0]["role"] == spec.role_arn(spec.sfn_role) and denial[0]["resource"] == arn
    task = ecs.describe_tasks(cluster=spec.cluster, tasks=[arn])["tasks"][0]
    assert task["desiredStatus"] == "RUNNING"  # the task Step Functions started is left running
    ecs.stop_task(cluster=spec.cluster, task=arn, reason="test cleanup")


def _managed_rule_refused(target, sandbox, spec, kind, action, resource):
    with pytest.raises(ClientError) as refused:
        target.client("stepfunctions").update_state_machine(
            stateMachineArn=spec.state_machine_arn, roleArn=spec.role_arn(spec.sfn_role)
        )
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == f"'{spec.role_arn(spec.sfn_role)}' is not authorized to create managed-rule."
    return {"error": error["Code"], "cause": error["Message"]}


def _log_delivery_refused(target, sandbox, spec, kind, action, resource):
    with pytest.raises(ClientError) as refused:
        target.client("stepfunctions").update_state_machine(
            stateMachineArn=spec.state_machine_arn, roleArn=spec.role_arn(spec.sfn_role)
        )
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "not authorized to access the Log Destination" in refused.value.response["Error"]["Message"]
    return {"error": "AccessDeniedException", "cause": refused.value.response["Error"]["Message"]}


def _notify_fails(target, sandbox, spec, kind, action, resource):
    sandbox.control("POST", "faults", {"kind": "exit_code", "exit_code": 3, "family": spec.family})
    result, failed = run_b(target, spec)
    assert result.status == "FAILED"
    sns = [f for f in failed if f["resourceType"] == "sns"]
    assert sns and sns[0]["error"] == "SNS.AuthorizationErrorException", failed
    assert f"is not authorized to perform: sns:Publish on resource: {spec.topic_arn}" in sns[0]["cause"]
    return {"error": sns[0]["error"], "cause": sns[0]["cause"]}


def _guard_fails(target, sandbox, spec, kind, action, resource):
    result, failed = run_b(target, spec)
    assert result.status == "FAILED" and result.task_arn is None  # no task was started
    guard = [f for f in failed if f["resourceType"] == "aws-sdk:sfn"]
    assert guard and guard[0]["error"].startswith("Sfn."), failed
    assert (
        f"is not authorized to perform: states:ListExecutions on resource: {spec.state_machine_arn}"
        in (guard[0]["cause"])
    )
    return {"error": guard[0]["error"], "cause": guard[0]["cause"]}


def _invocation_dead_lettered(target, sandbox, spec, kind, action, resource):
    delivery = fire(sandbox, target, spec)
    assert delivery.outcome == "dead-lettered" and delivery.attempt == 1  # a denial is not retried
    (attrs,) = dead_letters(target, spec)
    assert attrs["ERROR_CODE"] == "AccessDeniedException"
    assert f"assumed-role/{spec.scheduler_role}/" in attrs["ERROR_MESSAGE"]
    assert f"is not authorized to perform: {action} on resource: " in attrs["ERROR_MESSAGE"]
    assert "EXHAUSTED_RETRY_CONDITION" not in attrs
    assert attrs["TARGET_ARN"] == delivery.target_arn and attrs["RETRY_ATTEMPTS"] == "0"
    assert {"EXECUTION_ID", "SCHEDULED_TIME", "SCHEDULE_ARN", "IS_PAYLOAD_TRUNCATED"} <= set(attrs)
    return {"error": attrs["ERROR_CODE"], "cause": attrs["ERROR_MESSAGE"]}


def _dead_letter_dropped(target, sandbox, spec, kind, action, resource):
    # the DLQ is written only for a failed invocation: the probe targets what the role may not call
    if spec.pattern == "B":
        override = {"Arn": spec.state_machine_arn + "-other"}
    else:
        params = sandbox.client("scheduler").get_schedule(Name=spec.schedule_name, GroupName=schedule_group(spec))
        ecs_parameters = {**params["Target"]["EcsParameters"], "TaskDefinitionArn": "some-other-family:1"}
        override = {"EcsParameters": ecs_parameters}
    delivery = fire(sandbox, target, spec, **override)
    assert delivery.outcome == "dropped"
    assert (
        f"is not authorized to perform: sqs:SendMessage on resource: {spec.dlq_arn}"
        in (delivery.result["dead_letter_error"])
    )
    assert dead_letters(target, spec) == []
    return {"error": "AccessDenied", "cause": delivery.result["dead_letter_error"]}


def _task_fails_to_start(*, starts: str, says: tuple[str, ...]) -> Callable[..., None]:
    def check(target, sandbox, spec, kind, action, resource):
        result = run_task(target, spec)
        assert (result.status, result.stop_code, result.exit_code) == ("FAILED", "TaskFailedToStart", None)
        assert result.stopped_reason.startswith(starts), result.stopped_reason
        for text in says:
            assert text.format(role=spec.execution_role, action=action) in result.stopped_reason
        return {"task": target.client("ecs").describe_tasks(cluster=spec.cluster, tasks=[result.task_arn])["tasks"][0]}

    return check


_AUTH = _task_fails_to_start(
    starts="ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
    "failed: unable to retrieve ecr registry auth",
    says=("assumed-role/{role}/", "{action} on resource: *"),
)
_MANIFEST = _task_fails_to_start(starts="CannotPullContainerError: pull image manifest", says=("403 Forbidden",))
_LAYERS = _task_fails_to_start(starts="CannotPullContainerError: ref pull", says=("blobs", "403 Forbidden"))
_STREAM = _task_fails_to_start(
    starts="ResourceInitializationError: failed to validate logger args", says=("assumed-role/{role}/", "{action}")
)


def _not_needed_for_a_pull(target, sandbox, spec, kind, action, resource):
    # AmazonECSTaskExecutionRolePolicy grants it, the pull does not use it (ECR user guide, "Using Amazon ECR
    # images with Amazon ECS": GetAuthorizationToken, BatchGetImage, GetDownloadUrlForLayer)
    assert run_task(target, spec).ok


def _logs_lost(target, sandbox, spec, kind, action, resource):
    result = run_task(target, spec)
    assert result.ok  # the job runs; the awslogs driver cannot deliver its lines
    assert runs.logs(target, result) == []
    assert any(d["action"] == "logs:PutLogEvents" for d in sandbox.control("GET", "iam", {})["denials"])


#: (pattern, role kind, action) -> what removing the grant does
EXPECTED: dict[tuple[str, str, str], Callable[..., None]] = {
    ("B", "sfn", "ecs:RunTask"): _sync_state_fails,
    ("B", "sfn", "iam:PassRole"): _sync_state_fails,
    ("B", "sfn", "ecs:DescribeTasks"): _sync_state_fails,
    ("B", "sfn", "ecs:StopTask"): _stop_is_refused,
    ("B", "sfn", "events:PutRule"): _managed_rule_refused,
    ("B", "sfn", "events:PutTargets"): _managed_rule_refused,
    ("B", "sfn", "events:DescribeRule"): _managed_rule_refused,
    ("B", "sfn", "sns:Publish"): _notify_fails,
    ("B", "sfn", "states:ListExecutions"): _guard_fails,
    **{("B", "sfn", a): _log_delivery_refused for a in iam.LOG_DELIVERY_ACTIONS},
    ("B", "scheduler", "states:StartExecution"): _invocation_dead_lettered,
    ("A", "scheduler", "ecs:RunTask"): _invocation_dead_lettered,
    ("A", "scheduler", "iam:PassRole"): _invocation_dead_lettered,
    ("A", "scheduler", "ecs:TagResource"): _invocation_dead_lettered,
    **{(p, "scheduler", "sqs:SendMessage"): _dead_letter_dropped for p in "AB"},
    **{(p, "execution", "ecr:GetAuthorizationToken"): _AUTH for p in "AB"},
    **{(p, "execution", "ecr:BatchGetImage"): _MANIFEST for p in "AB"},
    **{(p, "execution", "ecr:GetDownloadUrlForLayer"): _LAYERS for p in "AB"},
    **{(p, "execution", "ecr:BatchCheckLayerAvailability"): _not_needed_for_a_pull for p in "AB"},
    **{(p, "execution", "logs:CreateLogStream"): _STREAM for p in "AB"},
    **{(p, "execution", "logs:PutLogEvents"): _logs_lost for p in "AB"},
}


def _cases() -> list[tuple[str, str, str, int]]:
    """(pattern, kind, action, n): the n-th grant of that action, for every grant of both patterns' policies."""
    out = []
    for pattern in "AB":
        spec = StackSpec(f"iam-{pattern.lower()}", pattern=pattern)
        seen: dict[tuple[str, str], int] = {}
        for g in iam.grants(spec):
            n = seen[(g.kind, g.action)] = seen.get((g.kind, g.action), -1) + 1
            out.append((pattern, g.kind, g.action, n))
    return out


def test_every_grant_has_an_expected_failure():
    missing = {(p, k, a) for p, k, a, _ in _cases()} - set(EXPECTED)
    assert not missing, f"grants whose removal no test checks: {sorted(missing)}"


@pytest.mark.parametrize(("pattern", "kind", "action", "n"), _cases(), ids=lambda v: str(v))
def test_removing_a_grant_fails_as_aws_does(target, sandbox, stacks, restore, pattern, kind, action, n):
    spec = stacks[pattern]
    grant = [g for g in iam.grants(spec) if (g.kind, g.action) == (kind, action)][n]
    remove(target, spec, kind, action, grant.resource)
    failure = EXPECTED[(pattern, kind, action)](target, sandbox, spec, kind, action, grant.resource)
    if failure is None:
        return  # nothing failed: the grant is needed only when something else happens (see its check)
    # ... and diagnose names the category, the missing action and the role
    found = diagnose_task(**failure)
    if kind == "sfn" and action.startswith("events:"):
        assert found.category == "managed_rule_denied" and action in found.fix and grant.role in found.fix, found
    elif kind == "sfn" and action.startswith("logs:"):
        assert found.category == "log_delivery_denied" and action in found.fix, found
    elif action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"):  # the registry's 403 names no role
        assert found.category == "pull_error" and action in found.fix and "execution role" in found.summary, found
    else:
        assert found.category == "access_denied" and action in found.fix and grant.role in found.fix, found


# ---- the full policies, and the note's broad one -----------------------------------------------------
def test_the_generated_policies_pass(target, sandbox, stacks, restore):
    b, a = stacks["B"], stacks["A"]
    result, failed = run_b(target, b)
    assert result.ok and failed == []
    assert fire(sandbox, target, b).outcome == "delivered"
    delivered = fire(sandbox, target, a)
    assert delivered.outcome == "delivered" and len(delivered.result["taskArns"]) == 1
    ecs = target.client("ecs")
    task_arn = delivered.result["taskArns"][0]

    def stopped() -> Any:
        task = ecs.describe_tasks(cluster=a.cluster, tasks=[task_arn])["tasks"][0]
        return task if task["lastStatus"] == "STOPPED" else None

    task = until(stopped, "the scheduled task to stop")
    assert task["stopCode"] == "EssentialContainerExited" and task["containers"][0]["exitCode"] == 0
    assert runs.logs(target, task_arn) != []
    assert sandbox.control("GET", "iam", {})["denials"] == []
    target.client("stepfunctions").update_state_machine(
        stateMachineArn=b.state_machine_arn, roleArn=b.role_arn(b.sfn_role)
    )


def test_the_broad_policy_of_the_note_passes_for_the_notes_task_definition(target, sandbox, stacks, restore):
    # the note's stack: no guard, no notifications, no execution logging, and a task definition naming only
    # the execution role (its PassRole names only that role)
    spec = stacks["B"].replace(guard=False, notify_failure=False, execution_logging=False)
    put(target, spec.sfn_role, iam.broad_policy(spec))
    sfn = target.client("stepfunctions")
    ecs = target.client("ecs")
    current = ecs.describe_task_definition(taskDefinition=spec.family)["taskDefinition"]
    keep = ("family", "networkMode", "requiresCompatibilities", "cpu", "memory", "runtimePlatform", "executionRoleArn")
    note_revision = ecs.register_task_definition(
        **{k: current[k] for k in keep}, containerDefinitions=current["containerDefinitions"]
    )["taskDefinition"]["taskDefinitionArn"]

    def run_revision(revision: str) -> tuple[RunResult, list[dict[str, Any]]]:
        request = pin_task_definition(state_machine_request(spec), spec, revision)
        sfn.update_state_machine(
            stateMachineArn=spec.state_machine_arn,
            definition=json.dumps(request["definition"]),
            roleArn=request["roleArn"],
            loggingConfiguration=request["loggingConfiguration"],
        )
        return run_b(target, spec)

    try:
        result, failed = run_revision(note_revision)
        assert result.ok and failed == [], failed
        # ... and with the kit's task definition, which names a task role too, the note's PassRole falls short
        result, failed = run_revision(current["taskDefinitionArn"])
        assert not result.ok and failed[0]["error"] == "ECS.AccessDeniedException"
        assert f"iam:PassRole on resource: {spec.role_arn(spec.task_role)} " in failed[0]["cause"]
    finally:
        ecs.deregister_task_definition(taskDefinition=note_revision)
        original = stacks["B"]
        put(target, original.sfn_role, iam.permission_policy(original, "sfn") or {})
        request = pin_task_definition(state_machine_request(original), original, current["taskDefinitionArn"])
        sfn.update_state_machine(
            stateMachineArn=original.state_machine_arn,
            definition=json.dumps(request["definition"]),
            roleArn=request["roleArn"],
            loggingConfiguration=request["loggingConfiguration"],
        )


# ---- trust, the switch -----------------------------------------------------------------------------------
def test_a_role_step_functions_cannot_assume_is_refused_at_update(target, sandbox, stacks, restore):
    spec = stacks["B"]
    client = target.client("iam")
    trust = iam.trust_policy(spec, "sfn")
    other = json.loads(json.dumps(trust).replace("states.amazonaws.com", "lambda.amazonaws.com"))
    client.update_assume_role_policy(RoleName=spec.sfn_role, PolicyDocument=json.dumps(other))
    try:
        with pytest.raises(ClientError) as refused:
            target.client("stepfunctions").update_state_machine(
                stateMachineArn=spec.state_machine_arn, roleArn=spec.role_arn(spec.sfn_role)
            )
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
        assert "Neither the global service principal states.amazonaws.com" in str(refused.value)
    finally:
        client.update_assume_role_policy(RoleName=spec.sfn_role, PolicyDocument=json.dumps(trust))


def test_enforcement_can_be_switched_off(target, sandbox, stacks, restore):
    spec = stacks["B"]
    remove(target, spec, "sfn", "ecs:RunTask")
    sandbox.control("POST", "iam", {"enforce": False})
    try:
        result, failed = run_b(target, spec)
        assert result.ok and failed == []
    finally:
        sandbox.control("POST", "iam", {"enforce": True})
    with pytest.raises(ValidationError, match="enforce"):
        sandbox.control("POST", "iam", {"enforce": "yes"})


# ---- the drill lesson 02 runs -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "action", "options", "category"),
    [
        ("B", "iam:PassRole", {"role": "sfn"}, "access_denied"),
        ("B", "sns:Publish", {"job_fails": True}, "access_denied"),
        ("B", "events:PutRule", {}, "managed_rule_denied"),
        ("B", "states:StartExecution", {}, "access_denied"),
        ("A", "ecr:GetAuthorizationToken", {}, "access_denied"),
    ],
)
def test_the_drill_removes_runs_diagnoses_and_puts_back(target, stacks, restore, pattern, action, options, category):
    spec = stacks[pattern]
    round_ = drill(target, spec, action, **options)
    assert round_.failed and round_.restored and round_.diagnosis is not None
    assert round_.diagnosis.category == category and action in round_.diagnosis.fix
    assert round_.grant.role in round_.diagnosis.fix
    policy = target.client("iam").get_role_policy(RoleName=round_.grant.role, PolicyName=POLICY_NAME)
    assert policy["PolicyDocument"] == iam.permission_policy(spec, round_.grant.kind)  # put back
    assert set(round_.to_frame()["what"]) >= {"removed", "error", "cause", "fix", "put back"}


def test_the_drill_says_when_nothing_fails_and_refuses_what_is_not_granted(target, stacks, restore):
    round_ = drill(target, stacks["B"], "ecr:BatchCheckLayerAvailability")
    assert not round_.failed and round_.diagnosis is None and "exited 0" in round_.cause
    with pytest.raises(ValidationError, match="an action the stack's roles are granted"):
        drill(target, stacks["B"], "s3:GetObject")


# ---- the pieces ---------------------------------------------------------------------------------------------
def test_the_switch_reads_the_environment(monkeypatch):
    from sfnecs.sandbox import enforcement

    monkeypatch.setenv(enforcement.ENV_VAR, "off")
    assert enforcement.default_enforced() is False
    monkeypatch.setenv(enforcement.ENV_VAR, "on")
    assert enforcement.default_enforced() is True
    monkeypatch.setenv(enforcement.ENV_VAR, "maybe")
    with pytest.raises(ValidationError, match="SFNECS_SANDBOX_IAM='maybe' is not valid: on or off"):
        enforcement.default_enforced()


def test_a_state_machine_needs_the_managed_rule_of_each_nested_sync_state_and_log_delivery():
    from sfnecs.sandbox.permissions import LOG_DELIVERY_ACTIONS, state_machine_needs

    sync = {"Type": "Task", "Resource": "arn:aws:states:::ecs:runTask.sync", "End": True}
    nested = {
        "StartAt": "P",
        "States": {"P": {"Type": "Parallel", "End": True, "Branches": [{"StartAt": "R", "States": {"R": sync}}]}},
    }
    rules, logs = state_machine_needs(nested, {"level": "OFF"}, "123456789012", "us-east-1")
    assert {(n.action, n.resource) for n in rules} == {
        (a, "arn:aws:events:us-east-1:123456789012:rule/StepFunctionsGetEventsForECSTaskRule")
        for a in ("events:PutTargets", "events:PutRule", "events:DescribeRule")
    }
    assert logs == []
    fire_and_forget = {"StartAt": "R", "States": {"R": {**sync, "Resource": "arn:aws:states:::ecs:runTask"}}}
    logging = {"level": "ALL", "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": "arn:aws:logs:x"}}]}
    rules, logs = state_machine_needs(fire_and_forget, logging, "123456789012", "cn-north-1")
    assert rules == [] and [n.action for n in logs] == list(LOG_DELIVERY_ACTIONS)


@pytest.mark.parametrize("kind", ["task", "execution"])
def test_a_task_role_ecs_cannot_assume_fails_runtask(target, stacks, restore, kind):
    spec = stacks["B"]
    client, role = target.client("iam"), getattr(spec, f"{kind}_role")
    trust = iam.trust_policy(spec, kind)
    other = json.loads(json.dumps(trust).replace("ecs-tasks.amazonaws.com", "lambda.amazonaws.com"))
    client.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(other))
    try:
        result, failed = run_b(target, spec)  # Step Functions' RunTask is refused by ECS
        assert not result.ok and failed[0]["error"] == "ECS.AmazonECSException"
        assert f"ECS was unable to assume the role '{spec.role_arn(role)}'" in failed[0]["cause"]
        found = diagnose_task(None, error=failed[0]["error"], cause=failed[0]["cause"])
        assert found.category == "role_not_assumable" and spec.role_arn(role) in found.fix
        assert "ecs-tasks.amazonaws.com" in found.fix
    finally:
        client.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))

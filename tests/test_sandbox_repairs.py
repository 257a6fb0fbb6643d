"""Each moto repair: the defect shows with the repair removed and is gone with it applied.

When one of these starts failing on the "defect shows" side, moto fixed it upstream: drop the repair.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.roles import open_role
from tests.test_sandbox import ACCOUNT, REGION, ensure_log_group, execute, failed_event, register, wait_for

from sfnecs.sandbox.repairs import REPAIRS


@pytest.fixture(scope="module", autouse=True)
def _roles(sandbox):
    """The role `x` these tests name (the sandbox enforces IAM on AWS's behalf: roles must exist)."""
    open_role(sandbox.client("iam"), "x")


@contextlib.contextmanager
def without(name: str):
    REPAIRS[name].revert()
    try:
        yield
    finally:
        REPAIRS[name].apply()


@pytest.fixture(scope="module")
def subnet(target) -> str:
    target.client("ecs").create_cluster(clusterName="fixes")
    ensure_log_group(target, "/ecs/sbx")
    return target.client("ec2").describe_subnets()["Subnets"][0]["SubnetId"]


def sync_machine(target, name: str, family: str, subnet: str) -> str:
    defn = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "End": True,
                "Parameters": {
                    "LaunchType": "FARGATE",
                    "Cluster": "fixes",
                    "TaskDefinition": family,
                    "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": [subnet], "AssignPublicIp": "ENABLED"}},
                },
            }
        },
    }
    return target.client("stepfunctions").create_state_machine(
        name=name, definition=json.dumps(defn), roleArn=f"arn:aws:iam::{ACCOUNT}:role/x"
    )["stateMachineArn"]


def test_normalise_repair(target):
    # aws-sdk:sfn:listExecutions (the overlap guard's call): Step Functions takes PascalCase
    # StateMachineArn, the API (JSON protocol) wants stateMachineArn, and answers camelCase.
    sfn = target.client("stepfunctions")
    arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:fixes-list"
    defn = {
        "StartAt": "L",
        "States": {
            "L": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sfn:listExecutions",
                "Parameters": {"StateMachineArn": arn, "StatusFilter": "RUNNING"},
                "End": True,
            }
        },
    }
    sm = sfn.create_state_machine(
        name="fixes-list", definition=json.dumps(defn), roleArn=f"arn:aws:iam::{ACCOUNT}:role/x"
    )["stateMachineArn"]
    with without("normalise"):
        assert execute(target, sm)["status"] == "FAILED"
    fixed = execute(target, sm)
    assert fixed["status"] == "SUCCEEDED"
    running = json.loads(fixed["output"])["Executions"]  # PascalCase, as AWS returns it
    assert [e["Status"] for e in running] == ["RUNNING"] and running[0]["ExecutionArn"] == fixed["executionArn"]


def test_ecs_sync_repair(target, subnet):
    register(target, "fixes-exit3", env_vars={"SFNECS_EXIT_CODE": "3"})
    sm = sync_machine(target, "fixes-exit3", "fixes-exit3", subnet)
    with without("ecs_sync"):
        assert execute(target, sm)["status"] == "SUCCEEDED"  # moto: a failed job "succeeds"
    result = execute(target, sm)
    assert result["status"] == "FAILED" and failed_event(target, result)["error"] == "States.TaskFailed"


def test_ecs_parameters_repair(target, subnet):
    # RunTask under Step Functions with a capacity provider strategy (as aws-cdk's EcsRunTask writes
    # it for FARGATE_SPOT): moto dropped the parameter, so the task ran without it
    target.client("ecs").create_cluster(clusterName="fixes-spot", capacityProviders=["FARGATE_SPOT"])
    register(target, "fixes-spot")
    defn = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "End": True,
                "Parameters": {
                    "CapacityProviderStrategy": [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}],
                    "Cluster": "fixes-spot",
                    "TaskDefinition": "fixes-spot",
                    "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": [subnet], "AssignPublicIp": "ENABLED"}},
                },
            }
        },
    }
    sm = target.client("stepfunctions").create_state_machine(
        name="fixes-spot", definition=json.dumps(defn), roleArn=f"arn:aws:iam::{ACCOUNT}:role/x"
    )["stateMachineArn"]
    with without("ecs_parameters"):
        dropped = execute(target, sm)
        assert dropped["status"] == "SUCCEEDED" and "CapacityProviderName" not in json.loads(dropped["output"])
    task = json.loads(execute(target, sm)["output"])
    assert (task["CapacityProviderName"], task["LaunchType"]) == ("FARGATE_SPOT", "FARGATE")


def test_sync_retry_repair(target, sandbox, subnet):
    # A Retry of States.TaskFailed (a job that exited non-zero) runs the task again and waits for it;
    # moto shared one interrupted callback endpoint between attempts, so the retry "timed out" at once.
    register(target, "fixes-again")
    defn = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "End": True,
                "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                "Parameters": {
                    "LaunchType": "FARGATE",
                    "Cluster": "fixes",
                    "TaskDefinition": "fixes-again",
                    "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": [subnet], "AssignPublicIp": "ENABLED"}},
                },
            }
        },
    }
    sfn = target.client("stepfunctions")
    sm = sfn.create_state_machine(
        name="fixes-again", definition=json.dumps(defn), roleArn=f"arn:aws:iam::{ACCOUNT}:role/x"
    )["stateMachineArn"]

    def once_failing() -> tuple[str, list[str]]:
        sandbox.control("POST", "faults", {"kind": "exit_code", "family": "fixes-again", "exit_code": 3, "count": 1})
        try:
            done = execute(target, sm)
        finally:
            sandbox.control("DELETE", "faults", {})
        events = sfn.get_execution_history(executionArn=done["executionArn"])["events"]
        return done["status"], [
            e["type"] for e in events if e["type"] in ("TaskFailed", "TaskTimedOut", "TaskSucceeded")
        ]

    with without("sync_retry"):
        assert once_failing() == ("FAILED", ["TaskFailed", "TaskTimedOut"])
    assert once_failing() == ("SUCCEEDED", ["TaskFailed", "TaskSucceeded"])


def test_execution_name_repair(target):
    defn = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    sfn = target.client("stepfunctions")
    sm = sfn.create_state_machine(
        name="fixes-name", definition=json.dumps(defn), roleArn=f"arn:aws:iam::{ACCOUNT}:role/x"
    )["stateMachineArn"]
    with without("execution_name"):
        assert sfn.start_execution(stateMachineArn=sm)["executionArn"].endswith(":None")
    arn = sfn.start_execution(stateMachineArn=sm)["executionArn"]
    assert not arn.endswith(":None") and len(arn.rsplit(":", 1)[1]) == 36  # a UUID, as AWS generates


def test_history_repair(target):
    defn = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": True}}}
    sfn = target.client("stepfunctions")
    sm = sfn.create_state_machine(
        name="fixes-history", definition=json.dumps(defn), roleArn=f"arn:aws:iam::{ACCOUNT}:role/x"
    )["stateMachineArn"]
    arn = execute(target, sm)["executionArn"]
    with without("history"):
        assert sfn.get_execution_history(executionArn=arn, reverseOrder=True)["events"][0]["type"] == "ExecutionStarted"
    newest_first = sfn.get_execution_history(executionArn=arn, reverseOrder=True)["events"]
    assert newest_first[0]["type"] == "ExecutionSucceeded"
    page = sfn.get_execution_history(executionArn=arn, maxResults=2)
    rest = sfn.get_execution_history(executionArn=arn, maxResults=100, nextToken=page["nextToken"])
    assert [e["id"] for e in page["events"] + rest["events"]] == sorted(e["id"] for e in newest_first)


def test_timed_out_sync_state_records_no_success(target, subnet):
    register(target, "fixes-hang", env_vars={"SFNECS_HANG": "1"})
    defn = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "End": True,
                "TimeoutSeconds": 1,
                "Parameters": {
                    "LaunchType": "FARGATE",
                    "Cluster": "fixes",
                    "TaskDefinition": "fixes-hang",
                    "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": [subnet], "AssignPublicIp": "ENABLED"}},
                },
            }
        },
    }
    sfn = target.client("stepfunctions")
    sm = sfn.create_state_machine(
        name="fixes-hang", definition=json.dumps(defn), roleArn=f"arn:aws:iam::{ACCOUNT}:role/x"
    )["stateMachineArn"]
    arn = execute(target, sm)["executionArn"]
    # the abandoned wait stops the task, then ends: after that nothing more is recorded
    ecs = target.client("ecs")
    wait_for(lambda: ecs.list_tasks(cluster="fixes", family="fixes-hang", desiredStatus="STOPPED")["taskArns"])
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    assert "TaskTimedOut" in types and "TaskSucceeded" not in types


def test_stopped_stays_aborted_repair(target, subnet):
    register(target, "fixes-stop", env_vars={"SFNECS_HANG": "1"})
    sm = sync_machine(target, "fixes-stop", "fixes-stop", subnet)
    sfn, ecs = target.client("stepfunctions"), target.client("ecs")

    def stopped_while_waiting() -> dict[str, Any]:
        arn = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
        wait_for(lambda: ecs.list_tasks(cluster="fixes", family="fixes-stop", desiredStatus="RUNNING")["taskArns"])
        sfn.stop_execution(executionArn=arn, cause="operator")
        wait_for(lambda: not ecs.list_tasks(cluster="fixes", family="fixes-stop", desiredStatus="RUNNING")["taskArns"])
        return wait_for(lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d)

    assert stopped_while_waiting()["status"] == "ABORTED"
    with without("stopped_stays_aborted"):
        assert stopped_while_waiting()["status"] == "FAILED"  # the abandoned .sync wait's error won


def test_second_execution_repair(target, subnet):
    register(target, "fixes-twice")
    sm = sync_machine(target, "fixes-twice", "fixes-twice", subnet)
    assert execute(target, sm)["status"] == "SUCCEEDED"
    sfn = target.session.client(
        "stepfunctions", endpoint_url=target.endpoint_url, config=Config(retries={"max_attempts": 1})
    )
    with without("second_execution"):
        with pytest.raises(ClientError, match="500"):
            sfn.start_execution(stateMachineArn=sm, input="{}")
    assert execute(target, sm)["status"] == "SUCCEEDED"


def test_task_memory_repair(sandbox):
    from moto.ecs.models import EC2ContainerServiceBackend, TaskDefinition

    td = TaskDefinition(
        "f",
        1,
        [{"name": "job", "image": "busybox"}],
        ACCOUNT,
        REGION,
        requires_compatibilities=["FARGATE"],
        cpu="256",
        memory="512",
    )
    with without("task_memory"):
        with pytest.raises(TypeError):
            EC2ContainerServiceBackend._calculate_task_resource_requirements(td)
    assert EC2ContainerServiceBackend._calculate_task_resource_requirements(td)["MEMORY"] == 512


def test_private_dns_name_defect_is_fixed_upstream(target, subnet):
    """moto's Fargate awsvpc run_task used to raise on NetworkInterface.private_dns_name (a known defect).

    moto 5.2.1 (pinned) no longer raises: its own run_task path works, so no repair is installed.
    """
    from moto.ecs.models import ecs_backends

    backend = ecs_backends[ACCOUNT][REGION]
    register(target, "fixes-moto-native")
    tasks = backend.run_task(
        "fixes",
        "fixes-moto-native",
        1,
        None,
        "",
        None,
        "FARGATE",
        {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [], "assignPublicIp": "ENABLED"}},
    )
    details = {d["name"]: d["value"] for d in tasks[0].attachments[0]["details"]}
    assert details["privateDnsName"]


def test_jsonata_repair(target):
    # QueryLanguage JSONata (what the AWS docs now lead with): moto's evaluator is a stub that needs
    # a Java VM, so every `{% ... %}` expression fails the execution; jsonata-python evaluates it,
    # with $parse, one of the functions Step Functions adds to JSONata.
    defn = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "End": True,
                "Output": {
                    "sum": "{% $states.input.a + 1 %}",
                    "parsed": "{% $parse('{\"k\": [1, 2]}').k[1] %}",
                    "name": "{% $states.context.Execution.Name %}",
                },
            }
        },
    }
    sfn = target.client("stepfunctions")
    sm = sfn.create_state_machine(
        name="fixes-jsonata", definition=json.dumps(defn), roleArn=f"arn:aws:iam::{ACCOUNT}:role/x"
    )["stateMachineArn"]

    def run() -> dict:
        arn = sfn.start_execution(stateMachineArn=sm, name=f"j-{uuid.uuid4().hex[:8]}", input='{"a": 41}')[
            "executionArn"
        ]
        return wait_for(lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d)

    with without("jsonata"):
        broken = run()  # moto leaves its evaluator None: calling it is a TypeError
        assert (broken["status"], broken["error"]) == ("FAILED", "States.Runtime") and "callable" in broken["cause"]
    fixed = run()
    assert fixed["status"] == "SUCCEEDED"
    assert json.loads(fixed["output"]) == {"sum": 42, "parsed": 2, "name": fixed["name"]}


def test_json_path_repair(target):
    # Step Functions developer guide, "Using JSONPath paths": a path naming one node gives that node
    # ($.car.cdr => true); a filter gives a list even of one ($.jar[?(@.a >= 5)] => [...]). moto wraps
    # a definite path below an index in a list: the kit's "$.Containers[0].ExitCode" gave [0].
    selected = {
        "code.$": "$.Containers[0].ExitCode",
        "name.$": "$.Containers[0]['Name']",
        "first.$": "$.Containers[0]",
        "last.$": "$.Containers[-1].ExitCode",
        "sliced.$": "$.Containers[0:1].ExitCode",
        "filtered.$": "$.Containers[?(@.ExitCode == 3)].Name",
        "all.$": "$.Containers[*].ExitCode",
    }
    defn = {
        "StartAt": "Select",
        "States": {
            "Select": {"Type": "Pass", "Parameters": {"Checks": [{"selected": selected}]}, "Next": "Out"},
            "Out": {"Type": "Pass", "OutputPath": "$.Checks[0].selected", "End": True},
        },
    }
    task = {"Containers": [{"Name": "job", "ExitCode": 0}, {"Name": "sidecar", "ExitCode": 3}]}
    sfn = target.client("stepfunctions")
    sm = sfn.create_state_machine(
        name="fixes-json-path", definition=json.dumps(defn), roleArn=f"arn:aws:iam::{ACCOUNT}:role/x"
    )["stateMachineArn"]

    def run() -> Any:
        arn = sfn.start_execution(stateMachineArn=sm, input=json.dumps(task))["executionArn"]
        done = wait_for(lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d)
        assert done["status"] == "SUCCEEDED", done
        return json.loads(done["output"])

    with without("json_path"):
        broken = run()  # OutputPath wraps the object, Parameters wrap the number
        assert isinstance(broken, list) and broken[0]["code"] == [0]
    assert run() == {
        "code": 0,
        "name": "job",
        "first": task["Containers"][0],
        "last": 3,
        "sliced": [0],
        "filtered": ["sidecar"],
        "all": [0, 3],
    }


def test_sfn_timers_repair(target, sandbox):
    # Retry intervals and Wait states run on the sandbox clock: with the clock paused, an execution
    # waits until the clock is advanced past them, however long that takes in real time.
    sfn = target.client("stepfunctions")

    def machine(name: str, interval: int, wait: int) -> str:
        defn = {
            "StartAt": "Fail",
            "States": {
                "Fail": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:sqs:getQueueUrl",
                    "Parameters": {"QueueName": f"{name}-missing"},
                    "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": interval, "MaxAttempts": 1}],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Nap"}],
                },
                "Nap": {"Type": "Wait", "Seconds": wait, "End": True},
            },
        }
        return sfn.create_state_machine(
            name=name, definition=json.dumps(defn), roleArn=f"arn:aws:iam::{ACCOUNT}:role/x"
        )["stateMachineArn"]

    def events(arn: str, kind: str) -> int:
        return sum(e["type"] == kind for e in sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"])

    def status(arn: str) -> str:
        return sfn.describe_execution(executionArn=arn)["status"]

    sandbox.ensure_repairs()  # before `without`: a first request would apply them all
    sandbox.control("POST", "clock", {"pause": True})
    try:
        with without("sfn_timers"):  # a 2 s Retry interval passes on the virtual clock, not on moto's
            arn = sfn.start_execution(stateMachineArn=machine("fixes-real-timer", 2, 0))["executionArn"]
            wait_for(lambda: events(arn, "TaskFailed") == 1)
            sandbox.control("POST", "clock", {"advance_seconds": 2})
            with pytest.raises(AssertionError, match="not met"):
                wait_for(lambda: events(arn, "TaskFailed") == 2, timeout=1.0)
            wait_for(lambda: status(arn) == "SUCCEEDED")  # 2 real seconds later
        arn = sfn.start_execution(stateMachineArn=machine("fixes-virtual-timer", 3600, 86_400))["executionArn"]
        wait_for(lambda: events(arn, "TaskFailed") == 1)
        assert status(arn) == "RUNNING"  # an hour of Retry interval, and the clock stands still
        sandbox.control("POST", "clock", {"advance_seconds": 3600})
        wait_for(lambda: events(arn, "WaitStateEntered") == 1)  # retried, failed again, caught
        assert events(arn, "TaskFailed") == 2 and status(arn) == "RUNNING"  # a day's Wait ahead
        sandbox.control("POST", "clock", {"advance_seconds": 86_400})
        wait_for(lambda: status(arn) == "SUCCEEDED", timeout=5.0)
    finally:
        sandbox.control("POST", "clock", {"pause": False})

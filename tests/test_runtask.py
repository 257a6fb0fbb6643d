"""runtask.py: one RunTask description renders the API request, the Scheduler target, the ASL arguments
and the IAM statements; each is checked literally, against the AWS API models, and against its users."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from sfnecs.deploy.requests import schedule_request
from sfnecs.exceptions import ValidationError
from sfnecs.iam import policies_for
from sfnecs.model import StackSpec
from sfnecs.runtask import INTEGRATION_ACTIONS, RUN_TASK_SYNC, RunTask, network_configuration, run_task_placement
from sfnecs.statemachine import build_definition

SUBNETS = ("subnet-0a1b2c3d", "subnet-0123456789abcdef0")
GROUP = "sg-0a1b2c3d"
SPOT = (("FARGATE_SPOT", 3, 0), ("FARGATE", 1, 1))
ARGS_FIELD = {"JSONPath": "Parameters", "JSONata": "Arguments"}


def make(
    pattern: str = "B", *, spot: bool = False, public_ip: bool = False, groups: bool = True, language: str = "JSONata"
) -> StackSpec:
    return StackSpec(
        "rt",
        pattern=pattern,
        query_language=language,
        subnets=SUBNETS,
        security_groups=(GROUP,) if groups else (),
        assign_public_ip=public_ip,
        capacity_provider_strategy=SPOT if spot else (),
    )


def _validate(service: str, operation: str, params: dict[str, Any]) -> None:
    model = botocore.session.get_session().get_service_model(service)
    report = ParamValidator().validate(params, model.operation_model(operation).input_shape)
    assert not report.has_errors(), report.generate_report()


# ---- the ECS RunTask API (camelCase) ---------------------------------------------------------------
def test_api_request_runs_the_family_on_fargate_in_the_stack_network():
    spec = make()
    request = RunTask(spec).api_request()
    assert request == {
        "cluster": "rt",
        "taskDefinition": "rt-job",
        "launchType": "FARGATE",
        "count": 1,
        "networkConfiguration": {
            "awsvpcConfiguration": {"subnets": list(SUBNETS), "assignPublicIp": "DISABLED", "securityGroups": [GROUP]}
        },
    }
    assert list(request["networkConfiguration"]["awsvpcConfiguration"]) == [
        "subnets",
        "assignPublicIp",
        "securityGroups",
    ]
    _validate("ecs", "RunTask", request)
    assert network_configuration(spec) == request["networkConfiguration"]
    assert run_task_placement(spec) == {"launchType": "FARGATE"}


def test_a_capacity_provider_strategy_replaces_the_launch_type_in_every_casing():
    run = RunTask(make("A", spot=True), "rt-job:7")
    assert run.placement() == {
        "capacityProviderStrategy": [
            {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0},
            {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
        ]
    }
    assert "launchType" not in run.api_request() and run.api_request()["taskDefinition"] == "rt-job:7"
    _validate("ecs", "RunTask", run.api_request())
    # Scheduler: PascalCase key, camelCase items (Scheduler API reference, EcsParameters)
    ecs = run.scheduler_target()["EcsParameters"]
    assert "LaunchType" not in ecs and ecs["CapacityProviderStrategy"] == run.placement()["capacityProviderStrategy"]
    # Step Functions: PascalCase throughout
    args = run.state_arguments(group={}, overrides={})
    assert "LaunchType" not in args and args["CapacityProviderStrategy"] == [
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 3, "Base": 0},
        {"CapacityProvider": "FARGATE", "Weight": 1, "Base": 1},
    ]


@pytest.mark.parametrize("public_ip", [False, True])
def test_the_network_block_in_its_three_casings(public_ip):
    ip = "ENABLED" if public_ip else "DISABLED"
    run = RunTask(make("A", public_ip=public_ip, groups=False))
    assert run.network_configuration() == {"awsvpcConfiguration": {"subnets": list(SUBNETS), "assignPublicIp": ip}}
    assert run.scheduler_target()["EcsParameters"]["NetworkConfiguration"] == {
        "awsvpcConfiguration": {"Subnets": list(SUBNETS), "AssignPublicIp": ip}
    }
    assert run.state_arguments(group={}, overrides={})["NetworkConfiguration"] == {
        "AwsvpcConfiguration": {"Subnets": list(SUBNETS), "AssignPublicIp": ip}
    }
    # with a security group: the ASL lists it before AssignPublicIp, the APIs after (as rendered so far)
    grouped = RunTask(make("A", public_ip=public_ip))
    assert list(grouped.state_arguments(group={}, overrides={})["NetworkConfiguration"]["AwsvpcConfiguration"]) == [
        "Subnets",
        "SecurityGroups",
        "AssignPublicIp",
    ]
    assert list(grouped.scheduler_target()["EcsParameters"]["NetworkConfiguration"]["awsvpcConfiguration"]) == [
        "Subnets",
        "AssignPublicIp",
        "SecurityGroups",
    ]


# ---- the Scheduler target (pattern A) ----------------------------------------------------------------
def test_scheduler_target_is_the_schedule_request_target():
    spec = make("A", public_ip=True)
    arn = spec.arn("ecs", f"task-definition/{spec.family}:7")
    target = RunTask(spec, arn).scheduler_target()
    assert target == {
        "Arn": spec.cluster_arn,
        "EcsParameters": {
            "TaskDefinitionArn": arn,
            "TaskCount": 1,
            "LaunchType": "FARGATE",
            "NetworkConfiguration": {
                "awsvpcConfiguration": {
                    "Subnets": list(SUBNETS),
                    "AssignPublicIp": "ENABLED",
                    "SecurityGroups": [GROUP],
                }
            },
            "PropagateTags": "TASK_DEFINITION",
            "EnableECSManagedTags": True,
        },
    }
    request = schedule_request(spec, arn)
    assert {k: request["Target"][k] for k in target} == target
    _validate("scheduler", "CreateSchedule", request)


# ---- the Step Functions Task state (pattern B) ---------------------------------------------------------
@pytest.mark.parametrize("spot", [False, True])
@pytest.mark.parametrize("language", ["JSONPath", "JSONata"])
def test_state_arguments_are_the_run_job_state_arguments(language, spot):
    spec = make(spot=spot, language=language)
    job = build_definition(spec)["States"]["RunJob"]
    args = job[ARGS_FIELD[language]]
    assert job["Resource"] == RUN_TASK_SYNC
    group = {k: v for k, v in args.items() if k.startswith("Group")}
    rendered = RunTask(spec).state_arguments(group=group, overrides=args["Overrides"])
    assert rendered == args and list(rendered) == list(args)
    assert (rendered["Cluster"], rendered["TaskDefinition"]) == (spec.cluster_arn, spec.family)
    assert "StartedBy" not in rendered


# ---- the IAM statements it needs ------------------------------------------------------------------------
def test_run_statements_grant_runtask_in_the_cluster_and_pass_both_roles():
    spec = make("A")
    assert RunTask(spec).run_statements() == [
        {
            "Sid": "RunTaskFamilyInStackCluster",
            "Effect": "Allow",
            "Action": ["ecs:RunTask"],
            "Resource": [spec.task_definition_arn_pattern],
            "Condition": {"ArnEquals": {"ecs:cluster": spec.cluster_arn}},
        },
        {
            "Sid": "PassTaskAndExecutionRolesToEcsTasks",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": sorted([spec.role_arn(spec.task_role), spec.role_arn(spec.execution_role)]),
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        },
    ]


@pytest.mark.parametrize("pattern", ["A", "B"])
def test_the_roles_get_exactly_the_statements_runtask_renders(pattern):
    spec = make(pattern, spot=True)
    run = RunTask(spec)
    role, rendered = (
        (spec.sfn_role, run.state_statements()) if pattern == "B" else (spec.scheduler_role, run.scheduler_statements())
    )
    statements = policies_for(spec)[role].permissions["Statement"]
    assert statements[: len(rendered)] == rendered
    if pattern == "B":
        # the .sync integration's IAM needs are the actions of these statements, by construction
        granted = {a for st in rendered for a in st["Action"]}
        assert granted == set(INTEGRATION_ACTIONS["ecs:runTask.sync"])


def test_a_runtask_needs_a_stack_spec():
    with pytest.raises(ValidationError, match="spec"):
        RunTask({"name": "rt"})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="task_definition"):
        RunTask(make(), 7)  # type: ignore[arg-type]

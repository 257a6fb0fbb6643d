"""Job settings deployed: secrets in the task definition and the execution role, task-role permissions,
log retention (sfnecs.deploy, sfnecs.iam), and the sandbox resolving secrets as the Fargate agent does.

Golden files: tests/golden/iam/secrets-<pattern>-<role kind>.permissions.json, regenerated like
test_iam's with SFNECS_UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import botocore.session
import pytest
from botocore.validate import ParamValidator

from sfnecs import iam, runs
from sfnecs.deploy import stack
from sfnecs.deploy.changes import Current, Desired
from sfnecs.deploy.requests import role_documents, task_definition_request
from sfnecs.deploy.resources import LogGroupResource, RoleResource
from sfnecs.exceptions import ValidationError
from sfnecs.model import StackSpec
from sfnecs.model.budget import execution_budget
from sfnecs.sandbox.secrets import ASM_FAILED, SSM_FAILED

GOLDEN = Path(__file__).parent / "golden" / "iam"
SECRET = "arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:nightly/db-AbCdEf"
PARAMETER = "arn:aws:ssm:ap-northeast-1:111122223333:parameter/nightly/api-key"
KEY = "arn:aws:kms:ap-northeast-1:111122223333:key/0123abcd-0123-4567-89ab-0123456789ab"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
STATEMENTS = [{"Sid": "ReadReports", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}]


def secret_spec(**changes) -> StackSpec:
    values = {
        "secrets": {"DB_PASSWORD": f"{SECRET}:password::", "API_KEY": PARAMETER},
        "secrets_kms_key": KEY,
        "task_policy_arns": [READ_ONLY],
        "task_policy_statements": json.dumps(STATEMENTS),
        **changes,
    }
    return StackSpec("nightly-report", region="ap-northeast-1", account="111122223333", **values)


def statements(spec: StackSpec, kind: str) -> dict[str, dict]:
    return {st.get("Sid"): st for st in (iam.permission_policy(spec, kind) or {"Statement": []})["Statement"]}


# ---- pure builders -----------------------------------------------------------------------------------
def test_task_definition_carries_the_secrets_by_arn_only():
    request = task_definition_request(secret_spec())
    container = request["containerDefinitions"][0]
    assert container["secrets"] == [
        {"name": "API_KEY", "valueFrom": PARAMETER},
        {"name": "DB_PASSWORD", "valueFrom": f"{SECRET}:password::"},
    ]
    model = botocore.session.get_session().get_service_model("ecs")
    report = ParamValidator().validate(request, model.operation_model("RegisterTaskDefinition").input_shape)
    assert not report.has_errors(), report.generate_report()
    assert "secrets" not in task_definition_request(StackSpec("plain"))["containerDefinitions"][0]


def test_execution_role_reads_exactly_the_secrets_and_decrypts_with_the_given_key():
    granted = statements(secret_spec(), "execution")
    # the JSON key suffix names a field of the secret: the grant is on the secret's own ARN
    assert granted["ReadJobSecretsFromSecretsManager"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert granted["ReadJobSecretsFromSecretsManager"]["Resource"] == [SECRET]
    assert granted["ReadJobParametersFromSsm"] == {
        "Sid": "ReadJobParametersFromSsm",
        "Effect": "Allow",
        "Action": ["ssm:GetParameters"],
        "Resource": [PARAMETER],
    }
    assert granted["DecryptJobSecretsWithStackKey"]["Resource"] == [KEY]
    only_ssm = statements(secret_spec(secrets={"API_KEY": PARAMETER}, secrets_kms_key=""), "execution")
    assert {"ReadJobSecretsFromSecretsManager", "DecryptJobSecretsWithStackKey"}.isdisjoint(only_ssm)
    plain = statements(StackSpec("nightly-report", region="ap-northeast-1", account="111122223333"), "execution")
    assert not {s for s in plain if s.startswith(("ReadJob", "DecryptJob"))}


def test_task_role_gets_the_statements_and_the_managed_policies():
    spec = secret_spec()
    assert iam.permission_policy(spec, "task")["Statement"] == STATEMENTS
    docs = role_documents(spec)
    assert docs[spec.task_role]["AttachedPolicies"] == [READ_ONLY]
    assert docs[spec.execution_role]["AttachedPolicies"] == []
    assert role_documents(StackSpec("plain"))["plain-task"] == {
        "RoleName": "plain-task",
        "AssumeRolePolicyDocument": iam.trust_policy(StackSpec("plain"), "task"),
        "Policies": {},
        "AttachedPolicies": [],
    }


@pytest.mark.parametrize("pattern", ["A", "B"])
def test_golden_policies_with_secrets_and_task_permissions(pattern):
    spec = secret_spec(pattern=pattern)
    for kind in ("execution", "task"):
        path = GOLDEN / f"secrets-{pattern}-{kind}.permissions.json"
        text = iam.to_json(iam.permission_policy(spec, kind)) + "\n"
        if os.environ.get("SFNECS_UPDATE_GOLDEN") == "1":
            path.write_text(text)
        assert text == path.read_text(), f"{path.name} differs: see the module docstring to regenerate"


def test_role_compare_names_managed_policies_to_attach_and_detach():
    spec = secret_spec()
    want = Desired("role", spec.task_role, role_documents(spec)[spec.task_role])
    have = Current(spec.task_role, {**want.document, "AttachedPolicies": ["arn:aws:iam::aws:policy/Hand"]}, True)
    assert RoleResource().compare(want, have) == [
        f"AttachedPolicies: {READ_ONLY} not attached -> (attached)",
        "AttachedPolicies: arn:aws:iam::aws:policy/Hand not in the spec -> (detached)",
    ]


@pytest.mark.parametrize("days, retention", [(30, 30), (0, None), (3653, 3653)])
def test_log_groups_carry_the_retention(days, retention):
    spec = StackSpec("logs", log_retention_days=days)
    docs = LogGroupResource().desired(spec, {}, None)
    assert [d.document for d in docs] == [
        {"logGroupName": n, "retentionInDays": retention} for n in ("/ecs/logs", "/aws/vendedlogs/states/logs")
    ]
    have = Current("/ecs/logs", {"logGroupName": "/ecs/logs", "retentionInDays": 7}, True)
    forever = "never expire" if not days else f"{days} days"
    assert LogGroupResource().compare(docs[0], have) == [f"retentionInDays: 7 days -> {forever}"]


# ---- end to end in the sandbox -------------------------------------------------------------------------
FAST = runs.Backoff(initial=0.05, factor=1.6, cap=0.5)


def sandbox_spec(target, name: str, **changes) -> StackSpec:
    """Pattern A with a public image: run_direct starts exactly one task and waits for it."""
    subnets, groups = stack.default_network(target)
    return StackSpec(
        name,
        pattern="A",
        image="busybox",
        region=target.region,
        account=target.account,
        subnets=subnets[:1],
        security_groups=groups,
        assign_public_ip=True,  # the default VPC: no NAT gateway, the public IP is the path to the registry
        schedule_enabled=False,
        schedule_expression="cron(0 3 * * ? *)",
        **changes,
    )


@pytest.fixture
def stored(target):
    """A Secrets Manager secret (JSON) and an SSM SecureString parameter, deleted after the test."""
    sm, ssm = target.client("secretsmanager"), target.client("ssm")
    arn = sm.create_secret(Name="jobdeploy/db", SecretString=json.dumps({"password": "hunter2"}))["ARN"]
    ssm.put_parameter(Name="/jobdeploy/duration", Value="42", Type="SecureString")
    parameter = f"arn:aws:ssm:{target.region}:{target.account}:parameter/jobdeploy/duration"
    yield arn, parameter
    sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    ssm.delete_parameter(Name="/jobdeploy/duration")


@pytest.mark.sandbox
def test_secrets_reach_the_container(target, stored):
    secret, parameter = stored
    # the job language reads its environment: SFNECS_LOG is logged, SFNECS_DURATION sets the run's length
    spec = sandbox_spec(
        target, "jd-secrets", secrets={"SFNECS_LOG": f"{secret}:password::", "SFNECS_DURATION": parameter}
    )
    stack.apply(target, spec)
    try:
        found = sorted((c.resource, c.status) for c in stack.verify(target, spec).checks if c.check == "secret exists")
        assert found == [(f"SFNECS_DURATION <- {parameter}", "pass"), (f"SFNECS_LOG <- {secret}:password::", "pass")]
        result = runs.run_direct(target, spec, timeout=30, progress=False, backoff=FAST)
        assert result.ok, result
        assert "hunter2" in result.log_tail
        assert 42 <= result.run_seconds <= 44
        td = target.client("ecs").describe_task_definition(taskDefinition=spec.family)["taskDefinition"]
        assert td["containerDefinitions"][0]["secrets"] == [
            {"name": "SFNECS_DURATION", "valueFrom": parameter},
            {"name": "SFNECS_LOG", "valueFrom": f"{secret}:password::"},
        ]
    finally:
        stack.teardown(target, spec, delete_logs=True, delete_images=True)


@pytest.mark.sandbox
@pytest.mark.parametrize("kind", ["asm", "ssm"])
def test_a_missing_secret_stops_the_task_before_its_container(target, kind):
    missing = (
        f"arn:aws:secretsmanager:{target.region}:{target.account}:secret:jobdeploy/none-AbCdEf"
        if kind == "asm"
        else f"arn:aws:ssm:{target.region}:{target.account}:parameter/jobdeploy/none"
    )
    spec = sandbox_spec(target, f"jd-missing-{kind}", secrets={"TOKEN": missing})
    stack.apply(target, spec)
    try:
        result = runs.run_direct(target, spec, timeout=30, progress=False, backoff=FAST)
        assert (result.status, result.stop_code, result.exit_code) == ("FAILED", "TaskFailedToStart", None)
        (check,) = [c for c in stack.verify(target, spec).checks if c.check == "secret exists"]  # verify foresaw it
        assert (check.resource, check.status) == (f"TOKEN <- {missing}", "fail")
        tool = "secretsmanager create-secret" if kind == "asm" else "ssm put-parameter"
        assert check.fix.startswith(f"create it in {target.region} (aws {tool})")
        prefix = ASM_FAILED if kind == "asm" else SSM_FAILED
        assert result.stopped_reason.startswith(prefix), result.stopped_reason
        assert (
            "ResourceNotFoundException" if kind == "asm" else f"invalid parameters: {missing}"
        ) in result.stopped_reason
    finally:
        stack.teardown(target, spec, delete_logs=True, delete_images=True)


@pytest.mark.sandbox
def test_an_execution_role_without_the_permission_fails_the_task(target, stored):
    secret, parameter = stored
    spec = sandbox_spec(target, "jd-denied", secrets={"DB_PASSWORD": secret, "SFNECS_DURATION": parameter})
    stack.apply(target, spec)
    try:
        logs_only = iam.permission_policy(spec, "execution")
        logs_only["Statement"] = [s for s in logs_only["Statement"] if s["Sid"] == "WriteTaskLogsToStackLogGroup"]
        target.client("iam").put_role_policy(
            RoleName=spec.execution_role, PolicyName="sfnecs", PolicyDocument=json.dumps(logs_only)
        )
        result = runs.run_direct(target, spec, timeout=30, progress=False, backoff=FAST, client_token="denied")
        assert (result.stop_code, result.exit_code) == ("TaskFailedToStart", None)
        assert result.stopped_reason.startswith(ASM_FAILED)
        assert (
            f"AccessDeniedException: User: arn:aws:sts::{target.account}:assumed-role/{spec.execution_role}/"
            in result.stopped_reason
        )
        assert (
            f"is not authorized to perform: secretsmanager:GetSecretValue on resource: {secret}"
            in result.stopped_reason
        )
        # plan sees the hand-made change, and apply puts the grant back
        row = stack.plan(target, spec).to_frame().set_index("resource").loc[spec.execution_role]
        assert row["action"] == "update"
        stack.apply(target, spec)
        assert runs.run_direct(target, spec, timeout=30, progress=False, backoff=FAST, client_token="again").ok
    finally:
        stack.teardown(target, spec, delete_logs=True, delete_images=True)


@pytest.mark.sandbox
def test_log_retention_is_set_and_converges(target):
    spec = sandbox_spec(target, "jd-retention")
    logs = target.client("logs")

    def retention() -> int | None:
        groups = logs.describe_log_groups(logGroupNamePrefix=spec.log_group)["logGroups"]
        return next(g for g in groups if g["logGroupName"] == spec.log_group).get("retentionInDays")

    stack.apply(target, spec)
    try:
        assert retention() == 30
        week = spec.replace(log_retention_days=7)
        row = stack.plan(target, week).to_frame().set_index("resource").loc[spec.log_group]
        assert (row["action"], row["diff"]) == ("update", "retentionInDays: 30 days -> 7 days")
        stack.apply(target, week)
        assert retention() == 7
        forever = spec.replace(log_retention_days=0)
        stack.apply(target, forever)
        assert retention() is None
        assert set(stack.plan(target, forever).to_frame()["action"]) == {"no-op"}
    finally:
        stack.teardown(target, spec, delete_logs=True, delete_images=True)


@pytest.mark.sandbox
def test_managed_policies_are_attached_and_detached(target):
    # customer-managed policies: the sandbox's moto does not load the AWS managed ones
    iam_client = target.client("iam")
    document = json.dumps({"Version": "2012-10-17", "Statement": STATEMENTS})
    own, other = (
        iam_client.create_policy(PolicyName=n, PolicyDocument=document)["Policy"]["Arn"]
        for n in ("jd-reports", "jd-other")
    )
    spec = sandbox_spec(
        target, "jd-managed", task_policy_arns=[other, own], task_policy_statements=json.dumps(STATEMENTS)
    )

    def attached() -> list[str]:
        out = iam_client.list_attached_role_policies(RoleName=spec.task_role)["AttachedPolicies"]
        return sorted(p["PolicyArn"] for p in out)

    try:
        stack.apply(target, spec)
        assert attached() == sorted([other, own])
        inline = iam_client.get_role_policy(RoleName=spec.task_role, PolicyName="sfnecs")["PolicyDocument"]
        assert inline["Statement"] == STATEMENTS
        assert set(stack.plan(target, spec).to_frame()["action"]) == {"no-op"}
        fewer = spec.replace(task_policy_arns=[own])
        row = stack.plan(target, fewer).to_frame().set_index("resource").loc[spec.task_role]
        assert (row["action"], row["diff"]) == ("update", f"AttachedPolicies: {other} not in the spec -> (detached)")
        stack.apply(target, fewer)
        assert attached() == [own]
        stack.apply(target, spec)
        assert attached() == sorted([other, own])
        stack.teardown(target, spec, delete_logs=True, delete_images=True)
        # teardown detaches them and deletes the role, never the policies: they are not the stack's
        assert iam_client.get_policy(PolicyArn=other)["Policy"]["AttachmentCount"] == 0
    finally:
        stack.teardown(target, spec, delete_logs=True, delete_images=True)
        for arn in (own, other):
            iam_client.delete_policy(PolicyArn=arn)


# ---- the settings in the deploy runbook and the CLI ------------------------------------------------------
def test_job_settings_from_text_and_a_machine_timeout_that_fits_them():
    from sfnecs.deploy.job_settings import split_pairs, with_job

    assert split_pairs("environment", ["LEVEL=info", "URL=a=b"]) == (("LEVEL", "info"), ("URL", "a=b"))
    with pytest.raises(ValidationError, match="environment='LEVEL' is not valid: NAME=VALUE"):
        split_pairs("environment", ["LEVEL"])
    spec = with_job(
        StackSpec("nightly"),
        {
            "cpu": 1024,
            "memory": 2048,
            "secrets": [f"API_KEY={PARAMETER}"],
            "task_timeout_seconds": 7200,
            "retry_job_failures": 2,
            "guard": None,
        },
    )
    assert (spec.cpu, spec.memory, spec.guard) == (1024, 2048, True)
    assert spec.secrets == (("API_KEY", PARAMETER),) and spec.region == "us-east-1"
    # 3 attempts x 7200 s need a longer state machine timeout than the default 7200 s
    assert spec.machine_timeout_seconds == execution_budget(spec).total > 3 * 7200
    assert with_job(StackSpec("nightly"), {}).machine_timeout_seconds == 7200
    with pytest.raises(ValidationError, match="memory=512 is not valid: with cpu=1024"):
        with_job(StackSpec("nightly"), {"cpu": 1024})


def test_deploy_runbook_parameters_refuse_what_the_spec_refuses():
    from sfnecs.ops.parameters import check_parameters

    good = check_parameters(
        "deploy",
        stack="nightly",
        cpu=1024,
        memory=2048,
        environment=["LEVEL=info"],
        log_retention_days=0,
        platform_version="1.4.0",
        guard=False,
    )
    assert good["environment"] == ["LEVEL=info"]
    assert check_parameters("deploy", stack="nightly", job={"cpu": 1024, "memory": 2048})["job"] == {
        "cpu": 1024,
        "memory": 2048,
    }
    with pytest.raises(ValidationError, match="job='colour' is not valid: job setting names: cpu, memory"):
        check_parameters("deploy", stack="nightly", job={"colour": "red"})
    for bad, message in [
        ({"log_retention_days": 31}, "log_retention_days=31 is not valid"),
        ({"job": {"cpu": 1024}}, "memory=512 is not valid: with cpu=1024"),
        ({"job": {"guard": "yes"}}, "guard='yes' is not valid"),
        ({"cpu": 1024}, "memory=512 is not valid: with cpu=1024"),
        ({"secrets": ["X=my-secret"]}, "secrets='my-secret' is not valid"),
        ({"region": "cn-north-1", "secrets": [f"X={SECRET}"]}, "an ARN in the stack's partition"),
    ]:
        with pytest.raises(ValidationError, match=message):
            check_parameters("deploy", stack="nightly", **bad)


def test_cli_takes_the_job_settings():
    import argparse

    from sfnecs.cli.stack import register, spec_from_args

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(
        [
            "plan",
            "--stack",
            "nightly",
            "--subnet",
            "subnet-0a1b2c3d",
            "--cpu",
            "512",
            "--memory",
            "1024",
            "--env",
            "LEVEL=info",
            "--secret",
            f"API_KEY={PARAMETER}",
            "--task-policy-arn",
            READ_ONLY,
            "--task-timeout",
            "600",
            "--no-guard",
            "--platform-version",
            "1.4.0",
            "--log-retention-days",
            "90",
        ]
    )
    target = type("T", (), {"region": "ap-northeast-1", "account": "111122223333"})()
    spec = spec_from_args(args, target)
    assert (spec.cpu, spec.memory, spec.environment, spec.secrets, spec.task_policy_arns) == (
        512,
        1024,
        (("LEVEL", "info"),),
        (("API_KEY", PARAMETER),),
        (READ_ONLY,),
    )
    assert (spec.task_timeout_seconds, spec.guard, spec.platform_version, spec.log_retention_days) == (
        600,
        False,
        "1.4.0",
        90,
    )


@pytest.mark.sandbox
def test_deploy_spec_and_its_read_back_carry_the_settings(target, stored):
    from sfnecs.ops.steps import deploy_spec, deployed_spec

    secret, _ = stored
    spec = deploy_spec(
        target,
        "jd-runbook",
        pattern="A",
        image="busybox",
        schedule_enabled=False,
        cpu=512,
        memory=1024,
        environment=["LEVEL=info"],
        secrets=[f"DB_PASSWORD={secret}"],
        log_retention_days=7,
    )
    assert (spec.cpu, spec.environment, spec.secrets, spec.log_retention_days) == (
        512,
        (("LEVEL", "info"),),
        (("DB_PASSWORD", secret),),
        7,
    )
    stack.apply(target, spec)
    try:
        back = deployed_spec(target, "jd-runbook")
        assert (back.cpu, back.memory, back.environment, back.secrets) == (512, 1024, spec.environment, spec.secrets)
    finally:
        stack.teardown(target, spec, delete_logs=True, delete_images=True)


def test_parameter_names_from_their_arns():
    from sfnecs.model.job import parameter_name

    assert parameter_name("arn:aws:ssm:us-east-1:111122223333:parameter/app/db") == "/app/db"
    assert parameter_name("arn:aws-cn:ssm:cn-north-1:111122223333:parameter/db") == "db"
    with pytest.raises(ValidationError, match="an SSM parameter ARN"):
        parameter_name("arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf")

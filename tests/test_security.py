"""Security: policies grant no resource wildcard AWS does not require, teardown touches only its own
stack, and a dry run on an AWS target changes nothing.

What lives elsewhere and is not repeated here: each "*" statement's written reason and the
simulation matrix denying another family, cluster, role or service (tests/test_iam.py); untagged
look-alikes kept by teardown (tests/test_stack.py); teardown on target=aws refused without
confirm=True (tests/test_parameters.py); the credential scan (tests/test_zz_credential_scan.py).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from parliament import iam_definition
from tests.test_iam import all_documents, stack_specs
from tests.test_stack import make_spec, mutating_calls, tagged_resources

from sfnecs import iam
from sfnecs.deploy import stack
from sfnecs.deploy.target import Connection
from sfnecs.exceptions import StackError
from sfnecs.images.sample import push_sample_image
from sfnecs.ops.steps import push_sample

TAG = "sfnecs:stack"


def resource_types(action: str) -> list[str] | None:
    """The resource types an action can be scoped to, from the Service Authorization Reference (parliament's
    copy); [] when it takes none (only Resource "*" can grant it), None when unknown."""
    service, name = action.split(":", 1)
    for entry in iam_definition:
        if entry["prefix"] == service:
            for privilege in entry["privileges"]:
                if privilege["privilege"].lower() == name.lower():
                    return [r["resource_type"] for r in privilege["resource_types"] if r["resource_type"]]
    return None


@settings(derandomize=True, max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stack_specs())
def test_resource_star_only_where_aws_offers_no_resource_type(spec):
    for role, part, doc in all_documents(spec):
        for statement in doc["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not any("*" in a for a in actions), (role, statement)  # no wildcard actions at all
            if part == "trust":
                assert "Resource" not in statement, (role, statement)
                # confused-deputy conditions on every trust but the task execution role's, for which ECS
                # documents none (iam._execution_trust says why)
                assert statement.get("Condition") or role == spec.execution_role, (role, statement)
                continue
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for action in actions:
                types = resource_types(action)
                assert types is not None, f"{action} is not in the Service Authorization Reference"
                if "*" in resources:
                    # "*" is the only way to grant an action without resource types (and the reason is written)
                    assert types == [] and statement["Sid"] in iam.STAR_REASONS, (role, action, types)
                else:
                    # an ARN scopes only an action that has a resource type: anything else would never match
                    assert types, (role, action, resources)


def test_every_star_reason_is_used_and_no_star_lacks_one():
    from sfnecs.model import StackSpec

    seen = set()
    for pattern in ("A", "B"):
        for _, part, doc in all_documents(StackSpec("stars", pattern=pattern, execution_logging=True)):
            for statement in doc["Statement"] if part == "permissions" else []:
                if "*" in statement["Resource"]:
                    seen.add(statement["Sid"])
    assert seen == set(iam.STAR_REASONS)  # no reason kept for a statement that is gone


# ---- teardown owns only its own stack --------------------------------------------------------------------
@pytest.mark.sandbox
def test_teardown_of_one_stack_spares_a_neighbour_whose_names_extend_it(target):
    """`shop` and `shop-job`: /ecs/shop is a prefix of /ecs/shop-job, shop's family shop-job is a prefix of
    shop-job-job, and ListTaskDefinitions and DescribeLogGroups match prefixes."""
    shop, neighbour = make_spec(target, "shop", pattern="A"), make_spec(target, "shop-job")
    stack.apply(target, shop)
    stack.apply(target, neighbour)
    before = sorted(tagged_resources(target, "shop-job"))
    try:
        deleted = stack.teardown(target, shop, delete_logs=True, delete_images=True)
        assert all(c.action == "delete" for c in deleted.changes) and deleted.changes
        assert tagged_resources(target, "shop") == []
        assert sorted(tagged_resources(target, "shop-job")) == before
        assert set(stack.plan(target, neighbour).to_frame()["action"]) == {"no-op"}
    finally:
        stack.teardown(target, neighbour, delete_logs=True, delete_images=True)
    assert tagged_resources(target, "shop-job") == []


@pytest.mark.sandbox
def test_resources_of_the_same_names_owned_by_another_stack_are_neither_adopted_nor_deleted(target, sandbox):
    spec = make_spec(target, "twin")
    other = [{"Key": TAG, "Value": "someone-else"}]
    iam_client, sqs, sns, logs, sched = (target.client(s) for s in ("iam", "sqs", "sns", "logs", "scheduler"))
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "states.amazonaws.com"}}
            ],
        }
    )
    iam_client.create_role(RoleName=spec.sfn_role, AssumeRolePolicyDocument=trust, Tags=other)
    queue = sqs.create_queue(QueueName=spec.dlq, tags={TAG: "someone-else"})["QueueUrl"]
    topic = sns.create_topic(Name=spec.topic, Tags=other)["TopicArn"]
    logs.create_log_group(logGroupName=spec.log_group, tags={TAG: "someone-else"})
    sched.create_schedule_group(Name=stack.schedule_group(spec), Tags=other)
    try:
        planned = stack.plan(target, spec).to_frame().set_index("resource")
        assert planned.loc[spec.sfn_role, "action"] == "conflict" and planned.loc[spec.dlq, "action"] == "conflict"
        assert planned.loc[spec.topic, "action"] == "conflict"
        sandbox.control("DELETE", "calls", {})
        with pytest.raises(StackError, match="nothing changed"):
            stack.apply(target, spec)
        result = stack.teardown(target, spec, delete_logs=True, delete_images=True)
        assert mutating_calls(sandbox) == {}
        kept = {c.resource for c in result.changes if c.action == "no-op"}
        assert {spec.sfn_role, spec.dlq, spec.topic, spec.log_group, stack.schedule_group(spec)} <= kept
        assert result.changed == []
        assert iam_client.get_role(RoleName=spec.sfn_role)["Role"]["RoleName"] == spec.sfn_role
        assert sqs.get_queue_url(QueueName=spec.dlq)["QueueUrl"] == queue
        assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["TopicArn"] == topic
        assert sched.get_schedule_group(Name=stack.schedule_group(spec))["State"] == "ACTIVE"
    finally:
        iam_client.delete_role(RoleName=spec.sfn_role)
        sqs.delete_queue(QueueUrl=queue)
        sns.delete_topic(TopicArn=topic)
        logs.delete_log_group(logGroupName=spec.log_group)
        sched.delete_schedule_group(Name=stack.schedule_group(spec))


# ---- a dry run on an AWS target ----------------------------------------------------------------------------
@pytest.fixture
def aws_like(sandbox, target):
    """A Target that says `aws` (no control API, is_sandbox False) but reaches the sandbox's endpoint."""
    from sfnecs.sandbox.server import SANDBOX_CREDENTIALS

    session = boto3.Session(
        aws_access_key_id=SANDBOX_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=SANDBOX_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=SANDBOX_CREDENTIALS["AWS_SESSION_TOKEN"],
        region_name=target.region,
    )
    return Connection("aws", target.region, target.account, session, sandbox.endpoint)


@pytest.mark.sandbox
def test_dry_runs_on_an_aws_target_make_no_mutating_call(target, sandbox, aws_like):
    spec = make_spec(target, "dry")
    stack.apply(target, spec)
    push_sample_image(target, spec.repository, "amd64")
    before = sorted(tagged_resources(target, "dry"))
    try:
        assert not aws_like.is_sandbox
        sandbox.control("DELETE", "calls", {})
        switched = spec.replace(pattern="A", cpu_architecture="ARM64")  # a plan that updates and deletes
        planned = stack.plan(aws_like, switched).to_frame()
        assert {"update", "delete"} <= set(planned["action"])
        gone = stack.teardown(aws_like, spec, dry_run=True)
        assert gone.dry_run and gone.changed and not any(c.done for c in gone.changes)
        stack.verify(aws_like, spec)
        assert push_sample(aws_like, spec, "arm64", dry_run=True) is None  # the deploy runbook's dry run
        assert mutating_calls(sandbox) == {}
        assert sorted(tagged_resources(target, "dry")) == before
    finally:
        stack.teardown(target, spec, delete_logs=True, delete_images=True)


def test_the_aws_like_target_has_no_control_api(aws_like: Any) -> None:
    from sfnecs.exceptions import TargetError

    with pytest.raises(TargetError, match="only on the sandbox"):
        aws_like.control("GET", "calls", {})

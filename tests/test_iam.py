"""sfnecs.iam and sfnecs.sandbox.iam: policies, rendering, lint, comparison, simulation.

Golden files: tests/golden/iam/<pattern>-<role kind>.<trust|permissions>.json. After an intended
policy change, regenerate them with
    SFNECS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_iam.py -k golden
and review the diff like any other code change.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import parse_qs

import boto3
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.parsers import QueryParser
from botocore.serialize import create_serializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfnecs import iam
from sfnecs.exceptions import ValidationError
from sfnecs.model import StackSpec
from sfnecs.sandbox import iam as iam_simulate

GOLDEN = Path(__file__).parent / "golden" / "iam"
SPEC = StackSpec(name="nightly-report", region="ap-northeast-1", account="111122223333")
ACCOUNT = SPEC.account


def spec_for(pattern: str, **changes) -> StackSpec:
    return SPEC.replace(pattern=pattern, **changes)


def all_documents(spec: StackSpec):
    for name, role in iam.policies_for(spec).items():
        yield name, "trust", role.trust
        if role.permissions:
            yield name, "permissions", role.permissions


# ---- an IAM client whose SimulateCustomPolicy is answered by the sandbox's handler, offline ----------
class _Body:
    def __init__(self, data: bytes):
        self.data = data

    def stream(self, **_):
        yield self.data


@pytest.fixture
def offline_iam():
    """A real boto3 IAM client: botocore serializes the request and parses the XML we answer."""
    client = boto3.client("iam", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")

    def answer(request, **_):
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        params = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        try:
            status, xml = 200, iam_simulate.handle_request(params)
        except ValidationError as exc:
            status, xml = iam_simulate.error_response(exc)
        return AWSResponse(request.url, status, {"Content-Type": "text/xml"}, _Body(xml.encode()))

    client.meta.events.register("before-send.iam.SimulateCustomPolicy", answer)
    return client


# ---- golden JSON ---------------------------------------------------------------------------------
@pytest.mark.parametrize("pattern", ["A", "B"])
def test_golden_policies(pattern):
    spec = spec_for(pattern)
    expected_files = set()
    for role in iam.policies_for(spec).values():
        for part, doc in (("trust", role.trust), ("permissions", role.permissions)):
            path = GOLDEN / f"{pattern}-{role.kind}.{part}.json"
            if doc is None:
                continue
            expected_files.add(path.name)
            text = iam.to_json(doc) + "\n"
            if os.environ.get("SFNECS_UPDATE_GOLDEN") == "1":
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
            assert text == path.read_text(), f"{path.name} differs: see the module docstring to regenerate"
    assert {p.name for p in GOLDEN.glob(f"{pattern}-*.json")} == expected_files
    # the task role has no permissions of its own
    assert iam.policies_for(spec)[spec.task_role].permissions is None


def test_to_json_has_a_stable_key_order_whatever_the_input_order():
    doc = iam.permission_policy(SPEC, "sfn")
    shuffled = {"Statement": [dict(reversed(list(st.items()))) for st in doc["Statement"]], "Version": doc["Version"]}
    assert iam.to_json(shuffled) == iam.to_json(doc)
    assert list(json.loads(iam.to_json(shuffled))) == ["Version", "Statement"]
    assert list(json.loads(iam.to_json(shuffled))["Statement"][0]) == [
        "Sid",
        "Effect",
        "Action",
        "Resource",
        "Condition",
    ]


def test_pattern_b_step_functions_role_matches_the_aws_template_and_the_spec():
    doc = iam.permission_policy(SPEC, "sfn")
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    run = by_sid["RunTaskFamilyInStackCluster"]
    assert run["Resource"] == [SPEC.task_definition_arn_pattern]
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": SPEC.cluster_arn}}
    assert by_sid["SyncRuleManagedByStepFunctions"]["Resource"] == [
        f"arn:aws:events:ap-northeast-1:{ACCOUNT}:rule/StepFunctionsGetEventsForECSTaskRule"
    ]
    passing = by_sid["PassTaskAndExecutionRolesToEcsTasks"]
    assert passing["Resource"] == sorted([SPEC.role_arn(SPEC.task_role), SPEC.role_arn(SPEC.execution_role)])
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    # switches add exactly their statement
    for switch, sid in (
        ("guard", "GuardListsOwnExecutions"),
        ("execution_logging", "LogDeliveryApisTakeNoResourceArn"),
    ):
        off = {s["Sid"] for s in iam.permission_policy(SPEC.replace(**{switch: False}), "sfn")["Statement"]}
        assert set(by_sid) - off == {sid}
    quiet = SPEC.replace(notify_failure=False, notify_success=False)
    assert "PublishRunNotifications" not in {s["Sid"] for s in iam.permission_policy(quiet, "sfn")["Statement"]}
    assert "PublishRunNotifications" in {
        s["Sid"] for s in iam.permission_policy(quiet.replace(notify_success=True), "sfn")["Statement"]
    }


@pytest.mark.parametrize("language", ["JSONata", "JSONPath"])
@pytest.mark.parametrize(
    "switches",
    [
        {},
        {"guard": False, "notify_failure": False, "execution_logging": False},
        {"notify_failure": False, "notify_success": True},
    ],
)
def test_step_functions_role_grants_what_the_state_machine_uses_and_nothing_else(language, switches):
    from sfnecs.statemachine import build_definition

    spec = SPEC.replace(query_language=language, **switches)
    granted = {a for st in iam.permission_policy(spec, "sfn")["Statement"] for a in st["Action"]}
    used = iam.required_actions(build_definition(spec))
    assert granted == used | (set(iam.LOG_DELIVERY_ACTIONS) if spec.execution_logging else set())


def test_required_actions_reads_nested_branches_and_refuses_unknown_integrations():
    definition = {
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {"States": {"L": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:listExecutions"}}}
                ],
            },
            "M": {
                "Type": "Map",
                "ItemProcessor": {"States": {"S": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish"}}},
            },
        }
    }
    assert iam.required_actions(definition) == {"states:ListExecutions", "sns:Publish"}
    with pytest.raises(ValidationError, match="lambda:invoke"):
        iam.required_actions({"States": {"X": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke"}}})


def test_trust_policies_name_their_service_and_guard_against_confused_deputies():
    from sfnecs.deploy.stack import schedule_group

    roles = iam.policies_for(SPEC)
    sfn = roles[SPEC.sfn_role].trust["Statement"][0]
    assert sfn["Principal"] == {"Service": "states.amazonaws.com"}
    assert sfn["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert SPEC.state_machine_arn in sfn["Condition"]["ArnLike"]["aws:SourceArn"]
    scheduler = roles[SPEC.scheduler_role].trust["Statement"][0]
    assert scheduler["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert scheduler["Condition"]["ArnLike"]["aws:SourceArn"] == SPEC.arn(
        "scheduler", f"schedule-group/{schedule_group(SPEC)}"
    )
    for field in ("task_role", "execution_role"):
        assert roles[getattr(SPEC, field)].trust["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}


def test_policies_for_picks_the_roles_of_the_pattern_and_refuses_shared_names():
    assert [r.kind for r in iam.policies_for(spec_for("B")).values()] == ["sfn", "scheduler", "task", "execution"]
    assert [r.kind for r in iam.policies_for(spec_for("A")).values()] == ["scheduler", "task", "execution"]
    with pytest.raises(ValidationError) as err:
        iam.policies_for(SPEC.replace(task_role=SPEC.execution_role))
    assert err.value.parameter == "execution_role" and "task_role" in str(err.value)
    with pytest.raises(ValidationError, match="kind='lambda'"):
        iam.trust_policy(SPEC, "lambda")


def test_execution_role_pulls_only_from_the_image_repository():
    other = SPEC.replace(image="444455556666.dkr.ecr.eu-west-1.amazonaws.com/team/job@sha256:" + "a" * 64)
    pull = iam.permission_policy(other, "execution")["Statement"][0]
    assert pull["Resource"] == ["arn:aws:ecr:eu-west-1:444455556666:repository/team/job"]
    public = iam.permission_policy(SPEC.replace(image="public.ecr.aws/docker/library/busybox:1.36"), "execution")
    assert [s["Sid"] for s in public["Statement"]] == ["WriteTaskLogsToStackLogGroup"]


def test_policy_table_lists_every_statement_with_its_star_reason():
    table = iam.policy_table(SPEC)
    assert set(table.role) == set(iam.policies_for(SPEC))
    star = table[table.resource == "*"]
    assert set(star.sid) == set(iam.STAR_REASONS) and all(star.why_star.str.len() > 40)


# ---- lint ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("pattern", ["A", "B"])
def test_our_policies_are_lint_clean(pattern):
    for switches in ({}, {"guard": False, "notify_failure": False, "execution_logging": False}):
        for name, part, doc in all_documents(spec_for(pattern, **switches)):
            assert iam.lint(doc) == [], f"{name} {part}"


def test_accepted_findings_are_exactly_the_written_ones_and_no_wider():
    assert set(iam.ACCEPTED_FINDINGS) == {
        ("CREDENTIALS_EXPOSURE", "EcrAuthTokenIsAccountWide"),
        ("PERMISSIONS_MANAGEMENT_ACTIONS", "PassTaskAndExecutionRolesToEcsTasks"),
        ("PERMISSIONS_MANAGEMENT_ACTIONS", "LogDeliveryApisTakeNoResourceArn"),
        ("RESOURCE_MISMATCH", "GuardListsOwnExecutions"),
        *{("CREDENTIALS_EXPOSURE", iam.ROLE_KINDS[k].trust_sid) for k in iam.ROLE_KINDS},
    }
    assert all(len(reason) > 60 for reason in iam.ACCEPTED_FINDINGS.values())
    # every accepted pair is actually used: parliament does raise them on our policies
    raised = {
        (f.issue, f.sid)
        for p in ("A", "B")
        for _, _, doc in all_documents(spec_for(p))
        for f in iam.lint(doc, include_accepted=True)
    }
    assert raised == set(iam.ACCEPTED_FINDINGS)
    # the same grant under another Sid is reported
    token = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Anything", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]}
        ],
    }
    assert [(f.issue, f.sid, f.accepted) for f in iam.lint(token)] == [("CREDENTIALS_EXPOSURE", "Anything", "")]
    # another finding type under an accepted Sid is reported
    sneaky = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "EcrAuthTokenIsAccountWide", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"]}
        ],
    }
    assert ("RESOURCE_STAR", "EcrAuthTokenIsAccountWide") in {(f.issue, f.sid) for f in iam.lint(sneaky)}
    # a policy-level finding is accepted only when every statement it names is accepted for it
    mixed = iam.permission_policy(SPEC, "sfn")
    mixed["Statement"].append(
        {"Sid": "Extra", "Effect": "Allow", "Action": ["iam:PutRolePolicy"], "Resource": [SPEC.role_arn("x")]}
    )
    assert {f.sid for f in iam.lint(mixed) if f.issue == "PERMISSIONS_MANAGEMENT_ACTIONS"} == {
        "Extra",
        "PassTaskAndExecutionRolesToEcsTasks",
        "LogDeliveryApisTakeNoResourceArn",
    }


def test_findings_on_the_broad_policy_are_returned_not_hidden():
    findings = iam.lint(iam.broad_policy(SPEC), include_accepted=True)
    assert all(f.accepted == "" for f in findings)
    got = {(f.issue, f.sid) for f in findings}
    assert ("RESOURCE_STAR", "#1") in got
    assert ("UNKNOWN_CONDITION_FOR_ACTION", "#4") in got
    assert ("PERMISSIONS_MANAGEMENT_ACTIONS", "#4") in got
    star = next(f for f in findings if f.issue == "RESOURCE_STAR")
    assert set(star.actions) == {"ecs:RunTask", "ecs:StopTask", "ecs:DescribeTasks"} and star.severity


# ---- the broad policy ------------------------------------------------------------------------------
def test_broad_policy_is_the_notes_policy():
    broad = iam.broad_policy(SPEC)
    assert [s["Action"] for s in broad["Statement"]] == [
        ["ecs:RunTask", "ecs:StopTask", "ecs:DescribeTasks"],
        ["iam:PassRole"],
        ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
        ["iam:CreateServiceLinkedRole", "iam:AttachRolePolicy", "iam:PutRolePolicy"],
    ]
    assert broad["Statement"][1]["Resource"] == [SPEC.role_arn(SPEC.execution_role)]


def test_comparison_with_the_broad_policy():
    table = iam.compare_with_broad(SPEC)
    assert list(table.columns) == [
        "statement",
        "our_statement",
        "action",
        "resource",
        "context",
        "granted_by_broad",
        "granted_by_ours",
        "extra_grant_allows",
        "why_not_needed",
    ]

    def row(action, resource, context_part=""):
        hits = table[
            (table.action == action)
            & (table.resource == resource)
            & table.context.str.contains(context_part, regex=False)
        ]
        assert len(hits) == 1, (action, resource, context_part)
        return hits.iloc[0]

    other_family = row("ecs:RunTask", SPEC.arn("ecs", "task-definition/nightly-report-job-other:1"))
    assert other_family.granted_by_broad and not other_family.granted_by_ours
    assert other_family.statement == "broad #1" and other_family.extra_grant_allows
    own = row("ecs:RunTask", SPEC.arn("ecs", "task-definition/nightly-report-job:1"), f'"{SPEC.cluster_arn}"')
    assert own.granted_by_broad and own.granted_by_ours and own.our_statement == "RunTaskFamilyInStackCluster"
    task_role = row("iam:PassRole", SPEC.role_arn(SPEC.task_role), "ecs-tasks")
    assert not task_role.granted_by_broad and task_role.granted_by_ours
    assert "fails to launch" in task_role.why_not_needed
    other_service = row("iam:PassRole", SPEC.role_arn(SPEC.execution_role), "lambda")
    assert other_service.granted_by_broad and not other_service.granted_by_ours
    slr = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/events.amazonaws.com/AWSServiceRoleForCloudWatchEvents"
    created = row("iam:CreateServiceLinkedRole", slr)
    assert created.granted_by_broad and not created.granted_by_ours and created.statement == "broad #4"
    dead = row("iam:PutRolePolicy", slr)
    assert not dead.granted_by_broad and "never matches" in dead.extra_grant_allows
    assert row("events:PutRule", SPEC.arn("events", "rule/any-rule")).granted_by_broad
    extra = table[table.granted_by_broad & ~table.granted_by_ours]
    assert len(extra) >= 6 and all(extra.extra_grant_allows.str.len() > 20) and all(extra.why_not_needed.str.len() > 20)
    quiet = iam.compare_with_broad(SPEC.replace(guard=False, notify_failure=False, execution_logging=False))
    assert not {"sns:Publish", "states:ListExecutions", "logs:CreateLogDelivery"} & set(quiet.action)


# ---- simulation: the pure evaluator ------------------------------------------------------------------
def _decide(doc, call) -> str:
    result = iam_simulate.simulate_custom_policy(
        [iam.to_json(doc)],
        [call.action],
        [] if call.resource == "*" else [call.resource],
        iam._context_entries(call.context),
    )[0]
    return iam._resource_outcome(result, call.resource)[0]


@pytest.mark.parametrize("pattern", ["A", "B"])
def test_default_matrix_holds_under_the_pure_evaluator(pattern):
    spec = spec_for(pattern)
    roles = iam.policies_for(spec)
    calls = iam.default_matrix(spec)
    launcher = spec.sfn_role if pattern == "B" else spec.scheduler_role
    labels = {c.label: c.expected for c in calls if c.role == launcher}
    assert labels["own task definition in own cluster"] == "allowed"
    for denied in ("another family", "another cluster", "pass another role", "pass the task role to another service"):
        assert labels[denied] == "implicitDeny"
    if pattern == "B":
        assert {c.label: c.expected for c in calls if c.role == spec.scheduler_role}[
            "another state machine"
        ] == "implicitDeny"
    for call in calls:
        assert _decide(roles[call.role].permissions, call) == call.expected, call


def test_the_broad_policy_fails_the_matrix_where_the_note_is_wrong():
    calls = {c.label: c for c in iam.default_matrix(SPEC) if c.role == SPEC.sfn_role}
    broad = iam.broad_policy(SPEC)
    assert _decide(broad, calls["pass the task role to ECS tasks"]) == "implicitDeny"  # task cannot launch
    assert _decide(broad, calls["another family"]) == "allowed"
    assert _decide(broad, calls["another cluster"]) == "allowed"
    assert _decide(broad, calls["pass the task role to another service"]) == "implicitDeny"
    assert _decide(broad, calls["pass the execution role to ECS tasks"]) == "allowed"


def _policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _one(policy: str, action: str, resource: str, **context) -> dict:
    entries = [
        {"ContextKeyName": k.replace("__", ":"), "ContextKeyValues": [v], "ContextKeyType": "string"}
        for k, v in context.items()
    ]
    result = iam_simulate.simulate_custom_policy([policy], [action], [resource], entries)[0]
    return result["ResourceSpecificResults"][0]


def test_evaluator_conditions_follow_iam_semantics():
    cluster = "arn:aws:ecs:us-east-1:111122223333:cluster/jobs"
    policy = _policy(
        {
            "Effect": "Allow",
            "Action": "ecs:RunTask",
            "Resource": "*",
            "Condition": {"ArnLike": {"ecs:cluster": "arn:aws:ecs:*:111122223333:cluster/j?bs"}},
        }
    )
    assert _one(policy, "ecs:RunTask", "x", ecs__cluster=cluster)["EvalResourceDecision"] == "allowed"
    # ARN components are matched one by one: * in the region cannot swallow the account
    assert (
        _one(policy, "ecs:RunTask", "x", ecs__cluster="arn:aws:ecs:a:b:111122223333:cluster/jobs")[
            "EvalResourceDecision"
        ]
        == "implicitDeny"
    )
    missing = _one(policy, "ecs:RunTask", "x")
    assert missing["EvalResourceDecision"] == "implicitDeny" and missing["MissingContextValues"] == ["ecs:cluster"]
    if_exists = _policy(
        {
            "Effect": "Allow",
            "Action": "ecs:RunTask",
            "Resource": "*",
            "Condition": {"ArnEqualsIfExists": {"ecs:cluster": cluster}},
        }
    )
    assert _one(if_exists, "ecs:RunTask", "x")["EvalResourceDecision"] == "allowed"
    assert _one(if_exists, "ecs:RunTask", "x", ecs__cluster=cluster + "2")["EvalResourceDecision"] == "implicitDeny"
    like = _policy(
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "*",
            "Condition": {"StringLike": {"iam:PassedToService": "ecs-*.amazonaws.com"}},
        }
    )
    assert (
        _one(like, "iam:PassRole", "r", iam__PassedToService="ecs-tasks.amazonaws.com")["EvalResourceDecision"]
        == "allowed"
    )
    # condition key names are case-insensitive, values are not
    assert (
        _one(like, "iam:PassRole", "r", IAM__passedtoservice="ecs-tasks.amazonaws.com")["EvalResourceDecision"]
        == "allowed"
    )
    assert (
        _one(like, "iam:PassRole", "r", iam__PassedToService="ECS-tasks.amazonaws.com")["EvalResourceDecision"]
        == "implicitDeny"
    )


def test_evaluator_matches_actions_case_insensitively_and_resources_literally():
    policy = _policy({"Effect": "Allow", "Action": "iam:passrole", "Resource": "arn:aws:iam::111122223333:role/a+b.c"})
    assert _one(policy, "IAM:PassRole", "arn:aws:iam::111122223333:role/a+b.c")["EvalResourceDecision"] == "allowed"
    # moto would read + and . as regex: "a+b.c" must not match "aab-c"
    assert (
        _one(policy, "iam:PassRole", "arn:aws:iam::111122223333:role/aab-c")["EvalResourceDecision"] == "implicitDeny"
    )


def test_evaluator_explicit_deny_wins_and_names_the_statement():
    allow = {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}
    deny = {"Effect": "Deny", "Action": "sqs:DeleteQueue", "Resource": "arn:aws:sqs:*:*:keep-*"}
    results = iam_simulate.simulate_custom_policy(
        [_policy(allow), _policy(deny)],
        ["sqs:DeleteQueue"],
        ["arn:aws:sqs:us-east-1:111122223333:keep-me", "arn:aws:sqs:us-east-1:111122223333:scratch"],
        [],
    )
    assert len(results) == 1
    kept, scratch = results[0]["ResourceSpecificResults"]
    assert kept["EvalResourceDecision"] == "explicitDeny"
    assert kept["MatchedStatements"] == [{"SourcePolicyId": "PolicyInputList.2"}]
    assert scratch["EvalResourceDecision"] == "allowed"
    assert results[0]["EvalDecision"] == "explicitDeny"
    assert results[0]["EvalResourceName"] == "arn:${Partition}:sqs:${Region}:${Account}:${QueueName}"


@pytest.mark.parametrize(
    "statement, parameter",
    [
        ({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::x/*"}, "PolicyInputList.member.1"),
        (
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}},
            },
            "PolicyInputList.member.1",
        ),
        (
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}},
            },
            "PolicyInputList.member.1",
        ),
        (
            {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"},
            "PolicyInputList.member.1",
        ),
        ({"Effect": "Maybe", "Action": "s3:GetObject", "Resource": "*"}, "PolicyInputList.member.1"),
    ],
)
def test_evaluator_refuses_what_it_cannot_judge(statement, parameter):
    with pytest.raises(ValidationError) as err:
        iam_simulate.simulate_custom_policy([_policy(statement)], ["s3:GetObject"], [], [])
    assert err.value.parameter == parameter


def test_moto_condition_defects_the_evaluator_works_around_are_still_there():
    """If this fails, moto's evaluator improved: revisit what iam_simulate delegates to it."""
    from moto.iam.access_control import IAMPolicyStatement

    unmet = IAMPolicyStatement(
        {
            "Effect": "Allow",
            "Action": "ecs:RunTask",
            "Resource": "*",
            "Condition": {"StringEquals": {"ecs:cluster": "a"}},
        }
    )
    assert unmet.is_action_permitted("ecs:RunTask", "*", None, {"ecs:cluster": "b"}).name == "DENIED"
    ignored = IAMPolicyStatement(
        {"Effect": "Allow", "Action": "ecs:RunTask", "Resource": "*", "Condition": {"ArnEquals": {"ecs:cluster": "a"}}}
    )
    assert ignored.is_action_permitted("ecs:RunTask", "*", None, {"ecs:cluster": "b"}).name == "PERMITTED"


# ---- simulation: the Query protocol and boto3 --------------------------------------------------------
def _iam_model():
    return botocore.session.get_session().get_service_model("iam")


def _query_params(**request) -> dict[str, str]:
    """Serialize a SimulateCustomPolicy request exactly as botocore does, as one value per field."""
    model = _iam_model()
    serialized = create_serializer("query").serialize_to_request(request, model.operation_model("SimulateCustomPolicy"))
    return {k: str(v) for k, v in serialized["body"].items()}


def _parse(xml: str) -> dict:
    shape = _iam_model().operation_model("SimulateCustomPolicy").output_shape
    return QueryParser().parse({"body": xml.encode(), "headers": {}, "status_code": 200}, shape)


def test_handle_request_answers_in_xml_that_botocore_parses():
    policy = iam.to_json(iam.permission_policy(SPEC, "sfn"))
    request = {
        "PolicyInputList": [policy],
        "ActionNames": ["ecs:RunTask", "iam:PassRole"],
        "ResourceArns": [
            f"arn:aws:ecs:ap-northeast-1:{ACCOUNT}:task-definition/nightly-report-job:7",
            SPEC.role_arn(SPEC.task_role),
        ],
        "ContextEntries": [
            {"ContextKeyName": "ecs:cluster", "ContextKeyValues": [SPEC.cluster_arn], "ContextKeyType": "string"},
            {
                "ContextKeyName": "iam:PassedToService",
                "ContextKeyValues": ["ecs-tasks.amazonaws.com"],
                "ContextKeyType": "string",
            },
        ],
    }
    parsed = _parse(iam_simulate.handle_request(_query_params(**request)))
    expected = iam_simulate.simulate_custom_policy(
        request["PolicyInputList"], request["ActionNames"], request["ResourceArns"], request["ContextEntries"]
    )
    assert parsed["IsTruncated"] is False
    assert parsed["EvaluationResults"] == expected
    run_task = {
        r["EvalResourceName"]: r["EvalResourceDecision"]
        for r in parsed["EvaluationResults"][0]["ResourceSpecificResults"]
    }
    assert run_task[request["ResourceArns"][0]] == "allowed"
    assert parsed["ResponseMetadata"]["RequestId"]


def test_handle_request_pages_with_marker():
    params = _query_params(
        PolicyInputList=[_policy({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})],
        ActionNames=["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
        MaxItems=2,
    )
    first = _parse(iam_simulate.handle_request(params))
    assert first["IsTruncated"] is True and len(first["EvaluationResults"]) == 2
    second = _parse(iam_simulate.handle_request({**params, "Marker": first["Marker"]}))
    assert second["IsTruncated"] is False
    assert [r["EvalActionName"] for r in first["EvaluationResults"] + second["EvaluationResults"]] == [
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
    ]
    assert all(
        r["EvalDecision"] == "allowed" and "ResourceSpecificResults" not in r for r in first["EvaluationResults"]
    )


def test_simulate_through_boto3_for_every_role(offline_iam):
    for pattern in ("A", "B"):
        frame = iam.simulate_roles(offline_iam, spec_for(pattern))
        assert len(frame) == len(iam.default_matrix(spec_for(pattern)))
        assert frame.as_expected.all(), frame[~frame.as_expected]
        own = frame[frame.label == "own task definition in own cluster"].iloc[0]
        assert own.decision == "allowed" and own.matched == "RunTaskFamilyInStackCluster"
        assert set(frame.decision) == {"allowed", "implicitDeny"}
    tag = iam.simulate(
        offline_iam,
        iam.permission_policy(spec_for("A"), "scheduler"),
        [iam.Call("ecs:TagResource", SPEC.arn("ecs", f"task/{SPEC.cluster}/abc"))],
    )
    assert tag.decision[0] == "implicitDeny" and tag.missing_context[0] == "ecs:CreateAction"


def test_simulate_reports_the_broad_policy_by_statement_number(offline_iam):
    calls = [c for c in iam.default_matrix(SPEC) if c.role == SPEC.sfn_role]
    frame = iam.simulate(offline_iam, iam.broad_policy(SPEC), calls)
    by_label = frame.set_index("label")
    assert by_label.loc["another family", "decision"] == "allowed"
    assert by_label.loc["another family", "matched"] == "statement #1"
    assert by_label.loc["pass the task role to ECS tasks", "decision"] == "implicitDeny"
    assert not frame.as_expected.all()


def test_a_policy_the_simulator_refuses_is_an_iam_error_for_boto3(offline_iam):
    with pytest.raises(ClientError) as err:
        offline_iam.simulate_custom_policy(PolicyInputList=["{not json"], ActionNames=["s3:GetObject"])
    assert err.value.response["Error"]["Code"] == "MalformedPolicyDocument"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_call_validates_its_fields():
    with pytest.raises(ValidationError, match="action='RunTask'"):
        iam.Call("RunTask")
    with pytest.raises(ValidationError, match="expected='denied'"):
        iam.Call("ecs:RunTask", expected="denied")


# ---- property: any valid stack gives lint-clean policies ------------------------------------------
_ROLE_NAME = st.from_regex(r"[A-Za-z0-9_+=,.@-]{1,40}", fullmatch=True)


@st.composite
def stack_specs(draw) -> StackSpec:
    name = draw(st.from_regex(r"[a-z][a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}", fullmatch=True))
    account = draw(st.from_regex(r"[0-9]{12}", fullmatch=True))
    values = {
        "name": name,
        "account": account,
        "pattern": draw(st.sampled_from(["A", "B"])),
        "region": draw(st.sampled_from(["us-east-1", "ap-northeast-1", "eu-west-2", "us-gov-west-1"])),
        **{k: draw(st.booleans()) for k in ("guard", "notify_failure", "notify_success", "execution_logging")},
        "image": draw(
            st.sampled_from(
                [
                    "",
                    "public.ecr.aws/docker/library/busybox:1.36",
                    f"{account}.dkr.ecr.eu-west-1.amazonaws.com/team/job:v1",
                ]
            )
        ),
    }
    if draw(st.booleans()):
        roles = draw(st.lists(_ROLE_NAME, min_size=4, max_size=4, unique=True))
        values.update(zip(("task_role", "execution_role", "sfn_role", "scheduler_role"), roles, strict=False))
    if draw(st.booleans()):
        values["cluster"] = draw(st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True))
        values["family"] = draw(st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True))
        values["state_machine"] = draw(st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True))
        values["log_group"] = draw(st.from_regex(r"[.\-_/#A-Za-z0-9]{1,60}", fullmatch=True))
    return StackSpec(**values)


@settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(stack_specs())
def test_any_valid_stack_has_lint_clean_policies_with_reasoned_stars(spec):
    for name, part, doc in all_documents(spec):
        assert iam.lint(doc) == [], (name, part)
        sids = [s["Sid"] for s in doc["Statement"]]
        assert len(set(sids)) == len(sids) and all(re.fullmatch(r"[A-Za-z0-9]+", s) for s in sids)
        for statement in doc["Statement"]:
            if "*" in statement.get("Resource", []):
                assert iam.STAR_REASONS.get(statement["Sid"]), statement
    for call in iam.default_matrix(spec):
        assert _decide(iam.policies_for(spec)[call.role].permissions, call) == call.expected, call


@pytest.mark.sandbox
def test_simulate_against_the_embedded_sandbox(target):
    frame = iam.simulate_roles(target.client("iam"), SPEC)
    assert len(frame) == len(iam.default_matrix(SPEC)) and frame.as_expected.all(), frame[~frame.as_expected]

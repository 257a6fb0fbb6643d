"""Job settings in StackSpec (sfnecs.model.job): secrets, task-role permissions, log retention."""

from __future__ import annotations

import json

import pytest

from sfnecs.exceptions import ValidationError
from sfnecs.model import StackSpec
from sfnecs.model.job import secret_source, task_statements

SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password-AbCdEf"
PARAMETER = "arn:aws:ssm:us-east-1:123456789012:parameter/nightly/api-key"
KEY = "arn:aws:kms:us-east-1:123456789012:key/0123abcd-0123-4567-89ab-0123456789ab"


def test_secrets_and_their_sources():
    spec = StackSpec("job", secrets={"DB_PASSWORD": f"{SECRET}:password::", "API_KEY": PARAMETER}, secrets_kms_key=KEY)
    assert spec.secrets == (("DB_PASSWORD", f"{SECRET}:password::"), ("API_KEY", PARAMETER))
    # a JSON key suffix names a field of the secret: the grant is on the secret itself
    assert secret_source(f"{SECRET}:password::") == ("secretsmanager", SECRET)
    assert secret_source(PARAMETER) == ("ssm", PARAMETER)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"secrets": {"1BAD": SECRET}}, "secrets='1BAD' is not valid: environment variable names"),
        ({"secrets": {"TOKEN": "my-secret"}}, "secrets='my-secret' is not valid: a Secrets Manager secret ARN"),
        (
            {"secrets": {"TOKEN": SECRET}, "environment": {"TOKEN": "x"}},
            "secrets='TOKEN' is not valid: a name not also",
        ),
        (
            {"secrets": {"TOKEN": SECRET.replace("arn:aws:", "arn:aws-cn:")}},
            "is not valid: an ARN in the stack's partition \\(aws\\)",
        ),
        ({"secrets_kms_key": "alias/mine", "secrets": {"TOKEN": SECRET}}, "secrets_kms_key='alias/mine' is not valid"),
        ({"secrets_kms_key": KEY}, "secrets_kms_key=.* is not valid: '' without secrets"),
        ({"task_policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"] * 11}, "at most 10 managed policies"),
        (
            {"task_policy_arns": ["ReadOnlyAccess"]},
            "task_policy_arns='ReadOnlyAccess' is not valid: managed policy ARNs",
        ),
        ({"task_policy_statements": "{}"}, "a non-empty JSON list"),
        (
            {"task_policy_statements": json.dumps([{"Action": "s3:GetObject", "Resource": "*"}])},
            "statements with Effect",
        ),
        ({"log_retention_days": 31}, "log_retention_days=31 is not valid: one of CloudWatch Logs' retention periods"),
        ({"log_retention_days": True}, "log_retention_days=True is not valid"),
    ],
)
def test_bad_job_settings_are_refused_by_name(changes, message):
    with pytest.raises(ValidationError, match=message):
        StackSpec("job", **changes)


def test_task_role_permissions_and_retention():
    statements = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}]
    spec = StackSpec(
        "job",
        task_policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        task_policy_statements=json.dumps(statements),
        log_retention_days=0,
    )
    assert spec.task_policy_arns == ("arn:aws:iam::aws:policy/ReadOnlyAccess",)
    assert task_statements(spec.task_policy_statements) == statements
    assert StackSpec("job").log_retention_days == 30  # AWS keeps logs forever by default; the kit keeps a month

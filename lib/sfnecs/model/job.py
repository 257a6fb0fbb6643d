"""The job's own settings in a StackSpec — secrets, task-role permissions, log retention — and their checks.

Why at the door: a secret ARN in another partition, a statement without an Effect or a retention
CloudWatch does not offer is refused before any AWS call, naming the parameter and the rule, instead
of failing at RegisterTaskDefinition, PutRolePolicy or at the task's start.
"""

from __future__ import annotations

import json
import re
from typing import Any, Protocol

from sfnecs.exceptions import ValidationError
from sfnecs.model.arns import partition_of

__all__ = [
    "LOG_RETENTION_DAYS",
    "SECRET_ARN_RE",
    "check_job_settings",
    "parameter_name",
    "secret_source",
    "task_statements",
]

#: PutRetentionPolicy's allowed values (CloudWatch Logs API reference); 0 here means "never expire"
#: (no retention policy: AWS's own default for a new log group)
LOG_RETENTION_DAYS = (
    0,
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
#: `secrets[].valueFrom` as a full ARN (ECS API reference, "Secret"): a Secrets Manager secret (optionally
#: with `:json-key:version-stage:version-id`) or an SSM parameter
SECRET_ARN_RE = re.compile(
    r"arn:(?P<partition>aws|aws-cn|aws-us-gov):(?P<service>secretsmanager|ssm):(?P<region>[a-z0-9-]+):"
    r"(?P<account>\d{12}):(?:secret:(?P<secret>[\w/+=.@-]+?)(?::[^:]*:[^:]*:[^:]*)?|parameter/(?P<parameter>[\w./-]+))"
)
_KMS_KEY_RE = re.compile(
    r"arn:(aws|aws-cn|aws-us-gov):kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}|"
    r"arn:(aws|aws-cn|aws-us-gov):kms:[a-z0-9-]+:\d{12}:key/mrk-[0-9a-f]{32}"
)
_POLICY_ARN_RE = re.compile(r"arn:(aws|aws-cn|aws-us-gov):iam::(aws|\d{12}):policy/[\w+=,.@/-]{1,512}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
#: IAM's default quota of managed policies attached to one role (IAM user guide, "IAM and AWS STS quotas")
MAX_MANAGED_POLICIES = 10


class _Job(Protocol):
    @property
    def region(self) -> str: ...
    @property
    def environment(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def secrets(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def secrets_kms_key(self) -> str: ...
    @property
    def task_policy_arns(self) -> tuple[str, ...]: ...
    @property
    def task_policy_statements(self) -> str: ...
    @property
    def log_retention_days(self) -> int: ...


def secret_source(value_from: str) -> tuple[str, str]:
    """(service, ARN to grant) of a secret: ("secretsmanager", the secret's ARN without a JSON key suffix)
    or ("ssm", the parameter's ARN)."""
    m = SECRET_ARN_RE.fullmatch(value_from)
    if not m:
        raise ValidationError("secrets", value_from, "a Secrets Manager secret ARN or an SSM parameter ARN")
    if m["service"] == "ssm":
        return "ssm", value_from
    base = f"arn:{m['partition']}:secretsmanager:{m['region']}:{m['account']}:secret:{m['secret']}"
    return "secretsmanager", base


def parameter_name(arn: str) -> str:
    """The name Parameter Store knows an SSM parameter ARN by: `/app/db` for `parameter/app/db` (a path keeps
    its leading /), `db` for `parameter/db`."""
    m = SECRET_ARN_RE.fullmatch(arn)
    if not m or not m["parameter"]:
        raise ValidationError(
            "secrets", arn, "an SSM parameter ARN (arn:<partition>:ssm:<region>:<account>:parameter/...)"
        )
    return "/" + m["parameter"] if "/" in m["parameter"] else m["parameter"]


def task_statements(text: str) -> list[dict[str, Any]]:
    """The task role's extra statements from their JSON text ([] when empty)."""
    return list(json.loads(text)) if text else []


def check_job_settings(spec: _Job) -> None:
    """Raise ValidationError for the first job setting that AWS would refuse or that could not work."""
    partition = partition_of(spec.region)
    names = [n for n, _ in spec.environment]
    for name, value_from in spec.secrets:
        if not _ENV_NAME.fullmatch(name):
            raise ValidationError(
                "secrets", name, "environment variable names: a letter or _ then letters, digits or _"
            )
        if name in names:
            raise ValidationError("secrets", name, "a name not also set in environment (the container gets one value)")
        names.append(name)
        m = SECRET_ARN_RE.fullmatch(value_from)
        if not m:
            raise ValidationError(
                "secrets",
                value_from,
                "a Secrets Manager secret ARN (arn:...:secretsmanager:"
                "<region>:<account>:secret:<name>) or an SSM parameter ARN (arn:...:ssm:<region>:"
                "<account>:parameter/<name>)",
            )
        if m["partition"] != partition:
            raise ValidationError("secrets", value_from, f"an ARN in the stack's partition ({partition})")
    if len(set(n for n, _ in spec.secrets)) != len(spec.secrets):
        raise ValidationError("secrets", spec.secrets, "each variable name at most once")
    if spec.secrets_kms_key and not _KMS_KEY_RE.fullmatch(spec.secrets_kms_key):
        raise ValidationError(
            "secrets_kms_key",
            spec.secrets_kms_key,
            "a KMS key ARN (arn:...:kms:<region>:<account>:"
            "key/<key id>; IAM grants kms:Decrypt on key ARNs, not aliases)",
        )
    if spec.secrets_kms_key and not spec.secrets:
        raise ValidationError("secrets_kms_key", spec.secrets_kms_key, "'' without secrets (it only decrypts them)")
    if len(spec.task_policy_arns) > MAX_MANAGED_POLICIES:
        raise ValidationError(
            "task_policy_arns",
            spec.task_policy_arns,
            f"at most {MAX_MANAGED_POLICIES} managed policies (IAM's default quota per role)",
        )
    for arn in spec.task_policy_arns:
        if not _POLICY_ARN_RE.fullmatch(arn) or not arn.startswith(f"arn:{partition}:"):
            raise ValidationError(
                "task_policy_arns",
                arn,
                f"managed policy ARNs in {partition} "
                f"(arn:{partition}:iam::aws:policy/... or arn:{partition}:iam::<account>:policy/...)",
            )
    _check_statements(spec.task_policy_statements)
    if spec.log_retention_days not in LOG_RETENTION_DAYS or isinstance(spec.log_retention_days, bool):
        raise ValidationError(
            "log_retention_days",
            spec.log_retention_days,
            "one of CloudWatch Logs' retention "
            "periods: " + ", ".join(map(str, LOG_RETENTION_DAYS[1:])) + " (days), or 0 to keep "
            "logs forever",
        )


def _check_statements(text: str) -> None:
    if not isinstance(text, str):
        raise ValidationError("task_policy_statements", text, "a JSON list of IAM statements, as text")
    if not text:
        return
    try:
        statements = json.loads(text)
    except ValueError:
        raise ValidationError("task_policy_statements", text, "a JSON list of IAM statements") from None
    if not isinstance(statements, list) or not statements:
        raise ValidationError("task_policy_statements", text, "a non-empty JSON list of IAM statements")
    for st in statements:
        if (
            not isinstance(st, dict)
            or st.get("Effect") not in ("Allow", "Deny")
            or not ({"Action", "NotAction"} & set(st))
            or not ({"Resource", "NotResource"} & set(st))
        ):
            raise ValidationError(
                "task_policy_statements",
                st,
                "statements with Effect (Allow or Deny), Action and Resource (IAM JSON policy elements)",
            )

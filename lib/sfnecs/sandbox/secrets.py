"""Secrets: what the Fargate agent does with a container's `secrets` before the container starts.

Why: on Fargate the agent reads each secret with the task's *execution* role before the container
starts, and a missing secret or a missing permission stops the task with a ResourceInitializationError
(no container, no exit code). moto's ECS ignores `secrets`; here each one must exist in moto's Secrets
Manager or Parameter Store and the execution role's policies (inline and attached, evaluated by
`sfnecs.sandbox.enforcement`, when IAM is enforced) must allow the read, else the task fails as on Fargate. A resolved
value is added to the container's environment, where the sandbox job reads it (e.g. SFNECS_LOG).
"""

from __future__ import annotations

import json
from typing import Any

from sfnecs.model.arns import partition_of
from sfnecs.model.job import SECRET_ARN_RE, parameter_name
from sfnecs.sandbox.enforcement import denied_message, first_denied
from sfnecs.sandbox.permissions import KMS_DECRYPT, SECRET_READS, Need

__all__ = ["ASM_FAILED", "SSM_FAILED", "resolve_secrets"]

# AWS re:Post knowledge center, "ecs-unable-to-pull-secrets", documents the text up to "service call has
# been retried" for Secrets Manager (asm); the SSM wording ("unable to retrieve secrets from ssm") is the
# agent's counterpart. The retry count and everything after it (the service's own error, in its API's
# wording) are the sandbox's: AWS documents no further text.
_PREFIX = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
ASM_FAILED = _PREFIX + "unable to retrieve secret from asm: service call has been retried 1 time(s): "
SSM_FAILED = _PREFIX + "unable to retrieve secrets from ssm: service call has been retried 1 time(s): "
#: the AWS managed keys that need no kms:Decrypt grant on the caller's role (the service uses them on its behalf)
_MANAGED_KEYS = (None, "", "alias/aws/secretsmanager", "alias/aws/ssm")


class _Refused(Exception):
    """One secret the agent could not read; the message is the service's error."""


def resolve_secrets(
    definitions: list[dict[str, Any]], execution_role_arn: str | None, task_id: str
) -> tuple[list[dict[str, Any]], str | None]:
    """The container definitions with every secret's value in their environment, or the task's start error.

    Why copies: moto's task definition must keep only the ARNs, as ECS's does.
    """
    out = []
    for defn in definitions:
        resolved = []
        for secret in defn.get("secrets") or []:
            value_from = secret.get("valueFrom", "")
            failed = SSM_FAILED if ":ssm:" in value_from else ASM_FAILED
            try:
                resolved.append({"name": secret["name"], "value": _read(value_from, execution_role_arn, task_id)})
            except _Refused as exc:
                return list(definitions), failed + str(exc)
        out.append({**defn, "environment": list(defn.get("environment") or []) + resolved} if resolved else defn)
    return out, None


def _read(value_from: str, role_arn: str | None, task_id: str) -> str:
    m = SECRET_ARN_RE.fullmatch(value_from)
    if not m:  # a bare parameter name: the task's own Region and account (ECS API reference, Secret)
        raise _Refused(f"the sandbox resolves full ARNs only, not {value_from!r}")
    if m["service"] == "ssm":
        return _parameter(value_from, m["account"], m["region"], role_arn, task_id)
    return _secret(value_from, m["secret"], m["account"], m["region"], role_arn, task_id)


def _parameter(arn: str, account: str, region: str, role_arn: str | None, task_id: str) -> str:
    """A Parameter Store value, as ssm:GetParameters (with decryption) gives it to the agent."""
    from moto.ssm.models import ssm_backends  # imported on first use, as FargateEmulator._ecr

    name = parameter_name(arn)
    backend = ssm_backends[account][region]
    param = backend.get_parameter(name)
    _allowed(role_arn, task_id, SECRET_READS["ssm"], arn)
    if param is None:
        raise _Refused(f"invalid parameters: {arn}")
    _decrypts(role_arn, task_id, param.keyid if param.parameter_type == "SecureString" else None, account, region)
    return param.decrypt(param.value) or ""


def _secret(value_from: str, secret_name: str, account: str, region: str, role_arn: str | None, task_id: str) -> str:
    """A Secrets Manager value, or one JSON key of it (valueFrom `<arn>:<json-key>:<version-stage>:<version-id>`)."""
    from moto.secretsmanager.models import secretsmanager_backends  # imported on first use, as FargateEmulator._ecr

    base, _, rest = value_from.partition(f":secret:{secret_name}")
    arn = f"{base}:secret:{secret_name}"
    json_key, stage, version = (rest.lstrip(":").split(":") + ["", "", ""])[:3] if rest else ("", "", "")
    backend = secretsmanager_backends[account][region]
    _allowed(role_arn, task_id, SECRET_READS["secretsmanager"], arn)
    if arn not in backend.secrets:
        raise _Refused(
            f"failed to fetch secret {arn} from secrets manager: ResourceNotFoundException: "
            "Secrets Manager can't find the specified secret."
        )
    _decrypts(role_arn, task_id, getattr(backend.secrets[arn], "kms_key_id", None), account, region)
    try:
        # None: the current version, as moto's own handler passes an absent VersionId (its hint says str)
        text = (
            backend.get_secret_value(arn, version or None, stage or None).get(  # type: ignore[arg-type]
                "SecretString"
            )
            or ""
        )
    except Exception as exc:  # moto's service errors (a deleted secret, an unknown version)
        raise _Refused(
            f"failed to fetch secret {arn} from secrets manager: {type(exc).__name__}: {getattr(exc, 'message', exc)}"
        ) from None
    if not json_key:
        return text
    try:
        return str(json.loads(text)[json_key])
    except (ValueError, KeyError, TypeError):
        raise _Refused(f"retrieved secret from Secrets Manager did not contain json key {json_key}") from None


def _decrypts(role_arn: str | None, task_id: str, key: str | None, account: str, region: str) -> None:
    """A customer-managed key needs kms:Decrypt on the execution role; aliases other than AWS's are not resolved."""
    if key in _MANAGED_KEYS or (key and key.startswith("alias/")):
        return
    arn = key if key and key.startswith("arn:") else f"arn:{partition_of(region)}:kms:{region}:{account}:key/{key}"
    _allowed(role_arn, task_id, KMS_DECRYPT, arn)


def _allowed(role_arn: str | None, task_id: str, action: str, resource: str) -> None:
    """Raise _Refused with IAM's AccessDenied text unless the execution role's policies allow the call."""
    need = Need(action, resource)
    if first_denied(role_arn, [need]) is not None:
        raise _Refused(f"AccessDeniedException: {denied_message(role_arn, task_id, need)}")

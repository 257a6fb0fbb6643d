"""The Fargate agent acting with the task execution role: registry auth, image pull and log writes.

Why: on Fargate the agent, not the job, pulls the image and ships the awslogs lines, with the task's
*execution* role; a role that may not do so stops the task before its container starts, or loses its
logs. The emulator (`sfnecs.sandbox.fargate`) asks here; what each step needs comes from
`sfnecs.sandbox.permissions`, the verdict from `sfnecs.sandbox.enforcement` (nothing is denied when IAM
enforcement is off). Secrets, read with the same role, are `sfnecs.sandbox.secrets`.

Texts. AWS re:Post knowledge center "ecs-unable-to-pull-secrets" documents the start of the registry
auth error ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource
retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): ...");
the service error after it is IAM's AccessDenied text. The pull errors follow the ECS developer guide,
"CannotPullContainer task errors" for a 403 on the manifest; the layer-download wording and the logger's
are as users report them (*community*); AWS documents neither.
"""

from __future__ import annotations

from typing import Any

from sfnecs.model.arns import awslogs_stream
from sfnecs.sandbox.enforcement import denied_message, first_denied, trusted
from sfnecs.sandbox.permissions import ECS_TASKS, ecr_pull_needs, log_needs

__all__ = ["may_put_log_events", "pull_denial", "stream_denial", "unassumable_role"]

# A task definition without an execution role: Fargate refuses one that uses awslogs or a private ECR image
# at RegisterTaskDefinition/RunTask; the sandbox does not emulate that validation, and judges no agent call
# of such a task (role None below).

_AUTH_FAILED = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
    "unable to retrieve ecr registry auth: service call has been retried 3 time(s): AccessDeniedException: "
)


def pull_denial(image: str, role_arn: str | None, task_id: str, region: str) -> str | None:
    """The task's stop reason when the execution role may not log in to ECR or pull `image`, else None."""
    needs = ecr_pull_needs(image, region)
    if needs is None or role_arn is None:
        return None  # not an ECR image: no AWS permission is involved in the pull
    auth, pull = needs
    if first_denied(role_arn, [auth]) is not None:
        return _AUTH_FAILED + denied_message(role_arn, task_id, auth)
    denied = first_denied(role_arn, pull)
    if denied is None:
        return None
    registry, _, rest = image.partition("/")
    repo, tag = (rest.split("@", 1)[0].rsplit(":", 1) + ["latest"])[:2] if "@" not in rest else (rest, "")
    if denied.action == "ecr:BatchGetImage":
        return (
            f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
            f"{image}: pulling from host {registry} failed with status code [manifests {tag or 'digest'}]: "
            "403 Forbidden"
        )
    return (
        f"CannotPullContainerError: ref pull has been retried 5 time(s): failed to copy: httpReadSeeker: failed "
        f"open: unexpected status code https://{registry}/v2/{repo}/blobs: 403 Forbidden"
    )


def _stream(log_config: dict[str, Any], container: str, task_id: str, account: str) -> tuple[str, str, str] | None:
    """(group, stream, region) the awslogs driver writes a container's lines to, or None without awslogs."""
    group = log_config.get("awslogs-group")
    if not group:
        return None
    stream = awslogs_stream(log_config.get("awslogs-stream-prefix"), container, task_id)
    return group, stream, log_config.get("awslogs-region", "")


def stream_denial(
    log_config: dict[str, Any] | None, container: str, role_arn: str | None, task_id: str, account: str
) -> str | None:
    """The task's stop reason when the awslogs driver may not create the container's stream, else None."""
    where = _stream(log_config or {}, container, task_id, account)
    if where is None or role_arn is None:
        return None
    need = log_needs("logs:CreateLogStream", where[0], where[1], account, where[2])
    if first_denied(role_arn, [need]) is None:
        return None
    return (
        "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
        f"failed to create Cloudwatch log stream: AccessDeniedException: {denied_message(role_arn, task_id, need)}"
        " : exit status 1"
    )


def may_put_log_events(
    log_config: dict[str, Any] | None, container: str, role_arn: str | None, task_id: str, account: str
) -> bool:
    """Whether the awslogs driver may write the container's lines; when not, they are lost and the job runs on
    (AWS does not document the driver's behaviour; the sandbox drops them, as the driver cannot deliver)."""
    where = _stream(log_config or {}, container, task_id, account)
    if where is None or role_arn is None:
        return True
    return first_denied(role_arn, [log_needs("logs:PutLogEvents", where[0], where[1], account, where[2])]) is None


def unassumable_role(task_definition: Any, cluster_arn: str, account: str) -> str | None:
    """RunTask's refusal when ECS may not assume the task definition's task or execution role, else None.

    ECS developer guide, "Amazon ECS task execution IAM role" and "Task IAM role": both trust
    ecs-tasks.amazonaws.com, the task role optionally with aws:SourceArn/aws:SourceAccount conditions (AWS's
    example pins `arn:<partition>:ecs:<region>:<account>:*`; the sandbox presents the cluster's ARN). The text
    is ECS's as users report it (*community*); AWS does not document it.
    """
    context = {"aws:SourceArn": cluster_arn, "aws:SourceAccount": account}
    for role in (getattr(task_definition, "task_role_arn", None), getattr(task_definition, "execution_role_arn", None)):
        if role and not trusted(role, ECS_TASKS, context):
            return (
                f"ECS was unable to assume the role '{role}' that was provided for this task. Please verify that the "
                "role being passed has the proper trust relationship and permissions and that your IAM user has "
                "permissions to pass this role."
            )
    return None

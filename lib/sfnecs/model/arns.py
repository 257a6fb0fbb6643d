"""ARN and URI patterns, and the awslogs stream name: how the kit reads the names AWS hands back."""

from __future__ import annotations

import re

from sfnecs.exceptions import ValidationError

#: The partitions the kit deploys to (IAM user guide, "IAM ARNs": aws, aws-cn, aws-us-gov) and the
#: region prefix of each; an account lives in one partition, and every ARN of it names that partition.
PARTITIONS = {"cn-": "aws-cn", "us-gov-": "aws-us-gov"}
#: Service endpoints' DNS suffix per partition (ECR image URIs: `<account>.dkr.ecr.<region>.<suffix>`).
DNS_SUFFIXES = {"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com"}


_ISOLATED = re.compile(r"[a-z]{2}-iso[a-z]*-[a-z]+-\d+")  # us-iso-east-1, us-isob-east-1, ...


def partition_of(region: str, parameter: str = "region") -> str:
    """The partition of a region: aws-cn for cn-*, aws-us-gov for us-gov-*, else aws.

    Why refused for the isolated (ISO) regions: their partitions and endpoints are not on the public IAM
    page the kit follows, so the kit would write ARNs it cannot check.
    """
    if _ISOLATED.fullmatch(region):
        raise ValidationError(
            parameter,
            region,
            "a region of the aws, aws-cn or aws-us-gov partition (the kit does not support the isolated regions)",
        )
    return next((p for prefix, p in PARTITIONS.items() if region.startswith(prefix)), "aws")


#: An image URI in ECR, `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:<tag> | @<digest>]`
#: (ECR user guide, "Pushing an image"): the stack's IAM grant, its verify, diagnose and the sandbox
#: registry all read image URIs with this one pattern.
ECR_IMAGE_RE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repo>[a-z0-9._/-]+?)(?::(?P<tag>[\w.-]+)|@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


#: A Step Functions execution ARN, as the APIs return it (state machine and execution names: 1-80
#: characters, no whitespace, no ':').
EXECUTION_ARN_RE = re.compile(
    r"arn:aws[a-z-]*:states:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):execution:"
    r"(?P<machine>[^\s:]{1,80}):(?P<name>[^\s:]{1,80})"
)
#: An ECS task ARN: the long format `task/<cluster>/<32 hex id>`, or the old `task/<UUID>`, which
#: names no cluster (ECS developer guide, "Amazon Resource Names (ARNs) and IDs").
TASK_ARN_RE = re.compile(
    r"arn:aws[a-z-]*:ecs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):task/(?:(?P<cluster>[A-Za-z0-9_-]{1,255})/)?"
    r"(?P<id>[0-9a-f]{32}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})"
)


def awslogs_stream(prefix: str | None, container: str, task: str) -> str:
    """The awslogs stream of a task's container: `<prefix>/<container>/<task id>`, the task id alone
    without a prefix (ECS developer guide, "Using the awslogs log driver"). `task`: an ARN or an id."""
    task_id = task.rsplit("/", 1)[-1]
    return f"{prefix}/{container}/{task_id}" if prefix else task_id

"""The checkov checks the exported code skips, each with the reason a reviewer reads next to it.

Why a table: the same finding (e.g. "the log group is not encrypted with a customer-managed KMS key")
arises in both formats under the same check id; the reason is written once, and the renderers put it
where checkov reads it (an inline `#checkov:skip=ID:reason` comment in Terraform, the resource's
`Metadata.checkov.skip` in CloudFormation). Every skip keeps the exported code equal to what
`sfnecs apply` creates; a team whose policy demands the control adds it in both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sfnecs.model.spec import StackSpec

__all__ = ["SKIPS", "Skip", "skips_for"]

BOTH = ("terraform", "cloudformation")


@dataclass(frozen=True)
class Skip:
    """One skipped check on one kind of resource: why, in which formats, and for which specs."""

    check: str
    reason: str
    formats: tuple[str, ...] = BOTH
    applies: Callable[[StackSpec], bool] = lambda spec: True


#: resource kind -> its skipped checks
SKIPS: dict[str, tuple[Skip, ...]] = {
    "log_group": (
        Skip(
            "CKV_AWS_158",
            "CloudWatch Logs encrypts log data at rest by default; a customer-managed key would need a key "
            "policy for the logs service and is not needed for a job's own output",
        ),
        Skip(
            "CKV_AWS_338",
            "retention is the StackSpec's log_retention_days (30 by default): job output for debugging, not "
            "an audit trail; raise it in the spec where a policy asks for a year",
        ),
    ),
    "repository": (
        Skip(
            "CKV_AWS_136",
            "ECR encrypts images at rest with AES-256 by default; a KMS key adds a key policy and cost for "
            "no protection this job's image needs",
        ),
        Skip(
            "CKV_AWS_163",
            "image scanning is an account setting (registry scanning configuration, basic or Inspector), "
            "which overrides a repository's scan-on-push; the stack does not own the registry",
        ),
        Skip(
            "CKV_AWS_51",
            "the task definition runs the tag `latest`, which each push moves: immutable tags would refuse "
            "the second push; pin a digest in the spec's image for immutability",
        ),
    ),
    "cluster": (
        Skip(
            "CKV_AWS_65",
            "Container Insights is billed per metric; a scheduled job is watched by the stack's alarms, "
            "notifications and logs",
        ),
    ),
    "topic": (
        Skip(
            "CKV_AWS_26",
            "the topic carries run notifications (names, states), no secrets; the AWS managed key aws/sns "
            "cannot be used by CloudWatch alarms and EventBridge, which publish to it",
        ),
    ),
    "queue": (
        Skip(
            "CKV_AWS_27",
            "SqsManagedSseEnabled encrypts the queue at rest (SSE-SQS); this check looks only for a KMS key",
            ("cloudformation",),
        ),
    ),
    "state_machine": (
        Skip(
            "CKV_AWS_284",
            "its one Task waits for an ECS task (.sync): the execution history and CloudWatch Logs show "
            "every step, and an X-Ray trace would stop at the ECS boundary",
        ),
        Skip(
            "CKV_AWS_285",
            "execution logging is off in this StackSpec (execution_logging=False); Step Functions still "
            "keeps every execution's history for 90 days",
            applies=lambda spec: not spec.execution_logging,
        ),
    ),
    "task_definition": (
        Skip(
            "CKV_AWS_336",
            "the job's image decides where it writes (e.g. /tmp); a read-only root filesystem breaks images "
            "not built for it",
        ),
    ),
    "schedule": (
        Skip(
            "CKV_AWS_297",
            "the schedule holds no secret (its input is the scheduled time); the Scheduler encrypts it with "
            "an AWS owned key",
        ),
    ),
}


def skips_for(kind: str, fmt: str, spec: StackSpec) -> list[tuple[str, str]]:
    """The (check id, reason) pairs to write on a resource of `kind` in format `fmt`."""
    return [(s.check, s.reason) for s in SKIPS.get(kind, ()) if fmt in s.formats and s.applies(spec)]

"""The `Resource` base class and what every resource type shares: the stack tag, ownership, AWS error
codes, the ECR reference of the image, and the retry while a just-created role propagates.

Why one base: plan, apply and teardown drive every type through the same methods, and every resource
carries the tag `sfnecs:stack=<name>`; what lacks it is never changed or deleted: the kit owns only
what it tagged, so a shared account's other resources are safe from teardown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError

from sfnecs.deploy.changes import Current, Desired, document_diff
from sfnecs.i18n import N_
from sfnecs.model.arns import ECR_IMAGE_RE
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target

__all__ = [
    "NEXT_REVISION",
    "ROLE_PROPAGATION_DELAYS",
    "Resource",
    "ecr_reference",
    "error_code",
    "is_owned",
    "retry_role_propagation",
    "tag_list",
]

#: what stands for the task definition revision that apply is about to register
NEXT_REVISION = "(next revision)"


def tag_list(spec: StackSpec, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    """The stack's tags as a list of {Key, Value} (or the service's own key names, e.g. ECS's key/value)."""
    return [{key: k, value: v} for k, v in sorted(spec.all_tags.items())]


def is_owned(tags: Any, spec: StackSpec) -> bool:
    """Whether tags (a dict, or a list of {Key,Value} / {key,value}) carry sfnecs:stack=<name>."""
    if isinstance(tags, dict):
        pairs = tags
    else:
        pairs = {t.get("Key", t.get("key")): t.get("Value", t.get("value")) for t in tags or []}
    return pairs.get(spec.stack_tag[0]) == spec.stack_tag[1]


def error_code(exc: ClientError) -> str:
    """The AWS error code of a botocore ClientError (empty when the response has none)."""
    return exc.response.get("Error", {}).get("Code", "")


def ecr_reference(spec: StackSpec) -> tuple[str, str] | None:
    """(repository, tag or digest) when the image is in this account's ECR, else None."""
    m = ECR_IMAGE_RE.match(spec.image_uri)
    if not m or m["account"] != spec.account or m["region"] != spec.region:
        return None
    return m["repo"], m["digest"] or m["tag"] or "latest"


#: how long a just-created role may take to be usable (IAM is eventually consistent; the
#: observed delays are seconds to tens of seconds, e.g. terraform-provider-aws#7893)
ROLE_PROPAGATION_DELAYS = (1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0)
_PROPAGATION_CODES = ("AccessDeniedException", "ValidationException", "InvalidParameterValueException")


def retry_role_propagation(
    call: Callable[[], Any],
    delays: Iterable[float] = ROLE_PROPAGATION_DELAYS,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """Run `call`, retrying while the service says it cannot assume a role that was just created."""
    for delay in (*delays, None):
        try:
            return call()
        except ClientError as exc:
            message = str(exc).lower()
            propagating = error_code(exc) in _PROPAGATION_CODES and "assume" in message and "role" in message
            if not propagating or delay is None:
                raise
            sleep(delay)
    raise AssertionError("unreachable")


class Resource:
    """One resource type: how to build, read, create, update and delete it.

    `shared`: an existing resource without our tag is used as is (a cluster, a repository, a log
    group can serve several stacks); for other types it is a conflict, and apply refuses.
    `retained`: kept when a changed spec no longer wants it; only teardown deletes it.
    """

    key = ""
    type = ""
    shared = False
    retained = False  # True: kept when the spec no longer wants it (deleted by teardown only)

    def desired(self, spec: StackSpec, refs: dict[str, str], email: str | None) -> list[Desired]:
        raise NotImplementedError

    def names(self, spec: StackSpec) -> list[str]:
        """Every name this type may have created for `spec`, whatever its pattern (for teardown)."""
        raise NotImplementedError

    def read(self, target: Target, spec: StackSpec, name: str) -> Current | None:
        raise NotImplementedError

    def create(self, target: Target, spec: StackSpec, want: Desired) -> str:
        raise NotImplementedError

    def update(self, target: Target, spec: StackSpec, want: Desired, have: Current) -> str:
        raise NotImplementedError

    def delete(self, target: Target, spec: StackSpec, have: Current) -> None:
        raise NotImplementedError

    def published(
        self, want: Desired, have: Current | None, action: str, arn: str | None, refs: dict[str, str]
    ) -> None:
        """Record what later types need from this one (e.g. the task definition's revision ARN)."""

    def delete_reason(self, have: Current) -> str:
        return N_("tagged for this stack")

    def read_all(self, target: Target, spec: StackSpec, name: str) -> Current | None:
        """What teardown must consider: by default what `read` finds."""
        return self.read(target, spec, name)

    def compare(self, want: Desired, have: Current) -> list[str]:
        """`path: current -> desired` lines; empty when the resource is up to date."""
        return document_diff(want.document, have.document)

"""Tokens: the values an exported file must not write literally, and the walk that finds them.

Why: `apply` sends documents holding the account, the region, the partition and the ARNs of the
stack's own resources; kept as code, those are looked up where the code runs (Terraform's
`aws_caller_identity` / `aws_region` / `aws_partition`, CloudFormation's pseudo parameters) or refer
to the resource that makes them, so one file deploys to any account. Each format spells a token its
own way (sfnecs.export.terraform, sfnecs.export.cloudformation); the walk here is shared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sfnecs.model.spec import StackSpec

__all__ = ["Pseudo", "Ref", "Text", "Value", "neutral"]


@dataclass(frozen=True)
class Pseudo:
    """The deploying account's partition, region or account id."""

    name: Literal["partition", "region", "account"]


@dataclass(frozen=True)
class Ref:
    """An attribute of another exported resource: `resource` is its key in the resource model
    (e.g. `role.sfn`), `attribute` one of arn, name, log_arn (a log group's ARN ending in `:*`)."""

    resource: str
    attribute: str = "arn"


@dataclass(frozen=True)
class Value:
    """A per-account value the user supplies: subnets, security_groups, image, notify_email."""

    name: str


@dataclass(frozen=True)
class Text:
    """A string made of literal parts and tokens, e.g. `arn:` + Pseudo(partition) + `:states:...`."""

    parts: tuple[str | Pseudo | Ref | Value, ...]


#: list-valued keys (RunTask, Scheduler and ASL casings) that carry the per-account network values
_NETWORK_KEYS = {"subnets": "subnets", "Subnets": "subnets", "securityGroups": "security_groups",
                 "SecurityGroups": "security_groups"}  # fmt: skip


#: keys whose value is the deploying account (IAM's confused-deputy condition) or region (awslogs)
_ACCOUNT_KEYS = {"aws:SourceAccount"}
_REGION_KEYS = {"awslogs-region"}
#: keys whose text is a message for a person (EventBridge InputTemplate) with links into the region's console
_TEXT_KEYS = {"InputTemplate"}


def neutral(value: Any, spec: StackSpec, refs: Mapping[str, Ref], key: str = "") -> Any:
    """`value` (a request document) with account, region and partition as `Pseudo` tokens, whole ARNs
    named in `refs` as `Ref`, and the network and image as `Value`; every other value as is.

    Why only ARNs and exact values: a user's own text (an environment value that happens to name the
    region) stays what they wrote; an ARN's fields are positional, so nothing else is touched.
    """
    if isinstance(value, dict):
        return {k: neutral(v, spec, refs, k) for k, v in value.items()}
    if isinstance(value, list):
        name = _NETWORK_KEYS.get(key)
        wanted = {"subnets": list(spec.subnets), "security_groups": list(spec.security_groups)}
        if name and value and value == wanted[name]:
            return Value(name)
        return [neutral(v, spec, refs, key) for v in value]
    if not isinstance(value, str):
        return value
    if value in refs:
        return refs[value]
    if key == "image" and value == spec.image_uri:
        return Value("image")
    if key in _ACCOUNT_KEYS and value == spec.account:
        return Pseudo("account")
    if key in _REGION_KEYS and value == spec.region:
        return Pseudo("region")
    if value.startswith("arn:"):
        return _arn(value, spec)
    if key in _TEXT_KEYS and spec.region in value:
        # console links in a message name the region: the deploying one
        pieces = value.split(spec.region)
        parts: list[str | Pseudo | Ref | Value] = [pieces[0]]
        for piece in pieces[1:]:
            parts += [Pseudo("region"), piece]
        return Text(tuple(p for p in parts if p != ""))
    return value


def _arn(arn: str, spec: StackSpec) -> Text | str:
    """An ARN with its partition, region and account fields as tokens where they are the stack's."""
    fields = arn.split(":", 5)
    if len(fields) < 6:
        return arn
    own: dict[int, Pseudo] = {1: Pseudo("partition"), 3: Pseudo("region"), 4: Pseudo("account")}
    mine = {1: spec.partition, 3: spec.region, 4: spec.account}
    parts: list[str | Pseudo | Ref | Value] = []
    for i, field in enumerate(fields):
        if i:
            parts.append(":")
        parts.append(own[i] if i in own and field == mine[i] else field)
    merged: list[str | Pseudo | Ref | Value] = []
    for part in parts:  # adjacent literals joined: Text is compared and rendered part by part
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return Text(tuple(merged)) if any(not isinstance(p, str) for p in merged) else arn

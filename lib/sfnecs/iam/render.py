"""The stack's policies as text: JSON in IAM's usual key order, and Terraform (HCL) for the roles.

Why: boto3 takes the JSON; the note this kit teaches from writes its policy in Terraform, so the
least-privilege counterpart is rendered in the same style.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sfnecs.iam.policies import policies_for
from sfnecs.model.spec import POLICY_NAME, StackSpec

_KEY_ORDER = (
    "Version",
    "Id",
    "Statement",
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)


def _canonical(value: Any) -> Any:
    """IAM's usual key order first (Version, Statement; Sid, Effect, ...), any other keys sorted."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (_KEY_ORDER.index(k) if k in _KEY_ORDER else len(_KEY_ORDER), k))
        return {k: _canonical(value[k]) for k in keys}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def to_json(doc: dict[str, Any]) -> str:
    """A policy document as the JSON string boto3 takes (PolicyDocument=...), in a stable key order."""
    return json.dumps(_canonical(doc), indent=2)


_HCL_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _hcl_string(text: str) -> str:
    # JSON string escapes are a subset of HCL's; `${` and `%{` start templates in HCL and are doubled
    return json.dumps(text).replace("${", "$${").replace("%{", "%%{")


def _hcl_key(key: str) -> str:
    return key if _HCL_IDENTIFIER.fullmatch(key) else _hcl_string(key)


def _hcl(value: Any, indent: int = 0) -> str:
    """A JSON-like value as an HCL expression, laid out as `terraform fmt` would."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        width = max(len(_hcl_key(k)) for k in value)
        body = [f"{pad}  {_hcl_key(k).ljust(width)} = {_hcl(v, indent + 1)}" for k, v in value.items()]
        return "\n".join(["{", *body, pad + "}"])
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            one_line = "[" + ", ".join(_hcl_string(v) for v in value) + "]"
            if len(one_line) <= 80:
                return one_line
        return "\n".join(["[", *(f"{pad}  {_hcl(v, indent + 1)}," for v in value), pad + "]"])
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return _hcl_string(str(value))


def _hcl_block(kind: str, name: str, attributes: dict[str, str]) -> str:
    width = max(len(k) for k in attributes)
    body = "\n".join(f"  {k.ljust(width)} = {v}" for k, v in attributes.items())
    return f'resource "{kind}" "{name}" {{\n{body}\n}}\n'


def to_terraform(spec: StackSpec) -> str:
    """The stack's roles as Terraform: `aws_iam_role` + `aws_iam_role_policy`, policies via `jsonencode`.

    Why: the note this kit teaches from writes its policy in Terraform; this is the least-privilege
    counterpart in the same style. ARNs are literal (from the spec) so the text stands alone; swap
    in resource references (e.g. `aws_iam_role.task.arn`) when the roles live in your own module.
    """
    parts = [
        f"# IAM roles for sfnecs stack {spec.name!r} (pattern {spec.pattern}), from sfnecs.iam.to_terraform.\n"
        "# Least privilege: compare with the broad policy via sfnecs.iam.compare_with_broad.\n"
    ]
    for role in policies_for(spec).values():
        parts.append(
            _hcl_block(
                "aws_iam_role",
                role.kind,
                {
                    "name": _hcl_string(role.name),
                    "assume_role_policy": f"jsonencode({_hcl(_canonical(role.trust), 1)})",
                    "tags": _hcl(spec.all_tags, 1),
                },
            )
        )
        if role.permissions:
            parts.append(
                _hcl_block(
                    "aws_iam_role_policy",
                    role.kind,
                    {
                        "name": _hcl_string(POLICY_NAME),
                        "role": f"aws_iam_role.{role.kind}.id",
                        "policy": f"jsonencode({_hcl(_canonical(role.permissions), 1)})",
                    },
                )
            )
    return "\n".join(parts)

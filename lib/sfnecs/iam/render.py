"""The stack's policies as JSON text in IAM's usual key order.

Why: boto3 takes the JSON, and a stable key order keeps diffs small. The roles as Terraform or
CloudFormation come from `sfnecs.export`, with the rest of the stack.
"""

from __future__ import annotations

import json
from typing import Any

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

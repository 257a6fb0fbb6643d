"""IAM `SimulateCustomPolicy` in the sandbox: the AWS Query-protocol front of the policy evaluator.

Why: moto does not implement SimulateCustomPolicy; the evaluator itself is pure and lives in
`sfnecs.model.policy_evaluation` (the library's least-privilege tables use it too).
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from xml.etree import ElementTree as ET

from sfnecs.exceptions import ValidationError
from sfnecs.model.policy_evaluation import (
    CONDITION_OPERATORS,
    CONTEXT_KEY_TYPES,
    resource_template,
    simulate_custom_policy,
)

__all__ = [
    "CONDITION_OPERATORS",
    "CONTEXT_KEY_TYPES",
    "error_response",
    "handle_request",
    "resource_template",
    "simulate_custom_policy",
]

XML_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"


# ---- the Query protocol ----------------------------------------------------------------------------
def _members(params: dict[str, str], prefix: str) -> list[str]:
    """`Prefix.member.1`, `Prefix.member.2`, ... in numeric order (the AWS Query list encoding)."""
    found = {int(m[1]): v for k, v in params.items() if (m := re.fullmatch(re.escape(prefix) + r"\.member\.(\d+)", k))}
    return [found[i] for i in sorted(found)]


def _context_entries(params: dict[str, str]) -> list[dict[str, Any]]:
    numbers = sorted({int(m[1]) for k in params if (m := re.match(r"ContextEntries\.member\.(\d+)\.", k))})
    entries = []
    for n in numbers:
        base = f"ContextEntries.member.{n}"
        entry: dict[str, Any] = {
            "ContextKeyName": params.get(f"{base}.ContextKeyName"),
            "ContextKeyValues": _members(params, f"{base}.ContextKeyValues"),
        }
        if f"{base}.ContextKeyType" in params:
            entry["ContextKeyType"] = params[f"{base}.ContextKeyType"]
        entries.append(entry)
    return entries


def _element(parent: ET.Element, name: str, value: Any) -> None:
    node = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _element(node, key, item)
    elif isinstance(value, list):
        for item in value:
            _element(node, "member", item)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    else:
        node.text = str(value)


def handle_request(querystring_params: dict[str, str]) -> str:
    """The XML body of a SimulateCustomPolicyResponse for AWS Query parameters (one value per key).

    Why: the sandbox server hands this the form fields boto3 sent, so boto3's own parser reads the
    answer. Raises ValidationError for bad input; `error_response` renders that as IAM would.
    """
    params = querystring_params
    results = simulate_custom_policy(
        _members(params, "PolicyInputList"),
        _members(params, "ActionNames"),
        _members(params, "ResourceArns"),
        _context_entries(params),
    )
    start = 0
    if params.get("Marker"):
        if not params["Marker"].isdigit() or int(params["Marker"]) > len(results):
            raise ValidationError("Marker", params["Marker"], "the Marker of the previous page")
        start = int(params["Marker"])
    size = len(results)
    if "MaxItems" in params:
        if not params["MaxItems"].isdigit() or not 1 <= int(params["MaxItems"]) <= 1000:
            raise ValidationError("MaxItems", params["MaxItems"], "a whole number from 1 to 1000")
        size = int(params["MaxItems"])
    page, end = results[start : start + size], min(start + size, len(results))
    root = ET.Element("SimulateCustomPolicyResponse", xmlns=XML_NAMESPACE)
    body = ET.SubElement(root, "SimulateCustomPolicyResult")
    _element(body, "IsTruncated", end < len(results))
    if end < len(results):
        _element(body, "Marker", end)
    _element(body, "EvaluationResults", page)
    _element(root, "ResponseMetadata", {"RequestId": str(uuid.uuid4())})
    return ET.tostring(root, encoding="unicode")


def error_response(error: ValidationError) -> tuple[int, str]:
    """(HTTP status, XML body) of the IAM error for a request `handle_request` refused."""
    code = "MalformedPolicyDocument" if error.parameter.startswith("PolicyInputList.") else "InvalidInput"
    root = ET.Element("ErrorResponse", xmlns=XML_NAMESPACE)
    _element(root, "Error", {"Type": "Sender", "Code": code, "Message": str(error)})
    _element(root, "RequestId", str(uuid.uuid4()))
    return 400, ET.tostring(root, encoding="unicode")

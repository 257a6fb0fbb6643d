"""How IAM decides whether a policy allows a call: the pure evaluator behind `SimulateCustomPolicy`.

Used by the sandbox's IAM front (`sfnecs.sandbox.iam`) and by `sfnecs.iam.compare_with_broad`.

Why: moto does not implement SimulateCustomPolicy, and the kit's least-privilege lesson needs to ask
"would this policy allow that call?" through plain boto3, in the sandbox as against AWS.

What moto gives and what we add (moto 5.2 `moto/iam/access_control.py`):
- moto's `IAMPolicyStatement.is_action_permitted` decides whether a statement's Action/NotAction
  and Resource match and what its Effect says. We use it for that, after translating the AWS
  wildcards into the regex dialect moto expects (moto turns `*` into `.*` and does not escape the
  rest, so `+` in a role name or `?` would be misread) and lower-casing action names (IAM action
  names are case-insensitive; moto compares them case-sensitively).
- moto's condition check (`moto/iam/policy_conditions.py`) knows only StringEquals, treats an
  unknown operator or a missing context key as a match, and turns an unmet condition on an *Allow*
  statement into an explicit deny. IAM does none of that (IAM User Guide, "Condition operators":
  a key missing from the request context does not match; an Allow whose condition fails simply
  does not apply). So conditions are evaluated here, for the operators the kit's policies use:
  StringEquals, StringLike, ArnEquals, ArnLike, each also with the `IfExists` suffix. Any other
  operator is refused with an error rather than guessed.
- `NotResource`, resource policies, permissions boundaries and policy variables are not supported
  (the kit does not use them); a policy using them is refused, never silently misjudged.

Response shape follows the IAM API reference for `EvaluationResult`: one result per action and
simulated resource type, `EvalResourceName` being the ARN template of that type (or `*`), the
decision for each requested ARN in `ResourceSpecificResults`, and `MissingContextValues`
deduplicated at the top. AWS does not document how the top-level `EvalDecision` combines several
resources; here it is `allowed` only if every resource is allowed, else `explicitDeny` if any is
explicitly denied, else `implicitDeny`. `SourcePolicyType` and statement positions are optional in
the API and omitted: AWS does not document their values for custom policy inputs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from sfnecs.exceptions import ValidationError

__all__ = ["CONDITION_OPERATORS", "CONTEXT_KEY_TYPES", "as_list", "resource_template", "simulate_custom_policy"]

#: ContextEntry.ContextKeyType values (IAM API reference, ContextEntry)
CONTEXT_KEY_TYPES = (
    "string",
    "stringList",
    "numeric",
    "numericList",
    "boolean",
    "booleanList",
    "ip",
    "ipList",
    "binary",
    "binaryList",
    "date",
    "dateList",
)


def _glob_regex(pattern: str) -> str:
    """An IAM wildcard pattern (`*` any run, `?` one character) as an anchored-ready regex."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


def _glob(pattern: str, value: str) -> bool:
    return re.fullmatch(_glob_regex(pattern), value, re.DOTALL) is not None


def _arn_like(pattern: str, value: str) -> bool:
    # IAM User Guide, "ARN condition operators": each of the six colon-delimited components is
    # matched separately and each may hold * or ?. A value (or pattern) that is not a six-part ARN
    # does not match; AWS does not document that case, so we do not guess a match.
    want, have = pattern.split(":", 5), value.split(":", 5)
    return len(want) == len(have) == 6 and all(_glob(w, h) for w, h in zip(want, have, strict=False))


#: condition operator -> does (policy value, context value) match
CONDITION_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda want, have: want == have,
    "StringLike": _glob,
    "ArnEquals": _arn_like,  # IAM documents ArnEquals and ArnLike as the same comparison
    "ArnLike": _arn_like,
}


def as_list(value: Any) -> list[Any]:
    """A policy element as a list: IAM lets Statement, Action, Resource and condition values be one value or a list."""
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    """A policy condition value as IAM compares it (JSON true -> "true")."""
    return json.dumps(value) if isinstance(value, bool) else str(value)


# ---- policies ------------------------------------------------------------------------------------
def _parse_policy(index: int, text: str) -> list[dict[str, Any]]:
    """The statements of one PolicyInputList entry, refusing what this simulator cannot judge."""
    where = f"PolicyInputList.member.{index}"
    try:
        policy = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ValidationError(where, text, f"a JSON policy document ({exc})") from None
    if not isinstance(policy, dict) or "Statement" not in policy:
        raise ValidationError(where, text, "a policy document object with a Statement element")
    statements = as_list(policy["Statement"])
    for st in statements:
        if not isinstance(st, dict):
            raise ValidationError(where, st, "statements that are JSON objects")
        if st.get("Effect") not in ("Allow", "Deny"):
            raise ValidationError(where, st.get("Effect"), "Effect Allow or Deny in every statement")
        if ("Action" in st) == ("NotAction" in st):
            raise ValidationError(where, st, "exactly one of Action or NotAction in every statement")
        if "Principal" in st or "NotPrincipal" in st:
            raise ValidationError(
                where, st, "an identity policy: no Principal (trust and resource policies are not simulated here)"
            )
        if "NotResource" in st:
            raise ValidationError(
                where, st, "Resource, not NotResource (the sandbox simulator does not evaluate NotResource)"
            )
        if "Resource" not in st:
            raise ValidationError(where, st, "a Resource element in every statement")
        for operator, block in (st.get("Condition") or {}).items():
            if operator.removesuffix("IfExists") not in CONDITION_OPERATORS or not isinstance(block, dict):
                raise ValidationError(
                    where,
                    operator,
                    "condition operators "
                    + ", ".join(CONDITION_OPERATORS)
                    + " (optionally ...IfExists): the sandbox simulator evaluates only these",
                )
    return statements


def _context(entries: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    """ContextEntries as {lower-case key: values}: IAM condition key names are case-insensitive."""
    out: dict[str, list[str]] = {}
    for n, entry in enumerate(entries, 1):
        name = entry.get("ContextKeyName")
        if not isinstance(name, str) or not name:
            raise ValidationError(f"ContextEntries.member.{n}.ContextKeyName", name, "a context key name")
        kind = entry.get("ContextKeyType", "string")
        if kind not in CONTEXT_KEY_TYPES:
            raise ValidationError(f"ContextEntries.member.{n}.ContextKeyType", kind, ", ".join(CONTEXT_KEY_TYPES))
        values = entry.get("ContextKeyValues") or []
        out.setdefault(name.lower(), []).extend(_text(v) for v in as_list(values))
    return out


def _conditions_hold(condition: dict[str, dict[str, Any]], context: dict[str, list[str]]) -> bool:
    """IAM's rule: every operator and every key must match; a key matches when any context value
    matches any policy value; a missing key fails unless the operator ends in IfExists."""
    for operator, block in condition.items():
        base = operator.removesuffix("IfExists")
        compare = CONDITION_OPERATORS[base]
        for key, wanted in block.items():
            present = context.get(key.lower())
            if not present:
                if base == operator:
                    return False
                continue
            if not any(compare(_text(w), have) for w in as_list(wanted) for have in present):
                return False
    return True


def _to_moto(pattern: str) -> str:
    """An IAM wildcard pattern in moto's dialect: moto replaces `*` with `.*` and uses the rest as regex."""
    return "".join("*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


def _statement_verdict(statement: dict[str, Any], action: str, resource: str) -> str:
    """moto's verdict on Action/NotAction, Resource and Effect alone: PERMITTED, DENIED or NEUTRAL."""
    from moto.iam.access_control import IAMPolicyStatement  # moto is heavy: import on first use

    shim: dict[str, Any] = {
        "Effect": statement["Effect"],
        "Resource": [_to_moto(str(r)) for r in as_list(statement["Resource"])],
    }
    for key in ("Action", "NotAction"):
        if key in statement:
            shim[key] = [_to_moto(str(a).lower()) for a in as_list(statement[key])]
    return IAMPolicyStatement(shim).is_action_permitted(action.lower(), resource).name


# ---- evaluation ----------------------------------------------------------------------------------
def resource_template(action: str, resource: str) -> str:
    """The Service Authorization Reference ARN template of `resource` for `action`, or `*`.

    The ARN formats come from parliament's copy of the Service Authorization Reference.
    """
    if resource == "*" or ":" not in action:
        return "*"
    from parliament import iam_definition  # the project's IAM linter ships the reference as data

    prefix, name = action.split(":", 1)
    for service in iam_definition:
        if service["prefix"] != prefix.lower():
            continue
        formats = {r["resource"].lower(): r["arn"] for r in service["resources"]}
        for privilege in service["privileges"]:
            if privilege["privilege"].lower() != name.lower():
                continue
            for rtype in privilege["resource_types"]:
                template = formats.get(rtype["resource_type"].rstrip("*").lower())
                if template and re.fullmatch(re.sub(r"\\\$\\\{[^}]*\\\}", ".+", re.escape(template)), resource):
                    return template
    return "*"


def _evaluate(
    policies: list[list[dict[str, Any]]], action: str, resource: str, context: dict[str, list[str]]
) -> dict[str, Any]:
    allows: list[dict[str, str]] = []
    denies: list[dict[str, str]] = []
    missing: set[str] = set()
    for number, statements in enumerate(policies, 1):
        source = {"SourcePolicyId": f"PolicyInputList.{number}"}
        for st in statements:
            verdict = _statement_verdict(st, action, resource)
            if verdict == "NEUTRAL":
                continue
            condition = st.get("Condition") or {}
            missing |= {k for block in condition.values() for k in block if not context.get(k.lower())}
            if not _conditions_hold(condition, context):
                continue
            (denies if verdict == "DENIED" else allows).append(source)
    decision = "explicitDeny" if denies else "allowed" if allows else "implicitDeny"
    matched = denies if denies else allows
    return {
        "EvalResourceName": resource,
        "EvalResourceDecision": decision,
        "MatchedStatements": _unique(matched),
        "MissingContextValues": sorted(missing),
    }


def _unique(items: list[dict[str, str]]) -> list[dict[str, str]]:
    return [dict(t) for t in dict.fromkeys(tuple(sorted(i.items())) for i in items)]


def simulate_custom_policy(
    policy_input_list: list[str],
    action_names: list[str],
    resource_arns: list[str],
    context_entries: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Evaluate identity policies the way IAM SimulateCustomPolicy does; AWS-shaped EvaluationResults.

    Why: the sandbox has no IAM simulator; this one answers the same question, for the condition
    operators the kit uses (see the module docstring for what it refuses).
    """
    if not policy_input_list:
        raise ValidationError("PolicyInputList", policy_input_list, "at least one policy document")
    if not action_names:
        raise ValidationError("ActionNames", action_names, "at least one action name such as ecs:RunTask")
    for n, action in enumerate(action_names, 1):
        if not isinstance(action, str) or not re.fullmatch(r"[\w-]+:[\w*?-]+", action):
            raise ValidationError(f"ActionNames.member.{n}", action, "service:Action, e.g. ecs:RunTask")
    policies = [_parse_policy(n, text) for n, text in enumerate(policy_input_list, 1)]
    context = _context(context_entries)
    explicit = bool(resource_arns)
    results: list[dict[str, Any]] = []
    for action in action_names:
        groups: dict[str, list[dict[str, Any]]] = {}
        for resource in resource_arns or ["*"]:
            groups.setdefault(resource_template(action, resource), []).append(
                _evaluate(policies, action, resource, context)
            )
        for template, per_resource in groups.items():
            decisions = {r["EvalResourceDecision"] for r in per_resource}
            top = (
                "allowed"
                if decisions == {"allowed"}
                else "explicitDeny"
                if "explicitDeny" in decisions
                else "implicitDeny"
            )
            result: dict[str, Any] = {
                "EvalActionName": action,
                "EvalResourceName": template,
                "EvalDecision": top,
                "MatchedStatements": _unique([m for r in per_resource for m in r["MatchedStatements"]]),
                "MissingContextValues": sorted({k for r in per_resource for k in r["MissingContextValues"]}),
            }
            if explicit:
                result["ResourceSpecificResults"] = per_resource
            results.append(result)
    return results

"""Every grant of the stack's roles, one (action, resource) each, and a permission policy without one of them.

Why: the least-privilege lesson's exercise removes one permission, runs, reads the failure and puts it
back; the tests do the same for every grant. Both need the grants listed one by one and the policy
rebuilt without exactly one, from the same builders that render the stack's policies (pure: no AWS call).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from sfnecs.exceptions import ValidationError
from sfnecs.iam.policies import PATTERN_ROLES, permission_policy
from sfnecs.model.policy_evaluation import as_list
from sfnecs.model.spec import StackSpec

__all__ = ["Grant", "grants", "grants_table", "without"]


@dataclass(frozen=True)
class Grant:
    """One permission of one role: `action` on `resource`, from the statement `sid`."""

    role: str
    kind: str  # sfn, scheduler, task, execution
    sid: str
    action: str
    resource: str


def grants(spec: StackSpec) -> list[Grant]:
    """Every (action, resource) the stack's roles are granted, role by role, in policy order."""
    out = []
    for kind in PATTERN_ROLES[spec.pattern]:
        role = getattr(spec, f"{kind}_role")
        for st in as_list((permission_policy(spec, kind) or {}).get("Statement", [])):
            for action in as_list(st["Action"]):
                for resource in as_list(st["Resource"]):
                    out.append(Grant(role, kind, st.get("Sid", ""), action, resource))
    return out


def grants_table(spec: StackSpec) -> pd.DataFrame:
    """`grants(spec)` as a table, one row per grant (for notebooks)."""
    return pd.DataFrame([g.__dict__ for g in grants(spec)], columns=["role", "kind", "sid", "action", "resource"])


def without(spec: StackSpec, kind: str, action: str, resource: str | None = None) -> dict[str, Any]:
    """The permission policy of the stack's role of `kind` without `action` (on `resource` only, if given).

    Why a policy, not an edit: the caller puts it on the role (iam:PutRolePolicy) and `deploy.apply` puts
    the generated one back. Raises ValidationError naming the grants when the role has no such grant.
    """
    if kind not in PATTERN_ROLES[spec.pattern]:
        raise ValidationError(
            "kind", kind, f"a role of pattern {spec.pattern}: {', '.join(PATTERN_ROLES[spec.pattern])}"
        )
    policy = permission_policy(spec, kind) or {"Version": "2012-10-17", "Statement": []}
    mine = [g for g in grants(spec) if g.kind == kind]
    if not any(g.action == action and resource in (None, g.resource) for g in mine):
        allowed = sorted({f"{g.action} on {g.resource}" for g in mine}) or ["none: the role has no permissions"]
        raise ValidationError("action", (action, resource), "a grant of the role: " + "; ".join(allowed))
    statements = []
    for st in as_list(policy["Statement"]):
        actions, resources = as_list(st["Action"]), as_list(st["Resource"])
        if action not in actions:
            statements.append(st)
            continue
        others = [a for a in actions if a != action]
        if others:
            statements.append({**st, "Action": others})
        kept = [r for r in resources if resource is not None and r != resource]
        if kept:
            statements.append({**st, "Sid": f"{st.get('Sid', '')}Kept", "Action": [action], "Resource": kept})
    return {**policy, "Statement": statements}

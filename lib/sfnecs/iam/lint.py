"""parliament's findings on the stack's policies, each tied to its statement, with AWS-forced ones accepted.

Why: a maintained linter judges the policies, not us; the few findings AWS makes unavoidable are
accepted per (finding type, Sid) with a written reason, and nothing else is filtered.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sfnecs.i18n import N_, tr
from sfnecs.iam.policies import ROLE_KINDS, STAR_REASONS
from sfnecs.model.policy_evaluation import as_list

_TRUST_IS_ASSUME_ROLE = N_(
    "A trust policy's sts:AssumeRole is what lets the named service use this one role; parliament lints it "
    "as an identity policy, where AssumeRole would hand out credentials of other roles."
)

#: parliament findings AWS makes unavoidable, accepted only for this finding type on this Sid
ACCEPTED_FINDINGS: dict[tuple[str, str], str] = {
    **{("CREDENTIALS_EXPOSURE", kind.trust_sid): _TRUST_IS_ASSUME_ROLE for kind in ROLE_KINDS.values()},
    ("CREDENTIALS_EXPOSURE", "EcrAuthTokenIsAccountWide"): STAR_REASONS["EcrAuthTokenIsAccountWide"],
    ("PERMISSIONS_MANAGEMENT_ACTIONS", "PassTaskAndExecutionRolesToEcsTasks"): N_(
        "RunTask must pass the task role and the task execution role (ECS developer guide); the grant names "
        "exactly those two role ARNs and only for iam:PassedToService = ecs-tasks.amazonaws.com."
    ),
    ("PERMISSIONS_MANAGEMENT_ACTIONS", "LogDeliveryApisTakeNoResourceArn"): N_(
        "logs:PutResourcePolicy is one of the delivery actions Step Functions needs to log executions to "
        "CloudWatch Logs; like the other delivery APIs it takes no resource ARN, so AWS documents it with "
        "Resource '*' (Step Functions developer guide, 'Logging using CloudWatch Logs')."
    ),
    ("RESOURCE_MISMATCH", "GuardListsOwnExecutions"): N_(
        "states:ListExecutions takes either a stateMachineArn or a mapRunArn (Step Functions API reference); "
        "parliament wants a resource of both types in the statement. The guard lists this state machine's "
        "executions only, so granting map runs would widen the policy to please the linter."
    ),
}


#: how the reasons of a finding accepted on several statements are joined
_AND = " / "
#: the findings table's columns (English names; shown translated by `sfnecs.i18n.localize`)
_FINDING_COLUMNS = [
    N_("issue"),
    N_("severity"),
    N_("title"),
    N_("detail"),
    N_("sid"),
    N_("actions"),
    N_("accepted"),
]


@dataclass(frozen=True)
class Finding:
    """One parliament finding, with the statement (Sid) it concerns and, if accepted, why."""

    issue: str
    severity: str
    title: str
    detail: str
    sid: str | None
    actions: tuple[str, ...] = ()
    accepted: str = ""


def _parliament_meta() -> dict[str, dict[str, Any]]:
    """parliament's finding titles and severities, with its community auditors' (read, not installed)."""
    import parliament
    import yaml

    override = Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml"
    return {**parliament.config, **yaml.safe_load(override.read_text())}


def _lintable(doc: dict[str, Any]) -> dict[str, Any]:
    """The document parliament can read: a trust statement's resource is its role, implied by IAM;
    parliament insists on a Resource element, so the role is written in (any role of any account)."""
    statements = [
        dict(st, Resource=["arn:aws:iam::*:role/*"])
        if "Principal" in st and "Resource" not in st and "NotResource" not in st
        else st
        for st in as_list(doc.get("Statement", []))
    ]
    return {**doc, "Statement": statements}


def lint(doc: dict[str, Any], *, include_accepted: bool = False) -> list[Finding]:
    """parliament's findings (with its community auditors) on a policy, each tied to its statement.

    Why: a maintained linter judges the policies, not us. A finding AWS makes unavoidable is
    accepted only for the (finding type, Sid) pairs in ACCEPTED_FINDINGS, each with its written
    reason; accepted findings are left out unless `include_accepted`. Nothing else is filtered.
    A statement without a Sid is named by its position (`#1`, ...).
    """
    import parliament

    meta = _parliament_meta()
    statements = as_list(doc.get("Statement", []))
    names = [st.get("Sid") or f"#{n}" for n, st in enumerate(statements, 1)]
    policy = parliament.analyze_policy_string(json.dumps(_lintable(doc)), include_community_auditors=True)
    located = [(names[n], f) for n, st in enumerate(policy.statements) for f in st.findings]
    seen = {id(f) for _, f in located}
    out: list[Finding] = []
    for name, f in located + [(None, f) for f in policy.findings if id(f) not in seen]:
        # parliament puts a statement finding's specifics in `detail`, a community auditor's in `location`
        raw = f.detail or {k: v for k, v in (f.location or {}).items() if k != "filepath"}
        actions = _finding_actions(raw)
        if isinstance(raw, dict) and "actions" in raw:
            raw = {**raw, "actions": actions}
        if name is not None:
            owners: list[str | None] = [name]
        else:
            owners = sorted(_granting_statements(statements, names, actions), key=str) or [None]
        reasons = [ACCEPTED_FINDINGS.get((f.issue, o)) if o is not None else None for o in owners]
        accepted = _AND.join(dict.fromkeys(r for r in reasons if r)) if all(reasons) else ""
        info = meta.get(f.issue, {})
        detail = raw if isinstance(raw, str) else json.dumps(raw, default=str, sort_keys=True)
        for owner in owners:
            finding = Finding(
                f.issue,
                str(info.get("severity", "")),
                str(info.get("title", "")),
                detail,
                owner,
                tuple(actions),
                accepted,
            )
            if (include_accepted or not accepted) and finding not in out:
                out.append(finding)
    return out


def _finding_actions(raw: Any) -> list[str]:
    """The actions a parliament finding names, whatever shape its detail has."""
    if isinstance(raw, dict) and isinstance(raw.get("actions"), list):
        return sorted(str(a) for a in raw["actions"])  # community auditors collect them in a set
    if isinstance(raw, list):
        return [
            str(d["action"]) if isinstance(d, dict) else str(d)
            for d in raw
            if isinstance(d, str) or (isinstance(d, dict) and "action" in d)
        ]
    return []


def _granting_statements(statements: list[dict[str, Any]], names: list[str], actions: list[str]) -> set[str]:
    """Names of the statements whose Action patterns cover any of `actions` (case-insensitive, as IAM)."""
    return {
        name
        for st, name in zip(statements, names, strict=True)
        if any(
            fnmatch.fnmatchcase(a.lower(), str(pattern).lower())
            for a in actions
            for pattern in as_list(st.get("Action", []))
        )
    }


def lint_table(doc: dict[str, Any], *, include_accepted: bool = False) -> pd.DataFrame:
    """`lint(doc)` as a table, one finding a row, accepted reasons in the current language (for notebooks).

    parliament's own texts (title, detail) stay as parliament writes them.
    """
    rows = [
        {
            **f.__dict__,
            "actions": ", ".join(f.actions),
            "accepted": _AND.join(tr(reason) for reason in f.accepted.split(_AND)) if f.accepted else "",
        }
        for f in lint(doc, include_accepted=include_accepted)
    ]
    return pd.DataFrame(rows, columns=_FINDING_COLUMNS)

"""IAM for the stack's roles, built from one `StackSpec`: policies, rendering, lint, simulation.

Why an index: notebooks, runbooks and tests import from `sfnecs.iam`; library modules import the
submodule that owns a name (`policies`, `render`, `lint`, `simulate`, `broad`). Only `simulate`
talks to AWS, through the IAM client it is given.
"""

from sfnecs.iam.broad import broad_policy, compare_with_broad, simulate_against_broad
from sfnecs.iam.grants import Grant, grants, grants_table, without
from sfnecs.iam.lint import ACCEPTED_FINDINGS, Finding, lint, lint_table
from sfnecs.iam.policies import (
    ECS_TASKS,
    INTEGRATION_ACTIONS,
    LOG_DELIVERY_ACTIONS,
    PATTERN_ROLES,
    ROLE_KINDS,
    STAR_REASONS,
    SYNC_RULE,
    VERSION,
    RolePolicies,
    RoleTemplate,
    permission_policy,
    policies_for,
    policy_table,
    required_actions,
    roles_table,
    trust_policy,
)
from sfnecs.iam.render import to_json
from sfnecs.iam.simulate import (
    DECISIONS,
    Call,
    Decision,
    default_matrix,
    simulate,
    simulate_roles,
)

# tests build and read SimulateCustomPolicy requests exactly as `simulate` does
from sfnecs.iam.simulate import _context_entries as _context_entries
from sfnecs.iam.simulate import _resource_outcome as _resource_outcome

__all__ = [
    "ACCEPTED_FINDINGS",
    "DECISIONS",
    "ECS_TASKS",
    "INTEGRATION_ACTIONS",
    "LOG_DELIVERY_ACTIONS",
    "PATTERN_ROLES",
    "ROLE_KINDS",
    "STAR_REASONS",
    "SYNC_RULE",
    "VERSION",
    "Call",
    "Decision",
    "Finding",
    "Grant",
    "RolePolicies",
    "RoleTemplate",
    "broad_policy",
    "compare_with_broad",
    "default_matrix",
    "grants",
    "grants_table",
    "lint",
    "lint_table",
    "permission_policy",
    "policies_for",
    "policy_table",
    "required_actions",
    "roles_table",
    "simulate",
    "simulate_against_broad",
    "simulate_roles",
    "to_json",
    "trust_policy",
    "without",
]

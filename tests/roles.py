"""Roles for sandbox tests about something other than IAM: the sandbox enforces IAM on AWS's behalf, so a
state machine, schedule or task needs a role its service may assume and that allows what it calls.

Why open roles: those tests are about lifecycles, repairs and schedules; tests/test_iam_enforced.py is the one
about least privilege (with the generated policies).
"""

from __future__ import annotations

import json
from typing import Any

#: every service principal that acts with a role in the sandbox
SERVICES = ("states.amazonaws.com", "scheduler.amazonaws.com", "ecs-tasks.amazonaws.com", "events.amazonaws.com")
OPEN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def open_role(iam: Any, name: str) -> str:
    """The ARN of role `name`, created if missing: every sandbox service may assume it, and it may do anything."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": list(SERVICES)}, "Action": "sts:AssumeRole"}],
    }
    try:
        arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="open", PolicyDocument=json.dumps(OPEN_POLICY))
    return arn

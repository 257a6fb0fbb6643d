"""The stack's IAM roles (task, execution, state machine, scheduler), with their inline and managed policies.

Why alone: a role is the one resource whose document is several (trust policy, inline policies,
attached policies), each created, compared and removed on its own.
"""

from __future__ import annotations

import json
from typing import Any

from sfnecs.deploy.changes import Current, Desired, document_diff
from sfnecs.deploy.requests import role_documents
from sfnecs.deploy.resource import Resource, is_owned, tag_list

__all__ = ["RoleResource"]


class RoleResource(Resource):
    key, type = "role", "AWS::IAM::Role"

    def desired(self, spec, refs, email):
        return [Desired(self.key, name, doc) for name, doc in role_documents(spec).items()]

    def names(self, spec):
        return sorted({spec.task_role, spec.execution_role, spec.sfn_role, spec.scheduler_role})

    def read(self, target, spec, name):
        iam = target.client("iam")
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            return None
        policies = {}
        for pname in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            policies[pname] = iam.get_role_policy(RoleName=name, PolicyName=pname)["PolicyDocument"]
        attached = sorted(
            p["PolicyArn"]
            for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name)
            for p in page["AttachedPolicies"]
        )
        doc = {
            "RoleName": name,
            "AssumeRolePolicyDocument": role["AssumeRolePolicyDocument"],
            "Policies": policies,
            "AttachedPolicies": attached,
        }
        return Current(name, doc, is_owned(role.get("Tags"), spec), role["Arn"])

    def create(self, target, spec, want):
        iam = target.client("iam")
        arn = iam.create_role(
            RoleName=want.name,
            AssumeRolePolicyDocument=json.dumps(want.document["AssumeRolePolicyDocument"]),
            Description=f"sfnecs stack {spec.name}",
            Tags=tag_list(spec),
        )["Role"]["Arn"]
        for pname, doc in want.document["Policies"].items():
            iam.put_role_policy(RoleName=want.name, PolicyName=pname, PolicyDocument=json.dumps(doc))
        self._attach(iam, want.name, want.document["AttachedPolicies"], [])
        return arn

    def update(self, target, spec, want, have):
        iam = target.client("iam")
        if document_diff(want.document["AssumeRolePolicyDocument"], have.document["AssumeRolePolicyDocument"]):
            iam.update_assume_role_policy(
                RoleName=want.name, PolicyDocument=json.dumps(want.document["AssumeRolePolicyDocument"])
            )
        for pname, doc in want.document["Policies"].items():
            if document_diff(doc, have.document["Policies"].get(pname)):
                iam.put_role_policy(RoleName=want.name, PolicyName=pname, PolicyDocument=json.dumps(doc))
        for pname in set(have.document["Policies"]) - set(want.document["Policies"]):
            iam.delete_role_policy(RoleName=want.name, PolicyName=pname)
        self._attach(iam, want.name, want.document["AttachedPolicies"], have.document["AttachedPolicies"])
        return have.arn

    @staticmethod
    def _attach(iam: Any, role: str, wanted: list[str], attached: list[str]) -> None:
        """Attach the managed policies the spec names and detach the others: the role is the stack's own."""
        for arn in sorted(set(wanted) - set(attached)):
            iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        for arn in sorted(set(attached) - set(wanted)):
            iam.detach_role_policy(RoleName=role, PolicyArn=arn)

    def compare(self, want, have):
        # `document_diff` compares only what the spec has; an inline policy the spec lacks is removed too,
        # and a managed policy it lacks is detached
        extra = set(have.document["Policies"]) - set(want.document["Policies"])
        wanted, attached = set(want.document["AttachedPolicies"]), set(have.document["AttachedPolicies"])
        rest = {k: v for k, v in want.document.items() if k != "AttachedPolicies"}
        return (
            document_diff(rest, have.document)
            + [f"Policies.{p}: inline policy not in the spec -> (removed)" for p in sorted(extra)]
            + [f"AttachedPolicies: {a} not attached -> (attached)" for a in sorted(wanted - attached)]
            + [f"AttachedPolicies: {a} not in the spec -> (detached)" for a in sorted(attached - wanted)]
        )

    def read_all(self, target, spec, name):
        # teardown needs only existence and ownership (GetRole returns the tags), not the policies
        iam = target.client("iam")
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            return None
        return Current(name, {"RoleName": name}, is_owned(role.get("Tags"), spec), role["Arn"])

    def delete(self, target, spec, have):
        iam = target.client("iam")
        for pname in iam.list_role_policies(RoleName=have.name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=have.name, PolicyName=pname)
        for attached in iam.list_attached_role_policies(RoleName=have.name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=have.name, PolicyArn=attached["PolicyArn"])
        iam.delete_role(RoleName=have.name)

"""Network: the subnets and security group a stack uses when none are given (the default VPC's).

Why: Fargate tasks need awsvpc networking; a new account's default VPC lets a first deploy run
without creating a network. Its subnets are public subnets without a NAT gateway (ECS developer
guide, "Task networking for tasks on Fargate"), so a task there reaches ECR only with a public IP:
picking them turns the public IP on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sfnecs.exceptions import StackError
from sfnecs.i18n import tr
from sfnecs.model.target import Target

__all__ = ["default_network", "network_fields"]


def default_network(target: Target) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(subnets, security groups) of the region's default VPC: its subnets and its `default` group."""
    ec2 = target.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    if not vpcs:
        raise StackError(
            tr(
                "no default VPC in {region}: pass subnets=... and security_groups=... to the spec",
                region=target.region,
            )
        )
    vpc = vpcs[0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    return tuple(sorted(s["SubnetId"] for s in subnets)), tuple(g["GroupId"] for g in groups)


def network_fields(
    target: Target,
    subnets: Sequence[str] = (),
    security_groups: Sequence[str] = (),
    assign_public_ip: bool | None = None,
) -> dict[str, Any]:
    """The spec's subnets, security_groups and assign_public_ip: those given, or (no subnets) the default
    VPC's subnets and default group with the public IP on.

    `assign_public_ip` None means: on with the default VPC's subnets (the only path to ECR there), off
    with subnets given (StackSpec's default: private subnets reach ECR through a NAT gateway or endpoints).
    """
    if subnets:
        return {
            "subnets": tuple(subnets),
            "security_groups": tuple(security_groups),
            "assign_public_ip": False if assign_public_ip is None else assign_public_ip,
        }
    found_subnets, found_groups = default_network(target)
    return {
        "subnets": found_subnets,
        "security_groups": tuple(security_groups) or found_groups,
        "assign_public_ip": True if assign_public_ip is None else assign_public_ip,
    }

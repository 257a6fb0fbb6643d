"""The image pull path of a sandbox task, read from moto's EC2, and the error Fargate gives without one.

Why: on Fargate a task whose subnet has no route to ECR (no public IP behind an internet gateway,
no NAT gateway, no VPC endpoints) never starts. The sandbox decides it with the same rule `verify`
applies (sfnecs.model.network), from moto's route tables, gateways and endpoints in EC2's own
shapes, so a subnet verify fails is a subnet whose task fails here.
"""

from __future__ import annotations

import re
from typing import Any

from sfnecs.model.network import PullPath, default_route_target, in_regional_ecr, pull_path, route_table_of

__all__ = ["no_path_error", "task_pull_path"]

#: the address a timed-out call names; AWS's resolve to changing public IPs, the sandbox's is fixed
ENDPOINT_IP = "52.94.0.10"


def task_pull_path(
    account: str,
    region: str,
    awsvpc: dict[str, Any],
    *,
    images: list[str],
    uses_awslogs: bool,
    uses_secrets: bool,
    default_vpc_needs_public_ip: bool,
) -> PullPath | None:
    """The pull path of the task's subnet (the first given, the one its ENI is in), or None when the
    sandbox cannot tell: the subnet is not in moto's EC2 (moto's RunTask refuses it before this), or
    it is in the default VPC and `default_vpc_needs_public_ip` is off (see FargateEmulator)."""
    from moto.ec2.models import ec2_backends  # moto loads lazily: see Sandbox.ensure_repairs

    subnets = awsvpc.get("subnets") or [""]
    ec2 = ec2_backends[account][region]
    try:
        subnet = ec2.get_subnet(subnets[0])
    except Exception:  # noqa: BLE001 - moto raises its own InvalidSubnetID error type (or none was given)
        return None
    vpc = subnet.vpc_id
    path = pull_path(
        subnet.id,
        region=region,
        assign_public_ip=awsvpc.get("assignPublicIp") == "ENABLED",
        route_target=default_route_target(table := route_table_of(subnet.id, vpc, _route_tables(ec2, vpc))),
        route_table=(table or {}).get("RouteTableId", ""),
        endpoints=_endpoints(ec2, vpc),
        ecr_image=all(in_regional_ecr(image, region) for image in images),
        uses_awslogs=uses_awslogs,
        uses_secrets=uses_secrets,
    )
    if path.works is False and ec2.vpcs[vpc].is_default and not default_vpc_needs_public_ip:
        return None
    return path


def _route_tables(ec2: Any, vpc: str) -> list[dict[str, Any]]:
    """moto's route tables of `vpc` as DescribeRouteTables returns them (the fields the decision reads)."""

    def target(route: Any, attr: str) -> str | None:
        found = getattr(route, attr, None)
        return getattr(found, "id", None)

    return [
        {
            "RouteTableId": t.id,
            "VpcId": t.vpc_id,
            "Associations": t.associations,
            "Routes": [
                {
                    "DestinationCidrBlock": r.destination_cidr_block,
                    "GatewayId": r.gateway_id,
                    "NatGatewayId": r.nat_gateway_id,
                    "TransitGatewayId": target(r, "transit_gateway"),
                    "VpcPeeringConnectionId": target(r, "vpc_pcx"),
                    "NetworkInterfaceId": target(r, "interface"),
                    "InstanceId": r.instance_id,
                }
                for r in t.routes
            ],
        }
        for t in ec2.route_tables.values()
        if t.vpc_id == vpc
    ]


def _endpoints(ec2: Any, vpc: str) -> list[dict[str, Any]]:
    """moto's VPC endpoints of `vpc` as DescribeVpcEndpoints returns them."""
    return [
        {
            "ServiceName": e.service_name,
            "VpcEndpointType": e.vpc_endpoint_type,
            "State": e.state,
            "PrivateDnsEnabled": e.private_dns_enabled,
            "RouteTableIds": list(e.route_table_ids or []),
            "VpcId": e.vpc_id,
        }
        for e in ec2.vpc_end_points.values()
        if e.vpc_id == vpc
    ]


def no_path_error(path: PullPath, region: str, images: list[str]) -> str:
    """The stoppedReason Fargate gives a task that cannot reach the service `path.blocked` names.

    AWS re:Post knowledge center, "ecs-unable-to-pull-secrets", documents the shape
    `ResourceInitializationError: unable to pull secrets or registry auth: ... dial tcp ...:443: i/o
    timeout`; the middle (execution resource retrieval failed: unable to retrieve ecr registry auth:
    service call has been retried 3 time(s): RequestError: send request failed caused by: Post ...)
    is what recent agents write and varies by agent version.
    """
    timeout = f"dial tcp {ENDPOINT_IP}:443: i/o timeout"
    if path.blocked == "registry":
        image = next((i for i in images if not in_regional_ecr(i, region)), images[0] if images else "")
        ref, url = _registry_request(image)
        # AWS re:Post, "ecs-fargate-pull-container-error": a registry out of reach times out at the pull
        return (
            f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
            f'{ref}: failed to do request: Head "{url}": {timeout}'
        )
    if path.blocked == "logs":
        return (
            "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
            "failed to create Cloudwatch log stream: RequestError: send request failed caused by: Post "
            f'"https://logs.{region}.amazonaws.com/": {timeout} : exit status 1'
        )
    retrieval = (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
    )
    if path.blocked in ("secretsmanager", "ssm"):
        what = "secret from asm" if path.blocked == "secretsmanager" else "secrets from ssm"
        return (
            f"{retrieval}unable to retrieve {what}: service call has been retried 3 time(s): RequestError: send "
            f'request failed caused by: Post "https://{path.blocked}.{region}.amazonaws.com/": {timeout}'
        )
    return (
        f"{retrieval}unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: "
        f'send request failed caused by: Post "https://api.ecr.{region}.amazonaws.com/": {timeout}'
    )


def _registry_request(image: str) -> tuple[str, str]:
    """(the ref the agent resolves, the manifest URL it asks) for a non-ECR image, e.g. busybox ->
    docker.io/library/busybox:latest at registry-1.docker.io."""
    name, tag = image.split("@")[0], "latest"
    if re.search(r":[\w.-]+$", name.split("/")[-1]):
        name, tag = name.rsplit(":", 1)
    first = name.split("/")[0]
    if "/" in name and ("." in first or ":" in first or first == "localhost"):
        host, path = first, name.split("/", 1)[1]
        ref = f"{name}:{tag}"
    else:
        host, path = "registry-1.docker.io", name if "/" in name else f"library/{name}"
        ref = f"docker.io/{path}:{tag}"
    return ref, f"https://{host}/v2/{path}/manifests/{tag}"

"""The image pull path of a Fargate task: can a task in this subnet reach ECR (and logs, secrets)?

Why one pure decision: `verify` (reading EC2 through boto3) and the sandbox's Fargate emulator
(reading moto's EC2) must agree on when a pull works. Both hand it EC2's own shapes
(DescribeRouteTables' RouteTables, DescribeVpcEndpoints' VpcEndpoints). The rule is the ECS
developer guide's ("Task networking for tasks on Fargate"): to pull, the task needs a route to the
internet, i.e. a public IP in a subnet whose 0.0.0.0/0 route goes to an internet gateway, or a
0.0.0.0/0 route to a NAT gateway, or interface VPC endpoints for ecr.api and ecr.dkr plus the S3
gateway endpoint (logs for awslogs, secretsmanager/ssm for secrets). Default-VPC subnets are public
subnets without a NAT gateway: there the public IP is what makes the pull work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sfnecs.i18n import tr
from sfnecs.model.arns import ECR_IMAGE_RE

__all__ = ["PullPath", "default_route_target", "in_regional_ecr", "pull_path", "required_endpoints", "route_table_of"]

#: the route a task's traffic to AWS's public endpoints takes when no endpoint answers first
DEFAULT_ROUTE = "0.0.0.0/0"
#: the target fields of an EC2 route, in the order DescribeRouteTables lists them
_ROUTE_TARGETS = (
    "GatewayId",
    "NatGatewayId",
    "TransitGatewayId",
    "VpcPeeringConnectionId",
    "NetworkInterfaceId",
    "InstanceId",
    "CarrierGatewayId",
    "LocalGatewayId",
)


@dataclass(frozen=True)
class PullPath:
    """Whether a task in one subnet can pull its image: `works` True/False, or None (cannot tell)."""

    subnet: str
    works: bool | None
    via: str  # how the pull goes (or why it cannot)
    missing: tuple[str, ...] = ()  # endpoint service names the endpoint path lacks
    fix: str = ""
    #: the first service the task cannot reach (ecr.api, logs, secretsmanager, ssm, or registry for a
    #: non-ECR image): Fargate's error names the call that timed out first
    blocked: str = ""


def route_table_of(subnet: str, vpc: str, tables: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The route table a subnet uses: the one explicitly associated with it, else its VPC's main table."""
    tables = list(tables)
    for table in tables:
        if any(a.get("SubnetId") == subnet for a in table.get("Associations") or []):
            return table
    for table in tables:
        if table.get("VpcId") == vpc and any(a.get("Main") for a in table.get("Associations") or []):
            return table
    return None


def default_route_target(table: Mapping[str, Any] | None) -> str:
    """The target id of the table's active 0.0.0.0/0 route (igw-..., nat-..., tgw-...), or '' when none."""
    for route in (table or {}).get("Routes") or []:
        if route.get("DestinationCidrBlock") != DEFAULT_ROUTE or route.get("State") == "blackhole":
            continue  # a blackhole route's target was deleted: nothing goes through it
        for key in _ROUTE_TARGETS:
            if route.get(key):
                return str(route[key])
    return ""


def required_endpoints(region: str, *, uses_awslogs: bool = True, uses_secrets: bool = False) -> dict[str, str]:
    """{service name: endpoint type} a subnet without a route to the internet needs for an ECR pull.

    ECR serves image layers from S3, through the S3 *gateway* endpoint (ECR user guide, "Amazon ECR
    interface VPC endpoints"); the others are interface endpoints.
    """
    needed = {
        f"com.amazonaws.{region}.ecr.api": "Interface",
        f"com.amazonaws.{region}.ecr.dkr": "Interface",
        f"com.amazonaws.{region}.s3": "Gateway",
    }
    if uses_awslogs:
        needed[f"com.amazonaws.{region}.logs"] = "Interface"
    if uses_secrets:
        needed[f"com.amazonaws.{region}.secretsmanager"] = "Interface"
        needed[f"com.amazonaws.{region}.ssm"] = "Interface"
    return needed


def in_regional_ecr(image: str, region: str) -> bool:
    """Is the image in ECR in `region`? Only then can VPC endpoints (of this region) serve the pull."""
    m = ECR_IMAGE_RE.match(image)
    return m is not None and m["region"] == region


def _short(service: str) -> str:
    """`com.amazonaws.us-east-1.ecr.api` -> `ecr.api` (the service part after the region)."""
    return service.split(".", 3)[3] if service.count(".") >= 3 else service


def _usable(endpoint: Mapping[str, Any], kind: str, table: str) -> bool:
    """An endpoint a task in the subnet reaches: available, of the type needed, an interface one with
    private DNS (otherwise the agent resolves the public name), a gateway one on the subnet's table."""
    if endpoint.get("State", "available").lower() != "available" or endpoint.get("VpcEndpointType") != kind:
        return False
    if kind == "Interface":
        return endpoint.get("PrivateDnsEnabled", True) is not False
    return table in (endpoint.get("RouteTableIds") or [])


def _missing_endpoints(
    region: str, endpoints: Iterable[Mapping[str, Any]], table: str, *, uses_awslogs: bool, uses_secrets: bool
) -> tuple[str, ...]:
    """The endpoint service names a VPC lacks for a pull without internet (China regions' names
    start with cn.com.amazonaws: matched by the part after com.amazonaws)."""
    endpoints = list(endpoints)
    out = []
    for service, kind in required_endpoints(region, uses_awslogs=uses_awslogs, uses_secrets=uses_secrets).items():
        if not any(str(e.get("ServiceName", "")).endswith(service) and _usable(e, kind, table) for e in endpoints):
            out.append(service)
    return tuple(out)


def _blocked(missing: tuple[str, ...]) -> str:
    """The first call Fargate makes that times out: registry auth, then secrets, then the log stream."""
    for short in ("ecr.api", "ecr.dkr", "s3", "secretsmanager", "ssm", "logs"):
        if any(_short(m) == short for m in missing):
            return {"ecr.dkr": "ecr.api", "s3": "ecr.api"}.get(short, short)
    return ""


def pull_path(
    subnet: str,
    *,
    region: str,
    route_target: str,
    assign_public_ip: bool,
    endpoints: Iterable[Mapping[str, Any]] = (),
    route_table: str = "",
    ecr_image: bool = True,
    uses_awslogs: bool = True,
    uses_secrets: bool = False,
) -> PullPath:
    """Decide whether a task in `subnet` can pull: from its table's 0.0.0.0/0 target, the public IP flag
    and the VPC's endpoints (DescribeVpcEndpoints items).

    `uses_secrets`: the task definition has `secrets` (Secrets Manager / SSM Parameter Store), so the
    endpoint path needs those endpoints too. `ecr_image` False (e.g. Docker Hub): endpoints do not help.
    """
    if route_target.startswith("nat-"):
        via = tr("NAT gateway {gateway} (route {route})", gateway=route_target, route=DEFAULT_ROUTE)
        return PullPath(subnet, True, via)
    if route_target.startswith("igw-") and assign_public_ip:
        return PullPath(subnet, True, tr("public IP through internet gateway {gateway}", gateway=route_target))
    if route_target and not route_target.startswith("igw-"):
        # a transit gateway, peering or appliance may lead to an egress VPC: not visible from here
        return PullPath(
            subnet,
            None,
            tr(
                "route {route} -> {target}: where it leads cannot be seen from this VPC",
                route=DEFAULT_ROUTE,
                target=route_target,
            ),
        )
    missing = (
        _missing_endpoints(region, endpoints, route_table, uses_awslogs=uses_awslogs, uses_secrets=uses_secrets)
        if ecr_image
        else ()
    )
    if ecr_image and not missing:
        needed = required_endpoints(region, uses_awslogs=uses_awslogs, uses_secrets=uses_secrets)
        return PullPath(subnet, True, tr("VPC endpoints ({endpoints})", endpoints=", ".join(map(_short, needed))))
    return _no_path(subnet, route_target, missing, ecr_image)


def _no_path(subnet: str, route_target: str, missing: tuple[str, ...], ecr_image: bool) -> PullPath:
    # in the reader's language (sfnecs.i18n): verify shows these; the sandbox reads only `works` and `blocked`
    endpoints = (
        tr(
            "add the VPC endpoints {endpoints} (the s3 one a gateway endpoint on the subnet's route "
            "table, the others interface endpoints with private DNS)",
            endpoints=", ".join(missing),
        )
        if missing
        else ""
    )
    nat = tr(
        "add a NAT gateway in a public subnet and route {route} of this subnet's route table to it", route=DEFAULT_ROUTE
    )
    if route_target.startswith("igw-"):
        via = tr(
            "route {route} -> internet gateway {gateway}, but no public IP: the task cannot use it",
            route=DEFAULT_ROUTE,
            gateway=route_target,
        )
        fix = tr("turn on the public IP (assign_public_ip=True, CLI --assign-public-ip), or {nat}", nat=nat)
    else:
        via = tr("no route {route} (neither an internet gateway nor a NAT gateway)", route=DEFAULT_ROUTE)
        fix = nat
    if endpoints:
        via = tr("{via}; endpoints missing: {endpoints}", via=via, endpoints=", ".join(_short(m) for m in missing))
        fix = tr("{fix}, or {endpoints}", fix=fix, endpoints=endpoints)
    elif not ecr_image:
        via = tr("{via}; the image is not in ECR: VPC endpoints cannot reach its registry", via=via)
    return PullPath(subnet, False, via, missing, fix, _blocked(missing) if ecr_image else "registry")

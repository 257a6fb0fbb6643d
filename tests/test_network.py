"""The image pull path: the kit's network defaults, verify's check of each subnet, the Fargate emulator's
failure without a path (and diagnose's reading of it), and the network parameters refused at the door.

Subnets are built in the sandbox through boto3 (a VPC per case): internet gateway with and without a
public IP, NAT gateway, VPC endpoints complete and missing one.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
from typing import Any

import pytest
from tests.test_sandbox import LOG_GROUP, REGION, ensure_log_group, register, wait_for

from sfnecs.cli import main
from sfnecs.cli.stack import spec_from_args
from sfnecs.deploy import stack
from sfnecs.diagnose import diagnose_task
from sfnecs.exceptions import ValidationError
from sfnecs.model.network import PullPath, default_route_target, pull_path, route_table_of
from sfnecs.model.spec import StackSpec
from sfnecs.ops.parameters import check_parameters
from sfnecs.ops.steps import deploy_spec
from sfnecs.sandbox.repairs import REPAIRS

_CIDRS = (f"10.{n}.0.0/16" for n in itertools.count(100))
INTERFACE = ("ecr.api", "ecr.dkr", "logs")


def _vpc(target: Any, *, gateway: str = "", endpoints: tuple[str, ...] = (), s3: bool = False) -> str:
    """A new VPC with one subnet on its own route table: 0.0.0.0/0 to an internet gateway ('igw'), a NAT
    gateway ('nat') or nowhere (''); the interface `endpoints` named, and the S3 gateway endpoint."""
    ec2 = target.client("ec2")
    cidr = next(_CIDRS)
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace("0.0/16", "1.0/24"))["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    if gateway == "igw":
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    elif gateway == "nat":
        public = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace("0.0/16", "2.0/24"))["Subnet"]["SubnetId"]
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=eip)["NatGateway"]["NatGatewayId"]
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    for service in endpoints:
        ec2.create_vpc_endpoint(
            VpcId=vpc,
            VpcEndpointType="Interface",
            SubnetIds=[subnet],
            PrivateDnsEnabled=True,
            ServiceName=f"com.amazonaws.{REGION}.{service}",
        )
    if s3:
        ec2.create_vpc_endpoint(
            VpcId=vpc, VpcEndpointType="Gateway", RouteTableIds=[table], ServiceName=f"com.amazonaws.{REGION}.s3"
        )
    return subnet


def _pull_check(target: Any, subnet: str, public_ip: bool) -> Any:
    spec = StackSpec("net", region=target.region, account=target.account, subnets=(subnet,), assign_public_ip=public_ip)
    (check,) = [c for c in stack.verify(target, spec).checks if c.check == "image pull path"]
    assert check.resource == subnet
    return check


@pytest.mark.sandbox
@pytest.mark.parametrize(
    "case, public_ip, status, words",
    [
        (dict(gateway="igw"), True, "pass", "internet gateway igw-"),
        (dict(gateway="igw"), False, "fail", "no public IP"),
        (dict(gateway="nat"), False, "pass", "NAT gateway nat-"),
        (dict(endpoints=INTERFACE, s3=True), False, "pass", "VPC endpoints (ecr.api, ecr.dkr, s3, logs)"),
        (dict(gateway="igw", endpoints=INTERFACE, s3=True), False, "pass", "VPC endpoints"),
        (dict(endpoints=("ecr.api", "ecr.dkr"), s3=True), False, "fail", "endpoints missing: logs"),
        (dict(endpoints=INTERFACE), False, "fail", "endpoints missing: s3"),
    ],
    ids=["igw+public-ip", "igw-no-public-ip", "nat", "endpoints", "igw+endpoints", "no-logs-endpoint", "no-s3-gateway"],
)
def test_verify_checks_the_pull_path_of_each_subnet(target, case, public_ip, status, words):
    check = _pull_check(target, _vpc(target, **case), public_ip)
    assert (check.status, words in check.detail) == ("pass" if status == "pass" else "fail", True), check
    if status == "fail":
        assert check.fix
    if case.get("gateway") == "igw" and status == "fail":
        assert check.fix.startswith("turn on the public IP (assign_public_ip=True, CLI --assign-public-ip)")
    if "endpoints missing: logs" in words:
        assert f"com.amazonaws.{REGION}.logs" in check.fix and "NAT gateway" in check.fix
    if "endpoints missing: s3" in words:
        assert f"com.amazonaws.{REGION}.s3" in check.fix and "gateway endpoint" in check.fix


@pytest.mark.sandbox
def test_secrets_need_their_endpoints_too(target):
    subnet = _vpc(target, endpoints=INTERFACE, s3=True)
    spec = StackSpec(
        "net",
        region=target.region,
        account=target.account,
        subnets=(subnet,),
        secrets=(("TOKEN", f"arn:aws:secretsmanager:{REGION}:{target.account}:secret:net-token-AbCdEf"),),
    )
    (check,) = [c for c in stack.verify(target, spec).checks if c.check == "image pull path"]
    assert check.status == "fail" and "endpoints missing: secretsmanager, ssm" in check.detail, check


@pytest.mark.sandbox
def test_a_subnet_without_any_route_is_named_with_the_fixes(target):
    check = _pull_check(target, _vpc(target), False)
    assert check.status == "fail" and "no route 0.0.0.0/0" in check.detail
    assert "add a NAT gateway" in check.fix and "ecr.api" in check.fix and "public IP" not in check.fix


def test_the_decision_without_aws():
    """The pure rule: what verify and the emulator both ask (sfnecs.model.network)."""
    tables = [
        {
            "RouteTableId": "rtb-main",
            "VpcId": "vpc-1",
            "Associations": [{"Main": True}],
            "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1"}],
        },
        {
            "RouteTableId": "rtb-own",
            "VpcId": "vpc-1",
            "Associations": [{"SubnetId": "subnet-b"}],
            "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "State": "blackhole"}],
        },
    ]
    assert route_table_of("subnet-a", "vpc-1", tables)["RouteTableId"] == "rtb-main"  # the main table
    assert default_route_target(route_table_of("subnet-b", "vpc-1", tables)) == ""  # a blackhole leads nowhere
    common = dict(region=REGION, assign_public_ip=False)
    assert pull_path("subnet-a", route_target="tgw-1", **common).works is None  # an egress VPC may be behind it
    assert pull_path("subnet-a", route_target="nat-1", **common).works is True
    docker_hub = pull_path("subnet-a", route_target="", ecr_image=False, **common)
    assert docker_hub.blocked == "registry" and "not in ECR" in docker_hub.via
    endpoints = [{"ServiceName": f"com.amazonaws.{REGION}.{s}", "VpcEndpointType": "Interface"} for s in INTERFACE]
    endpoints.append(
        {"ServiceName": f"com.amazonaws.{REGION}.s3", "VpcEndpointType": "Gateway", "RouteTableIds": ["rtb-own"]}
    )
    assert pull_path("subnet-b", route_target="", endpoints=endpoints, route_table="rtb-own", **common).works
    secrets = pull_path(
        "subnet-b", route_target="", endpoints=endpoints, route_table="rtb-own", uses_secrets=True, **common
    )
    assert secrets.missing == (f"com.amazonaws.{REGION}.secretsmanager", f"com.amazonaws.{REGION}.ssm")
    assert secrets.blocked == "secretsmanager"
    no_dns = [dict(e, PrivateDnsEnabled=False) if "ecr.api" in e["ServiceName"] else e for e in endpoints]
    no_ecr = pull_path("subnet-b", route_target="", endpoints=no_dns, route_table="rtb-own", **common)
    assert no_ecr.blocked == "ecr.api"
    assert isinstance(pull_path("subnet-b", route_target="", **common), PullPath)


# ---- the default VPC: the kit turns the public IP on, and the sandbox's default VPC is a real one ------------
@pytest.mark.sandbox
def test_the_kit_picks_the_default_vpc_with_the_public_ip_on(target):
    subnets, groups = stack.default_network(target)
    spec = deploy_spec(target, "net-default")
    assert (spec.subnets, spec.security_groups, spec.assign_public_ip) == (subnets, groups, True)
    assert deploy_spec(target, "net-default", assign_public_ip=False).assign_public_ip is False
    given = deploy_spec(target, "net-given", subnets=[subnets[0]])
    assert (given.subnets, given.security_groups, given.assign_public_ip) == ((subnets[0],), (), False)
    checks = [c for c in stack.verify(target, spec).checks if c.check == "image pull path"]
    assert len(checks) == len(subnets) and {c.status for c in checks} == {"pass"}, checks
    private = [
        c for c in stack.verify(target, spec.replace(assign_public_ip=False)).checks if c.check == "image pull path"
    ]
    assert {c.status for c in private} == {"fail"} and "turn on the public IP" in private[0].fix


@pytest.mark.sandbox
def test_default_vpc_gateway_repair(target):
    """moto's default VPC has no internet gateway: without the repair, no default subnet has a path."""

    def default_route(region: str) -> str:
        ec2 = target.session.client("ec2", region_name=region, endpoint_url=target.endpoint_url)
        vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
        return default_route_target(route_table_of("subnet-none", vpc, tables))

    REPAIRS["default_vpc_gateway"].revert()
    try:
        assert default_route("eu-north-1") == ""  # a region first used here: its backend is created now
    finally:
        REPAIRS["default_vpc_gateway"].apply()
    assert default_route("eu-south-1").startswith("igw-")


# ---- the emulator: a task without a path stops as on Fargate, and diagnose names it ----------------------
@contextlib.contextmanager
def _lenient_default_vpc(sandbox: Any):
    sandbox.fargate.default_vpc_needs_public_ip = False
    try:
        yield
    finally:
        sandbox.fargate.default_vpc_needs_public_ip = True


def _run(target: Any, family: str, subnet: str, public_ip: bool = False, image: str | None = None) -> dict[str, Any]:
    ecs = target.client("ecs")
    ecs.create_cluster(clusterName="net")
    ensure_log_group(target, LOG_GROUP)
    register(target, family, **({"image": image} if image else {}))
    arn = ecs.run_task(
        cluster="net",
        taskDefinition=family,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": [subnet], "assignPublicIp": "ENABLED" if public_ip else "DISABLED"}
        },
    )["tasks"][0]["taskArn"]
    return wait_for(
        lambda: (t := ecs.describe_tasks(cluster="net", tasks=[arn])["tasks"][0])["lastStatus"] == "STOPPED" and t
    )


ECR_IMAGE = f"123456789012.dkr.ecr.{REGION}.amazonaws.com/net:latest"


@pytest.mark.sandbox
def test_a_task_without_a_path_fails_to_start_as_on_fargate(target):
    task = _run(target, "net-nopath", _vpc(target, gateway="igw"), image=ECR_IMAGE)
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"] == (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
        "unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request "
        f'failed caused by: Post "https://api.ecr.{REGION}.amazonaws.com/": dial tcp 52.94.0.10:443: i/o timeout'
    )
    assert "exitCode" not in task["containers"][0] and "startedAt" not in task
    found = diagnose_task(task)
    assert found.category == "no_network_path" and found.confidence == "high"
    assert "assignPublicIp ENABLED" in found.fix and "NAT gateway" in found.fix and "ecr.dkr" in found.fix


@pytest.mark.sandbox
def test_a_docker_hub_image_needs_the_internet_not_endpoints(target):
    task = _run(target, "net-hub", _vpc(target, endpoints=INTERFACE, s3=True), image="busybox")
    assert task["stoppedReason"].startswith(
        "CannotPullContainerError: pull image manifest has been retried 5 "
        "time(s): failed to resolve ref docker.io/library/busybox:latest"
    )
    assert 'Head "https://registry-1.docker.io/v2/library/busybox/manifests/latest"' in task["stoppedReason"]
    assert diagnose_task(task).category == "pull_error"


@pytest.mark.sandbox
def test_tasks_with_a_path_run(target, sandbox):
    assert (
        _run(target, "net-igw", _vpc(target, gateway="igw"), public_ip=True)["stopCode"] == "EssentialContainerExited"
    )
    assert _run(target, "net-nat", _vpc(target, gateway="nat"))["stopCode"] == "EssentialContainerExited"
    endpoints = _vpc(target, endpoints=INTERFACE, s3=True)
    assert _run(target, "net-vpce", endpoints, image=ECR_IMAGE)["stoppedReason"].startswith("CannotPullContainerError")
    # (the image was never pushed: the pull itself is reached, through the endpoints)


@pytest.mark.sandbox
def test_the_default_vpc_without_a_public_ip(target, sandbox):
    subnet = stack.default_network(target)[0][0]
    assert _run(target, "net-dflt", subnet)["stoppedReason"].startswith("CannotPullContainerError")  # as on Fargate
    assert _run(target, "net-dflt", subnet, image=ECR_IMAGE)["stoppedReason"].startswith(
        "ResourceInitializationError: unable to pull secrets or registry auth"
    )
    assert _run(target, "net-dflt", subnet, public_ip=True)["stopCode"] == "EssentialContainerExited"
    with _lenient_default_vpc(sandbox):  # the switch for experiments that leave the network out
        assert _run(target, "net-dflt", subnet)["stopCode"] == "EssentialContainerExited"


# ---- parameters refused at the door -------------------------------------------------------------------
def test_runbook_network_parameters_are_checked():
    with pytest.raises(ValidationError, match="assign_public_ip='yes' is not valid"):
        check_parameters("deploy", assign_public_ip="yes")
    with pytest.raises(ValidationError, match="subnets='subnet-1' is not valid: a subnet id"):
        check_parameters("deploy", subnets=["subnet-1"])
    with pytest.raises(ValidationError, match="subnets=.* at most 16 subnets"):
        check_parameters("deploy", subnets=[f"subnet-{n:08x}" for n in range(17)])
    with pytest.raises(ValidationError, match="security_groups=.* at most 5 security groups"):
        check_parameters("deploy", security_groups=[f"sg-{n:08x}" for n in range(6)])
    assert check_parameters("deploy", subnets=["subnet-0a1b2c3d"], assign_public_ip=True)["assign_public_ip"] is True
    assert (
        check_parameters("deploy", assign_public_ip=None)["assign_public_ip"] is None
    )  # the kit picks (runbook default)
    assert check_parameters("deploy", subnets=[], security_groups=["sg-0a1b2c3d"])["subnets"] == []


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["-p", "subnets", "[subnet-1]", "-p", "assign_public_ip", "true"],
            "subnets='subnet-1' is not valid: a subnet id",
        ),
        (["-p", "assign_public_ip", "maybe"], "assign_public_ip='maybe' is not valid: True or False"),
        (["-p", "security_groups", "[sg-1]"], "security_groups='sg-1' is not valid"),
    ],
)
def test_the_runbook_runner_refuses_bad_network_parameters_with_exit_2(args, message, tmp_path, monkeypatch, capsys):
    def forbidden(*a, **k):
        raise AssertionError("called after a bad parameter")

    monkeypatch.setenv("SFNECS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("papermill.execute_notebook", forbidden)
    monkeypatch.setattr("boto3.Session.__init__", forbidden)
    code = main(["runbook", "run", "deploy", *args, "--output", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"sfnecs: error: {message}"), err
    assert not (tmp_path / "runs").exists()


def _args(*argv: str) -> argparse.Namespace:
    from sfnecs.cli import build_parser

    return build_parser().parse_args(["verify", "--stack", "net-cli", *argv])


@pytest.mark.sandbox
@pytest.mark.parametrize(
    "argv, message",
    [
        (["--subnet", "subnet-1"], "subnets='subnet-1' is not valid: a subnet id"),
        (["--subnet", "subnet-0a1b2c3d", "--security-group", "group-1"], "security_groups='group-1' is not valid"),
        (["--security-group", "sg-1"], "security_groups='sg-1' is not valid"),
    ],
)
def test_the_cli_refuses_bad_network_flags_with_exit_2(sandbox, capsys, argv, message):
    sandbox.control("DELETE", "calls", {})
    code = main(["verify", "--stack", "net-cli", *argv])
    assert code == 2 and message in capsys.readouterr().err
    assert sandbox.control("GET", "calls", {})["total"] == 0


@pytest.mark.sandbox
def test_the_cli_network_flags(target):
    subnets, groups = stack.default_network(target)
    spec = spec_from_args(_args(), target)
    assert (spec.subnets, spec.security_groups, spec.assign_public_ip) == (subnets, groups, True)
    assert spec_from_args(_args("--no-assign-public-ip"), target).assign_public_ip is False
    given = spec_from_args(_args("--subnet", subnets[0], "--subnet", subnets[1], "--assign-public-ip"), target)
    assert (given.subnets, given.assign_public_ip) == (tuple(subnets[:2]), True)
    assert spec_from_args(_args("--subnet", subnets[0]), target).assign_public_ip is False
    assert spec_from_args(_args("--security-group", groups[0]), target).security_groups == (groups[0],)

"""Verify: the read-only pre-flight checks of a stack (like `ecspresso verify`), and the check that a
spec fits the target it is deployed to.

Why before a launch: a missing role, an image of the wrong CPU or a subnet of another VPC fails
only when ECS starts the task; each check here names what it found and the fix.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from sfnecs.checks import check_bool
from sfnecs.deploy.resources import ClusterResource, LogGroupResource, ecr_reference, error_code
from sfnecs.deploy.verify_alerting import alerting_checks
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, localize, tr
from sfnecs.iam import policies_for
from sfnecs.images import ecr_platforms
from sfnecs.model.alerting import owns_topic
from sfnecs.model.job import parameter_name, secret_source
from sfnecs.model.network import default_route_target, in_regional_ecr, pull_path, route_table_of
from sfnecs.model.platforms import ECS_PLATFORMS
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target
from sfnecs.schedule import describe, parse_expression

__all__ = ["COLUMNS", "STATUSES", "Check", "Verification", "check_spec", "verify"]


def check_spec(target: Target, spec: object, email: object = None) -> StackSpec:
    """Return `spec` if it is a StackSpec for the target's region and account (and `email` is one)."""
    if not isinstance(spec, StackSpec):
        raise ValidationError("spec", spec, "a StackSpec (sfnecs.spec.StackSpec)")
    if (spec.region, spec.account) != (target.region, target.account):
        raise ValidationError(
            "spec.region/account",
            f"{spec.region}/{spec.account}",
            f"the target's {target.region}/{target.account}: build the spec with "
            "region=target.region, account=target.account",
        )
    if email is not None and (not isinstance(email, str) or "@" not in email.strip("@") or " " in email):
        raise ValidationError("email", email, "an e-mail address such as ops@example.com, or None")
    if email is not None and not owns_topic(spec):
        raise ValidationError(
            "email",
            email,
            "None: the stack has no topic of its own to subscribe it to "
            "(notify_topic_arn names another's, or nothing notifies)",
        )
    return spec


@dataclass(frozen=True)
class Check:
    """One pre-flight check: what was checked, pass/fail/skip, what was found and the fix."""

    check: str
    resource: str
    status: str  # pass, fail, skip (cannot be told from here)
    detail: str
    fix: str = ""


@dataclass
class Verification:
    """The pre-flight checks of a stack (like `ecspresso verify`)."""

    stack: str
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    def to_frame(self) -> Any:
        """One row per check: check, resource, status, detail, fix (English; shown localized)."""
        import pandas as pd

        return pd.DataFrame([vars(c) for c in self.checks], columns=COLUMNS)

    def _repr_html_(self) -> str:
        """The verdict and the table, in the reader's language (sfnecs.i18n)."""
        stack = f"<b>{html.escape(self.stack)}</b>"
        verdict = (
            tr("stack {stack}: all checks pass", stack=stack)
            if self.ok
            else tr("stack {stack}: {count} check(s) fail", stack=stack, count=len(self.failed))
        )
        return f"<p>{verdict}</p>" + localize(self.to_frame()).to_html(index=False)


#: verify's columns, and the statuses a check ends in: catalog words, shown in the reader's language
COLUMNS = [N_("check"), N_("resource"), N_("status"), N_("detail"), N_("fix")]
STATUSES = (N_("pass"), N_("fail"), N_("skip"))


def verify(target: Target, spec: StackSpec, *, inspect_binary: bool = False) -> Verification:
    """Check what a launch needs before it is tried: cluster, roles and their trust, image and its
    platform, log group, subnets, security groups, each subnet's image pull path, schedule expression,
    and whether a failure would reach a person (topic, its policy, e-mail subscription, rule, alarms).
    Reads only.

    The image check reads its labels (what the pull checks). `inspect_binary=True` also downloads
    the layers and reads the entrypoint's ELF header (what the kernel checks): a label that says
    one CPU over a binary of another passes the pull and still dies with exec format error.
    """
    check_bool("inspect_binary", inspect_binary)
    spec = check_spec(target, spec)
    checks = [
        _exists(N_("cluster exists"), spec.cluster, ClusterResource().read(target, spec, spec.cluster)),
        *_check_capacity_providers(target, spec),
        *_check_roles(target, spec),
        *_check_image(target, spec, inspect_binary),
        _exists(N_("log group exists"), spec.log_group, LogGroupResource().read(target, spec, spec.log_group)),
        *_check_network(target, spec),
        *_check_secrets(target, spec),
        _check_schedule(spec),
        *(Check(*row) for row in alerting_checks(target, spec)),
    ]
    return Verification(spec.name, checks)


#: check -> (what a missing resource means, the fix)
_MISSING = {
    "cluster exists": (
        N_("no ACTIVE cluster of that name"),
        N_("apply the stack (it creates the cluster), or set cluster= to an existing one"),
    ),
    "log group exists": (
        N_("missing: Fargate fails the launch (ResourceInitializationError ... log group does not exist)"),
        N_("apply the stack (it creates the log group)"),
    ),
}


def _exists(check: str, name: str, found: Any) -> Check:
    """Pass with the ARN of what a resource kind's `read` found, or fail with what is missing and the fix."""
    if found is None:
        return Check(check, name, "fail", *_MISSING[check])
    return Check(check, name, "pass", found.arn)


def _check_capacity_providers(target: Target, spec: StackSpec) -> list[Check]:
    """With a capacity provider strategy: every provider it names is associated with the cluster."""
    if not spec.capacity_providers:
        return []
    found = ClusterResource().read(target, spec, spec.cluster)
    if found is None:
        return [Check(PROVIDERS, spec.cluster, "skip", N_("no cluster to inspect"))]
    missing = sorted(set(spec.capacity_providers) - set(found.document["capacityProviders"]))
    if missing:
        return [
            Check(
                PROVIDERS,
                spec.cluster,
                "fail",
                tr(
                    "{missing} not associated (has {has}): RunTask with this strategy is refused",
                    missing=", ".join(missing),
                    has=found.document["capacityProviders"] or tr("none"),
                ),
                tr(
                    "apply the stack if it owns the cluster, or: {command} (keeping the providers and default "
                    "strategy it has)",
                    command="aws ecs put-cluster-capacity-providers --cluster " + spec.cluster,
                ),
            )
        ]
    return [Check(PROVIDERS, spec.cluster, "pass", ", ".join(spec.capacity_providers))]


PROVIDERS = N_("capacity providers associated")
TRUSTED = N_("role trusted by service")


def _check_roles(target: Target, spec: StackSpec) -> list[Check]:
    iam = target.client("iam")
    out = []
    for name, role in policies_for(spec).items():
        try:
            trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        except iam.exceptions.NoSuchEntityException:
            out.append(
                Check(TRUSTED, name, "fail", N_("role does not exist"), N_("apply the stack (it creates its roles)"))
            )
            continue
        principals = _trusted_services(trust)
        if role.service in principals:
            out.append(Check(TRUSTED, name, "pass", tr("{service} may assume it", service=role.service)))
        else:
            out.append(
                Check(
                    TRUSTED,
                    name,
                    "fail",
                    tr(
                        "trusted by {principals}, not {service}",
                        principals=sorted(principals) or tr("no service"),
                        service=role.service,
                    ),
                    tr(
                        "add {service} to the role's trust policy (apply the stack to restore it)", service=role.service
                    ),
                )
            )
    return out


def _trusted_services(trust: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    statements = trust.get("Statement", [])
    for st in [statements] if isinstance(statements, dict) else statements:
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if st.get("Effect") != "Allow" or not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        services = (st.get("Principal") or {}).get("Service", [])
        found |= {services} if isinstance(services, str) else set(services)
    return found


def _check_image(target: Target, spec: StackSpec, inspect_binary: bool = False) -> list[Check]:
    ref = ecr_reference(spec)
    if ref is None:
        detail = tr(
            "{image} is not in this account's ECR: its platforms cannot be read from here", image=spec.image_uri
        )
        return [
            Check(IMAGE, spec.image_uri, "skip", detail),
            Check(PLATFORM, spec.image_uri, "skip", detail),
        ]
    repo, tag = ref
    found = ecr_platforms(target.client("ecr"), repo, tag, inspect_binary=inspect_binary)
    checks = _check_image_labels(spec, found)
    if inspect_binary:
        binary = _check_binary(spec, found)
        label = checks[-1]
        if not found.is_index and binary.status in ("pass", "fail") and label.status != "skip":
            # the pull checks the platform of an index entry only; a single image's label is not
            # checked, its binary is (by the kernel): the binary's verdict is the one that holds
            checks[-1] = Check(
                label.check,
                label.resource,
                "skip",
                tr(
                    "{detail} (the pull does not check a single-platform image's label: the entrypoint binary "
                    "decides, next check)",
                    detail=label.detail,
                ),
            )
        checks.append(binary)
    return checks


def _check_binary(spec: StackSpec, found: Any) -> Check:
    """The entrypoint's ELF header against runtimePlatform (read from the layers)."""
    name = N_("entrypoint binary runs on runtimePlatform")
    relevant = [b for b in found.binaries if b.executables or b.cannot_tell]
    if not relevant:
        return Check(name, spec.image_uri, "skip", found.cannot_tell or N_("no entrypoint binary found in the layers"))
    described = "; ".join(
        tr("{path} is {what}", path=path, what=elf.describe()) for b in relevant for path, elf in b.executables[:1]
    ) or "; ".join(b.cannot_tell or "" for b in relevant)
    runs = found.runs_on(spec.cpu_architecture, spec.os_family)
    if runs is None or not any(b.executables for b in relevant):
        return Check(name, spec.image_uri, "skip", described)
    if runs:
        return Check(name, spec.image_uri, "pass", described)
    lies = f" ({'; '.join(found.disagreements)})" if found.disagreements else ""
    return Check(
        name,
        spec.image_uri,
        "fail",
        tr("{found}: the container would exit 1 with 'exec format error'", found=described + lies),
        tr(
            "rebuild with {command}; when the label and the binary disagree, a Dockerfile step downloads a "
            "prebuilt binary for a fixed CPU: pick it by the build argument TARGETARCH",
            command=_buildx(spec),
        ),
    )


def _buildx(spec: StackSpec) -> str:
    """The build command for an image the task's CPU runs (the fix verify names for a missing or foreign image)."""
    return "docker buildx build --platform " + _oci(spec)


def _check_image_labels(spec: StackSpec, found: Any) -> list[Check]:
    """Does the image exist, and do its labels (index entries or config) offer runtimePlatform."""
    if found.cannot_tell and not found.platforms:
        missing = (
            "has no image" in found.cannot_tell
            or "does not exist" in found.cannot_tell
            or "RepositoryNotFound" in found.cannot_tell
        )
        return [
            Check(
                IMAGE,
                spec.image_uri,
                "fail" if missing else "skip",
                found.cannot_tell,
                tr("push the image: {command}", command=_buildx(spec) + " -t " + spec.image_uri + " --push ."),
            ),
            Check(PLATFORM, spec.image_uri, "skip", N_("no image to inspect")),
        ]
    plats = ", ".join(map(str, found.platforms)) or tr("unknown")
    kind = tr("index") if found.is_index else tr("image")
    exists = Check(IMAGE, spec.image_uri, "pass", f"{kind}: {plats}")
    supports = found.supports(spec.cpu_architecture, spec.os_family)
    fields = {"runtime": f"{spec.cpu_architecture}/{spec.os_family}", "oci": _oci(spec)}
    if supports is None:
        detail = tr("runtimePlatform {runtime} needs {oci}; the image does not say its platform", **fields)
        return [exists, Check(PLATFORM, spec.image_uri, "skip", detail)]
    if supports:
        return [
            exists,
            Check(PLATFORM, spec.image_uri, "pass", tr("runtimePlatform {runtime} needs {oci}: present", **fields)),
        ]
    other = next(cpu for cpu in ECS_PLATFORMS if cpu != spec.cpu_architecture)
    effect = (
        tr("the pull fails: CannotPullContainerError ... descriptor matching platform")
        if found.is_index
        else tr("the container exits 1 with 'exec format error'")
    )
    return [
        exists,
        Check(
            PLATFORM,
            spec.image_uri,
            "fail",
            tr(
                "runtimePlatform {runtime} needs {oci}; the image has {has}: {effect}",
                **fields,
                has=plats,
                effect=effect,
            ),
            tr(
                "rebuild with {command} (or a multi-platform build), or set {setting} if the image's CPU is that one",
                command=_buildx(spec),
                setting="cpu_architecture=" + repr(other),
            ),
        ),
    ]


IMAGE = N_("image exists")
PLATFORM = N_("image platform matches runtimePlatform")


def _oci(spec: StackSpec) -> str:
    """The OCI platform (e.g. linux/arm64) that the spec's runtimePlatform runs."""
    return str(ECS_PLATFORMS[spec.cpu_architecture])


def _described(
    call: Callable[..., Any], key: str, ids_param: str, id_key: str, ids: Iterable[str], missing: tuple[str, ...]
) -> dict[str, list[dict[str, Any]]]:
    """{id: [its description] or [] when not found}: one call for all ids, and one per id only when
    that call fails because some id does not exist (EC2 then describes none of them)."""
    ids = list(ids)
    if not ids:
        return {}
    try:
        found = {item[id_key]: item for item in call(**{ids_param: ids})[key]}
        return {i: [found[i]] if i in found else [] for i in ids}
    except ClientError as exc:
        if error_code(exc) not in missing:
            raise
    out: dict[str, list[dict[str, Any]]] = {}
    for i in ids:
        try:
            out[i] = call(**{ids_param: [i]})[key]
        except ClientError as exc:
            if error_code(exc) not in missing:
                raise
            out[i] = []
    return out


def _check_network(target: Target, spec: StackSpec) -> list[Check]:
    ec2 = target.client("ec2")
    out, vpcs = [], set()
    subnets = _described(
        ec2.describe_subnets, "Subnets", "SubnetIds", "SubnetId", spec.subnets, ("InvalidSubnetID.NotFound",)
    )
    groups = _described(
        ec2.describe_security_groups,
        "SecurityGroups",
        "GroupIds",
        "GroupId",
        spec.security_groups,
        ("InvalidGroup.NotFound", "InvalidGroupId.NotFound"),
    )
    for subnet in spec.subnets:
        found = subnets[subnet]
        if found:
            vpcs.add(found[0]["VpcId"])
            out.append(Check(SUBNET, subnet, "pass", f"{found[0]['VpcId']}, {found[0]['AvailabilityZone']}"))
        else:
            out.append(
                Check(
                    SUBNET,
                    subnet,
                    "fail",
                    N_("not found in this region"),
                    N_("use default_network(target) or your VPC's subnet ids (aws ec2 describe-subnets)"),
                )
            )
    for group in spec.security_groups:
        found = groups[group]
        if not found:
            out.append(
                Check(
                    GROUP,
                    group,
                    "fail",
                    N_("not found in this region"),
                    N_("use a security group id of the subnets' VPC (aws ec2 describe-security-groups)"),
                )
            )
        elif vpcs and found[0]["VpcId"] not in vpcs:
            out.append(
                Check(
                    GROUP,
                    group,
                    "fail",
                    tr("in {vpc}, not the subnets' VPC", vpc=found[0]["VpcId"]),
                    N_("use a security group of the subnets' VPC"),
                )
            )
        else:
            out.append(Check(GROUP, group, "pass", found[0]["VpcId"]))
    return out + _check_pull_paths(ec2, spec, {s: found[0] for s, found in subnets.items() if found})


def _check_pull_paths(ec2: Any, spec: StackSpec, subnets: dict[str, dict[str, Any]]) -> list[Check]:
    """Each existing subnet's image pull path, from its route table and its VPC's endpoints
    (sfnecs.model.network decides; the sandbox's Fargate emulator uses the same decision)."""
    vpcs = sorted({s["VpcId"] for s in subnets.values()})
    if not vpcs:
        return []
    where = [{"Name": "vpc-id", "Values": vpcs}]
    tables = ec2.describe_route_tables(Filters=where)["RouteTables"]
    endpoints = ec2.describe_vpc_endpoints(Filters=where)["VpcEndpoints"]
    out = []
    for subnet, found in subnets.items():
        table = route_table_of(subnet, found["VpcId"], tables)
        path = pull_path(
            subnet,
            region=spec.region,
            route_target=default_route_target(table),
            assign_public_ip=spec.assign_public_ip,
            endpoints=[e for e in endpoints if e.get("VpcId") == found["VpcId"]],
            route_table=(table or {}).get("RouteTableId", ""),
            ecr_image=in_regional_ecr(spec.image_uri, spec.region),
            uses_secrets=bool(spec.secrets),
        )
        status = {True: "pass", False: "fail", None: "skip"}[path.works]
        out.append(Check(N_("image pull path"), subnet, status, path.via, path.fix))
    return out


SUBNET = N_("subnet exists")
GROUP = N_("security group exists")


_CREATE = {"secretsmanager": "aws secretsmanager create-secret", "ssm": "aws ssm put-parameter"}


def _check_secrets(target: Target, spec: StackSpec) -> list[Check]:
    """Each secret the container reads exists (with the operator's credentials): Fargate resolves them
    before the container starts, so a missing one stops every run with ResourceInitializationError."""
    checks = []
    for name, value_from in spec.secrets:
        service, arn = secret_source(value_from)
        try:
            if service == "secretsmanager":
                target.client("secretsmanager").describe_secret(SecretId=arn)
                found = True
            else:
                found = bool(target.client("ssm").get_parameters(Names=[parameter_name(arn)])["Parameters"])
        except ClientError as exc:
            if error_code(exc) not in ("ResourceNotFoundException", "ParameterNotFound"):
                raise
            found = False
        checks.append(
            Check(SECRET, f"{name} <- {value_from}", "pass", arn)
            if found
            else Check(
                SECRET,
                f"{name} <- {value_from}",
                "fail",
                N_("not found: Fargate stops the task before its container (ResourceInitializationError)"),
                tr(
                    "create it in {region} ({command}) or fix the ARN in secrets",
                    region=spec.region,
                    command=_CREATE[service],
                ),
            )
        )
    return checks


SECRET = N_("secret exists")
SCHEDULE = N_("schedule expression valid")


def _check_schedule(spec: StackSpec) -> Check:
    try:
        parsed = parse_expression(spec.schedule_expression, parameter="schedule_expression")
    except ValidationError as exc:
        return Check(SCHEDULE, spec.schedule_expression, "fail", str(exc), exc.allowed)
    upcoming = parsed.next_fire_times(2, datetime.now(UTC), spec.timezone)
    described = describe(spec.schedule_expression, spec.timezone)
    detail = (
        tr(
            "{description}; next: {times}",
            description=described,
            times=", ".join(t.isoformat(timespec="minutes") for t in upcoming),
        )
        if upcoming
        else tr("{description}; no future time", description=described)
    )
    return Check(
        SCHEDULE,
        spec.schedule_expression,
        "pass" if upcoming else "fail",
        detail,
        "" if upcoming else N_("an at() time in the past never fires: choose a future time"),
    )

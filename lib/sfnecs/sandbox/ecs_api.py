"""ECS and ECR API handlers that route tasks through the Fargate emulator and blobs to the registry.

Why: the emulator owns tasks (lifecycle, exit codes, logs), so RunTask, DescribeTasks, ListTasks and
StopTask must read and write it, while everything else (clusters, task definitions) stays moto's.
Each handler replaces one moto response method; `install()` / `uninstall()` swap them.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.responses import ActionResult
from moto.ecr.responses import ECRResponse
from moto.ecs.exceptions import ClusterNotFoundException, EcsClientException, InvalidParameterException
from moto.ecs.responses import EC2ContainerServiceResponse as ECSResponse

from sfnecs.sandbox import runtime
from sfnecs.sandbox.agent_role import unassumable_role
from sfnecs.sandbox.fargate import EmulatedTask


class ThrottlingException(InvalidParameterException):
    """ECS answers throttled calls with ThrottlingException, HTTP 400, 'Rate exceeded'."""

    code = "ThrottlingException"

    def __init__(self) -> None:
        super().__init__("Rate exceeded")
        self.error_type = "ThrottlingException"
        self.code = "ThrottlingException"


def _cluster(self: Any, name: str | None) -> Any:
    try:
        return self.ecs_backend._get_cluster(name or "default")
    except ClusterNotFoundException:
        raise


def run_task(self: Any) -> ActionResult:
    sb = runtime.current()
    p = self._get_param
    cluster = _cluster(self, p("cluster"))
    td = self.ecs_backend.describe_task_definition(p("taskDefinition"))
    count = self._get_int_param("count", 1)
    if not 1 <= count <= 10:
        raise InvalidParameterException("count must be between 1 and 10")
    token = p("clientToken")
    if token and len(token) > 64:
        raise InvalidParameterException("clientToken must be at most 64 characters")
    if token and (previous := sb.fargate.by_client_token(cluster.arn, token)):
        return ActionResult({"tasks": [t.describe(sb.clock.now()) for t in previous], "failures": []})
    if sb.faults.take(td.family, ("throttle",)):
        raise ThrottlingException()
    if fault := sb.faults.take(td.family, ("runtask_failure",)):
        # RunTask answers HTTP 200 with failures and no task (RunTask API reference, Failure).
        return ActionResult(
            {"tasks": [], "failures": [{"arn": td.arn, "reason": fault.reason, "detail": fault.message or None}]}
        )
    strategy = p("capacityProviderStrategy") or []
    provider = _capacity_provider(cluster, p("launchType"), strategy)
    # Fargate capacity providers run Fargate tasks: launchType FARGATE beside capacityProviderName
    # (community-observed DescribeTasks output; the API reference does not say)
    launch_type = p("launchType") or "FARGATE"
    net = p("networkConfiguration") or {}
    if td.network_mode == "awsvpc" and not net.get("awsvpcConfiguration", {}).get("subnets"):
        raise InvalidParameterException(
            "Network Configuration must be provided when networkMode 'awsvpc' is specified."
        )
    if refused := unassumable_role(td, cluster.arn, self.current_account):
        raise EcsClientException(refused)  # IAM enforced on AWS's behalf (sfnecs.sandbox.agent_role)
    tasks: list[EmulatedTask] = []
    for _ in range(count):
        attachments = _eni(self, net, cluster.region_name) if td.network_mode == "awsvpc" else []
        task = sb.fargate.plan_task(
            cluster=cluster,
            task_def=td,
            account=self.current_account,
            region=cluster.region_name,
            overrides=p("overrides") or {},
            started_by=p("startedBy") or "",
            group=p("group"),
            tags=p("tags") or [],
            launch_type=launch_type,
            platform_version=p("platformVersion"),
            attachments=attachments,
            network=net.get("awsvpcConfiguration"),
        )
        task.capacity_provider_name = provider
        if provider == "FARGATE_SPOT" and (fault := sb.faults.take(td.family, ("spot_interruption",))):
            sb.fargate.interrupt(task, fault.seconds)
        sb.fargate.add(task, token)
        tasks.append(task)
    now = sb.clock.now()
    return ActionResult({"tasks": [t.describe(now) for t in tasks], "failures": []})


def _capacity_provider(cluster: Any, launch_type: str | None, strategy: list[dict[str, Any]]) -> str | None:
    """The provider a task launched with `strategy` runs on, after RunTask's checks (None: no strategy).

    ECS API reference: with a capacityProviderStrategy "the launchType parameter must be omitted", and
    only providers associated with the cluster can be used; with every weight 0 RunTask fails
    (CapacityProviderStrategyItem). The first two texts are as ECS words them (community-observed), the
    third is ours. AWS documents how a strategy spreads many tasks (base first, then weight), not
    which provider one task gets: the sandbox picks the one with a base, else the highest weight.
    """
    if not strategy:
        return None
    if launch_type:
        raise InvalidParameterException(
            "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again."
        )
    associated = set(cluster.capacity_providers or [])
    if any(item.get("capacityProvider") not in associated for item in strategy):
        raise InvalidParameterException(
            "The specified capacity provider strategy cannot contain a capacity provider "
            "that is not associated with the cluster. Associate the capacity provider "
            "with the cluster or specify a valid capacity provider and try again."
        )
    if not any(int(item.get("weight") or 0) > 0 or int(item.get("base") or 0) > 0 for item in strategy):
        raise InvalidParameterException(
            "The specified capacity provider strategy must have at least one capacity "
            "provider with a weight greater than zero."
        )
    chosen = max(strategy, key=lambda item: (int(item.get("base") or 0) > 0, int(item.get("weight") or 0)))
    return chosen["capacityProvider"]


def _eni(self: Any, net: dict[str, Any], region: str) -> list[dict[str, Any]]:
    from moto.ec2.models import ec2_backends
    from moto.ec2.utils import random_private_ip

    cfg = net["awsvpcConfiguration"]
    ec2 = ec2_backends[self.current_account][region]
    subnet_id = cfg["subnets"][0]
    try:
        subnet = ec2.get_subnet(subnet_id)
    except Exception:  # noqa: BLE001 - moto raises its own InvalidSubnetID error type
        raise InvalidParameterException(
            f"Error retrieving subnet information for [{subnet_id}]: The subnet ID '{subnet_id}' does not exist "
            "(Service: AmazonEC2; Status Code: 400; Error Code: InvalidSubnetID.NotFound)"
        ) from None
    for sg in cfg.get("securityGroups") or []:
        if ec2.get_security_group_from_id(sg) is None:
            raise InvalidParameterException(
                f"Error retrieving security group information for [{sg}]: The security group '{sg}' does not exist"
            )
    eni = ec2.create_network_interface(
        subnet=subnet,
        private_ip_address=random_private_ip(),
        group_ids=cfg.get("securityGroups") or [],
        description="sfnecs sandbox task",
    )
    return [
        {
            "id": eni.id,
            "type": "ElasticNetworkInterface",
            "status": "ATTACHED",
            "details": [
                {"name": "subnetId", "value": subnet_id},
                {"name": "networkInterfaceId", "value": eni.id},
                {"name": "privateIPv4Address", "value": eni.private_ip_address},
            ],
        }
    ]


def describe_tasks(self: Any) -> ActionResult:
    sb = runtime.current()
    cluster = _cluster(self, self._get_param("cluster"))
    refs = self._get_param("tasks") or []
    if not refs:
        raise InvalidParameterException("Tasks cannot be empty.")
    if len(refs) > 100:
        raise InvalidParameterException("Tasks cannot have more than 100 elements")
    sb.fargate.refresh()
    now = sb.clock.now()
    tasks, failures = [], []
    for ref in refs:
        task = sb.fargate.find(cluster.arn, ref)
        if task is None:
            failures.append({"arn": ref, "reason": "MISSING"})
        else:
            tasks.append(task.describe(now))
    include_tags = "TAGS" in (self._get_param("include") or [])
    if not include_tags:
        for t in tasks:
            t.pop("tags", None)
    return ActionResult({"tasks": tasks, "failures": failures})


def list_tasks(self: Any) -> ActionResult:
    sb = runtime.current()
    cluster = _cluster(self, self._get_param("cluster"))
    now = sb.clock.now()
    family, started_by = self._get_param("family"), self._get_param("startedBy")
    desired = self._get_param("desiredStatus") or "RUNNING"
    arns = []
    for t in sb.fargate.in_cluster(cluster.arn):
        d = t.describe(now)
        if family and t.family != family or started_by and t.started_by != started_by:
            continue
        if d["desiredStatus"] == desired:
            arns.append(t.arn)
    return ActionResult({"taskArns": arns})


def stop_task(self: Any) -> ActionResult:
    sb = runtime.current()
    cluster = _cluster(self, self._get_param("cluster"))
    ref = self._get_param("task")
    task = sb.fargate.find(cluster.arn, ref)
    if task is None:
        raise InvalidParameterException("The referenced task was not found.")
    sb.fargate.stop(task, self._get_param("reason"))
    return ActionResult({"task": task.describe(sb.clock.now())})


# ---- ECR layer uploads (moto raises NotImplementedError) ----------------------------------
def _repo_or_raise(self: Any) -> str:
    name = self._get_param("repositoryName")
    if name not in self.ecr_backend.repositories:
        from moto.ecr.exceptions import RepositoryNotFoundException

        raise RepositoryNotFoundException(name, self._get_param("registryId") or self.current_account)
    return name


def initiate_layer_upload(self: Any) -> str:
    name = _repo_or_raise(self)
    upload_id = runtime.current().blobs.initiate()
    return json.dumps(
        {"uploadId": upload_id, "partSize": 10_485_760, "registryId": self.current_account, "repositoryName": name}
    )


def upload_layer_part(self: Any) -> str:
    import base64

    name = _repo_or_raise(self)
    data = base64.b64decode(self._get_param("layerPartBlob"))
    upload_id = self._get_param("uploadId")
    try:
        last = runtime.current().blobs.upload_part(upload_id, int(self._get_param("partFirstByte")), data)
    except KeyError:
        raise EcsClientException(f"Upload {upload_id} not found") from None
    return json.dumps(
        {"registryId": self.current_account, "repositoryName": name, "uploadId": upload_id, "lastByteReceived": last}
    )


def complete_layer_upload(self: Any) -> str:
    name = _repo_or_raise(self)
    upload_id = self._get_param("uploadId")
    digest = runtime.current().blobs.complete(upload_id, self._get_param("layerDigests") or [])
    return json.dumps(
        {"registryId": self.current_account, "repositoryName": name, "uploadId": upload_id, "layerDigest": digest}
    )


def batch_check_layer_availability(self: Any) -> str:
    name = _repo_or_raise(self)
    blobs = runtime.current().blobs
    layers, failures = [], []
    for digest in self._get_param("layerDigests") or []:
        data = blobs.get(digest)
        if data is None:
            failures.append(
                {"layerDigest": digest, "failureCode": "MissingLayerDigest", "failureReason": "Could not find layer"}
            )
        else:
            layers.append({"layerDigest": digest, "layerAvailability": "AVAILABLE", "layerSize": len(data)})
    del name
    return json.dumps({"layers": layers, "failures": failures})


def get_download_url_for_layer(self: Any) -> str:
    _repo_or_raise(self)
    sb = runtime.current()
    digest = self._get_param("layerDigest")
    if sb.blobs.get(digest) is None:
        from moto.ecr.exceptions import ImageNotFoundException

        raise ImageNotFoundException(digest, self._get_param("repositoryName"), self.current_account)
    return json.dumps({"downloadUrl": f"{sb.endpoint}/_sfnecs/blobs/{digest}", "layerDigest": digest})


_HANDLERS: dict[tuple[type, str], Any] = {
    (ECSResponse, "run_task"): run_task,
    (ECSResponse, "describe_tasks"): describe_tasks,
    (ECSResponse, "list_tasks"): list_tasks,
    (ECSResponse, "stop_task"): stop_task,
    (ECRResponse, "initiate_layer_upload"): initiate_layer_upload,
    (ECRResponse, "upload_layer_part"): upload_layer_part,
    (ECRResponse, "complete_layer_upload"): complete_layer_upload,
    (ECRResponse, "batch_check_layer_availability"): batch_check_layer_availability,
    (ECRResponse, "get_download_url_for_layer"): get_download_url_for_layer,
}
_SAVED: dict[tuple[type, str], Any] = {}


def install() -> None:
    for (cls, name), handler in _HANDLERS.items():
        _SAVED.setdefault((cls, name), cls.__dict__.get(name))
        setattr(cls, name, handler)


def uninstall() -> None:
    for (cls, name), original in _SAVED.items():
        setattr(cls, name, original)
    _SAVED.clear()

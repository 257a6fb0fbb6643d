"""The Fargate emulator: every RunTask gets a real lifecycle, exit codes, stop codes and logs.

Why: moto's ECS starts every task RUNNING with one container and exit code 0 forever, so nothing
that waits for a task (`.sync`, `runs.wait`) or explains a failure (`diagnose`) could be tested.
Here a task moves PROVISIONING -> PENDING -> RUNNING -> STOPPED on the sandbox clock, and how it
ends is decided, at launch, by (in order): injected faults, the image's platforms versus the task
definition's `runtimePlatform`, and the job's own instructions in its container definition.

The job language (environment variables of a container, or a `sh -c` command):
  SFNECS_DURATION=30   run 30 (virtual) seconds           command: `sleep 30`
  SFNECS_EXIT_CODE=3   exit with code 3                   command: `exit 3`
  SFNECS_LOG=a|b       write log lines a and b            command: `echo a`
  SFNECS_MEMORY_MB=900 peak memory; above the limit -> OOM (exit 137)
  SFNECS_HANG=1        never exit until StopTask
  SFNECS_TRAPS_SIGTERM=0  PID 1 has no SIGTERM handler: StopTask's SIGTERM is ignored, SIGKILL
                       after the container's `stopTimeout` (30 s by default) -> exit 137
Defaults: a 5-second run that logs two lines and exits 0, and traps SIGTERM (exits 143 at once on a stop).
"""

from __future__ import annotations

import re
import shlex
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sfnecs.model.platforms import oci_platform
from sfnecs.sandbox.agent_role import may_put_log_events, pull_denial, stream_denial
from sfnecs.sandbox.clock import VirtualClock
from sfnecs.sandbox.faults import FaultPlan
from sfnecs.sandbox.network import no_path_error, task_pull_path
from sfnecs.sandbox.registry import BlobStore, ImageLookup, lookup
from sfnecs.sandbox.secrets import resolve_secrets

# Phase lengths in virtual seconds (AWS documents the states, not their durations: these are
# typical Fargate figures, kept short).
PROVISIONING_S = 2.0
PULL_S = 2.0
STOPPING_S = 1.0
DEFAULT_DURATION_S = 5.0
# StopTask: SIGTERM, then SIGKILL after the container's stopTimeout, 30 s unless set, at most 120 s on
# Fargate (ECS API reference, StopTask and ContainerDefinition.stopTimeout; fact: stop-task-signals)
DEFAULT_STOP_TIMEOUT_S = 30.0
MAX_FARGATE_STOP_TIMEOUT_S = 120.0
EXEC_FAIL_S = 0.2  # the kernel refuses the entrypoint at once

ESSENTIAL_EXITED = "Essential container in task exited"


@dataclass
class ContainerPlan:
    """How one container behaves, decided at launch."""

    name: str
    image: str
    essential: bool
    duration: float
    exit_code: int | None
    hang: bool = False
    reason: str | None = None
    logs: list[str] = field(default_factory=list)
    log_config: dict[str, Any] | None = None
    traps_sigterm: bool = True  # False: PID 1 without a SIGTERM handler, killed after stop_timeout
    stop_timeout: float = DEFAULT_STOP_TIMEOUT_S

    @property
    def grace(self) -> float:
        """Virtual seconds from SIGTERM to the container's exit: 0 when it traps SIGTERM, else its stopTimeout."""
        return 0.0 if self.traps_sigterm else self.stop_timeout


@dataclass
class EmulatedTask:
    """One task: its plan, its timeline (virtual times) and what has been written to logs."""

    arn: str
    task_id: str
    cluster_arn: str
    task_definition_arn: str
    family: str
    region: str
    account: str
    cpu: str
    memory: str
    architecture: str
    group: str
    started_by: str
    launch_type: str
    platform_version: str
    overrides: dict[str, Any]
    tags: list[dict[str, str]]
    attachments: list[dict[str, Any]]
    containers: list[ContainerPlan]
    created_at: datetime
    start_error: str | None = None
    stop_requested_at: datetime | None = None
    stop_reason: str | None = None
    stop_code: str = "UserInitiated"  # why stop_requested_at: StopTask, or the platform (SpotInterruption)
    client_token: str | None = None
    capacity_provider_name: str | None = None  # launched through a capacity provider strategy
    logged: set[str] = field(default_factory=set)
    execution_role: str | None = None  # the agent pulls and writes logs with it (sfnecs.sandbox.agent_role)

    # ---- timeline ---------------------------------------------------------------------------
    @property
    def pending_at(self) -> datetime:
        return self.created_at + timedelta(seconds=PROVISIONING_S)

    @property
    def running_at(self) -> datetime | None:
        return None if self.start_error else self.pending_at + timedelta(seconds=PULL_S)

    def container_end(self, c: ContainerPlan) -> datetime | None:
        """When the container exits on its own (None: never, or it never starts)."""
        if self.running_at is None or c.hang:
            return None
        return self.running_at + timedelta(seconds=c.duration)

    @property
    def natural_stop(self) -> datetime | None:
        """When the first essential container exits (that stops the task), if ever."""
        if self.start_error:
            return self.pending_at + timedelta(seconds=PULL_S)
        ends = [e for c in self.containers if c.essential and (e := self.container_end(c))]
        return min(ends) if ends else None

    @property
    def killed_at(self) -> datetime | None:
        """When the containers are gone after a stop request: at once if they trap SIGTERM, else after stopTimeout."""
        if self.stop_requested_at is None:
            return None
        return self.stop_requested_at + timedelta(seconds=max((c.grace for c in self.containers), default=0.0))

    @property
    def stopping_at(self) -> datetime | None:
        candidates = [t for t in (self.natural_stop, self.killed_at) if t is not None]
        return min(candidates) if candidates else None

    @property
    def stopped_at(self) -> datetime | None:
        s = self.stopping_at
        return None if s is None else s + timedelta(seconds=STOPPING_S)

    def user_stopped(self) -> bool:
        return self.stop_requested_at is not None and (
            self.natural_stop is None or self.stop_requested_at < self.natural_stop
        )

    def status(self, now: datetime) -> str:
        if self.stopped_at and now >= self.stopped_at:
            return "STOPPED"
        if self.stopping_at and now >= self.stopping_at:
            return "DEPROVISIONING"
        if self.running_at and now >= self.running_at:
            return "RUNNING"
        if now >= self.pending_at:
            return "PENDING"
        return "PROVISIONING"

    # ---- API shape --------------------------------------------------------------------------
    def describe(self, now: datetime) -> dict[str, Any]:
        """The task as DescribeTasks returns it (camelCase), at virtual time `now`."""
        status = self.status(now)
        stopped = status == "STOPPED"
        task: dict[str, Any] = {
            "taskArn": self.arn,
            "clusterArn": self.cluster_arn,
            "taskDefinitionArn": self.task_definition_arn,
            "lastStatus": status,
            "desiredStatus": "STOPPED"
            if (self.stopping_at and now >= self.stopping_at)
            or (self.stop_requested_at and now >= self.stop_requested_at)
            else "RUNNING",
            "cpu": self.cpu,
            "memory": self.memory,
            "launchType": self.launch_type,
            "capacityProviderName": self.capacity_provider_name,
            "platformVersion": self.platform_version,
            "platformFamily": "Linux",
            "group": self.group,
            "overrides": self.overrides,
            "attachments": self.attachments,
            "attributes": [
                {"name": "ecs.cpu-architecture", "value": self.architecture.lower().replace("x86_64", "x86_64")}
            ],
            "availabilityZone": f"{self.region}a",
            "connectivity": "CONNECTED" if now >= self.pending_at else None,
            "createdAt": self.created_at,
            "version": 1
            + sum(now >= t for t in (self.pending_at, self.running_at, self.stopping_at, self.stopped_at) if t),
            "tags": self.tags,
            "containers": [self._describe_container(c, now, stopped) for c in self.containers],
        }
        if self.started_by:
            task["startedBy"] = self.started_by
        if now >= self.pending_at:
            task["connectivityAt"] = self.pending_at
            task["pullStartedAt"] = self.pending_at
        if self.running_at and now >= self.running_at:
            task["pullStoppedAt"] = self.running_at
            task["startedAt"] = self.running_at
        if self.stopping_at and now >= self.stopping_at:
            task["stoppingAt"] = self.stopping_at
            task["executionStoppedAt"] = self.stopping_at
            task["stopCode"], task["stoppedReason"] = self._stop_code_and_reason()
        if stopped:
            task["stoppedAt"] = self.stopped_at
            task["connectivity"] = "DISCONNECTED"
        return {k: v for k, v in task.items() if v is not None}

    def _stop_code_and_reason(self) -> tuple[str, str]:
        # Stop codes and reasons as ECS reports them (ECS developer guide, "Amazon ECS stopped
        # task error messages" and the API's Task.stopCode).
        if self.start_error:
            return "TaskFailedToStart", self.start_error
        if self.user_stopped():
            return self.stop_code, self.stop_reason or "Task stopped by user"
        return "EssentialContainerExited", ESSENTIAL_EXITED

    def _describe_container(self, c: ContainerPlan, now: datetime, task_stopped: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "containerArn": f"{self.arn.replace(':task/', ':container/')}/{c.name}",
            "taskArn": self.arn,
            "name": c.name,
            "image": c.image,
            "lastStatus": "PENDING",
            "networkInterfaces": [],
            "healthStatus": "UNKNOWN",
            "cpu": "0",
        }
        if self.running_at and now >= self.running_at:
            out["lastStatus"] = "RUNNING"
        end = self.container_end(c)
        stop = self.stopping_at
        if self.start_error and task_stopped:
            out["lastStatus"] = "STOPPED"
            out["reason"] = self.start_error
        elif end is not None and now >= end and (stop is None or end <= stop):
            out["lastStatus"] = "STOPPED"
            out["exitCode"] = c.exit_code
            if c.reason:
                out["reason"] = c.reason
        elif task_stopped:
            # Still running when the task stopped: ECS sends SIGTERM. AWS documents no exit code;
            # the shell's 128 + signal (fact: exit-code-signals): 143 for a job that traps SIGTERM and
            # exits on it, 137 for a PID 1 without a handler (SIGTERM ignored, SIGKILL after
            # stopTimeout); 0 for a non-essential sidecar shutting down cleanly.
            out["lastStatus"] = "STOPPED"
            cut_short = self.user_stopped() or c.essential
            out["exitCode"] = (143 if c.traps_sigterm else 137) if cut_short else 0
        return out

    def log_events(self, now: datetime) -> list[tuple[ContainerPlan, datetime, str, str]]:
        """Log lines due by `now` that were not written yet: (container, time, key, message)."""
        due: list[tuple[ContainerPlan, datetime, str, str]] = []
        if self.running_at is None or now < self.running_at:
            return due
        for c in self.containers:
            start = self.running_at
            end = self.container_end(c) or self.stopping_at or now
            if self.stopping_at:
                end = min(end, self.stopping_at)
            span = max((end - start).total_seconds(), 0.001)
            for i, line in enumerate(c.logs):
                # spread lines over the run; the last line (exit notice / kernel error) at the end
                at = start + timedelta(seconds=span * (i + 1) / (len(c.logs) + 1)) if i < len(c.logs) - 1 else end
                key = f"{c.name}:{i}"
                if at <= now and key not in self.logged and c.log_config is not None:
                    due.append((c, at, key, line))
        return due


_SLEEP = re.compile(r"^sleep\s+(\d+(?:\.\d+)?)$")
_EXIT = re.compile(r"^exit\s+(\d+)$")
_ECHO = re.compile(r"^echo\s+(.*)$")


def job_from_container(defn: dict[str, Any], override: dict[str, Any] | None) -> dict[str, Any]:
    """Read the job language from a container definition plus its RunTask override."""
    env = {e["name"]: e["value"] for e in defn.get("environment") or []}
    command = list(defn.get("command") or [])
    if override:
        env.update({e["name"]: e["value"] for e in override.get("environment") or []})
        if override.get("command"):
            command = list(override["command"])
    job: dict[str, Any] = {"duration": DEFAULT_DURATION_S, "exit_code": 0, "logs": [], "hang": False, "memory_mb": 0}
    script = command[-1] if len(command) >= 2 and command[-2] == "-c" else " ".join(shlex.quote(c) for c in command)
    for part in re.split(r"\s*(?:;|&&|\n)\s*", script):
        part = part.strip()
        if m := _SLEEP.match(part):
            job["duration"] = float(m[1])
        elif m := _EXIT.match(part):
            job["exit_code"] = int(m[1])
        elif m := _ECHO.match(part):
            job["logs"].append(m[1].strip("'\""))
    if "SFNECS_DURATION" in env:
        job["duration"] = float(env["SFNECS_DURATION"])
    if "SFNECS_EXIT_CODE" in env:
        job["exit_code"] = int(env["SFNECS_EXIT_CODE"])
    if env.get("SFNECS_LOG"):
        job["logs"].extend(env["SFNECS_LOG"].split("|"))
    if env.get("SFNECS_HANG", "").lower() in ("1", "true", "yes"):
        job["hang"] = True
    if env.get("SFNECS_MEMORY_MB"):
        job["memory_mb"] = int(env["SFNECS_MEMORY_MB"])
    job["traps_sigterm"] = env.get("SFNECS_TRAPS_SIGTERM", "1").lower() not in ("0", "false", "no")
    job["stop_timeout"] = min(float(defn.get("stopTimeout") or DEFAULT_STOP_TIMEOUT_S), MAX_FARGATE_STOP_TIMEOUT_S)
    job["entrypoint"] = (defn.get("entryPoint") or []) + (command[:1] if command else [])
    return job


class FargateEmulator:
    """Owns every task started through RunTask in the sandbox."""

    def __init__(self, clock: VirtualClock, faults: FaultPlan, blobs: BlobStore):
        self.clock = clock
        self.faults = faults
        self.blobs = blobs
        self._lock = threading.RLock()
        # one refresh at a time: request threads and the server's ticker both refresh, and two that read the
        # same due line before either marks it written would write it twice (a log tail seen doubled)
        self._refreshing = threading.RLock()
        self.tasks: dict[str, EmulatedTask] = {}
        self._tokens: dict[tuple[str, str], tuple[datetime, list[str]]] = {}
        self.on_stopped: list[Callable[[EmulatedTask], None]] = []
        self._announced: set[str] = set()
        #: Fargate fails a task in a default-VPC subnet without a public IP (no NAT gateway there), and
        #: `verify` says so; so does the sandbox. False lets such a task run anyway (a switch for
        #: experiments that want to leave the network out); subnets of other VPCs are always judged.
        self.default_vpc_needs_public_ip = True

    @property
    def _ecr(self) -> Any:
        from moto.ecr.models import ecr_backends  # imported on first use: see Sandbox.ensure_repairs

        return ecr_backends

    @property
    def _logs(self) -> Any:
        from moto.logs.models import logs_backends

        return logs_backends

    def reset(self) -> None:
        with self._lock:
            self.tasks.clear()
            self._tokens.clear()
            self._announced.clear()

    # ---- launch -----------------------------------------------------------------------------
    def plan_task(
        self,
        *,
        cluster: Any,
        task_def: Any,
        account: str,
        region: str,
        overrides: dict[str, Any],
        started_by: str,
        group: str | None,
        tags: list[dict[str, str]],
        launch_type: str,
        platform_version: str | None,
        attachments: list[dict[str, Any]],
        network: dict[str, Any] | None = None,
    ) -> EmulatedTask:
        """Decide how a new task will behave, from its subnet's pull path, faults, image platforms and the
        job language. `network` is RunTask's awsvpcConfiguration."""
        task_id = uuid.uuid4().hex
        arch = (task_def.runtime_platform or {}).get("cpuArchitecture", "X86_64")
        os_family = (task_def.runtime_platform or {}).get("operatingSystemFamily", "LINUX")
        overrides_by_name = {o.get("name"): o for o in (overrides or {}).get("containerOverrides") or []}
        task_memory = int(task_def.memory or 0)
        containers: list[ContainerPlan] = []
        # the agent reads the secrets before it pulls (a secret's failure is the one reported)
        execution_role = getattr(task_def, "execution_role_arn", None)
        definitions, start_error = resolve_secrets(task_def.container_definitions, execution_role, task_id)
        for defn in definitions:
            job = job_from_container(defn, overrides_by_name.get(defn.get("name")))
            image = defn.get("image", "")
            plan = ContainerPlan(
                name=defn.get("name", "container"),
                image=image,
                essential=defn.get("essential", True),
                duration=job["duration"],
                exit_code=job["exit_code"],
                hang=job["hang"],
                traps_sigterm=job["traps_sigterm"],
                stop_timeout=job["stop_timeout"],
                logs=list(job["logs"]) or ["sfnecs sandbox job: started", "sfnecs sandbox job: done"],
                log_config=_awslogs(defn, region),
            )
            found = lookup(image, self._ecr, self.blobs)
            # registry auth (with the secrets) comes before the pull; both with the execution role
            start_error = start_error or pull_denial(image, execution_role, task_id, region)
            start_error = start_error or _pull_error(image, found, arch, os_family)
            entry = (job["entrypoint"] or list(found.entrypoint) or ["/app/job"])[0]
            if found.supports(arch, os_family) is False and not found.is_index:
                # Single-platform image of another CPU: the container starts and the kernel
                # refuses the entrypoint (AWS re:Post, "ecs-task-exec-format-error").
                plan.duration, plan.exit_code, plan.hang = EXEC_FAIL_S, 1, False
                plan.logs = [f"exec {entry}: exec format error"]
            limit = int(defn.get("memory") or task_memory or 0)
            if job["memory_mb"] and limit and job["memory_mb"] > limit:
                plan.exit_code, plan.reason = 137, "OutOfMemoryError: Container killed due to memory usage"
                plan.duration = min(plan.duration, 1.0)
                plan.logs = plan.logs[:1] + ["Killed"]
            containers.append(plan)
        self._apply_launch_faults(task_def.family, containers)
        no_path = self._no_path_error(account, region, network, task_def, containers)
        if no_path and "logger" not in no_path:
            start_error = no_path  # registry auth and secrets come before the pull: their timeout is seen first
        start_error = start_error or no_path or _log_group_error(containers, self._logs, account)
        for c in containers:  # the awslogs driver creates its stream, with the execution role, as the container starts
            start_error = start_error or stream_denial(c.log_config, c.name, execution_role, task_id, account)
        if start_error is None and (fault := self.faults.take(task_def.family, ("pull_error",))):
            start_error = fault.message or (
                f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve "
                f"ref {containers[0].image}: not found"
            )
        return EmulatedTask(
            arn=f"arn:aws:ecs:{region}:{account}:task/{cluster.name}/{task_id}",
            task_id=task_id,
            cluster_arn=cluster.arn,
            task_definition_arn=task_def.arn,
            family=task_def.family,
            region=region,
            account=account,
            cpu=str(task_def.cpu or "256"),
            memory=str(task_def.memory or "512"),
            architecture=arch,
            group=group or f"family:{task_def.family}",
            started_by=started_by or "",
            launch_type=launch_type or "FARGATE",
            platform_version=platform_version or "1.4.0",
            overrides=overrides or {"containerOverrides": [], "inferenceAcceleratorOverrides": []},
            tags=tags or [],
            attachments=attachments,
            containers=containers,
            created_at=self.clock.now(),
            start_error=start_error,
            execution_role=execution_role,
        )

    def _no_path_error(
        self, account: str, region: str, network: dict[str, Any] | None, task_def: Any, containers: list[ContainerPlan]
    ) -> str | None:
        """Fargate's error for a task whose subnet cannot reach ECR (or logs, secrets), else None."""
        if not network:
            return None
        images = [c.image for c in containers]
        path = task_pull_path(
            account,
            region,
            network,
            images=images,
            uses_awslogs=any(c.log_config for c in containers),
            uses_secrets=any(d.get("secrets") for d in task_def.container_definitions),
            default_vpc_needs_public_ip=self.default_vpc_needs_public_ip,
        )
        return no_path_error(path, region, images) if path is not None and path.works is False else None

    def _apply_launch_faults(self, family: str, containers: list[ContainerPlan]) -> None:
        main = next((c for c in containers if c.essential), containers[0])
        if fault := self.faults.take(family, ("exit_code", "hang", "oom")):
            if fault.kind == "exit_code":
                main.exit_code = fault.exit_code
                main.logs = main.logs[:1] + [f"job failed: exiting with code {fault.exit_code}"]
            elif fault.kind == "hang":
                main.hang = True
            else:
                main.exit_code, main.reason, main.duration = (
                    137,
                    "OutOfMemoryError: Container killed due to memory usage",
                    1.0,
                )
                main.logs = main.logs[:1] + ["Killed"]

    def add(self, task: EmulatedTask, client_token: str | None = None) -> None:
        with self._lock:
            self.tasks[task.arn] = task
            if client_token:
                task.client_token = client_token
                self._tokens.setdefault((task.cluster_arn, client_token), (task.created_at, []))[1].append(task.arn)

    def by_client_token(self, cluster_arn: str, token: str) -> list[EmulatedTask] | None:
        """Tasks a previous RunTask with this clientToken started within 24 h (RunTask API reference)."""
        with self._lock:
            hit = self._tokens.get((cluster_arn, token))
            if hit and self.clock.now() - hit[0] < timedelta(hours=24):
                return [self.tasks[a] for a in hit[1]]
        return None

    # ---- queries ----------------------------------------------------------------------------
    def find(self, cluster_arn: str, ref: str) -> EmulatedTask | None:
        with self._lock:
            for task in self.tasks.values():
                if task.cluster_arn == cluster_arn and (ref == task.arn or ref == task.task_id):
                    return task
        return None

    def in_cluster(self, cluster_arn: str) -> list[EmulatedTask]:
        with self._lock:
            return [t for t in self.tasks.values() if t.cluster_arn == cluster_arn]

    def stop(self, task: EmulatedTask, reason: str | None) -> None:
        with self._lock:
            now = self.clock.now()
            if (task.stop_requested_at is None or task.stop_requested_at > now) and task.status(now) != "STOPPED":
                task.stop_requested_at, task.stop_code = now, "UserInitiated"
                task.stop_reason = reason or "Task stopped by user"

    def interrupt(self, task: EmulatedTask, seconds: float) -> None:
        """Fargate Spot takes the task back `seconds` after it starts running.

        The warning is a SIGTERM to the task (AWS re:Post knowledge center,
        "fargate-spot-termination-notice"); as for any stop, a job that traps it exits at once (143).
        stopCode SpotInterruption is in the ECS API reference (TaskStopCode); AWS documents no
        stoppedReason text for it, so the sandbox's is its own.
        """
        with self._lock:
            task.stop_requested_at = (task.running_at or task.pending_at) + timedelta(seconds=seconds)
            task.stop_code, task.stop_reason = "SpotInterruption", "Fargate Spot capacity reclaimed (sfnecs sandbox)"

    # ---- progress ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Write the log lines and fire the stop hooks that are due at the clock's time."""
        with self._refreshing:
            now = self.clock.now()
            with self._lock:
                tasks = list(self.tasks.values())
            for task in tasks:
                for container, at, key, line in task.log_events(now):
                    self._write_log(task, container, at, line)
                    task.logged.add(key)
                if task.arn not in self._announced and task.status(now) == "STOPPED":
                    self._announced.add(task.arn)
                    for hook in self.on_stopped:
                        hook(task)

    def _write_log(self, task: EmulatedTask, c: ContainerPlan, at: datetime, line: str) -> None:
        cfg = c.log_config or {}
        group, prefix = cfg.get("awslogs-group"), cfg.get("awslogs-stream-prefix")
        if not group:
            return
        stream = f"{prefix}/{c.name}/{task.task_id}" if prefix else task.task_id
        backend = self._logs[task.account][cfg.get("awslogs-region", task.region)]
        if group not in backend.groups:
            if str(cfg.get("awslogs-create-group", "")).lower() != "true":
                return  # a missing group fails the launch earlier (ResourceInitializationError)
            backend.create_log_group(group, {})
        log_group = backend.groups[group]
        if stream not in log_group.streams:
            backend.create_log_stream(group, stream)
        if not may_put_log_events(cfg, c.name, task.execution_role, task.task_id, task.account):
            return  # logs:PutLogEvents denied: the driver cannot deliver the line
        # The group's own put, not the backend's: CloudWatch Logs refuses events more than 2 hours
        # after *its* now, which moto reads from the real clock, while here "now" is the virtual
        # clock that a fast or stepped clock puts hours ahead (only lines already due are written).
        log_group.put_log_events(stream, [{"timestamp": int(at.timestamp() * 1000), "message": line}])


def _awslogs(defn: dict[str, Any], region: str) -> dict[str, Any] | None:
    cfg = defn.get("logConfiguration") or {}
    if cfg.get("logDriver") != "awslogs":
        return None
    return {"awslogs-region": region, **(cfg.get("options") or {})}


def _log_group_error(containers: list[ContainerPlan], logs_backends: Any, account: str) -> str | None:
    """Fargate fails a task whose awslogs group is missing (unless awslogs-create-group is true)."""
    for c in containers:
        cfg = c.log_config or {}
        group = cfg.get("awslogs-group")
        if (
            group
            and str(cfg.get("awslogs-create-group", "")).lower() != "true"
            and group not in logs_backends[account][cfg["awslogs-region"]].groups
        ):
            return (
                "ResourceInitializationError: failed to validate logger args: create stream has been retried "
                "1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log "
                "group does not exist. : exit status 1"
            )
    return None


def _pull_error(image: str, found: ImageLookup, arch: str, os_family: str) -> str | None:
    """The CannotPullContainerError Fargate gives, or None when the pull works."""
    if not found.found:
        return (
            f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
            f"{image}: {image}: not found"
        )
    if found.is_index and found.supports(arch, os_family) is False:
        want = oci_platform(arch)  # Fargate names the Linux platform it asked the index for
        return (
            f"CannotPullContainerError: pull image manifest has been retried 5 time(s): image Manifest does "
            f"not contain descriptor matching platform '{want}'"
        )
    return None

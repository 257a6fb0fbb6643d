"""The one stack description (`StackSpec`) that iam, statemachine, stack and runs all read.

Why one frozen, validated dataclass: the IAM policy, the ASL and the deployed resources are all
derived from it, so they cannot drift apart (the aws-cdk `EcsRunTask` lesson), and every value is
checked once, at construction, before any AWS call.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from sfnecs.checks import check_bool, check_choice, check_int, check_name, check_timezone
from sfnecs.exceptions import ValidationError
from sfnecs.model.arns import DNS_SUFFIXES, partition_of
from sfnecs.model.budget import execution_budget
from sfnecs.model.fargate import (
    CPU_ARCHITECTURES,
    OS_FAMILIES,
    PLATFORM_VERSIONS,
    SPOT_MIN_PLATFORM,
    check_capacity_provider_strategy,
    check_fargate_size,
)
from sfnecs.model.job import check_job_settings
from sfnecs.schedule import parse_expression

Pattern = Literal["A", "B"]
QueryLanguage = Literal["JSONata", "JSONPath"]

_TAG_TEXT = re.compile(r"[\w\s.:/=+@-]*")
MAX_TAGS = 50
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TOPIC_ARN = re.compile(
    r"arn:(?P<partition>aws(?:-cn|-us-gov)?):sns:(?P<region>[a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}"
)


def _check_tags(tags: tuple[tuple[str, str], ...]) -> None:
    if len(tags) > MAX_TAGS - 1:
        raise ValidationError(
            "tags", dict(tags), f"at most {MAX_TAGS - 1} tags (ECS allows {MAX_TAGS}; the kit adds sfnecs:stack)"
        )
    for key, value in tags:
        if (
            not 1 <= len(key) <= 128
            or not _TAG_TEXT.fullmatch(key)
            or key.lower().startswith("aws:")
            or key == "sfnecs:stack"
        ):
            raise ValidationError(
                "tags",
                key,
                "tag keys of 1-128 letters, digits, spaces and _ . : / = + - @, not "
                "starting with aws: and not sfnecs:stack (the kit sets it)",
            )
        if len(value) > 256 or not _TAG_TEXT.fullmatch(value):
            raise ValidationError("tags", value, "tag values of 0-256 letters, digits, spaces and _ . : / = + - @")


@dataclass(frozen=True)
class StackSpec:
    """Everything one scheduled ECS job needs, for either pattern.

    Only `name` is required; every other name is derived from it (e.g. cluster `<name>`,
    family `<name>-job`, roles `<name>-sfn`, ...) unless given.
    """

    name: str
    pattern: Pattern = "B"
    region: str = "us-east-1"
    account: str = "123456789012"
    # ECS
    cluster: str = ""
    family: str = ""
    container_name: str = "job"
    image: str = ""  # empty: the stack's own ECR repository, tag latest
    repository: str = ""
    cpu_architecture: str = "X86_64"
    os_family: str = "LINUX"
    cpu: int = 256
    memory: int = 512
    command: tuple[str, ...] = ()
    environment: tuple[tuple[str, str], ...] = ()
    subnets: tuple[str, ...] = ("subnet-0a1b2c3d",)
    security_groups: tuple[str, ...] = ()
    assign_public_ip: bool = False
    task_role: str = ""
    execution_role: str = ""
    log_group: str = ""
    #: ((provider, weight, base), ...) for RunTask instead of launchType FARGATE, e.g. "FARGATE_SPOT"
    #: (see check_capacity_provider_strategy for the forms accepted); the stack associates the
    #: providers with its cluster
    capacity_provider_strategy: tuple[tuple[str, int, int], ...] = ()
    #: Fargate platform version of the task (LATEST, or 1.4.0 / 1.3.0 on Linux, 1.0.0 on Windows)
    platform_version: str = "LATEST"
    #: ((variable name, Secrets Manager secret ARN or SSM parameter ARN), ...): the container's `secrets`;
    #: the execution role gets exactly the read permission for each, the agent resolves them at start
    secrets: tuple[tuple[str, str], ...] = ()
    #: a customer-managed KMS key (key ARN) that encrypts those secrets: the execution role may kms:Decrypt it
    secrets_kms_key: str = ""
    #: managed policy ARNs attached to the task role (what the job itself may call)
    task_policy_arns: tuple[str, ...] = ()
    #: extra IAM statements for the task role, as a JSON list of statement objects
    task_policy_statements: str = ""
    #: CloudWatch Logs retention of the job's log group in days (0: never expire, AWS's own default)
    log_retention_days: int = 30
    # Step Functions
    state_machine: str = ""
    sfn_role: str = ""
    query_language: QueryLanguage = "JSONata"
    guard: bool = True
    notify_failure: bool = True
    notify_success: bool = False
    execution_logging: bool = True
    task_timeout_seconds: int = 3600
    machine_timeout_seconds: int = 7200
    launch_retry_attempts: int = 3
    retry_job_failures: int = 0
    topic: str = ""
    #: an e-mail address subscribed to the stack's alert topic (the recipient confirms it by e-mail)
    notify_email: str = ""
    #: an existing SNS topic (ARN, this region) for the alerts instead of the stack's own `topic`
    notify_topic_arn: str = ""
    # Scheduler
    schedule_name: str = ""
    scheduler_role: str = ""
    schedule_expression: str = "rate(1 hour)"
    timezone: str = "UTC"
    flexible_window_minutes: int = 0
    retry_attempts: int = 2
    max_event_age_seconds: int = 3600
    dlq: str = ""
    schedule_enabled: bool = True
    tags: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        n = check_name("name", self.name, "stack")
        defaults = {
            "cluster": n,
            "family": f"{n}-job",
            "repository": n,
            "task_role": f"{n}-task",
            "execution_role": f"{n}-task-exec",
            "log_group": f"/ecs/{n}",
            "state_machine": n,
            "sfn_role": f"{n}-sfn",
            "topic": f"{n}-alerts",
            "schedule_name": n,
            "scheduler_role": f"{n}-scheduler",
            "dlq": f"{n}-dlq",
        }
        for key, value in defaults.items():
            if getattr(self, key) == "":
                object.__setattr__(self, key, value)
        # tuples in, whatever sequence the caller had (lists from YAML/papermill)
        for key in ("command", "subnets", "security_groups", "task_policy_arns"):
            value = getattr(self, key)
            if isinstance(value, str) or not isinstance(value, (list, tuple)):
                raise ValidationError(key, value, "a list of strings")
            object.__setattr__(self, key, tuple(value))
        for key in ("environment", "tags", "secrets"):
            value = getattr(self, key)
            pairs = tuple(value.items()) if isinstance(value, dict) else tuple(tuple(p) for p in value)
            if not all(len(p) == 2 and all(isinstance(x, str) for x in p) for p in pairs):
                raise ValidationError(key, value, "a mapping of string names to string values")
            object.__setattr__(self, key, pairs)
        _check_tags(self.tags)
        object.__setattr__(
            self, "capacity_provider_strategy", check_capacity_provider_strategy(self.capacity_provider_strategy)
        )
        self._validate()

    def _validate(self) -> None:
        check_choice("pattern", self.pattern, ("A", "B"))
        check_name("region", self.region, "region")
        partition_of(self.region)
        check_name("account", self.account, "account")
        check_name("cluster", self.cluster, "ecs")
        check_name("family", self.family, "ecs")
        check_name("container_name", self.container_name, "ecs")
        check_name("repository", self.repository, "repository")
        check_choice("cpu_architecture", self.cpu_architecture, CPU_ARCHITECTURES)
        check_choice("os_family", self.os_family, OS_FAMILIES)
        check_fargate_size(self.cpu, self.memory, self.os_family)
        self._check_platform()
        if not all(isinstance(c, str) for c in self.command):
            raise ValidationError("command", self.command, "a list of strings")
        if not self.subnets:
            raise ValidationError("subnets", self.subnets, "at least one subnet id (awsvpc needs one)")
        if len(self.subnets) > 16:
            raise ValidationError("subnets", self.subnets, "at most 16 subnets (ECS awsvpcConfiguration)")
        for s in self.subnets:
            check_name("subnets", s, "subnet")
        if len(self.security_groups) > 5:
            raise ValidationError("security_groups", self.security_groups, "at most 5 security groups")
        for g in self.security_groups:
            check_name("security_groups", g, "security_group")
        for key in ("task_role", "execution_role", "sfn_role", "scheduler_role"):
            check_name(key, getattr(self, key), "iam_role")
        check_name("log_group", self.log_group, "log_group")
        check_name("state_machine", self.state_machine, "state_machine")
        check_choice("query_language", self.query_language, ("JSONata", "JSONPath"))
        check_int("task_timeout_seconds", self.task_timeout_seconds, 1, 31_536_000)
        check_int("machine_timeout_seconds", self.machine_timeout_seconds, 1, 31_536_000)
        check_int("launch_retry_attempts", self.launch_retry_attempts, 0, 10)
        check_int("retry_job_failures", self.retry_job_failures, 0, 10)
        if self.pattern == "B":
            budget = execution_budget(self)
            if self.machine_timeout_seconds < budget.total:
                raise ValidationError(
                    "machine_timeout_seconds",
                    self.machine_timeout_seconds,
                    f"at least {budget.total} s, the longest the job's attempts and retries can take "
                    f"({budget.arithmetic()}): a state machine's own timeout cannot be caught, "
                    "so a shorter one would end the execution before its failure is notified",
                )
        check_name("topic", self.topic, "topic")
        self._check_notify()
        check_name("schedule_name", self.schedule_name, "schedule")
        check_name("dlq", self.dlq, "queue")
        check_timezone("timezone", self.timezone)
        # EventBridge Scheduler API reference: FlexibleTimeWindow 1-1440 (0 here means Mode OFF),
        # RetryPolicy MaximumRetryAttempts 0-185, MaximumEventAgeInSeconds 60-86400.
        check_int("flexible_window_minutes", self.flexible_window_minutes, 0, 1440)
        check_int("retry_attempts", self.retry_attempts, 0, 185)
        check_int("max_event_age_seconds", self.max_event_age_seconds, 60, 86_400)
        for key in (
            "guard",
            "notify_failure",
            "notify_success",
            "execution_logging",
            "assign_public_ip",
            "schedule_enabled",
        ):
            check_bool(key, getattr(self, key))
        parse_expression(self.schedule_expression, parameter="schedule_expression")
        check_job_settings(self)

    def _check_notify(self) -> None:
        """notify_email is an address; notify_topic_arn an SNS topic of this region (alarm actions and
        EventBridge targets name a topic of their own region)."""
        if not isinstance(self.notify_email, str) or (self.notify_email and not _EMAIL.fullmatch(self.notify_email)):
            raise ValidationError("notify_email", self.notify_email, "an e-mail address such as ops@example.com, or ''")
        if self.notify_topic_arn == "":
            return
        m = _TOPIC_ARN.fullmatch(self.notify_topic_arn) if isinstance(self.notify_topic_arn, str) else None
        if not m or (m["partition"], m["region"]) != (self.partition, self.region):
            raise ValidationError(
                "notify_topic_arn",
                self.notify_topic_arn,
                f"an SNS topic ARN in {self.region}, e.g. "
                f"arn:{self.partition}:sns:{self.region}:{self.account}:alerts, or '' for the stack's own topic",
            )
        if self.notify_email:
            # a subscription cannot carry the stack's tag, and the topic is not the stack's: subscribe by hand
            raise ValidationError(
                "notify_email",
                self.notify_email,
                "'' with notify_topic_arn: subscribe the address to that topic yourself "
                f"(aws sns subscribe --topic-arn {self.notify_topic_arn} --protocol email --notification-endpoint ...)",
            )

    def _check_platform(self) -> None:
        """Windows, ARM64 and Spot rules of Fargate, each refused here rather than by RegisterTaskDefinition or
        RunTask."""
        windows = self.os_family != "LINUX"
        if windows and self.cpu_architecture != "X86_64":
            # "Amazon ECS task definition differences for Fargate": Windows tasks run on X86_64 only
            raise ValidationError(
                "cpu_architecture",
                self.cpu_architecture,
                f"X86_64 with os_family={self.os_family!r}: Windows on Fargate runs X86_64 only",
            )
        versions = PLATFORM_VERSIONS["WINDOWS" if windows else "LINUX"]
        check_choice("platform_version", self.platform_version, versions)
        if self.cpu_architecture == "ARM64" and self.platform_version not in ("LATEST", "1.4.0"):
            raise ValidationError(
                "platform_version",
                self.platform_version,
                "LATEST or 1.4.0 with cpu_architecture='ARM64': ARM64 on Fargate needs 1.4.0 or later",
            )
        if "FARGATE_SPOT" not in self.capacity_providers:
            return
        if windows:
            # ECS developer guide, "AWS Fargate capacity providers": Windows containers on Fargate
            # don't support Fargate Spot
            raise ValidationError(
                "capacity_provider_strategy",
                self.capacity_provider_strategy,
                f"FARGATE only with os_family={self.os_family!r}: Fargate Spot runs Linux tasks only",
            )
        needed = SPOT_MIN_PLATFORM[self.cpu_architecture]
        if self.platform_version != "LATEST" and self.platform_version < needed:
            raise ValidationError(
                "platform_version",
                self.platform_version,
                f"LATEST or {needed} or later with FARGATE_SPOT and "
                f"cpu_architecture={self.cpu_architecture!r} (ECS API reference, "
                "CapacityProviderStrategyItem)",
            )

    # ---- derived ARNs and names -------------------------------------------------------------
    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        """An ARN in this stack's partition, region and account."""
        return f"arn:{self.partition}:{service}:{self.region if regional else ''}:{self.account}:{resource}"

    @property
    def partition(self) -> str:
        """aws, aws-cn or aws-us-gov: every ARN of this stack names its region's partition."""
        return partition_of(self.region)

    def integration_arn(self, integration: str) -> str:
        """A Step Functions service integration in this stack's partition, e.g. `ecs:runTask.sync` ->
        `arn:aws-cn:states:::ecs:runTask.sync` (the form aws-cdk writes: `arn:${Partition}:states:::...`)."""
        return f"arn:{self.partition}:states:::{integration}"

    @property
    def capacity_providers(self) -> tuple[str, ...]:
        """The capacity providers the strategy names (empty: launchType FARGATE)."""
        return tuple(p for p, _, _ in self.capacity_provider_strategy)

    @property
    def cluster_arn(self) -> str:
        return self.arn("ecs", f"cluster/{self.cluster}")

    @property
    def task_definition_arn_pattern(self) -> str:
        """Every revision of the family: revisions change on each deploy."""
        return self.arn("ecs", f"task-definition/{self.family}:*")

    def role_arn(self, role: str) -> str:
        return self.arn("iam", f"role/{role}", regional=False)

    @property
    def state_machine_arn(self) -> str:
        return self.arn("states", f"stateMachine:{self.state_machine}")

    @property
    def topic_arn(self) -> str:
        """Where failures are sent: `notify_topic_arn` when given, else the stack's own topic."""
        return self.notify_topic_arn or self.arn("sns", self.topic)

    @property
    def dlq_arn(self) -> str:
        return self.arn("sqs", self.dlq)

    @property
    def log_group_arn(self) -> str:
        return self.arn("logs", f"log-group:{self.log_group}")

    @property
    def image_uri(self) -> str:
        suffix = DNS_SUFFIXES[self.partition]
        return self.image or f"{self.account}.dkr.ecr.{self.region}.{suffix}/{self.repository}:latest"

    @property
    def stack_tag(self) -> tuple[str, str]:
        """The ownership tag every created resource carries; teardown deletes only what has it."""
        return ("sfnecs:stack", self.name)

    @property
    def all_tags(self) -> dict[str, str]:
        return {**dict(self.tags), self.stack_tag[0]: self.stack_tag[1]}

    def replace(self, **changes: Any) -> StackSpec:
        """A copy with some fields changed (validated again)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return StackSpec(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- names derived from a spec that more than one layer writes -------------------------------------
#: inline policy name the stack writes on each of its roles
POLICY_NAME = "sfnecs"


def log_stream_prefix(spec: StackSpec) -> str:
    """awslogs stream prefix: streams are `<stack>/<container>/<task id>`."""
    return spec.name


def schedule_group(spec: StackSpec) -> str:
    """The stack's own schedule group (tagged; schedules themselves cannot carry tags)."""
    return spec.name


def sfn_log_group(spec: StackSpec) -> str:
    # The /aws/vendedlogs/ prefix keeps CloudWatch Logs resource policies small (Step Functions
    # developer guide, "Logging using CloudWatch Logs").
    return f"/aws/vendedlogs/states/{spec.state_machine}"

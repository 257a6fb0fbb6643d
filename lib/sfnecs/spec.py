"""The one stack description (`StackSpec`) that iam, statemachine, stack and runs all read.

Why one frozen, validated dataclass: the IAM policy, the ASL and the deployed resources are all
derived from it, so they cannot drift apart (the aws-cdk `EcsRunTask` lesson), and every value is
checked once, at construction, before any AWS call.
"""

from __future__ import annotations

import math
import re
import zoneinfo
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from sfnecs.exceptions import ValidationError

Pattern = Literal["A", "B"]
QueryLanguage = Literal["JSONata", "JSONPath"]

#: Fargate task-level CPU units -> allowed memory (MiB). AWS ECS developer guide,
#: "Task CPU and memory" (Linux; 8 and 16 vCPU need platform version 1.4.0 or later).
FARGATE_CPU_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

CPU_ARCHITECTURES = ("X86_64", "ARM64")
OS_FAMILIES = (
    "LINUX",
    "WINDOWS_SERVER_2019_FULL",
    "WINDOWS_SERVER_2019_CORE",
    "WINDOWS_SERVER_2022_FULL",
    "WINDOWS_SERVER_2022_CORE",
)

#: The Fargate capacity providers (ECS developer guide, "AWS Fargate capacity providers"): available
#: to every account, usable once associated with the cluster. The kit runs on Fargate only.
CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
#: CapacityProviderStrategyItem (ECS API reference): weight 0-1000, base 0-100000
CAPACITY_WEIGHT_MAX = 1000
CAPACITY_BASE_MAX = 100_000

#: An image URI in ECR, `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:<tag> | @<digest>]`
#: (ECR user guide, "Pushing an image"): the stack's IAM grant, its verify, diagnose and the sandbox
#: registry all read image URIs with this one pattern.
ECR_IMAGE_RE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repo>[a-z0-9._/-]+?)(?::(?P<tag>[\w.-]+)|@(?P<digest>sha256:[0-9a-f]{64}))?$"
)

# Name rules, each from the owning service's API reference.
_RULES: dict[str, tuple[str, str]] = {
    # ours: short enough that every derived name (<name>-task-exec, ...) fits IAM's 64 characters
    # ... and a valid ECR repository name (the default repository is named after the stack): no '-' at the end or twice
    "stack": (r"[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,31}",
              "2-32 characters: lowercase letters, digits and single '-' between them, starting with a letter"),
    "ecs": (r"[A-Za-z0-9_-]{1,255}", "1-255 characters: letters, digits, '_' and '-' (ECS)"),
    "iam_role": (r"[\w+=,.@-]{1,64}", "1-64 characters: letters, digits and +=,.@_- (IAM role name)"),
    "state_machine": (r"[A-Za-z0-9_-]{1,80}", "1-80 characters: letters, digits, '_' and '-' (Step Functions)"),
    "schedule": (r"[0-9a-zA-Z._-]{1,64}", "1-64 characters: letters, digits and ._- (EventBridge Scheduler)"),
    "topic": (r"[A-Za-z0-9_-]{1,256}", "1-256 characters: letters, digits, '_' and '-' (SNS)"),
    "queue": (r"[A-Za-z0-9_-]{1,80}", "1-80 characters: letters, digits, '_' and '-' (SQS)"),
    "log_group": (r"[.\-_/#A-Za-z0-9]{1,512}", "1-512 characters: letters, digits and ._-/# (CloudWatch Logs)"),
    "repository": (
        r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
        "2-256 lowercase characters: letters, digits, and . _ - / between them (ECR)",
    ),
    "region": (r"[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d", "an AWS region code such as us-east-1 or ap-northeast-1"),
    "account": (r"\d{12}", "a 12-digit AWS account id"),
    "subnet": (r"subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?", "a subnet id: subnet- followed by 8 or 17 hex digits"),
    "security_group": (r"sg-[0-9a-f]{8}(?:[0-9a-f]{9})?", "a security group id: sg- followed by 8 or 17 hex digits"),
}


#: A Step Functions execution ARN, as the APIs return it (state machine and execution names: 1-80
#: characters, no whitespace, no ':').
EXECUTION_ARN_RE = re.compile(
    r"arn:aws[a-z-]*:states:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):execution:"
    r"(?P<machine>[^\s:]{1,80}):(?P<name>[^\s:]{1,80})")
#: An ECS task ARN: the long format `task/<cluster>/<32 hex id>`, or the old `task/<UUID>`, which
#: names no cluster (ECS developer guide, "Amazon Resource Names (ARNs) and IDs").
TASK_ARN_RE = re.compile(
    r"arn:aws[a-z-]*:ecs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):task/(?:(?P<cluster>[A-Za-z0-9_-]{1,255})/)?"
    r"(?P<id>[0-9a-f]{32}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})")


def awslogs_stream(prefix: str | None, container: str, task: str) -> str:
    """The awslogs stream of a task's container: `<prefix>/<container>/<task id>`, the task id alone
    without a prefix (ECS developer guide, "Using the awslogs log driver"). `task`: an ARN or an id."""
    task_id = task.rsplit("/", 1)[-1]
    return f"{prefix}/{container}/{task_id}" if prefix else task_id


def check_name(parameter: str, value: object, rule: str) -> str:
    """Return `value` if it matches the named AWS naming rule, else raise ValidationError."""
    pattern, allowed = _RULES[rule]
    # ASCII: AWS names allow ASCII letters and digits only, where Python's \w and \d take any script's
    if not isinstance(value, str) or not re.fullmatch(pattern, value, re.ASCII):
        raise ValidationError(parameter, value, allowed)
    if rule == "repository" and not 2 <= len(value) <= 256:
        raise ValidationError(parameter, value, allowed)
    return value


def check_choice(parameter: str, value: object, allowed: tuple[Any, ...]) -> Any:
    """Return `value` if it is one of `allowed`, else raise ValidationError listing them."""
    if value not in allowed:
        raise ValidationError(parameter, value, "use " + " or ".join(map(str, allowed)))
    return value


def check_bool(parameter: str, value: object) -> bool:
    """Return `value` if it is True or False (not 0, 1 or "yes"), else raise ValidationError."""
    if not isinstance(value, bool):
        raise ValidationError(parameter, value, "True or False")
    return value


def check_int(parameter: str, value: object, low: int, high: int) -> int:
    """Return `value` if it is an int in [low, high] (bools rejected), else raise ValidationError."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(parameter, value, f"a whole number from {low} to {high}")
    return value


def check_positive(parameter: str, value: object, high: float, unit: str = "") -> Any:
    """Return `value` if it is a number greater than 0 and at most `high` (bools rejected), else raise
    ValidationError; `unit` (e.g. "seconds") names what it counts in the message."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= high:
        raise ValidationError(parameter, value, f"a number {'of ' + unit + ' ' if unit else ''}greater than 0 "
                              f"and at most {high:g}")
    return value


def check_number(parameter: str, value: object, low: float, *, strict: bool, what: str = "") -> float:
    """Return `value` as a float if it is a finite number above `low` (or at least `low` unless `strict`),
    else raise ValidationError; `what` is added to the message, e.g. " (minutes)"."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value) \
        and (value > low if strict else value >= low)
    if not ok:
        raise ValidationError(parameter, value, f"a finite number {'>' if strict else '>='} {low}{what}")
    return float(value)  # type: ignore[arg-type]


def check_timezone(parameter: str, value: object) -> str:
    """Return `value` if it is an IANA time zone name known to this machine."""
    try:
        if not isinstance(value, str) or not value:
            raise ValueError
        zoneinfo.ZoneInfo(value)
    except (ValueError, OSError, zoneinfo.ZoneInfoNotFoundError):  # OSError: e.g. a name too long for a file
        raise ValidationError(parameter, value, "an IANA time zone name such as UTC or Asia/Tokyo") from None
    return value


def check_fargate_size(cpu: object, memory: object) -> None:
    """Raise ValidationError unless (cpu, memory) is a valid Fargate task size."""
    # whole numbers only: 256.0 == 256 in Python, but the task definition would say cpu "256.0"
    if isinstance(cpu, bool) or not isinstance(cpu, int) or cpu not in FARGATE_CPU_MEMORY:
        raise ValidationError("cpu", cpu, "Fargate CPU units: " + ", ".join(map(str, FARGATE_CPU_MEMORY)))
    allowed = FARGATE_CPU_MEMORY[cpu]  # type: ignore[index]
    if isinstance(memory, bool) or not isinstance(memory, int) or memory not in allowed:
        raise ValidationError(
            "memory", memory, f"with cpu={cpu}, Fargate allows {allowed[0]}-{allowed[-1]} MiB in steps of "
            f"{allowed[1] - allowed[0]}: {', '.join(map(str, allowed))}"
        )


def check_capacity_provider_strategy(value: object) -> tuple[tuple[str, int, int], ...]:
    """Normalise a capacity provider strategy to ((provider, weight, base), ...), or raise ValidationError.

    Accepted: "FARGATE_SPOT" (that provider alone, weight 1); or a list whose items are a provider
    name (weight 1), a (provider, weight[, base]) pair or triple, or a mapping with capacityProvider
    (or capacity_provider), weight and base as RunTask takes it. An empty list keeps launchType FARGATE.
    """
    parameter = "capacity_provider_strategy"
    shape = ("a provider name, or a list of items: a name, (name, weight[, base]) or {'capacityProvider': name, "
             "'weight': w, 'base': b}")
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ValidationError(parameter, value, shape)
    out: list[tuple[str, int, int]] = []
    for item in items:
        if isinstance(item, str):
            provider, weight, base = item, 1, 0
        elif isinstance(item, dict):
            unknown = set(item) - {"capacityProvider", "capacity_provider", "weight", "base"}
            if unknown:
                raise ValidationError(parameter, value, f"{shape}; unknown key(s) {sorted(unknown)}")
            # an omitted weight or base is 0, the API's default
            provider = item.get("capacityProvider", item.get("capacity_provider"))
            weight, base = item.get("weight", 0), item.get("base", 0)
        elif isinstance(item, (list, tuple)) and len(item) in (2, 3):
            provider, weight, base = (*item, 0) if len(item) == 2 else item
        else:
            raise ValidationError(parameter, value, shape)
        check_choice(f"{parameter} capacityProvider", provider, CAPACITY_PROVIDERS)
        check_int(f"{parameter} weight of {provider}", weight, 0, CAPACITY_WEIGHT_MAX)
        check_int(f"{parameter} base of {provider}", base, 0, CAPACITY_BASE_MAX)
        out.append((provider, weight, base))
    names = [p for p, _, _ in out]
    if len(set(names)) != len(names):
        raise ValidationError(parameter, value, "each capacity provider at most once")
    # CapacityProviderStrategyItem (ECS API reference): only one provider may have a base; with every
    # weight 0 no task can be placed, so RunTask fails.
    if sum(b > 0 for _, _, b in out) > 1:
        raise ValidationError(parameter, value, "a base (a minimum task count) on one capacity provider only")
    if out and not any(w > 0 for _, w, _ in out):
        raise ValidationError(parameter, value, "at least one capacity provider with a weight above 0")
    return tuple(out)


#: Tagging AWS resources (AWS General Reference, "Tag naming limits and requirements"): key 1-128 and
#: value 0-256 characters of letters, digits, spaces and _ . : / = + - @; the aws: prefix is reserved;
#: ECS takes at most 50 tags per resource. sfnecs:stack is the kit's own ownership tag.
_TAG_TEXT = re.compile(r"[\w\s.:/=+@-]*")
MAX_TAGS = 50


def _check_tags(tags: tuple[tuple[str, str], ...]) -> None:
    if len(tags) > MAX_TAGS - 1:
        raise ValidationError("tags", dict(tags), f"at most {MAX_TAGS - 1} tags (ECS allows {MAX_TAGS}; the kit adds "
                              "sfnecs:stack)")
    for key, value in tags:
        if not 1 <= len(key) <= 128 or not _TAG_TEXT.fullmatch(key) or key.lower().startswith("aws:") \
                or key == "sfnecs:stack":
            raise ValidationError("tags", key, "tag keys of 1-128 letters, digits, spaces and _ . : / = + - @, not "
                                  "starting with aws: and not sfnecs:stack (the kit sets it)")
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
        for key in ("command", "subnets", "security_groups"):
            value = getattr(self, key)
            if isinstance(value, str) or not isinstance(value, (list, tuple)):
                raise ValidationError(key, value, "a list of strings")
            object.__setattr__(self, key, tuple(value))
        for key in ("environment", "tags"):
            value = getattr(self, key)
            pairs = tuple(value.items()) if isinstance(value, dict) else tuple(tuple(p) for p in value)
            if not all(len(p) == 2 and all(isinstance(x, str) for x in p) for p in pairs):
                raise ValidationError(key, value, "a mapping of string names to string values")
            object.__setattr__(self, key, pairs)
        _check_tags(self.tags)
        object.__setattr__(self, "capacity_provider_strategy",
                           check_capacity_provider_strategy(self.capacity_provider_strategy))
        self._validate()

    def _validate(self) -> None:
        check_choice("pattern", self.pattern, ("A", "B"))
        check_name("region", self.region, "region")
        check_name("account", self.account, "account")
        check_name("cluster", self.cluster, "ecs")
        check_name("family", self.family, "ecs")
        check_name("container_name", self.container_name, "ecs")
        check_name("repository", self.repository, "repository")
        check_choice("cpu_architecture", self.cpu_architecture, CPU_ARCHITECTURES)
        check_choice("os_family", self.os_family, OS_FAMILIES)
        check_fargate_size(self.cpu, self.memory)
        if self.os_family != "LINUX" and "FARGATE_SPOT" in self.capacity_providers:
            # ECS developer guide, "AWS Fargate capacity providers": Windows containers on Fargate
            # don't support Fargate Spot
            raise ValidationError("capacity_provider_strategy", self.capacity_provider_strategy,
                                  f"FARGATE only with os_family={self.os_family!r}: Fargate Spot runs Linux tasks only")
        if self.cpu_architecture == "ARM64" and "FARGATE_SPOT" in self.capacity_providers:
            # same page: "Linux tasks with the ARM64 architecture don't support the Fargate Spot capacity provider"
            raise ValidationError("capacity_provider_strategy", self.capacity_provider_strategy,
                                  "FARGATE only with cpu_architecture='ARM64': Fargate Spot runs X86_64 tasks only")
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
        check_name("topic", self.topic, "topic")
        check_name("schedule_name", self.schedule_name, "schedule")
        check_name("dlq", self.dlq, "queue")
        check_timezone("timezone", self.timezone)
        # EventBridge Scheduler API reference: FlexibleTimeWindow 1-1440 (0 here means Mode OFF),
        # RetryPolicy MaximumRetryAttempts 0-185, MaximumEventAgeInSeconds 60-86400.
        check_int("flexible_window_minutes", self.flexible_window_minutes, 0, 1440)
        check_int("retry_attempts", self.retry_attempts, 0, 185)
        check_int("max_event_age_seconds", self.max_event_age_seconds, 60, 86_400)
        for key in ("guard", "notify_failure", "notify_success", "execution_logging", "assign_public_ip",
                    "schedule_enabled"):
            check_bool(key, getattr(self, key))
        from sfnecs.schedule import parse_expression  # local: schedule imports this module's checks

        parse_expression(self.schedule_expression, parameter="schedule_expression")

    # ---- derived ARNs and names -------------------------------------------------------------
    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        """An ARN in this stack's partition, region and account."""
        return f"arn:aws:{service}:{self.region if regional else ''}:{self.account}:{resource}"

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
        return self.arn("sns", self.topic)

    @property
    def dlq_arn(self) -> str:
        return self.arn("sqs", self.dlq)

    @property
    def log_group_arn(self) -> str:
        return self.arn("logs", f"log-group:{self.log_group}")

    @property
    def image_uri(self) -> str:
        return self.image or f"{self.account}.dkr.ecr.{self.region}.amazonaws.com/{self.repository}:latest"

    @property
    def stack_tag(self) -> tuple[str, str]:
        """The ownership tag every created resource carries; teardown deletes only what has it."""
        return ("sfnecs:stack", self.name)

    @property
    def all_tags(self) -> dict[str, str]:
        return {**dict(self.tags), self.stack_tag[0]: self.stack_tag[1]}

    def replace(self, **changes: Any) -> "StackSpec":
        """A copy with some fields changed (validated again)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return StackSpec(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

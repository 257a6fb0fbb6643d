"""The fault matrix's rows: each fault, how it is injected, and what each variant is promised.

Why: the verdict of a cell is only as good as the promise it is held against; keeping every
promise, with the AWS documentation behind each limitation, in one table makes the claim reviewable.

Each cell is held against the design's promise for that pattern (`promise()`):
- handled: what the kit promises happened (recovered, or noticed + notified + diagnosed). Pattern A is
  deployed as AWS recommends: its task failures are noticed and notified by the EventBridge rule on
  ECS task state change events.
- limitation: the outcome AWS documents for that pattern happened, e.g. pattern A's RunTask `failures`
  that start no task (no task, so no event) or a duplicate task with the guard off.
  Not a success, and not a loss either: it is the documented behaviour the kit teaches.
- lost: anything else, including any resource, task or execution left after teardown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sfnecs.checks import check_int, check_positive
from sfnecs.exceptions import ValidationError
from sfnecs.images.sample import push_sample_image
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target
from sfnecs.runs.inbox import Inbox

__all__ = [
    "A_DUPLICATES",
    "FAULTS",
    "NO_GUARD",
    "NO_TIMEOUT",
    "SILENT_LAUNCH",
    "VARIANTS",
    "VERDICTS",
    "Cell",
    "FaultCase",
    "MatrixSettings",
    "MatrixSummary",
    "Promise",
    "promise",
]

#: the variants compared: pattern A, and pattern B with the overlap guard on and off
VARIANTS: dict[str, dict[str, Any]] = {
    "A": {"pattern": "A"},
    "B+guard": {"pattern": "B", "guard": True},
    "B-guard": {"pattern": "B", "guard": False},
}
VERDICTS = ("handled", "limitation", "lost")

# What stays a limitation once pattern A alerts as AWS recommends (an EventBridge rule on ECS task
# state change events, `sfnecs.model.alerting`), each with why and the AWS page behind it.
SILENT_LAUNCH = (
    "pattern A: RunTask answered with `failures` and started no task, so no task emits a state change "
    "event for the rule, and the Scheduler counted the call as delivered, so nothing reaches its "
    'dead-letter queue (ECS developer guide, "Amazon ECS task state change events"; EventBridge '
    'Scheduler user guide, "Configuring a dead-letter queue")'
)
NO_TIMEOUT = (
    "pattern A: a hung task never stops, so it emits no STOPPED event, and nothing in a schedule or in "
    'RunTask bounds how long a task runs (ECS API reference, "RunTask": no timeout parameter)'
)
A_DUPLICATES = (
    "pattern A: each delivery of one scheduled time launches a task, since the Scheduler's RunTask "
    "carries no clientToken; every task succeeds, so nothing alerts either (ECS API reference, "
    '"RunTask": clientToken)'
)
NO_GUARD = (
    "pattern B without the guard: each delivery starts an execution that runs its task; .sync waits for "
    'its own task and does not prevent overlap (Step Functions developer guide, "Run Amazon ECS or '
    'Fargate tasks with Step Functions")'
)


# ---- settings, promises, cells -------------------------------------------------------------------
@dataclass(frozen=True)
class MatrixSettings:
    """Knobs of one matrix run (validated): the stack's retries and the sizes of the injected faults."""

    launch_retry_attempts: int = 1  # pattern B's Retry on launch errors
    hang_timeout_seconds: int = 2  # pattern B's Task TimeoutSeconds in the hang cell (real seconds)
    throttle_burst: int = 3  # consecutive throttled RunTask calls (at most the schedule's 1 + 2 retries)
    delay_seconds: int = 300  # delivery delay (virtual seconds)
    wait_seconds: float = 60.0  # real-time deadline for one run to finish
    prefix: str = "fm"  # stack names are <prefix><nn>-<variant>

    def __post_init__(self) -> None:
        check_int("launch_retry_attempts", self.launch_retry_attempts, 0, 10)
        check_int("hang_timeout_seconds", self.hang_timeout_seconds, 1, 60)
        check_int("throttle_burst", self.throttle_burst, 1, 3)
        check_int("delay_seconds", self.delay_seconds, 0, 86_400)
        check_positive("wait_seconds", self.wait_seconds, 3600, "seconds")
        if (
            not isinstance(self.prefix, str)
            or not self.prefix.isalnum()
            or not self.prefix[:1].isalpha()
            or self.prefix != self.prefix.lower()
            or len(self.prefix) > 20
        ):
            raise ValidationError("prefix", self.prefix, "1-20 lowercase letters and digits, starting with a letter")


@dataclass(frozen=True)
class Promise:
    """What the design says one cell must show. None: not part of the promise (not checked)."""

    tasks: int | None
    retried: bool | None
    noticed: bool | None
    notified: bool | None
    diagnosis: str | None  # the diagnose.py category expected; "" = nothing exists to diagnose
    limitation: str = ""  # non-empty: the documented limitation this outcome is

    def text(self) -> str:
        parts = [f"{self.tasks} task(s)" if self.tasks is not None else ""]
        for name in ("retried", "noticed", "notified"):
            value = getattr(self, name)
            if value is not None:
                parts.append(name if value else f"not {name}")
        if self.diagnosis:
            parts.append(f"diagnosis {self.diagnosis}")
        return ", ".join(p for p in parts if p)


@dataclass
class Cell:
    """What one fault did to one variant, and the verdict against its promise."""

    fault: str
    variant: str
    label: str
    tasks: int = 0  # ECS tasks started for the firing (retries and duplicates included)
    retried: bool = False  # a failed launch (or apply) was tried again
    noticed: bool = False  # a record says it failed without anyone looking for it
    notified: bool = False  # a message reached the alert topic's subscriber
    diagnosis: str = ""  # diagnose.py's category ("" when there was nothing to diagnose)
    duplicate: bool = False  # more than one task ran for one scheduled time
    overlap: bool = False  # two tasks of the job ran at the same time
    left: tuple[str, ...] = ()  # what teardown left: resources, running tasks or executions
    verdict: str = ""
    expected: str = ""
    mismatch: str = ""
    detail: str = ""
    seconds: float = 0.0  # real seconds the cell took

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MatrixSummary:
    """Counts of a matrix: cells tried, handled, documented limitations, lost."""

    tried: int
    handled: int
    limitations: int
    lost: int

    def line(self) -> str:
        """The report's last line, e.g. `faults: 45 tried, 33 handled, 0 lost (12 documented limitations)`."""
        return (
            f"faults: {self.tried} tried, {self.handled} handled, {self.lost} lost "
            f"({self.limitations} documented limitations)"
        )


@dataclass
class _Context:
    """What an injection is handed: the cell's target, its fresh stack and the matrix's settings."""

    target: Target
    spec: StackSpec
    settings: MatrixSettings
    fire_at: datetime  # the schedule's one fire time (virtual clock)
    watch: Inbox | None = None  # pattern B: an SQS queue subscribed to the alert topic


@dataclass(frozen=True)
class FaultCase:
    """One row of the matrix: how the fault is injected and what each variant promises."""

    key: str
    label: str
    promise: Callable[[str, MatrixSettings], Promise]
    inject: Callable[[_Context], None] = lambda ctx: None
    spec_changes: Callable[[MatrixSettings], dict[str, Any]] = lambda s: {}
    copies: int = 1  # deliveries of the one scheduled time
    delayed: bool = False
    procedure: str = "schedule"  # schedule | apply | restart


# ---- promises ------------------------------------------------------------------------------------------
def _b(variant: str) -> bool:
    return variant != "A"


def _launch_failure(variant: str, s: MatrixSettings, *, refusals: int = 1, api_error: bool = False) -> Promise:
    """RunTask refused `refusals` times in a row (`failures`, or an API error such as throttling).

    A: an API error is a failed delivery, which the Scheduler's RetryPolicy tries again (the stack's
    default allows 2 retries, hence MatrixSettings.throttle_burst <= 3); `failures` are silent.
    B: launch errors are retried `launch_retry_attempts` times; when that is not enough the execution
    fails, is noticed and notified, and diagnose names the cause.
    """
    if not _b(variant):
        if api_error:
            return Promise(1, True, False, False, "success")
        return Promise(0, False, False, False, "", SILENT_LAUNCH)
    if s.launch_retry_attempts >= refusals:
        return Promise(1, True, True, False, "capacity")
    return Promise(0, s.launch_retry_attempts > 0, True, True, "capacity")


def _job_failure(category: str) -> Callable[[str, MatrixSettings], Promise]:
    """The job ran and failed. B: the execution fails, notifies, is diagnosed, is not rerun. A (alerting as
    AWS recommends): the task's STOPPED event matches the stack's rule, whose message is the notice and
    the notification; nothing reruns it either."""

    def promise_(variant: str, s: MatrixSettings) -> Promise:
        return Promise(1, False, True, True, category)

    return promise_


def _duplicates(copies: int) -> Callable[[str, MatrixSettings], Promise]:
    def promise_(variant: str, s: MatrixSettings) -> Promise:
        if copies > 1 and variant == "A":
            return Promise(copies, False, False, False, "success", A_DUPLICATES)
        if copies > 1 and variant == "B-guard":
            return Promise(copies, False, False, False, "success", NO_GUARD)
        return Promise(1, False, False, False, "success")

    return promise_


def _benign(variant: str, s: MatrixSettings) -> Promise:
    return Promise(1, False, False, False, "success")


def _operator_recovers(variant: str, s: MatrixSettings) -> Promise:
    """Apply interrupted / sandbox restarted: a clear error, then apply again, then the job runs once."""
    return Promise(1, True, True, False, None)


def promise(fault: str, variant: str, settings: MatrixSettings | None = None) -> Promise:
    """What the design promises for `fault` on `variant` (see the module docstring)."""
    _check_cell(fault, variant)
    return FAULTS[fault].promise(variant, settings or MatrixSettings())


def _check_cell(fault: object, variant: object) -> None:
    if fault not in FAULTS:
        raise ValidationError("fault", fault, "one of " + ", ".join(FAULTS))
    if variant not in VARIANTS:
        raise ValidationError("variant", variant, "one of " + ", ".join(VARIANTS))


# ---- injections --------------------------------------------------------------------------------------
def _sandbox_fault(**fault: Any) -> Callable[[_Context], None]:
    def inject(ctx: _Context) -> None:
        ctx.target.control("POST", "faults", {**fault, "family": ctx.spec.family})

    return inject


def _throttle(ctx: _Context) -> None:
    ctx.target.control(
        "POST", "faults", {"kind": "throttle", "count": ctx.settings.throttle_burst, "family": ctx.spec.family}
    )


def _wrong_architecture(ctx: _Context) -> None:
    # the image says arm64, the task definition runs X86_64: the kernel refuses the entrypoint
    push_sample_image(ctx.target, ctx.spec.repository, "arm64")


def _faults() -> dict[str, FaultCase]:
    cases = [
        FaultCase(
            "runtask_memory",
            "RunTask failures RESOURCE:MEMORY",
            _launch_failure,
            _sandbox_fault(kind="runtask_failure", reason="RESOURCE:MEMORY"),
        ),
        FaultCase(
            "runtask_cpu",
            "RunTask failures RESOURCE:CPU",
            _launch_failure,
            _sandbox_fault(kind="runtask_failure", reason="RESOURCE:CPU"),
        ),
        FaultCase(
            "throttle",
            "RunTask throttling burst",
            lambda v, s: _launch_failure(v, s, refusals=s.throttle_burst, api_error=True),
            _throttle,
        ),
        FaultCase(
            "pull_error",
            "image pull error (CannotPullContainerError)",
            _job_failure("pull_error"),
            _sandbox_fault(kind="pull_error"),
        ),
        FaultCase(
            "exec_format",
            "exec format error (arm64 image on X86_64)",
            _job_failure("architecture_mismatch"),
            _wrong_architecture,
        ),
        FaultCase(
            "exit_3",
            "application exit code 3",
            _job_failure("application_exit"),
            _sandbox_fault(kind="exit_code", exit_code=3),
        ),
        FaultCase(
            "exit_127",
            "application exit code 127 (command not found)",
            _job_failure("application_exit"),
            _sandbox_fault(kind="exit_code", exit_code=127),
        ),
        FaultCase("oom", "out of memory (exit 137)", _job_failure("out_of_memory"), _sandbox_fault(kind="oom")),
        FaultCase(
            "spot_interruption",
            "Fargate Spot task interrupted",
            _job_failure("stopped"),
            _sandbox_fault(kind="spot_interruption", seconds=2),
            lambda s: {"capacity_provider_strategy": "FARGATE_SPOT"},
        ),
        FaultCase(
            "hang",
            "hang past the timeout",
            lambda v, s: _hang(v),
            _sandbox_fault(kind="hang"),
            lambda s: {"task_timeout_seconds": s.hang_timeout_seconds},
        ),
        FaultCase("duplicates_1", "schedule delivery, 1 copy", _duplicates(1), copies=1),
        FaultCase("duplicates_2", "duplicate schedule delivery, 2 copies", _duplicates(2), copies=2),
        FaultCase("duplicates_10", "duplicate schedule delivery, 10 copies", _duplicates(10), copies=10),
        FaultCase("delay", "delivery delayed", _benign, delayed=True),
        FaultCase("apply_interrupted", "apply interrupted midway", _operator_recovers, procedure="apply"),
        FaultCase("sandbox_restart", "sandbox restarted between runs", _operator_recovers, procedure="restart"),
    ]
    return {c.key: c for c in cases}


def _hang(variant: str) -> Promise:
    if not _b(variant):
        return Promise(1, False, False, False, "not_stopped", NO_TIMEOUT)
    return Promise(1, False, True, True, "timeout")


#: every fault of the matrix, by key, in report order
FAULTS: dict[str, FaultCase] = _faults()

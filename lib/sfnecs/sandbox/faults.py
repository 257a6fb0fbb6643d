"""Fault injection for the sandbox: what the next N launches should suffer.

Why: a runbook or lesson must show what happens when AWS says no (RunTask `failures`, throttling)
or a job misbehaves (exit code, hang, pull error), on demand, from any process — so faults are
plain data, set over the sandbox's HTTP control API or `sfnecs sandbox fault ...`.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from sfnecs.checks import check_int, check_positive
from sfnecs.exceptions import ValidationError

# kind -> what it does; the registry is also the CLI's help text.
FAULT_KINDS: dict[str, str] = {
    "runtask_failure": "RunTask answers HTTP 200 with `failures` (reason e.g. RESOURCE:MEMORY) and no task",
    "throttle": "RunTask answers ThrottlingException (HTTP 400, 'Rate exceeded')",
    "exit_code": "the essential container exits with `exit_code` after its normal run time",
    "hang": "the task keeps RUNNING until StopTask",
    "pull_error": "the image pull fails: CannotPullContainerError with `message`, no container starts",
    "oom": "the container is killed for memory: exit 137, OutOfMemoryError",
    "spot_interruption": "a task on FARGATE_SPOT is reclaimed `seconds` after it starts running: SIGTERM, "
    "exit 143, stopCode SpotInterruption (tasks on FARGATE leave the fault pending)",
}
RUNTASK_FAILURE_REASONS = ("RESOURCE:MEMORY", "RESOURCE:CPU", "RESOURCE:ENI", "AGENT", "ATTRIBUTE", "MISSING")


@dataclass
class Fault:
    """One injected fault: applies to the next `count` launches (of `family`, when given)."""

    kind: str
    count: int = 1
    family: str | None = None
    reason: str = "RESOURCE:MEMORY"
    exit_code: int = 1
    message: str = ""
    seconds: float = 5.0
    id: int = 0
    used: int = field(default=0)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValidationError("kind", self.kind, "one of " + ", ".join(FAULT_KINDS))
        check_int("count", self.count, 1, 10_000)
        if self.kind == "runtask_failure" and self.reason not in RUNTASK_FAILURE_REASONS:
            raise ValidationError("reason", self.reason, "one of " + ", ".join(RUNTASK_FAILURE_REASONS))
        if self.kind == "exit_code" and (
            isinstance(self.exit_code, bool) or not isinstance(self.exit_code, int) or not 0 <= self.exit_code <= 255
        ):
            raise ValidationError("exit_code", self.exit_code, "a whole number from 0 to 255")
        check_positive("seconds", self.seconds, 86_400, "seconds")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultPlan:
    """Thread-safe queue of faults, consumed by launches in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1
        self.history: list[dict[str, Any]] = []

    def add(self, **spec: Any) -> Fault:
        fault = Fault(**{k: v for k, v in spec.items() if k not in ("id", "used")})
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._faults.append(fault)
        return fault

    def take(self, family: str, kinds: tuple[str, ...]) -> Fault | None:
        """Consume one use of the first pending fault of one of `kinds` that applies to `family`."""
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.family in (None, family):
                    fault.used += 1
                    if fault.used >= fault.count:
                        self._faults.remove(fault)
                    self.history.append({"id": fault.id, "kind": fault.kind, "family": family})
                    return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

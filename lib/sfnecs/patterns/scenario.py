"""What to simulate: a `Scenario` (schedule, job, faults, pattern-B switches, prices) and its `Variant`s.

Why: every simulation, live replay and table starts from one validated description, whose switch names
mirror `StackSpec` so a scenario can be built from the stack that will be deployed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from sfnecs.checks import check_bool, check_choice, check_int, check_number
from sfnecs.exceptions import ValidationError
from sfnecs.model.fargate import CPU_ARCHITECTURES, check_fargate_size
from sfnecs.model.prices import Prices
from sfnecs.model.spec import Pattern, StackSpec
from sfnecs.schedule import parse_expression

DURATION_KINDS = ("fixed", "exponential", "lognormal")
#: Every simulated variant: pattern A, and pattern B with or without the guard and name dedupe.
VARIANTS = ("A", "B", "B+dedupe", "B+guard", "B+guard+dedupe")
#: The variants `compare` shows by default.
COMPARED_VARIANTS = ("A", "B", "B+dedupe", "B+guard+dedupe")
_MAX_TICKS = 10 * 366 * 24 * 60  # ten years of one-minute ticks: keeps memory bounded


@dataclass(frozen=True)
class Variant:
    """One simulated configuration: pattern A, or pattern B with its guard / dedupe switches."""

    pattern: Pattern
    guard: bool = False
    dedupe: bool = False

    @property
    def label(self) -> str:
        if self.pattern == "A":
            return "A"
        return "B" + ("+guard" if self.guard else "") + ("+dedupe" if self.dedupe else "")

    @classmethod
    def parse(cls, label: object, parameter: str = "variant") -> Variant:
        """The variant named by one of VARIANTS."""
        check_choice(parameter, label, VARIANTS)
        assert isinstance(label, str)
        return cls("A") if label == "A" else cls("B", "guard" in label, "dedupe" in label)


def _check_rate(parameter: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValidationError(parameter, value, "a probability from 0 to 1")
    return float(value)


@dataclass(frozen=True)
class Scenario:
    """What to simulate: the schedule, the job, the faults, the pattern-B switches and the prices.

    `duration_minutes` is the mean job duration for every `duration_kind` (for lognormal,
    `duration_sigma` is the standard deviation of the log). Switch names mirror `StackSpec`.
    """

    horizon: str | pd.Timedelta = "1D"
    interval_minutes: int = 60
    start: str | pd.Timestamp = "2025-01-01T00:00:00Z"
    duration_kind: str = "fixed"
    duration_minutes: float = 5.0
    duration_sigma: float = 0.5
    launch_failure_rate: float = 0.0
    job_failure_rate: float = 0.0
    duplicate_delivery_rate: float = 0.0
    duplicates: tuple[int, ...] = ()
    duplicate_delay_seconds: float = 5.0
    guard: bool = True
    dedupe_by_execution_name: bool = True
    launch_retry_attempts: int = 3
    retry_job_failures: int = 0
    retry_interval_seconds: int = 1
    retry_backoff_rate: float = 2.0
    execution_overhead_seconds: float = 0.0
    notify_failure: bool = True
    notify_success: bool = False
    cpu: int = 256
    memory: int = 512
    cpu_architecture: str = "X86_64"
    seed: int = 0
    prices: Prices = field(default_factory=Prices)

    def __post_init__(self) -> None:
        try:  # numbers are refused: pd.Timedelta(365) would silently mean 365 nanoseconds
            horizon = pd.Timedelta(self.horizon) if isinstance(self.horizon, (str, timedelta)) else None
        except (ValueError, TypeError):
            horizon = None
        if horizon is None or horizon is pd.NaT or horizon <= pd.Timedelta(0):
            raise ValidationError("horizon", self.horizon, "a positive duration such as '365D', '10h' or a Timedelta")
        object.__setattr__(self, "horizon", horizon)
        check_int("interval_minutes", self.interval_minutes, 1, 366 * 24 * 60)
        try:
            start = pd.Timestamp(self.start)
        except (ValueError, TypeError):
            start = None
        if start is None or start is pd.NaT:
            raise ValidationError("start", self.start, "a timestamp such as '2025-01-01T00:00:00Z'")
        object.__setattr__(self, "start", start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC"))
        ticks = self.ticks
        if not 1 <= ticks <= _MAX_TICKS:
            raise ValidationError(
                "horizon",
                self.horizon,
                f"at least one interval ({self.interval_minutes} min) and at most {_MAX_TICKS} ticks",
            )
        check_choice("duration_kind", self.duration_kind, DURATION_KINDS)
        check_number("duration_minutes", self.duration_minutes, 0, strict=True, what=" (minutes)")
        check_number("duration_sigma", self.duration_sigma, 0, strict=False)
        for name in ("launch_failure_rate", "job_failure_rate", "duplicate_delivery_rate"):
            _check_rate(name, getattr(self, name))
        dups = self.duplicates
        if isinstance(dups, (str, bytes)) or not isinstance(dups, Iterable):
            raise ValidationError("duplicates", dups, f"a list of tick indices from 0 to {ticks - 1}")
        dups = tuple(dups)
        for d in dups:
            if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)) or not 0 <= d < ticks:
                raise ValidationError("duplicates", self.duplicates, f"a list of tick indices from 0 to {ticks - 1}")
        object.__setattr__(self, "duplicates", tuple(int(d) for d in dups))
        check_number(
            "duplicate_delay_seconds",
            self.duplicate_delay_seconds,
            0,
            strict=True,
            what=" (a duplicate arrives after the original)",
        )
        for name in ("guard", "dedupe_by_execution_name", "notify_failure", "notify_success"):
            check_bool(name, getattr(self, name))
        check_int("launch_retry_attempts", self.launch_retry_attempts, 0, 10)
        check_int("retry_job_failures", self.retry_job_failures, 0, 10)
        # ASL Retrier: IntervalSeconds is a positive integer, BackoffRate >= 1.0.
        check_int("retry_interval_seconds", self.retry_interval_seconds, 1, 99_999_999)
        check_number("retry_backoff_rate", self.retry_backoff_rate, 1.0, strict=False)
        check_number("execution_overhead_seconds", self.execution_overhead_seconds, 0, strict=False)
        check_fargate_size(self.cpu, self.memory)
        check_choice("cpu_architecture", self.cpu_architecture, CPU_ARCHITECTURES)
        check_int("seed", self.seed, 0, 2**63 - 1)
        if not isinstance(self.prices, Prices):
            raise ValidationError("prices", self.prices, "a sfnecs.model.prices.Prices")
        self.prices.fargate_rates(self.cpu_architecture)  # fails now if no price is known for it

    @property
    def ticks(self) -> int:
        """How many scheduled times fall in [start, start + horizon)."""
        horizon = pd.Timedelta(self.horizon)
        return int(-(-horizon.value // (self.interval_minutes * 60 * 10**9)))

    @property
    def deterministic(self) -> bool:
        """True when every count is fixed: fixed durations and rates of exactly 0 or 1."""
        rates = (self.launch_failure_rate, self.job_failure_rate, self.duplicate_delivery_rate)
        return self.duration_kind == "fixed" and all(r in (0.0, 1.0) for r in rates)

    @property
    def variant(self) -> str:
        """The pattern-B variant this scenario's switches select."""
        return Variant("B", self.guard, self.dedupe_by_execution_name).label

    def tick_index(self) -> pd.DatetimeIndex:
        """The scheduled times (UTC), as `pd.date_range` builds them."""
        return pd.date_range(self.start, periods=self.ticks, freq=f"{self.interval_minutes}min")

    @classmethod
    def from_spec(cls, spec: StackSpec, **changes: Any) -> Scenario:
        """A scenario with a stack's switches, task size, region prices and rate() interval.

        Why: the simulation should model the stack that will be deployed, not a look-alike.
        """
        names = (
            "guard",
            "launch_retry_attempts",
            "retry_job_failures",
            "notify_failure",
            "notify_success",
            "cpu",
            "memory",
            "cpu_architecture",
        )
        values: dict[str, Any] = {name: getattr(spec, name) for name in names}
        interval = parse_expression(spec.schedule_expression, parameter="schedule_expression").interval
        if interval is not None:
            values["interval_minutes"] = int(interval.total_seconds() // 60)
        elif "interval_minutes" not in changes:
            raise ValidationError(
                "schedule_expression",
                spec.schedule_expression,
                "a rate() expression, or pass interval_minutes=...: the simulation fires at a fixed interval",
            )
        if "prices" not in changes:
            values["prices"] = Prices.for_region(spec.region)
        return cls(**{**values, **changes})

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some fields changed (validated again)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Scenario(**values)

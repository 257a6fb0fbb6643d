"""Pattern A (Scheduler -> ECS RunTask) versus pattern B (Scheduler -> Step Functions -> runTask.sync).

Why: the choice is usually argued from opinion ("`.sync` prevents overlaps"). This module argues it
from evidence: a feature table whose every cell cites AWS_FACTS.md or a simulation result key, the
corrected misconceptions, and a seeded discrete-event simulation of both patterns with counts and a
cost model (`sfnecs.model.prices`).

Simulation semantics (times in seconds from `Scenario.start`; everything instantaneous unless said):

* Ticks fire every `interval_minutes` over `horizon` (a `rate()` schedule, flexible window OFF). Each
  tick is *delivered* once, plus at-least-once duplicates (AWS_FACTS "Schedules"): with probability
  `duplicate_delivery_rate`, and once more per occurrence of the tick in `duplicates`. The k-th
  duplicate arrives `k * duplicate_delay_seconds` after the tick.
* Pattern A: every delivery calls RunTask once. A launch failure (RunTask `failures`) is silent: the
  invocation counts as delivered, so Scheduler neither retries nor reports it (AWS_FACTS
  "Schedules"). A launched task runs for its drawn duration; a job failure is visible only in the
  task's logs, so it is counted as silent too. Runs overlap whenever a task outlasts the interval;
  duplicates launch twice. No state transitions.
* Pattern B: every delivery calls StartExecution. With `dedupe_by_execution_name` the name is derived
  from the scheduled time, so a duplicate arriving while that execution runs is absorbed (same name
  and input: idempotent) and one arriving after it closed gets `ExecutionAlreadyExists` (AWS_FACTS
  "Duplicates and overlaps"): no second launch either way. Without it every delivery is a new
  execution. With `guard`, an execution first lists RUNNING executions and skips when another one is
  running at its start instant; without it, it launches even while the previous tick's task runs.
  RunTask launch failures are retried `launch_retry_attempts` times (waits `retry_interval_seconds *
  retry_backoff_rate**n`); when exhausted, or when the job exits non-zero (retried
  `retry_job_failures` times, 0 by default), the execution fails: noticed (status FAILED) and, with
  `notify_failure`, notified. An execution stays RUNNING while its task runs, plus
  `execution_overhead_seconds` after it stops.
* A failed job runs for its full drawn duration (the draw is "time until the container exits").
  Task provisioning latency is not modelled: a task runs from its RunTask instant.
* Overlap: `overlapping_launches` counts tasks started while another task of the job still ran;
  `overlap_minutes` is the integral of (running tasks - 1)+, i.e. the extra task-minutes spent
  running concurrently; `max_concurrent` is the peak count. A task that ends exactly when another
  starts does not overlap it.
* Costs: Fargate bills each task's duration with a one-minute minimum; Step Functions bills the
  transitions of executions started in each UTC calendar month beyond that month's free tier
  (assumed unused by anything else); Scheduler bills every delivery (an upper bound: AWS does not
  say whether at-least-once duplicates are billed). Prices come from `Scenario.prices`.
* Idealised on purpose, and said so: the guard sees every execution started before it, but
  ListExecutions "is eventually consistent ... may not reflect very recent updates" (Step Functions
  API reference), so near-simultaneous starts can slip past a real guard (time-derived names do
  not depend on it). What Scheduler does after `ExecutionAlreadyExists` (retry, dead-letter queue)
  is not simulated; either way nothing launches.
* Random draws are common to all variants (from independent streams spawned from `seed`), so
  variant differences come from the mechanism, not from luck. Two methods draw the same law:
  "per_tick" (the reference) draws every delivery and job attempt one by one; "sparse" (the
  default) draws only what is out of the ordinary: which attempts fail to launch, fail their job or
  run longer than `short` = min(interval - overhead, Fargate minimum), as positions (Bernoulli
  trials drawn as the gaps between successes), the long durations given that they are long, and
  the duplicates. A scheduled delivery
  that is none of these ends before the next tick and is billed the minimum; unless an unusual
  delivery arrives or still runs while it runs, it meets nobody, so it is counted by number (per
  month: its counts are the same for each). Only the unusual deliveries and the ones they can meet
  are simulated one by one (`_draw`). Deterministic scenarios give identical numbers either way.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass, field, fields
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np
import pandas as pd

from sfnecs import statemachine as sm
from sfnecs.exceptions import ValidationError
from sfnecs.model.prices import Prices
from sfnecs.schedule import parse_expression
from sfnecs.model.fargate import CPU_ARCHITECTURES, check_fargate_size
from sfnecs.model.spec import StackSpec
from sfnecs.checks import check_bool, check_choice, check_int, check_number

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Section headings of AWS_FACTS.md that evidence cells cite (written "AWS_FACTS §<heading>").
FACT_SECTIONS = (
    "IAM for `ecs:runTask.sync`",
    "How `.sync` decides",
    "Schedules (EventBridge Scheduler)",
    "Duplicates and overlaps",
    "Architecture mismatch on Fargate",
    "Prices",
    "Corrections a learner needs",
)
DURATION_KINDS = ("fixed", "exponential", "lognormal")
#: Every simulated variant: pattern A, and pattern B with or without the guard and name dedupe.
VARIANTS = ("A", "B", "B+dedupe", "B+guard", "B+guard+dedupe")
#: The variants `compare` shows by default.
COMPARED_VARIANTS = ("A", "B", "B+dedupe", "B+guard+dedupe")
#: What happened to each delivery.
DISPOSITIONS = ("succeeded", "job_failed", "launch_failed", "skipped_by_guard", "deduplicated_running",
                "already_exists")
_OK, _JOB_FAILED, _LAUNCH_FAILED, _SKIPPED, _DEDUP_RUNNING, _ALREADY_EXISTS = range(6)
_MAX_TICKS = 10 * 366 * 24 * 60  # ten years of one-minute ticks: keeps memory bounded


def _fact(section: str, quote: str) -> str:
    assert section in FACT_SECTIONS, section
    return f"AWS_FACTS §{section}: {quote}"


# ---- scenario ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    """One simulated configuration: pattern A, or pattern B with its guard / dedupe switches."""

    pattern: str
    guard: bool = False
    dedupe: bool = False

    @property
    def label(self) -> str:
        if self.pattern == "A":
            return "A"
        return "B" + ("+guard" if self.guard else "") + ("+dedupe" if self.dedupe else "")

    @classmethod
    def parse(cls, label: object, parameter: str = "variant") -> "Variant":
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
            raise ValidationError("horizon", self.horizon, f"at least one interval ({self.interval_minutes} min) "
                                  f"and at most {_MAX_TICKS} ticks")
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
        check_number("duplicate_delay_seconds", self.duplicate_delay_seconds, 0, strict=True,
                      what=" (a duplicate arrives after the original)")
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
    def from_spec(cls, spec: StackSpec, **changes: Any) -> "Scenario":
        """A scenario with a stack's switches, task size, region prices and rate() interval.

        Why: the simulation should model the stack that will be deployed, not a look-alike.
        """
        names = ("guard", "launch_retry_attempts", "retry_job_failures", "notify_failure", "notify_success",
                 "cpu", "memory", "cpu_architecture")
        values: dict[str, Any] = {name: getattr(spec, name) for name in names}
        interval = parse_expression(spec.schedule_expression, parameter="schedule_expression").interval
        if interval is not None:
            values["interval_minutes"] = int(interval.total_seconds() // 60)
        elif "interval_minutes" not in changes:
            raise ValidationError("schedule_expression", spec.schedule_expression, "a rate() expression, or pass "
                                  "interval_minutes=...: the simulation fires at a fixed interval")
        if "prices" not in changes:
            values["prices"] = Prices.for_region(spec.region)
        return cls(**{**values, **changes})

    def replace(self, **changes: Any) -> "Scenario":
        """A copy with some fields changed (validated again)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Scenario(**values)


# ---- the state machine's shape -> state transitions -------------------------------------------------

def execution_states(scenario: Scenario, guard: bool) -> dict[str, tuple[str, ...]]:
    """The states an execution enters on each path (skipped / succeeded / failed).

    Why: Step Functions bills "a state transition each time a step of your workflow is executed ...
    including retries" (aws.amazon.com/step-functions/pricing). The names are the kit's state
    machine's (`sfnecs.statemachine`, JSONata, the default language): guard = `CheckRunning`
    (aws-sdk ListExecutions) + `AlreadyRunning?` (Choice) -> `SkippedOverlap`; `RunJob`
    (ecs:runTask.sync, Retry on launch errors, Catch -> `NotifyFailure` (sns:publish) -> `Failed`).
    (JSONPath needs more states for the same paths: `AnyRunning?`, `FindOldest`, the overrides
    Choice and Pass states, and Pass states that parse the cause.) AWS does not say whether terminal
    Succeed/Fail states are billed; we count them (upper bound). Each Retry adds one transition on
    top of these states.
    """
    guard_states = (sm.CHECK_RUNNING, sm.ALREADY_RUNNING) if guard else ()
    return {
        "skipped": guard_states + (sm.SKIPPED,) if guard else (),
        "succeeded": guard_states + (sm.RUN_JOB,) + ((sm.NOTIFY_SUCCESS,) if scenario.notify_success else ()),
        "failed": guard_states + (sm.RUN_JOB,) + ((sm.NOTIFY_FAILURE, sm.FAILED) if scenario.notify_failure else ()),
    }


def transitions_table(scenario: Scenario) -> pd.DataFrame:
    """Per pattern-B variant and path: the states entered and the transitions before retries."""
    rows = []
    for guard in (False, True):
        for path, states in execution_states(scenario, guard).items():
            if states:
                rows.append({"guard": guard, "path": path, "states": " -> ".join(states),
                             "transitions": len(states), "plus": "one per Retry (launch or job)"})
    return pd.DataFrame(rows)


# ---- random draws, common to every variant ----------------------------------------------------------

#: How `simulate` draws: "sparse" touches only the deliveries that can meet another (the default,
#: fast); "per_tick" draws every delivery and attempt one by one (the plain reference, slow).
METHODS = ("sparse", "per_tick")


@dataclass(frozen=True)
class _Draws:
    """Deliveries in arrival order and one draw per delivery and job attempt, shared by every variant."""

    tick: np.ndarray  # (D,) tick of each delivery
    copy: np.ndarray  # (D,) 0 = the scheduled delivery, k = the k-th duplicate
    at: np.ndarray  # (D,) arrival, seconds from start, non-decreasing
    dup_ticks: np.ndarray | None  # sorted ticks delivered more than once; None: no duplicates
    dup_origin: np.ndarray | None  # index of each of those ticks' scheduled delivery
    launch_failures: np.ndarray  # (D, J) failed RunTask attempts before the first success, capped
    durations: np.ndarray  # (D, J) seconds
    job_fails: np.ndarray  # (D, J) bool

    def origin_of(self, ticks: np.ndarray) -> np.ndarray:
        """Index of the scheduled delivery of each tick in `ticks` (ticks that have duplicates)."""
        assert self.dup_ticks is not None and self.dup_origin is not None
        return self.dup_origin[np.searchsorted(self.dup_ticks, ticks)]


def _normal_tail(rng: np.random.Generator, a: float, k: int) -> np.ndarray:
    """`k` independent standard normals conditioned on exceeding `a`, by rejection (exact).

    From `a <= 0`, plain normals (accepted at least half the time); above, Robert's exponential
    proposals (C. P. Robert, "Simulation of truncated normal variables", 1995), accepted at least
    three times in four however far out `a` is.
    """
    parts, have = [], 0
    while have < k:
        need = k - have
        if a <= 0.0:
            z = rng.standard_normal(int(need / (0.5 * math.erfc(a / math.sqrt(2.0))) * 1.05) + 16)
            z = z[z > a]
        else:
            lam = (a + math.sqrt(a * a + 4.0)) / 2.0
            z = rng.standard_exponential(int(need / 0.75) + 16)
            z /= lam
            z += a
            z = z[rng.random(z.size) <= np.exp(-0.5 * (z - lam) ** 2)]
        parts.append(z)
        have += z.size
    return (np.concatenate(parts) if len(parts) > 1 else parts[0])[:k] if parts else np.zeros(0)


@dataclass(frozen=True)
class _Law:
    """The job duration law (seconds): whole, or on either side of a threshold.

    Why: the sparse draw needs a duration only where it can matter, so it draws which attempts run
    longer than the threshold, then their durations given that, and the others' only on demand.
    """

    kind: str  # "fixed", "exponential" or "lognormal" (a lognormal with sigma 0 is fixed)
    mean: float
    sigma: float = 0.0

    @classmethod
    def of(cls, s: Scenario) -> "_Law":
        mean = s.duration_minutes * 60.0
        if s.duration_kind == "lognormal" and s.duration_sigma == 0:
            return cls("fixed", math.exp(math.log(mean)))  # what exp(mu + 0 * z) gives
        return cls(s.duration_kind, mean, s.duration_sigma)

    @property
    def _mu(self) -> float:  # lognormal with the given mean: mu = ln(mean) - sigma^2 / 2
        return math.log(self.mean) - self.sigma * self.sigma / 2

    def _z(self, threshold: float) -> float:
        return (math.log(threshold) - self._mu) / self.sigma

    def draw(self, rng: np.random.Generator, shape: int | tuple[int, ...]) -> np.ndarray:
        """Durations, unconditioned."""
        if self.kind == "fixed":
            return np.full(shape, self.mean)
        if self.kind == "exponential":
            out = rng.standard_exponential(shape)
            out *= self.mean
            return out
        out = rng.standard_normal(shape)
        out *= self.sigma
        out += self._mu
        return np.exp(out, out=out)

    def above(self, threshold: float) -> float:
        """The probability that a duration exceeds `threshold`."""
        if self.kind == "fixed":
            return 1.0 if self.mean > threshold else 0.0
        if threshold <= 0:
            return 1.0
        if self.kind == "exponential":
            return math.exp(-threshold / self.mean)
        return 0.5 * math.erfc(self._z(threshold) / math.sqrt(2.0))

    def longer(self, rng: np.random.Generator, threshold: float, k: int) -> np.ndarray:
        """`k` durations given that each exceeds `threshold`."""
        if self.kind == "fixed" or threshold <= 0:
            return self.draw(rng, k)
        if self.kind == "exponential":  # memoryless
            out = self.draw(rng, k)
            out += threshold
            return out
        return np.exp(self._mu + self.sigma * _normal_tail(rng, self._z(threshold), k))

    def shorter(self, rng: np.random.Generator, threshold: float, k: int) -> np.ndarray:
        """`k` durations given that none exceeds `threshold`."""
        if self.kind == "fixed":
            return self.draw(rng, k)
        if k == 0:
            return np.zeros(0)
        if self.kind == "exponential":  # inverse of the CDF restricted to [0, threshold]
            return -self.mean * np.log1p(-rng.random(k) * -math.expm1(-threshold / self.mean))
        return np.exp(self._mu - self.sigma * _normal_tail(rng, -self._z(threshold), k))


def _positions(rng: np.random.Generator, p: float, size: int) -> np.ndarray:
    """Sorted indices of the successes among `size` independent trials of probability `p`.

    Sparse for small `p`: trial k succeeds when a Poisson process of rate -ln(1 - p) puts a point
    in [k, k + 1), which happens with probability p, independently per trial; so the cost is about
    one exponential draw per success, not one draw per trial.
    """
    if p == 0.0 or size == 0:  # no draw: deterministic scenarios stay exact
        return np.zeros(0, np.int64)
    if p == 1.0:
        return np.arange(size)
    if p > 0.25:
        return np.flatnonzero(rng.random(size) < p)
    rate = -math.log1p(-p)
    parts, last = [], 0.0
    while last < size:
        expected = (size - last) * rate
        gaps = rng.standard_exponential(int(expected + 4 * math.sqrt(expected) + 16))
        gaps /= rate
        gaps[0] += last
        points = np.cumsum(gaps)
        parts.append(points)
        last = float(points[-1])
    points = np.concatenate(parts) if len(parts) > 1 else parts[0]
    cells = points[:np.searchsorted(points, size)].astype(np.int64)
    if cells.size < 2:
        return cells
    keep = np.empty(cells.size, bool)
    keep[0] = True
    np.not_equal(cells[1:], cells[:-1], out=keep[1:])
    return cells[keep]


def _launch_failures(rng: np.random.Generator, s: Scenario, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(attempts whose first RunTask fails, failed RunTasks before the first success, capped)."""
    cap, p = s.launch_retry_attempts + 1, s.launch_failure_rate
    at = _positions(rng, p, size)
    if p == 1.0:
        return at, np.full(size, cap, np.int64)
    return at, np.minimum(rng.geometric(1.0 - p, at.size), cap)


@dataclass(frozen=True)
class _Duplicates:
    """The ticks delivered more than once, how many extra times, and the duplicates' own draws."""

    ticks: np.ndarray  # sorted
    count: np.ndarray  # extra deliveries of each tick
    launch_failures: np.ndarray  # (K, J) in tick order, copies ascending
    durations: np.ndarray
    job_fails: np.ndarray


def _duplicates(s: Scenario, law: _Law, rngs: _Streams) -> _Duplicates | None:
    """The duplicated ticks (drawn and explicit) and every duplicate's own draws (few: drawn whole)."""
    drawn = _positions(rngs["dup"], s.duplicate_delivery_rate, s.ticks)
    if not s.duplicates and not drawn.size:
        return None
    if s.duplicates:
        ticks, count = np.unique(np.concatenate([drawn, np.asarray(s.duplicates, np.int64)]), return_counts=True)
    else:
        ticks, count = drawn, np.ones(drawn.size, np.int64)
    jobs = s.retry_job_failures + 1
    size = int(count.sum()) * jobs
    launch = np.zeros(size, np.int64)
    at, failures = _launch_failures(rngs["launch"], s, size)
    launch[at] = failures
    fails = np.zeros(size, bool)
    fails[_positions(rngs["job"], s.job_failure_rate, size)] = True
    shape = (size // jobs, jobs)
    return _Duplicates(ticks, count, launch.reshape(shape), law.draw(rngs["duration"], shape), fails.reshape(shape))


def _arrivals(s: Scenario, ticks: np.ndarray, dup_ticks: np.ndarray | None, dup_count: np.ndarray | None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """The deliveries of `ticks` (sorted; every tick in `dup_ticks` among them) in arrival order.

    Returns tick, copy and arrival of each, the index of each duplicated tick's scheduled delivery,
    and where each tick's scheduled delivery and each duplicate (tick order, copies ascending) went.
    """
    interval = s.interval_minutes * 60.0
    if dup_ticks is None or dup_count is None:
        rows = np.arange(ticks.size)
        return ticks, np.zeros(ticks.size, np.int64), ticks * interval, None, rows, rows[:0]
    where = np.searchsorted(ticks, dup_ticks)
    counts = np.ones(ticks.size, np.int64)
    counts[where] += dup_count
    scheduled = np.cumsum(counts) - counts
    tick = np.repeat(ticks, counts)
    copy = np.arange(tick.size) - np.repeat(scheduled, counts)
    at = tick * interval + copy * s.duplicate_delay_seconds
    duplicate = np.flatnonzero(copy)
    if np.any(at[1:] < at[:-1]):  # duplicates late enough to pass the next tick
        order = np.argsort(at, kind="stable")
        tick, copy, at = tick[order], copy[order], at[order]
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        scheduled, duplicate = rank[scheduled], rank[duplicate]
    return tick, copy, at, scheduled[where], scheduled, duplicate


def _put(dest: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """dest[rows] = values, for (N, J) arrays (flat when J == 1: numpy's row indexing is slower)."""
    if dest.ndim == 2 and dest.shape[1] == 1:
        dest.reshape(-1)[rows] = values.reshape(-1)
    else:
        dest[rows] = values


def _assemble(s: Scenario, ticks: np.ndarray, launch: np.ndarray, durations: np.ndarray, fails: np.ndarray,
              dups: _Duplicates | None) -> _Draws:
    """`_Draws` of the deliveries of `ticks` (sorted; every tick with duplicates among them).

    `launch`, `durations`, `fails` are the draws of the ticks' scheduled deliveries, (R, J) each.
    """
    if dups is None:
        return _Draws(ticks, np.zeros(ticks.size, np.int64), ticks * (s.interval_minutes * 60.0), None, None,
                      launch, durations, fails)
    tick, copy, at, dup_origin, scheduled, duplicate = _arrivals(s, ticks, dups.ticks, dups.count)
    arrays = []
    for own, extra in ((launch, dups.launch_failures), (durations, dups.durations), (fails, dups.job_fails)):
        both = np.empty((tick.size,) + own.shape[1:], own.dtype)
        _put(both, scheduled, own)
        _put(both, duplicate, extra)
        arrays.append(both)
    return _Draws(tick, copy, at, dups.ticks, dup_origin, *arrays)


class _Streams(dict[str, np.random.Generator]):
    """Independent generators spawned from the seed, one per kind of draw, each made when first used."""

    NAMES = ("dup", "duration", "launch", "job", "shorter", "fill")

    def __init__(self, seed: int) -> None:
        super().__init__()
        self._seeds = dict(zip(self.NAMES, np.random.SeedSequence(seed).spawn(len(self.NAMES))))

    def __missing__(self, name: str) -> np.random.Generator:
        self[name] = rng = np.random.default_rng(self._seeds[name])
        return rng


def _streams(s: Scenario) -> _Streams:
    return _Streams(s.seed)


def _draw_per_tick(s: Scenario) -> _Draws:
    """Every delivery and job attempt drawn one by one (a uniform per trial): the reference method."""
    rngs, law, n, jobs = _streams(s), _Law.of(s), s.ticks, s.retry_job_failures + 1
    extra = np.zeros(n, np.int64)
    if s.duplicate_delivery_rate > 0:
        extra += rngs["dup"].random(n) < s.duplicate_delivery_rate
    if s.duplicates:
        extra += np.bincount(np.asarray(s.duplicates), minlength=n)
    dup_ticks = np.flatnonzero(extra) if extra.any() else None
    tick, copy, at, dup_origin, _, _ = _arrivals(s, np.arange(n), dup_ticks,
                                                 None if dup_ticks is None else extra[dup_ticks])
    shape = (at.size, jobs)
    cap, p = s.launch_retry_attempts + 1, s.launch_failure_rate
    first = rngs["launch"].random(shape) < p
    failures = np.zeros(shape, np.int64)
    failures[first] = cap if p == 1.0 else np.minimum(rngs["launch"].geometric(1.0 - p, int(first.sum())), cap)
    fails = rngs["job"].random(shape) < s.job_failure_rate
    return _Draws(tick, copy, at, dup_ticks, dup_origin, failures, law.draw(rngs["duration"], shape), fails)


def _merge(parts: Sequence[np.ndarray], wanted: int | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
    """The sorted distinct values of sorted non-negative arrays, and where each part's values went.

    `where[k][i]` is the index of `parts[k][i]` in the result (for the first `wanted` parts; all by
    default). One stable sort of tagged values (timsort merges the sorted runs it is given).
    (Here and below, `x[np.flatnonzero(mask)]` where `x[mask]` would do: numpy's boolean indexing
    is several times slower, and these arrays are the simulation's bulk.)
    """
    assert len(parts) <= 8
    keys = np.concatenate([(p << 3) | k for k, p in enumerate(parts)])
    keys.sort(kind="stable")
    values = keys >> 3
    new = np.empty(keys.size, bool)
    new[:1] = True
    np.not_equal(values[1:], values[:-1], out=new[1:])
    group = new.astype(np.int64)  # (a cumsum over bools is slow)
    np.cumsum(group, out=group)
    group -= 1
    tag = keys & 7
    where = [group[np.flatnonzero(tag == k)] for k in range(len(parts) if wanted is None else wanted)]
    return values[np.flatnonzero(new)], where


@dataclass(frozen=True)
class _Grid:
    """The draws of the scheduled deliveries that are out of the ordinary, by cell `tick * J + attempt`.

    Every other cell launched at its first RunTask, its job succeeded, and it ran at most `short`
    seconds: its duration is drawn from the law below `short` only when something asks for it.
    """

    ticks: int
    jobs: int
    short: float
    law: _Law
    launch_cells: np.ndarray  # sorted cells whose first RunTask failed
    launch_failures: np.ndarray  # failed RunTasks of each, capped
    failed_cells: np.ndarray  # sorted cells whose job failed
    long_cells: np.ndarray  # sorted cells that ran longer than `short`
    long_durations: np.ndarray  # their durations

    def rows(self, ticks: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(launch failures, durations, job fails) of the scheduled deliveries of `ticks` (sorted), (R, J) each.

        The short durations are drawn from `rng`, in cell order.
        """
        jobs, size = self.jobs, ticks.size * self.jobs
        asked = (ticks[:, None] * jobs + np.arange(jobs)).ravel()
        merged, found = _merge([asked, self.launch_cells, self.failed_cells, self.long_cells])
        cell_of = np.full(merged.size, -1)  # merged index -> asked cell (-1: a drawn cell not asked for)
        cell_of[found[0]] = np.arange(size)
        located = []  # per source: (cell asked for, index in the source) of its cells that were asked for
        for w in found[1:]:
            asked = np.flatnonzero(cell_of[w] >= 0)
            located.append((cell_of[w][asked], asked))
        (launch_at, launch_i), (failed_at, _), (long_at, long_i) = located
        launch = np.zeros(size, np.int64)
        launch[launch_at] = self.launch_failures[launch_i]
        fails = np.zeros(size, bool)
        fails[failed_at] = True
        durations = np.empty(size)
        durations[long_at] = self.long_durations[long_i]
        if long_at.size < size:
            short = np.ones(size, bool)
            short[long_at] = False
            durations[short] = self.law.shorter(rng, self.short, size - long_at.size)
        shape = (ticks.size, jobs)
        return launch.reshape(shape), durations.reshape(shape), fails.reshape(shape)

    def every_row(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`rows` of every tick, built whole (cheaper when most ticks are unusual anyway)."""
        size = self.ticks * self.jobs
        launch = np.zeros(size, np.int64)
        launch[self.launch_cells] = self.launch_failures
        fails = np.zeros(size, bool)
        fails[self.failed_cells] = True
        durations = np.empty(size)
        durations[self.long_cells] = self.long_durations
        if self.long_cells.size < size:
            short = np.ones(size, bool)
            short[self.long_cells] = False
            durations[short] = self.law.shorter(rng, self.short, size - self.long_cells.size)
        shape = (self.ticks, self.jobs)
        return launch.reshape(shape), durations.reshape(shape), fails.reshape(shape)


@dataclass(frozen=True)
class _Sparse:
    """The deliveries that can meet another, drawn and kept in `draws`; every other one ran alone.

    A scheduled delivery is left out when its first attempt launched, succeeded and ran at most
    `grid.short` seconds (so its task and execution end by the next tick and it is billed the Fargate
    minimum), its tick has no duplicate, and nothing kept runs or arrives while it runs. Such a
    delivery meets nobody, so its counts are the same for each: only how many per month matters.
    """

    scenario: Scenario
    draws: _Draws
    ticks: np.ndarray  # sorted ticks whose deliveries are in `draws`
    rows: tuple[np.ndarray, np.ndarray, np.ndarray]  # their scheduled deliveries' draws, (R, J) each
    grid: _Grid
    dups: _Duplicates | None
    fill: np.random.Generator = field(repr=False, compare=False)  # the left-out durations, when asked

    @property
    def left_out(self) -> int:
        return self.grid.ticks - self.ticks.size

    def left_out_per_month(self, bounds: np.ndarray) -> np.ndarray:
        """How many deliveries were left out, per `_per_month` bin."""
        interval = self.scenario.interval_minutes * 60.0
        before = np.array([_ticks_before(b, interval, self.grid.ticks) for b in bounds.tolist()], np.int64)
        ticks = np.diff(np.concatenate([[0], before, [self.grid.ticks]]))
        kept = np.diff(np.concatenate([[0], np.searchsorted(self.ticks, before), [self.ticks.size]]))
        return ticks - kept

    @cached_property
    def dense(self) -> _Draws:
        """Every delivery's draws: the kept ones as drawn, the left-out durations drawn now (same law)."""
        if self.ticks.size == self.grid.ticks:
            return self.draws
        launch, durations, fails = self.grid.every_row(self.fill)
        durations[self.ticks] = self.rows[1]
        return _assemble(self.scenario, np.arange(self.grid.ticks), launch, durations, fails, self.dups)

    @cached_property
    def dense_outcome(self) -> "_Outcome":
        return _outcome_b(self.scenario, self.dense)


def _ticks_before(seconds: float, interval: float, ticks: int) -> int:
    """How many ticks (at k * interval) come strictly before `seconds`."""
    k = min(max(math.ceil(seconds / interval), 0), ticks)
    while k > 0 and (k - 1) * interval >= seconds:
        k -= 1
    while k < ticks and k * interval < seconds:
        k += 1
    return k


def _ticks_in(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """The sorted distinct ticks of the ranges [first, last] (empty where last < first), `first` sorted."""
    more = np.flatnonzero(last >= first)
    if more.size < first.size:
        first, last = first[more], last[more]
    if not first.size:
        return first
    first = first.copy()  # each range starts past all before it: the ranges become disjoint
    first[1:] = np.maximum(first[1:], np.maximum.accumulate(last)[:-1] + 1)
    span = np.maximum(last - first + 1, 0)
    return np.arange(int(span.sum())) + np.repeat(first - (np.cumsum(span) - span), span)


def _met(s: Scenario, at: np.ndarray, end: np.ndarray, late: bool = False) -> np.ndarray:
    """The other ticks a delivery arriving at `at` (sorted), whose execution (as if it ran) ends at
    `end`, can meet: the later ones before `end`; `late` (a duplicate, arriving off the ticks): also
    the one it arrives in, and one before (k * interval may round either way)."""
    interval = s.interval_minutes * 60.0
    first = np.floor(at / interval).astype(np.int64) + (-1 if late else 1)
    last = np.ceil(end / interval).astype(np.int64) - 1  # the last k with k * interval < end, give or take one:
    last += (last + 1) * interval < end
    last -= last * interval >= end
    return _ticks_in(np.maximum(first, 0), np.minimum(last, s.ticks - 1))


def _draw(s: Scenario) -> _Sparse:
    """The sparse draw: unusual attempts as positions, the deliveries they can meet, nothing else.

    Same law as `_draw_per_tick`, drawn differently: which attempts fail or run long are drawn as
    positions (`_positions`), long durations given that they are long, and the short durations only
    of the deliveries kept: the unusual ones and the ticks from the one an unusual delivery arrives
    in to the last before its execution (as if it ran) ends.
    """
    rngs, law, n, jobs = _streams(s), _Law.of(s), s.ticks, s.retry_job_failures + 1
    interval = s.interval_minutes * 60.0
    # a task ending within `short` ends (with its execution) by the next tick; it is billed the minimum
    short = min(interval - s.execution_overhead_seconds, float(s.prices.fargate_minimum_seconds))
    dups = _duplicates(s, law, rngs)
    launch_cells, launch_failures = _launch_failures(rngs["launch"], s, n * jobs)
    failed_cells = _positions(rngs["job"], s.job_failure_rate, n * jobs)
    long_cells = _positions(rngs["duration"], law.above(short), n * jobs)
    grid = _Grid(n, jobs, short, law, launch_cells, launch_failures, failed_cells, long_cells,
                 law.longer(rngs["duration"], short, long_cells.size))
    unusual_rate = 1 - math.prod(1 - p for p in (s.launch_failure_rate, s.job_failure_rate, law.above(short),
                                                     s.duplicate_delivery_rate))
    if unusual_rate > 0.25:  # most ticks are unusual: draw every one
        ticks = np.arange(n)
        rows = grid.every_row(rngs["shorter"])
        return _Sparse(s, _assemble(s, ticks, *rows, dups), ticks, rows, grid, dups, rngs["fill"])
    met = []  # ticks the unusual deliveries can meet, sorted, from each kind of them
    if dups is not None:
        tick, copy, at, _, _, duplicate = _arrivals(s, dups.ticks, dups.ticks, dups.count)
        d = _Draws(tick[duplicate], copy[duplicate], at[duplicate], None, None, dups.launch_failures,
                   dups.durations, dups.job_fails)
        order = np.argsort(d.at, kind="stable")
        met.append(_met(s, d.at[order], _outcome_b(s, d, with_tasks=False).end[order], late=True))
    if jobs == 1:
        ticks, rows = _keep_one_attempt(s, grid, dups, met, rngs["shorter"])
    else:
        ticks, rows = _keep(s, grid, dups, met, rngs["shorter"])
    return _Sparse(s, _assemble(s, ticks, *rows, dups), ticks, rows, grid, dups, rngs["fill"])


def _keep_one_attempt(s: Scenario, g: _Grid, dups: _Duplicates | None, met: list[np.ndarray],
                      rng: np.random.Generator) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The ticks to keep and their draws, with no job retries (cell = tick): one merge of positions."""
    interval, overhead = s.interval_minutes * 60.0, s.execution_overhead_seconds
    # a long task's execution ends at t + d + overhead (later if its launch was retried: below)
    met.append(_met(s, g.long_cells * interval, g.long_cells * interval + g.long_durations + overhead))
    launch_durations = np.zeros(0)
    if g.launch_cells.size:  # retried launches start late: t + waits + (d if it launched) + overhead
        k = np.minimum(np.searchsorted(g.long_cells, g.launch_cells), max(g.long_cells.size - 1, 0))
        long = np.flatnonzero(g.long_cells[k] == g.launch_cells) if g.long_cells.size else k[:0]
        launch_durations = np.empty(g.launch_cells.size)
        short = np.ones(g.launch_cells.size, bool)
        short[long] = False
        launch_durations[long] = g.long_durations[k[long]]
        launch_short = np.flatnonzero(short)
        launch_durations[launch_short] = g.law.shorter(rng, g.short, launch_short.size)
        budget = s.launch_retry_attempts
        used = np.minimum(g.launch_failures, budget)
        at = g.launch_cells * interval
        end = at + _retry_waits(s, 0, used) + np.where(g.launch_failures <= budget, launch_durations, 0.0) + overhead
        met.append(_met(s, at, end))
    ticks, (launch, failed, long_cells) = _merge([g.launch_cells, g.failed_cells, g.long_cells]
                                                  + ([dups.ticks] if dups is not None else []) + met, wanted=3)
    size = ticks.size
    launches, fails, durations = np.zeros(size, np.int64), np.zeros(size, bool), np.empty(size)
    launches[launch] = g.launch_failures
    fails[failed] = True
    durations[long_cells] = g.long_durations
    durations[launch] = launch_durations
    short = np.ones(size, bool)
    short[long_cells] = False
    short[launch] = False
    short = np.flatnonzero(short)
    durations[short] = g.law.shorter(rng, g.short, short.size)
    return ticks, (launches[:, None], durations[:, None], fails[:, None])


def _keep(s: Scenario, g: _Grid, dups: _Duplicates | None, met: list[np.ndarray], rng: np.random.Generator
          ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The ticks to keep and their draws, with job retries: the unusual ticks' executions first."""
    interval, jobs = s.interval_minutes * 60.0, g.jobs
    # a tick is unusual by its first attempt; the others run only after it failed
    sources = [c[c % jobs == 0] // jobs for c in (g.launch_cells, g.failed_cells, g.long_cells)]
    unusual, _ = _merge(sources + ([dups.ticks] if dups is not None else []), wanted=0)
    rows = g.rows(unusual, rng)
    at = unusual * interval
    met.append(_met(s, at, _outcome_b(s, _Draws(unusual, unusual, at, None, None, *rows), with_tasks=False).end))
    ticks, (mine,) = _merge([unusual] + met, wanted=1)
    if ticks.size == unusual.size:
        return ticks, rows
    theirs = np.ones(ticks.size, bool)
    theirs[mine] = False
    theirs = np.flatnonzero(theirs)
    others = g.rows(ticks[theirs], rng)
    merged = []
    for a, b in zip(rows, others):
        both = np.empty((ticks.size, jobs), a.dtype)
        both[mine] = a
        both[theirs] = b
        merged.append(both)
    return ticks, (merged[0], merged[1], merged[2])


# ---- what happens to each delivery -------------------------------------------------------------------

@dataclass(frozen=True)
class _Tasks:
    """Task runs in start order. Rows whose `valid` is False are placeholders of zero length."""

    delivery: np.ndarray | None  # delivery index of each row; None: row i is delivery i
    attempt: np.ndarray | None  # job attempt of each row; None: all 0
    start: np.ndarray
    end: np.ndarray
    failed: np.ndarray
    valid: np.ndarray | None  # None: every row is a task

    def only(self, keep: np.ndarray | None) -> "_Tasks":
        """The same rows with those of deliveries outside `keep` (per delivery) made placeholders."""
        if keep is None:
            return self
        per_row = keep if self.delivery is None else keep[self.delivery]
        valid = per_row if self.valid is None else self.valid & per_row
        return _Tasks(self.delivery, self.attempt, self.start, np.where(valid, self.end, self.start),
                      self.failed & valid, valid)

    def launched_deliveries(self, deliveries: int) -> np.ndarray:
        """Per delivery: did it launch at least one task."""
        if self.delivery is None:
            return np.ones(deliveries, bool) if self.valid is None else self.valid
        out = np.zeros(deliveries, bool)
        out[self.delivery if self.valid is None else self.delivery[self.valid]] = True
        return out


@dataclass(frozen=True)
class _Trace:
    """One variant's outcome per delivery plus its task runs."""

    disposition: np.ndarray  # (D,) int8, index into DISPOSITIONS
    transitions: np.ndarray | None  # (D,) state transitions of the execution a delivery started; None: none
    executions: int
    run_task_calls: int
    launch_recovered: int  # executions that retried a failed launch and did not end launch_failed
    tasks: _Tasks


def _trace_a(s: Scenario, d: _Draws) -> _Trace:
    dur, failed = d.durations[:, 0], d.job_fails[:, 0]
    disposition = failed.astype(np.int8)  # _OK = 0, _JOB_FAILED = 1
    if s.launch_failure_rate == 0:
        tasks = _Tasks(None, None, d.at, d.at + dur, failed, None)
    else:
        launched = d.launch_failures[:, 0] == 0
        disposition[~launched] = _LAUNCH_FAILED
        tasks = _Tasks(None, None, d.at, np.where(launched, d.at + dur, d.at), failed & launched, launched)
    return _Trace(disposition, None, 0, int(d.at.size), 0, tasks)


@dataclass(frozen=True)
class _Outcome:
    """Pattern B, every delivery as if it started an execution that runs its task (no guard, no dedupe)."""

    status: np.ndarray  # (D,) int8: _OK, _JOB_FAILED or _LAUNCH_FAILED
    end: np.ndarray  # (D,) when the execution closes
    retries: np.ndarray | None  # (D,) launch + job retries; None: none anywhere
    launch_retries: np.ndarray | None  # (D,) launch retries alone; None: none anywhere
    failed_calls: np.ndarray | None  # (D,) RunTask calls that failed to launch; None: none
    tasks: _Tasks | None  # None: not asked for


def _retry_waits(s: Scenario, before: np.ndarray | int, count: np.ndarray) -> np.ndarray:
    """Seconds waited by retries number before+1 .. before+count of one ASL Retrier."""
    b, interval = s.retry_backoff_rate, float(s.retry_interval_seconds)
    if b == 1.0:
        return interval * count
    return interval * (np.power(b, before + count) - np.power(b, before)) / (b - 1.0)


def _outcome_b(s: Scenario, d: _Draws, with_tasks: bool = True) -> _Outcome:
    """Launch retries, job retries, timing and status of every delivery's execution, vectorized.

    `with_tasks=False` leaves the task runs out (`tasks` None): only the statuses and times.

    Retrier counters last for the whole Task state, across job retries ("Retrier parameters apply
    across all visits to the retrier in the context of a single-state execution", Step Functions
    developer guide, error handling).
    """
    size, jobs, p = d.at.size, s.retry_job_failures + 1, s.launch_failure_rate
    t = d.at
    status = np.zeros(size, np.int8)
    retries = failed_calls = None
    launch_retries: np.ndarray | int = 0
    budget: np.ndarray | int = s.launch_retry_attempts
    alive: np.ndarray | None = None  # None: every execution is still trying
    parts: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]] = []
    for j in range(jobs):
        launched = alive
        if p > 0:
            g = d.launch_failures[:, j]
            exhausted = g > budget if alive is None else alive & (g > budget)
            used = np.minimum(g, budget) if alive is None else np.where(alive, np.minimum(g, budget), 0)
            retried = np.flatnonzero(used)
            if retried.size:
                t = t.copy()
                t[retried] += _retry_waits(s, launch_retries if isinstance(launch_retries, int)
                                           else launch_retries[retried], used[retried])
            launch_retries = launch_retries + used
            budget = budget - used
            failed_calls = used + exhausted if failed_calls is None else failed_calls + used + exhausted
            status[exhausted] = _LAUNCH_FAILED
            launched = ~exhausted if alive is None else alive & ~exhausted
        end = t + d.durations[:, j]
        job_failed = d.job_fails[:, j] if launched is None else d.job_fails[:, j] & launched
        parts.append((j, t, end if launched is None else np.where(launched, end, t), job_failed, launched))
        t = end if launched is None else np.where(launched, end, t)
        if j < jobs - 1:  # the job retrier's (j+1)-th retry waits interval * rate**j
            alive = job_failed
            t = t + np.where(alive, s.retry_interval_seconds * s.retry_backoff_rate**j, 0.0)
            retries_j = alive.astype(np.int64)
            retries = retries_j if retries is None else retries + retries_j
        else:
            status[job_failed] = _JOB_FAILED
    launch_retried = None if isinstance(launch_retries, int) else launch_retries
    if launch_retried is not None:
        retries = launch_retried if retries is None else retries + launch_retried
    if s.execution_overhead_seconds:
        t = t + s.execution_overhead_seconds
    if not with_tasks:
        return _Outcome(status, t, retries, launch_retried, failed_calls, None)
    if jobs == 1:
        _, start, end, failed, valid = parts[0]
        tasks = _Tasks(None, None, start, end, failed, valid)
    else:
        valid = np.concatenate([v if v is not None else np.ones(size, bool) for _, _, _, _, v in parts])
        tasks = _Tasks(np.tile(np.arange(size), jobs), np.repeat(np.arange(jobs), size),
                       *(np.concatenate([part[k] for part in parts]) for k in (1, 2, 3)), valid)
    if np.any(tasks.start[1:] < tasks.start[:-1]):  # retry waits or job reruns reorder the starts
        order = np.argsort(tasks.start, kind="stable")
        delivery = order if tasks.delivery is None else tasks.delivery[order]
        tasks = _Tasks(delivery, None if tasks.attempt is None else tasks.attempt[order], tasks.start[order],
                       tasks.end[order], tasks.failed[order], None if tasks.valid is None else tasks.valid[order])
    return _Outcome(status, t, retries, launch_retried, failed_calls, tasks)


def _coverage(starts: np.ndarray, ends: np.ndarray, depth: int = 64, latest: bool = True
              ) -> tuple[np.ndarray, np.ndarray | None] | None:
    """Per entry (sorted by start): how many earlier entries still run at its start, and (`latest`)
    the latest end among them or its own start. None when one outlasts more than `depth` later starts.

    Why not a prefix maximum: it walks every entry, while entry j covers the k-th next start only if
    it covers the (k-1)-th (starts are sorted), so lag by lag only the covering entries are left.
    """
    count = np.zeros(starts.size, np.int64)
    last = starts.copy() if latest else None
    j = np.flatnonzero(ends[:-1] > starts[1:])
    lag = 1
    while j.size:
        if lag > depth:
            return None
        i = j + lag
        count[i] += 1
        if last is not None:
            last[i] = np.maximum(last[i], ends[j])
        lag += 1
        j = j[np.flatnonzero(j + lag < starts.size)] if j[-1] + lag >= starts.size else j
        j = j[np.flatnonzero(ends[j] > starts[j + lag])]
    return count, last


def _prefix_max(values: np.ndarray) -> np.ndarray:
    """The maximum of the values before each (-inf for the first)."""
    out = np.empty_like(values)
    out[:1] = -np.inf
    np.maximum.accumulate(values[:-1], out=out[1:])
    return out


def _guard_pass(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Which executions (in start order) find no other RUNNING execution at their start.

    A passing execution runs until `ends[i]`; a skipped one closes at once; a delivery that is no
    execution has end -inf. Execution i surely passes when it starts after every earlier end
    (prefix max), and such an execution resets the state; so only the runs of "uncertain"
    executions after it need sequential work: first as a wavefront over all runs at once (k-th
    uncertain execution of every run), then, for the few long runs left, by jumping straight to the
    next start after the busy time (binary search), which costs one step per passing execution.
    """
    if not starts.size:
        return np.zeros(0, bool)
    coverage = _coverage(starts, ends, latest=False)
    passed = coverage[0] == 0 if coverage is not None else starts >= _prefix_max(ends)
    uncertain = np.flatnonzero(~passed)
    if not uncertain.size:
        return passed
    first = np.flatnonzero(np.diff(uncertain, prepend=-2) > 1)  # where each run of uncertain ones begins
    length = np.diff(first, append=uncertain.size)
    busy = ends[uncertain[first] - 1]  # each run follows a sure pass: its end is the busy time
    runs = np.arange(first.size)  # the runs longer than k
    k = 0
    while runs.size >= 64:  # else few runs left: jump instead
        i = uncertain[first[runs] + k]
        ok = starts[i] >= busy[runs]
        passed[i[ok]] = True
        busy[runs[ok]] = np.maximum(busy[runs[ok]], ends[i[ok]])  # a non-execution (end -inf) leaves it
        k += 1
        runs = runs[length[runs] > k]
    if not runs.size:
        return passed
    # the long runs left: from a busy time, the next execution that can pass is the first start at
    # or after it; a passing execution's own end is the next busy time (`jump`, precomputed)
    long_runs = runs
    rows = np.concatenate([np.arange(uncertain[first[r]] + k, uncertain[first[r]] + length[r]) for r in long_runs])
    jump = np.maximum(np.searchsorted(starts, ends[rows], side="left"), rows + 1)
    jump[ends[rows] == -np.inf] = -1  # not an execution (a deduplicated delivery): it neither passes nor blocks
    jumps: dict[int, int] | list[int]
    if rows.size * 4 < starts.size:  # a few rows: a dict (a list over every execution costs more)
        jumps = dict(zip(rows.tolist(), jump.tolist()))
    else:
        every = np.zeros(starts.size, np.int64)
        every[rows] = jump
        jumps = every.tolist()
    for r in long_runs.tolist():
        lo, hi = int(uncertain[first[r]] + k), int(uncertain[first[r]] + length[r])
        i = max(lo, int(np.searchsorted(starts, busy[r], side="left")))
        while i < hi:
            if jumps[i] < 0:
                i += 1
            else:
                passed[i] = True
                i = jumps[i]
    return passed


def _trace_b(s: Scenario, d: _Draws, v: Variant, o: _Outcome) -> _Trace:
    size = d.at.size
    dedupe = v.dedupe and d.dup_ticks is not None
    is_exec = d.copy == 0 if dedupe else None
    ran = is_exec
    if v.guard:
        ran = _guard_pass(d.at, o.end if is_exec is None else np.where(is_exec, o.end, -np.inf))
        if is_exec is not None:
            ran &= is_exec
    paths = {k: len(states) for k, states in execution_states(s, v.guard).items()}
    transitions = np.where(o.status == _OK, paths["succeeded"], paths["failed"])
    if o.retries is not None:
        transitions += o.retries
    if ran is None:
        disposition = o.status
    else:
        disposition = o.status.copy()
        skipped = np.flatnonzero(~ran)
        disposition[skipped] = _SKIPPED
        transitions[skipped] = paths["skipped"]
    if dedupe:
        # duplicates meet their tick's execution: still RUNNING -> idempotent, closed -> AlreadyExists
        dup = np.flatnonzero(d.copy > 0)
        original = d.origin_of(d.tick[dup])
        closes = np.where(ran[original], o.end[original], d.at[original])  # type: ignore[index]
        disposition[dup] = np.where(d.at[dup] < closes, _DEDUP_RUNNING, _ALREADY_EXISTS)
        transitions[dup] = 0
    assert o.tasks is not None
    tasks = o.tasks.only(ran)
    launches = tasks.start.size if tasks.valid is None else int(np.count_nonzero(tasks.valid))
    failed_calls = 0 if o.failed_calls is None else int(
        o.failed_calls.sum() if ran is None else np.where(ran, o.failed_calls, 0).sum())
    recovered = 0
    if o.launch_retries is not None:
        recovered_mask = (o.launch_retries > 0) & (o.status != _LAUNCH_FAILED)
        recovered = int(np.count_nonzero(recovered_mask if ran is None else recovered_mask & ran))
    executions = size if is_exec is None else int(np.count_nonzero(is_exec))
    return _Trace(disposition, transitions, executions, launches + failed_calls, recovered, tasks)


def _trace(s: Scenario, d: _Draws, v: Variant, o: _Outcome | None) -> _Trace:
    return _trace_a(s, d) if o is None or v.pattern == "A" else _trace_b(s, d, v, o)


class _Redraw:
    """A sparse simulation's draws, drawn again (same seed, same draws) when a frame asks for them.

    Why not keep them: a result then holds counts only, and most results never show a frame.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario

    @cached_property
    def sparse(self) -> _Sparse:
        return _draw(self.scenario)


@dataclass(frozen=True)
class _Detail:
    """Every delivery's draws and one variant's trace, for the per-run and per-delivery frames.

    Given when simulated per tick; for a sparse simulation, drawn again, the left-out deliveries'
    draws completed (`_Sparse.dense`) and traced when a frame is first asked for.
    """

    scenario: Scenario
    variant: Variant
    redraw: _Redraw | None
    given: tuple[_Draws, _Trace] | None

    @cached_property
    def full(self) -> tuple[_Draws, _Trace]:
        if self.given is not None:
            return self.given
        assert self.redraw is not None
        sparse = self.redraw.sparse
        return sparse.dense, _trace(self.scenario, sparse.dense, self.variant, sparse.dense_outcome)


# ---- metrics ------------------------------------------------------------------------------------------

def _overlaps(tasks: _Tasks) -> tuple[np.ndarray, float, int]:
    """(started-while-another-ran flags, extra concurrent seconds, peak concurrency)."""
    start, end = tasks.start, tasks.end
    if tasks.valid is not None and not tasks.valid.any() or start.size == 0:
        return np.zeros(start.size, bool), 0.0, 0
    coverage = _coverage(start, end)
    if coverage is None:
        prev_max = _prefix_max(end)
        in_cluster = start < prev_max  # placeholders included, so they cannot split a cluster below
        latest = np.maximum(start, prev_max)
    else:  # a placeholder (zero length) covers no start
        assert coverage[1] is not None
        in_cluster, latest = coverage[0] > 0, coverage[1]
    overlapping = in_cluster if tasks.valid is None else in_cluster & tasks.valid
    if not overlapping.any():
        return overlapping, 0.0, 1
    busy = end - latest  # what each task adds to the union of running time
    np.maximum(busy, 0.0, out=busy)
    extra = float((end - start).sum() - busy.sum())  # placeholders have zero length
    if coverage is not None:  # running at a task's start: itself and the earlier ones covering it
        count = coverage[0] if tasks.valid is None else np.where(tasks.valid, coverage[0], 0)
        return overlapping, extra, 1 + int(count.max())
    # peak: only tasks in clusters of two or more matter (a cluster ends where nothing overlaps);
    # running at the i-th member start = members started so far - members ended by then
    member = in_cluster | np.append(in_cluster[1:], False)
    if tasks.valid is not None:
        member &= tasks.valid
    starts_m = start[member]
    running = np.arange(1, starts_m.size + 1) - np.searchsorted(np.sort(end[member]), starts_m, side="right")
    return overlapping, extra, int(running.max())


def _month_bounds(s: Scenario) -> np.ndarray:
    """Seconds from `start` to each UTC calendar month's first instant up to a day after the horizon."""
    start = pd.Timestamp(s.start).value
    last = start + pd.Timedelta(s.horizon).value + 86_400 * 10**9  # late duplicates land here too
    year, month, bounds = pd.Timestamp(s.start).year, pd.Timestamp(s.start).month, []
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        at = calendar.timegm((year, month, 1, 0, 0, 0)) * 10**9
        if at > last:
            return np.array(bounds, float)
        bounds.append((at - start) / 1e9)


def _per_month(bounds: np.ndarray, at: np.ndarray, amounts: np.ndarray | None = None) -> np.ndarray:
    """Sum `amounts` (default: 1 each) by the month bin (`_month_bounds`) of `at` (seconds, sorted)."""
    edges = np.concatenate([[0], np.searchsorted(at, bounds, side="left"), [at.size]])
    if amounts is None:
        return np.diff(edges)
    total = np.concatenate([[0], np.cumsum(amounts)])
    return total[edges[1:]] - total[edges[:-1]]


COUNT_KEYS = ("ticks", "deliveries", "executions", "run_task_calls", "task_launches", "duplicate_launches",
              "overlapping_launches", "max_concurrent", "skipped_by_guard", "deduplicated_running",
              "already_exists", "failures", "failures_noticed", "failures_silent", "launch_failures_recovered",
              "notifications", "state_transitions")


@dataclass(frozen=True)
class VariantResult:
    """Counts, overlap and cost of one variant over the scenario's horizon (costs in USD)."""

    variant: str
    ticks: int
    deliveries: int
    executions: int
    run_task_calls: int
    task_launches: int
    duplicate_launches: int
    overlapping_launches: int
    overlap_minutes: float
    max_concurrent: int
    skipped_by_guard: int
    deduplicated_running: int
    already_exists: int
    failures: int
    failures_noticed: int
    failures_silent: int
    launch_failures_recovered: int
    notifications: int
    state_transitions: int
    billable_transitions: int
    scheduler_invocations: int
    billable_invocations: int
    fargate_vcpu_hours: float
    fargate_gb_hours: float
    cost_fargate_vcpu: float
    cost_fargate_memory: float
    cost_step_functions: float
    cost_scheduler: float
    cost_total: float
    _detail: _Detail = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}

    def counts(self) -> dict[str, int]:
        """The deterministic counts a live run on the sandbox clock can be compared with."""
        return {k: getattr(self, k) for k in COUNT_KEYS}

    @cached_property
    def runs(self) -> pd.DataFrame:
        """One row per task run: tick, delivery copy, start/end, failed, duplicate, overlapping."""
        (d, trace), s = self._detail.full, self._detail.scenario
        tasks = trace.tasks
        overlapping, _, _ = _overlaps(tasks)
        keep = np.ones(tasks.start.size, bool) if tasks.valid is None else tasks.valid
        delivery = (np.arange(tasks.start.size) if tasks.delivery is None else tasks.delivery)[keep]
        attempt = np.zeros(delivery.size, np.int64) if tasks.attempt is None else tasks.attempt[keep]
        start_s, end_s = tasks.start[keep], tasks.end[keep]
        tick = d.tick[delivery]
        first_launch = pd.Series(delivery).groupby(tick).transform("min").to_numpy() if delivery.size else delivery
        begin = pd.Timestamp(s.start)
        return pd.DataFrame({
            "variant": self.variant, "tick": tick, "copy": d.copy[delivery], "job_attempt": attempt,
            "scheduled": begin + pd.to_timedelta(tick * (s.interval_minutes * 60.0), unit="s"),
            "start": begin + pd.to_timedelta(start_s, unit="s"), "end": begin + pd.to_timedelta(end_s, unit="s"),
            "start_minute": start_s / 60.0, "end_minute": end_s / 60.0, "duration_minutes": (end_s - start_s) / 60.0,
            "failed": tasks.failed[keep], "duplicate": delivery != first_launch, "overlapping": overlapping[keep],
        })

    @cached_property
    def deliveries_frame(self) -> pd.DataFrame:
        """One row per delivery: tick, copy, arrival, what happened, state transitions."""
        d, tr = self._detail.full
        return pd.DataFrame({
            "variant": self.variant, "tick": d.tick, "copy": d.copy, "delivered_minute": d.at / 60.0,
            "disposition": pd.Categorical.from_codes(tr.disposition, DISPOSITIONS),
            "state_transitions": np.zeros(d.at.size, np.int64) if tr.transitions is None else tr.transitions,
        })


def _duplicate_launches(d: _Draws, tasks: _Tasks) -> int:
    """Launches beyond the first per tick, counted on the ticks that had duplicate deliveries."""
    if d.dup_ticks is None:
        return 0
    launched = tasks.launched_deliveries(d.at.size)
    dup = np.flatnonzero(d.copy > 0)
    which = np.searchsorted(d.dup_ticks, d.tick[dup])
    per_tick = launched[d.dup_origin] + np.bincount(which, weights=launched[dup], minlength=d.dup_ticks.size)
    return int(np.clip(per_tick - 1, 0, None).sum())


@dataclass(frozen=True)
class _Alone:
    """The deliveries the sparse draw left out: each ran alone, one task that succeeded, billed the minimum."""

    count: int
    per_month: np.ndarray  # per `_per_month` bin


def _result(s: Scenario, d: _Draws, v: Variant, tr: _Trace, bounds: np.ndarray, detail: _Detail,
            alone: _Alone | None = None) -> VariantResult:
    prices, tasks = s.prices, tr.tasks
    more = alone.count if alone is not None else 0
    more_monthly = alone.per_month if alone is not None else 0
    disp = np.bincount(tr.disposition, minlength=len(DISPOSITIONS))
    disp[_OK] += more
    failures = int(disp[_JOB_FAILED] + disp[_LAUNCH_FAILED])
    overlapping, extra_seconds, peak = _overlaps(tasks)
    billed_each = np.maximum(tasks.end - tasks.start, prices.fargate_minimum_seconds)
    billed = float((billed_each if tasks.valid is None else np.where(tasks.valid, billed_each, 0.0)).sum())
    billed = (billed + more * prices.fargate_minimum_seconds) / 3600.0
    vcpu_hours, gb_hours = billed * s.cpu / 1024, billed * s.memory / 1024
    vcpu_rate, gb_rate = prices.fargate_rates(s.cpu_architecture)
    transitions = billable_transitions = 0
    if tr.transitions is not None:
        succeeded = len(execution_states(s, v.guard)["succeeded"])
        monthly = _per_month(bounds, d.at, tr.transitions) + more_monthly * succeeded
        transitions = int(monthly.sum())
        billable_transitions = int(np.clip(monthly - prices.sfn_free_transitions_per_month, 0, None).sum())
    # Billed invocations = deliveries: an upper bound, since AWS does not say whether at-least-once
    # duplicates are billed.
    monthly_invocations = _per_month(bounds, d.at) + more_monthly
    billable_invocations = int(np.clip(monthly_invocations - prices.scheduler_free_per_month, 0, None).sum())
    costs = {
        "cost_fargate_vcpu": vcpu_hours * vcpu_rate,
        "cost_fargate_memory": gb_hours * gb_rate,
        "cost_step_functions": billable_transitions * prices.sfn_per_1000_transitions / 1000.0,
        "cost_scheduler": billable_invocations * prices.scheduler_per_million / 1e6,
    }
    noticed = failures if v.pattern == "B" else 0
    notifications = 0 if v.pattern == "A" else failures * s.notify_failure + int(disp[_OK]) * s.notify_success
    launches = tasks.start.size if tasks.valid is None else int(np.count_nonzero(tasks.valid))
    return VariantResult(
        variant=v.label, ticks=s.ticks, deliveries=int(d.at.size) + more,
        executions=tr.executions + (more if v.pattern == "B" else 0), run_task_calls=tr.run_task_calls + more,
        task_launches=launches + more, duplicate_launches=_duplicate_launches(d, tasks),
        overlapping_launches=int(np.count_nonzero(overlapping)), overlap_minutes=extra_seconds / 60.0,
        max_concurrent=max(peak, 1) if more else peak, skipped_by_guard=int(disp[_SKIPPED]),
        deduplicated_running=int(disp[_DEDUP_RUNNING]), already_exists=int(disp[_ALREADY_EXISTS]),
        failures=failures, failures_noticed=noticed, failures_silent=failures - noticed,
        launch_failures_recovered=tr.launch_recovered, notifications=int(notifications),
        state_transitions=transitions, billable_transitions=billable_transitions,
        scheduler_invocations=int(d.at.size) + more, billable_invocations=billable_invocations,
        fargate_vcpu_hours=vcpu_hours, fargate_gb_hours=gb_hours, **costs, cost_total=sum(costs.values()),
        _detail=detail,
    )


# ---- public entry points ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SimulationResult:
    """The scenario and one `VariantResult` per simulated variant."""

    scenario: Scenario
    variants: dict[str, VariantResult]

    def __getitem__(self, label: str) -> VariantResult:
        if label not in self.variants:
            raise ValidationError("variant", label, "one of the simulated variants: " + ", ".join(self.variants))
        return self.variants[label]

    def to_frame(self) -> pd.DataFrame:
        """One row per variant, one column per metric."""
        return pd.DataFrame([v.to_dict() for v in self.variants.values()]).set_index("variant")

    @cached_property
    def runs(self) -> pd.DataFrame:
        """Every variant's task runs (see `VariantResult.runs`)."""
        return pd.concat([v.runs for v in self.variants.values()], ignore_index=True)

    @cached_property
    def deliveries(self) -> pd.DataFrame:
        """Every variant's deliveries and what happened to each."""
        return pd.concat([v.deliveries_frame for v in self.variants.values()], ignore_index=True)


def simulate(scenario: Scenario, variants: Sequence[str] | None = None, *, method: str = "sparse") -> SimulationResult:
    """Simulate pattern A and pattern B (with the scenario's guard / dedupe) over the horizon.

    `variants` picks others from VARIANTS; all share one set of random draws. `method` (METHODS):
    "sparse" draws only the unusual attempts and the deliveries they can meet, and counts the others
    (which ran alone) by number; "per_tick" draws every delivery one by one. Both give the same
    counts for deterministic scenarios and the same distributions otherwise.
    """
    if not isinstance(scenario, Scenario):
        raise ValidationError("scenario", scenario, "a sfnecs.patterns.Scenario")
    check_choice("method", method, METHODS)
    labels = ("A", scenario.variant) if variants is None else tuple(variants)
    if not labels:
        raise ValidationError("variants", variants, "at least one of " + ", ".join(VARIANTS))
    parsed = [Variant.parse(label, "variants") for label in labels]
    bounds = _month_bounds(scenario)
    redraw = alone = None
    if method == "sparse":
        sparse, redraw = _draw(scenario), _Redraw(scenario)
        draws, alone = sparse.draws, _Alone(sparse.left_out, sparse.left_out_per_month(bounds))
        del sparse  # frees what only the frames need (they draw again)
    else:
        draws = _draw_per_tick(scenario)
    outcome = _outcome_b(scenario, draws) if any(v.pattern == "B" for v in parsed) else None
    out = {}
    for v in parsed:
        trace = _trace(scenario, draws, v, outcome)
        detail = _Detail(scenario, v, redraw, None if redraw is not None else (draws, trace))
        out[v.label] = _result(scenario, draws, v, trace, bounds, detail, alone)
    return SimulationResult(scenario, out)


def compare(scenario: Scenario, variants: Sequence[str] = COMPARED_VARIANTS) -> pd.DataFrame:
    """One row per variant (A, B, B+dedupe, B+guard+dedupe by default), metric columns."""
    return simulate(scenario, variants).to_frame()


def expected_counts(scenario: Scenario, pattern_variant: str) -> dict[str, int]:
    """The exact counts a live run of this deterministic scenario must reproduce.

    Why: `sfnecs.evidence.simulation_check` runs the scenario live on the sandbox clock and compares counts; exact
    equality is only meaningful when nothing is random (fixed durations; rates of exactly 0 or 1).
    """
    if not isinstance(scenario, Scenario):
        raise ValidationError("scenario", scenario, "a sfnecs.patterns.Scenario")
    if not scenario.deterministic:
        raise ValidationError("scenario", scenario.duration_kind if scenario.duration_kind != "fixed" else
                              (scenario.launch_failure_rate, scenario.job_failure_rate,
                               scenario.duplicate_delivery_rate),
                              "a deterministic scenario: duration_kind='fixed' and launch_failure_rate, "
                              "job_failure_rate, duplicate_delivery_rate each 0 or 1")
    label = Variant.parse(pattern_variant, "pattern_variant").label
    return simulate(scenario, [label])[label].counts()


# ---- timeline -------------------------------------------------------------------------------------------

_RUN_COLOURS = {"run": "#4c72b0", "overlapping": "#dd8452", "duplicate": "#c44e52"}
_MARKERS = {"launch_failed": ("x", "#000000"), "skipped_by_guard": ("|", "#55a868"),
            "deduplicated_running": ("o", "#8172b3"), "already_exists": ("s", "#937860")}


def _lanes(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The first free lane for each run (runs in start order), so overlapping runs stack."""
    lane_end: list[float] = []
    lanes = np.empty(start.size, np.int64)
    for i, (s, e) in enumerate(zip(start.tolist(), end.tolist())):
        free = next((k for k, busy in enumerate(lane_end) if busy <= s), len(lane_end))
        if free == len(lane_end):
            lane_end.append(e)
        lane_end[free] = e
        lanes[i] = free
    return lanes


def timeline(source: SimulationResult | pd.DataFrame, ticks: int = 12,
             variants: Sequence[str] | None = None) -> "Figure":
    """A Gantt chart of the first `ticks` ticks' task runs, one panel per variant.

    Why: overlaps and duplicate launches are easiest to believe when seen. Overlapping runs stack
    in lanes; colours mark normal, overlapping and duplicate runs; failed jobs are hatched; with a
    `SimulationResult`, markers show launch failures, guard skips and deduplicated deliveries.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    check_int("ticks", ticks, 1, 10_000)
    if isinstance(source, SimulationResult):
        runs, deliveries, interval = source.runs, source.deliveries, source.scenario.interval_minutes
    elif isinstance(source, pd.DataFrame) and {"variant", "tick", "start_minute", "end_minute"} <= set(source):
        runs, deliveries, interval = source, None, None
    else:
        raise ValidationError("source", type(source).__name__, "a SimulationResult or its runs DataFrame")
    names = list(dict.fromkeys(runs["variant"])) if variants is None else list(variants)
    if not names:
        raise ValidationError("variants", variants, "at least one variant with runs")
    runs = runs[runs["tick"] < ticks]
    fig = Figure(figsize=(10, 1.0 + 1.3 * len(names)), layout="constrained")
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, names):
        rows = runs[runs["variant"] == name].sort_values("start_minute", kind="stable")
        start, end = rows["start_minute"].to_numpy(), rows["end_minute"].to_numpy()
        lanes = _lanes(start, end)
        kind = np.where(rows["duplicate"], "duplicate", np.where(rows["overlapping"], "overlapping", "run")) \
            if {"duplicate", "overlapping"} <= set(rows) else np.full(len(rows), "run")
        failed = rows["failed"].to_numpy() if "failed" in rows else np.zeros(len(rows), bool)
        for lane, s, e, k, f in zip(lanes, start, end, kind, failed):
            ax.barh(lane, e - s, left=s, height=0.7, color=_RUN_COLOURS[k], edgecolor="black", linewidth=0.5,
                    hatch="//" if f else None)
        if deliveries is not None:
            shown = deliveries[(deliveries["variant"] == name) & (deliveries["tick"] < ticks)]
            for disposition, (marker, colour) in _MARKERS.items():
                at = shown.loc[shown["disposition"] == disposition, "delivered_minute"]
                if len(at):
                    ax.scatter(at, np.full(len(at), -0.8), marker=marker, color=colour, s=60, linewidths=1.5,
                               zorder=3)
        if interval:
            for t in range(ticks):
                ax.axvline(t * interval, color="grey", linestyle=":", linewidth=0.6)
        ax.set_ylim(-1.4, max(int(lanes.max()) + 1 if lanes.size else 1, 1))
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
    axes[-1].set_xlabel("minutes since the first tick")
    handles: list[Any] = [Patch(facecolor=c, edgecolor="black", label=k) for k, c in _RUN_COLOURS.items()]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch="//", label="job failed"))
    handles += [Line2D([], [], marker=m, color=c, linestyle="", label=k.replace("_", " "))
                for k, (m, c) in _MARKERS.items()]
    fig.legend(handles=handles, loc="outside upper center", ncols=4, fontsize="small")
    return fig


# ---- the argued comparison -----------------------------------------------------------------------------

def feature_table() -> pd.DataFrame:
    """Pattern A vs B per feature, each cell backed by AWS_FACTS.md or a simulation result key.

    Evidence cites "AWS_FACTS §<section>" and/or "sim:<VariantResult field>".
    """
    rows = [
        ("waiting for completion",
         "No: Scheduler calls RunTask and is done; nothing waits for the task to stop.",
         "Yes: `ecs:runTask.sync` keeps the execution open until the task stops (Standard workflows only).",
         _fact("How `.sync` decides", "`.sync` needs a Standard workflow; output is the stopped task") + "; "
         + _fact("Duplicates and overlaps", "`runTask.sync` makes one execution wait for its task")),
        ("seeing failures",
         "A task that never starts is invisible: the invocation counts as delivered. A failed job shows only "
         "in its logs.",
         "The Task state fails: `AmazonECS.Unknown` for RunTask `failures`, `States.TaskFailed` for a non-zero "
         "exit; the execution is FAILED with the stopped task as Cause.",
         _fact("Schedules (EventBridge Scheduler)", "Direct RunTask targets fail silently: the invocation counts "
               "as delivered even when the task never starts") + "; "
         + _fact("How `.sync` decides", "RunTask `failures` -> `AmazonECS.Unknown`; non-zero exit -> "
                 "`States.TaskFailed`") + "; sim:failures_silent, sim:failures_noticed"),
        ("retries: launch vs job",
         "None for either: Scheduler's RetryPolicy retries delivery, and a failed launch already counts as "
         "delivered.",
         "Separate Retry rules: launch errors (`ECS.AmazonECSException`, `AmazonECS.Unknown`) retried; "
         "`States.TaskFailed` not retried by default, since retrying it reruns failed jobs. Retries are billed.",
         _fact("Schedules (EventBridge Scheduler)", "RetryPolicy ... retries *delivery*, not a failed job") + "; "
         + _fact("How `.sync` decides", "`ECS.AmazonECSException` is the usual Retry target (*community*); "
                 "retrying `States.TaskFailed` blindly reruns failed jobs") + "; sim:launch_failures_recovered"),
        ("notifications",
         "None in the pattern: nothing observes the task, and a launch failure leaves no task to observe.",
         "A Catch on the Task state routes failures to `sns:publish` (optionally success too).",
         _fact("How `.sync` decides", "a Catch can branch on `States.StringToJson($.Cause)` fields") + "; "
         + _fact("Schedules (EventBridge Scheduler)", "the invocation counts as delivered even when the task "
                 "never starts") + "; sim:notifications"),
        ("timeouts",
         "None in the path: Scheduler only bounds delivery (MaximumEventAgeInSeconds); a hung task runs on.",
         "TimeoutSeconds on the Task state and the state machine fail a hung run (then Catch/notify). The "
         "`.sync` role holds `ecs:StopTask`; whether a timed-out task is stopped too is not in AWS_FACTS.",
         _fact("Schedules (EventBridge Scheduler)", "`RetryPolicy`: `MaximumRetryAttempts` 0-185, "
               "`MaximumEventAgeInSeconds` 60-86400") + "; "
         + _fact("IAM for `ecs:runTask.sync`", "`ecs:StopTask` ... Step Functions can only stop tasks it "
                 "started")),
        ("overlap handling",
         "None: every firing launches, so a job longer than the interval runs concurrently with the next.",
         "`.sync` alone does not prevent it; a guard (ListExecutions RUNNING at the start, then skip) does.",
         _fact("Duplicates and overlaps", "It does **not** stop the next scheduled execution from starting "
               "while the previous one runs: overlap prevention must be built") + "; sim:overlapping_launches, "
         "sim:skipped_by_guard"),
        ("duplicate handling",
         "At-least-once delivery launches a second task. RunTask accepts `clientToken`, but this pattern sets none.",
         "The Scheduler's StartExecution target takes only the state machine and its input, so its executions "
         "get generated names: the guard skips a duplicate while the first run is RUNNING, but one delivered "
         "after it finished runs the job again. Starts named after the scheduled time (`runs.start(at=...)`, "
         "`sfnecs run --at`) dedupe: idempotent while running, `ExecutionAlreadyExists` after: no second launch.",
         _fact("Schedules (EventBridge Scheduler)", "At-least-once delivery") + "; "
         + _fact("Schedules (EventBridge Scheduler)", "Targets: templated ECS RunTask (`EcsParameters`) and Step "
                 "Functions StartExecution (no parameter set: no execution name)") + "; "
         + _fact("Duplicates and overlaps", "A name derived from the scheduled time therefore dedupes duplicates; "
                 "ECS `RunTask` accepts `clientToken`") + "; sim:duplicate_launches, sim:deduplicated_running, "
         "sim:already_exists"),
        ("cost",
         "Fargate task time + Scheduler invocations.",
         "The same + Step Functions state transitions beyond the monthly free tier; guard, retries and "
         "notifications add transitions.",
         _fact("Prices", "Step Functions Standard: $0.025 per 1,000 state transitions (4,000 free per month); "
               "retries count") + "; sim:cost_total, sim:state_transitions, sim:billable_transitions"),
        ("moving parts",
         "Schedule + Scheduler role, cluster, task definition, task and execution roles, log group.",
         "The same + state machine, its role, SNS topic, execution log group, and the managed rule "
         "`StepFunctionsGetEventsForECSTaskRule` that `.sync` creates.",
         _fact("IAM for `ecs:runTask.sync`", "`events:PutRule` ... on rule/StepFunctionsGetEventsForECSTaskRule")
         + "; " + _fact("Schedules (EventBridge Scheduler)", "Targets: templated ECS RunTask and Step Functions "
                        "StartExecution")),
        ("IAM surface",
         "Scheduler role (trusts scheduler.amazonaws.com): `ecs:RunTask` on the task definition + "
         "`iam:PassRole` for the task and execution roles.",
         "Scheduler role: `states:StartExecution`. Step Functions role: RunTask, StopTask, DescribeTasks, "
         "events Put/DescribeRule, PassRole, logs delivery actions on `*`, `sns:Publish`, ListExecutions for "
         "the guard.",
         _fact("IAM for `ecs:runTask.sync`", "Static resources ...; `iam:PassRole` for the task execution role "
               "and the task role; request-response `ecs:runTask` needs only `ecs:RunTask` (+ PassRole); trust "
               "policies")),
    ]
    return pd.DataFrame(rows, columns=["feature", "A", "B", "evidence"]).set_index("feature")


def _evidence_scenario() -> Scenario:
    """Ten hourly ticks, each job 90 minutes, ticks 2 and 5 delivered twice: small enough to check by hand."""
    return Scenario(horizon="10h", interval_minutes=60, duration_minutes=90.0, duplicates=(2, 5))


def misconceptions() -> pd.DataFrame:
    """Common misreadings, each with a verdict, why, and evidence (facts and simulated counts).

    The first rows are AWS_FACTS.md's "Corrections a learner needs"; the simulated numbers come from
    a ten-tick deterministic scenario (90-minute jobs every hour, ticks 2 and 5 delivered twice).
    """
    s = _evidence_scenario()
    r = simulate(s, ["A", "B", "B+dedupe", "B+guard+dedupe"])
    silent = simulate(s.replace(launch_failure_rate=1.0, duplicates=()), ["A", "B+guard+dedupe"])
    sim = (f"sim ({s.ticks} hourly ticks, 90-min jobs, ticks 2 and 5 delivered twice): "
           f"overlapping_launches B={r['B'].overlapping_launches}, "
           f"B+dedupe={r['B+dedupe'].overlapping_launches}, "
           f"B+guard+dedupe={r['B+guard+dedupe'].overlapping_launches}")
    rows = [
        ("`.sync` prevents overlapping runs", "false",
         "`.sync` makes one execution wait for its own task; every firing still starts a new execution. "
         "Overlap prevention must be built (guard or semaphore).",
         _fact("Duplicates and overlaps", "It does **not** stop the next scheduled execution from starting")
         + "; " + sim),
        ("The note's IAM policy is what `ecs:runTask.sync` needs", "false: too broad and incomplete",
         "It grants `ecs:RunTask` and events actions on `*` and an `iam:CreateServiceLinkedRole` grant (with "
         "AttachRolePolicy and PutRolePolicy) the integration does not need; its PassRole names only the execution role, so a task with a task role "
         "fails to launch.",
         _fact("Corrections a learner needs", "The note's policy (ORIGINAL_NOTE.md) is broader than the AWS "
               "template") + "; "
         + _fact("IAM for `ecs:runTask.sync`", "`iam:PassRole` is needed for the task execution role and the task "
                 "role")),
        ("Apple Silicon builds default to linux/amd64", "inverted",
         "Build tools default to the host architecture: arm64 on Apple Silicon, which then fails on default "
         "(X86_64) Fargate with `exec format error`.",
         _fact("Architecture mismatch on Fargate", "Build tools default to the **host** architecture")),
        ("`.sync` stops duplicate deliveries from launching twice", "false without time-derived names",
         "At-least-once delivery starts a second execution; an execution name derived from the scheduled time "
         "makes that StartExecution a no-op (a guard alone catches it only while the first still runs).",
         _fact("Duplicates and overlaps", "A name derived from the scheduled time therefore dedupes duplicates")
         + f"; sim: duplicate_launches A={r['A'].duplicate_launches}, B={r['B'].duplicate_launches}, "
         f"B+dedupe={r['B+dedupe'].duplicate_launches}"),
        ("Scheduler's retry policy re-runs a failed job", "false",
         "RetryPolicy retries delivery; a failed launch already counts as delivered and a failed job is never "
         "seen by Scheduler.",
         _fact("Schedules (EventBridge Scheduler)", "This retries *delivery*, not a failed job")),
        ("Pattern A tells you when a task fails to start", "false",
         "The invocation counts as delivered even when the task never starts: nothing is retried or reported.",
         _fact("Schedules (EventBridge Scheduler)", "Direct RunTask targets fail silently")
         + f"; sim (every launch fails): failures_silent A={silent['A'].failures_silent}, "
         f"B+guard+dedupe={silent['B+guard+dedupe'].failures_silent} "
         f"(notifications {silent['B+guard+dedupe'].notifications})"),
    ]
    return pd.DataFrame(rows, columns=["claim", "verdict", "why", "evidence"])

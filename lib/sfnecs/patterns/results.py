"""Counts, overlap and cost of each variant (`VariantResult`) and of a whole simulation (`SimulationResult`).

Why: the comparison is argued from these numbers; costs follow the AWS billing rules quoted in
`sfnecs.model.prices` (Fargate minimum, monthly free tiers) so they can be checked by hand.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_
from sfnecs.patterns.draws import _Draws
from sfnecs.patterns.engine import (
    _ALREADY_EXISTS,
    _DEDUP_RUNNING,
    _JOB_FAILED,
    _LAUNCH_FAILED,
    _OK,
    _SKIPPED,
    DISPOSITIONS,
    _Trace,
    _trace,
)
from sfnecs.patterns.scenario import Scenario, Variant
from sfnecs.patterns.sparse import _draw, _Sparse
from sfnecs.patterns.tasks import _overlaps, _Tasks
from sfnecs.patterns.transitions import execution_states


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


def _month_bounds(s: Scenario) -> np.ndarray:
    """Seconds from `start` to each UTC calendar month's first instant up to a day after the horizon."""
    start = pd.Timestamp(s.start).value
    last = start + pd.Timedelta(s.horizon).value + 86_400 * 10**9  # late duplicates land here too
    year, month = pd.Timestamp(s.start).year, pd.Timestamp(s.start).month
    bounds: list[float] = []
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


#: the counts a live replay can be compared with (marked: a table shows them in the chosen language)
COUNT_KEYS = (
    N_("ticks"),
    N_("deliveries"),
    N_("executions"),
    N_("run_task_calls"),
    N_("task_launches"),
    N_("duplicate_launches"),
    N_("overlapping_launches"),
    N_("max_concurrent"),
    N_("skipped_by_guard"),
    N_("deduplicated_running"),
    N_("already_exists"),
    N_("failures"),
    N_("failures_noticed"),
    N_("failures_silent"),
    N_("launch_failures_recovered"),
    N_("notifications"),
    N_("state_transitions"),
)
#: the other columns of the result frames, marked so a table shows them in the chosen language
_SHOWN_COLUMNS = (
    N_("variant"),
    N_("overlap_minutes"),
    N_("billable_transitions"),
    N_("scheduler_invocations"),
    N_("billable_invocations"),
    N_("fargate_vcpu_hours"),
    N_("fargate_gb_hours"),
    N_("cost_fargate_vcpu"),
    N_("cost_fargate_memory"),
    N_("cost_step_functions"),
    N_("cost_scheduler"),
    N_("cost_total"),
    N_("tick"),
    N_("copy"),
    N_("job_attempt"),
    N_("scheduled"),
    N_("start"),
    N_("end"),
    N_("start_minute"),
    N_("end_minute"),
    N_("duration_minutes"),
    N_("failed"),
    N_("delivered_minute"),
    N_("disposition"),
)


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
        return pd.DataFrame(
            {
                "variant": self.variant,
                "tick": tick,
                "copy": d.copy[delivery],
                "job_attempt": attempt,
                "scheduled": begin + pd.to_timedelta(tick * (s.interval_minutes * 60.0), unit="s"),
                "start": begin + pd.to_timedelta(start_s, unit="s"),
                "end": begin + pd.to_timedelta(end_s, unit="s"),
                "start_minute": start_s / 60.0,
                "end_minute": end_s / 60.0,
                "duration_minutes": (end_s - start_s) / 60.0,
                "failed": tasks.failed[keep],
                "duplicate": delivery != first_launch,
                "overlapping": overlapping[keep],
            }
        )

    @cached_property
    def deliveries_frame(self) -> pd.DataFrame:
        """One row per delivery: tick, copy, arrival, what happened, state transitions."""
        d, tr = self._detail.full
        return pd.DataFrame(
            {
                "variant": self.variant,
                "tick": d.tick,
                "copy": d.copy,
                "delivered_minute": d.at / 60.0,
                "disposition": pd.Categorical.from_codes(tr.disposition, DISPOSITIONS),
                "state_transitions": np.zeros(d.at.size, np.int64) if tr.transitions is None else tr.transitions,
            }
        )


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


def _result(
    s: Scenario, d: _Draws, v: Variant, tr: _Trace, bounds: np.ndarray, detail: _Detail, alone: _Alone | None = None
) -> VariantResult:
    prices, tasks = s.prices, tr.tasks
    more = alone.count if alone is not None else 0
    more_monthly = alone.per_month if alone is not None else 0
    # one count per disposition (np.bincount first widens the int8 codes: several times slower)
    disp = np.array([np.count_nonzero(tr.disposition == k) for k in range(len(DISPOSITIONS))], np.int64)
    disp[_OK] += more
    failures = int(disp[_JOB_FAILED] + disp[_LAUNCH_FAILED])
    overlapping, extra_seconds, peak = _overlaps(tasks)
    billed_each = tasks.end - tasks.start  # (in place below: one array, not three)
    np.maximum(billed_each, prices.fargate_minimum_seconds, out=billed_each)
    if tasks.valid is not None:  # a placeholder (end == start) is billed the minimum, times 0: exactly 0.0
        np.multiply(billed_each, tasks.valid, out=billed_each)  # (branch-free, unlike a masked copy)
    billed = float(billed_each.sum())
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
    # B: every failure fails its execution, which notifies (Catch -> SNS). A, deployed as AWS recommends:
    # a failed job's task stops, and its ECS task state change event matches the stack's EventBridge
    # rule, which notifies; a launch that RunTask refused started no task, so no event: silent.
    if v.pattern == "B":
        noticed = failures
        notifications = failures * s.notify_failure + int(disp[_OK]) * s.notify_success
    else:
        noticed = notifications = int(disp[_JOB_FAILED]) * s.notify_failure
    launches = tasks.start.size if tasks.valid is None else int(np.count_nonzero(tasks.valid))
    return VariantResult(
        variant=v.label,
        ticks=s.ticks,
        deliveries=int(d.at.size) + more,
        executions=tr.executions + (more if v.pattern == "B" else 0),
        run_task_calls=tr.run_task_calls + more,
        task_launches=launches + more,
        duplicate_launches=_duplicate_launches(d, tasks),
        overlapping_launches=int(np.count_nonzero(overlapping)),
        overlap_minutes=extra_seconds / 60.0,
        max_concurrent=max(peak, 1) if more else peak,
        skipped_by_guard=int(disp[_SKIPPED]),
        deduplicated_running=int(disp[_DEDUP_RUNNING]),
        already_exists=int(disp[_ALREADY_EXISTS]),
        failures=failures,
        failures_noticed=noticed,
        failures_silent=failures - noticed,
        launch_failures_recovered=tr.launch_recovered,
        notifications=int(notifications),
        state_transitions=transitions,
        billable_transitions=billable_transitions,
        scheduler_invocations=int(d.at.size) + more,
        billable_invocations=billable_invocations,
        fargate_vcpu_hours=vcpu_hours,
        fargate_gb_hours=gb_hours,
        **costs,
        cost_total=sum(costs.values()),
        _detail=detail,
    )


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

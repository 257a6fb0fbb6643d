"""The sparse draw: only the unusual attempts and the deliveries they can meet, drawn one by one.

Why: in a year of five-minute ticks almost every delivery runs alone and ends before the next tick;
drawing and tracing only the others (and counting the rest by number) makes a year fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from sfnecs.patterns.draws import (
    _arrivals,
    _assemble,
    _Draws,
    _Duplicates,
    _duplicates,
    _Grid,
    _launch_failures,
    _Law,
    _merge,
    _positions,
    _streams,
)
from sfnecs.patterns.engine import _Outcome, _outcome_b, _retry_waits
from sfnecs.patterns.scenario import Scenario


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
    def dense_outcome(self) -> _Outcome:
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


def _met_ranges(s: Scenario, at: np.ndarray, end: np.ndarray, late: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The other ticks a delivery arriving at `at` (sorted), whose execution (as if it ran) ends at
    `end`, can meet, as ranges [first, last] (empty where last < first): the later ones before `end`;
    `late` (a duplicate, arriving off the ticks): also the one it arrives in, and one before
    (k * interval may round either way)."""
    interval = s.interval_minutes * 60.0
    first = np.floor(at / interval).astype(np.int64) + (-1 if late else 1)
    last = np.ceil(end / interval).astype(np.int64) - 1  # the last k with k * interval < end, give or take one:
    last += (last + 1) * interval < end
    last -= last * interval >= end
    return np.maximum(first, 0), np.minimum(last, s.ticks - 1)


def _met(s: Scenario, at: np.ndarray, end: np.ndarray, late: bool = False) -> np.ndarray:
    """`_met_ranges` as the sorted distinct ticks they hold."""
    return _ticks_in(*_met_ranges(s, at, end, late))


def _mark(code: np.ndarray, first: np.ndarray, last: np.ndarray) -> None:
    """Mark (bit 8 of `code`) every tick of the ranges [first, last] (empty where last < first).

    Most ranges hold a tick or two: one pass per offset into the ranges while many are left, then
    the few long ones spelled out.
    """
    more = np.flatnonzero(last >= first)
    first, span = first[more], last[more] - first[more] + 1
    k = 0
    while first.size >= 256 and k < 8:
        code[first + k] |= 8
        k += 1
        more = np.flatnonzero(span > k)
        first, span = first[more], span[more]
    if first.size:
        rest = span - k
        code[np.arange(int(rest.sum())) + np.repeat(first + k - (np.cumsum(rest) - rest), rest)] |= 8


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
    grid = _Grid(
        n,
        jobs,
        short,
        law,
        launch_cells,
        launch_failures,
        failed_cells,
        long_cells,
        law.longer(rngs["duration"], short, long_cells.size),
    )
    unusual_rate = 1 - math.prod(
        1 - p for p in (s.launch_failure_rate, s.job_failure_rate, law.above(short), s.duplicate_delivery_rate)
    )
    if unusual_rate > 0.25:  # most ticks are unusual: draw every one
        ticks = np.arange(n)
        rows = grid.every_row(rngs["shorter"])
        return _Sparse(s, _assemble(s, ticks, *rows, dups), ticks, rows, grid, dups, rngs["fill"])
    met = []  # ticks the unusual deliveries can meet, sorted, from each kind of them
    if dups is not None:
        tick, copy, at, _, _, duplicate = _arrivals(s, dups.ticks, dups.ticks, dups.count)
        d = _Draws(
            tick[duplicate],
            copy[duplicate],
            at[duplicate],
            None,
            None,
            dups.launch_failures,
            dups.durations,
            dups.job_fails,
        )
        order = np.argsort(d.at, kind="stable")
        met.append(_met(s, d.at[order], _outcome_b(s, d, with_tasks=False).end[order], late=True))
    if jobs == 1:
        ticks, rows = _keep_one_attempt(s, grid, dups, met, rngs["shorter"])
    else:
        ticks, rows = _keep(s, grid, dups, met, rngs["shorter"])
    return _Sparse(s, _assemble(s, ticks, *rows, dups), ticks, rows, grid, dups, rngs["fill"])


def _keep_one_attempt(
    s: Scenario, g: _Grid, dups: _Duplicates | None, met: list[np.ndarray], rng: np.random.Generator
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The ticks to keep and their draws, with no job retries (cell = tick): one mask over every tick.

    The mask is a code per tick (1: its launch failed, 2: its job failed, 4: it ran long, 8: kept for
    another reason), listed in one pass: cheaper than merging sorted lists or indexing every tick.
    """
    interval, overhead = s.interval_minutes * 60.0, s.execution_overhead_seconds
    code = np.zeros(g.ticks, np.int8)
    code[g.launch_cells] = 1
    code[g.failed_cells] |= 2
    code[g.long_cells] |= 4
    for cells in ([dups.ticks] if dups is not None else []) + met:
        code[cells] |= 8
    # a long task's execution ends at t + d + overhead (later if its launch was retried: below)
    _mark(code, *_met_ranges(s, g.long_cells * interval, g.long_cells * interval + g.long_durations + overhead))
    launch_durations = np.zeros(0)
    if g.launch_cells.size:  # retried launches start late: t + waits + (d if it launched) + overhead
        long = np.flatnonzero(code[g.launch_cells] & 4)
        launch_durations = np.empty(g.launch_cells.size)
        short = np.ones(g.launch_cells.size, bool)
        short[long] = False
        launch_durations[long] = g.long_durations[np.searchsorted(g.long_cells, g.launch_cells[long])]
        launch_short = np.flatnonzero(short)
        launch_durations[launch_short] = g.law.shorter(rng, g.short, launch_short.size)
        budget = s.launch_retry_attempts
        used = np.minimum(g.launch_failures, budget)
        at = g.launch_cells * interval
        end = at + _retry_waits(s, 0, used) + np.where(g.launch_failures <= budget, launch_durations, 0.0) + overhead
        _mark(code, *_met_ranges(s, at, end))
    ticks = np.flatnonzero(code != 0)
    kind = code[ticks]
    size = ticks.size
    launch = np.flatnonzero((kind & 1).view(bool))  # rows of the kept ticks whose launch failed
    long_rows = np.flatnonzero((kind & 4) != 0)
    launches, durations = np.zeros(size, np.int8), np.empty(size)
    launches[launch] = g.launch_failures
    fails = (kind & 2) != 0
    durations[long_rows] = g.long_durations
    durations[launch] = launch_durations
    short = np.flatnonzero((kind & 5) == 0)
    durations[short] = g.law.shorter(rng, g.short, short.size)
    return ticks, (launches[:, None], durations[:, None], fails[:, None])


def _keep(
    s: Scenario, g: _Grid, dups: _Duplicates | None, met: list[np.ndarray], rng: np.random.Generator
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
    for a, b in zip(rows, others, strict=True):
        both = np.empty((ticks.size, jobs), a.dtype)
        both[mine] = a
        both[theirs] = b
        merged.append(both)
    return ticks, (merged[0], merged[1], merged[2])

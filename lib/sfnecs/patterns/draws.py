"""The random draws every variant shares: deliveries, launch failures, job failures and durations.

Why: drawing once for all variants (independent streams spawned from the seed) makes variant
differences come from the mechanism, not from luck. `_draw_per_tick` is the plain reference; `_Grid`
holds the unusual cells the sparse draw (`sfnecs.patterns.sparse`) works from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sfnecs.patterns.scenario import Scenario


@dataclass(frozen=True)
class _Draws:
    """Deliveries in arrival order and one draw per delivery and job attempt, shared by every variant."""

    tick: np.ndarray  # (D,) tick of each delivery
    copy: np.ndarray  # (D,) 0 = the scheduled delivery, k = the k-th duplicate
    at: np.ndarray  # (D,) arrival, seconds from start, non-decreasing
    dup_ticks: np.ndarray | None  # sorted ticks delivered more than once; None: no duplicates
    dup_origin: np.ndarray | None  # index of each of those ticks' scheduled delivery
    launch_failures: np.ndarray  # (D, J) int8: failed RunTask attempts before the first success, capped (<= 11)
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
            accept = rng.random(z.size)
            w = z - lam  # exp(-(z - lam)**2 / 2), in place
            np.square(w, out=w)
            w *= -0.5
            np.exp(w, out=w)
            z = z[accept <= w]
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
    def of(cls, s: Scenario) -> _Law:
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
        out = _normal_tail(rng, self._z(threshold), k)
        out *= self.sigma
        out += self._mu
        return np.exp(out, out=out)

    def shorter(self, rng: np.random.Generator, threshold: float, k: int) -> np.ndarray:
        """`k` durations given that none exceeds `threshold`."""
        if self.kind == "fixed":
            return self.draw(rng, k)
        if k == 0:
            return np.zeros(0)
        if self.kind == "exponential":  # inverse of the CDF restricted to [0, threshold]
            return -self.mean * np.log1p(-rng.random(k) * -math.expm1(-threshold / self.mean))
        out = _normal_tail(rng, -self._z(threshold), k)
        out *= self.sigma
        np.subtract(self._mu, out, out=out)
        return np.exp(out, out=out)


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
    cells = points[: np.searchsorted(points, size)].astype(np.int64)
    if cells.size < 2:
        return cells
    keep = np.empty(cells.size, bool)
    keep[0] = True
    np.not_equal(cells[1:], cells[:-1], out=keep[1:])
    return cells[keep]


def _launch_failures(rng: np.random.Generator, s: Scenario, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(attempts whose first RunTask fails, failed RunTasks before the first success, capped: int8)."""
    cap, p = s.launch_retry_attempts + 1, s.launch_failure_rate
    at = _positions(rng, p, size)
    if p == 1.0:
        return at, np.full(size, cap, np.int8)
    return at, np.minimum(rng.geometric(1.0 - p, at.size), cap).astype(np.int8)


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
    launch = np.zeros(size, np.int8)
    at, failures = _launch_failures(rngs["launch"], s, size)
    launch[at] = failures
    fails = np.zeros(size, bool)
    fails[_positions(rngs["job"], s.job_failure_rate, size)] = True
    shape = (size // jobs, jobs)
    return _Duplicates(ticks, count, launch.reshape(shape), law.draw(rngs["duration"], shape), fails.reshape(shape))


def _arrivals(
    s: Scenario, ticks: np.ndarray, dup_ticks: np.ndarray | None, dup_count: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """The deliveries of `ticks` (sorted; every tick in `dup_ticks` among them) in arrival order.

    Returns tick, copy and arrival of each, the index of each duplicated tick's scheduled delivery,
    and where each tick's scheduled delivery and each duplicate (tick order, copies ascending) went.
    """
    interval = s.interval_minutes * 60.0
    if dup_ticks is None or dup_count is None:
        rows = np.arange(ticks.size)
        return ticks, np.zeros(ticks.size, np.int64), ticks * interval, None, rows, rows[:0]
    where = np.searchsorted(ticks, dup_ticks)  # distinct: each duplicated tick once
    # each scheduled delivery moves down by the duplicates of the ticks before it; the duplicates
    # fill the gaps (written into place: the duplicates are few, a repeat over every tick costs more)
    scheduled = np.zeros(ticks.size, np.int64)
    inside = np.flatnonzero(where + 1 < ticks.size)
    scheduled[where[inside] + 1] = dup_count[inside]
    np.cumsum(scheduled, out=scheduled)
    scheduled += np.arange(ticks.size)
    first = np.cumsum(dup_count) - dup_count  # each duplicated tick's first duplicate, among the duplicates
    nth = np.arange(1, int(dup_count.sum()) + 1) - np.repeat(first, dup_count)  # its copy number
    duplicate = np.repeat(scheduled[where], dup_count) + nth
    tick = np.empty(ticks.size + nth.size, np.int64)
    tick[scheduled] = ticks
    tick[duplicate] = np.repeat(dup_ticks, dup_count)
    copy = np.zeros(tick.size, np.int64)
    copy[duplicate] = nth
    at = tick * interval
    at[duplicate] += nth * s.duplicate_delay_seconds
    after = duplicate[np.flatnonzero(duplicate + 1 < at.size)]
    if np.any(at[after + 1] < at[after]):  # duplicates late enough to pass the next tick
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


def _assemble(
    s: Scenario,
    ticks: np.ndarray,
    launch: np.ndarray,
    durations: np.ndarray,
    fails: np.ndarray,
    dups: _Duplicates | None,
) -> _Draws:
    """`_Draws` of the deliveries of `ticks` (sorted; every tick with duplicates among them).

    `launch`, `durations`, `fails` are the draws of the ticks' scheduled deliveries, (R, J) each.
    """
    if dups is None:
        return _Draws(
            ticks,
            np.zeros(ticks.size, np.int64),
            ticks * (s.interval_minutes * 60.0),
            None,
            None,
            launch,
            durations,
            fails,
        )
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
        self._seeds = dict(zip(self.NAMES, np.random.SeedSequence(seed).spawn(len(self.NAMES)), strict=True))

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
    tick, copy, at, dup_origin, _, _ = _arrivals(
        s, np.arange(n), dup_ticks, None if dup_ticks is None else extra[dup_ticks]
    )
    shape = (at.size, jobs)
    cap, p = s.launch_retry_attempts + 1, s.launch_failure_rate
    first = rngs["launch"].random(shape) < p
    failures = np.zeros(shape, np.int8)
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
        launch = np.zeros(size, np.int8)
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
        launch = np.zeros(size, np.int8)
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

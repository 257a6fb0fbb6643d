"""What happens to each delivery under each variant: pattern A's direct launches, pattern B's executions.

Why: one vectorized pass per variant over the shared draws (`sfnecs.patterns.draws`) applies the
mechanism (launch and job retries, the guard, name dedupe) and yields a `_Trace` to count and bill.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sfnecs.i18n import N_
from sfnecs.patterns.draws import _Draws
from sfnecs.patterns.scenario import Scenario, Variant
from sfnecs.patterns.tasks import _coverage, _prefix_max, _Tasks
from sfnecs.patterns.transitions import execution_states

#: What happened to each delivery.
DISPOSITIONS = (
    N_("succeeded"),
    N_("job_failed"),
    N_("launch_failed"),
    N_("skipped_by_guard"),
    N_("deduplicated_running"),
    N_("already_exists"),
)
_OK, _JOB_FAILED, _LAUNCH_FAILED, _SKIPPED, _DEDUP_RUNNING, _ALREADY_EXISTS = range(6)


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
            retried = np.flatnonzero(used != 0)  # (numpy's nonzero of an int64 array is slow; of a bool one, not)
            if retried.size:
                t = t.copy()
                t[retried] += _retry_waits(
                    s, launch_retries if isinstance(launch_retries, int) else launch_retries[retried], used[retried]
                )
            launch_retries = used if isinstance(launch_retries, int) and launch_retries == 0 else launch_retries + used
            if j < jobs - 1:
                budget = budget - used
            if failed_calls is not None:
                failed_calls = failed_calls + used + exhausted
            elif alive is None and int(g.max(initial=0)) <= s.launch_retry_attempts + 1:
                failed_calls = g  # min(g, budget) + (g > budget) is g itself when g <= budget + 1 (the cap)
            else:
                failed_calls = used + exhausted
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
            status[np.flatnonzero(job_failed)] = _JOB_FAILED
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
        start, end, failed = (np.concatenate([part[k] for part in parts]) for k in (1, 2, 3))
        tasks = _Tasks(np.tile(np.arange(size), jobs), np.repeat(np.arange(jobs), size), start, end, failed, valid)
    if np.any(tasks.start[1:] < tasks.start[:-1]):  # retry waits or job reruns reorder the starts
        order = np.argsort(tasks.start, kind="stable")
        delivery = order if tasks.delivery is None else tasks.delivery[order]
        tasks = _Tasks(
            delivery,
            None if tasks.attempt is None else tasks.attempt[order],
            tasks.start[order],
            tasks.end[order],
            tasks.failed[order],
            None if tasks.valid is None else tasks.valid[order],
        )
    return _Outcome(status, t, retries, launch_retried, failed_calls, tasks)


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
        jumps = dict(zip(rows.tolist(), jump.tolist(), strict=True))
    else:
        every = np.zeros(starts.size, np.int64)
        every[rows] = jump
        jumps = every.tolist()
    for r in long_runs.tolist():
        lo, hi = int(uncertain[first[r]] + k), int(uncertain[first[r]] + length[r])
        at = max(lo, int(np.searchsorted(starts, busy[r], side="left")))
        while at < hi:
            if jumps[at] < 0:
                at += 1
            else:
                passed[at] = True
                at = jumps[at]
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
    failed_calls = (
        0 if o.failed_calls is None else int(o.failed_calls.sum() if ran is None else (o.failed_calls * ran).sum())
    )
    recovered = 0
    if o.launch_retries is not None:
        recovered_mask = (o.launch_retries > 0) & (o.status != _LAUNCH_FAILED)
        recovered = int(np.count_nonzero(recovered_mask if ran is None else recovered_mask & ran))
    executions = size if is_exec is None else int(np.count_nonzero(is_exec))
    return _Trace(disposition, transitions, executions, launches + failed_calls, recovered, tasks)


def _trace(s: Scenario, d: _Draws, v: Variant, o: _Outcome | None) -> _Trace:
    return _trace_a(s, d) if o is None or v.pattern == "A" else _trace_b(s, d, v, o)

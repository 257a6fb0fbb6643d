"""Task runs (`_Tasks`) and how they overlap: who started while another ran, extra minutes, the peak.

Why: overlap is the question the comparison exists to answer, and the live replay
(`sfnecs.evidence.simulation_check`) measures its tasks with the same code as the simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class _Tasks:
    """Task runs in start order. Rows whose `valid` is False are placeholders of zero length."""

    delivery: np.ndarray | None  # delivery index of each row; None: row i is delivery i
    attempt: np.ndarray | None  # job attempt of each row; None: all 0
    start: np.ndarray
    end: np.ndarray
    failed: np.ndarray
    valid: np.ndarray | None  # None: every row is a task

    def only(self, keep: np.ndarray | None) -> _Tasks:
        """The same rows with those of deliveries outside `keep` (per delivery) made placeholders."""
        if keep is None:
            return self
        per_row = keep if self.delivery is None else keep[self.delivery]
        valid = per_row if self.valid is None else self.valid & per_row
        return _Tasks(
            self.delivery, self.attempt, self.start, np.where(valid, self.end, self.start), self.failed & valid, valid
        )

    def launched_deliveries(self, deliveries: int) -> np.ndarray:
        """Per delivery: did it launch at least one task."""
        if self.delivery is None:
            return np.ones(deliveries, bool) if self.valid is None else self.valid
        out = np.zeros(deliveries, bool)
        out[self.delivery if self.valid is None else self.delivery[self.valid]] = True
        return out


def _coverage(
    starts: np.ndarray, ends: np.ndarray, depth: int = 64, latest: bool = True
) -> tuple[np.ndarray, np.ndarray | None] | None:
    """Per entry (sorted by start): how many earlier entries still run at its start, and (`latest`)
    the latest end among them or its own start. None when one outlasts more than `depth` later starts.

    Why not a prefix maximum: it walks every entry, while entry j covers the k-th next start only if
    it covers the (k-1)-th (starts are sorted), so lag by lag only the covering entries are left.
    """
    count = np.zeros(starts.size, np.int64)
    last = starts.copy() if latest else None
    covers = ends[:-1] > starts[1:]
    j = np.flatnonzero(covers)
    if j.size and depth >= 1:  # lag 1, where most are: whole-array passes instead of gathers and scatters
        count[1:] = covers
        if last is not None:  # max(start, the previous end) is that end exactly where it covers the start
            np.maximum(starts[1:], ends[:-1], out=last[1:])
        j = np.flatnonzero(ends[:-2] > starts[2:])  # covering the 2nd next start implies covering the next
    lag = 2
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


def _overlaps(tasks: _Tasks) -> tuple[np.ndarray, float, int]:
    """(started-while-another-ran flags, extra concurrent seconds, peak concurrency)."""
    start, end = tasks.start, tasks.end
    if tasks.valid is not None and not tasks.valid.any() or start.size == 0:
        return np.zeros(start.size, bool), 0.0, 0
    if not np.any(end[:-1] > start[1:]):  # none covers the next start, so none covers any (starts sorted)
        return np.zeros(start.size, bool), 0.0, 1
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

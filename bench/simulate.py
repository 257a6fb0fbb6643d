"""A year of one-minute ticks through the A-vs-B simulation, timed against building its tick index.

Both measured in this run, on this machine (absolute times mean little here: ratios do).
  ratio = median(simulate_variants(scenario): pattern A and pattern B+guard+dedupe, metrics and costs)
          / median(YEAR.tick_index(): pd.date_range of the same 525,600 UTC tick times)   goal <= 5
The scenario is a realistic one-minute job: lognormal durations averaging 30 s (about 7% outlast
the interval, so the guard and the overlap accounting have work), 1% launch failures, 2% job
failures and 0.1% duplicate deliveries. `simulate_variants` uses its sparse method: only the
unusual deliveries (failed, long, duplicated: about 10% here) and the ticks they can meet (about 7%
more) are drawn and simulated one by one; the others are counted by number.

Lines for information: the same run by the per-tick reference method (every delivery drawn and
simulated); the sparse method's random draws alone (the positions of the unusual attempts, the
long durations and the kept short ones); the minimal draws (only the positions of the unusual
attempts and the durations of the runs that outlast the interval: what any exact simulation of
this scenario must draw, whatever its method, before simulating anything); the sparse draw (its
draws plus finding the deliveries to keep); all four compared variants; the worst case, every run
outlasting the interval (every tick unusual: the sparse method draws every one); and a sweep of
milder scenarios, to show how the ratio grows with the share of unusual deliveries.

Two lines say where the rest goes. Memory: the pages of memory the simulation touches fresh per call
(Linux: minor page faults), and the same run in a second interpreter whose C allocator keeps the
memory it frees (glibc's MALLOC_TOP_PAD_): the difference is the time spent getting fresh memory
from the system, every call, for the temporaries of ~90,000 kept deliveries. The overlap guard: how
many executions the running maximum of earlier ends cannot decide, and in how many independent
stretches of at most how many (the sequential dependency: one vectorized step per place in a stretch).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np

from sfnecs.patterns import COMPARED_VARIANTS, Scenario, simulate_variants
from sfnecs.patterns.draws import _Law, _positions, _Streams, _streams
from sfnecs.patterns.engine import _outcome_b
from sfnecs.patterns.sparse import _draw
from sfnecs.patterns.tasks import _coverage

YEAR = Scenario(
    horizon="365D",
    interval_minutes=1,
    duration_kind="lognormal",
    duration_minutes=0.5,
    duration_sigma=0.6,
    launch_failure_rate=0.01,
    job_failure_rate=0.02,
    duplicate_delivery_rate=0.001,
    seed=7,
)
GOAL = 5.0


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: imports, allocator, caches
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _minimal_draws(s: Scenario) -> tuple[_Streams, _Law, float]:
    """What any exact simulation of `s` must draw: where the unusual attempts are, and each long run's duration.

    Returns the generators, the duration law and the "short" threshold, for `_random_draws`.
    """
    rngs, law, n = _streams(s), _Law.of(s), s.ticks
    short = min(s.interval_minutes * 60.0 - s.execution_overhead_seconds, float(s.prices.fargate_minimum_seconds))
    for name, p in (("dup", s.duplicate_delivery_rate), ("launch", s.launch_failure_rate), ("job", s.job_failure_rate)):
        _positions(rngs[name], p, n)
    law.longer(rngs["duration"], short, _positions(rngs["duration"], law.above(short), n).size)
    return rngs, law, short


def _random_draws(s: Scenario, kept: int) -> None:
    """The sparse method's random draws for `s`, nothing else: the minimal ones and `kept` short durations."""
    rngs, law, short = _minimal_draws(s)
    law.shorter(rngs["shorter"], short, kept)


#: milder scenarios than YEAR (label -> changes): how the ratio grows with the unusual deliveries
SWEEP = {
    "fixed 30 s runs, no faults": dict(
        duration_kind="fixed", launch_failure_rate=0.0, job_failure_rate=0.0, duplicate_delivery_rate=0.0
    ),
    "lognormal sigma 0.3, no faults": dict(
        duration_sigma=0.3, launch_failure_rate=0.0, job_failure_rate=0.0, duplicate_delivery_rate=0.0
    ),
    "lognormal sigma 0.3, faults as above": dict(duration_sigma=0.3),
}


def ratios(repeats: int = 7) -> dict[str, tuple[float, float, float]]:
    """name -> (ratio, simulate seconds, date_range seconds), baseline timed in the same run."""
    base = _median_seconds(YEAR.tick_index, repeats)  # pd.date_range of the scenario's ticks
    kept = _draw(YEAR).ticks.size
    worst = YEAR.replace(duration_kind="fixed", duration_minutes=1.5)
    cases = {
        "simulate": lambda: simulate_variants(YEAR),
        "simulate, per-tick reference method": lambda: simulate_variants(YEAR, method="per_tick"),
        "random draws alone (the floor under this sparse method)": lambda: _random_draws(YEAR, kept),
        "minimal draws (the floor under any exact method)": lambda: _minimal_draws(YEAR),
        "sparse draw (random draws and the deliveries kept)": lambda: _draw(YEAR),
        "simulate, 4 variants": lambda: simulate_variants(YEAR, COMPARED_VARIANTS),
        "simulate, every run outlasts the interval": lambda: simulate_variants(worst),
    }
    for label, changes in SWEEP.items():
        mild = YEAR.replace(**changes)
        share = _draw(mild).ticks.size / mild.ticks
        cases[f"simulate, {label} ({share:.1%} of ticks kept)"] = lambda mild=mild: simulate_variants(mild)
    out = {}
    for name, fn in cases.items():
        seconds = _median_seconds(fn, repeats if name != "simulate, per-tick reference method" else 3)
        out[name] = (seconds / base, seconds, base)
    return out


def _fresh_pages(repeats: int = 5) -> float | None:
    """Pages of memory one `simulate_variants(YEAR)` touches for the first time (minor page faults), per call."""
    try:
        import resource
    except ImportError:  # not a Unix
        return None
    simulate_variants(YEAR)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(repeats):
        simulate_variants(YEAR)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / repeats


def _page_cost(pages: int = 4096) -> float:
    """Seconds this machine takes to give a process one fresh page of memory (the first write to it)."""
    import mmap

    times = []
    for _ in range(5):
        with mmap.mmap(-1, pages * mmap.PAGESIZE) as block:
            view = np.frombuffer(block, np.uint8)
            t0 = time.perf_counter()
            view[:: mmap.PAGESIZE] = 1
            times.append((time.perf_counter() - t0) / pages)
            del view
    return statistics.median(times)


def _kept_memory_ratio() -> tuple[float, float] | None:
    """(ratio, ms) of the headline in a second interpreter whose C allocator (glibc) keeps 64 MiB it frees."""
    if not sys.platform.startswith("linux"):
        return None
    env = {**os.environ, "MALLOC_TOP_PAD_": str(64 << 20)}
    out = subprocess.run(
        [sys.executable, __file__, "--headline"], env=env, capture_output=True, text=True, timeout=600, check=False
    ).stdout
    found = re.search(r"^ratio: simulate = ([\d.]+) .*\[([\d.]+) ms\]", out, re.MULTILINE)
    return (float(found.group(1)), float(found.group(2))) if found else None


def _guard_stretches() -> tuple[int, int, int, int]:
    """(kept executions, those the running maximum of earlier ends leaves undecided, their stretches, longest).

    The same split as `sfnecs.patterns.engine._guard_pass`: an execution starting after every earlier
    end surely passes; each stretch of the others after it needs one step per place in the stretch.
    """
    d = _draw(YEAR).draws
    executions = d.copy == 0  # YEAR dedupes by name: a duplicate starts no execution of its own
    ends = np.where(executions, _outcome_b(YEAR, d, with_tasks=False).end, -np.inf)
    coverage = _coverage(d.at, ends, latest=False)
    assert coverage is not None
    undecided = np.flatnonzero(coverage[0] > 0)
    first = np.flatnonzero(np.diff(undecided, prepend=-2) > 1)
    longest = int(np.diff(first, append=undecided.size).max()) if first.size else 0
    return int(np.count_nonzero(executions)), int(undecided.size), int(first.size), longest


def main() -> int:
    if sys.argv[1:] == ["--headline"]:  # only the headline ratio (see _kept_memory_ratio)
        seconds, base = _median_seconds(lambda: simulate_variants(YEAR), 7), _median_seconds(YEAR.tick_index, 7)
        print(f"ratio: simulate = {seconds / base:.2f} (goal <= {GOAL:g}) [{seconds * 1000:.1f} ms]")
        return 0
    kept = _draw(YEAR).ticks.size
    measured = ratios()
    for name, (ratio, seconds, base) in measured.items():
        detail = f"{seconds * 1000:.1f} ms vs pd.date_range {base * 1000:.2f} ms for {YEAR.ticks} ticks"
        if name == "simulate":
            print(f"simulate: {detail}; {kept} ticks kept ({kept / YEAR.ticks:.1%}), the others counted by number")
            print(f"ratio: simulate = {ratio:.2f} (goal <= {GOAL:g})" + ("" if ratio <= GOAL else " -- GOAL MISSED"))
        else:
            print(f"info: {name}: ratio {ratio:.2f} [{detail}]")
    pages, kept_memory = _fresh_pages(), _kept_memory_ratio()
    if pages is not None:
        cost = _page_cost()
        print(
            f"info: memory: simulate touches {pages:.0f} pages ({pages * 4096 / 2**20:.1f} MiB) fresh per call, "
            f"{cost * 1e6:.2f} us each here: {pages * cost * 1000:.1f} ms"
        )
    if kept_memory is not None:
        print(
            f"info: simulate, the C allocator keeping the memory it frees (MALLOC_TOP_PAD_): ratio "
            f"{kept_memory[0]:.2f} [{kept_memory[1]:.1f} ms]"
        )
    executions, undecided, stretches, longest = _guard_stretches()
    print(
        f"info: overlap guard: {undecided} of {executions} executions not decided by the running maximum of "
        f"earlier ends, in {stretches} independent stretches of at most {longest} (one vectorized step per place)"
    )
    if measured["simulate"][0] > GOAL:
        own = next(r for name, (r, _, _) in measured.items() if name.startswith("random draws alone"))
        floor = next(r for name, (r, _, _) in measured.items() if name.startswith("minimal draws"))
        print(
            f"status: goal not reached: the draws any exact simulation of this scenario needs take {floor:.1f} "
            f"date_range times before simulating anything (goal {GOAL:g} for everything); this method's own "
            f"draws (the ones its seeded results are made of) take {own:.1f}; the rest is the vectorized passes "
            f"over the {kept} kept deliveries (tens of nanoseconds each per delivery, against the baseline's "
            "fraction of a nanosecond per tick) and fresh memory for their temporaries (memory lines); the guard's "
            "sequential part is short (guard line). See the sweep lines for the scenarios that meet it."
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

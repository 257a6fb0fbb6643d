"""A year of one-minute ticks through the A-vs-B simulation, timed against building its tick index.

Both measured in this run, on this machine (absolute times mean little here: ratios do).
  ratio = median(simulate(scenario): pattern A and pattern B+guard+dedupe, metrics and costs)
          / median(pd.date_range of the same 525,600 UTC tick times)          goal <= 5
The scenario is a realistic one-minute job: lognormal durations averaging 30 s (about 7% outlast
the interval, so the guard and the overlap accounting have work), 1% launch failures, 2% job
failures and 0.1% duplicate deliveries. Two further lines are reported for information: all four
compared variants, the worst case for the guard loop (every run outlasts the interval), and the
time of the scenario's random draws alone: one duration per delivery is already dozens of
date_range times, so the draws, not the bookkeeping, bound what any vectorized simulate can reach.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

import pandas as pd

from sfnecs.patterns import COMPARED_VARIANTS, Scenario, _draw, simulate

YEAR = Scenario(horizon="365D", interval_minutes=1, duration_kind="lognormal", duration_minutes=0.5,
                duration_sigma=0.6, launch_failure_rate=0.01, job_failure_rate=0.02,
                duplicate_delivery_rate=0.001, seed=7)


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: imports, allocator, caches
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def ratios(repeats: int = 7) -> dict[str, tuple[float, float, float]]:
    """name -> (ratio, simulate seconds, date_range seconds), baseline timed in the same run."""
    base = _median_seconds(lambda: pd.date_range(YEAR.start, periods=YEAR.ticks,
                                                 freq=f"{YEAR.interval_minutes}min"), repeats)
    worst = YEAR.replace(duration_kind="fixed", duration_minutes=1.5)
    cases = {
        "simulate": lambda: simulate(YEAR),
        "random draws alone (the floor under any stochastic simulate)": lambda: _draw(YEAR),
        "simulate, 4 variants": lambda: simulate(YEAR, COMPARED_VARIANTS),
        "simulate, every run outlasts the interval": lambda: simulate(worst),
    }
    out = {}
    for name, fn in cases.items():
        seconds = _median_seconds(fn, repeats)
        out[name] = (seconds / base, seconds, base)
    return out


def main() -> int:
    for name, (ratio, seconds, base) in ratios().items():
        detail = f"{seconds * 1000:.1f} ms vs pd.date_range {base * 1000:.2f} ms for {YEAR.ticks} ticks"
        if name == "simulate":
            print(f"simulate: {detail}")
            print(f"ratio: simulate = {ratio:.2f} (goal <= 5)")
        else:
            print(f"info: {name}: ratio {ratio:.2f} [{detail}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

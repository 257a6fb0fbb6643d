"""Simulate pattern A and pattern B over a scenario's horizon: `simulate_variants`, `compare`, `expected_counts`.

Why: "`.sync` prevents overlaps" and similar claims are settled by counting, not by opinion.

Simulation semantics (times in seconds from `Scenario.start`; everything instantaneous unless said):

* Ticks fire every `interval_minutes` over `horizon` (a `rate()` schedule, flexible window OFF). Each
  tick is *delivered* once, plus at-least-once duplicates (fact: scheduler-at-least-once): with probability
  `duplicate_delivery_rate`, and once more per occurrence of the tick in `duplicates`. The k-th
  duplicate arrives `k * duplicate_delay_seconds` after the tick.
* Pattern A: every delivery calls RunTask once. A launch failure (RunTask `failures`) is silent: the
  kit assumes the invocation counts as delivered (documented for rules, not for the Scheduler), so the
  Scheduler neither retries nor reports it (fact: direct-runtask-silent). A launched task runs for its
  drawn duration; a failed job is noticed through the task-failure rule when the stack has one
  (`notify_failure`), silent otherwise. Runs overlap whenever a task outlasts the interval; duplicates
  launch twice. No state transitions.
* Pattern B: every delivery calls StartExecution. With `dedupe_by_execution_name` the name is derived
  from the scheduled time, so a duplicate arriving while that execution runs is absorbed (same name
  and input: idempotent) and one arriving after it closed gets `ExecutionAlreadyExists`
  (fact: start-execution-idempotent): no second launch either way. Without it every delivery is a new
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

from collections.abc import Sequence

import pandas as pd

from sfnecs.checks import check_choice
from sfnecs.exceptions import ValidationError
from sfnecs.patterns.draws import _draw_per_tick
from sfnecs.patterns.engine import _outcome_b, _trace
from sfnecs.patterns.results import SimulationResult, _Alone, _Detail, _month_bounds, _Redraw, _result
from sfnecs.patterns.scenario import COMPARED_VARIANTS, VARIANTS, Scenario, Variant
from sfnecs.patterns.sparse import _draw

#: How `simulate_variants` draws: "sparse" touches only the deliveries that can meet another (the
#: default, fast); "per_tick" draws every delivery and attempt one by one (the plain reference, slow).
METHODS = ("sparse", "per_tick")


def simulate_variants(
    scenario: Scenario, variants: Sequence[str] | None = None, *, method: str = "sparse"
) -> SimulationResult:
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
    return simulate_variants(scenario, variants).to_frame()


def expected_counts(scenario: Scenario, pattern_variant: str) -> dict[str, int]:
    """The exact counts a live run of this deterministic scenario must reproduce.

    Why: `sfnecs.evidence.simulation_check` runs the scenario live on the sandbox clock and compares counts; exact
    equality is only meaningful when nothing is random (fixed durations; rates of exactly 0 or 1).
    """
    if not isinstance(scenario, Scenario):
        raise ValidationError("scenario", scenario, "a sfnecs.patterns.Scenario")
    if not scenario.deterministic:
        raise ValidationError(
            "scenario",
            scenario.duration_kind
            if scenario.duration_kind != "fixed"
            else (scenario.launch_failure_rate, scenario.job_failure_rate, scenario.duplicate_delivery_rate),
            "a deterministic scenario: duration_kind='fixed' and launch_failure_rate, "
            "job_failure_rate, duplicate_delivery_rate each 0 or 1",
        )
    label = Variant.parse(pattern_variant, "pattern_variant").label
    return simulate_variants(scenario, [label])[label].counts()

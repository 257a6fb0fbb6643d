"""What one deployed stack costs a month: runs from its schedule x the job's duration x Fargate prices,
plus state transitions (pattern B) and Scheduler invocations, with every assumption said.

Why: `deploy` shows the bill a schedule implies before it runs for a month; the numbers come from
`sfnecs.model.prices` (check before quoting), never from a hidden constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

from sfnecs import statemachine as sm
from sfnecs.checks import check_positive
from sfnecs.model.prices import Prices
from sfnecs.model.spec import StackSpec
from sfnecs.schedule import UNIT_SECONDS, fire_times_between, parse_expression

__all__ = ["CostEstimate", "monthly_cost", "runs_per_month"]

#: The year the runs of a cron() schedule are counted over (a common year, 365 days), then / 12.
_COUNT_YEAR = 2027


def runs_per_month(expression: str, timezone: str = "UTC") -> float:
    """Average firings per month: rate() exactly, cron() counted over a whole year / 12, at() once."""
    schedule = parse_expression(expression, parameter="schedule_expression")
    if schedule.kind == "at":
        return 0.0  # a one-time schedule has no monthly cost after its month
    if schedule.kind == "rate":
        return 365 * 86_400 / (schedule.rate_value * UNIT_SECONDS[schedule.rate_unit]) / 12
    zone = ZoneInfo(timezone)  # the year of the schedule's own calendar
    start, end = datetime(_COUNT_YEAR, 1, 1, tzinfo=zone), datetime(_COUNT_YEAR + 1, 1, 1, tzinfo=zone)
    return len(fire_times_between(expression, start, end, timezone)) / 12


def _transitions_per_run(spec: StackSpec) -> int:
    """States a successful run enters (JSONata's shape; JSONPath enters a few more Choice/Pass states)."""
    states = [sm.CHECK_RUNNING, sm.ALREADY_RUNNING] if spec.guard else []
    return len(states) + 1 + (1 if spec.notify_success else 0)


@dataclass(frozen=True)
class CostEstimate:
    """The month's estimate, line by line (USD), and what it assumes."""

    lines: tuple[tuple[str, float, str], ...]  # (item, USD per month, how it was computed)
    assumptions: tuple[str, ...]

    @property
    def total(self) -> float:
        return sum(usd for _, usd, _ in self.lines)

    def to_frame(self) -> pd.DataFrame:
        rows = [{"item": item, "USD per month": round(usd, 2), "how": how} for item, usd, how in self.lines]
        rows.append({"item": "total", "USD per month": round(self.total, 2), "how": "sum of the lines above"})
        return pd.DataFrame(rows)


def monthly_cost(spec: StackSpec, expected_duration_seconds: float = 300, prices: Prices | None = None) -> CostEstimate:
    """The estimated monthly cost of `spec`'s schedule, for jobs that run `expected_duration_seconds`."""
    duration = check_positive("expected_duration_seconds", expected_duration_seconds, 31_536_000, "seconds")
    prices = prices or Prices()
    runs = runs_per_month(spec.schedule_expression, spec.timezone)
    billed = max(float(duration), prices.fargate_minimum_seconds)
    vcpu_rate, gb_rate = prices.fargate_rates(spec.cpu_architecture)
    vcpu_hours = runs * spec.cpu / 1024 * billed / 3600
    gb_hours = runs * spec.memory / 1024 * billed / 3600
    lines = [
        (
            "Fargate vCPU",
            vcpu_hours * vcpu_rate,
            f"{runs:,.1f} runs x {spec.cpu / 1024:g} vCPU x {billed:g} s "
            f"at {vcpu_rate} USD per vCPU-hour ({spec.cpu_architecture})",
        ),
        (
            "Fargate memory",
            gb_hours * gb_rate,
            f"{runs:,.1f} runs x {spec.memory / 1024:g} GB x {billed:g} s at {gb_rate} USD per GB-hour",
        ),
    ]
    invocations = max(0.0, runs - prices.scheduler_free_per_month)
    lines.append(
        (
            "EventBridge Scheduler",
            invocations / 1e6 * prices.scheduler_per_million,
            f"{runs:,.1f} invocations, {prices.scheduler_free_per_month:,} free a month",
        )
    )
    assumptions = [
        f"every run lasts {duration:g} s (Fargate bills per second, at least "
        f"{prices.fargate_minimum_seconds} s per task)",
        "no retries, no duplicate deliveries and no overlapping runs",
        "prices: sfnecs.model.prices defaults for us-east-1 unless passed (check before quoting)",
    ]
    if "FARGATE_SPOT" in spec.capacity_providers:
        assumptions.append(
            "Fargate Spot is billed below on-demand by a varying discount the kit does not record: "
            "the Fargate lines are on-demand prices, an upper bound"
        )
    if spec.pattern == "B":
        per_run = _transitions_per_run(spec)
        transitions = runs * per_run
        billable = max(0.0, transitions - prices.sfn_free_transitions_per_month)
        lines.append(
            (
                "Step Functions transitions",
                billable / 1000 * prices.sfn_per_1000_transitions,
                f"{runs:,.1f} runs x {per_run} transitions, {prices.sfn_free_transitions_per_month:,} free a "
                "month (per account, shared with its other state machines)",
            )
        )
        assumptions.append(
            f"a successful run enters {per_run} states ({spec.query_language}; JSONPath machines "
            "enter a few more Choice and Pass states, and every retry adds one)"
        )
    return CostEstimate(tuple(lines), tuple(assumptions))

"""What one deployed stack costs a month: runs from its schedule x the job's duration x Fargate prices,
plus state transitions (pattern B) and Scheduler invocations, with every assumption said.

Why: `deploy` shows the bill a schedule implies before it runs for a month; the numbers come from
`sfnecs.model.prices` (check before quoting), never from a hidden constant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

from sfnecs import statemachine as sm
from sfnecs.checks import check_int, check_positive
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, tr
from sfnecs.model.prices import Prices
from sfnecs.model.spec import StackSpec
from sfnecs.schedule import UNIT_SECONDS, fire_times_between, parse_expression

__all__ = ["CostEstimate", "UsageCost", "monthly_cost", "runs_per_month", "usage_cost"]

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

    # (item, USD per month, how it was computed): items stay English (N_, the display translates them);
    # the hows and the assumptions are made in the current language
    lines: tuple[tuple[str, float, str], ...]
    assumptions: tuple[str, ...]

    @property
    def total(self) -> float:
        return sum(usd for _, usd, _ in self.lines)

    def to_frame(self) -> pd.DataFrame:
        """One row per line and a total row: item, USD per month, how."""
        item, usd_month, how = N_("item"), N_("USD per month"), N_("how")
        rows = [{item: name, usd_month: round(usd, 2), how: text} for name, usd, text in self.lines]
        rows.append({item: N_("total"), usd_month: round(self.total, 2), how: tr("sum of the lines above")})
        return pd.DataFrame(rows)


def monthly_cost(spec: StackSpec, expected_duration_seconds: float = 300, prices: Prices | None = None) -> CostEstimate:
    """The estimated monthly cost of `spec`'s schedule, for jobs that run `expected_duration_seconds`."""
    duration = check_positive("expected_duration_seconds", expected_duration_seconds, 31_536_000, "seconds")
    prices = prices or Prices()
    runs = runs_per_month(spec.schedule_expression, spec.timezone)
    billed = prices.billed_seconds(duration)
    vcpu_rate, gb_rate = prices.fargate_rates(spec.cpu_architecture)
    vcpu_hours = runs * spec.cpu / 1024 * billed / 3600
    gb_hours = runs * spec.memory / 1024 * billed / 3600
    lines = [
        (
            "Fargate vCPU",
            vcpu_hours * vcpu_rate,
            tr(
                "{runs} runs x {vcpu} vCPU x {billed} s at {rate} USD per vCPU-hour ({arch})",
                runs=format(runs, ",.1f"),
                vcpu=format(spec.cpu / 1024, "g"),
                billed=format(billed, "g"),
                rate=vcpu_rate,
                arch=spec.cpu_architecture,
            ),
        ),
        (
            N_("Fargate memory"),
            gb_hours * gb_rate,
            tr(
                "{runs} runs x {gb} GB x {billed} s at {rate} USD per GB-hour",
                runs=format(runs, ",.1f"),
                gb=format(spec.memory / 1024, "g"),
                billed=format(billed, "g"),
                rate=gb_rate,
            ),
        ),
    ]
    invocations = max(0.0, runs - prices.scheduler_free_per_month)
    lines.append(
        (
            "EventBridge Scheduler",
            invocations / 1e6 * prices.scheduler_per_million,
            tr(
                "{runs} invocations, {free} free a month",
                runs=format(runs, ",.1f"),
                free=format(prices.scheduler_free_per_month, ","),
            ),
        )
    )
    assumptions = [
        tr(
            "every run lasts {duration} s (Fargate bills per second, at least {minimum} s per task)",
            duration=format(duration, "g"),
            minimum=prices.fargate_minimum_seconds,
        ),
        tr("no retries, no duplicate deliveries and no overlapping runs"),
        tr("prices: sfnecs.model.prices defaults for us-east-1 unless passed (check before quoting)"),
    ]
    if "FARGATE_SPOT" in spec.capacity_providers:
        assumptions.append(
            tr(
                "Fargate Spot is billed below on-demand by a varying discount the kit does not record: "
                "the Fargate lines are on-demand prices, an upper bound"
            )
        )
    if spec.pattern == "B":
        per_run = _transitions_per_run(spec)
        transitions = runs * per_run
        billable = max(0.0, transitions - prices.sfn_free_transitions_per_month)
        lines.append(
            (
                N_("Step Functions transitions"),
                billable / 1000 * prices.sfn_per_1000_transitions,
                tr(
                    "{runs} runs x {per_run} transitions, {free} free a month "
                    "(per account, shared with its other state machines)",
                    runs=format(runs, ",.1f"),
                    per_run=per_run,
                    free=format(prices.sfn_free_transitions_per_month, ","),
                ),
            )
        )
        assumptions.append(
            tr(
                "a successful run enters {per_run} states ({language}; JSONPath machines "
                "enter a few more Choice and Pass states, and every retry adds one)",
                per_run=per_run,
                language=spec.query_language,
            )
        )
    return CostEstimate(tuple(lines), tuple(assumptions))


@dataclass(frozen=True)
class UsageCost:
    """What a handful of runs cost on AWS (a lesson's own runs): Fargate time, transitions, invocations (USD)."""

    tasks: int
    billed_seconds: float  # each task's seconds, at least Fargate's minimum
    fargate_usd: float
    transitions: int
    step_functions_usd: float  # before the monthly free tier
    invocations: int
    scheduler_usd: float  # before the monthly free tier
    prices: Prices

    def line(self) -> str:
        """One sentence for people, in the current language: each service's share and its free tier."""
        parts = [
            tr(
                "Fargate: {tasks} tasks, {seconds} task-seconds billed = ${usd}",
                tasks=self.tasks,
                seconds=format(self.billed_seconds, ",g"),
                usd=format(self.fargate_usd, ".4f"),
            )
        ]
        if self.transitions:
            parts.append(
                tr(
                    "Step Functions: {transitions} transitions = ${usd}, or nothing within the account's "
                    "{free} free a month",
                    transitions=self.transitions,
                    usd=format(self.step_functions_usd, ".4f"),
                    free=format(self.prices.sfn_free_transitions_per_month, ","),
                )
            )
        if self.invocations:
            parts.append(
                tr(
                    "Scheduler: {invocations} invocations = ${usd}, or nothing within its {free} free a month",
                    invocations=self.invocations,
                    usd=format(self.scheduler_usd, ".6f"),
                    free=format(self.prices.scheduler_free_per_month, ","),
                )
            )
        return tr("; ").join(parts) + tr(".")

    def __str__(self) -> str:
        return self.line()


def usage_cost(
    spec: StackSpec,
    task_seconds: Sequence[float],
    transitions: int = 0,
    invocations: int = 0,
    prices: Prices | None = None,
) -> UsageCost:
    """What tasks of `spec`'s size lasting `task_seconds` each, `transitions` and `invocations` cost on AWS.

    Why: a lesson says what its own runs would have cost, from the same price table as `monthly_cost`
    (each task billed at least Fargate's minimum; the free tiers named, not subtracted: they are monthly
    and shared by the account).
    """
    if isinstance(task_seconds, (str, bytes)) or not isinstance(task_seconds, Sequence):
        raise ValidationError("task_seconds", task_seconds, tr("a list of each task's seconds"))
    seconds = [check_positive("task_seconds", s, 31_536_000, "seconds") for s in task_seconds]
    check_int("transitions", transitions, 0, 10**9)
    check_int("invocations", invocations, 0, 10**9)
    prices = prices or Prices()
    vcpu_rate, gb_rate = prices.fargate_rates(spec.cpu_architecture)
    billed = sum(prices.billed_seconds(s) for s in seconds)
    per_second = (spec.cpu / 1024 * vcpu_rate + spec.memory / 1024 * gb_rate) / 3600
    return UsageCost(
        tasks=len(seconds),
        billed_seconds=billed,
        fargate_usd=billed * per_second,
        transitions=transitions,
        step_functions_usd=transitions * prices.sfn_per_1000_transitions / 1000,
        invocations=invocations,
        scheduler_usd=invocations * prices.scheduler_per_million / 1e6,
        prices=prices,
    )

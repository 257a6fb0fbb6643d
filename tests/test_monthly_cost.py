"""The monthly cost estimate `deploy` shows (sfnecs.patterns.monthly_cost)."""

from __future__ import annotations

import pytest

from sfnecs.exceptions import ValidationError
from sfnecs.model import StackSpec
from sfnecs.model.prices import Prices
from sfnecs.patterns import monthly_cost, runs_per_month, usage_cost


@pytest.mark.parametrize(
    "expression, timezone, runs",
    [
        ("rate(1 hour)", "UTC", 730.0),  # 8,760 hours a year / 12
        ("rate(5 minutes)", "UTC", 8_760.0),
        ("cron(0 8 ? * MON-FRI *)", "Asia/Tokyo", 261 / 12),  # 2027 has 261 weekdays, counted on Tokyo's calendar
        # the same mornings as a legacy rule writes them in UTC; counted on UTC's 2027 the morning of Friday
        # 1 January 2027 (Tokyo) falls on 31 December 2026, so 260
        ("cron(0 23 ? * SUN-THU *)", "UTC", 260 / 12),
        ("at(2027-01-01T00:00:00)", "UTC", 0.0),
    ],
)
def test_runs_per_month_follow_the_expression(expression, timezone, runs):
    assert runs_per_month(expression, timezone) == pytest.approx(runs)


def test_the_estimate_adds_up_line_by_line():
    spec = StackSpec("nightly", schedule_expression="rate(1 hour)", cpu=1024, memory=2048)
    prices = Prices(sfn_free_transitions_per_month=0, scheduler_free_per_month=0)
    estimate = monthly_cost(spec, expected_duration_seconds=600, prices=prices)
    lines = {item: usd for item, usd, _ in estimate.lines}
    assert lines["Fargate vCPU"] == pytest.approx(730 * 1 * 600 / 3600 * 0.04048)
    assert lines["Fargate memory"] == pytest.approx(730 * 2 * 600 / 3600 * 0.004445)
    assert lines["EventBridge Scheduler"] == pytest.approx(730 / 1e6 * 1.00)
    # guard on (CheckRunning, AlreadyRunning?) + RunJob: three transitions a successful run
    assert lines["Step Functions transitions"] == pytest.approx(730 * 3 / 1000 * 0.025)
    assert estimate.total == pytest.approx(sum(lines.values()))
    frame = estimate.to_frame()
    assert list(frame["item"])[-1] == "total" and frame["USD per month"].iloc[-1] == round(estimate.total, 2)


def test_short_jobs_are_billed_a_minute_and_pattern_a_has_no_transitions():
    spec = StackSpec("direct", pattern="A", schedule_expression="rate(1 hour)")
    short, minute = monthly_cost(spec, 5), monthly_cost(spec, 60)
    assert short.lines == minute.lines  # Fargate's one-minute minimum
    assert "Step Functions transitions" not in {item for item, _, _ in short.lines}


def test_spot_and_arm64_assumptions_are_said():
    spot = monthly_cost(StackSpec("spotty", capacity_provider_strategy="FARGATE_SPOT"))
    assert any("Fargate Spot" in a and "upper bound" in a for a in spot.assumptions)
    arm = monthly_cost(StackSpec("armed", cpu_architecture="ARM64"))
    assert (
        dict((i, u) for i, u, _ in arm.lines)["Fargate vCPU"]
        < dict((i, u) for i, u, _ in monthly_cost(StackSpec("armed")).lines)["Fargate vCPU"]
    )
    with pytest.raises(ValidationError, match="expected_duration_seconds=0 is not valid"):
        monthly_cost(StackSpec("armed"), 0)


def test_usage_cost_of_a_lessons_runs_matches_hand_arithmetic():
    job = StackSpec("nightly-report")  # 0.25 vCPU, 0.5 GB
    per_second = (0.25 * 0.04048 + 0.5 * 0.004445) / 3600
    short = usage_cost(job, [20] * 4, transitions=60)  # each short task billed the one-minute minimum
    assert (short.tasks, short.billed_seconds) == (4, 240.0)
    assert short.fargate_usd == pytest.approx(240 * per_second)
    assert short.step_functions_usd == pytest.approx(60 * 0.025 / 1000)
    assert str(short) == (
        f"Fargate: 4 tasks, 240 task-seconds billed = ${240 * per_second:.4f}; Step Functions: 60 transitions = "
        "$0.0015, or nothing within the account's 4,000 free a month."
    )
    runs = usage_cost(job, [90, 90, 90, 1800], transitions=40, invocations=4)
    assert runs.billed_seconds == 2070 and runs.scheduler_usd == pytest.approx(4 / 1e6)
    assert "Scheduler: 4 invocations" in runs.line() and "14,000,000 free a month" in runs.line()
    assert "Step Functions" not in usage_cost(job, [600]).line()  # pattern A's runs: no transitions


def test_usage_cost_refuses_what_it_cannot_price():
    job = StackSpec("nightly-report")
    with pytest.raises(ValidationError, match="task_seconds"):
        usage_cost(job, 90)  # one number, not a list of tasks
    with pytest.raises(ValidationError, match="task_seconds=0 is not valid"):
        usage_cost(job, [90, 0])
    with pytest.raises(ValidationError, match="transitions=-1 is not valid"):
        usage_cost(job, [90], transitions=-1)

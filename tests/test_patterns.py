"""Pattern A vs B: hand-computed scenarios, a plain-loop reference model, costs, validation, tables, chart."""

from __future__ import annotations

import math
import re
from dataclasses import fields

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from sfnecs.exceptions import ValidationError  # noqa: E402
from sfnecs.model.prices import Prices  # noqa: E402
from sfnecs.model.sources import FACTS, cited_ids  # noqa: E402
from sfnecs.patterns import (  # noqa: E402
    COMPARED_VARIANTS,
    COUNT_KEYS,
    METHODS,
    VARIANTS,
    Scenario,
    Variant,
    VariantResult,
    compare,
    execution_states,
    expected_counts,
    feature_table,
    misconceptions,
    scenario_timeline,
    simulate_variants,
    transitions_table,
)
from sfnecs.patterns.draws import _draw_per_tick, _Law, _normal_tail, _positions  # noqa: E402
from sfnecs.patterns.sparse import _draw  # noqa: E402

HOURLY_90 = Scenario(horizon="10h", interval_minutes=60, duration_minutes=90.0)  # every job outlasts the interval
DUPES = Scenario(horizon="10h", interval_minutes=60, duration_minutes=30.0, duplicates=(2, 5))


# ---- hand-computed, deterministic scenarios -----------------------------------------------------------


def test_jobs_longer_than_the_interval_overlap_in_a_and_in_b_without_guard():
    r = simulate_variants(HOURLY_90, VARIANTS)
    for label in ("A", "B", "B+dedupe"):
        v = r[label]
        # task i runs [60i, 60i + 90): each of ticks 1..9 starts while its predecessor runs, for 30 minutes
        assert (v.task_launches, v.overlapping_launches, v.max_concurrent) == (10, 9, 2)
        assert v.overlap_minutes == pytest.approx(9 * 30)
    for label in ("B+guard", "B+guard+dedupe"):
        v = r[label]
        # the run of tick 0 ends at 90: tick 1 (60) is skipped, tick 2 (120) runs, ... -> ticks 0, 2, 4, 6, 8
        assert (v.task_launches, v.skipped_by_guard, v.overlapping_launches, v.max_concurrent) == (5, 5, 0, 1)
        runs = v.runs
        assert runs["tick"].tolist() == [0, 2, 4, 6, 8]


def test_explicit_duplicates_launch_twice_in_a_and_once_with_execution_names():
    r = simulate_variants(DUPES, VARIANTS)
    assert r["A"].deliveries == 12
    assert (r["A"].task_launches, r["A"].duplicate_launches) == (12, 2)
    assert (r["B"].executions, r["B"].task_launches, r["B"].duplicate_launches) == (12, 12, 2)
    # each duplicate arrives 5 s after its tick, while that execution runs: StartExecution is idempotent
    assert (r["B+dedupe"].executions, r["B+dedupe"].task_launches, r["B+dedupe"].duplicate_launches) == (10, 10, 0)
    assert (r["B+dedupe"].deduplicated_running, r["B+dedupe"].already_exists) == (2, 0)
    # without names the guard still catches them: the duplicate's execution sees the original RUNNING
    assert (r["B+guard"].task_launches, r["B+guard"].skipped_by_guard, r["B+guard"].duplicate_launches) == (10, 2, 0)
    runs = r["A"].runs
    assert runs.loc[runs["duplicate"], "tick"].tolist() == [2, 5]
    assert runs.loc[runs["duplicate"], "overlapping"].all()


def test_duplicate_after_the_execution_closed_gets_execution_already_exists():
    s = DUPES.replace(duration_minutes=1.0, duplicate_delay_seconds=120.0)
    v = simulate_variants(s, ["B+dedupe"])["B+dedupe"]
    assert (v.task_launches, v.deduplicated_running, v.already_exists) == (10, 0, 2)
    # without names, a late duplicate passes the guard (nothing runs any more) and launches again
    assert simulate_variants(s, ["B+guard"])["B+guard"].duplicate_launches == 2


def test_every_tick_duplicated_by_rate_one():
    r = simulate_variants(
        HOURLY_90.replace(duration_minutes=10.0, duplicate_delivery_rate=1.0), ["A", "B+guard+dedupe"]
    )
    assert (r["A"].deliveries, r["A"].task_launches, r["A"].duplicate_launches) == (20, 20, 10)
    assert (r["B+guard+dedupe"].task_launches, r["B+guard+dedupe"].deduplicated_running) == (10, 10)


def test_a_run_ending_exactly_at_the_next_tick_does_not_overlap_and_overhead_makes_the_guard_skip():
    s = HOURLY_90.replace(duration_minutes=60.0)
    r = simulate_variants(s, ["A", "B+guard+dedupe"])
    assert r["A"].overlapping_launches == 0 and r["B+guard+dedupe"].task_launches == 10
    late = simulate_variants(s.replace(execution_overhead_seconds=1.0), ["B+guard+dedupe"])["B+guard+dedupe"]
    assert (late.task_launches, late.skipped_by_guard) == (5, 5)


# ---- failure accounting -------------------------------------------------------------------------------


def test_launch_failures_are_silent_in_a_and_retried_then_notified_in_b():
    s = Scenario(horizon="10h", interval_minutes=60, launch_failure_rate=1.0, launch_retry_attempts=3)
    r = simulate_variants(s, ["A", "B+guard+dedupe"])
    a, b = r["A"], r["B+guard+dedupe"]
    assert (a.run_task_calls, a.task_launches, a.failures, a.failures_silent, a.failures_noticed, a.notifications) == (
        10,
        0,
        10,
        10,
        0,
        0,
    )
    assert (b.run_task_calls, b.task_launches, b.failures, b.failures_silent, b.failures_noticed, b.notifications) == (
        40,
        0,
        10,
        0,
        10,
        10,
    )
    # CheckRunning, AlreadyRunning?, RunJob, 3 retries, NotifyFailure, Failed
    assert b.state_transitions == 10 * 8
    assert (b.fargate_vcpu_hours, b.cost_fargate_vcpu) == (0.0, 0.0)
    assert set(b.deliveries_frame["disposition"]) == {"launch_failed"}


def test_job_failures_are_noticed_and_notified_in_both_and_job_retries_rerun_the_task_only_in_b():
    s = Scenario(horizon="10h", interval_minutes=60, job_failure_rate=1.0)
    r = simulate_variants(s, ["A", "B+guard+dedupe"])
    # A as AWS recommends: each failed task's STOPPED event matches the rule, which notifies
    a = r["A"]
    assert (a.failures, a.failures_silent, a.failures_noticed, a.notifications, a.task_launches) == (10, 0, 10, 10, 10)
    quiet_a = simulate_variants(s.replace(notify_failure=False), ["A"])["A"]
    assert (quiet_a.failures_silent, quiet_a.notifications) == (10, 0)  # no rule: the failures go unseen
    b = r["B+guard+dedupe"]
    assert (b.failures_noticed, b.notifications, b.state_transitions) == (10, 10, 10 * 5)
    again = simulate_variants(s.replace(retry_job_failures=1), ["B+guard+dedupe"])["B+guard+dedupe"]
    assert (again.task_launches, again.failures, again.state_transitions) == (20, 10, 10 * 6)
    assert sorted(again.runs["job_attempt"].tolist()) == [0] * 10 + [1] * 10
    quiet = simulate_variants(s.replace(notify_failure=False), ["B+guard+dedupe"])["B+guard+dedupe"]
    assert (quiet.failures_noticed, quiet.notifications, quiet.state_transitions) == (10, 0, 10 * 3)


def test_success_notifications_add_a_transition_each():
    v = simulate_variants(HOURLY_90.replace(duration_minutes=10.0, notify_success=True), ["B+guard+dedupe"])[
        "B+guard+dedupe"
    ]
    assert (v.notifications, v.state_transitions) == (10, 10 * 4)


def test_launch_retries_recover_most_launch_failures():
    s = Scenario(horizon="7D", interval_minutes=60, launch_failure_rate=0.5, seed=3)
    r = simulate_variants(s, ["A", "B+guard+dedupe"])
    a, b = r["A"], r["B+guard+dedupe"]
    assert b.launch_failures_recovered > 0
    assert b.failures < a.failures  # with 3 retries only 1 in 16 executions exhausts them
    assert b.task_launches + b.failures == s.ticks
    assert b.run_task_calls > b.task_launches


def test_state_paths_follow_the_state_machine_shape():
    s = Scenario()
    assert execution_states(s, True)["skipped"] == ("CheckRunning", "AlreadyRunning?", "SkippedOverlap")
    assert execution_states(s, False)["failed"] == ("RunJob", "NotifyFailure", "Failed")
    table = transitions_table(s)
    assert set(table["path"]) == {"skipped", "succeeded", "failed"}
    assert table.loc[(table["guard"]) & (table["path"] == "succeeded"), "transitions"].item() == 3


def test_state_paths_name_states_of_the_built_definition():
    from sfnecs.model import StackSpec
    from sfnecs.statemachine import build_definition

    spec = StackSpec("paths", guard=True, notify_success=True, notify_failure=True, query_language="JSONata")
    states = build_definition(spec)["States"]
    s = Scenario.from_spec(spec, interval_minutes=60)
    for guard in (False, True):
        for path, names in execution_states(s, guard).items():
            assert set(names) <= set(states), (guard, path, names)


# ---- costs ----------------------------------------------------------------------------------------------


def test_fargate_cost_matches_hand_arithmetic():
    s = HOURLY_90.replace(cpu=1024, memory=2048, cpu_architecture="ARM64")
    a = simulate_variants(s, ["A"])["A"]
    # 10 tasks x 1.5 h x 1 vCPU = 15 vCPU-h; x 2 GB = 30 GB-h, at the ARM defaults
    assert a.fargate_vcpu_hours == pytest.approx(15.0)
    assert a.fargate_gb_hours == pytest.approx(30.0)
    assert a.cost_fargate_vcpu == pytest.approx(15 * 0.03238)
    assert a.cost_fargate_memory == pytest.approx(30 * 0.00356)
    assert a.cost_total == pytest.approx(15 * 0.03238 + 30 * 0.00356)


def test_fargate_bills_a_one_minute_minimum():
    a = simulate_variants(HOURLY_90.replace(duration_minutes=0.25), ["A"])["A"]
    assert a.fargate_vcpu_hours == pytest.approx(10 * (60 / 3600) * 0.25)


def test_step_functions_free_tier_applies_per_calendar_month():
    # 1,440 one-minute ticks on each side of a month boundary; the guard path costs 3 transitions
    s = Scenario(horizon="2D", interval_minutes=1, start="2025-01-31T00:00:00Z", duration_minutes=0.5)
    b = simulate_variants(s, ["B+guard+dedupe"])["B+guard+dedupe"]
    assert b.state_transitions == 2880 * 3
    assert b.billable_transitions == 2 * (1440 * 3 - 4000)
    assert b.cost_step_functions == pytest.approx(2 * 320 * 0.025 / 1000)
    one_month = simulate_variants(s.replace(start="2025-01-10T00:00:00Z"), ["B+guard+dedupe"])["B+guard+dedupe"]
    assert one_month.billable_transitions == 2880 * 3 - 4000


def test_scheduler_invocations_beyond_an_overridden_free_tier():
    s = DUPES.replace(prices=Prices(scheduler_free_per_month=5, scheduler_per_million=2.0))
    a = simulate_variants(s, ["A"])["A"]
    assert (a.scheduler_invocations, a.billable_invocations) == (12, 7)
    assert a.cost_scheduler == pytest.approx(7 * 2.0 / 1e6)


def test_prices_table_marks_sources_community_and_overrides():
    table = Prices(sfn_per_1000_transitions=0.03).to_frame()
    assert table.loc["sfn_per_1000_transitions", "overridden"]
    assert table.loc["sfn_per_1000_transitions", "source"] == "caller override"
    assert table.loc["scheduler_per_million", "community"] and table.loc["fargate_arm_vcpu_hour", "community"]
    assert not table.loc["fargate_x86_vcpu_hour", "community"]
    assert table.loc["sfn_free_transitions_per_month", "value"] == 4000
    tokyo = Prices.for_region("ap-northeast-1")
    assert tokyo.fargate_rates("X86_64") == (0.05056, 0.005536)
    assert tokyo.to_frame().loc["fargate_x86_vcpu_hour", "community"]
    with pytest.raises(ValidationError, match="cpu_architecture"):
        tokyo.fargate_rates("ARM64")
    with pytest.raises(ValidationError, match="cpu_architecture"):
        Scenario(cpu_architecture="ARM64", prices=tokyo)
    with pytest.raises(ValidationError, match="fargate_x86_gb_hour"):
        Prices(fargate_x86_gb_hour=-1)
    with pytest.raises(ValidationError, match="region"):
        Prices.for_region("mars-1")


# ---- validation and reproducibility --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("horizon", "soon"),
        ("horizon", 365),
        ("horizon", "0s"),
        ("interval_minutes", 0),
        ("interval_minutes", 1.5),
        ("start", "yesterday-ish"),
        ("duration_kind", "normal"),
        ("duration_minutes", 0),
        ("duration_minutes", math.inf),
        ("duration_sigma", -1.0),
        ("launch_failure_rate", 1.5),
        ("job_failure_rate", -0.1),
        ("duplicate_delivery_rate", True),
        ("duplicates", (10,)),
        ("duplicates", "2"),
        ("duplicate_delay_seconds", 0),
        ("guard", "yes"),
        ("dedupe_by_execution_name", 1),
        ("launch_retry_attempts", 11),
        ("retry_job_failures", -1),
        ("retry_interval_seconds", 0),
        ("retry_backoff_rate", 0.5),
        ("execution_overhead_seconds", -1.0),
        ("cpu", 300),
        ("memory", 100),
        ("cpu_architecture", "arm"),
        ("seed", -1),
        ("prices", {"a": 1}),
    ],
)
def test_validation_names_the_parameter(parameter, value):
    with pytest.raises(ValidationError) as err:
        Scenario(horizon="10h", **{parameter: value}) if parameter != "horizon" else Scenario(horizon=value)
    assert err.value.parameter == parameter
    assert str(err.value).startswith(f"{parameter}=")


def test_scenario_from_a_stack_spec():
    from sfnecs.model import StackSpec

    spec = StackSpec(
        name="nightly",
        schedule_expression="rate(15 minutes)",
        guard=False,
        cpu=512,
        memory=1024,
        cpu_architecture="ARM64",
        launch_retry_attempts=2,
    )
    s = Scenario.from_spec(spec, horizon="2h")
    assert (s.interval_minutes, s.guard, s.cpu, s.memory, s.cpu_architecture, s.launch_retry_attempts, s.ticks) == (
        15,
        False,
        512,
        1024,
        "ARM64",
        2,
        8,
    )
    assert s.variant == "B+dedupe"
    cron = spec.replace(schedule_expression="cron(0 3 * * ? *)")
    with pytest.raises(ValidationError, match="schedule_expression"):
        Scenario.from_spec(cron)
    assert Scenario.from_spec(cron, interval_minutes=1440).interval_minutes == 1440
    tokyo = spec.replace(region="ap-northeast-1", cpu_architecture="X86_64")
    assert Scenario.from_spec(tokyo).prices.fargate_x86_vcpu_hour == 0.05056


def test_bad_variants_are_named():
    with pytest.raises(ValidationError, match="variants"):
        simulate_variants(DUPES, ["C"])
    with pytest.raises(ValidationError, match="pattern_variant"):
        expected_counts(DUPES, "B+sync")
    with pytest.raises(ValidationError, match="variant"):
        simulate_variants(DUPES)["B"]


def test_same_seed_same_result_other_seed_other_result():
    s = Scenario(
        horizon="3D",
        interval_minutes=15,
        duration_kind="lognormal",
        duration_minutes=12.0,
        launch_failure_rate=0.1,
        job_failure_rate=0.1,
        duplicate_delivery_rate=0.05,
        seed=11,
    )
    first, again = compare(s, VARIANTS), compare(s, VARIANTS)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(compare(s.replace(seed=12), VARIANTS))


def test_expected_counts_for_deterministic_scenarios_only():
    counts = expected_counts(DUPES, "B+dedupe")
    assert set(counts) == set(COUNT_KEYS)
    assert (counts["task_launches"], counts["deduplicated_running"], counts["executions"]) == (10, 2, 10)
    assert expected_counts(DUPES, "A")["task_launches"] == 12
    with pytest.raises(ValidationError) as err:
        expected_counts(DUPES.replace(duration_kind="exponential"), "A")
    assert err.value.parameter == "scenario"
    with pytest.raises(ValidationError):
        expected_counts(DUPES.replace(launch_failure_rate=0.5), "A")


# ---- the two corrected beliefs --------------------------------------------------------------------------


def test_misconception_sync_alone_does_not_prevent_overlap():
    r = simulate_variants(HOURLY_90, ["B", "B+dedupe"])
    assert r["B"].overlapping_launches > 0 and r["B+dedupe"].overlapping_launches > 0
    assert r["B"].max_concurrent >= 2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_misconception_guard_and_time_derived_names_leave_no_duplicates_or_overlaps(seed):
    # random durations around the interval, frequent duplicates (some after the run ended), failures
    s = Scenario(
        horizon="5D",
        interval_minutes=30,
        duration_kind="lognormal",
        duration_minutes=35.0,
        duration_sigma=0.8,
        duplicate_delivery_rate=0.3,
        duplicate_delay_seconds=1500.0,
        launch_failure_rate=0.2,
        job_failure_rate=0.2,
        retry_job_failures=1,
        seed=seed,
    )
    r = simulate_variants(s, ["A", "B", "B+guard+dedupe"])
    assert r["A"].duplicate_launches > 0 and r["A"].overlapping_launches > 0
    assert r["B"].duplicate_launches > 0 and r["B"].overlapping_launches > 0
    safe = r["B+guard+dedupe"]
    assert (safe.duplicate_launches, safe.overlapping_launches, safe.overlap_minutes) == (0, 0, 0.0)
    assert safe.max_concurrent == 1


def test_misconceptions_table_corrects_the_notes_claims_with_numbers():
    table = misconceptions()
    assert list(table.columns) == ["claim", "verdict", "why", "evidence"]
    claims = " ".join(table["claim"])
    for needle in ("`.sync` prevents overlapping runs", "IAM policy", "Apple Silicon"):
        assert needle in claims
    overlap = table.loc[table["claim"] == "`.sync` prevents overlapping runs"].iloc[0]
    assert overlap["verdict"] == "false"
    # 9 overlaps from 90-minute jobs every hour, plus the 2 duplicates for B without names
    assert "B=11" in overlap["evidence"] and "B+dedupe=9" in overlap["evidence"]
    assert "B+guard+dedupe=0" in overlap["evidence"]
    apple = table.loc[table["claim"].str.contains("Apple Silicon")].iloc[0]
    assert apple["verdict"] == "true of the task, false of the build"  # both readings, only what is true kept
    assert "correction-apple-silicon-sentence" in apple["evidence"]


# ---- tables cite their evidence ------------------------------------------------------------------------


def test_feature_table_rows_columns_and_evidence():
    table = feature_table()
    assert list(table.columns) == ["A", "B", "evidence"]
    assert list(table.index) == [
        "waiting for completion",
        "seeing failures",
        "retries: launch vs job",
        "notifications",
        "timeouts",
        "overlap handling",
        "duplicate handling",
        "cost",
        "moving parts",
        "IAM surface",
    ]
    result_keys = {f.name for f in fields(VariantResult)}
    known = {f.id for f in FACTS}
    for feature, evidence in table["evidence"].items():
        cited, malformed = cited_ids(evidence)
        keys = re.findall(r"sim:(\w+)", evidence)
        assert (cited or keys) and not malformed, feature
        assert set(cited) <= known, feature  # every citation names a fact of the registry
        assert set(keys) <= result_keys, feature
    assert "the Scheduler" in table.loc["seeing failures", "evidence"]  # what is documented for it, and what not
    assert "ecs:TagResource" in table.loc["IAM surface", "A"]  # the schedule propagates tags at launch
    assert "runtask-tag-on-create" in table.loc["IAM surface", "evidence"]
    assert "sync-abort-best-effort-stop" in table.loc["timeouts", "evidence"]
    assert "not documented" not in table.loc["timeouts", "B"]  # the abort case is documented; timeouts are not listed
    assert "per account" in table.loc["cost", "B"] and "deferred" in table.loc["cost", "B"]
    assert table.isna().sum().sum() == 0


# ---- timeline ------------------------------------------------------------------------------------------


def _bars(fig) -> int:
    return sum(isinstance(p, Rectangle) for ax in fig.axes for p in ax.patches)


def test_timeline_draws_one_bar_per_run_in_the_first_ticks():
    r = simulate_variants(DUPES, COMPARED_VARIANTS)
    fig = scenario_timeline(r, ticks=6)
    expected = int((r.runs["tick"] < 6).sum())
    assert expected == 8 + 8 + 6 + 6  # A and B launch ticks 2 and 5 twice; the others once per tick
    assert _bars(fig) == expected
    assert len(fig.axes) == len(COMPARED_VARIANTS)
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert {"run", "overlapping", "duplicate", "job failed"} <= set(labels)
    fig.savefig(__import__("io").BytesIO(), format="png")  # renders with Agg


def test_timeline_from_a_runs_frame_stacks_overlaps_in_lanes():
    runs = simulate_variants(HOURLY_90, ["A"]).runs
    fig = scenario_timeline(runs, ticks=4)
    assert _bars(fig) == 4
    ys = sorted({round(p.get_y() + p.get_height() / 2) for p in fig.axes[0].patches})
    assert ys == [0, 1]  # overlapping runs alternate between two lanes
    with pytest.raises(ValidationError, match="source"):
        scenario_timeline(pd.DataFrame({"x": [1]}))


# ---- the vectorized simulation agrees with a plain event loop -------------------------------------------


def _reference(s: Scenario, variant: str, method: str = "sparse") -> dict[str, float]:
    """The documented semantics, one delivery at a time, on the same draws (every delivery's: for the
    sparse method, the ones it kept as drawn and the ones it left out drawn to complete them)."""
    d = _draw(s).dense if method == "sparse" else _draw_per_tick(s)
    v = Variant.parse(variant)
    interval, rate = s.retry_interval_seconds, s.retry_backoff_rate
    tasks: list[tuple[float, float, int, int]] = []  # start, end, delivery, tick
    closes: dict[int, float] = {}  # execution name (tick) -> close time
    busy_until = -math.inf  # latest end of the executions that ran their task
    n = dict.fromkeys(
        [
            "executions",
            "run_task_calls",
            "skipped_by_guard",
            "deduplicated_running",
            "already_exists",
            "failures",
            "notifications",
            "state_transitions",
            "launch_failures_recovered",
        ],
        0,
    )
    states = execution_states(s, v.guard)
    for i in range(d.at.size):
        tick, at = int(d.tick[i]), float(d.at[i])
        if v.pattern == "A":
            n["run_task_calls"] += 1
            if d.launch_failures[i, 0] > 0:
                n["failures"] += 1
                continue
            tasks.append((at, at + d.durations[i, 0], i, tick))
            n["failures"] += bool(d.job_fails[i, 0])
            n["notifications"] += s.notify_failure * bool(d.job_fails[i, 0])  # the task-failure rule
            continue
        if v.dedupe and tick in closes:
            n["deduplicated_running" if at < closes[tick] else "already_exists"] += 1
            continue
        n["executions"] += 1
        if v.guard and busy_until > at:  # another execution is RUNNING now
            n["skipped_by_guard"] += 1
            n["state_transitions"] += len(states["skipped"])
            closes[tick] = at
            continue
        t, budget, launch_retries, job_retries, status = at, s.launch_retry_attempts, 0, 0, "ok"
        launch_failed = False
        for j in range(s.retry_job_failures + 1):
            g = int(d.launch_failures[i, j])
            for _ in range(min(g, budget)):
                n["run_task_calls"] += 1
                t += interval * rate**launch_retries
                launch_retries += 1
            if g > budget:
                n["run_task_calls"] += 1
                status, launch_failed = "failed", True
                break
            budget -= g
            n["run_task_calls"] += 1
            tasks.append((t, t + d.durations[i, j], i, tick))
            t += d.durations[i, j]
            if not d.job_fails[i, j]:
                break
            if j == s.retry_job_failures:
                status = "failed"
            else:
                t += interval * rate**j
                job_retries += 1
        n["launch_failures_recovered"] += launch_retries > 0 and not launch_failed
        n["failures"] += status == "failed"
        n["notifications"] += s.notify_failure if status == "failed" else s.notify_success
        path = states["succeeded" if status == "ok" else "failed"]
        n["state_transitions"] += len(path) + launch_retries + job_retries
        end = t + s.execution_overhead_seconds
        busy_until = max(busy_until, end)
        closes[tick] = end
    tasks.sort(key=lambda x: x[0])
    overlapping, latest_end = 0, -math.inf
    for start, end, _, _ in tasks:
        overlapping += latest_end > start
        latest_end = max(latest_end, end)
    events = sorted([(e, -1) for (_, e, _, _) in tasks] + [(st, 1) for (st, _, _, _) in tasks])
    running, peak, extra, last = 0, 0, 0.0, None
    for time_, step in events:
        if last is not None:
            extra += max(running - 1, 0) * (time_ - last)
        running += step
        peak, last = max(peak, running), time_
    per_tick: dict[int, set[int]] = {}
    for _, _, delivery, tick in tasks:
        per_tick.setdefault(tick, set()).add(delivery)
    n.update(
        task_launches=len(tasks),
        overlapping_launches=overlapping,
        max_concurrent=peak,
        overlap_minutes=extra / 60.0,
        duplicate_launches=sum(len(x) - 1 for x in per_tick.values()),
        deliveries=int(d.at.size),
    )
    return n


REFERENCE_CASES = [
    dict(
        duration_kind="lognormal",
        duration_minutes=50.0,
        duration_sigma=0.9,
        duplicate_delivery_rate=0.3,
        launch_failure_rate=0.3,
        job_failure_rate=0.3,
    ),
    dict(
        duration_kind="exponential",
        duration_minutes=70.0,
        duplicate_delivery_rate=0.4,
        duplicate_delay_seconds=5000.0,
        launch_failure_rate=0.5,
        launch_retry_attempts=1,
        job_failure_rate=0.4,
        retry_job_failures=2,
        retry_backoff_rate=1.0,
        retry_interval_seconds=30,
        execution_overhead_seconds=20.0,
    ),
    dict(duration_kind="fixed", duration_minutes=60.0, duplicates=(0, 3, 3, 7), duplicate_delay_seconds=3599.0),
    dict(
        duration_kind="fixed",
        duration_minutes=150.0,
        duplicate_delivery_rate=1.0,
        launch_failure_rate=0.2,
        notify_success=True,
    ),
    dict(
        duration_kind="lognormal",
        duration_minutes=20.0,
        duration_sigma=1.5,
        duplicate_delivery_rate=0.2,
        duplicate_delay_seconds=1200.0,
        launch_failure_rate=0.9,
        launch_retry_attempts=5,
        retry_interval_seconds=300,
        job_failure_rate=0.5,
        retry_job_failures=1,
    ),
]


# minute ticks, mostly ordinary: the sparse method keeps only the unusual deliveries and their neighbours
SPARSE_CASES = [
    dict(
        duration_kind="lognormal",
        duration_minutes=0.5,
        duration_sigma=0.6,
        launch_failure_rate=0.03,
        job_failure_rate=0.05,
        duplicate_delivery_rate=0.02,
    ),
    dict(
        duration_kind="exponential",
        duration_minutes=0.3,
        launch_failure_rate=0.05,
        launch_retry_attempts=6,
        retry_interval_seconds=5,
        job_failure_rate=0.04,
        retry_job_failures=2,
        duplicate_delivery_rate=0.03,
        duplicate_delay_seconds=150.0,
        execution_overhead_seconds=4.0,
    ),
    dict(
        duration_kind="lognormal",
        duration_minutes=0.4,
        duration_sigma=1.2,
        duplicates=(5, 5, 700, 1439),
        duplicate_delay_seconds=61.0,
        notify_success=True,
    ),
]


@pytest.mark.parametrize("case", range(len(REFERENCE_CASES)))
@pytest.mark.parametrize(
    ("seed", "horizon", "method"),
    [
        (0, "4D", "sparse"),
        (5, "4D", "sparse"),
        (9, "120D", "sparse"),
        (13, "60D", "sparse"),
        (0, "4D", "per_tick"),
        (5, "4D", "per_tick"),
    ],
)
def test_vectorized_simulation_matches_the_plain_event_loop(case, seed, horizon, method):
    # 120 days of hourly ticks give the guard hundreds of contested stretches at once (its wavefront)
    s = Scenario(horizon=horizon, interval_minutes=60, seed=seed, **REFERENCE_CASES[case])
    _check_against_the_event_loop(s, method)


@pytest.mark.parametrize("case", range(len(SPARSE_CASES)))
@pytest.mark.parametrize("seed", [1, 2])
def test_sparse_simulation_of_minute_ticks_matches_the_plain_event_loop(case, seed):
    s = Scenario(horizon="1D", interval_minutes=1, seed=seed, **SPARSE_CASES[case])
    kept = _draw(s).ticks.size
    assert 0 < kept < s.ticks // 2  # most deliveries were left out and counted by number
    _check_against_the_event_loop(s, "sparse")


def _check_against_the_event_loop(s: Scenario, method: str) -> None:
    result = simulate_variants(s, VARIANTS, method=method)
    for label in VARIANTS:
        expected = _reference(s, label, method)
        got = result[label].to_dict()
        for key, value in expected.items():
            assert got[key] == pytest.approx(value), (label, key)
        assert got["failures_noticed"] + got["failures_silent"] == got["failures"]
        assert result[label].runs.shape[0] == got["task_launches"]
        shown = result[label].deliveries_frame["disposition"].value_counts()
        assert shown.get("skipped_by_guard", 0) == got["skipped_by_guard"]
        assert shown.get("deduplicated_running", 0) == got["deduplicated_running"]


# ---- the sparse method: same numbers when nothing is random, same distributions otherwise ---------------

DETERMINISTIC = [
    HOURLY_90,
    DUPES,
    DUPES.replace(duration_minutes=1.0, duplicate_delay_seconds=120.0),
    HOURLY_90.replace(duration_minutes=10.0, duplicate_delivery_rate=1.0, notify_success=True),
    HOURLY_90.replace(duration_minutes=60.0, execution_overhead_seconds=1.0),
    Scenario(horizon="10h", interval_minutes=60, launch_failure_rate=1.0, duplicates=(3,)),
    Scenario(horizon="10h", interval_minutes=60, job_failure_rate=1.0, retry_job_failures=1),
    # a month boundary, every delivery ordinary but three: most are left out and counted per month
    Scenario(
        horizon="3D",
        interval_minutes=1,
        start="2025-01-31T00:00:00Z",
        duration_minutes=0.5,
        duplicates=(10, 1500, 1500),
        duplicate_delay_seconds=30.0,
    ),
    Scenario(horizon="2D", interval_minutes=1, duration_minutes=2.5, duplicates=(7,)),
]


@pytest.mark.parametrize("case", range(len(DETERMINISTIC)))
def test_deterministic_scenarios_give_the_same_numbers_by_either_method(case):
    s = DETERMINISTIC[case]
    assert s.deterministic
    sparse, per_tick = compare(s, VARIANTS), simulate_variants(s, VARIANTS, method="per_tick").to_frame()
    pd.testing.assert_frame_equal(sparse, per_tick, check_exact=True)


def test_left_out_deliveries_are_counted_in_their_calendar_month():
    # 1,440 ordinary ticks either side of 1 February, none of them kept by the sparse method
    s = Scenario(horizon="2D", interval_minutes=1, start="2025-01-31T00:00:00Z", duration_minutes=0.5)
    assert _draw(s).ticks.size == 0
    b = simulate_variants(s, ["B+guard+dedupe"])["B+guard+dedupe"]
    assert (b.task_launches, b.max_concurrent, b.billable_transitions) == (2880, 1, 2 * (1440 * 3 - 4000))


def test_calendar_months_begin_at_midnight_utc_whatever_the_start_time():
    # from 10:30 on 31 January: 810 one-minute executions in January, 2,070 in February
    s = Scenario(
        horizon="2D",
        interval_minutes=1,
        start="2025-01-31T10:30:00Z",
        duration_minutes=0.5,
        prices=Prices(sfn_free_transitions_per_month=0),
    )
    for method in METHODS:
        b = simulate_variants(s, ["B+guard+dedupe"], method=method)["B+guard+dedupe"]
        assert b.billable_transitions == 2880 * 3
    free = s.replace(prices=Prices(sfn_free_transitions_per_month=2500))
    b = simulate_variants(free, ["B+guard+dedupe"])["B+guard+dedupe"]
    assert b.billable_transitions == 2070 * 3 - 2500  # January's 810 * 3 stay within its free tier


# scenarios whose counts are random; compared over many seeds, as means
AGREEMENT_CASES = [
    dict(
        horizon="2D",
        interval_minutes=5,
        duration_kind="lognormal",
        duration_minutes=3.0,
        duration_sigma=0.7,
        launch_failure_rate=0.05,
        job_failure_rate=0.08,
        duplicate_delivery_rate=0.05,
    ),
    dict(
        horizon="1D",
        interval_minutes=1,
        duration_kind="exponential",
        duration_minutes=0.6,
        launch_failure_rate=0.1,
        launch_retry_attempts=2,
        retry_interval_seconds=10,
        job_failure_rate=0.05,
        retry_job_failures=1,
        duplicate_delivery_rate=0.02,
        duplicate_delay_seconds=90.0,
    ),
    dict(
        horizon="5D",
        interval_minutes=60,
        duration_kind="lognormal",
        duration_minutes=50.0,
        duration_sigma=0.5,
        duplicate_delivery_rate=0.1,
        duplicate_delay_seconds=4000.0,
        job_failure_rate=0.1,
    ),
]
AGREEMENT_KEYS = (
    "deliveries",
    "run_task_calls",
    "task_launches",
    "duplicate_launches",
    "overlapping_launches",
    "overlap_minutes",
    "max_concurrent",
    "skipped_by_guard",
    "deduplicated_running",
    "already_exists",
    "failures",
    "launch_failures_recovered",
    "notifications",
    "state_transitions",
    "fargate_vcpu_hours",
)


@pytest.mark.parametrize("case", range(len(AGREEMENT_CASES)))
def test_sparse_and_per_tick_methods_agree_in_distribution(case):
    """Means over 60 seeds agree within 4.5 standard errors of their difference, per count and variant."""
    seeds = range(60)
    frames = {
        method: pd.concat(
            [
                simulate_variants(Scenario(seed=seed, **AGREEMENT_CASES[case]), VARIANTS, method=method).to_frame()[
                    list(AGREEMENT_KEYS)
                ]
                for seed in seeds
            ]
        )
        for method in METHODS
    }
    sparse, per_tick = (frames[m].groupby(level=0) for m in METHODS)
    diff = sparse.mean() - per_tick.mean()
    se = ((sparse.var() + per_tick.var()) / len(seeds)) ** 0.5
    tolerance = 4.5 * se + 1e-9 * per_tick.mean().abs()
    assert (diff.abs() <= tolerance).all().all(), (diff / se).round(2).to_string()
    assert (per_tick.mean()[["task_launches", "failures"]] > 0).all().all()  # the counts compared are not trivial


def test_positions_are_bernoulli_trials():
    rng = __import__("numpy").random.default_rng(3)
    for p, size in ((0.002, 2_000_000), (0.07, 200_000), (0.4, 100_000)):
        hits = _positions(rng, p, size)
        assert (hits[1:] > hits[:-1]).all() and 0 <= hits[0] and hits[-1] < size
        assert abs(hits.size - p * size) < 5 * math.sqrt(size * p * (1 - p))
        gaps = __import__("numpy").diff(hits)  # geometric: mean 1 / p
        assert abs(gaps.mean() - 1 / p) < 5 * math.sqrt(1 - p) / p / math.sqrt(gaps.size)
    assert _positions(rng, 0.0, 10).size == 0 and _positions(rng, 1.0, 4).tolist() == [0, 1, 2, 3]


def test_truncated_draws_follow_the_law_either_side_of_the_threshold():
    np = __import__("numpy")
    rng = np.random.default_rng(4)
    for a in (-1.5, 0.0, 1.455, 4.0):  # E[Z | Z > a] = phi(a) / (1 - Phi(a))
        z = _normal_tail(rng, a, 200_000)
        assert z.size == 200_000 and (z > a).all()
        phi, tail = math.exp(-a * a / 2) / math.sqrt(2 * math.pi), 0.5 * math.erfc(a / math.sqrt(2))
        assert z.mean() == pytest.approx(phi / tail, abs=5 * z.std() / math.sqrt(z.size))
    for law in (_Law("lognormal", 30.0, 0.6), _Law("exponential", 30.0)):
        q = law.above(60.0)
        whole = law.draw(rng, 400_000)
        assert (whole > 60.0).mean() == pytest.approx(q, abs=5 * math.sqrt(q * (1 - q) / whole.size))
        longer, shorter = law.longer(rng, 60.0, 100_000), law.shorter(rng, 60.0, 100_000)
        assert (longer > 60.0).all() and (shorter <= 60.0).all()
        # the two sides, mixed in proportion q, have the whole law's mean and median
        mixed = q * longer.mean() + (1 - q) * shorter.mean()
        assert mixed == pytest.approx(30.0, rel=0.01)
        assert np.quantile(longer, 0.5) == pytest.approx(np.quantile(whole[whole > 60.0], 0.5), rel=0.02)


def test_method_is_validated():
    with pytest.raises(ValidationError, match="^method="):
        simulate_variants(DUPES, method="dense")

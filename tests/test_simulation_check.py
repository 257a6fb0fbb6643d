"""Simulation vs live: the same scenario replayed through the sandbox Scheduler agrees on counts."""

from __future__ import annotations

from datetime import UTC

import pytest

from sfnecs.evidence import simulation_check
from sfnecs.exceptions import ValidationError
from sfnecs.patterns import Scenario

# every job outlasts the hourly interval and tick 2 is delivered twice: overlaps and duplicates
OVERLAP = Scenario(horizon="5h", interval_minutes=60, duration_minutes=90.0, duplicates=(2,))


def agreed(target, scenario: Scenario, variant: str, name: str) -> simulation_check.LiveRun:
    live = simulation_check.replay(target, scenario, variant, name=name)
    table = simulation_check.agreement(live)
    assert table["agrees"].all(), table[~table["agrees"]].to_string()
    return live


@pytest.mark.parametrize("variant", simulation_check.LIVE_VARIANTS)
def test_deterministic_overlap_and_duplicate_counts_agree_exactly(target, variant):
    live = agreed(target, OVERLAP, variant, f"replay-{variant.replace('+', '-').lower()}")
    c = live.counts
    assert simulation_check.agreement(live)["tolerance"].eq(0).all()
    assert (c["ticks"], c["deliveries"]) == (5, 6)
    if variant == "B+guard":  # the guard: no overlap, the duplicate and the overlapping ticks skipped
        assert (c["overlapping_launches"], c["duplicate_launches"], c["skipped_by_guard"]) == (0, 0, 3)
    else:  # A, and B without a guard: `.sync` alone does not stop overlaps
        assert (c["overlapping_launches"], c["duplicate_launches"], c["max_concurrent"]) == (5, 1, 3)


def test_job_failures_are_noticed_and_notified_in_both_patterns(target):
    s = Scenario(horizon="3h", interval_minutes=60, duration_minutes=10.0, job_failure_rate=1.0)
    b = agreed(target, s, "B+guard", "replay-jobfail-b").counts
    assert (b["failures_noticed"], b["notifications"], b["state_transitions"]) == (3, 3, 15)
    # the queue that counted the notifications went with the stack: nothing of the replay is left
    assert not target.client("sqs").list_queues(QueueNamePrefix="replay-jobfail-b").get("QueueUrls")
    # A as AWS recommends: the task-failure rule sees each failed task stop and notifies
    a = agreed(target, s, "A", "replay-jobfail-a").counts
    assert (a["failures_silent"], a["failures_noticed"], a["notifications"]) == (0, 3, 3)


def test_launch_failures_agree(target):
    s = Scenario(
        horizon="2h", interval_minutes=60, duration_minutes=10.0, launch_failure_rate=1.0, launch_retry_attempts=0
    )
    b = agreed(target, s, "B+guard", "replay-launchfail").counts
    assert (b["task_launches"], b["failures_noticed"], b["run_task_calls"]) == (0, 2, 2)


def test_random_duplicates_agree_within_tolerance(target):
    s = Scenario(horizon="2h", interval_minutes=10, duration_minutes=4.0, duplicate_delivery_rate=0.3, seed=1)
    live = agreed(target, s, "B+guard", "replay-random")
    table = simulation_check.agreement(live)
    assert table.loc["ticks", "tolerance"] == 0 and table.loc["deliveries", "tolerance"] > 0
    assert live.counts["deliveries"] > live.counts["ticks"]  # some duplicates were drawn live
    assert live.counts["duplicate_launches"] == 0 and live.counts["overlapping_launches"] == 0


@pytest.mark.parametrize(
    "changes, variant, parameter",
    [
        ({}, "B+dedupe", "variant"),
        ({"duration_kind": "exponential"}, "A", "duration_kind"),
        ({"job_failure_rate": 0.5}, "A", "job_failure_rate"),
        ({"duration_minutes": 120.0}, "B", "duration_minutes"),
        ({"retry_job_failures": 1}, "B", "retry_job_failures"),
        ({"launch_failure_rate": 1.0}, "B+guard", "launch_retry_attempts"),
        ({"execution_overhead_seconds": 3.0}, "B", "execution_overhead_seconds"),
    ],
)
def test_what_the_sandbox_cannot_replay_is_refused_by_name(changes, variant, parameter):
    with pytest.raises(ValidationError, match=f"^{parameter}="):
        simulation_check.check_replayable(OVERLAP.replace(**changes), variant)


def test_replay_needs_a_sandbox_target():
    class Aws:
        is_sandbox = False
        name = "aws"

    with pytest.raises(ValidationError, match="target='aws'"):
        simulation_check.replay(Aws(), OVERLAP, "A")


def test_live_runs_are_framed_for_both_timelines():
    """LiveRun.runs: ticks, duplicates and overlaps per task, with clock times from the first tick."""
    from datetime import datetime

    import pandas as pd

    s = Scenario(horizon="30min", interval_minutes=10, duration_minutes=15.0, duplicates=(1,))
    tasks = pd.DataFrame(
        {
            "task": ["t2", "t0", "t1", "t1d"],
            "start": [1200.0, 0.0, 600.0, 600.0],
            "end": [2100.0, 900.0, 1500.0, 1500.0],
            "exit_code": [0, 0, 3, 0],
            "group": "",
        }
    )
    first = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
    runs = simulation_check.LiveRun("A", s, {}, tasks, first_tick=first).runs
    assert runs["name"].tolist() == ["tick 0", "tick 1", "tick 1 (duplicate)", "tick 2"]
    assert runs["overlapping"].tolist() == [False, True, True, True]
    assert runs["status"].tolist() == ["SUCCEEDED", "FAILED", "SUCCEEDED", "SUCCEEDED"]
    assert runs["stop"].iloc[0] == pd.Timestamp("2025-01-01T09:15:00Z")
    assert runs["end_minute"].tolist() == [15.0, 25.0, 25.0, 35.0]

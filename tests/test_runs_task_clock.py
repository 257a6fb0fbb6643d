"""runs.on_task_clock in the sandbox: each run timed by its ECS task (the sandbox clock), a skipped run
placed at the time it was scheduled for, a Scheduler-style UUID name labelled by that time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.test_stack import deployed, make_spec

from sfnecs import runs
from sfnecs.runs import Backoff
from sfnecs.runs.task_clock import TASK_CLOCK_COLUMNS

FAST = Backoff(initial=0.05, factor=1.6, cap=0.5)
GENERATED = "3f1c2b0e-0000-4000-8000-000000000000"  # a name like those Step Functions gives Scheduler runs


@pytest.fixture(scope="module")
def stack(target):
    spec = make_spec(target, "clock-b", environment={"SFNECS_DURATION": "120"}, launch_retry_attempts=0,
                     schedule_enabled=False)  # fmt: skip
    with deployed(target, spec):
        yield spec


@pytest.mark.sandbox
def test_runs_are_timed_by_their_tasks_and_a_skip_by_its_scheduled_time(target, stack):
    since = datetime.now(UTC) - timedelta(hours=1)
    intended = datetime(2030, 1, 1, 2, 30, tzinfo=UTC)
    first = runs.start(target, stack, name="worker", at=intended)
    beside = runs.start(target, stack, name=GENERATED, at=intended + timedelta(minutes=1))
    worked, skipped = (runs.wait(target, r, progress=False, backoff=FAST) for r in (first, beside))
    assert (worked.skipped, skipped.skipped) == (False, True)

    story = runs.on_task_clock(target, stack, since=since)
    assert list(story.columns) == TASK_CLOCK_COLUMNS
    rows = {row["name"]: row for row in story.to_dict("records")}
    task = rows["worker"]
    # the task's own life on the sandbox clock: provisioning, the pull and 120 s of job; the
    # execution took a few real seconds (the test sandbox runs 50 times faster than real time)
    assert not task["skipped"] and task["label"] == "worker"
    assert (task["stop"] - task["start"]).total_seconds() >= 120
    assert (worked.stopped - worked.started).total_seconds() < 60
    skip = rows[GENERATED]
    assert skip["skipped"] and skip["start"] == skip["stop"] == intended + timedelta(minutes=1)
    assert skip["label"] == "scheduled 02:31 UTC"  # a generated name says when it was meant for
    assert list(story["start"]) == sorted(story["start"])
    assert runs.on_task_clock(target, stack, since=datetime(2100, 1, 1, tzinfo=UTC)).empty

"""audit.py: the pure rules on synthetic run tables, and collect()/audit() against the sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from sfnecs.exceptions import ValidationError
from sfnecs.runs import audit

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def frame(rows: list[tuple]) -> pd.DataFrame:
    """Runs from (name, status, start minute, seconds or None, scheduled_time, category)."""
    out = []
    for name, status, minute, seconds, scheduled, category in rows:
        start = T0 + timedelta(minutes=minute)
        stop = None if seconds is None else start + timedelta(seconds=seconds)
        out.append(
            {
                "name": name,
                "arn": f"arn:{name}",
                "kind": "execution",
                "status": status,
                "start": start,
                "stop": stop,
                "seconds": seconds,
                "scheduled_time": scheduled,
                "category": category,
            }
        )
    return pd.DataFrame(out, columns=audit.RUN_COLUMNS)


def test_success_rate_percentiles_and_categories():
    runs = frame(
        [
            ("a", "SUCCEEDED", 0, 10.0, None, None),
            ("b", "SUCCEEDED", 60, 20.0, None, None),
            ("c", "FAILED", 120, 30.0, None, "architecture_mismatch"),
            ("d", "TIMED_OUT", 180, 40.0, None, "timeout"),
            ("e", "FAILED", 240, 50.0, None, None),
            ("f", "RUNNING", 300, None, None, None),
        ]
    )
    report = audit.summarize(runs, stack="s", since=T0, schedule="rate(1 hour)", interval_seconds=3600)
    assert report.counts == {"total": 6, "SUCCEEDED": 2, "FAILED": 2, "TIMED_OUT": 1, "RUNNING": 1}
    assert report.success_rate == pytest.approx(2 / 5)  # the running one has no outcome yet
    assert report.percentiles == {"p50": 30.0, "p90": 46.0, "p99": 49.6, "max": 50.0}
    assert report.failures_by_category == {"architecture_mismatch": 1, "timeout": 1, "not diagnosed": 1}
    assert not report.overlaps and not report.duplicates and not report.outlasting
    assert report.flags == ["3 failed run(s): architecture mismatch x1, timeout x1, not diagnosed x1"]


def test_runs_longer_than_the_interval_are_flagged_with_their_overlaps():
    # an hourly job that took 90 minutes at 10:00 runs into the 11:00 run
    runs = frame(
        [
            ("r09", "SUCCEEDED", 0, 1800.0, None, None),
            ("r10", "SUCCEEDED", 60, 5400.0, None, None),
            ("r11", "SUCCEEDED", 120, 600.0, None, None),
        ]
    )
    report = audit.summarize(runs, stack="s", since=T0, schedule="rate(1 hour)", interval_seconds=3600)
    assert report.outlasting == ["r10"]
    assert report.overlaps == [(T0 + timedelta(minutes=120), T0 + timedelta(minutes=130))]
    assert report.flags[0].startswith("1 run(s) lasted longer than the schedule's interval (3600 s): r10")
    assert "overlaps" not in report.flags[0] and "two or more runs at once" in report.flags[1]


def test_duplicates_are_scheduled_times_that_ran_twice_manual_runs_never_count():
    runs = frame(
        [
            ("x1", "SUCCEEDED", 0, 5.0, "2024-03-01T09:00:00Z", None),
            ("x2", "SUCCEEDED", 0, 5.0, "2024-03-01T09:00:00Z", None),
            ("y", "SUCCEEDED", 60, 5.0, "2024-03-01T10:00:00Z", None),
            ("manual-1", "SUCCEEDED", 61, 5.0, None, None),
            ("manual-2", "SUCCEEDED", 61, 5.0, None, None),
        ]
    )
    assert audit.duplicates(runs) == {"2024-03-01T09:00:00Z": ["x1", "x2"]}
    report = audit.summarize(runs, stack="s", since=T0)
    assert any("1 scheduled time(s) ran more than once" in f for f in report.flags)


def test_no_runs_and_a_bad_table():
    empty = frame([])
    report = audit.summarize(empty, stack="s", since=T0, interval_seconds=60)
    assert report.success_rate is None and report.percentiles["p50"] is None and report.flags == []
    assert report.to_frame().set_index("metric").loc["success rate", "value"] == "-"
    report.plot()  # an empty period still draws
    with pytest.raises(ValidationError, match="runs='DataFrame' is not valid: a DataFrame with columns"):
        audit.summarize(empty.drop(columns=["category"]), stack="s", since=T0)


def test_schedule_interval_is_the_shortest_gap():
    assert audit.schedule_interval("rate(15 minutes)") == 900
    assert audit.schedule_interval("cron(0 3 * * ? *)", now=T0) == 86400
    # 09:00 and 10:00 on weekdays: the shortest gap is an hour, not the weekend
    assert audit.schedule_interval("cron(0 9,10 ? * MON-FRI *)", now=T0) == 3600
    assert audit.schedule_interval("at(2030-01-01T00:00:00)", now=T0) is None
    with pytest.raises(ValidationError, match="schedule="):
        audit.schedule_interval("every day")


def test_result_is_json_and_the_plot_marks_the_interval():
    runs = frame([("a", "SUCCEEDED", 0, 70.0, None, None), ("b", "FAILED", 1, 50.0, None, "application_exit")])
    report = audit.summarize(runs, stack="s", since=T0, schedule="rate(1 minute)", interval_seconds=60)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["outlasting"] == ["a"] and data["success_rate"] == 0.5 and data["ok"] is True
    assert data["overlaps"] == [[(T0 + timedelta(minutes=1)).isoformat(), (T0 + timedelta(seconds=70)).isoformat()]]
    fig = report.plot()
    lines = [line for ax in fig.axes for line in ax.get_lines()]
    assert any(list(line.get_ydata()) == [60, 60] for line in lines)  # the interval, dashed
    assert "<li>1 run(s) lasted longer" in report._repr_html_()


@pytest.mark.sandbox
def test_audit_reads_executions_inputs_and_diagnoses_failures(target, sandbox):
    from tests.test_stack import deployed, make_spec

    from sfnecs.runs import Backoff, start, wait

    spec = make_spec(target, "audit-b", schedule_enabled=False, launch_retry_attempts=0)
    with deployed(target, spec, sandbox=sandbox):
        fast = Backoff(initial=0.05, cap=0.5)
        when = "2024-03-01T09:00:00Z"
        for name in ("sched-1", "sched-2"):  # one scheduled time delivered twice
            wait(target, start(target, spec, {"scheduled_time": when}, name), progress=False, backoff=fast, timeout=30)
        sandbox.control("POST", "faults", {"kind": "exit_code", "exit_code": 3, "count": 1})
        wait(target, start(target, spec, {"manual": True}, "manual-1"), progress=False, backoff=fast, timeout=30)
        report = audit.audit(target, spec, hours=1)
    assert report.counts["total"] == 3 and report.counts["SUCCEEDED"] == 2
    assert report.duplicates == {when: ["sched-1", "sched-2"]}
    assert report.failures_by_category == {"application_exit": 1}
    assert report.interval_seconds == 86400  # the spec's nightly cron

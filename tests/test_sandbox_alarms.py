"""sandbox.alarms: how a metric alarm's periods decide its state (CloudWatch user guide, "Using Amazon
CloudWatch alarms": M of N datapoints, and how missing data is treated). End to end: tests/test_alerting.py."""

from __future__ import annotations

import pytest

from sfnecs.sandbox.alarms import evaluate, statistic

GT = "GreaterThanThreshold"


@pytest.mark.parametrize(
    ("values", "treat", "state"),
    [
        ([1.0], "notBreaching", "ALARM"),
        ([0.0], "notBreaching", "OK"),
        ([None], "notBreaching", "OK"),  # no data is good news for a failure count
        ([None], "breaching", "ALARM"),
        ([None], "missing", "INSUFFICIENT_DATA"),
        ([None], "ignore", None),  # keep the current state
        ([None, 0.0], "missing", "OK"),  # missing periods are left out, the others decide
    ],
)
def test_one_of_one_datapoint(values, treat, state):
    assert evaluate(values, 0.0, GT, 1, treat) == state


def test_m_of_n_needs_m_breaching_periods():
    assert evaluate([1.0, 0.0, 1.0], 0.0, GT, 2, "notBreaching") == "ALARM"
    assert evaluate([1.0, 0.0, 0.0], 0.0, GT, 2, "notBreaching") == "OK"
    assert evaluate([1.0, None, None], 0.0, GT, 2, "breaching") == "ALARM"
    assert evaluate([5.0], 5.0, "GreaterThanOrEqualToThreshold", 1, "missing") == "ALARM"
    assert evaluate([5.0], 5.0, "LessThanThreshold", 1, "missing") == "OK"


def test_statistics_of_a_period():
    values = [1.0, 3.0, 2.0]
    assert [statistic(s, values) for s in ("Sum", "Maximum", "Minimum", "Average", "SampleCount")] == [
        6.0,
        3.0,
        1.0,
        2.0,
        3.0,
    ]
    assert statistic("Sum", []) is None

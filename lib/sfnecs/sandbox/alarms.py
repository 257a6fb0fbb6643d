"""CloudWatch in the sandbox: services publish their metrics, alarms are evaluated on the sandbox clock
and run their actions.

Why: moto stores metric alarms and metric data but never evaluates an alarm, and no service publishes
a metric, so "the alarm fires and someone gets an e-mail" could not be shown. Here, on each tick:
- Step Functions publishes, in `AWS/States` with dimension StateMachineArn, ExecutionsStarted and
  one of ExecutionsSucceeded / Failed / TimedOut / Aborted per execution, when the sandbox sees it
  start or end (Step Functions developer guide, "Execution metrics"); the value is 1 (Count).
- SQS publishes ApproximateNumberOfMessagesVisible of every queue once per virtual minute, dimension
  QueueName (SQS developer guide, "Available CloudWatch metrics for Amazon SQS": one-minute
  intervals).
- Each metric alarm is evaluated when a period ends: its last EvaluationPeriods periods, aligned on
  multiples of Period, give one statistic each; M of N (DatapointsToAlarm) breaching moves it to
  ALARM; missing periods count as TreatMissingData says (missing, notBreaching, breaching, ignore)
  (CloudWatch user guide, "Using Amazon CloudWatch alarms": evaluating an alarm, missing data).
- A change of state runs the actions of the new state: an SNS topic gets the alarm's JSON message
  (its fields as CloudWatch's alarm notifications carry them; AWS publishes no schema for it and
  writes the region's long name where this writes its code), published as cloudwatch.amazonaws.com.
Simplifications: a period is evaluated once, when the clock has passed its end (CloudWatch evaluates
every minute and may wait for late data); metric math, percentiles and anomaly detection are not
evaluated.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sfnecs.sandbox.clock import VirtualClock
from sfnecs.sandbox.notifications import publish_as_service

__all__ = ["AlarmEvaluator", "STATISTICS", "evaluate", "statistic"]

_ENDED = {
    "SUCCEEDED": "ExecutionsSucceeded",
    "FAILED": "ExecutionsFailed",
    "TIMED_OUT": "ExecutionsTimedOut",
    "ABORTED": "ExecutionsAborted",
}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
STATISTICS: dict[str, Callable[[list[float]], float]] = {
    "Sum": sum,
    "Maximum": max,
    "Minimum": min,
    "Average": lambda values: sum(values) / len(values),
    "SampleCount": lambda values: float(len(values)),
}


def statistic(name: str, values: list[float]) -> float | None:
    """One period's statistic, or None when the period has no data."""
    return STATISTICS[name](values) if values else None


def evaluate(
    values: list[float | None], threshold: float, operator: str, datapoints_to_alarm: int, treat_missing: str
) -> str | None:
    """The state N periods' statistics put an alarm in (oldest first): ALARM, OK, INSUFFICIENT_DATA, or
    None to keep the current state (TreatMissingData `ignore` with no data)."""
    compare = _COMPARE[operator]
    breaching = evaluated = 0
    for value in values:
        if value is None:
            if treat_missing == "breaching":
                breaching, evaluated = breaching + 1, evaluated + 1
            elif treat_missing == "notBreaching":
                evaluated += 1
            continue
        evaluated += 1
        breaching += compare(value, threshold)
    if breaching >= datapoints_to_alarm:
        return "ALARM"
    if evaluated:
        return "OK"
    return None if treat_missing == "ignore" else "INSUFFICIENT_DATA"


def _epoch(t: datetime) -> float:
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()


class AlarmEvaluator:
    """Publishes the emulated services' metrics and evaluates every metric alarm on the sandbox clock."""

    def __init__(self, clock: VirtualClock):
        self.clock = clock
        self._lock = threading.Lock()
        self._executions: dict[str, str] = {}  # execution ARN -> status already published
        self._sqs_minute: int | None = None
        self._evaluated: dict[str, float] = {}  # alarm ARN -> end (epoch) of the last period evaluated
        self.notifications: list[dict[str, Any]] = []  # every action run: {alarm, state, topic, ok}

    def reset(self) -> None:
        with self._lock:
            self._executions.clear()
            self._sqs_minute = None
            self._evaluated.clear()
            self.notifications.clear()

    def tick(self) -> None:
        now = self.clock.now()
        with self._lock:
            self._publish_executions(now)
            self._publish_queues(now)
            self._evaluate_alarms(now)

    # ---- metrics the services publish ---------------------------------------------------------
    def _put(
        self,
        account: str,
        region: str,
        namespace: str,
        metric: str,
        dimension: tuple[str, str],
        value: float,
        at: datetime,
    ) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        cloudwatch_backends[account][region].put_metric_data(
            namespace,
            [
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": dimension[0], "Value": dimension[1]}],
                    "Value": value,
                    "Unit": "Count",
                    "Timestamp": at,
                }
            ],
        )

    def _publish_executions(self, now: datetime) -> None:
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        for account, region, backend in _each(stepfunctions_parser_backends):
            for machine in list(backend.state_machines):
                for execution in list(machine.executions):
                    status = str(getattr(execution.status, "value", execution.status) or "RUNNING")
                    arn = execution.execution_arn
                    seen = self._executions.get(arn)
                    if seen is None:
                        self._put(
                            account,
                            region,
                            "AWS/States",
                            "ExecutionsStarted",
                            ("StateMachineArn", machine.arn),
                            1.0,
                            now,
                        )
                        self._executions[arn] = seen = "RUNNING"
                    if status != seen and status in _ENDED:
                        self._put(
                            account, region, "AWS/States", _ENDED[status], ("StateMachineArn", machine.arn), 1.0, now
                        )
                        self._executions[arn] = status

    def _publish_queues(self, now: datetime) -> None:
        from moto.sqs.models import sqs_backends

        minute = int(_epoch(now) // 60)
        if minute == self._sqs_minute:
            return
        self._sqs_minute = minute
        at = datetime.fromtimestamp(minute * 60, UTC)
        for account, region, backend in _each(sqs_backends):
            for name, queue in list(backend.queues.items()):
                visible = float(queue.approximate_number_of_messages)
                self._put(
                    account, region, "AWS/SQS", "ApproximateNumberOfMessagesVisible", ("QueueName", name), visible, at
                )

    # ---- alarms ----------------------------------------------------------------------------------
    def _evaluate_alarms(self, now: datetime) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        for account, region, backend in _each(cloudwatch_backends):
            for alarm in list(backend.alarms.values()):
                if not alarm.metric_name or not alarm.period or alarm.statistic not in STATISTICS:
                    continue  # metric math, percentiles, composite alarms: not evaluated here
                period = int(alarm.period)
                end = math.floor(_epoch(now) / period) * period
                if self._evaluated.get(alarm.alarm_arn) == end:
                    continue
                self._evaluated[alarm.alarm_arn] = end
                values = self._period_values(backend, alarm, end)
                state = evaluate(
                    values,
                    float(alarm.threshold),
                    alarm.comparison_operator,
                    int(alarm.datapoints_to_alarm or alarm.evaluation_periods),
                    alarm.treat_missing_data or "missing",
                )
                if state is not None and state != alarm.state_value:
                    self._change(account, region, alarm, state, values, end)

    def _period_values(self, backend: Any, alarm: Any, end: int) -> list[float | None]:
        period, n = int(alarm.period), int(alarm.evaluation_periods)
        wanted = {(d.name, d.value) for d in alarm.dimensions}
        data = [
            m
            for m in list(backend.metric_data)
            if m.namespace == alarm.namespace
            and m.name == alarm.metric_name
            and {(d.name, d.value) for d in m.dimensions} == wanted
            and hasattr(m, "value")
        ]
        out: list[float | None] = []
        for k in range(n, 0, -1):
            start, stop = end - k * period, end - (k - 1) * period
            values = [float(m.value) for m in data if start <= _epoch(m.timestamp) < stop]
            out.append(statistic(alarm.statistic, values))
        return out

    def _change(self, account: str, region: str, alarm: Any, state: str, values: list[float | None], end: int) -> None:
        old = alarm.state_value
        shown = [v for v in values if v is not None]
        reason = (
            f"Threshold Crossed: {len(shown)} datapoint(s) {shown} "
            f"{'were' if state == 'ALARM' else 'were not'} {alarm.comparison_operator} "
            f"the threshold ({float(alarm.threshold)})."
        )
        alarm.update_state(reason, json.dumps({"recentDatapoints": shown, "threshold": float(alarm.threshold)}), state)
        at = datetime.fromtimestamp(end, UTC)
        actions = {
            "ALARM": alarm.alarm_actions,
            "OK": alarm.ok_actions,
            "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
        }[state]
        if not alarm.actions_enabled:
            return
        message = json.dumps(_notification(account, region, alarm, old, reason, at))
        subject = f'{state}: "{alarm.name}" in {region}'[:100]
        for action in actions or []:
            if action.split(":")[2] != "sns":
                continue  # Auto Scaling, EC2 and Systems Manager actions are not emulated
            ok = publish_as_service(
                action, message, "cloudwatch.amazonaws.com", alarm.alarm_arn, subject, as_owner=True
            )
            self.notifications.append({"alarm": alarm.name, "state": state, "topic": action, "ok": ok is not None})


def _notification(account: str, region: str, alarm: Any, old: str, reason: str, at: datetime) -> dict[str, Any]:
    """The JSON an alarm's SNS message carries."""
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account,
        "NewStateValue": alarm.state_value,
        "NewStateReason": reason,
        "StateChangeTime": stamp,
        "Region": region,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old,
        "AlarmActions": list(alarm.alarm_actions or []),
        "OKActions": list(alarm.ok_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions or []),
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "Statistic",
            "Statistic": str(alarm.statistic).upper(),
            "Unit": alarm.unit,
            "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
            "Period": int(alarm.period),
            "EvaluationPeriods": int(alarm.evaluation_periods),
            "DatapointsToAlarm": int(alarm.datapoints_to_alarm or alarm.evaluation_periods),
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": float(alarm.threshold),
            "TreatMissingData": alarm.treat_missing_data or "missing",
            "EvaluateLowSampleCountPercentile": "",
        },
    }


def _each(backend_dict: Any) -> list[tuple[str, str, Any]]:
    """(account, region, backend) of every backend moto has made so far."""
    return [
        (account, region, backend)
        for account, regions in list(backend_dict.items())
        for region, backend in list(regions.items())
    ]

"""ECS task state change events: every change of an emulated task goes to the default event bus.

Why: AWS's answer to "how do I know a scheduled task failed" is an EventBridge rule on these events
(ECS developer guide, "Amazon ECS task state change events"). The Fargate emulator decides each task's
timeline at launch; this module watches it on the sandbox clock and, for each change of
`lastStatus` or `desiredStatus` that the clock has passed, puts the event EventBridge would receive,
with the time of the change (so a clock stepped far ahead still emits every step, in order).

Shape: the envelope of an AWS service event (EventBridge events reference, "Amazon service event
metadata": version "0", id, detail-type, source, account, time, region, resources) and a `detail`
shaped like the DescribeTasks task, its times as ISO 8601 strings with milliseconds (the page's
example and its note on createdAt, startedAt, ...), plus `updatedAt`. ECS delivers these at least once
and possibly out of order ("Handling Amazon ECS events"); the sandbox delivers each once, in order.
AWS does not document whether a change of desiredStatus alone increases `detail.version`; here it
does not (the version counts lastStatus changes, as DescribeTasks reports it).
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from sfnecs.sandbox.clock import VirtualClock
from sfnecs.sandbox.fargate import EmulatedTask, FargateEmulator

__all__ = ["DETAIL_TYPE", "SOURCE", "TaskEvents", "task_state_change_event"]

SOURCE = "aws.ecs"
DETAIL_TYPE = "ECS Task State Change"
#: DescribeTasks fields that are not in the event's detail (tags only come with include=TAGS)
_NOT_IN_EVENT = ("tags",)


def _iso_ms(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _times_as_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso_ms(value)
    if isinstance(value, dict):
        return {k: _times_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_times_as_text(v) for v in value]
    return value


def task_state_change_event(task: EmulatedTask, at: datetime) -> dict[str, Any]:
    """The event for `task` as it is at `at` (the time of one of its changes)."""
    described = {k: v for k, v in task.describe(at).items() if k not in _NOT_IN_EVENT}
    # the event names the task's network interface attachment "eni" (the page's example), where
    # DescribeTasks says ElasticNetworkInterface
    described["attachments"] = [
        {**a, "type": "eni"} if a.get("type") == "ElasticNetworkInterface" else a
        for a in described.get("attachments") or []
    ]
    detail = _times_as_text({**described, "updatedAt": at})
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": SOURCE,
        "account": task.account,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": task.region,
        "resources": [task.arn],
        "detail": detail,
    }


def _changes(task: EmulatedTask) -> list[datetime]:
    """Every time at which the task's lastStatus or desiredStatus may change, in order."""
    times = [
        task.created_at,
        task.pending_at,
        task.running_at,
        task.stop_requested_at,
        task.stopping_at,
        task.stopped_at,
    ]
    return sorted({t for t in times if t is not None})


class TaskEvents:
    """Puts an `ECS Task State Change` event on the default bus for each change of each emulated task."""

    def __init__(self, clock: VirtualClock, fargate: FargateEmulator):
        self.clock = clock
        self.fargate = fargate
        self._lock = threading.Lock()
        #: task ARN -> (time of the last change looked at, (lastStatus, desiredStatus) last sent)
        self._last: dict[str, tuple[datetime, tuple[str, str]]] = {}
        self.sent: list[dict[str, Any]] = []  # every event put, for tests and the control API

    def reset(self) -> None:
        with self._lock:
            self._last.clear()
            self.sent.clear()

    def tick(self) -> None:
        now = self.clock.now()
        for task in list(self.fargate.tasks.values()):
            with self._lock:
                since, last = self._last.get(task.arn, (None, None))
            if last == ("STOPPED", "STOPPED"):
                continue
            for at in _changes(task):
                if at > now:
                    break
                if since is not None and at <= since:
                    continue
                described = task.describe(at)
                state = (described["lastStatus"], described["desiredStatus"])
                since = at
                with self._lock:
                    self._last[task.arn] = (at, state)
                if state != last:
                    last = state
                    self._put(task_state_change_event(task, at), at)

    def _put(self, event: dict[str, Any], at: datetime) -> None:
        from moto.events.models import events_backends  # moto is loaded by the time a task exists

        with self._lock:
            self.sent.append(event)
        events_backends[event["account"]][event["region"]].put_events(
            [
                {
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"]),
                    "Resources": event["resources"],
                    # moto keeps an event's time as epoch seconds (and writes ISO to its targets)
                    "Time": at.timestamp(),
                }
            ]
        )

"""A stack's runs on the clock their tasks ran on: the frame a timeline of the story draws.

Why: an execution's start and stop are stamped by Step Functions, a task's by ECS. On AWS both
read the same clock. In the sandbox, ECS, the Scheduler and the job run on the sandbox clock (sped
up, moved to 02:30 JST) while executions keep real time, so a timeline drawn from executions shows
a night's story squeezed into a few real seconds. The task's own times put each run where it
happened in the story; a run that launched no task (skipped by the guard, or a launch that failed)
is placed at the time it was scheduled for.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sfnecs.deploy.verify import check_spec
from sfnecs.i18n import tr
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target
from sfnecs.runs.reading import _when, executions, stack_tasks

__all__ = ["TASK_CLOCK_COLUMNS", "on_task_clock"]

#: the frame's columns: `timeline` draws name/label, status, start, stop and marks `skipped` runs
TASK_CLOCK_COLUMNS = ["name", "label", "status", "skipped", "start", "stop"]
_GENERATED = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def on_task_clock(target: Target, spec: StackSpec, since: datetime | None = None) -> Any:
    """The stack's runs as a DataFrame in start order, timed by their tasks (TASK_CLOCK_COLUMNS).

    `since` keeps the runs that started (on the task clock) at or after it. A name the Scheduler
    generated (a UUID) is labelled "scheduled HH:MM" in the spec's time zone instead.
    """
    import pandas as pd

    spec = check_spec(target, spec)
    runs = executions(target, spec)
    if spec.pattern != "B":  # pattern A's runs are tasks already
        rows = [{**r, "label": r["name"], "skipped": False} for r in runs.to_dict("records")]
    else:
        by_group = {t.get("group"): t for t in stack_tasks(target, spec)}
        sfn = target.client("stepfunctions")
        rows = [_row(sfn, run, by_group.get(f"sfnecs:{run['name']}"), spec.timezone) for run in runs.to_dict("records")]
    frame = pd.DataFrame(rows, columns=TASK_CLOCK_COLUMNS)
    if since is not None:
        frame = frame[[start is not None and start >= since for start in frame["start"]]]
    return frame.sort_values("start", ignore_index=True)


def _row(sfn: Any, run: dict[str, Any], task: dict[str, Any] | None, tz: str) -> dict[str, Any]:
    """One execution on the task clock: its task's life, or a point at its scheduled time."""
    described = sfn.describe_execution(executionArn=run["arn"])
    output, given = _json(described.get("output")), _json(described.get("input"))
    skipped = isinstance(output, dict) and output.get("skipped") is True
    scheduled = _when(given.get("scheduled_time")) if isinstance(given, dict) else None
    if task is not None:
        start, stop = _when(task.get("createdAt")), _when(task.get("stoppedAt"))
    else:
        start = stop = scheduled or run["start"]
    label = run["name"]
    if _GENERATED.match(label) and scheduled is not None:
        label = tr("scheduled {time}", time=scheduled.astimezone(ZoneInfo(tz)).strftime("%H:%M %Z"))
    return {
        "name": run["name"],
        "label": label,
        "status": run["status"],
        "skipped": skipped,
        "start": start,
        "stop": stop,
    }


def _json(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None

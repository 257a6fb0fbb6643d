"""Reading what happened to a run: its result, an execution's history, a stack's runs, a task's logs.

Why one module: every question an operator asks about a run ("did it work, why not, what did it
print, which runs were there?") is answered from the same few read-only calls — GetExecutionHistory
and ListExecutions (Step Functions), DescribeTasks (ECS), GetLogEvents (CloudWatch Logs) — made
through boto3 only, so the same code reads the sandbox and real AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from sfnecs.checks import check_int
from sfnecs.deploy.verify import check_spec
from sfnecs.diagnose.envelopes import camel_keys
from sfnecs.exceptions import RunError
from sfnecs.i18n import N_, tr
from sfnecs.model.arns import awslogs_stream
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target
from sfnecs.runs.polling import _Counter
from sfnecs.runs.results import Run, RunResult, _short
from sfnecs.runs.validation import _check_arn, _intended, _long_task_arn

#: history event types that end an execution (Step Functions API reference, HistoryEvent)
_TERMINAL = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}
_TERMINAL_DETAILS = ("executionFailedEventDetails", "executionTimedOutEventDetails", "executionAbortedEventDetails")

#: AWS error codes meaning "the thing you named is not there" (not a transient failure)
#: (malformed ARNs never get this far: _check_arn refuses them before any call, so InvalidArn or
#: InvalidParameterException here would mean something else and is left to surface as it is)
_NOT_FOUND = {
    "ExecutionDoesNotExist",
    "StateMachineDoesNotExist",
    "ClusterNotFoundException",
    "ResourceNotFoundException",
}


@contextmanager
def _named(kind: str, arn: str) -> Iterator[None]:
    """Turn AWS's not-found answers about `arn` into a RunError an operator can act on."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code not in _NOT_FOUND:
            raise
        raise RunError(
            tr(
                "{kind} {arn} was not found in this account and region ({code}): "
                "check the ARN, the target and the region",
                kind=kind,
                arn=arn,
                code=code,
            )
        ) from None


# ---- how a run ended ---------------------------------------------------------------------------
def _full_history(target: Target, arn: str, calls: _Counter) -> list[dict[str, Any]]:
    sfn = target.client("stepfunctions")
    events, token = [], None
    while True:
        page = calls(
            sfn.get_execution_history, executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {})
        )
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return sorted(events, key=lambda e: e["id"])


def _execution_result(target: Target, run: Run, calls: _Counter) -> RunResult:
    events = _full_history(target, run.arn, calls)
    end = next((e for e in reversed(events) if e["type"] in _TERMINAL), None)
    if end is None:
        raise RunError(tr("execution {arn} has not ended (its history has no terminal event)", arn=run.arn))
    details: dict[str, Any] = next((end[k] for k in _TERMINAL_DETAILS if k in end), {})
    found = _ecs_in_history(events)
    task = found["task"]
    if task is None and found["task_arn"]:
        # timed out or aborted while running: the history holds only the task's ARN
        m = _long_task_arn(found["task_arn"])
        described = (
            calls(target.client("ecs").describe_tasks, cluster=m["cluster"], tasks=[found["task_arn"]])
            if m
            else {"tasks": []}
        )
        task = described["tasks"][0] if described["tasks"] else None
    result = RunResult(
        status=_TERMINAL[end["type"]],
        execution_arn=run.arn,
        started=_when(events[0]["timestamp"]),
        stopped=_when(end["timestamp"]),
        failures=found["failures"],
    )
    result.total_seconds = _seconds(result.started, result.stopped)
    if task is not None:
        _fill_from_task(result, task, run.container_name)
    result.task_arn = result.task_arn or found["task_arn"]
    output = _json((end.get("executionSucceededEventDetails") or {}).get("output"))
    if isinstance(output, dict) and output.get("skipped") is True:
        # sfnecs.statemachine's overlap guard: it succeeded without running the job
        result.skipped, result.cause = True, output.get("reason")
    if not result.ok:
        # the job's own failure (States.TaskFailed, AmazonECS.Unknown ...) says more than a Fail state's
        result.error = found["error"] or details.get("error")
        result.cause = found["cause"] or details.get("cause")
    return result


def _ecs_in_history(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The last ECS task of an execution, its RunTask failures and the last task-level error."""
    out: dict[str, Any] = {"task": None, "task_arn": None, "failures": [], "error": None, "cause": None}
    for e in events:
        kind = e["type"]
        d = e.get(kind[0].lower() + kind[1:] + "EventDetails") or {}
        if kind.startswith("Task") and kind != "TaskStateEntered" and d.get("resourceType") not in (None, "ecs"):
            continue
        if kind == "TaskSubmitted":
            submitted = _json(d.get("output"))
            tasks = camel_keys(submitted).get("tasks") or [] if isinstance(submitted, dict) else []
            if tasks:
                out["task_arn"], out["task"] = tasks[0].get("taskArn"), None
        elif kind == "TaskSucceeded":
            doc = camel_keys(_json(d.get("output")))
            if isinstance(doc, dict) and doc.get("taskArn"):
                out["task"], out["task_arn"] = doc, doc["taskArn"]
        elif kind in ("TaskFailed", "TaskTimedOut"):
            out["error"], out["cause"] = d.get("error"), d.get("cause")
            doc = camel_keys(_json(d.get("cause")))
            if isinstance(doc, dict) and doc.get("taskArn"):
                out["task"], out["task_arn"] = doc, doc["taskArn"]
            elif isinstance(doc, dict) and doc.get("failures"):
                # RunTask answered HTTP 200 with `failures` (Step Functions: AmazonECS.Unknown)
                out["failures"] = doc["failures"]
                out["task"] = out["task_arn"] = None
    return out


def _task_result(task: dict[str, Any], arn: str) -> RunResult:
    task = camel_keys(task)
    result = RunResult(status="SUCCEEDED" if task_succeeded(task) else "FAILED", task_arn=arn)
    _fill_from_task(result, task, "")
    result.started, result.stopped = _when(task.get("createdAt")), _when(task.get("stoppedAt"))
    result.total_seconds = _seconds(result.started, result.stopped)
    if not result.ok:
        container = _main_container(task, "")
        result.error = task.get("stopCode")
        result.cause = (container or {}).get("reason") or task.get("stoppedReason")
    return result


def _fill_from_task(result: RunResult, task: dict[str, Any], container_name: str) -> None:
    container = _main_container(task, container_name) or {}
    result.task_arn = task.get("taskArn")
    result.exit_code = container.get("exitCode")
    result.stop_code = task.get("stopCode")
    result.stopped_reason = task.get("stoppedReason")
    started = _when(task.get("startedAt"))
    result.queue_seconds = _seconds(_when(task.get("createdAt")), started)
    result.run_seconds = _seconds(started, _when(task.get("executionStoppedAt") or task.get("stoppedAt")))


def task_succeeded(task: dict[str, Any]) -> bool:
    """Whether a stopped task (DescribeTasks shape) did its job: it started and every container exited 0.

    The same rule `.sync` applies (fact: sync-output-task-object): `StopCode` alone says nothing,
    since a job that exits 0 also stops with EssentialContainerExited.
    """
    task = camel_keys(task)
    if task.get("stopCode") == "TaskFailedToStart":
        return False
    containers = task.get("containers") or []
    return bool(containers) and all(c.get("exitCode") == 0 for c in containers)


def _main_container(task: dict[str, Any], name: str) -> dict[str, Any] | None:
    containers = task.get("containers") or []
    return (
        next((c for c in containers if c.get("name") == name), None)
        or next((c for c in containers if c.get("exitCode") not in (0, None)), None)
        or (containers[0] if containers else None)
    )


def _tail(target: Target, run: Run, result: RunResult, n: int, calls: _Counter) -> list[str]:
    if n == 0 or not result.task_arn or not _long_task_arn(result.task_arn):
        return []
    group, prefix, container = run.log_group, run.log_stream_prefix, run.container_name
    if not group:
        found = _log_config(target, result.task_arn, calls)
        if found is None:
            return []
        group, prefix, container = found
    return _log_lines(target, group, prefix, container, result.task_arn, n, calls)


def _log_config(target: Target, task_arn: str, calls: _Counter, container: str = "") -> tuple[str, str, str] | None:
    """(log group, stream prefix, container) of a task's awslogs container, read from its task definition."""
    m = _long_task_arn(task_arn)
    ecs = target.client("ecs")
    tasks = calls(ecs.describe_tasks, cluster=m["cluster"], tasks=[task_arn])["tasks"]  # type: ignore[index]
    if not tasks:
        return None
    td = calls(ecs.describe_task_definition, taskDefinition=tasks[0]["taskDefinitionArn"])["taskDefinition"]
    for c in td["containerDefinitions"]:
        cfg = c.get("logConfiguration") or {}
        if cfg.get("logDriver") == "awslogs" and (not container or c["name"] == container):
            opts = cfg.get("options") or {}
            return opts.get("awslogs-group", ""), opts.get("awslogs-stream-prefix", ""), c["name"]
    return None


def _log_lines(
    target: Target, group: str, prefix: str, container: str, task_arn: str, n: int, calls: _Counter
) -> list[str]:
    client = target.client("logs")
    try:
        out = calls(
            client.get_log_events,
            logGroupName=group,
            logStreamName=awslogs_stream(prefix, container, task_arn),
            limit=n,
            startFromHead=False,
        )
    except client.exceptions.ResourceNotFoundException:
        return []  # no stream: the container never started (e.g. the pull failed)
    return [e["message"] for e in out["events"]][-n:]


# ---- history, executions, logs --------------------------------------------------------------------
#: an execution's events (history); N_: the frame keeps these names, the display shows them translated
HISTORY_COLUMNS = [N_("id"), N_("timestamp"), N_("seconds"), N_("type"), N_("state"), N_("detail")]


def history(target: Target, execution: Run | str) -> Any:
    """An execution's events as a DataFrame: id, timestamp, seconds since start, type, state, detail."""
    import pandas as pd

    arn = execution.arn if isinstance(execution, Run) else execution
    _check_arn("execution", arn, ("execution",))
    with _named("execution", arn):
        events = _full_history(target, arn, _Counter())
    t0 = _when(events[0]["timestamp"]) if events else None
    rows, current = [], None
    for e in events:
        d: dict[str, Any] = next((v for k, v in e.items() if k.endswith("EventDetails")), {}) or {}
        detail = " ".join(
            str(x)
            for x in (d.get("resource"), d.get("error"), _short(d["cause"], 200) if d.get("cause") else None)
            if x
        )
        if e["type"].endswith("StateEntered"):
            current = d.get("name")
        # events between a state's entry and exit (TaskScheduled, TaskSubmitted ...) belong to it
        rows.append(
            {
                "id": e["id"],
                "timestamp": _when(e["timestamp"]),
                "seconds": _seconds(t0, _when(e["timestamp"])),
                "type": e["type"],
                "state": d.get("name") or current,
                "detail": detail,
            }
        )
        if e["type"].endswith("StateExited"):
            current = None
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


#: the stack's runs (executions)
_EXECUTION_COLUMNS = [N_("name"), N_("arn"), N_("kind"), N_("status"), N_("start"), N_("stop"), N_("seconds")]


def executions(target: Target, spec: StackSpec, since: datetime | None = None, *, limit: int = 100) -> Any:
    """The stack's recent runs as a DataFrame (newest first): executions (B) or tasks (A).

    Columns: name, arn, kind, status, start, stop, seconds. ECS keeps stopped tasks for about an
    hour only, so a pattern A stack's older runs are gone from this list (their logs remain).
    """
    import pandas as pd

    spec = check_spec(target, spec)
    if since is not None:
        since = _intended(since)
    check_int("limit", limit, 1, 10_000)
    rows = _execution_rows(target, spec, since, limit) if spec.pattern == "B" else _task_rows(target, spec, since)
    frame = pd.DataFrame(rows, columns=_EXECUTION_COLUMNS)
    return frame.sort_values("start", ascending=False, ignore_index=True).head(limit)


def _execution_rows(target: Target, spec: StackSpec, since: datetime | None, limit: int) -> list[dict[str, Any]]:
    sfn = target.client("stepfunctions")
    rows: list[dict[str, Any]] = []
    try:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=spec.state_machine_arn):
            for e in page["executions"]:
                start_, stop = _when(e["startDate"]), _when(e.get("stopDate"))
                if since and start_ and start_ < since:
                    continue
                rows.append(
                    {
                        "name": e["name"],
                        "arn": e["executionArn"],
                        "kind": "execution",
                        "status": e["status"],
                        "start": start_,
                        "stop": stop,
                        "seconds": _seconds(start_, stop),
                    }
                )
            if len(rows) >= limit:
                break
    except sfn.exceptions.StateMachineDoesNotExist:
        return []
    return rows


def stack_tasks(target: Target, spec: StackSpec) -> list[dict[str, Any]]:
    """Every task of the stack's family in its cluster (running and stopped), described, in start order.

    Empty when the cluster does not exist. ECS keeps stopped tasks visible for about an hour.
    """
    ecs = target.client("ecs")
    arns: list[str] = []
    try:
        for status in ("RUNNING", "STOPPED"):
            for page in ecs.get_paginator("list_tasks").paginate(
                cluster=spec.cluster, family=spec.family, desiredStatus=status
            ):
                arns += page["taskArns"]
    except ecs.exceptions.ClusterNotFoundException:
        return []
    tasks = [
        t
        for i in range(0, len(arns), 100)  # DescribeTasks takes at most 100 tasks
        for t in ecs.describe_tasks(cluster=spec.cluster, tasks=arns[i : i + 100])["tasks"]
    ]
    return sorted(tasks, key=lambda t: t["createdAt"])


def _task_rows(target: Target, spec: StackSpec, since: datetime | None) -> list[dict[str, Any]]:
    rows = []
    for task in stack_tasks(target, spec):
        start_, stop = _when(task.get("createdAt")), _when(task.get("stoppedAt"))
        if since and start_ and start_ < since:
            continue
        status = (
            task["lastStatus"]
            if task["lastStatus"] != "STOPPED"
            else ("SUCCEEDED" if task_succeeded(task) else "FAILED")
        )
        rows.append(
            {
                "name": task["taskArn"].rsplit("/", 1)[-1],
                "arn": task["taskArn"],
                "kind": "task",
                "status": status,
                "start": start_,
                "stop": stop,
                "seconds": _seconds(start_, stop),
            }
        )
    return rows


def logs(target: Target, task: RunResult | str, *, limit: int = 100, container: str = "") -> list[str]:
    """The last `limit` log lines of a task's container (awslogs), read from its task definition's settings."""
    arn = task.task_arn if isinstance(task, RunResult) else task
    _check_arn("task", arn, ("task",))
    check_int("limit", limit, 1, 10_000)
    calls = _Counter()
    with _named("task", arn):  # type: ignore[arg-type]
        found = _log_config(target, arn, calls, container)  # type: ignore[arg-type]
    if found is None:
        return []
    group, prefix, name = found
    return _log_lines(target, group, prefix, name, arn, limit, calls)  # type: ignore[arg-type]


# ---- small pure conversions -----------------------------------------------------------------------
def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None


def _when(value: Any) -> datetime | None:
    """A timestamp as an aware UTC datetime: boto datetimes, ISO strings, or epoch numbers.

    `.sync` output carries ECS timestamps as numbers; AWS does not document the unit, and both
    epoch milliseconds and seconds are seen, so numbers above 1e11 are read as milliseconds.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
    try:
        return _when(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    return round((b - a).total_seconds(), 3) if a and b else None

"""Start a stack's job, wait for it, and read what happened: result, history, executions, logs, timeline.

Why one module: every question an operator asks about a run ("did it work, why not, what did it
print, did two runs overlap?") is answered from the same few read-only AWS calls —
DescribeExecution/GetExecutionHistory for Step Functions (pattern B), DescribeTasks for ECS
(pattern A and the task inside B), GetLogEvents for the job's output. Only boto3 calls are used,
so the same code waits on the sandbox and on real AWS.
"""

from __future__ import annotations

import html
import json
import re
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Literal

from botocore.exceptions import ClientError

from sfnecs.exceptions import RunError, ValidationError
from sfnecs.model.arns import EXECUTION_ARN_RE, TASK_ARN_RE, awslogs_stream
from sfnecs.model.spec import StackSpec
from sfnecs.checks import check_int, check_positive
from sfnecs.deploy.stack import check_spec, log_stream_prefix, network_configuration, run_task_placement

__all__ = [
    "Backoff", "Run", "RunResult", "start", "wait", "run_direct", "history", "executions", "logs", "timeline",
    "task_succeeded", "execution_name", "wait_for_next", "summary", "SUMMARY_COLUMNS", "stack_tasks",
]

_EXECUTION_ARN = EXECUTION_ARN_RE


def _long_task_arn(arn: str) -> re.Match[str] | None:
    """A task ARN in the long format, which names the cluster DescribeTasks needs (else None)."""
    m = TASK_ARN_RE.fullmatch(arn)
    return m if m and m["cluster"] else None


# StartExecution API reference, `name`: 1-80 characters, no whitespace, brackets, wildcards,
# special characters (" # % \ ^ | ~ ` $ & , ; : /) or control characters.
_EXECUTION_NAME = re.compile(r"[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}")

#: history event types that end an execution (Step Functions API reference, HistoryEvent)
_TERMINAL = {"ExecutionSucceeded": "SUCCEEDED", "ExecutionFailed": "FAILED", "ExecutionTimedOut": "TIMED_OUT",
             "ExecutionAborted": "ABORTED"}
_TERMINAL_DETAILS = ("executionFailedEventDetails", "executionTimedOutEventDetails", "executionAbortedEventDetails")
#: how many recent events one progress poll reads: enough to include the current state's entry
_PEEK_EVENTS = 10


# ---- polling ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Backoff:
    """Poll delays: `initial`, then x`factor` each time, never more than `cap` (real seconds).

    Why these defaults: a failure to launch shows within a second or two, so the first polls come
    at 0.5, 1.3 and 2.6 s; a job that runs for minutes needs no second-by-second check, so delays
    grow by 1.6x up to 10 s. A finished run is noticed within 10 s, and waiting for a 60 s job
    costs under a quarter of the calls of polling every second (bench/wait_calls.py measures it).
    """

    initial: float = 0.5
    factor: float = 1.6
    cap: float = 10.0

    def __post_init__(self) -> None:
        for name in ("initial", "cap"):
            check_positive(name, getattr(self, name), 3600, "seconds")
        if isinstance(self.factor, bool) or not isinstance(self.factor, (int, float)) or not 1 <= self.factor <= 10:
            raise ValidationError("factor", self.factor, "a number from 1 to 10")
        if self.cap < self.initial:
            raise ValidationError("cap", self.cap, f"at least initial={self.initial}")

    def delays(self) -> Iterator[float]:
        """The endless sequence of delays."""
        delay = float(self.initial)
        while True:
            yield delay
            delay = min(self.cap, delay * self.factor)

    def scaled(self, speed: float) -> "Backoff":
        """The same schedule `speed` times faster (for a sandbox whose clock runs `speed`x)."""
        return Backoff(self.initial / speed, self.factor, self.cap / speed)


# ---- results ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    """A started run: a Step Functions execution (pattern B) or an ECS task (pattern A)."""

    arn: str
    kind: Literal["execution", "task"]
    name: str
    stack: str = ""
    intended: datetime | None = None
    deduplicated: bool = False  # the start matched an existing run with the same name/token
    log_group: str = ""
    log_stream_prefix: str = ""
    container_name: str = ""


@dataclass
class RunResult:
    """How one run ended: status, the job's exit, why it stopped, its logs and timings.

    `started`/`stopped`/`total_seconds` are the execution's (pattern B) or the task's (direct
    runs); `queue_seconds`/`run_seconds` always come from the ECS task. In the sandbox the task's
    times are on the virtual clock while execution timestamps are real, so there a task can
    "run" longer than its execution took.
    """

    status: str  # SUCCEEDED FAILED TIMED_OUT ABORTED (executions) or SUCCEEDED FAILED (direct runs)
    exit_code: int | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None
    task_arn: str | None = None
    execution_arn: str | None = None
    started: datetime | None = None
    stopped: datetime | None = None
    queue_seconds: float | None = None  # task created -> container started (provisioning and pull)
    run_seconds: float | None = None  # container started -> task stopped
    total_seconds: float | None = None  # the whole run (execution, or task created -> stopped)
    log_tail: list[str] = field(default_factory=list)
    error: str | None = None
    cause: str | None = None
    failures: list[dict[str, Any]] = field(default_factory=list)  # RunTask `failures` (no task started)
    skipped: bool = False  # the overlap guard ended the execution before any task (reason in `cause`)
    api_calls: int = 0  # AWS calls made to wait for and read this result

    @property
    def ok(self) -> bool:
        return self.status == "SUCCEEDED"

    @property
    def durations(self) -> dict[str, float | None]:
        return {"queue": self.queue_seconds, "run": self.run_seconds, "total": self.total_seconds}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (for runbook results)."""
        out = asdict(self)
        for key in ("started", "stopped"):
            out[key] = out[key].isoformat() if out[key] else None
        out["ok"] = self.ok
        return out

    def to_frame(self) -> Any:
        """One row (concatenate several results to compare runs)."""
        import pandas as pd

        row = {f.name: getattr(self, f.name) for f in fields(self)}
        row["log_tail"] = "\n".join(self.log_tail)
        return pd.DataFrame([row])

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.ok else "#cf222e"
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td><pre style='margin:0'>"
            f"{html.escape(_short(v))}</pre></td></tr>"
            for k, v in asdict(self).items() if v not in (None, [], "") and k != "log_tail")
        tail = html.escape("\n".join(self.log_tail)) or "(no log lines)"
        return (f"<p><b style='color:{colour}'>{html.escape(self.status)}</b></p><table>{rows}</table>"
                f"<details open><summary>last {len(self.log_tail)} log lines</summary><pre>{tail}</pre></details>")


#: what says whether a run worked and why; ARNs and times differ on every run, so they are left out
SUMMARY_COLUMNS = ("status", "exit_code", "stop_code", "stopped_reason", "error", "skipped", "log_tail")


def summary(results: Any, columns: Any = SUMMARY_COLUMNS) -> Any:
    """Runs side by side as a DataFrame, one row per label: whether each worked and why.

    Why: comparing a failed run with its fixed rerun is the question after a failure; `results` maps
    a label to a RunResult (a bare RunResult gets the label "run"). The log tail is joined with " | ".
    """
    import pandas as pd

    if isinstance(results, RunResult):
        results = {"run": results}
    if not isinstance(results, dict) or not all(isinstance(r, RunResult) for r in results.values()):
        raise ValidationError("results", type(results).__name__, "a RunResult or a dict of label -> RunResult")
    names = {f.name for f in fields(RunResult)}
    if isinstance(columns, str) or not all(c in names for c in columns):
        raise ValidationError("columns", columns, "RunResult field names, e.g. " + ", ".join(SUMMARY_COLUMNS))
    rows = [{c: " | ".join(r.log_tail) if c == "log_tail" else getattr(r, c) for c in columns}
            for r in results.values()]
    # object columns: an exit code stays 0 (not 0.0) and a missing value shows as None (not NaN)
    return pd.DataFrame(rows, index=pd.Index(list(results), name="run"), columns=list(columns), dtype=object)


def _short(value: Any, limit: int = 400) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + " ..."


# ---- validation at the door ---------------------------------------------------------------------
def _check_timeout(value: object) -> float:
    return float(check_positive("timeout", value, 31_536_000))


def _check_lines(value: object) -> int:
    return check_int("log_lines", value, 0, 10_000)


def _check_backoff(value: object) -> None:
    if not isinstance(value, Backoff):
        raise ValidationError("backoff", value, "a sfnecs.runs.Backoff")


def _check_arn(parameter: str, value: object, kinds: tuple[str, ...]) -> re.Match[str]:
    match = {"execution": _EXECUTION_ARN.fullmatch, "task": _long_task_arn}
    for kind in kinds:
        if isinstance(value, str) and (m := match[kind](value)):
            return m
    allowed = {"execution": "an execution ARN (arn:aws:states:<region>:<account>:execution:<machine>:<name>)",
               "task": "a task ARN (arn:aws:ecs:<region>:<account>:task/<cluster>/<32 hex id>)"}
    raise ValidationError(parameter, value, " or ".join(allowed[k] for k in kinds))


def _intended(at: object) -> datetime:
    if at is None:
        return datetime.now(timezone.utc)
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise ValidationError("at", at, "a timezone-aware datetime (e.g. datetime.now(timezone.utc))")
    return at.astimezone(timezone.utc)


def execution_name(at: datetime, prefix: str = "run") -> str:
    """The execution name for a run intended at `at`: `run-20240131T0900Z` (minute precision).

    Why: schedules have minute precision, and Step Functions refuses a second execution with the
    same name (an identical running one is returned instead; a finished one's name is kept 90 days),
    so two starts for the same intended minute make one execution.
    """
    return f"{prefix}-{at.astimezone(timezone.utc):%Y%m%dT%H%M}Z"


# ---- start ----------------------------------------------------------------------------------------
def start(target: Any, spec: StackSpec, input: dict[str, Any] | None = None, name: str | None = None, *,
          at: datetime | None = None) -> Run:
    """Start one execution of the stack's state machine (pattern B) and return at once.

    The name defaults to `execution_name(at)` (at: now) and the input to
    `{"scheduled_time": <at>}`, the shape the schedule sends; starting again for the same minute
    returns the existing execution (`Run.deduplicated`) instead of a second run.
    """
    spec = check_spec(target, spec)
    if spec.pattern != "B":
        raise ValidationError("spec.pattern", spec.pattern, "B for start(); a pattern A stack runs with run_direct()")
    # minute precision, as schedules have: two starts for the same minute are the same run
    when = _intended(at).replace(second=0, microsecond=0)
    name = execution_name(when) if name is None else name
    if not isinstance(name, str) or not _EXECUTION_NAME.fullmatch(name):
        raise ValidationError("name", name, "1-80 characters without whitespace, brackets, wildcards or "
                              "\" # % \\ ^ | ~ ` $ & , ; : /")
    if input is None:
        input = {"scheduled_time": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if not isinstance(input, dict):
        raise ValidationError("input", input, "a JSON object (dict) or None")
    body = json.dumps(input, sort_keys=True)
    sfn = target.client("stepfunctions")
    log = _log_location(spec)
    arn = spec.arn("states", f"execution:{spec.state_machine}:{name}")
    existing = _describe_or_none(sfn, arn)
    if existing is None:
        try:
            started = sfn.start_execution(stateMachineArn=spec.state_machine_arn, name=name, input=body)
            return Run(started["executionArn"], "execution", name, spec.name, when, False, **log)
        except sfn.exceptions.ExecutionAlreadyExists:
            existing = _describe_or_none(sfn, arn)  # started by someone else since we looked
        except sfn.exceptions.StateMachineDoesNotExist:
            raise RunError(f"state machine {spec.state_machine_arn} does not exist: apply the stack first") from None
    # Step Functions keeps a name for 90 days: the same name and input is the same intended run,
    # the duplicate we were asked to avoid. (Two starters racing both get the one execution:
    # StartExecution with a running execution's name and input is idempotent.)
    if existing is None or json.loads(existing.get("input") or "null") != input:
        raise RunError(f"execution name={name!r} is already used by {arn} with other input: pass another "
                       "name or the same input")
    return Run(arn, "execution", name, spec.name, when, True, **log)


def _describe_or_none(sfn: Any, arn: str) -> dict[str, Any] | None:
    try:
        return sfn.describe_execution(executionArn=arn)
    except sfn.exceptions.ExecutionDoesNotExist:
        return None


def _log_location(spec: StackSpec) -> dict[str, str]:
    return {"log_group": spec.log_group, "log_stream_prefix": log_stream_prefix(spec),
            "container_name": spec.container_name}


#: AWS error codes meaning "the thing you named is not there" (not a transient failure)
#: (malformed ARNs never get this far: _check_arn refuses them before any call, so InvalidArn or
#: InvalidParameterException here would mean something else and is left to surface as it is)
_NOT_FOUND = {"ExecutionDoesNotExist", "StateMachineDoesNotExist", "ClusterNotFoundException",
              "ResourceNotFoundException"}


@contextmanager
def _named(kind: str, arn: str) -> Iterator[None]:
    """Turn AWS's not-found answers about `arn` into a RunError an operator can act on."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code not in _NOT_FOUND:
            raise
        raise RunError(f"{kind} {arn} was not found in this account and region ({code}): check the ARN, "
                       "the target and the region") from None


# ---- wait -------------------------------------------------------------------------------------------
class _Counter:
    """Counts the AWS calls one wait makes (the quantity bench/wait_calls.py compares)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, method: Callable[..., Any], **kwargs: Any) -> Any:
        self.n += 1
        return method(**kwargs)


def wait(target: Any, run: Run | str, *, timeout: float = 7200.0, progress: bool = True, log_lines: int = 20,
         backoff: Backoff = Backoff(), sleep: Callable[[float], None] = time.sleep) -> RunResult:
    """Wait for an execution or task to end, with exponential backoff, and return its RunResult.

    `run`: what `start()` returned, or an execution ARN or task ARN. Raises RunError naming the
    run when `timeout` real seconds pass first. The progress bar (tqdm) shows the current state
    and the elapsed time; it is off when `progress=False` or when output is not a terminal.
    """
    if isinstance(run, str):
        kind = "execution" if _check_arn("run", run, ("execution", "task")).re is _EXECUTION_ARN else "task"
        run = Run(run, kind, run.rsplit(":" if kind == "execution" else "/", 1)[-1])  # type: ignore[arg-type]
    elif not isinstance(run, Run):
        raise ValidationError("run", run, "a Run from start(), an execution ARN or a task ARN")
    else:
        _check_arn("run.arn", run.arn, (run.kind,))
    timeout = _check_timeout(timeout)
    log_lines = _check_lines(log_lines)
    _check_backoff(backoff)
    calls = _Counter()
    poll = _poll_execution if run.kind == "execution" else _poll_task
    with _named(run.kind, run.arn):
        last = _watch(target, run, poll, calls, timeout, progress, backoff, sleep)
        if run.kind == "execution":
            result = _execution_result(target, run, calls)
        else:
            result = _task_result(last, run.arn)
        result.log_tail = _tail(target, run, result, log_lines, calls)
    result.api_calls = calls.n
    return result


def _watch(target: Any, run: Run, poll: Callable[..., tuple[bool, str, Any]], calls: _Counter, timeout: float,
           progress: bool, backoff: Backoff, sleep: Callable[[float], None]) -> Any:
    from tqdm.auto import tqdm

    deadline = time.monotonic() + timeout
    state = "not polled yet"
    with tqdm(total=None, desc=run.name, bar_format="{desc} [{elapsed}]", disable=None if progress else True,
              leave=True) as bar:
        for delay in backoff.delays():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RunError(f"{run.kind} {run.arn} did not finish within timeout={timeout:g} s "
                               f"(last state: {state}); it is still running: wait again or stop it")
            sleep(min(delay, remaining))
            done, state, last = poll(target, run, calls)
            bar.set_description_str(f"{run.name}: {state}", refresh=False)
            bar.update(0)
            if done:
                return last
    raise AssertionError("unreachable: Backoff.delays() is endless")


def _poll_execution(target: Any, run: Run, calls: _Counter) -> tuple[bool, str, Any]:
    """One call: the newest events tell both whether it ended and which state it is in."""
    page = calls(target.client("stepfunctions").get_execution_history, executionArn=run.arn, reverseOrder=True,
                 maxResults=_PEEK_EVENTS, includeExecutionData=False)
    # newest first whatever the server's order (the sandbox may ignore reverseOrder)
    events = sorted(page["events"], key=lambda e: e["id"], reverse=True)
    for e in events:
        if e["type"] in _TERMINAL:
            return True, _TERMINAL[e["type"]], None
    entered = next((e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e), None)
    return False, f"RUNNING {entered}" if entered else "RUNNING", None


def _poll_task(target: Any, run: Run, calls: _Counter) -> tuple[bool, str, Any]:
    cluster = _long_task_arn(run.arn)["cluster"]  # type: ignore[index]
    out = calls(target.client("ecs").describe_tasks, cluster=cluster, tasks=[run.arn])
    if not out["tasks"]:
        raise RunError(f"task {run.arn} was not found: {out.get('failures')}")
    task = out["tasks"][0]
    return task["lastStatus"] == "STOPPED", task["lastStatus"], task


def _full_history(target: Any, arn: str, calls: _Counter) -> list[dict[str, Any]]:
    sfn = target.client("stepfunctions")
    events, token = [], None
    while True:
        page = calls(sfn.get_execution_history, executionArn=arn, maxResults=1000,
                     **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return sorted(events, key=lambda e: e["id"])


def _execution_result(target: Any, run: Run, calls: _Counter) -> RunResult:
    events = _full_history(target, run.arn, calls)
    end = next((e for e in reversed(events) if e["type"] in _TERMINAL), None)
    if end is None:
        raise RunError(f"execution {run.arn} has not ended (its history has no terminal event)")
    details = next((end[k] for k in _TERMINAL_DETAILS if k in end), {})
    found = _ecs_in_history(events)
    task = found["task"]
    if task is None and found["task_arn"]:
        # timed out or aborted while running: the history holds only the task's ARN
        m = _long_task_arn(found["task_arn"])
        described = calls(target.client("ecs").describe_tasks, cluster=m["cluster"],
                          tasks=[found["task_arn"]]) if m else {"tasks": []}
        task = described["tasks"][0] if described["tasks"] else None
    result = RunResult(status=_TERMINAL[end["type"]], execution_arn=run.arn, started=_when(events[0]["timestamp"]),
                       stopped=_when(end["timestamp"]), failures=found["failures"])
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
            tasks = _camel(submitted).get("tasks") or [] if isinstance(submitted, dict) else []
            if tasks:
                out["task_arn"], out["task"] = tasks[0].get("taskArn"), None
        elif kind == "TaskSucceeded":
            doc = _camel(_json(d.get("output")))
            if isinstance(doc, dict) and doc.get("taskArn"):
                out["task"], out["task_arn"] = doc, doc["taskArn"]
        elif kind in ("TaskFailed", "TaskTimedOut"):
            out["error"], out["cause"] = d.get("error"), d.get("cause")
            doc = _camel(_json(d.get("cause")))
            if isinstance(doc, dict) and doc.get("taskArn"):
                out["task"], out["task_arn"] = doc, doc["taskArn"]
            elif isinstance(doc, dict) and doc.get("failures"):
                # RunTask answered HTTP 200 with `failures` (Step Functions: AmazonECS.Unknown)
                out["failures"] = doc["failures"]
                out["task"] = out["task_arn"] = None
    return out


def _task_result(task: dict[str, Any], arn: str) -> RunResult:
    task = _camel(task)
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

    The same rule `.sync` applies (AWS_FACTS.md "How .sync decides"): `StopCode` alone says nothing,
    since a job that exits 0 also stops with EssentialContainerExited.
    """
    task = _camel(task)
    if task.get("stopCode") == "TaskFailedToStart":
        return False
    containers = task.get("containers") or []
    return bool(containers) and all(c.get("exitCode") == 0 for c in containers)


def _main_container(task: dict[str, Any], name: str) -> dict[str, Any] | None:
    containers = task.get("containers") or []
    return (next((c for c in containers if c.get("name") == name), None)
            or next((c for c in containers if c.get("exitCode") not in (0, None)), None)
            or (containers[0] if containers else None))


def _tail(target: Any, run: Run, result: RunResult, n: int, calls: _Counter) -> list[str]:
    if n == 0 or not result.task_arn or not _long_task_arn(result.task_arn):
        return []
    group, prefix, container = run.log_group, run.log_stream_prefix, run.container_name
    if not group:
        found = _log_config(target, result.task_arn, calls)
        if found is None:
            return []
        group, prefix, container = found
    return _log_lines(target, group, prefix, container, result.task_arn, n, calls)


def _log_config(target: Any, task_arn: str, calls: _Counter, container: str = "") -> tuple[str, str, str] | None:
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


def _log_lines(target: Any, group: str, prefix: str, container: str, task_arn: str, n: int,
               calls: _Counter) -> list[str]:
    client = target.client("logs")
    try:
        out = calls(client.get_log_events, logGroupName=group,
                    logStreamName=awslogs_stream(prefix, container, task_arn), limit=n, startFromHead=False)
    except client.exceptions.ResourceNotFoundException:
        return []  # no stream: the container never started (e.g. the pull failed)
    return [e["message"] for e in out["events"]][-n:]


# ---- pattern A by hand ----------------------------------------------------------------------------
def run_direct(target: Any, spec: StackSpec, *, at: datetime | None = None, client_token: str | None = None,
               timeout: float = 7200.0, progress: bool = True, log_lines: int = 20,
               backoff: Backoff = Backoff(), sleep: Callable[[float], None] = time.sleep) -> RunResult:
    """Run the stack's task once with RunTask, as pattern A's schedule does, and wait for it.

    Why by hand: the Scheduler counts an invocation as delivered even when RunTask answers HTTP
    200 with `failures` and no task (AWS_FACTS.md); here those failures come back as a FAILED
    RunResult with the reasons. `client_token` (default: stack name + intended minute) makes a
    repeated call within 24 h return the same task instead of starting another (RunTask API).
    """
    spec = check_spec(target, spec)
    when = _intended(at).replace(second=0, microsecond=0)
    token = client_token if client_token is not None else f"{spec.name}-{when:%Y%m%dT%H%M}Z"
    if not isinstance(token, str) or not 1 <= len(token) <= 64:
        raise ValidationError("client_token", token, "1-64 characters (RunTask clientToken)")
    _check_timeout(timeout)
    _check_lines(log_lines)
    _check_backoff(backoff)
    calls = _Counter()
    ecs = target.client("ecs")
    try:
        out = calls(ecs.run_task, cluster=spec.cluster, taskDefinition=spec.family, **run_task_placement(spec), count=1,
                    networkConfiguration=network_configuration(spec), clientToken=token, startedBy="sfnecs",
                    propagateTags="TASK_DEFINITION")
    except ecs.exceptions.ClusterNotFoundException:
        raise RunError(f"cluster {spec.cluster!r} does not exist in {spec.region}: apply the stack first") from None
    except ClientError as exc:  # ClientException, InvalidParameterException, AccessDeniedException, throttling ...
        raise RunError(f"RunTask for stack {spec.name!r} was refused: {exc}") from None
    if out.get("failures") or not out.get("tasks"):
        failures = out.get("failures") or []
        reasons = "; ".join(f"{f.get('reason')}" + (f" ({f['detail']})" if f.get("detail") else "") for f in failures)
        return RunResult(status="FAILED", error="RunTaskFailure", cause=reasons or "RunTask started no task",
                         failures=failures, api_calls=calls.n)
    task_arn = out["tasks"][0]["taskArn"]
    run = Run(task_arn, "task", task_arn.rsplit("/", 1)[-1], spec.name, when, **_log_location(spec))
    result = wait(target, run, timeout=timeout, progress=progress, log_lines=log_lines, backoff=backoff, sleep=sleep)
    result.api_calls += calls.n
    return result


# ---- the next scheduled run ------------------------------------------------------------------------
def wait_for_next(target: Any, spec: StackSpec, known: Any, *, timeout: float = 90_000.0,
                  backoff: Backoff = Backoff(), sleep: Callable[[float], None] = time.sleep) -> Run:
    """Wait until the stack has a run whose ARN is not in `known`, such as a schedule firing, and return it.

    Why: to watch the next scheduled run, note the ARNs of the runs there are now (`executions()`),
    then wait; ARNs, not start times, tell new from old, so a clock that differs (the sandbox's tasks
    live on its virtual clock) cannot confuse it. Of several new runs, the oldest is returned.
    The default timeout is 25 hours: a daily schedule fires within it.
    """
    spec = check_spec(target, spec)
    if isinstance(known, str) or not hasattr(known, "__iter__"):
        raise ValidationError("known", known, "a collection of run ARNs, e.g. executions(target, spec)['arn']")
    seen = set(known)
    if not all(isinstance(a, str) for a in seen):
        raise ValidationError("known", sorted(map(str, seen))[:3], "run ARNs (strings)")
    timeout = _check_timeout(timeout)
    _check_backoff(backoff)
    deadline = time.monotonic() + timeout
    for delay in backoff.delays():
        frame = executions(target, spec, limit=10_000)
        new = frame[~frame["arn"].isin(seen)]
        if len(new):
            row = new.iloc[-1]  # executions() is newest first
            return Run(row["arn"], row["kind"], row["name"], spec.name, **_log_location(spec))
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RunError(f"no new run of stack {spec.name!r} started within timeout={timeout:g} s: is its schedule "
                           "enabled, and when does it fire next?")
        sleep(min(delay, remaining))
    raise AssertionError("unreachable: Backoff.delays() is endless")


# ---- history, executions, logs --------------------------------------------------------------------
def history(target: Any, execution: Run | str) -> Any:
    """An execution's events as a DataFrame: id, timestamp, seconds since start, type, state, detail."""
    import pandas as pd

    arn = execution.arn if isinstance(execution, Run) else execution
    _check_arn("execution", arn, ("execution",))
    with _named("execution", arn):
        events = _full_history(target, arn, _Counter())
    t0 = _when(events[0]["timestamp"]) if events else None
    rows, current = [], None
    for e in events:
        d = next((v for k, v in e.items() if k.endswith("EventDetails")), {}) or {}
        detail = " ".join(str(x) for x in (d.get("resource"), d.get("error"), _short(d["cause"], 200)
                                             if d.get("cause") else None) if x)
        if e["type"].endswith("StateEntered"):
            current = d.get("name")
        # events between a state's entry and exit (TaskScheduled, TaskSubmitted ...) belong to it
        rows.append({"id": e["id"], "timestamp": _when(e["timestamp"]), "seconds": _seconds(t0, _when(e["timestamp"])),
                     "type": e["type"], "state": d.get("name") or current, "detail": detail})
        if e["type"].endswith("StateExited"):
            current = None
    return pd.DataFrame(rows, columns=["id", "timestamp", "seconds", "type", "state", "detail"])


_EXECUTION_COLUMNS = ["name", "arn", "kind", "status", "start", "stop", "seconds"]


def executions(target: Any, spec: StackSpec, since: datetime | None = None, *, limit: int = 100) -> Any:
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


def _execution_rows(target: Any, spec: StackSpec, since: datetime | None, limit: int) -> list[dict[str, Any]]:
    sfn = target.client("stepfunctions")
    rows: list[dict[str, Any]] = []
    try:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=spec.state_machine_arn):
            for e in page["executions"]:
                start_, stop = _when(e["startDate"]), _when(e.get("stopDate"))
                if since and start_ < since:
                    continue
                rows.append({"name": e["name"], "arn": e["executionArn"], "kind": "execution", "status": e["status"],
                             "start": start_, "stop": stop, "seconds": _seconds(start_, stop)})
            if len(rows) >= limit:
                break
    except sfn.exceptions.StateMachineDoesNotExist:
        return []
    return rows


def stack_tasks(target: Any, spec: StackSpec) -> list[dict[str, Any]]:
    """Every task of the stack's family in its cluster (running and stopped), described, in start order.

    Empty when the cluster does not exist. ECS keeps stopped tasks visible for about an hour.
    """
    ecs = target.client("ecs")
    arns: list[str] = []
    try:
        for status in ("RUNNING", "STOPPED"):
            for page in ecs.get_paginator("list_tasks").paginate(cluster=spec.cluster, family=spec.family,
                                                                 desiredStatus=status):
                arns += page["taskArns"]
    except ecs.exceptions.ClusterNotFoundException:
        return []
    tasks = [t for i in range(0, len(arns), 100)  # DescribeTasks takes at most 100 tasks
             for t in ecs.describe_tasks(cluster=spec.cluster, tasks=arns[i:i + 100])["tasks"]]
    return sorted(tasks, key=lambda t: t["createdAt"])


def _task_rows(target: Any, spec: StackSpec, since: datetime | None) -> list[dict[str, Any]]:
    rows = []
    for task in stack_tasks(target, spec):
        start_, stop = _when(task.get("createdAt")), _when(task.get("stoppedAt"))
        if since and start_ and start_ < since:
            continue
        status = task["lastStatus"] if task["lastStatus"] != "STOPPED" else (
            "SUCCEEDED" if task_succeeded(task) else "FAILED")
        rows.append({"name": task["taskArn"].rsplit("/", 1)[-1], "arn": task["taskArn"], "kind": "task",
                     "status": status, "start": start_, "stop": stop, "seconds": _seconds(start_, stop)})
    return rows


def logs(target: Any, task: RunResult | str, *, limit: int = 100, container: str = "") -> list[str]:
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


# ---- timeline ---------------------------------------------------------------------------------------
_STATUS_COLOURS = {"SUCCEEDED": "#2da44e", "FAILED": "#cf222e", "TIMED_OUT": "#bf8700", "ABORTED": "#8c959f",
                   "RUNNING": "#0969da"}


def overlaps(df: Any) -> list[tuple[datetime, datetime]]:
    """The intervals in which two or more runs of `df` (start, stop columns) were active at once."""
    edges: list[tuple[datetime, int]] = []
    now = _latest(df)
    for _, row in df.iterrows():
        if row["start"] is None or _missing(row["start"]):
            continue
        stop = now if _missing(row["stop"]) else row["stop"]
        edges += [(row["start"], 1), (stop, -1)]
    out, active, opened = [], 0, None
    for t, step in sorted(edges, key=lambda e: (e[0], e[1])):
        active += step
        if active >= 2 and opened is None:
            opened = t
        elif active < 2 and opened is not None:
            if t > opened:
                out.append((opened, t))
            opened = None
    return out


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def _latest(df: Any) -> datetime:
    times = [t for col in ("start", "stop") for t in df[col] if not _missing(t)]
    return max(times) if times else datetime.now(timezone.utc)


def timeline(df: Any, *, ax: Any = None, title: str | None = None) -> Any:
    """A Gantt chart of runs (one bar per row of `executions()`), overlaps shaded red; returns the Figure."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    missing = {"name", "status", "start", "stop"} - set(getattr(df, "columns", []))
    if missing:
        raise ValidationError("df", type(df).__name__, f"a DataFrame with columns name, status, start, stop "
                              f"(from executions()); missing {sorted(missing)}")
    rows = df[[not _missing(s) for s in df["start"]]].sort_values("start", ignore_index=True)
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, max(2.0, 0.35 * len(rows) + 1.2)))
    else:
        fig = ax.figure
    now = _latest(rows) if len(rows) else datetime.now(timezone.utc)
    for i, row in rows.iterrows():
        stop = now if _missing(row["stop"]) else row["stop"]
        start_num, stop_num = mdates.date2num(row["start"]), mdates.date2num(stop)
        ax.barh(i, max(stop_num - start_num, 1e-6), left=start_num, height=0.6,
                color=_STATUS_COLOURS.get(row["status"], "#6e7781"), hatch="//" if _missing(row["stop"]) else None)
    for a, b in overlaps(rows):
        ax.axvspan(mdates.date2num(a), mdates.date2num(b), color="#cf222e", alpha=0.15, lw=0)
    ax.set_yticks(range(len(rows)), [str(n) for n in rows["name"]])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
    ax.set_xlabel("time (UTC)")
    ax.set_title(title or f"{len(rows)} runs, {len(overlaps(rows))} overlap interval(s)")
    statuses = sorted(set(rows["status"]))
    ax.legend(handles=[Patch(color=_STATUS_COLOURS.get(s, "#6e7781"), label=s) for s in statuses]
              + [Patch(color="#cf222e", alpha=0.15, label="overlap")], loc="upper right", fontsize="small")
    fig.tight_layout()
    return fig


# ---- small pure conversions -----------------------------------------------------------------------
def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None


def _camel(value: Any) -> Any:
    """PascalCase keys (Step Functions' view of ECS objects) to the API's camelCase: TaskArn -> taskArn."""
    if isinstance(value, dict):
        return {(k[:1].lower() + k[1:] if isinstance(k, str) else k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _when(value: Any) -> datetime | None:
    """A timestamp as an aware UTC datetime: boto datetimes, ISO strings, or epoch numbers.

    `.sync` output carries ECS timestamps as numbers; AWS does not document the unit, and both
    epoch milliseconds and seconds are seen, so numbers above 1e11 are read as milliseconds.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, timezone.utc)
    try:
        return _when(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    return round((b - a).total_seconds(), 3) if a and b else None


"""Waiting for a run to end, or for the stack's next run to start, with exponential backoff.

Why apart from reading: waiting is the loop (poll cheaply, show progress, give up at a timeout
naming the run); what it then reports is read by `reading`. `wait` works on an execution or a
task, so the same call waits for pattern B and pattern A.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypedDict

from sfnecs.deploy.verify import check_spec
from sfnecs.exceptions import RunError, ValidationError
from sfnecs.i18n import N_, tr
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target
from sfnecs.runs.polling import DEFAULT_BACKOFF, Backoff, _Counter
from sfnecs.runs.reading import _TERMINAL, _execution_result, _named, _tail, _task_result, executions
from sfnecs.runs.results import Run, RunResult, _log_location
from sfnecs.runs.validation import (
    _EXECUTION_ARN,
    _check_arn,
    _check_backoff,
    _check_lines,
    _check_timeout,
    _long_task_arn,
)

#: how many recent events one progress poll reads: enough to include the current state's entry
_PEEK_EVENTS = 10


class WaitOptions(TypedDict, total=False):
    """The keyword arguments of `wait` (its signature holds the defaults).

    Why: `run_direct` waits for the task it starts and takes the same options, passed on unchanged.
    """

    timeout: float
    progress: bool
    log_lines: int
    backoff: Backoff
    sleep: Callable[[float], None]


def check_wait_options(caller: str, options: WaitOptions) -> None:
    """Raise TypeError for an option `wait` does not take, ValidationError for a bad value.

    Why: a caller that starts something first (run_direct: RunTask) must refuse before it starts it.
    """
    unknown = sorted(set(options) - set(WaitOptions.__annotations__))
    if unknown:
        raise TypeError(f"{caller}() got an unexpected keyword argument {unknown[0]!r}")
    if "timeout" in options:
        _check_timeout(options["timeout"])
    if "log_lines" in options:
        _check_lines(options["log_lines"])
    if "backoff" in options:
        _check_backoff(options["backoff"])


def wait(
    target: Target,
    run: Run | str,
    *,
    timeout: float = 7200.0,
    progress: bool = True,
    log_lines: int = 20,
    backoff: Backoff = DEFAULT_BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> RunResult:
    """Wait for an execution or task to end, with exponential backoff, and return its RunResult.

    `run`: what `start()` returned, or an execution ARN or task ARN. Raises RunError naming the
    run when `timeout` real seconds pass first. The progress bar (tqdm) shows the current state
    and the elapsed time; it is off when `progress=False` or when output is not a terminal.
    """
    if isinstance(run, str):
        kind = "execution" if _check_arn("run", run, ("execution", "task")).re is _EXECUTION_ARN else "task"
        run = Run(run, kind, run.rsplit(":" if kind == "execution" else "/", 1)[-1])  # type: ignore[arg-type]
    elif not isinstance(run, Run):
        raise ValidationError("run", run, N_("a Run from start(), an execution ARN or a task ARN"))
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


def _watch(
    target: Target,
    run: Run,
    poll: Callable[..., tuple[bool, str, Any]],
    calls: _Counter,
    timeout: float,
    progress: bool,
    backoff: Backoff,
    sleep: Callable[[float], None],
) -> Any:
    from tqdm.auto import tqdm

    deadline = time.monotonic() + timeout
    state = "not polled yet"
    with tqdm(
        total=None, desc=run.name, bar_format="{desc} [{elapsed}]", disable=None if progress else True, leave=True
    ) as bar:
        for delay in backoff.delays():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RunError(
                    tr(
                        "{kind} {arn} did not finish within timeout={timeout:g} s (last state: {state}); it is still "
                        "running: wait again or stop it",
                        kind=run.kind,
                        arn=run.arn,
                        timeout=timeout,
                        state=state,
                    )
                )
            sleep(min(delay, remaining))
            done, state, last = poll(target, run, calls)
            bar.set_description_str(f"{run.name}: {state}", refresh=False)
            bar.update(0)
            if done:
                return last
    raise AssertionError("unreachable: Backoff.delays() is endless")


def _poll_execution(target: Target, run: Run, calls: _Counter) -> tuple[bool, str, Any]:
    """One call: the newest events tell both whether it ended and which state it is in."""
    page = calls(
        target.client("stepfunctions").get_execution_history,
        executionArn=run.arn,
        reverseOrder=True,
        maxResults=_PEEK_EVENTS,
        includeExecutionData=False,
    )
    # newest first whatever the server's order (the sandbox may ignore reverseOrder)
    events = sorted(page["events"], key=lambda e: e["id"], reverse=True)
    for e in events:
        if e["type"] in _TERMINAL:
            return True, _TERMINAL[e["type"]], None
    entered = next((e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e), None)
    return False, f"RUNNING {entered}" if entered else "RUNNING", None


def _poll_task(target: Target, run: Run, calls: _Counter) -> tuple[bool, str, Any]:
    cluster = _long_task_arn(run.arn)["cluster"]  # type: ignore[index]
    out = calls(target.client("ecs").describe_tasks, cluster=cluster, tasks=[run.arn])
    if not out["tasks"]:
        raise RunError(tr("task {arn} was not found: {failures}", arn=run.arn, failures=out.get("failures")))
    task = out["tasks"][0]
    return task["lastStatus"] == "STOPPED", task["lastStatus"], task


def wait_for_next(
    target: Target,
    spec: StackSpec,
    known: Any,
    *,
    timeout: float = 90_000.0,
    backoff: Backoff = DEFAULT_BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> Run:
    """Wait until the stack has a run whose ARN is not in `known`, such as a schedule firing, and return it.

    Why: to watch the next scheduled run, note the ARNs of the runs there are now (`executions()`),
    then wait; ARNs, not start times, tell new from old, so a clock that differs (the sandbox's tasks
    live on its virtual clock) cannot confuse it. Of several new runs, the oldest is returned.
    The default timeout is 25 hours: a daily schedule fires within it.
    """
    spec = check_spec(target, spec)
    if isinstance(known, str) or not hasattr(known, "__iter__"):
        raise ValidationError("known", known, N_("a collection of run ARNs, e.g. executions(target, spec)['arn']"))
    seen = set(known)
    if not all(isinstance(a, str) for a in seen):
        raise ValidationError("known", sorted(map(str, seen))[:3], N_("run ARNs (strings)"))
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
            raise RunError(
                tr(
                    "no new run of stack {stack} started within timeout={timeout:g} s: is its schedule enabled, "
                    "and when does it fire next?",
                    stack=repr(spec.name),
                    timeout=timeout,
                )
            )
        sleep(min(delay, remaining))
    raise AssertionError("unreachable: Backoff.delays() is endless")

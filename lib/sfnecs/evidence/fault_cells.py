"""Running one cell of the fault matrix: deploy a fresh stack, inject, fire, observe, tear down, judge.

Why: the verdict comes from the AWS APIs (tasks, executions, dead letters, the alert topic, what
teardown leaves), not from the kit's own bookkeeping, so a fault the kit hides still shows.

A launch retry waits its IntervalSeconds (10 s, full jitter) on the sandbox clock, like the jobs;
the hang cell waits for the Task state's TimeoutSeconds, which stays on the real clock in the
sandbox (`MatrixSettings.hang_timeout_seconds`), so that cell takes real seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from sfnecs import runs
from sfnecs.deploy import stack
from sfnecs.diagnose import diagnose
from sfnecs.evidence.fault_cases import VARIANTS, Cell, FaultCase, MatrixSettings, Promise, _Context
from sfnecs.exceptions import RunError, StackError
from sfnecs.images.sample import push_sample_image
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target
from sfnecs.runs.inbox import Inbox
from sfnecs.statemachine import RUN_JOB

__all__ = ["FIRE_LEAD", "INJECTED_ERROR", "SETTLE_SECONDS", "restart_in_process"]

#: each cell's schedule is a one-time at() this far ahead on the virtual clock: it cannot fire while
#: the stack is still being deployed, and `_fire` moves the clock to it (minutes, not hours: the
#: sandbox clock is shared, and other schedules fire for every virtual minute it is moved)
FIRE_LEAD = timedelta(minutes=15)
#: virtual seconds after which every emulated job of the matrix has stopped (jobs last 5 s + 5 s of phases)
SETTLE_SECONDS = 300.0
#: how a deliberately failed call looks (an API refusal at the client boundary)
INJECTED_ERROR = {
    "Error": {"Code": "ServiceUnavailableException", "Message": "injected by sfnecs.evidence.fault_matrix"}
}
_FAST = runs.Backoff(initial=0.05, factor=1.6, cap=0.5)


def _context(target: Target, name: str, case: FaultCase, variant: str, settings: MatrixSettings) -> _Context:
    """A fresh stack for one cell, in the default VPC (read now: a restarted sandbox has a new one)."""
    subnets, groups = stack.default_network(target)
    fire_at = (_now(target) + FIRE_LEAD).replace(second=0, microsecond=0)
    spec = StackSpec(
        name,
        region=target.region,
        account=target.account,
        subnets=subnets[:2],
        security_groups=groups,
        assign_public_ip=True,  # the default VPC: no NAT gateway, the public IP is the path to the registry
        schedule_expression=f"at({fire_at:%Y-%m-%dT%H:%M:%S})",
        launch_retry_attempts=settings.launch_retry_attempts,
        **{**case.spec_changes(settings), **VARIANTS[variant]},
    )
    return _Context(target, spec, settings, fire_at)


def _deploy(ctx: _Context) -> None:
    stack.apply(ctx.target, ctx.spec)
    push_sample_image(ctx.target, ctx.spec.repository, "amd64")
    # both patterns alert to the topic: B's Catch and alarms, A's task-failure rule and DLQ alarm
    ctx.watch = Inbox.subscribe(ctx.target, ctx.spec, "watch")
    _clock(ctx.target, 0)  # the scheduler sees the new schedule now, before anything fires


def _clock(target: Target, seconds: float) -> datetime:
    return datetime.fromisoformat(target.control("POST", "clock", {"advance_seconds": seconds})["now"])


def _now(target: Target) -> datetime:
    return datetime.fromisoformat(target.control("GET", "clock")["now"])


def _schedule_source(spec: StackSpec) -> str:
    return f"schedule/{stack.schedule_group(spec)}/{spec.schedule_name}"


def _deliveries(target: Target, spec: StackSpec, scheduled: datetime) -> list[dict[str, Any]]:
    """The sandbox Scheduler's record of this firing: every delivery attempt (duplicates, retries)."""
    when = scheduled.isoformat()
    return [
        d
        for d in target.control("GET", "scheduler")["deliveries"]
        if d["source"].endswith(_schedule_source(spec))
        and datetime.fromisoformat(d["scheduled_time"]).isoformat() == when
    ]


def _fire(ctx: _Context, copies: int, delay: float) -> tuple[datetime, list[dict[str, Any]]]:
    """Move the clock to the schedule's next fire time (+ delay) and wait until every copy is settled."""
    target, scheduled = ctx.target, ctx.fire_at
    if _now(target) >= scheduled:
        raise RunError(
            f"the clock passed {scheduled.isoformat()} before the fault was in place: "
            "the sandbox is too slow for FIRE_LEAD at this clock speed"
        )
    if copies > 1 or delay:
        target.control(
            "POST",
            "scheduler",
            {
                "duplicate_times": [scheduled.isoformat()] if copies > 1 else [],
                "copies": max(copies, 2),
                "delay_seconds": delay,
            },
        )
    # The copies of one firing arrive at one virtual instant: the clock stands still while the
    # Scheduler makes them (they take real milliseconds each) and, in pattern B, until each execution
    # has passed its guard; then it runs on. Duplicates arrive together, whatever the machine's load.
    paused = target.control("GET", "clock")["paused"]
    target.control("POST", "clock", {"pause": True})
    deadline = time.monotonic() + ctx.settings.wait_seconds
    try:
        try:
            _clock(target, (scheduled - _now(target)).total_seconds() + delay + 1)
            if ctx.spec.pattern == "B":
                _wait_past_guard(ctx, copies, deadline)
        finally:
            if not paused:
                target.control("POST", "clock", {"pause": False})
        while True:
            found = _deliveries(target, ctx.spec, scheduled)
            final = [d for d in found if d["outcome"] in ("delivered", "dead-lettered", "dropped")]
            if len(final) >= copies:
                return scheduled, found
            if time.monotonic() > deadline:
                raise RunError(
                    f"the schedule of {ctx.spec.name} did not settle {copies} delivery(ies) of "
                    f"{scheduled.isoformat()} within {ctx.settings.wait_seconds:g} s: {found}"
                )
            time.sleep(0.05)  # a Scheduler retry is due seconds later on the virtual clock
    finally:
        if copies > 1 or delay:
            target.control("POST", "scheduler", {})


def _wait_past_guard(ctx: _Context, copies: int, deadline: float) -> None:
    """Until each of the firing's executions has left its overlap guard: entered RunJob, or ended."""
    sfn = ctx.target.client("stepfunctions")
    while time.monotonic() < deadline:
        found = sfn.list_executions(stateMachineArn=ctx.spec.state_machine_arn)["executions"]
        waiting = [
            e
            for e in found
            if e["status"] == "RUNNING"
            and not any(
                (event.get("stateEnteredEventDetails") or {}).get("name") == RUN_JOB
                for event in sfn.get_execution_history(executionArn=e["executionArn"], maxResults=100)["events"]
            )
        ]
        if len(found) >= copies and not waiting:
            return
        time.sleep(0.02)
    # a delivery that failed (e.g. dead-lettered) starts no execution: the caller's own wait reports it


def _max_concurrent(tasks: list[dict[str, Any]]) -> int:
    edges = sorted(
        [(t["createdAt"], 1) for t in tasks] + [(t["stoppedAt"], -1) for t in tasks if t.get("stoppedAt")],
        key=lambda e: (e[0], e[1]),
    )
    active = peak = 0
    for _, step in edges:
        active += step
        peak = max(peak, active)
    return peak


def _run_task_calls(target: Target) -> int:
    """RunTask calls from anyone: the Scheduler (A) and Step Functions (B) call it for you."""
    log = target.control("GET", "calls")
    return log["calls"].get("ecs.RunTask", 0) + log.get("internal", {}).get("ecs.RunTask", 0)


def _dead_letters(target: Target, spec: StackSpec) -> int:
    sqs = target.client("sqs")
    url = sqs.get_queue_url(QueueName=spec.dlq)["QueueUrl"]
    return len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []))


def _notified(ctx: _Context) -> bool:
    """A message reached the alert topic's subscriber (an execution publishes before it ends, a task's
    rule when the sandbox clock passes its stop, and SNS delivers to SQS within Publish: the clock has
    been moved past every stop before this is asked)."""
    return ctx.watch is not None and ctx.watch.drain() > 0


def _observe(
    ctx: _Context, cell: Cell, scheduled: datetime, deliveries: list[dict[str, Any]], calls_before: int
) -> None:
    """Fill the cell from the AWS APIs (and, for retries, the sandbox's call log)."""
    target, spec = ctx.target, ctx.spec
    copies = sum(d["attempt"] == 1 for d in deliveries)
    failed_events = False
    executions: list[tuple[str, runs.RunResult]] = []
    if spec.pattern == "B":
        sfn = target.client("stepfunctions")
        for e in sfn.list_executions(stateMachineArn=spec.state_machine_arn)["executions"]:
            result = runs.wait(
                target, e["executionArn"], timeout=ctx.settings.wait_seconds, progress=False, log_lines=0, backoff=_FAST
            )
            executions.append((e["executionArn"], result))
        for arn, result in executions:
            types = set(runs.history(target, arn)["type"])
            failed_events |= not result.ok or bool(types & {"TaskFailed", "TaskTimedOut"})
    _clock(target, SETTLE_SECONDS)  # every job that is not hung has stopped by now
    tasks = runs.stack_tasks(target, spec)
    wanted = copies if spec.pattern == "A" else sum(not r.skipped for _, r in executions)
    cell.tasks = len(tasks)
    cell.retried = _run_task_calls(target) - calls_before > wanted or any(d["attempt"] > 1 for d in deliveries)
    cell.notified = _notified(ctx)
    # pattern A's record of a failed task is the rule's message: nothing else writes one down
    cell.noticed = failed_events or _dead_letters(target, spec) > 0 or (spec.pattern == "A" and cell.notified)
    cell.duplicate = len(tasks) > 1
    cell.overlap = _max_concurrent(tasks) > 1
    ref = None
    if executions:
        ranked = sorted(executions, key=lambda e: (e[1].ok, e[1].skipped))  # failures first, then runs with a task
        ref = ranked[0][0]
    elif tasks:
        ref = tasks[0]["taskArn"]
    cell.diagnosis = diagnose(target, ref).category if ref else ""
    errors = [f"{r.status} {r.error or ''}".strip() for _, r in executions if not r.ok]
    failures = [f["reason"] for d in deliveries for f in d["result"].get("failures", [])]
    refused = [
        f"delivery {d['attempt']}: {d['result'].get('message') or d['result']['error']}"
        for d in deliveries
        if d["outcome"] != "delivered" and "error" in d["result"]
    ]
    cell.detail = "; ".join(errors + failures + refused)[:300]


def _teardown(ctx: _Context) -> tuple[str, ...]:
    """Tear the stack down and list whatever is left: owned resources, tasks not stopped, live executions."""
    target, spec = ctx.target, ctx.spec
    left = []
    if spec.pattern == "B":
        sfn = target.client("stepfunctions")
        try:
            running = sfn.list_executions(stateMachineArn=spec.state_machine_arn, statusFilter="RUNNING")["executions"]
            left += [f"execution {e['name']} RUNNING" for e in running]
        except sfn.exceptions.StateMachineDoesNotExist:
            pass
    seen = runs.stack_tasks(target, spec) if _cluster_active(target, spec) else []
    if ctx.watch is not None:
        ctx.watch.close()
    stack.teardown(target, spec, delete_logs=True, delete_images=True)
    _clock(target, 10)  # stopped tasks finish deprovisioning
    left += [f"{c.type} {c.resource}" for c in stack.teardown(target, spec, dry_run=True).changed]
    if seen:
        ecs = target.client("ecs")
        now = ecs.describe_tasks(cluster=spec.cluster_arn, tasks=[t["taskArn"] for t in seen])["tasks"]
        left += [
            f"task {t['taskArn'].rsplit('/', 1)[-1]} {t['lastStatus']}" for t in now if t["lastStatus"] != "STOPPED"
        ]
    return tuple(left)


def _cluster_active(target: Target, spec: StackSpec) -> bool:
    clusters = target.client("ecs").describe_clusters(clusters=[spec.cluster])["clusters"]
    return any(c.get("status") == "ACTIVE" for c in clusters)


def _schedule_cell(ctx: _Context, case: FaultCase, cell: Cell) -> None:
    _deploy(ctx)
    calls_before = _run_task_calls(ctx.target)
    case.inject(ctx)
    delay = float(ctx.settings.delay_seconds) if case.delayed else 0.0
    scheduled, deliveries = _fire(ctx, case.copies, delay)
    _observe(ctx, cell, scheduled, deliveries, calls_before)
    if case.delayed:
        late = [
            (datetime.fromisoformat(d["delivered_at"]) - scheduled).total_seconds()
            for d in deliveries
            if d.get("delivered_at")
        ]
        cell.detail = f"delivered {min(late):.0f} s after its scheduled time" if late else "never delivered"


def _apply_cell(ctx: _Context, case: FaultCase, cell: Cell) -> None:
    """Apply refused midway (at the state machine, or the schedule for A), then applied again."""
    target, spec = ctx.target, ctx.spec
    service, operation, kind = (
        ("stepfunctions", "CreateStateMachine", "AWS::StepFunctions::StateMachine")
        if spec.pattern == "B"
        else ("scheduler", "CreateSchedule", "AWS::Scheduler::Schedule")
    )
    client = target.client(service)
    event = f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"

    def refuse(**kwargs: Any) -> None:
        raise ClientError(INJECTED_ERROR, operation)

    client.meta.events.register(event, refuse)
    try:
        stack.apply(target, spec)
        cell.detail = "apply was not interrupted"
    except StackError as exc:
        cell.noticed = f"{kind} {spec.name} failed" in str(exc)  # the error names what failed
        cell.detail = str(exc).split(". Done before it")[0][:200]
    finally:
        client.meta.events.unregister(event, refuse)
    _deploy(ctx)
    cell.retried = set(stack.plan(target, spec).to_frame()["action"]) == {"no-op"}
    _after_recovery(ctx, cell)


def _restart_cell(ctx: _Context, case: FaultCase, cell: Cell, restart: Callable[[], None]) -> None:
    """The sandbox restarts (all state lost) after apply: the kit must say so clearly, then recover."""
    target, spec = ctx.target, ctx.spec
    _deploy(ctx)
    restart()
    ctx.watch = None  # the queue went with the sandbox
    subnets, groups = stack.default_network(target)  # a new sandbox has a new default VPC
    ctx.spec = spec = spec.replace(subnets=subnets[:2], security_groups=groups)
    found = stack.verify(target, spec)
    try:
        if spec.pattern == "B":
            runs.start(target, spec, name="after-restart")
        else:
            runs.run_direct(target, spec, client_token="after-restart", progress=False, timeout=5)
        cell.detail = "a run started on a sandbox that had forgotten the stack"
    except RunError as exc:
        cell.noticed = not found.ok
        cell.detail = f"verify: {len(found.failed)} check(s) fail; run: {exc}"[:300]
    _deploy(ctx)
    cell.retried = set(stack.plan(target, spec).to_frame()["action"]) == {"no-op"}
    _after_recovery(ctx, cell)


def _after_recovery(ctx: _Context, cell: Cell) -> None:
    """After the operator's second apply: the next firing runs the job once."""
    scheduled, deliveries = _fire(ctx, 1, 0.0)
    _clock(ctx.target, SETTLE_SECONDS)
    if ctx.spec.pattern == "B":
        for e in ctx.target.client("stepfunctions").list_executions(stateMachineArn=ctx.spec.state_machine_arn)[
            "executions"
        ]:
            runs.wait(
                ctx.target,
                e["executionArn"],
                timeout=ctx.settings.wait_seconds,
                progress=False,
                log_lines=0,
                backoff=_FAST,
            )
    tasks = runs.stack_tasks(ctx.target, ctx.spec)
    cell.tasks = len(tasks)
    cell.duplicate = len(tasks) > 1
    cell.overlap = _max_concurrent(tasks) > 1
    cell.notified = _notified(ctx)


def _verdict(cell: Cell, want: Promise) -> None:
    observed = {
        "tasks": cell.tasks,
        "retried": cell.retried,
        "noticed": cell.noticed,
        "notified": cell.notified,
        "diagnosis": cell.diagnosis,
    }
    wrong = [
        f"{k}={v!r} (promised {getattr(want, k)!r})"
        for k, v in observed.items()
        if getattr(want, k) is not None and getattr(want, k) != v
    ]
    if cell.left:
        wrong.append("left after teardown: " + ", ".join(cell.left))
    cell.expected = want.text() + (f" [limitation: {want.limitation}]" if want.limitation else "")
    cell.mismatch = "; ".join(wrong)
    cell.verdict = "lost" if wrong else ("limitation" if want.limitation else "handled")


def restart_in_process(sandbox: Any) -> Callable[[], None]:
    """A `restart` for `run_matrix`: stop an in-process Sandbox and start it again with nothing in it.

    Why reset too: moto keeps its state in module globals, which outlive a stop/start in one
    process; a real restart (a new process) starts empty, so the restart forgets everything.
    """

    def restart() -> None:
        sandbox.stop()
        sandbox.start()
        sandbox.reset()

    return restart

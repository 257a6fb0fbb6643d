"""The fault matrix: every fault the kit claims to survive, injected in the sandbox, for each pattern.

Why: "it loses nothing, leaves nothing behind and explains every failure" is a claim; this module
turns it into a table. For each fault (RunTask `failures`, throttling, pull errors, exec format
error, exit codes, OOM, a Fargate Spot interruption, a hang past the timeout, duplicate and delayed
deliveries, an interrupted apply, a sandbox restart) and each variant (pattern A; pattern B with and
without the overlap guard) it deploys a fresh stack, fires its schedule on the sandbox clock, and
records from the AWS APIs what happened: how many tasks ran, whether the launch was retried,
whether the failure was noticed (a failed execution or task event, or a dead letter), notified (a
message on the alert topic, read through an SQS subscription), diagnosed as the right category by
`sfnecs.diagnose`, whether a duplicate or overlapping task ran, and what was left after teardown.

Each cell is then held against the design's promise for that pattern (`promise()`):
- handled: what the kit promises happened (recovered, or noticed + notified + diagnosed).
- limitation: the outcome AWS documents for that pattern happened, e.g. pattern A's silent failure
  ("Direct RunTask targets fail silently", AWS_FACTS.md) or a duplicate task with the guard off.
  Not a success, and not a loss either: it is the documented behaviour the kit teaches.
- lost: anything else, including any resource, task or execution left after teardown.

A launch retry waits its IntervalSeconds (10 s, full jitter) on the sandbox clock, like the jobs;
the hang cell waits for the Task state's TimeoutSeconds, which stays on the real clock in the
sandbox (`MatrixSettings.hang_timeout_seconds`), so that cell takes real seconds.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

import pandas as pd
from botocore.exceptions import ClientError

from sfnecs import runs
from sfnecs.deploy import stack
from sfnecs.exceptions import RunError, StackError, ValidationError
from sfnecs.runs.inbox import Inbox
from sfnecs.model.spec import StackSpec
from sfnecs.checks import check_int, check_positive

__all__ = [
    "FAULTS", "VARIANTS", "VERDICTS", "Cell", "FaultCase", "MatrixSettings", "MatrixSummary", "Promise",
    "promise", "restart_in_process", "run_matrix", "summarize", "table",
]

#: the variants compared: pattern A, and pattern B with the overlap guard on and off
VARIANTS: dict[str, dict[str, Any]] = {
    "A": {"pattern": "A"},
    "B+guard": {"pattern": "B", "guard": True},
    "B-guard": {"pattern": "B", "guard": False},
}
VERDICTS = ("handled", "limitation", "lost")
#: each cell's schedule is a one-time at() this far ahead on the virtual clock: it cannot fire while
#: the stack is still being deployed, and `_fire` moves the clock to it (minutes, not hours: the
#: sandbox clock is shared, and other schedules fire for every virtual minute it is moved)
FIRE_LEAD = timedelta(minutes=15)
#: virtual seconds after which every emulated job of the matrix has stopped (jobs last 5 s + 5 s of phases)
SETTLE_SECONDS = 300.0
#: how a deliberately failed call looks (an API refusal at the client boundary)
INJECTED_ERROR = {"Error": {"Code": "ServiceUnavailableException", "Message": "injected by sfnecs.evidence.fault_matrix"}}
_FAST = runs.Backoff(initial=0.05, factor=1.6, cap=0.5)

# Documented limitations, each with its source (AWS_FACTS.md sections).
SILENT_LAUNCH = ("pattern A: the Scheduler counts the invocation as delivered although no task starts "
                 "(AWS_FACTS 'Schedules': direct RunTask targets fail silently)")
SILENT_JOB = ("pattern A: nothing waits for the task, so a failed job shows only in its stopped task and logs "
              "(AWS_FACTS 'Schedules'; patterns.feature_table 'seeing failures')")
NO_TIMEOUT = "pattern A: nothing bounds a running task, so a hung job runs on (patterns.feature_table 'timeouts')"
A_DUPLICATES = ("pattern A: at-least-once delivery launches a task per delivery; the Scheduler's RunTask sets no "
                "clientToken (AWS_FACTS 'Schedules', 'Duplicates and overlaps')")
NO_GUARD = ("pattern B without the guard: each delivery starts an execution that runs its task; .sync does not "
            "prevent overlap (AWS_FACTS 'Duplicates and overlaps')")


# ---- settings, promises, cells -------------------------------------------------------------------
@dataclass(frozen=True)
class MatrixSettings:
    """Knobs of one matrix run (validated): the stack's retries and the sizes of the injected faults."""

    launch_retry_attempts: int = 1  # pattern B's Retry on launch errors
    hang_timeout_seconds: int = 2  # pattern B's Task TimeoutSeconds in the hang cell (real seconds)
    throttle_burst: int = 3  # consecutive throttled RunTask calls (at most the schedule's 1 + 2 retries)
    delay_seconds: int = 300  # delivery delay (virtual seconds)
    wait_seconds: float = 60.0  # real-time deadline for one run to finish
    prefix: str = "fm"  # stack names are <prefix><nn>-<variant>

    def __post_init__(self) -> None:
        check_int("launch_retry_attempts", self.launch_retry_attempts, 0, 10)
        check_int("hang_timeout_seconds", self.hang_timeout_seconds, 1, 60)
        check_int("throttle_burst", self.throttle_burst, 1, 3)
        check_int("delay_seconds", self.delay_seconds, 0, 86_400)
        check_positive("wait_seconds", self.wait_seconds, 3600, "seconds")
        if not isinstance(self.prefix, str) or not self.prefix.isalnum() or not self.prefix[:1].isalpha() \
                or self.prefix != self.prefix.lower() or len(self.prefix) > 20:
            raise ValidationError("prefix", self.prefix, "1-20 lowercase letters and digits, starting with a letter")


@dataclass(frozen=True)
class Promise:
    """What the design says one cell must show. None: not part of the promise (not checked)."""

    tasks: int | None
    retried: bool | None
    noticed: bool | None
    notified: bool | None
    diagnosis: str | None  # the diagnose.py category expected; "" = nothing exists to diagnose
    limitation: str = ""  # non-empty: the documented limitation this outcome is

    def text(self) -> str:
        parts = [f"{self.tasks} task(s)" if self.tasks is not None else ""]
        for name in ("retried", "noticed", "notified"):
            value = getattr(self, name)
            if value is not None:
                parts.append(name if value else f"not {name}")
        if self.diagnosis:
            parts.append(f"diagnosis {self.diagnosis}")
        return ", ".join(p for p in parts if p)


@dataclass
class Cell:
    """What one fault did to one variant, and the verdict against its promise."""

    fault: str
    variant: str
    label: str
    tasks: int = 0  # ECS tasks started for the firing (retries and duplicates included)
    retried: bool = False  # a failed launch (or apply) was tried again
    noticed: bool = False  # a record says it failed without anyone looking for it
    notified: bool = False  # a message reached the alert topic's subscriber
    diagnosis: str = ""  # diagnose.py's category ("" when there was nothing to diagnose)
    duplicate: bool = False  # more than one task ran for one scheduled time
    overlap: bool = False  # two tasks of the job ran at the same time
    left: tuple[str, ...] = ()  # what teardown left: resources, running tasks or executions
    verdict: str = ""
    expected: str = ""
    mismatch: str = ""
    detail: str = ""
    seconds: float = 0.0  # real seconds the cell took

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MatrixSummary:
    """Counts of a matrix: cells tried, handled, documented limitations, lost."""

    tried: int
    handled: int
    limitations: int
    lost: int

    def line(self) -> str:
        """The report's last line, e.g. `faults: 45 tried, 33 handled, 0 lost (12 documented limitations)`."""
        return (f"faults: {self.tried} tried, {self.handled} handled, {self.lost} lost "
                f"({self.limitations} documented limitations)")


@dataclass(frozen=True)
class FaultCase:
    """One row of the matrix: how the fault is injected and what each variant promises."""

    key: str
    label: str
    promise: Callable[[str, MatrixSettings], Promise]
    inject: Callable[["_Context"], None] = lambda ctx: None
    spec_changes: Callable[[MatrixSettings], dict[str, Any]] = lambda s: {}
    copies: int = 1  # deliveries of the one scheduled time
    delayed: bool = False
    procedure: str = "schedule"  # schedule | apply | restart


# ---- promises ------------------------------------------------------------------------------------------
def _b(variant: str) -> bool:
    return variant != "A"


def _launch_failure(variant: str, s: MatrixSettings, *, refusals: int = 1, api_error: bool = False) -> Promise:
    """RunTask refused `refusals` times in a row (`failures`, or an API error such as throttling).

    A: an API error is a failed delivery, which the Scheduler's RetryPolicy tries again (the stack's
    default allows 2 retries, hence MatrixSettings.throttle_burst <= 3); `failures` are silent.
    B: launch errors are retried `launch_retry_attempts` times; when that is not enough the execution
    fails, is noticed and notified, and diagnose names the cause.
    """
    if not _b(variant):
        if api_error:
            return Promise(1, True, False, False, "success")
        return Promise(0, False, False, False, "", SILENT_LAUNCH)
    if s.launch_retry_attempts >= refusals:
        return Promise(1, True, True, False, "capacity")
    return Promise(0, s.launch_retry_attempts > 0, True, True, "capacity")


def _job_failure(category: str, limitation: str = SILENT_JOB) -> Callable[[str, MatrixSettings], Promise]:
    """The job ran and failed: A shows it only in the task; B fails, notifies, is diagnosed, is not rerun."""
    def promise_(variant: str, s: MatrixSettings) -> Promise:
        if not _b(variant):
            return Promise(1, False, False, False, category, limitation)
        return Promise(1, False, True, True, category)
    return promise_


def _duplicates(copies: int) -> Callable[[str, MatrixSettings], Promise]:
    def promise_(variant: str, s: MatrixSettings) -> Promise:
        if copies > 1 and variant == "A":
            return Promise(copies, False, False, False, "success", A_DUPLICATES)
        if copies > 1 and variant == "B-guard":
            return Promise(copies, False, False, False, "success", NO_GUARD)
        return Promise(1, False, False, False, "success")
    return promise_


def _benign(variant: str, s: MatrixSettings) -> Promise:
    return Promise(1, False, False, False, "success")


def _operator_recovers(variant: str, s: MatrixSettings) -> Promise:
    """Apply interrupted / sandbox restarted: a clear error, then apply again, then the job runs once."""
    return Promise(1, True, True, False, None)


def promise(fault: str, variant: str, settings: MatrixSettings | None = None) -> Promise:
    """What the design promises for `fault` on `variant` (see the module docstring)."""
    _check_cell(fault, variant)
    return FAULTS[fault].promise(variant, settings or MatrixSettings())


def _check_cell(fault: object, variant: object) -> None:
    if fault not in FAULTS:
        raise ValidationError("fault", fault, "one of " + ", ".join(FAULTS))
    if variant not in VARIANTS:
        raise ValidationError("variant", variant, "one of " + ", ".join(VARIANTS))


# ---- injections --------------------------------------------------------------------------------------
def _sandbox_fault(**fault: Any) -> Callable[["_Context"], None]:
    def inject(ctx: _Context) -> None:
        ctx.target.control("POST", "faults", {**fault, "family": ctx.spec.family})
    return inject


def _throttle(ctx: _Context) -> None:
    ctx.target.control("POST", "faults", {"kind": "throttle", "count": ctx.settings.throttle_burst,
                                          "family": ctx.spec.family})


def _wrong_architecture(ctx: _Context) -> None:
    from sfnecs.images.sample import push_sample_image

    # the image says arm64, the task definition runs X86_64: the kernel refuses the entrypoint
    push_sample_image(ctx.target, ctx.spec.repository, "arm64")


def _faults() -> dict[str, FaultCase]:
    cases = [
        FaultCase("runtask_memory", "RunTask failures RESOURCE:MEMORY", _launch_failure,
                  _sandbox_fault(kind="runtask_failure", reason="RESOURCE:MEMORY")),
        FaultCase("runtask_cpu", "RunTask failures RESOURCE:CPU", _launch_failure,
                  _sandbox_fault(kind="runtask_failure", reason="RESOURCE:CPU")),
        FaultCase("throttle", "RunTask throttling burst",
                  lambda v, s: _launch_failure(v, s, refusals=s.throttle_burst, api_error=True), _throttle),
        FaultCase("pull_error", "image pull error (CannotPullContainerError)", _job_failure("pull_error"),
                  _sandbox_fault(kind="pull_error")),
        FaultCase("exec_format", "exec format error (arm64 image on X86_64)", _job_failure("architecture_mismatch"),
                  _wrong_architecture),
        FaultCase("exit_3", "application exit code 3", _job_failure("application_exit"),
                  _sandbox_fault(kind="exit_code", exit_code=3)),
        FaultCase("exit_127", "application exit code 127 (command not found)", _job_failure("application_exit"),
                  _sandbox_fault(kind="exit_code", exit_code=127)),
        FaultCase("oom", "out of memory (exit 137)", _job_failure("out_of_memory"), _sandbox_fault(kind="oom")),
        FaultCase("spot_interruption", "Fargate Spot task interrupted", _job_failure("stopped"),
                  _sandbox_fault(kind="spot_interruption", seconds=2),
                  lambda s: {"capacity_provider_strategy": "FARGATE_SPOT"}),
        FaultCase("hang", "hang past the timeout", lambda v, s: _hang(v),
                  _sandbox_fault(kind="hang"), lambda s: {"task_timeout_seconds": s.hang_timeout_seconds}),
        FaultCase("duplicates_1", "schedule delivery, 1 copy", _duplicates(1), copies=1),
        FaultCase("duplicates_2", "duplicate schedule delivery, 2 copies", _duplicates(2), copies=2),
        FaultCase("duplicates_10", "duplicate schedule delivery, 10 copies", _duplicates(10), copies=10),
        FaultCase("delay", "delivery delayed", _benign, delayed=True),
        FaultCase("apply_interrupted", "apply interrupted midway", _operator_recovers, procedure="apply"),
        FaultCase("sandbox_restart", "sandbox restarted between runs", _operator_recovers, procedure="restart"),
    ]
    return {c.key: c for c in cases}


def _hang(variant: str) -> Promise:
    if not _b(variant):
        return Promise(1, False, False, False, "not_stopped", NO_TIMEOUT)
    return Promise(1, False, True, True, "timeout")


#: every fault of the matrix, by key, in report order
FAULTS: dict[str, FaultCase] = _faults()


# ---- running one cell ------------------------------------------------------------------------------------
@dataclass
class _Context:
    target: Any
    spec: StackSpec
    settings: MatrixSettings
    fire_at: datetime  # the schedule's one fire time (virtual clock)
    watch: Inbox | None = None  # pattern B: an SQS queue subscribed to the alert topic


def _context(target: Any, name: str, case: FaultCase, variant: str, settings: MatrixSettings) -> _Context:
    """A fresh stack for one cell, in the default VPC (read now: a restarted sandbox has a new one)."""
    subnets, groups = stack.default_network(target)
    fire_at = (_now(target) + FIRE_LEAD).replace(second=0, microsecond=0)
    spec = StackSpec(name, region=target.region, account=target.account, subnets=subnets[:2],
                     security_groups=groups, schedule_expression=f"at({fire_at:%Y-%m-%dT%H:%M:%S})",
                     launch_retry_attempts=settings.launch_retry_attempts,
                     **{**case.spec_changes(settings), **VARIANTS[variant]})
    return _Context(target, spec, settings, fire_at)


def _deploy(ctx: _Context) -> None:
    from sfnecs.images.sample import push_sample_image

    stack.apply(ctx.target, ctx.spec)
    push_sample_image(ctx.target, ctx.spec.repository, "amd64")
    if ctx.spec.pattern == "B":
        ctx.watch = Inbox.subscribe(ctx.target, ctx.spec, "watch")
    _clock(ctx.target, 0)  # the scheduler sees the new schedule now, before anything fires


def _clock(target: Any, seconds: float) -> datetime:
    return datetime.fromisoformat(target.control("POST", "clock", {"advance_seconds": seconds})["now"])


def _now(target: Any) -> datetime:
    return datetime.fromisoformat(target.control("GET", "clock")["now"])


def _schedule_source(spec: StackSpec) -> str:
    return f"schedule/{stack.schedule_group(spec)}/{spec.schedule_name}"


def _deliveries(target: Any, spec: StackSpec, scheduled: datetime) -> list[dict[str, Any]]:
    """The sandbox Scheduler's record of this firing: every delivery attempt (duplicates, retries)."""
    when = scheduled.isoformat()
    return [d for d in target.control("GET", "scheduler")["deliveries"]
            if d["source"].endswith(_schedule_source(spec)) and datetime.fromisoformat(d["scheduled_time"]).isoformat()
            == when]


def _fire(ctx: _Context, copies: int, delay: float) -> tuple[datetime, list[dict[str, Any]]]:
    """Move the clock to the schedule's next fire time (+ delay) and wait until every copy is settled."""
    target, scheduled = ctx.target, ctx.fire_at
    if _now(target) >= scheduled:
        raise RunError(f"the clock passed {scheduled.isoformat()} before the fault was in place: "
                       "the sandbox is too slow for FIRE_LEAD at this clock speed")
    if copies > 1 or delay:
        target.control("POST", "scheduler", {"duplicate_times": [scheduled.isoformat()] if copies > 1 else [],
                                             "copies": max(copies, 2), "delay_seconds": delay})
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
                raise RunError(f"the schedule of {ctx.spec.name} did not settle {copies} delivery(ies) of "
                               f"{scheduled.isoformat()} within {ctx.settings.wait_seconds:g} s: {found}")
            time.sleep(0.05)  # a Scheduler retry is due seconds later on the virtual clock
    finally:
        if copies > 1 or delay:
            target.control("POST", "scheduler", {})


def _wait_past_guard(ctx: _Context, copies: int, deadline: float) -> None:
    """Until each of the firing's executions has left its overlap guard: entered RunJob, or ended."""
    from sfnecs.statemachine import RUN_JOB

    sfn = ctx.target.client("stepfunctions")
    while time.monotonic() < deadline:
        found = sfn.list_executions(stateMachineArn=ctx.spec.state_machine_arn)["executions"]
        waiting = [e for e in found if e["status"] == "RUNNING" and not any(
            (event.get("stateEnteredEventDetails") or {}).get("name") == RUN_JOB
            for event in sfn.get_execution_history(executionArn=e["executionArn"], maxResults=100)["events"])]
        if len(found) >= copies and not waiting:
            return
        time.sleep(0.02)
    # a delivery that failed (e.g. dead-lettered) starts no execution: the caller's own wait reports it


def _max_concurrent(tasks: list[dict[str, Any]]) -> int:
    edges = sorted([(t["createdAt"], 1) for t in tasks] + [(t["stoppedAt"], -1) for t in tasks if t.get("stoppedAt")],
                   key=lambda e: (e[0], e[1]))
    active = peak = 0
    for _, step in edges:
        active += step
        peak = max(peak, active)
    return peak


def _run_task_calls(target: Any) -> int:
    """RunTask calls from anyone: the Scheduler (A) and Step Functions (B) call it for you."""
    log = target.control("GET", "calls")
    return log["calls"].get("ecs.RunTask", 0) + log.get("internal", {}).get("ecs.RunTask", 0)


def _dead_letters(target: Any, spec: StackSpec) -> int:
    sqs = target.client("sqs")
    url = sqs.get_queue_url(QueueName=spec.dlq)["QueueUrl"]
    return len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []))


def _notified(ctx: _Context) -> bool:
    """A message reached the alert topic's subscriber (an execution publishes before it ends, and SNS
    delivers to SQS within Publish: nothing to wait for)."""
    return ctx.watch is not None and ctx.watch.drain() > 0


def _observe(ctx: _Context, cell: Cell, scheduled: datetime, deliveries: list[dict[str, Any]],
             calls_before: int) -> None:
    """Fill the cell from the AWS APIs (and, for retries, the sandbox's call log)."""
    from sfnecs.diagnose import diagnose

    target, spec = ctx.target, ctx.spec
    copies = sum(d["attempt"] == 1 for d in deliveries)
    failed_events = False
    executions: list[tuple[str, runs.RunResult]] = []
    if spec.pattern == "B":
        sfn = target.client("stepfunctions")
        for e in sfn.list_executions(stateMachineArn=spec.state_machine_arn)["executions"]:
            result = runs.wait(target, e["executionArn"], timeout=ctx.settings.wait_seconds, progress=False,
                               log_lines=0, backoff=_FAST)
            executions.append((e["executionArn"], result))
        for arn, result in executions:
            types = set(runs.history(target, arn)["type"])
            failed_events |= not result.ok or bool(types & {"TaskFailed", "TaskTimedOut"})
    _clock(target, SETTLE_SECONDS)  # every job that is not hung has stopped by now
    tasks = runs.stack_tasks(target, spec)
    wanted = copies if spec.pattern == "A" else sum(not r.skipped for _, r in executions)
    cell.tasks = len(tasks)
    cell.retried = _run_task_calls(target) - calls_before > wanted or any(d["attempt"] > 1 for d in deliveries)
    cell.noticed = failed_events or _dead_letters(target, spec) > 0
    cell.notified = _notified(ctx)
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
    refused = [f"delivery {d['attempt']}: {d['result'].get('message') or d['result']['error']}" for d in deliveries
               if d["outcome"] != "delivered" and "error" in d["result"]]
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
    stack.teardown(target, spec)
    _clock(target, 10)  # stopped tasks finish deprovisioning
    left += [f"{c.type} {c.resource}" for c in stack.teardown(target, spec, dry_run=True).changed]
    if seen:
        ecs = target.client("ecs")
        now = ecs.describe_tasks(cluster=spec.cluster_arn, tasks=[t["taskArn"] for t in seen])["tasks"]
        left += [f"task {t['taskArn'].rsplit('/', 1)[-1]} {t['lastStatus']}" for t in now if t["lastStatus"] != "STOPPED"]
    return tuple(left)


def _cluster_active(target: Any, spec: StackSpec) -> bool:
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
        late = [(datetime.fromisoformat(d["delivered_at"]) - scheduled).total_seconds() for d in deliveries
                if d.get("delivered_at")]
        cell.detail = f"delivered {min(late):.0f} s after its scheduled time" if late else "never delivered"


def _apply_cell(ctx: _Context, case: FaultCase, cell: Cell) -> None:
    """Apply refused midway (at the state machine, or the schedule for A), then applied again."""
    target, spec = ctx.target, ctx.spec
    service, operation, kind = ("stepfunctions", "CreateStateMachine", "AWS::StepFunctions::StateMachine") \
        if spec.pattern == "B" else ("scheduler", "CreateSchedule", "AWS::Scheduler::Schedule")
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
    cell.retried = set(stack.plan(target, spec)["action"]) == {"no-op"}
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
    cell.retried = set(stack.plan(target, spec)["action"]) == {"no-op"}
    _after_recovery(ctx, cell)


def _after_recovery(ctx: _Context, cell: Cell) -> None:
    """After the operator's second apply: the next firing runs the job once."""
    scheduled, deliveries = _fire(ctx, 1, 0.0)
    _clock(ctx.target, SETTLE_SECONDS)
    if ctx.spec.pattern == "B":
        for e in ctx.target.client("stepfunctions").list_executions(
                stateMachineArn=ctx.spec.state_machine_arn)["executions"]:
            runs.wait(ctx.target, e["executionArn"], timeout=ctx.settings.wait_seconds, progress=False, log_lines=0,
                      backoff=_FAST)
    tasks = runs.stack_tasks(ctx.target, ctx.spec)
    cell.tasks = len(tasks)
    cell.duplicate = len(tasks) > 1
    cell.overlap = _max_concurrent(tasks) > 1
    cell.notified = _notified(ctx)


def _verdict(cell: Cell, want: Promise) -> None:
    observed = {"tasks": cell.tasks, "retried": cell.retried, "noticed": cell.noticed, "notified": cell.notified,
                "diagnosis": cell.diagnosis}
    wrong = [f"{k}={v!r} (promised {getattr(want, k)!r})" for k, v in observed.items()
             if getattr(want, k) is not None and getattr(want, k) != v]
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


def run_matrix(target: Any, faults: Iterable[str] | None = None, variants: Iterable[str] | None = None, *,
               cells: Iterable[tuple[str, str]] | None = None, settings: MatrixSettings | None = None,
               restart: Callable[[], None] | None = None,
               progress: Callable[[Cell], None] | None = None) -> pd.DataFrame:
    """Inject every fault into every variant on a sandbox target; one row per cell, as a DataFrame.

    `cells` picks (fault, variant) pairs instead of the full product of `faults` x `variants`.
    `restart` restarts the sandbox (e.g. `restart_in_process(sandbox)`); without it the restart
    row is left out. Each cell deploys its own stack and tears it down. Columns: fault, variant,
    label, tasks, retried, noticed, notified, diagnosis, duplicate, overlap, left, verdict,
    expected, mismatch, detail, seconds.
    """
    if not getattr(target, "is_sandbox", False):
        raise ValidationError("target", getattr(target, "name", target), "a sandbox target: the matrix injects faults")
    settings = settings or MatrixSettings()
    if not isinstance(settings, MatrixSettings):
        raise ValidationError("settings", settings, "a MatrixSettings")
    chosen = _cells(faults, variants, cells, restart is not None)
    out = []
    for n, (key, variant) in enumerate(chosen):
        case = FAULTS[key]
        name = f"{settings.prefix}{n:02d}-{variant.lower().replace('+', 'g').replace('-', 'n')}"
        ctx = _context(target, name, case, variant, settings)
        cell = Cell(key, variant, case.label)
        t0 = time.perf_counter()
        target.control("DELETE", "faults")
        crashed = ""
        try:
            if case.procedure == "apply":
                _apply_cell(ctx, case, cell)
            elif case.procedure == "restart":
                _restart_cell(ctx, case, cell, restart)  # type: ignore[arg-type]
            else:
                _schedule_cell(ctx, case, cell)
        except Exception as exc:  # noqa: BLE001 - an error the kit did not turn into a clear one is a finding
            crashed = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            target.control("DELETE", "faults")
            cell.left = _teardown(ctx)
        _verdict(cell, case.promise(variant, settings))
        if crashed:
            cell.verdict, cell.detail = "lost", crashed
            cell.mismatch = "; ".join(filter(None, ["raised " + crashed.split(":")[0], cell.mismatch]))
        cell.seconds = round(time.perf_counter() - t0, 2)
        out.append(cell)
        if progress:
            progress(cell)
    frame = pd.DataFrame([c.to_dict() for c in out], columns=list(Cell.__dataclass_fields__))
    frame.attrs["settings"] = asdict(settings)
    return frame


def _cells(faults: Iterable[str] | None, variants: Iterable[str] | None, cells: Iterable[tuple[str, str]] | None,
           can_restart: bool) -> list[tuple[str, str]]:
    if cells is not None:
        chosen = [tuple(c) for c in cells]
    else:
        fs = list(FAULTS if faults is None else faults)
        vs = list(VARIANTS if variants is None else variants)
        chosen = [(f, v) for f in fs for v in vs if can_restart or FAULTS.get(f, FAULTS["delay"]).procedure != "restart"]
    for key, variant in chosen:
        _check_cell(key, variant)
        if FAULTS[key].procedure == "restart" and not can_restart:
            raise ValidationError("restart", None, "a callable that restarts the sandbox, for the sandbox_restart row")
    return chosen  # type: ignore[return-value]


def summarize(frame: pd.DataFrame) -> MatrixSummary:
    """Count a matrix's verdicts."""
    counts = frame["verdict"].value_counts()
    return MatrixSummary(len(frame), int(counts.get("handled", 0)), int(counts.get("limitation", 0)),
                         int(counts.get("lost", 0)))


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """The matrix as a compact table for reports: one row per cell, yes/no columns, verdict last."""
    def yn(value: bool) -> str:
        return "yes" if value else "no"

    rows = []
    for r in frame.itertuples():
        rows.append({"fault": r.label, "variant": r.variant, "tasks": r.tasks, "retried": yn(r.retried),
                     "noticed": yn(r.noticed), "notified": yn(r.notified), "diagnosis": r.diagnosis or "-",
                     "duplicate/overlap": yn(r.duplicate or r.overlap), "left": ", ".join(r.left) or "nothing",
                     "verdict": r.verdict})
    return pd.DataFrame(rows)




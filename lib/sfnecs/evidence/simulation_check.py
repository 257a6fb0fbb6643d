"""Replay a `patterns.Scenario` live in the sandbox: the kit's real stack, fired by the scheduler clock.

Why: the simulation in `sfnecs.patterns` is an argument only if the thing it models behaves the same.
`replay()` deploys the scenario as a stack (`sfnecs.deploy.stack.apply`: the kit's own state machine, roles,
topic and a `rate()` schedule), lets the sandbox Scheduler fire it on a stepped virtual clock, and
counts what happened from the AWS APIs alone (deliveries, executions and their histories, stopped
tasks, SNS messages through an SQS subscription). `agreement()` sets those counts beside the
simulation's: equal for deterministic scenarios, within a stated tolerance for random duplicates.

How time moves: the clock is paused and stepped from one event to the next (a firing, a task's end),
waiting after each step until every execution is either finished or waiting for a task that is still
running in virtual time. Stepping is "the accelerated clock" at its limit: the order of events is the
scenario's, whatever the machine's load. An emulated task lasts PROVISIONING + PULL + its job +
STOPPING (5 s of phases), so the job runs `duration_minutes * 60 - 5` seconds and the task spans
exactly the simulated duration.

What the sandbox cannot replay, refused at the door with the reason: random durations and failure
rates strictly between 0 and 1 (the emulator decides per task definition; only duplicate deliveries
are drawn at random, by the Scheduler); job retries and launch retries (their IntervalSeconds pass on
the sandbox clock, which this replay steps only to firings and task ends); execution-name dedupe
(the Scheduler's templated StartExecution target sets no execution name, and
`<aws.scheduler.scheduled-time>` contains ':', which execution names may not); a job that ends at
the very instant of a later firing (which comes first is a race live).
Duplicates arrive together live (the sandbox delays every copy alike), `duplicate_delay_seconds`
apart in the simulation; the counts do not depend on it while that delay is shorter than a job.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from sfnecs import runs
from sfnecs.deploy import stack
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, tr
from sfnecs.model.alerting import owns_topic
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target
from sfnecs.patterns import COUNT_KEYS, Scenario, Variant, execution_states, simulate_variants
from sfnecs.patterns.tasks import _overlaps, _Tasks
from sfnecs.runs.inbox import Inbox

#: the variants the sandbox Scheduler can deliver as the simulation models them
LIVE_VARIANTS = ("A", "B", "B+guard")
#: virtual seconds an emulated task spends outside its job (sandbox.fargate phases)
TASK_PHASES_SECONDS = 5.0


@dataclass(frozen=True)
class LiveRun:
    """What one replay counted (keys as `patterns.COUNT_KEYS`) and the tasks it saw."""

    variant: str
    scenario: Scenario
    counts: dict[str, int]
    tasks: pd.DataFrame = field(repr=False)
    wall_seconds: float = 0.0
    first_tick: datetime | None = None  # the first scheduled time, on the sandbox clock
    skipped_minutes: tuple[float, ...] = ()  # when each execution the guard skipped started, from the first tick

    @cached_property
    def deliveries(self) -> pd.DataFrame:
        """The deliveries that launched no task (the guard's skips), shaped like a simulation's `deliveries`.

        Why: `patterns.scenario_timeline(live.runs, deliveries=live.deliveries)` draws the live run with
        the same markers as the simulated one. Columns: variant, tick, delivered_minute, disposition.
        """
        at = np.asarray(self.skipped_minutes, float)
        return pd.DataFrame(
            {
                "variant": self.variant,
                "tick": np.rint(at / self.scenario.interval_minutes).astype(np.int64),
                "delivered_minute": at,
                "disposition": "skipped_by_guard",
            }
        )

    @cached_property
    def runs(self) -> pd.DataFrame:
        """One row per task, shaped for both Gantt charts: `patterns.scenario_timeline` and `runs.timeline`.

        Why: the live run should be drawn like the simulated one. Columns: variant, tick, name
        ("tick 2", "tick 2 (duplicate)"), status, start/stop (virtual clock; needs `first_tick`),
        start_minute/end_minute from the first tick, failed, duplicate, overlapping.
        """
        t = self.tasks.sort_values("start", kind="stable", ignore_index=True)
        start, end = t["start"].to_numpy(float), t["end"].to_numpy(float)
        tick = np.rint(start / (self.scenario.interval_minutes * 60)).astype(np.int64)
        overlapping, _, _ = _overlaps(_Tasks(None, None, start, end, np.zeros(start.size, bool), None))
        duplicate = pd.Series(tick).groupby(tick).cumcount().to_numpy() > 0
        failed = t["exit_code"].fillna(-1).to_numpy() != 0
        base = pd.Timestamp(self.first_tick) if self.first_tick is not None else pd.NaT
        # the names are for people (a chart's labels), so made in the current language
        names = [
            tr("tick {tick} (duplicate)", tick=k) if d else tr("tick {tick}", tick=k)
            for k, d in zip(tick, duplicate, strict=False)
        ]
        return pd.DataFrame(
            {
                N_("variant"): self.variant,
                N_("tick"): tick,
                N_("name"): names,
                N_("status"): np.where(failed, "FAILED", "SUCCEEDED"),
                # a task still running has end inf: no stop time (runs.timeline draws it to the latest time)
                N_("start"): base + pd.to_timedelta(start, unit="s"),
                N_("stop"): base + pd.to_timedelta(np.where(np.isfinite(end), end, np.nan), unit="s"),
                N_("start_minute"): start / 60,
                N_("end_minute"): end / 60,
                N_("duration_minutes"): (end - start) / 60,
                N_("failed"): failed,
                N_("duplicate"): duplicate,
                N_("overlapping"): overlapping,
            }
        )

    def summary(self) -> str:
        """One line for people: executions, tasks and the guard's skips (in the current language)."""
        return tr(
            "{variant}: {executions} executions, {tasks} tasks, {skipped} skipped by the guard",
            variant=self.variant,
            executions=self.counts["executions"],
            tasks=self.counts["task_launches"],
            skipped=self.counts["skipped_by_guard"],
        )


def check_replayable(scenario: Scenario, variant: str) -> Variant:
    """The parsed variant, or a ValidationError naming what the sandbox cannot replay and why."""
    if not isinstance(scenario, Scenario):
        raise ValidationError("scenario", scenario, "a sfnecs.patterns.Scenario")
    if variant not in LIVE_VARIANTS:
        raise ValidationError(
            "variant",
            variant,
            "one of " + ", ".join(LIVE_VARIANTS) + " (execution-name dedupe "
            "cannot be set through the Scheduler's StartExecution target)",
        )
    s = scenario
    if s.duration_kind != "fixed":
        raise ValidationError(
            "duration_kind",
            s.duration_kind,
            "'fixed' for a live replay (emulated jobs run the duration their task definition gives)",
        )
    if s.duration_minutes * 60 <= TASK_PHASES_SECONDS:
        raise ValidationError(
            "duration_minutes",
            s.duration_minutes,
            f"more than {TASK_PHASES_SECONDS / 60:.3f} (an emulated task's phases alone last 5 s)",
        )
    if (s.duration_minutes * 60) % (s.interval_minutes * 60) == 0:
        raise ValidationError(
            "duration_minutes",
            s.duration_minutes,
            f"not a multiple of interval_minutes="
            f"{s.interval_minutes}: a job ending at the instant of a firing races it live",
        )
    for name in ("launch_failure_rate", "job_failure_rate"):
        if getattr(s, name) not in (0.0, 1.0):
            raise ValidationError(
                name,
                getattr(s, name),
                "0 or 1 for a live replay (the emulator fails every launch or job of a task definition, or none)",
            )
    if s.retry_job_failures:
        raise ValidationError(
            "retry_job_failures",
            s.retry_job_failures,
            "0 for a live replay (a retry waits its IntervalSeconds, a time the stepped replay does not step to)",
        )
    if s.launch_failure_rate and s.launch_retry_attempts and variant != "A":
        raise ValidationError(
            "launch_retry_attempts",
            s.launch_retry_attempts,
            "0 when launches fail, for a live "
            "replay (a retry waits its IntervalSeconds, a time the stepped replay does not step to)",
        )
    if s.duplicate_delay_seconds >= s.duration_minutes * 60:
        raise ValidationError(
            "duplicate_delay_seconds",
            s.duplicate_delay_seconds,
            "shorter than a job: live, every copy of a delivery arrives at once",
        )
    if s.execution_overhead_seconds:
        raise ValidationError(
            "execution_overhead_seconds",
            s.execution_overhead_seconds,
            "0 for a live replay (on a paused clock an execution closes when its task stops)",
        )
    return Variant.parse(variant)


def live_spec(target: Target, scenario: Scenario, variant: str, name: str) -> StackSpec:
    """The stack that runs `scenario` as `variant`: the same switches, task size and schedule interval."""
    v = check_replayable(scenario, variant)
    s = scenario
    subnets, groups = stack.default_network(target)
    env = [("SFNECS_DURATION", f"{s.duration_minutes * 60 - TASK_PHASES_SECONDS:g}")]
    if s.job_failure_rate:
        env.append(("SFNECS_EXIT_CODE", "1"))
    unit = "minute" if s.interval_minutes == 1 else "minutes"
    return StackSpec(
        name,
        pattern=v.pattern,
        region=target.region,
        account=target.account,
        subnets=subnets[:2],
        security_groups=groups,
        assign_public_ip=True,  # the default VPC: no NAT gateway, the public IP is the path to the registry
        image="busybox",
        environment=tuple(env),
        cpu=s.cpu,
        memory=s.memory,
        cpu_architecture=s.cpu_architecture,
        guard=v.guard,
        notify_failure=s.notify_failure,
        notify_success=s.notify_success,
        launch_retry_attempts=s.launch_retry_attempts,
        retry_job_failures=0,
        schedule_expression=f"rate({s.interval_minutes} {unit})",
    )


def replay(target: Target, scenario: Scenario, variant: str, *, name: str = "replay", timeout: float = 60.0) -> LiveRun:
    """Deploy `scenario` as `variant` in the sandbox, fire it over its horizon on a stepped clock, count.

    The stack is torn down and the clock, the Scheduler's injection plan and its speed restored after.
    `timeout` bounds, in real seconds, each wait for the sandbox to settle after a step.
    """
    if not getattr(target, "is_sandbox", False):
        raise ValidationError(
            "target", getattr(target, "name", target), "a sandbox target: a live replay steps the sandbox clock"
        )
    spec = live_spec(target, scenario, variant, name)
    s, started = scenario, time.perf_counter()
    clock = target.control("GET", "clock", {})
    plan = target.control("GET", "scheduler", {})["plan"]
    inbox: Inbox | None = None
    target.control("POST", "clock", {"pause": True})
    try:
        now = datetime.fromisoformat(target.control("GET", "clock", {})["now"])
        # whole minutes, so the counts of calendar months match the simulation's start-of-minute ticks
        target.control("POST", "clock", {"advance_seconds": 60 - now.second - now.microsecond / 1e6})
        t0 = datetime.fromisoformat(target.control("GET", "clock", {})["now"])
        target.control(
            "POST",
            "scheduler",
            {
                "duplicate_probability": s.duplicate_delivery_rate,
                "seed": s.seed,
                "duplicate_times": [_at(t0, s, k).isoformat() for k in s.duplicates],
            },
        )
        if s.launch_failure_rate:
            target.control("POST", "faults", {"kind": "runtask_failure", "family": spec.family, "count": 10_000})
        stack.apply(target, spec)
        if owns_topic(spec):  # A's task-failure rule, B's Catch
            inbox = Inbox.subscribe(target, spec, "notifications")
        target.control("POST", "clock", {"advance_seconds": 0})  # the schedule is seen: tick 0 fires now
        _run(target, spec, s, t0, timeout)
        counts, tasks = _count(target, spec, s, t0, inbox)
        skipped = _skipped_minutes(target, spec, t0) if spec.pattern == "B" and spec.guard else ()
    finally:
        _restore(target, spec, clock, plan, inbox)
    return LiveRun(variant, scenario, counts, tasks, time.perf_counter() - started, t0, skipped)


def _skipped_minutes(target: Target, spec: StackSpec, t0: datetime) -> tuple[float, ...]:
    """When each delivery whose execution the guard skipped arrived, in minutes from the first tick.

    The Scheduler's delivery record (virtual clock) names the execution it started; an execution's own
    startDate is not on the virtual clock."""
    sfn, found = target.client("stepfunctions"), []
    for d in target.control("GET", "scheduler", {})["deliveries"]:
        arn = d["result"].get("executionArn") if d["outcome"] == "delivered" else None
        if not arn or not d["source"].endswith(f"schedule/{stack.schedule_group(spec)}/{spec.schedule_name}"):
            continue
        if datetime.fromisoformat(d["scheduled_time"]) < t0:
            continue  # an earlier replay's
        output = sfn.describe_execution(executionArn=arn).get("output") or "{}"
        if json.loads(output).get("skipped") is True:
            found.append((datetime.fromisoformat(d["delivered_at"]) - t0).total_seconds() / 60)
    return tuple(sorted(found))


def _at(t0: datetime, s: Scenario, tick: int) -> datetime:
    return t0 + timedelta(minutes=s.interval_minutes * tick)


def _run(target: Target, spec: StackSpec, s: Scenario, t0: datetime, timeout: float) -> None:
    """Step from event to event: each firing, then each possible task end; the schedule ends with the horizon."""
    duration = timedelta(seconds=s.duration_minutes * 60)
    firings = [_at(t0, s, k) for k in range(1, s.ticks)]
    ends = [_at(t0, s, k) + duration for k in range(s.ticks)]
    now, last_firing = t0, _at(t0, s, s.ticks - 1)
    _settle(target, spec, timeout)
    for instant in sorted(set(firings + ends)):
        if instant > last_firing and spec.schedule_enabled:
            target.client("scheduler").delete_schedule(Name=spec.schedule_name, GroupName=stack.schedule_group(spec))
            spec = spec.replace(schedule_enabled=False)
        target.control("POST", "clock", {"advance_seconds": (instant - now).total_seconds()})
        now = instant
        _settle(target, spec, timeout)
    if spec.schedule_enabled:
        target.client("scheduler").delete_schedule(Name=spec.schedule_name, GroupName=stack.schedule_group(spec))


def _settle(target: Target, spec: StackSpec, timeout: float) -> None:
    """Wait until nothing can happen before the clock moves again (pattern A: RunTask is synchronous)."""
    if spec.pattern != "B":
        return
    sfn, ecs = target.client("stepfunctions"), target.client("ecs")

    def settled() -> bool:
        waiting = []
        for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=spec.state_machine_arn, statusFilter="RUNNING"
        ):
            for e in page["executions"]:
                events = sfn.get_execution_history(executionArn=e["executionArn"], reverseOrder=True, maxResults=1)[
                    "events"
                ]
                if not events:
                    return False  # just started: its first event is not written yet
                last = events[0]
                if last["type"] != "TaskSubmitted":
                    return False  # between states, or a task just asked for
                waiting.append(json.loads(last["taskSubmittedEventDetails"]["output"])["Tasks"][0]["TaskArn"])
        for i in range(0, len(waiting), 100):
            described = ecs.describe_tasks(cluster=spec.cluster_arn, tasks=waiting[i : i + 100])["tasks"]
            if any(t["lastStatus"] == "STOPPED" for t in described):
                return False  # stopped in virtual time: .sync has yet to notice
        return True

    _wait(settled, timeout, "the sandbox to settle after a clock step")


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline, delay = time.monotonic() + timeout, 0.01
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:g} s for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def _tasks(target: Target, spec: StackSpec, t0: datetime) -> pd.DataFrame:
    rows = []
    for t in runs.stack_tasks(target, spec):
        if t["createdAt"] < t0:
            continue  # an earlier replay's task: the emulator keeps tasks of a deleted cluster
        rows.append(
            {
                "task": t["taskArn"],
                "start": (t["createdAt"] - t0).total_seconds(),
                "end": (t["stoppedAt"] - t0).total_seconds() if t.get("stoppedAt") else math.inf,
                "exit_code": t["containers"][0].get("exitCode"),
                "group": t.get("group"),
            }
        )
    return pd.DataFrame(rows, columns=["task", "start", "end", "exit_code", "group"]).sort_values(
        "start", kind="stable", ignore_index=True
    )


def _count(
    target: Target, spec: StackSpec, s: Scenario, t0: datetime, inbox: Inbox | None
) -> tuple[dict[str, int], pd.DataFrame]:
    deliveries = [
        d
        for d in target.control("GET", "scheduler", {})["deliveries"]
        if d["source"].endswith(f"schedule/{stack.schedule_group(spec)}/{spec.schedule_name}")
        and datetime.fromisoformat(d["scheduled_time"]) >= t0
    ]  # not an earlier replay's
    delivered = [d for d in deliveries if d["outcome"] == "delivered"]
    tasks = _tasks(target, spec, t0)
    start, end = tasks["start"].to_numpy(float), tasks["end"].to_numpy(float)
    overlapping, _, peak = _overlaps(_Tasks(None, None, start, end, np.zeros(start.size, bool), None))
    per_tick = (
        np.bincount(np.rint(start / (s.interval_minutes * 60)).astype(np.int64), minlength=s.ticks)
        if start.size
        else np.zeros(s.ticks, np.int64)
    )
    counts = dict.fromkeys(COUNT_KEYS, 0)
    counts.update(
        ticks=len({d["scheduled_time"] for d in delivered}),
        deliveries=len(delivered),
        task_launches=int(start.size),
        duplicate_launches=int(np.clip(per_tick - 1, 0, None).sum()),
        overlapping_launches=int(overlapping.sum()),
        max_concurrent=peak,
    )
    if spec.pattern == "A":
        launch_failed = sum(bool(d["result"].get("failures")) for d in delivered)
        job_failed = int((tasks["exit_code"].fillna(0) != 0).sum())
        noticed = job_failed if spec.notify_failure else 0  # the rule sees a failed job's task stop
        counts.update(
            run_task_calls=len(delivered),
            failures=launch_failed + job_failed,
            failures_noticed=noticed,
            failures_silent=launch_failed + job_failed - noticed,
        )
    else:
        counts.update(_execution_counts(target, spec))
    counts["notifications"] = _run_notifications(inbox)
    return counts, tasks


def _run_notifications(inbox: Inbox | None) -> int:
    """Messages about single runs on the topic: the alarms' own messages (a period of failures) are
    not what the simulation counts."""
    if inbox is None:
        return 0
    return sum("AlarmName" not in str(m.get("Message", "")) if isinstance(m, dict) else True for m in inbox.read())


def _execution_counts(target: Target, spec: StackSpec) -> dict[str, int]:
    """Executions, guard skips, failures, RunTask calls and state transitions, from the histories."""
    sfn = target.client("stepfunctions")
    out = {"executions": 0, "skipped_by_guard": 0, "failures": 0, "run_task_calls": 0, "state_transitions": 0}
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=spec.state_machine_arn):
        for e in page["executions"]:
            out["executions"] += 1
            d = sfn.describe_execution(executionArn=e["executionArn"])
            if d["status"] == "FAILED":
                out["failures"] += 1
            elif json.loads(d.get("output") or "{}").get("skipped") is True:
                out["skipped_by_guard"] += 1
            events = [
                ev
                for p in sfn.get_paginator("get_execution_history").paginate(executionArn=e["executionArn"])
                for ev in p["events"]
            ]
            entered = sum(ev["type"].endswith("StateEntered") for ev in events)
            scheduled = [ev for ev in events if ev["type"] == "TaskScheduled"]
            task_entered = sum(ev["type"] == "TaskStateEntered" for ev in events)
            # a state transition per state entered, plus one per Retry (a Task scheduled again)
            out["state_transitions"] += entered + len(scheduled) - task_entered
            out["run_task_calls"] += sum(
                ev["taskScheduledEventDetails"]["resource"].startswith("runTask") for ev in scheduled
            )
    out["failures_noticed"] = out["failures"]
    return out


def _restore(target: Target, spec: StackSpec, clock: dict[str, Any], plan: dict[str, Any], inbox: Inbox | None) -> None:
    try:
        if inbox is not None:
            inbox.close()
        stack.teardown(target, spec, delete_logs=True, delete_images=True)
    finally:
        target.control("POST", "scheduler", plan)
        target.control("POST", "clock", {"speed": clock["speed"], "pause": bool(clock["paused"])})


def tolerance(scenario: Scenario, key: str) -> int:
    """How far a live count may be from the simulated one: 0 when nothing is random.

    Only duplicate deliveries are random live (the Scheduler draws them with its own generator), so a
    count may differ by a few binomial standard deviations of the duplicated ticks (4 sd, at least
    2), times how much one duplicate can move that count (a whole execution path of transitions).
    """
    if scenario.deterministic:
        return 0
    p, n = scenario.duplicate_delivery_rate, scenario.ticks
    events = max(2, math.ceil(4 * math.sqrt(n * p * (1 - p))))
    if key in ("ticks", "max_concurrent"):
        return 0 if key == "ticks" else 1
    if key == "state_transitions":
        return events * max(len(p_) for p_ in execution_states(scenario, True).values())
    return events


def agreement(live: LiveRun) -> pd.DataFrame:
    """Simulated vs live count per key, the tolerance and whether they agree (one row per count)."""
    sim = simulate_variants(live.scenario, [live.variant])[live.variant].counts()
    rows = [
        {
            N_("count"): k,
            N_("simulated"): sim[k],
            N_("live"): live.counts[k],
            N_("tolerance"): tolerance(live.scenario, k),
            N_("agrees"): abs(sim[k] - live.counts[k]) <= tolerance(live.scenario, k),
        }
        for k in COUNT_KEYS
    ]
    return pd.DataFrame(rows).set_index("count")


def all_agree(runs: Iterable[LiveRun]) -> bool:
    """Whether every count of every replay agrees with its simulation (within `tolerance`)."""
    return all(bool(agreement(run)["agrees"].all()) for run in runs)


def agreement_line(runs: Iterable[LiveRun]) -> str:
    """The verdict of `all_agree` as one line for people, in the current language."""
    return tr("every live count equals the simulated one: {agrees}", agrees=all_agree(runs))


__all__ = [
    "LIVE_VARIANTS",
    "LiveRun",
    "agreement",
    "agreement_line",
    "all_agree",
    "check_replayable",
    "live_spec",
    "replay",
    "tolerance",
]

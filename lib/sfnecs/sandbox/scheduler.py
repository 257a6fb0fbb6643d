"""The scheduler clock: fires EventBridge Scheduler schedules (and legacy scheduled rules).

Why: moto stores schedules but never fires them, so nothing about duplicates, overlaps, time zones
or flexible windows could be shown. Here every tick of the sandbox clock finds the fire times
that have passed (`sfnecs.schedule`), picks each invocation time inside its flexible window, and
delivers to the target through the sandbox's own AWS API — StartExecution for a state machine,
RunTask for a cluster with EcsParameters — as the Scheduler service would (User Guide: "Managing a
schedule", "Configuring a dead-letter queue", "Context attributes").

At-least-once delivery is made visible on demand: duplicates (a probability, or explicit scheduled
times) and delivery delays are injected through `configure()` / `POST /_sfnecs/scheduler`.
Deliveries happen when the clock reaches them; when the clock is stepped far ahead, everything due
is delivered at once (use a fast clock, not a jump, when the timeline matters).
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from sfnecs.exceptions import ValidationError
from sfnecs.sandbox.clock import VirtualClock
from sfnecs.sandbox.enforcement import guard, trusted
from sfnecs.schedule import fire_times_between, flexible_window, parse_expression

#: Scheduler's retry backoff (AWS documents exponential backoff with jitter, not the constants)
RETRY_BASE_SECONDS = 1.0
RETRY_CAP_SECONDS = 60.0
#: the Scheduler's service principal, which assumes the schedule's role
SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"
#: error codes of IAM denials (ECS/Step Functions, SQS, SNS): not retried, sent to the DLQ at once
NOT_RETRIED = frozenset({"AccessDeniedException", "AccessDenied", "AuthorizationError"})
MAX_CATCH_UP = 10_000  # fire times handled per schedule per tick, against runaway catch-up


@dataclass
class Delivery:
    """One invocation of a target, as the Scheduler makes it (duplicates and retries included)."""

    source: str  # schedule ARN or rule ARN
    target_arn: str
    scheduled_time: datetime
    due: datetime
    execution_id: str
    attempt: int = 1
    duplicate: bool = False
    delivered_at: datetime | None = None
    outcome: str = "pending"  # delivered | retrying | dead-lettered | dropped
    result: dict[str, Any] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("spec")
        for key in ("scheduled_time", "due", "delivered_at"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


@dataclass
class InjectionPlan:
    """At-least-once effects to inject: extra copies and delays."""

    duplicate_probability: float = 0.0
    duplicate_times: set[str] = field(default_factory=set)  # ISO scheduled times (UTC) to duplicate
    copies: int = 2  # total deliveries for a duplicated firing
    delay_seconds: float = 0.0
    seed: int = 0


class SchedulerClock:
    """Finds due firings on each tick and delivers them through the sandbox's AWS endpoint."""

    def __init__(self, clock: VirtualClock, client_factory: Callable[[str, str, str], Any]):
        self.clock = clock
        self._client = client_factory  # (service, region, account) -> boto3 client
        self._lock = threading.RLock()
        # keyed by source ARN and creation time: a schedule deleted and created again under the same
        # name is a new schedule (it must not inherit the old one's progress and fire every missed time)
        self._seen: dict[tuple[str, Any], datetime] = {}  # fire times up to here are handled
        self._anchor: dict[tuple[str, Any], datetime] = {}  # where its rate() periods count from
        self._queue: list[tuple[datetime, int, Delivery]] = []
        self._seq = itertools.count()
        self.deliveries: list[Delivery] = []
        self.plan = InjectionPlan()
        self._rng = random.Random(0)

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()
            self._anchor.clear()
            self._queue.clear()
            self.deliveries.clear()
            self.plan = InjectionPlan()
            self._rng = random.Random(0)

    def configure(
        self,
        duplicate_probability: float = 0.0,
        duplicate_times: list[str] | None = None,
        copies: int = 2,
        delay_seconds: float = 0.0,
        seed: int = 0,
    ) -> dict[str, Any]:
        """Set the at-least-once effects to inject from now on (validated)."""
        if not isinstance(duplicate_probability, (int, float)) or not 0 <= duplicate_probability <= 1:
            raise ValidationError("duplicate_probability", duplicate_probability, "a number from 0 to 1")
        if isinstance(copies, bool) or not isinstance(copies, int) or not 2 <= copies <= 100:
            raise ValidationError("copies", copies, "a whole number from 2 to 100 (deliveries of a duplicated firing)")
        if not isinstance(delay_seconds, (int, float)) or not 0 <= delay_seconds <= 86_400:
            raise ValidationError("delay_seconds", delay_seconds, "seconds from 0 to 86400")
        times = set()
        for t in duplicate_times or []:
            try:
                times.add(_utc(datetime.fromisoformat(t)).isoformat())
            except (TypeError, ValueError):
                raise ValidationError(
                    "duplicate_times", t, "ISO 8601 date-times, e.g. 2026-11-29T09:00:00+09:00"
                ) from None
        with self._lock:
            self.plan = InjectionPlan(float(duplicate_probability), times, copies, float(delay_seconds), seed)
            self._rng = random.Random(seed)
        return self.describe_plan()

    def describe_plan(self) -> dict[str, Any]:
        p = self.plan
        return {
            "duplicate_probability": p.duplicate_probability,
            "duplicate_times": sorted(p.duplicate_times),
            "copies": p.copies,
            "delay_seconds": p.delay_seconds,
            "seed": p.seed,
        }

    # ---- the tick ---------------------------------------------------------------------------
    def tick(self) -> None:
        now = self.clock.now()
        for source in self._sources():
            self._enqueue_due(source, now)
        self._deliver_due(now)

    def _sources(self) -> list[dict[str, Any]]:
        """Every enabled schedule and scheduled rule in the sandbox, as plain dicts."""
        from moto.events.models import events_backends
        from moto.scheduler.models import scheduler_backends

        found = []
        for account, region, backend in _backends(scheduler_backends):
            for group in backend.schedule_groups.values():
                for s in list(group.schedules.values()):
                    if s.state != "ENABLED":
                        continue
                    found.append(
                        {
                            "arn": s.arn,
                            "account": account,
                            "region": region,
                            "kind": "schedule",
                            "expression": s.schedule_expression,
                            "timezone": s.schedule_expression_timezone,
                            "window": s.flexible_time_window or {"Mode": "OFF"},
                            "target": s.target,
                            "start": _date(s.start_date),
                            "end": _date(s.end_date),
                            "created": _date(s.creation_date),
                        }
                    )
        for account, region, backend in _backends(events_backends):
            for bus in backend.event_buses.values():
                for rule in list(getattr(bus, "rules", {}).values()):
                    if rule.state != "ENABLED" or not rule.scheduled_expression:
                        continue
                    for target in rule.targets:
                        # legacy rules are UTC only (EventBridge User Guide, "Schedule expressions for rules")
                        found.append(
                            {
                                "arn": f"{rule.arn}#{target.get('Id')}",
                                "account": account,
                                "region": region,
                                "kind": "rule",
                                "expression": rule.scheduled_expression,
                                "timezone": "UTC",
                                "window": {"Mode": "OFF"},
                                "target": target,
                                "start": None,
                                "end": None,
                                "created": None,
                            }
                        )
        return found

    def _enqueue_due(self, source: dict[str, Any], now: datetime) -> None:
        try:
            kind = parse_expression(source["expression"]).kind
        except (ValidationError, ValueError):
            return  # AWS rejects invalid expressions at creation; moto does not: such a schedule never fires
        key = (source["arn"], source["created"])
        with self._lock:
            since = self._seen.get(key)
            self._seen[key] = now
            if since is None:
                # first sight = creation, in virtual time. A rate schedule without StartDate invokes
                # its target at once and then every period from then (User Guide, "Rate-based schedules").
                self._anchor[key] = source["start"] or now
                times = [now] if kind == "rate" and source["start"] is None else []
        if since is not None:
            start = max(t for t in (since, source["start"]) if t is not None)
            end = min(t for t in (now, source["end"]) if t is not None)
            if end <= start:
                return
            times = fire_times_between(
                source["expression"], start, end, source["timezone"], anchor=self._anchor.get(key)
            )[:MAX_CATCH_UP]
        window = source["window"]
        for t in times:
            minutes = int(window.get("MaximumWindowInMinutes", 0)) if window.get("Mode") == "FLEXIBLE" else 0
            offset = (flexible_window(t, minutes, self._rng) - t).total_seconds()
            copies = self._copies(t)
            execution_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            for n in range(copies):
                due = t + timedelta(seconds=offset + self.plan.delay_seconds)
                d = Delivery(source["arn"], source["target"]["Arn"], t, due, execution_id, duplicate=n > 0, spec=source)
                self._push(d)

    def _copies(self, t: datetime) -> int:
        plan = self.plan
        if _utc(t).isoformat() in plan.duplicate_times:
            return plan.copies
        if plan.duplicate_probability and self._rng.random() < plan.duplicate_probability:
            return plan.copies
        return 1

    def _push(self, d: Delivery) -> None:
        with self._lock:
            heapq.heappush(self._queue, (d.due, next(self._seq), d))

    def _deliver_due(self, now: datetime) -> None:
        while True:
            with self._lock:
                if not self._queue or self._queue[0][0] > now:
                    return
                _, _, d = heapq.heappop(self._queue)
            self._deliver(d, now)

    # ---- delivery ---------------------------------------------------------------------------
    def _deliver(self, d: Delivery, now: datetime) -> None:
        source, target = d.spec, d.spec["target"]
        try:
            d.result = self._invoke(source, target, d)
            d.outcome, d.delivered_at = "delivered", now
        except Exception as exc:  # noqa: BLE001 - any failed call is a failed delivery, as for the Scheduler
            self._retry_or_dead_letter(d, now, exc)
        with self._lock:
            if d.outcome != "retrying":
                self.deliveries.append(d)

    def _as_role(self, source: dict[str, Any], service: str, d: Delivery) -> Any:
        """A client acting as the schedule's role: IAM enforced for the Scheduler (sfnecs.sandbox.enforcement)."""
        client = self._client(service, source["region"], source["account"])
        role = source["target"].get("RoleArn")
        if source["kind"] != "schedule" or not role:
            return client  # legacy rules are EventBridge's, not the Scheduler's: not enforced here
        # EventBridge Scheduler user guide, "Set up the execution role": scheduler.amazonaws.com assumes the
        # role, with the schedule group's ARN as aws:SourceArn ("Troubleshooting"). AWS documents no error
        # text for a role it cannot assume: the message is the sandbox's.
        group = source["arn"].replace(":schedule/", ":schedule-group/").rsplit("/", 1)[0]
        context = {"aws:SourceArn": group, "aws:SourceAccount": source["account"]}
        if not trusted(role, SCHEDULER_PRINCIPAL, context):
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": f"{SCHEDULER_PRINCIPAL} cannot assume {role}"}},
                "AssumeRole",
            )
        # the session name the Scheduler gives its role session is not documented: the invocation's id
        return guard(client, role, d.execution_id)

    def _invoke(self, source: dict[str, Any], target: dict[str, Any], d: Delivery) -> dict[str, Any]:
        arn = target["Arn"]
        payload = _context(target.get("Input", "{}"), d, source)
        if ":states:" in arn and ":stateMachine:" in arn:
            sfn = self._as_role(source, "stepfunctions", d)
            # The Scheduler starts executions without a name: Step Functions makes a UUID name.
            out = sfn.start_execution(stateMachineArn=arn, input=payload)
            return {"executionArn": out["executionArn"]}
        if ":ecs:" in arn and ":cluster/" in arn:
            p = target.get("EcsParameters") or {}
            ecs = self._as_role(source, "ecs", d)
            kwargs: dict[str, Any] = {
                "cluster": arn,
                "taskDefinition": p["TaskDefinitionArn"],
                "count": p.get("TaskCount", 1),
                "startedBy": "events-scheduler",
            }
            if p.get("LaunchType"):
                kwargs["launchType"] = p["LaunchType"]
            if p.get("CapacityProviderStrategy"):  # items camelCase in this API, as RunTask takes them
                kwargs["capacityProviderStrategy"] = p["CapacityProviderStrategy"]
            net = p.get("NetworkConfiguration", {}).get("awsvpcConfiguration")  # camelCase in this API
            if net:
                kwargs["networkConfiguration"] = {
                    "awsvpcConfiguration": {
                        "subnets": net.get("Subnets", []),
                        "securityGroups": net.get("SecurityGroups", []),
                        "assignPublicIp": net.get("AssignPublicIp", "DISABLED"),
                    }
                }
            if p.get("Group"):
                kwargs["group"] = p["Group"]
            for key, name in (("PropagateTags", "propagateTags"), ("EnableECSManagedTags", "enableECSManagedTags")):
                if key in p:  # tagging the new task needs ecs:TagResource (sfnecs.sandbox.permissions)
                    kwargs[name] = p[key]
            if p.get("Tags"):
                kwargs["tags"] = [{"key": k, "value": v} for tag in p["Tags"] for k, v in tag.items()]
            out = ecs.run_task(**kwargs)
            # HTTP 200 with failures still counts as delivered: the Scheduler reports success
            # while no task runs (fact: direct-runtask-silent).
            return {"taskArns": [t["taskArn"] for t in out["tasks"]], "failures": out.get("failures", [])}
        raise ValueError(
            f"the sandbox scheduler cannot deliver to {arn}: only Step Functions state machines and "
            "ECS clusters are emulated"
        )

    def _retry_or_dead_letter(self, d: Delivery, now: datetime, exc: Exception) -> None:
        policy = d.spec["target"].get("RetryPolicy") or {}
        attempts = int(policy.get("MaximumRetryAttempts", 185))
        max_age = float(policy.get("MaximumEventAgeInSeconds", 86_400))
        d.result = {"error": type(exc).__name__, "message": str(exc)}
        backoff = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** (d.attempt - 1))
        next_due = now + timedelta(seconds=backoff)
        # A permission error is not retried: AWS documents this for EventBridge rules' targets ("Event retry
        # policy and using dead-letter queues"), not for the Scheduler; the sandbox treats both alike.
        retryable = _code(exc) not in NOT_RETRIED
        if retryable and d.attempt <= attempts and (next_due - d.scheduled_time).total_seconds() <= max_age:
            retry = Delivery(
                d.source,
                d.target_arn,
                d.scheduled_time,
                next_due,
                d.execution_id,
                d.attempt + 1,
                d.duplicate,
                spec=d.spec,
            )
            d.outcome = "retrying"
            with self._lock:
                self.deliveries.append(d)
            self._push(retry)
            return
        dlq = (d.spec["target"].get("DeadLetterConfig") or {}).get("Arn")
        d.outcome = "dead-lettered" if dlq else "dropped"
        if dlq:
            exhausted = "MaximumRetryAttempts" if d.attempt > attempts else "MaximumEventAgeInSeconds"
            reason = exhausted if retryable else None
            try:
                self._dead_letter(d, dlq, exc, reason)
            except ClientError as denied:  # the role may not send to its DLQ: the event is dropped
                d.outcome = "dropped"
                d.result["dead_letter_error"] = _message(denied)

    def _dead_letter(self, d: Delivery, queue_arn: str, exc: Exception, exhausted: str | None) -> None:
        _, _, _, region, account, name = queue_arn.split(":", 5)
        # the Scheduler sends with the schedule's role (its policy grants sqs:SendMessage on the queue)
        sqs = self._as_role({**d.spec, "region": region, "account": account}, "sqs", d)
        url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        # Message attributes as the Scheduler documents them for DLQ messages (User Guide, "Configuring a
        # dead-letter queue"); EXHAUSTED_RETRY_CONDITION only for an error that was retried.
        attrs = {
            "ERROR_CODE": _code(exc),
            "ERROR_MESSAGE": _message(exc)[:256],
            "EXECUTION_ID": d.execution_id,
            "IS_PAYLOAD_TRUNCATED": "false",
            "RETRY_ATTEMPTS": str(d.attempt - 1),
            "SCHEDULED_TIME": _utc(d.scheduled_time).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "SCHEDULE_ARN": d.source,
            "TARGET_ARN": d.target_arn,
        }
        if exhausted:
            attrs["EXHAUSTED_RETRY_CONDITION"] = exhausted
        sqs.send_message(
            QueueUrl=url,
            MessageBody=_context(d.spec["target"].get("Input", "{}"), d, d.spec),
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attrs.items()},
        )

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {
                "plan": self.describe_plan(),
                "pending": len(self._queue),
                "deliveries": [d.to_dict() for d in self.deliveries],
            }


def _context(template: str, d: Delivery, source: dict[str, Any]) -> str:
    """Substitute the Scheduler's context attributes in a target's Input (User Guide, "Context attributes")."""
    values = {
        "<aws.scheduler.schedule-arn>": source["arn"],
        "<aws.scheduler.scheduled-time>": _utc(d.scheduled_time).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "<aws.scheduler.execution-id>": d.execution_id,
        "<aws.scheduler.attempt-number>": str(d.attempt),
    }
    for key, value in values.items():
        template = template.replace(key, value)
    return template


def _code(exc: Exception) -> str:
    """The service's error code of a failed call (the exception's name for anything else)."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__)


def _message(exc: Exception) -> str:
    """The service's error message of a failed call (the exception's text for anything else)."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Message") or exc)


def _backends(backend_dict: Any) -> list[tuple[str, str, Any]]:
    out = []
    for account, regions in list(backend_dict.items()):
        for region, backend in list(regions.items()):
            out.append((account, region, backend))
    return out


def _utc(t: datetime) -> datetime:
    return t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)


def _date(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    try:
        return _utc(datetime.fromisoformat(str(value)))
    except ValueError:
        return None

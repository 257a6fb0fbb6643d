"""The retry policy of the pattern-B state machine, and the longest an execution of it can take.

Why in the model: a top-level execution timeout cannot be caught (Step Functions developer guide,
"Handling errors in Step Functions workflows": catchers exist for Task, Parallel and Map states, not
for the execution), so an execution that times out ends TIMED_OUT and its failure notification never
runs. StackSpec therefore refuses a machine timeout shorter than the worst case these retriers allow
(`execution_budget`), and the state machine builder takes its retriers from the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

#: Retry intervals (seconds) and attempts of the state machine's retriers; every retrier doubles its
#: interval (BackoffRate 2.0) and uses full jitter, so each wait is at most the un-jittered interval.
LAUNCH_RETRY_INTERVAL_SECONDS = 10
JOB_RETRY_INTERVAL_SECONDS = 60
GUARD_RETRY_INTERVAL_SECONDS = 2
GUARD_RETRY_ATTEMPTS = 3
BACKOFF_RATE = 2.0
#: Room kept after the last attempt for the Catch, the SNS publish and the Fail state. AWS documents no
#: duration for them; a minute is the kit's margin.
NOTIFY_MARGIN_SECONDS = 60


class _Retries(Protocol):
    """The StackSpec fields the budget reads (a Protocol: StackSpec itself imports this module)."""

    @property
    def guard(self) -> bool: ...
    @property
    def task_timeout_seconds(self) -> int: ...
    @property
    def launch_retry_attempts(self) -> int: ...
    @property
    def retry_job_failures(self) -> int: ...


def retry_waits(interval: int, attempts: int) -> tuple[int, ...]:
    """The longest wait before each retry: interval, interval x 2, ... (BackoffRate 2.0, full jitter)."""
    return tuple(int(interval * BACKOFF_RATE**k) for k in range(attempts))


@dataclass(frozen=True)
class Budget:
    """The worst-case duration of one execution, part by part, in seconds."""

    parts: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(seconds for _, seconds in self.parts)

    def arithmetic(self) -> str:
        """The sum written out, e.g. '3 job attempts x 3600 s + launch retry waits 10+20+40 s + ... = 10,974 s'."""
        return " + ".join(label for label, _ in self.parts) + f" = {self.total:,} s"


def execution_budget(spec: _Retries) -> Budget:
    """The longest one execution can run before its failure is notified, from the spec's retriers.

    Every job attempt may run until the RunJob state's TimeoutSeconds (a job failure just before it is
    retried when retry_job_failures allows; States.Timeout itself is retried by neither retrier), every
    retry waits at most its backoff interval, and the notification needs its margin.
    """
    attempts = 1 + spec.retry_job_failures
    parts = [
        (
            f"{attempts} job attempt{'s' if attempts > 1 else ''} x {spec.task_timeout_seconds} s",
            attempts * spec.task_timeout_seconds,
        )
    ]
    for label, interval, count in (
        ("launch retry waits", LAUNCH_RETRY_INTERVAL_SECONDS, spec.launch_retry_attempts),
        ("job retry waits", JOB_RETRY_INTERVAL_SECONDS, spec.retry_job_failures),
        ("guard retry waits", GUARD_RETRY_INTERVAL_SECONDS, GUARD_RETRY_ATTEMPTS if spec.guard else 0),
    ):
        if waits := retry_waits(interval, count):
            parts.append((f"{label} {'+'.join(map(str, waits))} s", sum(waits)))
    parts.append((f"{NOTIFY_MARGIN_SECONDS} s for the failure notification", NOTIFY_MARGIN_SECONDS))
    return Budget(tuple(parts))

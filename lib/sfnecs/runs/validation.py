"""Checking a caller's arguments before any AWS call: run ARNs, timeouts, log lines, backoff, times.

Why at the door: a malformed ARN or timeout must fail with a ValidationError naming the parameter,
not as an AWS error (or a wait that never ends) after the first call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from sfnecs.checks import check_int, check_positive
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, tr
from sfnecs.model.arns import EXECUTION_ARN_RE, TASK_ARN_RE
from sfnecs.runs.polling import Backoff

_EXECUTION_ARN = EXECUTION_ARN_RE


def _long_task_arn(arn: str) -> re.Match[str] | None:
    """A task ARN in the long format, which names the cluster DescribeTasks needs (else None)."""
    m = TASK_ARN_RE.fullmatch(arn)
    return m if m and m["cluster"] else None


def _check_timeout(value: object) -> float:
    return float(check_positive("timeout", value, 31_536_000))


def _check_lines(value: object) -> int:
    return check_int("log_lines", value, 0, 10_000)


def _check_backoff(value: object) -> None:
    if not isinstance(value, Backoff):
        raise ValidationError("backoff", value, N_("a sfnecs.runs.Backoff"))


def _check_arn(parameter: str, value: object, kinds: tuple[str, ...]) -> re.Match[str]:
    match: dict[str, Callable[[str], re.Match[str] | None]] = {
        "execution": _EXECUTION_ARN.fullmatch,
        "task": _long_task_arn,
    }
    for kind in kinds:
        if isinstance(value, str) and (m := match[kind](value)):
            return m
    allowed = {
        "execution": N_("an execution ARN (arn:aws:states:<region>:<account>:execution:<machine>:<name>)"),
        "task": N_("a task ARN (arn:aws:ecs:<region>:<account>:task/<cluster>/<32 hex id>)"),
    }
    raise ValidationError(parameter, value, tr(" or ").join(tr(allowed[k]) for k in kinds))


def _intended(at: object) -> datetime:
    if at is None:
        return datetime.now(UTC)
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise ValidationError("at", at, N_("a timezone-aware datetime (e.g. datetime.now(timezone.utc))"))
    return at.astimezone(UTC)

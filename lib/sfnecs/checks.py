"""Validators every layer uses: each returns the value or raises ValidationError naming the parameter,
the bad value and what is allowed, before any AWS call (validate at the door).
"""

from __future__ import annotations

import math
import re
import zoneinfo
from typing import Any

from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, tr

_RULES: dict[str, tuple[str, str]] = {
    # ours: short enough that every derived name (<name>-task-exec, ...) fits IAM's 64 characters
    # ... and a valid ECR repository name (the default repository is named after the stack): no '-' at the end or twice
    "stack": (
        r"[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,31}",
        N_("2-32 characters: lowercase letters, digits and single '-' between them, starting with a letter"),
    ),
    "ecs": (r"[A-Za-z0-9_-]{1,255}", N_("1-255 characters: letters, digits, '_' and '-' (ECS)")),
    "iam_role": (r"[\w+=,.@-]{1,64}", N_("1-64 characters: letters, digits and +=,.@_- (IAM role name)")),
    "state_machine": (r"[A-Za-z0-9_-]{1,80}", N_("1-80 characters: letters, digits, '_' and '-' (Step Functions)")),
    "schedule": (r"[0-9a-zA-Z._-]{1,64}", N_("1-64 characters: letters, digits and ._- (EventBridge Scheduler)")),
    "topic": (r"[A-Za-z0-9_-]{1,256}", N_("1-256 characters: letters, digits, '_' and '-' (SNS)")),
    "queue": (r"[A-Za-z0-9_-]{1,80}", N_("1-80 characters: letters, digits, '_' and '-' (SQS)")),
    "log_group": (r"[.\-_/#A-Za-z0-9]{1,512}", N_("1-512 characters: letters, digits and ._-/# (CloudWatch Logs)")),
    "repository": (
        r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
        N_("2-256 lowercase characters: letters, digits, and . _ - / between them (ECR)"),
    ),
    "region": (r"[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d", N_("an AWS region code such as us-east-1 or ap-northeast-1")),
    "account": (r"\d{12}", N_("a 12-digit AWS account id")),
    "subnet": (r"subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?", N_("a subnet id: subnet- followed by 8 or 17 hex digits")),
    "security_group": (
        r"sg-[0-9a-f]{8}(?:[0-9a-f]{9})?",
        N_("a security group id: sg- followed by 8 or 17 hex digits"),
    ),
}


def check_name(parameter: str, value: object, rule: str) -> str:
    """Return `value` if it matches the named AWS naming rule, else raise ValidationError."""
    pattern, allowed = _RULES[rule]
    # ASCII: AWS names allow ASCII letters and digits only, where Python's \w and \d take any script's
    if not isinstance(value, str) or not re.fullmatch(pattern, value, re.ASCII):
        raise ValidationError(parameter, value, allowed)
    if rule == "repository" and not 2 <= len(value) <= 256:
        raise ValidationError(parameter, value, allowed)
    return value


def check_choice(parameter: str, value: object, allowed: tuple[Any, ...]) -> Any:
    """Return `value` if it is one of `allowed`, else raise ValidationError listing them."""
    if value not in allowed:
        raise ValidationError(parameter, value, tr("use {choices}", choices=tr(" or ").join(map(str, allowed))))
    return value


def check_bool(parameter: str, value: object) -> bool:
    """Return `value` if it is True or False (not 0, 1 or "yes"), else raise ValidationError."""
    if not isinstance(value, bool):
        raise ValidationError(parameter, value, tr("True or False"))
    return value


def check_int(parameter: str, value: object, low: int, high: int) -> int:
    """Return `value` if it is an int in [low, high] (bools rejected), else raise ValidationError."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(parameter, value, tr("a whole number from {low} to {high}", low=low, high=high))
    return value


def check_positive(parameter: str, value: object, high: float, unit: str = "") -> Any:
    """Return `value` if it is a number greater than 0 and at most `high` (bools rejected), else raise
    ValidationError; `unit` (e.g. "seconds") names what it counts in the message."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= high:
        raise ValidationError(
            parameter,
            value,
            tr("a number of {unit} greater than 0 and at most {high}", unit=tr(unit), high=format(high, "g"))
            if unit
            else tr("a number greater than 0 and at most {high}", high=format(high, "g")),
        )
    return value


def check_number(parameter: str, value: object, low: float, *, strict: bool, what: str = "") -> float:
    """Return `value` as a float if it is a finite number above `low` (or at least `low` unless `strict`),
    else raise ValidationError; `what` is added to the message, e.g. " (minutes)"."""
    ok = (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and math.isfinite(value)
        and (value > low if strict else value >= low)
    )
    if not ok:
        raise ValidationError(parameter, value, f"a finite number {'>' if strict else '>='} {low}{what}")
    return float(value)  # type: ignore[arg-type]


def check_timezone(parameter: str, value: object) -> str:
    """Return `value` if it is an IANA time zone name known to this machine."""
    try:
        if not isinstance(value, str) or not value:
            raise ValueError
        zoneinfo.ZoneInfo(value)
    except (ValueError, OSError, zoneinfo.ZoneInfoNotFoundError):  # OSError: e.g. a name too long for a file
        raise ValidationError(parameter, value, tr("an IANA time zone name such as UTC or Asia/Tokyo")) from None
    return value

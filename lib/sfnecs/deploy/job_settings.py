"""Job settings as the deploy runbook and the CLI take them (NAME=VALUE text), turned into StackSpec fields.

Why one place: `runbooks/deploy.ipynb` and `sfnecs apply` take the same settings as text and must build the
same StackSpec from them. Neither exposes the state machine's own timeout, so a longer task timeout or more
job retries lengthen it to the execution budget (sfnecs.model.budget) instead of tripping its rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sfnecs.exceptions import ValidationError
from sfnecs.i18n import tr
from sfnecs.model.budget import execution_budget
from sfnecs.model.spec import StackSpec

__all__ = ["JOB_SETTINGS", "split_pairs", "with_job"]

#: the job settings the runbook and the CLI expose, by their StackSpec (and parameter) names
JOB_SETTINGS = (
    "cpu",
    "memory",
    "environment",
    "secrets",
    "task_policy_arns",
    "task_timeout_seconds",
    "retry_job_failures",
    "guard",
    "platform_version",
    "log_retention_days",
    "notify_email",
    "notify_topic_arn",
)
#: StackSpec's longest machine_timeout_seconds (Step Functions: a Standard execution runs at most a year)
_LONGEST = 31_536_000


def split_pairs(name: str, items: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """`["NAME=VALUE", ...]` as ((NAME, VALUE), ...); the value may itself hold '=' (an ARN never does)."""
    if isinstance(items, str):
        raise ValidationError(name, items, tr("a list of NAME=VALUE strings, e.g. ['LEVEL=info']"))
    pairs = []
    for item in items:
        if not isinstance(item, str) or "=" not in item or item.startswith("="):
            raise ValidationError(
                name, item, tr("NAME=VALUE, e.g. LEVEL=info or DB_PASSWORD=arn:aws:secretsmanager:...")
            )
        key, value = item.split("=", 1)
        pairs.append((key, value))
    return tuple(pairs)


def with_job(spec: StackSpec, settings: Mapping[str, Any]) -> StackSpec:
    """`spec` with the given job settings (None: keep the spec's), validated by StackSpec under their own names,
    and a state machine timeout at least the execution budget they need."""
    unknown = sorted(set(settings) - set(JOB_SETTINGS))
    if unknown:
        raise ValidationError(
            unknown[0], settings[unknown[0]], tr("one of the job settings {names}", names=", ".join(JOB_SETTINGS))
        )
    fields = {key: value for key, value in settings.items() if value is not None}
    for key in ("environment", "secrets"):
        if key in fields:
            fields[key] = split_pairs(key, fields[key])
    longest = spec.replace(machine_timeout_seconds=_LONGEST, **fields)
    return longest.replace(machine_timeout_seconds=max(spec.machine_timeout_seconds, execution_budget(longest).total))

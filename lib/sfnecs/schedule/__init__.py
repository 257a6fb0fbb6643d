"""EventBridge Scheduler schedule expressions (`at()`, `rate()`, `cron()`): parsing and fire times
(`expressions`), with one-line descriptions (`expressions`), and tables for people (`tables`).

Why their own package below the model: StackSpec validates its expression with them, and the
sandbox's scheduler clock fires schedules with the same code.
"""

from sfnecs.schedule.expressions import (
    EPOCH,
    EXPRESSION_FORMS,
    MONTHS,
    UNIT_SECONDS,
    WEEKDAYS,
    CronFields,
    DayRule,
    Schedule,
    describe,
    fire_times_between,
    flexible_window,
    parse_expression,
)
from sfnecs.schedule.tables import fire_table, misfires

__all__ = [
    "EPOCH",
    "EXPRESSION_FORMS",
    "MONTHS",
    "UNIT_SECONDS",
    "WEEKDAYS",
    "CronFields",
    "DayRule",
    "Schedule",
    "describe",
    "fire_table",
    "fire_times_between",
    "flexible_window",
    "misfires",
    "parse_expression",
]

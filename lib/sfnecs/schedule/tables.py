"""Schedule tables for people: the next fire times, and the runs a daily job would miss or repeat
around daylight-saving changes.

Why: a daylight-saving change or a weekday mistake shows at a glance in a table of real times.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sfnecs.checks import check_int
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, tr
from sfnecs.schedule.expressions import _check_aware, _zone, fire_times_between, parse_expression

__all__ = ["FIRE_TABLE_COLUMNS", "WEEKDAY_ABBREVIATIONS", "fire_table", "misfires"]


def fire_table(expression: str, n: int, after: datetime, timezone: str = "UTC", anchor: datetime | None = None) -> Any:
    """The next `n` fire times as a DataFrame: local time, weekday, zone, UTC, hours since the previous one.

    Why: a daylight-saving change shows up as a 23- or 25-hour gap and a weekday mistake as the wrong
    day name, at a glance. Times are minute strings ("2027-03-15 06:45"): schedules have minute precision.
    """
    import pandas as pd

    times = parse_expression(expression).next_fire_times(n, after, timezone, anchor)
    rows, previous = [], None
    for t in times:
        # elapsed hours: subtract in UTC (two datetimes sharing a tzinfo subtract as wall-clock times)
        gap = "" if previous is None else f"{(t.astimezone(UTC) - previous).total_seconds() / 3600:g}"
        rows.append(
            {
                "local": f"{t:%Y-%m-%d %H:%M}",
                "day": WEEKDAY_ABBREVIATIONS[t.weekday()],
                "zone": t.tzname(),
                "UTC": f"{t.astimezone(UTC):%Y-%m-%d %H:%M}",
                "hours since previous": gap,
            }
        )
        previous = t.astimezone(UTC)
    return pd.DataFrame(rows, columns=FIRE_TABLE_COLUMNS)


#: fire_table's columns (English in the frame; shown in the reader's language by sfnecs.i18n.localize)
FIRE_TABLE_COLUMNS = [N_("local"), N_("day"), N_("zone"), "UTC", N_("hours since previous")]
#: weekday names in Python's weekday() order, as strftime's %a writes them in the C locale (not the
#: machine's locale), each a catalog word so that a table shows it in the reader's language
WEEKDAY_ABBREVIATIONS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))

_DAY_NAMES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")  # Python's weekday() order


_HH_MM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)", re.ASCII)


def _wanted_days(days: object) -> set[int]:
    """'MON-FRI', 'SAT,SUN', 'FRI-MON' (ranges wrap) or '*' -> Python weekday numbers."""
    allowed = tr("day names MON..SUN as a list and/or ranges, e.g. MON-FRI, SAT,SUN, FRI-MON or *")
    if not isinstance(days, str) or not days.strip():
        raise ValidationError("days", days, allowed)
    if days.strip() == "*":
        return set(range(7))
    out: set[int] = set()
    for part in days.upper().replace(" ", "").split(","):
        ends = part.split("-")
        if len(ends) > 2 or not all(e in _DAY_NAMES for e in ends):
            raise ValidationError("days", days, allowed)
        first, last = _DAY_NAMES.index(ends[0]), _DAY_NAMES.index(ends[-1])
        out.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    return out


def misfires(
    expression: str,
    timezone: str,
    *,
    at: str,
    days: str = "*",
    zone: str | None = None,
    start: datetime,
    weeks: int = 8,
) -> list[str]:
    """How a schedule differs from "at `at` on `days`, `zone` time", in words; empty when it does just that.

    Why: a cron() that looks right in January can fire an hour off after a daylight-saving change, or
    on the wrong days (AWS numbers weekdays SUN=1). This compares every firing of `expression`,
    evaluated in `timezone` (its ScheduleExpressionTimezone), with the wanted times for `weeks` weeks
    after `start`. `zone` defaults to `timezone`; a wall-clock time that does not exist that day (spring
    forward) is not wanted. Lists at most 6 differences, then how many more, in the current language.
    """
    _zone(timezone)
    want_zone = _zone(timezone if zone is None else zone, "zone")
    if not isinstance(at, str) or not (m := _HH_MM.fullmatch(at)):
        raise ValidationError("at", at, tr("a wall-clock time HH:MM, e.g. 06:45"))
    wanted_days = _wanted_days(days)
    check_int("weeks", weeks, 1, 520)
    begin = _check_aware("start", start)
    end = begin + timedelta(weeks=weeks)
    wanted = set()
    day = begin.astimezone(want_zone).date()
    while day <= end.astimezone(want_zone).date():
        naive = datetime(day.year, day.month, day.day, int(m[1]), int(m[2]))
        t = naive.replace(tzinfo=want_zone)
        exists = t.astimezone(UTC).astimezone(want_zone).replace(tzinfo=None) == naive
        if day.weekday() in wanted_days and exists and begin < t <= end:
            wanted.add(t.astimezone(UTC))
        day += timedelta(days=1)
    fired = {t.astimezone(UTC) for t in fire_times_between(expression, begin, end, timezone)}

    def show(t: datetime) -> str:
        t = t.astimezone(want_zone)
        return tr("{weekday} {when}", weekday=tr(WEEKDAY_ABBREVIATIONS[t.weekday()]), when=f"{t:%Y-%m-%d %H:%M %Z}")

    problems = sorted(
        [(t, tr("misses {when}", when=show(t))) for t in wanted - fired]
        + [(t, tr("fires {when}, which is not wanted", when=show(t))) for t in fired - wanted]
    )
    lines = [text for _, text in problems[:6]]
    if len(problems) > 6:
        lines.append(tr("... and {count} more", count=len(problems) - 6))
    return lines

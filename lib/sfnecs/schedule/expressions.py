"""EventBridge Scheduler schedule expressions: `at()`, `rate()` and `cron()`, parsed, their fire times and
a one-line description.

Why: a schedule that AWS rejects, or that fires at a surprising hour (time zones, daylight saving time,
AWS's own day-of-week numbering), is the most common way a scheduled job goes wrong. Everything here is
pure: an expression in, validated data, times or English out.

Sources: EventBridge Scheduler User Guide, "Schedule types on EventBridge Scheduler" (expressions, time
zones, daylight saving time); EventBridge User Guide, "Cron expressions reference" and "Rate expressions
reference" (field table, wildcards, limits); AWS re:Post knowledge center "eventbridge-scheduler-adjust-dst".

The cron fields are parsed and evaluated here rather than by croniter: AWS numbers days of the week
SUN=1 ... SAT=7 (unix cron: 0-6), allows years up to 2199 (croniter stops at 2099) and `LW`, and an error
must name the AWS field and what it allows, which no cron library reports. English descriptions come
from cron-descriptor, Japanese ones from `describe_ja`; tests check the evaluator against croniter on
the syntax both understand.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from sfnecs.checks import check_timezone
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import current_language, tr
from sfnecs.schedule.describe_ja import at_ja, cron_ja, rate_ja

__all__ = [
    "CronFields",
    "DayRule",
    "Schedule",
    "describe",
    "fire_times_between",
    "flexible_window",
    "parse_expression",
]

ScheduleKind = Literal["at", "rate", "cron"]

EXPRESSION_FORMS = (
    "at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(minutes hours day-of-month month day-of-week year)"
)
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # AWS: SUN=1 ... SAT=7
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class _FieldSpec:
    name: str
    low: int
    high: int
    wildcards: str
    names: tuple[str, ...] = ()  # names for low, low+1, ...

    def allowed(self) -> str:
        values = f"{self.low}-{self.high}"
        if self.names:
            values = tr("{numbers} or {names}", numbers=values, names=self.names[0] + "-" + self.names[-1])
        return tr("values {values}, wildcards {wildcards}", values=values, wildcards=self.wildcards)


# EventBridge User Guide, "Cron expressions reference": the field table, verbatim in values and wildcards.
_FIELDS = (
    _FieldSpec("minutes", 0, 59, ", - * /"),
    _FieldSpec("hours", 0, 23, ", - * /"),
    _FieldSpec("day-of-month", 1, 31, ", - * ? / L W"),
    _FieldSpec("month", 1, 12, ", - * /", MONTHS),
    _FieldSpec("day-of-week", 1, 7, ", - * ? L #", WEEKDAYS),
    _FieldSpec("year", 1970, 2199, ", - * /"),
)


class _FieldError(Exception):
    """A problem in one part of an expression; parse_expression turns it into a ValidationError."""


# ---- results ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DayRule:
    """How one day field picks days: a set of values, or one of AWS's special forms.

    kind: "values" (day numbers, or AWS weekday numbers 1-7 = SUN-SAT), "last" (L: last day of the
    month), "last_weekday" (LW), "nearest_weekday" (nW), "last_of_month" (nL: the last such weekday of
    the month), "nth" (n#k: the k-th such weekday of the month).
    """

    kind: Literal["values", "last", "last_weekday", "nearest_weekday", "last_of_month", "nth"]
    values: tuple[int, ...] = ()
    nth: int = 0


@dataclass(frozen=True)
class CronFields:
    """A validated cron(): sorted allowed values per field; exactly one day rule is set."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    day_of_month: DayRule | None  # None: '?'
    months: tuple[int, ...]
    day_of_week: DayRule | None  # None: '?'
    years: tuple[int, ...]

    def days(self, year: int, month: int) -> list[int]:
        """The days of `month` that this expression fires on (the month and year already match)."""
        length = calendar.monthrange(year, month)[1]
        if self.day_of_month is not None:
            return _month_days(self.day_of_month, year, month, length)
        assert self.day_of_week is not None
        return _week_days(self.day_of_week, year, month, length)

    def local_times(self, after: datetime) -> Iterator[datetime]:
        """Naive wall-clock fire times strictly after the naive `after`, in order, up to the year 2199."""
        first_day = after.date()
        for year in self.years:
            if year < after.year:
                continue
            for month in self.months:
                if (year, month) < (after.year, after.month):
                    continue
                for day in self.days(year, month):
                    if date(year, month, day) < first_day:
                        continue
                    for hour in self.hours:
                        for minute in self.minutes:
                            t = datetime(year, month, day, hour, minute)
                            if t > after:
                                yield t


@dataclass(frozen=True)
class Schedule:
    """One parsed, valid schedule expression.

    Exactly one of `at_time` (naive: read in the schedule's time zone), `rate_value`/`rate_unit`
    (unit singular: minute, hour or day) or `cron` is set, according to `kind`.
    """

    kind: ScheduleKind
    expression: str
    at_time: datetime | None = None
    rate_value: int = 0
    rate_unit: str = ""
    cron: CronFields | None = field(default=None, repr=False)

    @property
    def interval(self) -> timedelta | None:
        """A rate() schedule's period (always a fixed duration, see next_fire_times); None otherwise."""
        if self.kind != "rate":
            return None
        return timedelta(seconds=self.rate_value * UNIT_SECONDS[self.rate_unit])

    @property
    def description(self) -> str:
        """One line in the current language, e.g. 'At 09:00, Monday through Friday'."""
        return describe(self.expression)

    def next_fire_times(
        self, n: int, after: datetime, timezone: str = "UTC", anchor: datetime | None = None
    ) -> list[datetime]:
        """The first `n` fire times after `after`, as aware datetimes in `timezone`.

        cron(): wall-clock times in `timezone`, strictly after `after`, with AWS's daylight-saving rules
        (a time that does not exist is skipped; a repeated time fires once, at its first occurrence).
        at(): its one time if that is after `after`, else nothing.
        rate(): every `interval` of elapsed time from `anchor` (the schedule's StartDate, or its creation).
        Without `anchor`, the schedule is taken as created at `after`; AWS starts a rate schedule without
        StartDate "invoking its target immediately", so `after` itself is then the first time.
        """
        _check_count(n)
        after = _check_aware("after", after)
        tz = _zone(timezone)
        if self.kind == "rate" and anchor is None:
            anchor = after
            after = after - timedelta(microseconds=1)
        out: list[datetime] = []
        for t in self._times_after(after, tz, anchor):
            if len(out) >= n:
                break
            out.append(t)
        return out

    def fire_times_between(
        self, start: datetime, end: datetime, timezone: str = "UTC", anchor: datetime | None = None
    ) -> list[datetime]:
        """Every fire time t with start < t <= end, as aware datetimes in `timezone`.

        The interval is open at `start` so that consecutive windows (a clock ticking) never fire a time
        twice. rate(): see `anchor` in next_fire_times; without it the times are aligned to whole periods
        since 1970-01-01T00:00Z, so that they do not depend on where a window starts (AWS aligns them to
        the schedule's StartDate or creation: pass `anchor` to match).
        """
        start = _check_aware("start", start)
        end = _check_aware("end", end)
        tz = _zone(timezone)
        if self.kind == "rate" and anchor is None:
            anchor = EPOCH
        out: list[datetime] = []
        for t in self._times_after(start, tz, anchor):
            if t > end:
                break
            out.append(t)
        return out

    # ---- evaluation -----------------------------------------------------------------------------
    def _times_after(self, after: datetime, tz: ZoneInfo, anchor: datetime | None) -> Iterator[datetime]:
        if self.kind == "at":
            assert self.at_time is not None
            # AWS says nothing about an at() time inside a daylight-saving gap or overlap: here a skipped
            # wall-clock time is read with the offset before the change (02:30 becomes 03:30 after a
            # spring-forward at 02:00) and a repeated one as its first occurrence.
            t = self.at_time.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
            if t > after:
                yield t
            return
        if self.kind == "rate":
            # A rate is elapsed time, not wall-clock time: "days represents a 24-hour duration ... When
            # Daylight Saving Time shortens a day to 23 hours, or extends it to 25 hours, the EventBridge
            # Scheduler evaluates the rate expression 24 hours after the schedule's last invocation"
            # (re:Post knowledge center "eventbridge-scheduler-adjust-dst").
            anchor = _check_aware("anchor", anchor)
            step = self.interval
            assert step is not None
            k = max(0, (after - anchor) // step + 1)
            try:
                t = anchor + k * step
                while True:
                    if t > after:
                        yield t.astimezone(tz)
                    t += step
            except OverflowError:
                return  # past the year 9999
        assert self.cron is not None
        day, steady = None, False
        for naive in self.cron.local_times(after.astimezone(tz).replace(tzinfo=None)):
            # "When the time shifts forward in Spring, your schedule invocation gets skipped if the cron
            # expression falls on a non-existent date and time. When the time shifts back in the Fall,
            # your schedule runs only once and doesn't repeat its invocation." (re:Post knowledge center
            # "eventbridge-scheduler-adjust-dst"; User Guide, "Daylight savings time on EventBridge
            # Scheduler"). So: skip wall-clock times that do not exist; fire a repeated wall-clock time
            # once, at its first occurrence (fold=0; AWS does not say which occurrence: the first is
            # the one reached first). A time in the repeated hour that was already fired is below `after`.
            t = naive.replace(tzinfo=tz)
            if naive.date() != day:
                day, steady = naive.date(), _steady_day(tz, naive.date())
            if steady:
                yield t  # one UTC offset all day: wall-clock order is time order, nothing to skip
            elif t.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
                continue  # does not exist on the wall clock (spring forward)
            elif t > after:
                yield t


# ---- public functions -----------------------------------------------------------------------------
def parse_expression(expression: str, parameter: str = "expression") -> Schedule:
    """Parse and validate an EventBridge Scheduler expression.

    Why: AWS rejects a bad expression only when the schedule is created; this names the part that is
    wrong and what it allows before any AWS call. Raises ValidationError(parameter, expression, allowed).
    """
    if not isinstance(expression, str):
        raise ValidationError(parameter, expression, tr("a string: {forms}", forms=EXPRESSION_FORMS))
    if not (expression.isascii() and expression.isprintable()):
        # other scripts' digits pass str.isdigit() (and '²' even fails int()); tabs and newlines split
        # cron fields in Python but not in AWS: expressions are plain ASCII separated by spaces
        raise ValidationError(parameter, expression, tr("printable ASCII text: {forms}", forms=EXPRESSION_FORMS))
    try:
        return _parse(expression)
    except _FieldError as e:
        raise ValidationError(parameter, expression, str(e)) from None


def fire_times_between(
    expression: str, start: datetime, end: datetime, timezone: str = "UTC", anchor: datetime | None = None
) -> list[datetime]:
    """Every fire time t of `expression` with start < t <= end, aware, in `timezone`.

    Why: a clock that advances in steps (the sandbox's scheduler) asks "what fired since the last
    step?"; see Schedule.fire_times_between for the rules.
    """
    return parse_expression(expression).fire_times_between(start, end, timezone, anchor)


class _Random(Protocol):
    def random(self) -> float: ...


def flexible_window(fire_time: datetime, window_minutes: int, rng: _Random) -> datetime:
    """The moment a firing is actually delivered inside a FLEXIBLE window of `window_minutes`.

    Why: with FlexibleTimeWindow Mode FLEXIBLE, Scheduler invokes the target at some time within the
    window that starts at the scheduled time (User Guide, "Configuring flexible time windows"); AWS does
    not publish the distribution, so this draws uniformly from [0, window). 0 means Mode OFF.
    """
    if isinstance(window_minutes, bool) or not isinstance(window_minutes, int) or not 0 <= window_minutes <= 1440:
        raise ValidationError(
            "window_minutes",
            window_minutes,
            tr("a whole number of minutes from 1 to 1440 (MaximumWindowInMinutes), or 0 for Mode OFF"),
        )
    if not isinstance(fire_time, datetime):
        raise ValidationError("fire_time", fire_time, tr("a datetime"))
    if window_minutes == 0:
        return fire_time
    return fire_time + timedelta(minutes=window_minutes * rng.random())


# ---- parsing --------------------------------------------------------------------------------------
_AT = re.compile(r"at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)")
_RATE = re.compile(r"rate\((\S+) (\S+)\)")
_CRON = re.compile(r"cron\((.*)\)", re.DOTALL)


@lru_cache(maxsize=512)
def _parse(expression: str) -> Schedule:
    """Parse one expression (cached: a clock re-reads the same few expressions on every tick)."""
    if expression.startswith("at("):
        m = _AT.fullmatch(expression)
        if not m:
            raise _FieldError(tr("at() takes a date and time as at(yyyy-mm-ddThh:mm:ss), e.g. at(2026-11-29T09:00:00)"))
        try:
            year, month, day, hour, minute, second = map(int, m.groups())
            at_time = datetime(year, month, day, hour, minute, second)
        except ValueError as e:
            raise _FieldError(
                tr("at() needs a real date and time ({error}), e.g. at(2026-11-29T09:00:00)", error=e)
            ) from None
        return Schedule("at", expression, at_time=at_time)
    if expression.startswith("rate("):
        value, unit = _parse_rate(expression)
        return Schedule("rate", expression, rate_value=value, rate_unit=unit)
    if expression.startswith("cron("):
        m = _CRON.fullmatch(expression)
        if not m:
            raise _FieldError(tr("cron(...) must end with ')'"))
        return Schedule("cron", expression, cron=_parse_cron(m.group(1)))
    raise _FieldError(tr("use {forms}, e.g. cron(0 9 ? * MON-FRI *) or rate(5 minutes)", forms=EXPRESSION_FORMS))


def _parse_rate(expression: str) -> tuple[int, str]:
    m = _RATE.fullmatch(expression)
    if not m:
        raise _FieldError(tr("rate() takes a value and a unit separated by one space, e.g. rate(5 minutes)"))
    value, unit = m.groups()
    # AWS documents no maximum; above 10**8 a period outlasts Python's calendar (year 9999)
    if not value.isdigit() or not 1 <= int(value) <= 10**8:
        raise _FieldError(
            tr("rate() value {value}: a positive whole number (up to 10^8), e.g. rate(5 minutes)", value=repr(value))
        )
    n = int(value)
    singular = unit[:-1] if unit.endswith("s") else unit
    if singular not in UNIT_SECONDS:
        raise _FieldError(tr("rate() unit {unit}: minute | minutes | hour | hours | day | days", unit=repr(unit)))
    # "If the value is equal to 1, then the unit must be singular. If the value is greater than 1, the
    # unit must be plural." (EventBridge User Guide, "Rate expressions reference"). The Scheduler guide
    # does not repeat the rule; enforcing it keeps an expression valid for both services.
    if n == 1 and unit != singular:
        raise _FieldError(
            tr(
                "rate() unit {unit}: a value of 1 takes the singular, {example}",
                unit=repr(unit),
                example="rate(1 " + singular + ")",
            )
        )
    if n > 1 and unit == singular:
        raise _FieldError(
            tr(
                "rate() unit {unit}: a value above 1 takes the plural, {example}",
                unit=repr(unit),
                example="rate(" + str(n) + " " + singular + "s)",
            )
        )
    return n, singular


def _parse_cron(body: str) -> CronFields:
    parts = body.split()
    if len(parts) != 6:
        raise _FieldError(
            tr(
                "cron() takes 6 fields separated by spaces (minutes hours day-of-month month day-of-week year); "
                "got {count}",
                count=len(parts),
            )
            + (tr(": add the year field, e.g. '*'") if len(parts) == 5 else "")
        )
    minute, hour, dom, month, dow, year = (p.upper() for p in parts)
    # "You can't specify the Day-of-month and Day-of-week fields in the same cron expression. If you
    # specify a value or a * (asterisk) in one of the fields, you must use a ? (question mark) in the
    # other." (EventBridge User Guide, "Cron expressions reference", Limits)
    if dom == "?" and dow == "?":
        raise _FieldError(
            tr(
                "cron fields 3 (day-of-month) and 5 (day-of-week) are both '?': "
                "use '?' in exactly one of them, e.g. cron(0 9 * * ? *)"
            )
        )
    if dom != "?" and dow != "?":
        raise _FieldError(
            tr(
                "cron fields 3 (day-of-month) {day_of_month} and 5 (day-of-week) {day_of_week}: one of them must "
                "be '?' (AWS cannot combine both day fields), e.g. cron(0 9 ? * MON-FRI *)",
                day_of_month=repr(parts[2]),
                day_of_week=repr(parts[4]),
            )
        )
    return CronFields(
        minutes=_values(0, minute),
        hours=_values(1, hour),
        day_of_month=None if dom == "?" else _day_of_month(dom),
        months=_values(3, month),
        day_of_week=None if dow == "?" else _day_of_week(dow),
        years=_values(5, year),
    )


def _error(index: int, token: str, problem: str) -> _FieldError:
    spec = _FIELDS[index]
    return _FieldError(
        tr(
            "cron field {number} ({name}) {token}: {problem} (allowed: {allowed})",
            number=index + 1,
            name=spec.name,
            token=repr(token),
            problem=problem,
            allowed=spec.allowed(),
        )
    )


def _number(index: int, token: str, text: str) -> int:
    """One value of a field: digits, or a month / weekday name."""
    spec = _FIELDS[index]
    if text in spec.names:
        return spec.low + spec.names.index(text)
    if not text.isdigit():
        raise _error(index, token, tr("{text} is not a value of this field", text=repr(text)))
    n = int(text)
    if not spec.low <= n <= spec.high:
        hint = tr(" (AWS numbers the days SUN=1 ... SAT=7, not 0-6)") if index == 4 and n == 0 else ""
        raise _error(index, token, tr("{value} is outside {low}-{high}", value=n, low=spec.low, high=spec.high) + hint)
    return n


def _values(index: int, text: str, allow_step: bool = True) -> tuple[int, ...]:
    """A field of lists, ranges, '*' and steps, as the sorted set of values it selects."""
    spec = _FIELDS[index]
    chosen: set[int] = set()
    for item in text.split(","):
        if item == "":
            raise _error(index, text, tr("empty entry in a ',' list"))
        base, slash, step_text = item.partition("/")
        if slash and not allow_step:
            raise _error(index, text, tr("'/' is not allowed in this field"))
        if base in ("?", "L") or "#" in base or base.endswith("W"):
            raise _error(index, text, tr("{part} is not allowed here", part=repr(base)))
        if base == "*":
            values = list(range(spec.low, spec.high + 1))
        elif "-" in base:
            first_text, _, last_text = base.partition("-")
            first, last = _number(index, item, first_text), _number(index, item, last_text)
            if first <= last:
                values = list(range(first, last + 1))
            elif index == 5:
                raise _error(index, item, tr("range {first}-{last} runs backwards", first=first, last=last))
            else:
                # A range that wraps past the field's end (22-2 in hours, FRI-MON): Quartz semantics.
                # AWS documents ranges without saying either way.
                values = list(range(first, spec.high + 1)) + list(range(spec.low, last + 1))
        else:
            first = _number(index, item, base)
            # "1/10 ... every tenth minute, starting from the first minute": a start with a step runs
            # to the end of the field.
            values = list(range(first, spec.high + 1)) if slash else [first]
        if slash:
            if not step_text.isdigit() or int(step_text) < 1:
                raise _error(
                    index, item, tr("step {step} after '/' must be a positive whole number", step=repr(step_text))
                )
            values = values[:: int(step_text)]
        chosen.update(values)
    return tuple(sorted(chosen))


def _day_of_month(text: str) -> DayRule:
    if text == "L":
        return DayRule("last")
    if text == "LW":
        return DayRule("last_weekday")
    if text.endswith("W"):
        day = text[:-1]
        if not day.isdigit() or not 1 <= int(day) <= 31:
            raise _error(2, text, tr("W takes one day 1-31 before it, e.g. 15W (the weekday nearest the 15th)"))
        return DayRule("nearest_weekday", (int(day),))
    if "L" in text or "W" in text:
        raise _error(2, text, tr("L, LW and nW stand alone in the field, not in a list or range"))
    return DayRule("values", _values(2, text))


def _day_of_week(text: str) -> DayRule:
    if text == "L":
        # "L ... specifies the last day of the ... week": Saturday (7), as in Quartz, from which AWS's
        # syntax comes.
        return DayRule("values", (7,))
    if "#" in text:
        if "," in text or "-" in text:
            # "If you use a '#' character, you can define only one expression in the day-of-week field.
            # For example, '3#1,6#3' is not valid" (EventBridge User Guide, "Cron expressions reference").
            raise _error(4, text, tr("'#' allows only one expression in the field ('3#1,6#3' is not valid)"))
        day_text, _, nth = text.partition("#")
        day = _number(4, text, day_text)
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise _error(4, text, tr("# takes 1-5 (the 1st to 5th such weekday of the month), e.g. 3#2"))
        return DayRule("nth", (day,), int(nth))
    if text.endswith("L"):
        if "," in text or "-" in text:
            raise _error(4, text, tr("nL (the last such weekday of the month) stands alone in the field"))
        return DayRule("last_of_month", (_number(4, text, text[:-1]),))
    if "L" in text:
        raise _error(4, text, tr("L stands alone (Saturday) or after one day, e.g. 6L (the last Friday)"))
    return DayRule("values", _values(4, text, allow_step=False))


def _weekday(year: int, month: int, day: int) -> int:
    """AWS weekday number of a date: SUN=1 ... SAT=7."""
    return (date(year, month, day).weekday() + 1) % 7 + 1


def _month_days(rule: DayRule, year: int, month: int, length: int) -> list[int]:
    if rule.kind == "values":
        return [d for d in rule.values if d <= length]
    if rule.kind == "last":
        return [length]
    target = length if rule.kind == "last_weekday" else rule.values[0]
    if target > length:
        return []  # 31W in a 30-day month: no such day, no firing
    # The nearest weekday never leaves the month (Quartz: 1W on a Saturday is Monday the 3rd).
    wd = _weekday(year, month, target)
    if wd == 7:  # Saturday
        target = target - 1 if target > 1 else target + 2
    elif wd == 1:  # Sunday
        target = target + 1 if target < length else target - 2
    return [target]


def _week_days(rule: DayRule, year: int, month: int, length: int) -> list[int]:
    first = _weekday(year, month, 1)
    if rule.kind == "values":
        return [d for d in range(1, length + 1) if (first + d - 2) % 7 + 1 in rule.values]
    day = 1 + (rule.values[0] - first) % 7  # first such weekday of the month
    if rule.kind == "nth":
        day += 7 * (rule.nth - 1)
        return [day] if day <= length else []
    return [day + 7 * ((length - day) // 7)]  # last_of_month


def _steady_day(tz: ZoneInfo, day: date) -> bool:
    """Whether `day` keeps one UTC offset from midnight to midnight (no gap, no repeated hour).

    Checking the offsets at both midnights (and both readings of the first) is enough unless a zone
    changed its offset twice in one day and back, which tzdata does not record.
    """
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    offset = start.utcoffset()
    return offset == start.replace(fold=1).utcoffset() == (start + timedelta(days=1)).utcoffset()


# ---- argument checks ------------------------------------------------------------------------------
def _zone(timezone: str, parameter: str = "timezone") -> ZoneInfo:
    return ZoneInfo(check_timezone(parameter, timezone))


def _check_aware(parameter: str, value: object) -> datetime:
    """An aware datetime, in UTC.

    Why UTC: Python compares two datetimes that share a tzinfo by wall clock, ignoring `fold`, which
    would mix up the two passes through a repeated hour; UTC against a zone compares instants.
    """
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValidationError(
            parameter, value, tr("a timezone-aware datetime, e.g. datetime(2026, 1, 1, tzinfo=timezone.utc)")
        )
    return value.astimezone(UTC)


def _check_count(n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValidationError("n", n, tr("a whole number of fire times, 0 or more"))


# ---- descriptions ------------------------------------------------------------------------------
def describe(expression: str, timezone: str | None = None) -> str:
    """One line for an expression in the current language, e.g. 'At 09:00, Monday through Friday (Asia/Tokyo)'
    (Japanese: '毎週月曜日～金曜日の 09:00 (Asia/Tokyo)').

    Why: cron() fields are easy to misread (AWS weekday numbers, `?`, the year field); a sentence beside
    the expression catches the mistake before the schedule fires at the wrong time.
    """
    s = parse_expression(expression)
    if current_language() == "ja":
        text = _describe_ja(s)
    elif s.kind == "at":
        assert s.at_time is not None
        text = f"Once, at {s.at_time.isoformat(sep=' ')}"
    elif s.kind == "rate":
        unit = s.rate_unit if s.rate_value == 1 else f"{s.rate_unit}s"
        text = f"Every {unit}" if s.rate_value == 1 else f"Every {s.rate_value} {unit}"
        text += ", counted from the schedule's start date (or creation)"
    else:
        text = _describe_cron(s.expression)
    return f"{text} ({timezone})" if timezone else text


def _describe_ja(s: Schedule) -> str:
    """The kit's own Japanese (sfnecs.schedule.describe_ja), month and weekday names as AWS's numbers."""
    if s.kind == "at":
        assert s.at_time is not None
        return at_ja(s.at_time)
    if s.kind == "rate":
        return rate_ja(s.rate_value, s.rate_unit)
    minute, hour, dom, month, dow, year = s.expression[len("cron(") : -1].upper().split()
    for i, name in enumerate(MONTHS, start=1):
        month = month.replace(name, str(i))
    return cron_ja(minute, hour, dom, month, _numbered_weekdays(dow), year)


def _numbered_weekdays(dow: str) -> str:
    """A day-of-week field with names as AWS's numbers (SUN=1 ... SAT=7): 6L and FRI#2 then read alike."""
    for i, name in enumerate(WEEKDAYS, start=1):
        dow = dow.replace(name, str(i))
    return dow


def _describe_cron(expression: str) -> str:
    from cron_descriptor import ExpressionDescriptor, Options

    minute, hour, dom, month, dow, year = expression[len("cron(") : -1].upper().split()
    # cron-descriptor reads 1-7 as SUN-SAT with day_of_week_start_index_zero off; names become numbers
    # so that 6L / FRI#2 read alike, and a lone L is Saturday (see _day_of_week).
    dow = _numbered_weekdays(dow)
    dow = "7" if dow == "L" else dow
    # English whatever the machine's locale (cron-descriptor otherwise reads it: a ja_JP machine got its Japanese)
    options = Options(locale_code="en_US")
    options.day_of_week_start_index_zero = False
    options.use_24hour_time_format = True
    # a leading seconds field makes the 7-field form unambiguous (6 fields could be seconds-first)
    return ExpressionDescriptor(f"0 {minute} {hour} {dom} {month} {dow} {year}", options).get_description()

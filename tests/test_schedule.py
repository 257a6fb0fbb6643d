"""Tests for sfnecs.schedule: AWS's documented examples, its rejections, and its daylight-saving rules.

Expected values come from the AWS documentation (EventBridge "Cron expressions reference" and "Rate
expressions reference"; Scheduler "Schedule types"; re:Post "eventbridge-scheduler-adjust-dst") and from
the calendar, never from running the code under test. croniter serves as an independent oracle for the
cron syntax that both understand.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from sfnecs.exceptions import ValidationError
from sfnecs.model import StackSpec
from sfnecs.schedule import Schedule, describe, fire_times_between, flexible_window, parse_expression

NY = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(expression: str, n: int, after: datetime, tz: str = "UTC") -> list[str]:
    """Fire times as wall-clock strings in `tz`, with the UTC offset: easy to compare with a calendar."""
    return [t.strftime("%Y-%m-%d %a %H:%M%z") for t in parse_expression(expression).next_fire_times(n, after, tz)]


# ---- AWS's documented examples are valid and mean what AWS says ------------------------------------
# EventBridge User Guide, "Cron expressions reference", Examples table (times UTC+0).
DOCUMENTED_CRON = [
    ("cron(0 10 * * ? *)", utc(2026, 1, 5, 11), ["2026-01-06 Tue 10:00+0000", "2026-01-07 Wed 10:00+0000"]),
    ("cron(15 12 * * ? *)", utc(2026, 1, 5, 11), ["2026-01-05 Mon 12:15+0000", "2026-01-06 Tue 12:15+0000"]),
    # "Run at 6:00 pm (UTC+0) every Monday through Friday": Friday 2026-01-09, then Monday the 12th
    ("cron(0 18 ? * MON-FRI *)", utc(2026, 1, 9, 12), ["2026-01-09 Fri 18:00+0000", "2026-01-12 Mon 18:00+0000"]),
    ("cron(0 8 1 * ? *)", utc(2026, 1, 5), ["2026-02-01 Sun 08:00+0000", "2026-03-01 Sun 08:00+0000"]),
    ("cron(0/15 * * * ? *)", utc(2026, 1, 5, 9, 50), ["2026-01-05 Mon 10:00+0000", "2026-01-05 Mon 10:15+0000"]),
    # "every 10 minutes Monday through Friday": Friday 23:50, then Monday 00:00
    ("cron(0/10 * ? * MON-FRI *)", utc(2026, 1, 9, 23, 45), ["2026-01-09 Fri 23:50+0000", "2026-01-12 Mon 00:00+0000"]),
    # "every 5 minutes Monday through Friday between 8:00 am and 5:55 pm"
    (
        "cron(0/5 8-17 ? * MON-FRI *)",
        utc(2026, 1, 9, 17, 52),
        ["2026-01-09 Fri 17:55+0000", "2026-01-12 Mon 08:00+0000"],
    ),
    # "Run at 9:00 am (UTC+0) on the first Monday of each month"
    ("cron(0 9 ? * 2#1 *)", utc(2026, 1, 1), ["2026-01-05 Mon 09:00+0000", "2026-02-02 Mon 09:00+0000"]),
]


@pytest.mark.parametrize(("expression", "after", "expected"), DOCUMENTED_CRON)
def test_documented_cron_examples(expression: str, after: datetime, expected: list[str]) -> None:
    assert local(expression, 2, after) == expected


def test_documented_wildcard_examples() -> None:
    # "Wildcards" in the same reference: JAN,FEB,MAR; 1-15; 1/10 (11th, 21st, 31st minute); 3W; 3#2; L
    def fire(expression: str, n: int) -> list[datetime]:
        return parse_expression(expression).next_fire_times(n, utc(2025, 12, 31, 12))

    assert [t.month for t in fire("cron(0 0 1 JAN,FEB,MAR ? *)", 4)] == [1, 2, 3, 1]
    assert [t.day for t in fire("cron(0 0 1-15 * ? *)", 16)] == [*range(1, 16), 1]
    assert [t.minute for t in fire("cron(1/10 * * * ? *)", 7)] == [1, 11, 21, 31, 41, 51, 1]
    # 3#2 = "the second Tuesday of the month" (3 = Tuesday in AWS numbering)
    assert local("cron(0 0 ? * 3#2 *)", 2, utc(2026, 1, 1)) == [
        "2026-01-13 Tue 00:00+0000",
        "2026-02-10 Tue 00:00+0000",
    ]
    # 3W = "the weekday closest to the third day of the month": 2026-01-03 is a Saturday, 2026-05-03 a Sunday
    assert local("cron(0 0 3W * ? *)", 5, utc(2026, 1, 1)) == [
        "2026-01-02 Fri 00:00+0000",
        "2026-02-03 Tue 00:00+0000",
        "2026-03-03 Tue 00:00+0000",
        "2026-04-03 Fri 00:00+0000",
        "2026-05-04 Mon 00:00+0000",
    ]
    assert [t.date() for t in parse_expression("cron(0 0 L * ? *)").next_fire_times(3, utc(2026, 1, 1))] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 hour)",
        "rate(1 day)",  # "Rate expressions reference" examples
        "rate(12 hours)",
        "at(2026-11-29T09:00:00)",
        "cron(0 12 * * ? *)",
        "cron(0 9 ? * mon-fri *)",  # names are case-insensitive
        "cron(0 10 * * ? 2199)",
        "cron(0 10 * * ? 1970-2199/50)",  # the whole documented year range
    ],
)
def test_valid_expressions_parse(expression: str) -> None:
    s = parse_expression(expression)
    assert isinstance(s, Schedule) and s.expression == expression
    assert s.kind == expression.split("(")[0]


def test_schedule_is_frozen_data() -> None:
    s = parse_expression("rate(5 minutes)")
    assert (s.kind, s.rate_value, s.rate_unit, s.interval) == ("rate", 5, "minute", timedelta(minutes=5))
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.rate_value = 6  # type: ignore[misc]
    at = parse_expression("at(2026-11-29T09:00:00)")
    assert at.at_time == datetime(2026, 11, 29, 9) and at.interval is None
    cron = parse_expression("cron(0/20 8-9 ? * 2-6 *)").cron
    assert cron is not None and cron.minutes == (0, 20, 40) and cron.hours == (8, 9)
    assert cron.day_of_month is None and cron.day_of_week is not None and cron.day_of_week.values == (2, 3, 4, 5, 6)


# ---- invalid forms are rejected, naming the field and what it allows ---------------------------------
@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("cron(0 10 * * ?)", "6 fields"),
        ("cron(0 9 * * 1-5)", "add the year field"),  # unix cron
        ("cron(0 10 * * * *)", "one of them must be '?'"),  # "You can't use * in both"
        ("cron(0 10 ? * ? *)", "both '?'"),
        ("cron(60 10 * * ? *)", "cron field 1 (minutes) '60': 60 is outside 0-59"),
        ("cron(0 24 * * ? *)", "cron field 2 (hours) '24'"),
        ("cron(0 10 32 * ? *)", "cron field 3 (day-of-month) '32'"),
        ("cron(0 10 L-3 * ? *)", "cron field 3 (day-of-month)"),
        ("cron(0 10 1W,15 * ? *)", "stand alone"),
        ("cron(0 10 1 13 ? *)", "cron field 4 (month) '13'"),
        ("cron(0 10 1 JANUARY ? *)", "cron field 4 (month)"),
        ("cron(0 10 ? * MON#6 *)", "cron field 5 (day-of-week) 'MON#6': # takes 1-5"),
        ("cron(0 10 ? * 0 *)", "SUN=1 ... SAT=7"),  # unix Sunday
        ("cron(0 10 ? * 3#1,6#3 *)", "'3#1,6#3' is not valid"),  # AWS's own counter-example
        ("cron(0 10 ? * */2 *)", "'/' is not allowed"),  # day-of-week wildcards: , - * ? L #
        ("cron(0 10 ? * W *)", "cron field 5 (day-of-week)"),
        ("cron(0 10 * * ? 1969)", "cron field 6 (year) '1969': 1969 is outside 1970-2199"),
        ("cron(0 10 * * ? 2200)", "1970-2199"),
        ("cron(0 10 * * ? 2027-2026)", "runs backwards"),
        ("cron(0/0 10 * * ? *)", "positive whole number"),
        ("rate(1 minutes)", "singular"),  # "rate(1 hours) and rate(5 hour) are not valid"
        ("rate(5 hour)", "plural"),
        ("rate(0 minutes)", "positive whole number"),
        ("rate(1.5 hours)", "positive whole number"),
        ("rate(100000001 days)", "up to 10^8"),
        ("rate(2 weeks)", "minute | minutes | hour | hours | day | days"),
        ("rate(5minutes)", "rate(5 minutes)"),
        ("at(2026-02-30T09:00:00)", "real date"),
        ("at(2026-11-29 09:00)", "at(yyyy-mm-ddThh:mm:ss)"),
        ("*/5 * * * *", "cron(minutes hours"),
        ("", "rate(value unit)"),
    ],
)
def test_invalid_expressions_name_the_problem(expression: str, says: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_expression(expression, parameter="schedule_expression")
    e = info.value
    assert e.parameter == "schedule_expression" and e.value == expression
    assert says in e.allowed, e.allowed
    assert str(e).startswith(f"schedule_expression={expression!r} is not valid: ")


def test_field_errors_say_what_the_field_allows() -> None:
    with pytest.raises(ValidationError) as info:
        parse_expression("cron(0 10 ? * 8 *)")
    assert "values 1-7 or SUN-SAT, wildcards , - * ? L #" in info.value.allowed
    assert info.value.parameter == "expression"


def test_non_string_expression_is_rejected() -> None:
    with pytest.raises(ValidationError, match="a string"):
        parse_expression(None)  # type: ignore[arg-type]


# ---- AWS-specific day forms, checked against the 2026 calendar -----------------------------------------
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # LW: last weekday. Jan 31 is a Saturday, Feb 28 a Saturday, Mar 31 a Tuesday, May 31 a Sunday.
        ("cron(0 0 LW * ? *)", ["2026-01-30", "2026-02-27", "2026-03-31", "2026-04-30", "2026-05-29"]),
        # 1W never leaves the month: Feb 1 and Mar 1 are Sundays, Aug 1 a Saturday (-> Monday the 3rd)
        ("cron(0 0 1W FEB,MAR,AUG ? *)", ["2026-02-02", "2026-03-02", "2026-08-03", "2027-02-01", "2027-03-01"]),
        # 31W: months without a 31st do not fire; May 31 (Sunday) -> Friday the 29th
        ("cron(0 0 31W * ? *)", ["2026-01-30", "2026-03-31", "2026-05-29", "2026-07-31", "2026-08-31"]),
        # 6L: the last Friday
        ("cron(0 0 ? * 6L *)", ["2026-01-30", "2026-02-27", "2026-03-27", "2026-04-24", "2026-05-29"]),
        ("cron(0 0 ? * FRIL *)", ["2026-01-30", "2026-02-27", "2026-03-27", "2026-04-24", "2026-05-29"]),
        # 5#5: a fifth Thursday, only in months that have one
        ("cron(0 0 ? * 5#5 *)", ["2026-01-29", "2026-04-30", "2026-07-30", "2026-10-29", "2026-12-31"]),
        # L alone in day-of-week: the last day of the week, Saturday
        ("cron(0 0 ? * L *)", ["2026-01-03", "2026-01-10", "2026-01-17", "2026-01-24", "2026-01-31"]),
        # AWS numbering: 1 = Sunday, 7 = Saturday
        ("cron(0 0 ? * 1,7 *)", ["2026-01-03", "2026-01-04", "2026-01-10", "2026-01-11", "2026-01-17"]),
        # a range that wraps past Saturday
        ("cron(0 0 ? * FRI-MON *)", ["2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05", "2026-01-09"]),
        # the year field
        ("cron(0 0 1 1 ? 2028,2030)", ["2028-01-01", "2030-01-01"]),
        ("cron(0 0 29 2 ? *)", ["2028-02-29", "2032-02-29", "2036-02-29", "2040-02-29", "2044-02-29"]),
    ],
)
def test_day_forms(expression: str, expected: list[str]) -> None:
    times = parse_expression(expression).next_fire_times(5, utc(2025, 12, 31, 12))
    assert [t.date().isoformat() for t in times] == expected


def test_a_cron_that_never_fires_ends_instead_of_looping() -> None:
    assert parse_expression("cron(0 0 30 2 ? *)").next_fire_times(3, utc(2026, 1, 1)) == []
    assert parse_expression("cron(0 0 1 1 ? 2025)").next_fire_times(3, utc(2026, 1, 1)) == []


# the same schedules in croniter's syntax (unix day numbers, no year field): an independent evaluator
ORACLE = [
    ("cron(0/7 * * * ? *)", "*/7 * * * *"),
    ("cron(5-50/20 3,9-11 * * ? *)", "5-50/20 3,9-11 * * *"),
    ("cron(0 22-2 ? * MON-FRI *)", "0 22-23,0-2 * * MON-FRI"),
    ("cron(30 8 ? * 2,4,6 *)", "30 8 * * MON,WED,FRI"),
    ("cron(0 12 1/3 JAN-JUN ? *)", "0 12 1/3 1-6 *"),
    ("cron(15 6 L * ? *)", "15 6 L * *"),
    ("cron(15 6 15W * ? *)", "15 6 15W * *"),
    ("cron(0 9 ? * 3#2 *)", "0 9 * * TUE#2"),
    ("cron(0 9 ? * 6L *)", "0 9 * * L5"),
]


@pytest.mark.parametrize(("aws", "unix"), ORACLE)
def test_cron_agrees_with_croniter(aws: str, unix: str) -> None:
    after = datetime(2026, 1, 1)
    it = croniter(unix, after)
    expected = [it.get_next(datetime) for _ in range(300)]
    got = parse_expression(aws).next_fire_times(300, after.replace(tzinfo=UTC))
    assert [t.replace(tzinfo=None) for t in got] == expected


# ---- time zones and daylight saving time -------------------------------------------------------------
def test_tokyo_has_no_dst() -> None:
    times = parse_expression("cron(0 9 * * ? *)").next_fire_times(400, utc(2026, 1, 1), "Asia/Tokyo")
    assert all(t.tzinfo == TOKYO and t.hour == 9 for t in times)
    assert {t.astimezone(UTC).hour for t in times} == {0}  # 09:00 JST is always 00:00 UTC
    assert all(b - a == timedelta(days=1) for a, b in zip(times, times[1:], strict=False))


def test_spring_forward_skips_a_time_that_does_not_exist() -> None:
    # 2026-03-08 02:00 EST jumps to 03:00 EDT: 02:30 does not exist that day. AWS: "your schedule
    # invocation gets skipped if the cron expression falls on a non-existent date and time".
    assert local("cron(30 2 * * ? *)", 3, utc(2026, 3, 7), "America/New_York") == [
        "2026-03-07 Sat 02:30-0500",
        "2026-03-09 Mon 02:30-0400",
        "2026-03-10 Tue 02:30-0400",
    ]


def test_fall_back_runs_a_repeated_time_once() -> None:
    # 2026-11-01 02:00 EDT falls back to 01:00 EST: 01:30 happens twice. AWS: "your schedule runs only
    # once and doesn't repeat its invocation".
    times = parse_expression("cron(30 1 * * ? *)").next_fire_times(3, utc(2026, 10, 31, 12), "America/New_York")
    assert [t.isoformat() for t in times] == [
        "2026-11-01T01:30:00-04:00",
        "2026-11-02T01:30:00-05:00",
        "2026-11-03T01:30:00-05:00",
    ]
    assert times[1].astimezone(UTC) - times[0].astimezone(UTC) == timedelta(hours=25)


def test_fall_back_every_quarter_hour_does_not_repeat_the_hour() -> None:
    times = fire_times_between(
        "cron(0/15 * * * ? *)", utc(2026, 11, 1, 4, 50), utc(2026, 11, 1, 7, 20), "America/New_York"
    )
    assert [t.strftime("%H:%M%z") for t in times] == [
        "01:00-0400",
        "01:15-0400",
        "01:30-0400",
        "01:45-0400",
        "02:00-0500",
        "02:15-0500",
    ]
    # asked from inside the repeated hour (01:10 EST, after 01:10 EDT already fired), nothing repeats
    second_pass = datetime(2026, 11, 1, 1, 10, tzinfo=NY, fold=1)
    assert local("cron(0/15 * * * ? *)", 1, second_pass, "America/New_York") == ["2026-11-01 Sun 02:00-0500"]


def test_a_year_of_minutes_in_london() -> None:
    times = fire_times_between("cron(* * * * ? *)", utc(2026, 1, 1), utc(2027, 1, 1), "Europe/London")
    # 525,600 minutes, less the hour skipped on 2026-03-29; the repeated hour of 2026-10-25 fires once
    assert len(times) == 525_600 - 60
    assert len({t.astimezone(UTC) for t in times}) == len(times)


def test_rate_is_elapsed_time_across_dst() -> None:
    # re:Post "eventbridge-scheduler-adjust-dst": days are 24-hour durations, evaluated "24 hours after
    # the schedule's last invocation", so the local hour moves by one across the change.
    times = parse_expression("rate(1 day)").next_fire_times(3, datetime(2026, 3, 7, 12, tzinfo=NY), "America/New_York")
    assert [t.isoformat() for t in times] == [
        "2026-03-07T12:00:00-05:00",
        "2026-03-08T13:00:00-04:00",
        "2026-03-09T13:00:00-04:00",
    ]


def test_rate_starts_at_its_anchor() -> None:
    s = parse_expression("rate(5 minutes)")
    created = utc(2026, 1, 1, 10, 0, 27)
    # no anchor: `after` is the creation time and AWS starts invoking immediately
    assert s.next_fire_times(2, created) == [created, created + timedelta(minutes=5)]
    # with an anchor (StartDate): strictly after `after`, on the anchor's grid
    assert s.next_fire_times(2, utc(2026, 1, 1, 10, 5, 27), anchor=created) == [
        utc(2026, 1, 1, 10, 10, 27),
        utc(2026, 1, 1, 10, 15, 27),
    ]
    assert s.next_fire_times(1, utc(2025, 1, 1), anchor=created) == [created]


def test_at_fires_once_in_its_time_zone() -> None:
    s = parse_expression("at(2026-11-29T09:00:00)")
    assert s.next_fire_times(3, utc(2026, 1, 1), "Asia/Tokyo") == [datetime(2026, 11, 29, 9, tzinfo=TOKYO)]
    assert s.next_fire_times(3, utc(2026, 11, 29, 0), "Asia/Tokyo") == []  # 09:00 JST is 00:00 UTC: not after
    assert s.next_fire_times(3, utc(2026, 11, 29, 0), "UTC") == [utc(2026, 11, 29, 9)]


def test_at_inside_a_spring_forward_gap() -> None:
    # AWS is silent; the module documents its choice: the wall-clock reading with the pre-change offset
    [t] = parse_expression("at(2026-03-08T02:30:00)").next_fire_times(1, utc(2026, 1, 1), "America/New_York")
    assert t.isoformat() == "2026-03-08T03:30:00-04:00"


# ---- fire_times_between: the scheduler clock's view --------------------------------------------------
def test_between_is_open_at_start_and_closed_at_end() -> None:
    times = fire_times_between("cron(0/5 * * * ? *)", utc(2026, 1, 1, 10), utc(2026, 1, 1, 10, 15))
    assert times == [utc(2026, 1, 1, 10, 5), utc(2026, 1, 1, 10, 10), utc(2026, 1, 1, 10, 15)]
    assert fire_times_between("cron(0/5 * * * ? *)", utc(2026, 1, 1, 10), utc(2026, 1, 1, 9)) == []


def test_consecutive_windows_fire_each_time_once() -> None:
    start, end = utc(2026, 3, 7, 12), utc(2026, 3, 9, 12)
    whole = fire_times_between("cron(0/5 * * * ? *)", start, end, "America/New_York")
    ticks = [start + timedelta(seconds=97 * i) for i in range(int((end - start).total_seconds() // 97) + 2)]
    pieces = [
        t
        for a, b in zip(ticks, ticks[1:], strict=False)
        for t in fire_times_between("cron(0/5 * * * ? *)", a, min(b, end), "America/New_York")
    ]
    assert pieces == whole and len(whole) == 48 * 12


def test_between_rate_without_anchor_is_aligned_to_the_epoch() -> None:
    times = fire_times_between("rate(10 minutes)", utc(2026, 1, 1, 10, 3), utc(2026, 1, 1, 10, 40))
    assert times == [utc(2026, 1, 1, 10, 10), utc(2026, 1, 1, 10, 20), utc(2026, 1, 1, 10, 30), utc(2026, 1, 1, 10, 40)]
    anchored = fire_times_between(
        "rate(10 minutes)", utc(2026, 1, 1, 10, 3), utc(2026, 1, 1, 10, 40), anchor=utc(2026, 1, 1, 10, 2, 30)
    )
    assert anchored == [utc(2026, 1, 1, 10, 12, 30), utc(2026, 1, 1, 10, 22, 30), utc(2026, 1, 1, 10, 32, 30)]


def test_between_at() -> None:
    at = "at(2026-01-01T10:00:00)"
    assert fire_times_between(at, utc(2026, 1, 1, 9), utc(2026, 1, 1, 11)) == [utc(2026, 1, 1, 10)]
    assert fire_times_between(at, utc(2026, 1, 1, 10), utc(2026, 1, 1, 11)) == []


def test_times_are_aware_in_the_requested_zone() -> None:
    [t] = fire_times_between("cron(0 0 * * ? *)", utc(2026, 6, 1), utc(2026, 6, 2), "America/New_York")
    assert t.tzinfo == NY and t.isoformat() == "2026-06-01T00:00:00-04:00"  # 04:00 UTC


DAILY = parse_expression("cron(0 9 * * ? *)")


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda: DAILY.next_fire_times(1, datetime(2026, 1, 1)), "after"),
        (lambda: DAILY.next_fire_times(1, utc(2026, 1, 1), "Mars/Olympus"), "timezone"),
        (lambda: DAILY.next_fire_times(-1, utc(2026, 1, 1)), "n"),
        (lambda: DAILY.fire_times_between(utc(2026, 1, 1), datetime(2026, 1, 2)), "end"),
        (
            lambda: fire_times_between("rate(1 hour)", utc(2026, 1, 1), utc(2026, 1, 2), anchor=datetime(2026, 1, 1)),
            "anchor",
        ),
        (lambda: fire_times_between("rate(1 hours)", utc(2026, 1, 1), utc(2026, 1, 2)), "expression"),
    ],
)
def test_bad_arguments_are_named(call, parameter: str) -> None:
    with pytest.raises(ValidationError) as info:
        call()
    assert info.value.parameter == parameter


# ---- flexible windows --------------------------------------------------------------------------------
def test_flexible_window_off_is_the_fire_time() -> None:
    t = utc(2026, 1, 1, 9)
    assert flexible_window(t, 0, random.Random(1)) == t


def test_flexible_window_is_uniform_inside_the_window() -> None:
    t = utc(2026, 1, 1, 9)
    rng = random.Random(42)
    offsets = [(flexible_window(t, 15, rng) - t).total_seconds() for _ in range(4000)]
    assert min(offsets) >= 0 and max(offsets) < 15 * 60
    assert abs(sum(offsets) / len(offsets) - 450) < 20  # mean of U[0, 900) s is 450 s
    assert sum(o < 450 for o in offsets) == pytest.approx(2000, abs=150)
    # the same seed gives the same times (notebooks and the sandbox replay deterministically)
    assert flexible_window(t, 15, random.Random(7)) == flexible_window(t, 15, random.Random(7))


@pytest.mark.parametrize("window", [-1, 1441, 2.5, True, "15"])
def test_flexible_window_rejects_bad_windows(window: object) -> None:
    with pytest.raises(ValidationError) as info:
        flexible_window(utc(2026, 1, 1), window, random.Random(0))  # type: ignore[arg-type]
    assert info.value.parameter == "window_minutes" and "1 to 1440" in info.value.allowed


# ---- descriptions ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0 10 * * ? *)", "At 10:00"),
        ("cron(0 18 ? * MON-FRI *)", "At 18:00, Monday through Friday"),
        ("cron(0/5 8-17 ? * MON-FRI *)", "Every 5 minutes, between 08:00 and 17:59, Monday through Friday"),
        ("cron(0 9 ? * 2#1 *)", "At 09:00, on the first Monday of the month"),  # AWS 2 = Monday
        ("cron(0 9 ? * 2-6 *)", "At 09:00, Monday through Friday"),
        ("cron(0 9 ? * 6L *)", "At 09:00, on the last Friday of the month"),
        ("cron(0 9 ? * L *)", "At 09:00, only on Saturday"),
        ("cron(0 9 LW * ? *)", "At 09:00, on the last weekday of the month"),
        ("cron(0 9 1 1 ? 2150)", "At 09:00, on day 1 of the month, only in January, only in 2150"),
        ("rate(1 hour)", "Every hour, counted from the schedule's start date (or creation)"),
        ("rate(5 minutes)", "Every 5 minutes, counted from the schedule's start date (or creation)"),
        ("at(2026-11-29T09:00:00)", "Once, at 2026-11-29 09:00:00"),
    ],
)
def test_describe(expression: str, expected: str) -> None:
    assert describe(expression) == expected
    assert parse_expression(expression).description == expected


def test_describe_stays_english_on_a_machine_with_another_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails when cron-descriptor's locale autodetection leaks the machine's language into the sentence."""
    import locale

    monkeypatch.setattr(locale, "getlocale", lambda *_: ("ja_JP", "UTF-8"))
    assert describe("cron(0 9 ? * MON-FRI *)") == "At 09:00, Monday through Friday"


def test_describe_names_the_time_zone_and_rejects_bad_input() -> None:
    assert describe("cron(0 9 * * ? *)", "Asia/Tokyo") == "At 09:00 (Asia/Tokyo)"
    with pytest.raises(ValidationError):
        describe("cron(0 9 * * * *)")


# ---- the stack description validates its schedule here -------------------------------------------------
def test_stackspec_accepts_a_valid_schedule() -> None:
    spec = StackSpec(name="demo", schedule_expression="cron(0 9 * * ? *)")
    assert spec.schedule_expression == "cron(0 9 * * ? *)"


def test_stackspec_rejects_a_bad_schedule_naming_the_parameter() -> None:
    with pytest.raises(ValidationError) as info:
        StackSpec(name="demo", schedule_expression="cron(0 9 * * *)")
    assert info.value.parameter == "schedule_expression"
    assert "6 fields" in info.value.allowed


# ---- fire_table and misfires: the lesson's views ---------------------------------------------------------
def test_fire_table_shows_elapsed_hours_across_dst() -> None:
    from sfnecs.schedule import fire_table

    # 2027-03-14 02:30 does not exist in New York: skipped, so Saturday -> Monday is 47 elapsed hours
    table = fire_table("cron(30 2 * * ? *)", 3, utc(2027, 3, 12, 12), "America/New_York")
    assert table.to_dict("records") == [
        {
            "local": "2027-03-13 02:30",
            "day": "Sat",
            "zone": "EST",
            "UTC": "2027-03-13 07:30",
            "hours since previous": "",
        },
        {
            "local": "2027-03-15 02:30",
            "day": "Mon",
            "zone": "EDT",
            "UTC": "2027-03-15 06:30",
            "hours since previous": "47",
        },
        {
            "local": "2027-03-16 02:30",
            "day": "Tue",
            "zone": "EDT",
            "UTC": "2027-03-16 06:30",
            "hours since previous": "24",
        },
    ]
    # rate(1 day) is 24 elapsed hours even when the local time moves
    rate = fire_table("rate(1 day)", 3, utc(2027, 3, 13, 17), "America/New_York")
    assert list(rate["local"]) == ["2027-03-13 12:00", "2027-03-14 13:00", "2027-03-15 13:00"]
    assert list(rate["hours since previous"]) == ["", "24", "24"]


def test_misfires_is_empty_for_an_expression_that_does_what_is_wanted() -> None:
    from sfnecs.schedule import misfires

    assert (
        misfires(
            "cron(45 6 ? * MON-FRI *)", "America/New_York", at="06:45", days="MON-FRI", start=utc(2027, 3, 1), weeks=12
        )
        == []
    )
    # Tokyo keeps one offset all year, so a UTC cron can stand in for it
    assert misfires("cron(30 17 * * ? *)", "UTC", at="02:30", zone="Asia/Tokyo", start=utc(2027, 1, 1), weeks=52) == []


def test_misfires_names_the_dst_hour_and_the_weekday_numbering() -> None:
    from sfnecs.schedule import misfires

    # a UTC cron written for New York winter time is an hour late from the spring change on
    late = misfires(
        "cron(45 11 ? * MON-FRI *)",
        "UTC",
        at="06:45",
        days="MON-FRI",
        zone="America/New_York",
        start=utc(2027, 3, 1),
        weeks=3,
    )
    assert late[:2] == ["misses Mon 2027-03-15 06:45 EDT", "fires Mon 2027-03-15 07:45 EDT, which is not wanted"]
    assert late[-1] == "... and 4 more"
    # unix-style 1-5 means SUN-THU in AWS
    shifted = misfires(
        "cron(45 6 ? * 1-5 *)", "America/New_York", at="06:45", days="MON-FRI", start=utc(2027, 3, 1), weeks=1
    )
    assert shifted == ["misses Fri 2027-03-05 06:45 EST", "fires Sun 2027-03-07 06:45 EST, which is not wanted"]


def test_misfires_days_wrap_and_a_time_that_does_not_exist_is_not_wanted() -> None:
    from sfnecs.schedule import misfires

    assert misfires("cron(0 9 ? * FRI-MON *)", "UTC", at="09:00", days="FRI-MON", start=utc(2027, 1, 1)) == []
    # 02:30 on 2027-03-14 does not exist in New York; AWS skips it and nobody can want it
    assert misfires("cron(30 2 * * ? *)", "America/New_York", at="02:30", start=utc(2027, 3, 10), weeks=1) == []


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"at": "6:45"}, "at"),
        ({"at": "24:00"}, "at"),
        ({"at": "06:45", "days": "MON-FRY"}, "days"),
        ({"at": "06:45", "days": ""}, "days"),
        ({"at": "06:45", "weeks": 0}, "weeks"),
        ({"at": "06:45", "zone": "Mars/Olympus"}, "zone"),
        ({"at": "06:45", "zone": "A" * 300}, "zone"),  # too long for a file name: OSError in zoneinfo
    ],
)
def test_misfires_names_a_bad_argument(kwargs: dict, parameter: str) -> None:
    from sfnecs.schedule import misfires

    with pytest.raises(ValidationError, match=f"{parameter}="):
        misfires("cron(45 6 * * ? *)", "UTC", start=utc(2027, 1, 1), **kwargs)

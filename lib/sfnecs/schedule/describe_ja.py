"""The kit's own Japanese for EventBridge Scheduler expressions: `cron()`, `rate()` and `at()` in one line.

Why the kit's own wording: cron-descriptor's Japanese reads as a word-for-word rendering of its English
("月曜日から金曜日まで、09:00 に"), misses AWS's `#`/`LW` forms, and numbers weekdays as unix cron does.
These functions are pure: `sfnecs.schedule.expressions.describe` validates the expression, turns month
and weekday names into AWS's numbers (JAN=1, SUN=1 ... SAT=7) and calls them when the language is Japanese.

Field syntax follows EventBridge Scheduler User Guide, "Schedule types on EventBridge Scheduler"
(https://docs.aws.amazon.com/ja_jp/scheduler/latest/UserGuide/schedule-types.html): wildcards `, - * /`
in every field but day-of-week, `? L W` in day-of-month, `? L #` in day-of-week. Numbers stand apart
from Japanese words by a space, as AWS's Japanese pages write them ("5 分", "1 日").
"""

from __future__ import annotations

import re
from datetime import datetime

__all__ = ["at_ja", "cron_ja", "rate_ja"]

#: AWS's day-of-week numbers 1-7 (SUN=1 ... SAT=7), in Japanese
WEEKDAYS_JA = ("日曜日", "月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日")
#: rate() units (singular, as sfnecs.schedule parses them)
UNITS_JA = {"minute": "分", "hour": "時間", "day": "日"}
#: how many explicit times are listed before the description switches to a phrase
_MAX_LISTED = 6


def rate_ja(value: int, unit: str) -> str:
    """'6 時間ごと (...)' for rate(6 hours): elapsed time from the schedule's start, not the wall clock."""
    return f"{value} {UNITS_JA[unit]}ごと (スケジュールの開始日時、なければ作成時から数えて)"


def at_ja(when: datetime) -> str:
    """'2027-04-01 09:00:00 に 1 回だけ' for at(2027-04-01T09:00:00)."""
    return f"{when.isoformat(sep=' ')} に 1 回だけ"


def cron_ja(minute: str, hour: str, dom: str, month: str, dow: str, year: str) -> str:
    """One line of Japanese for a valid cron()'s six fields (upper case, names already AWS numbers)."""
    when = _period(dom, month, dow, year)
    times = _listed_times(minute, hour)
    if times:
        text = f"{when} {times}" if when.endswith("毎日") else f"{when}の {times}"
    elif when == "毎日":
        text = _time_phrase(minute, hour) if hour == "*" else f"{when} {_time_phrase(minute, hour)}"
    else:
        text = f"{when}、{_time_phrase(minute, hour)}"
    return _SPACED.sub(r"\1 \2", text)


#: a Japanese character directly before a number (AWS's Japanese pages put a space there)
_SPACED = re.compile(r"([\u3040-\u30ff\u4e00-\u9fff])(\d)")


# ---- one field ----------------------------------------------------------------------------------
def _items(text: str, unit: str, step_unit: str, low: int, every: str = "") -> str:
    """A field's ',' list in Japanese: '1 日、15 日', '1～15 日', '1 日から 5 日ごと'; `every` follows a
    range without a step ('の毎分': each minute of 0-29)."""
    out = []
    for item in text.split(","):
        base, slash, step = item.partition("/")
        first, dash, last = (str(low), "", "") if base == "*" else base.partition("-")
        span = f"{int(first)}～{int(last)}{unit}" if dash else f"{int(first)}{unit}"
        if slash:
            out.append(f"{span}{'の間' if dash else 'から'} {step}{step_unit}ごと")
        else:
            out.append(f"{span}{every}" if dash else span)
    return "、".join(out)


def _values(text: str, low: int, high: int) -> list[int]:
    """The values a minutes or hours field selects (validated already; a range may wrap, e.g. 22-2)."""
    chosen: set[int] = set()
    for item in text.split(","):
        base, slash, step = item.partition("/")
        first, dash, last = base.partition("-")
        if base == "*":
            values = list(range(low, high + 1))
        elif dash:
            a, b = int(first), int(last)
            values = list(range(a, b + 1)) if a <= b else list(range(a, high + 1)) + list(range(low, b + 1))
        else:
            values = list(range(int(first), high + 1)) if slash else [int(first)]
        chosen.update(values[:: int(step)] if slash else values)
    return sorted(chosen)


# ---- the days ------------------------------------------------------------------------------------
def _weekday(n: str) -> str:
    return WEEKDAYS_JA[int(n) - 1]


def _period(dom: str, month: str, dow: str, year: str) -> str:
    """Which days: '毎日', '毎週月曜日～金曜日', '毎月末日', '1～3 月の 1 日', with the years in front."""
    months = "" if month == "*" else _items(month, " 月", " か月", 1)
    if dom == "?" and dow != "*":
        days = _weekdays(dow, months)
    elif dom in ("*", "?"):
        days = f"{months}の毎日" if months else "毎日"
    else:
        days = _month_days(dom, months)
    years = "" if year == "*" else _items(year, " 年", " 年", 1970) + "の"
    return f"{years}{days}"


def _weekdays(dow: str, months: str) -> str:
    every_month = f"{months}の" if months else "毎月"
    if dow == "L":
        return f"{months}の毎週土曜日" if months else "毎週土曜日"  # a lone L is the week's last day, Saturday
    if "#" in dow:
        day, _, nth = dow.partition("#")
        return f"{every_month}第 {nth} {_weekday(day)}"
    if dow.endswith("L"):
        return f"{every_month}最終{_weekday(dow[:-1])}"
    names = "、".join("～".join(_weekday(n) for n in item.split("-")) for item in dow.split(","))
    return f"{months}の毎週{names}" if months else f"毎週{names}"


def _month_days(dom: str, months: str) -> str:
    every_month = f"{months}の" if months else "毎月"
    if dom == "L":
        return f"{months}の末日" if months else "毎月末日"
    if dom == "LW":
        return f"{every_month}最終平日"
    if dom.endswith("W"):
        return f"{every_month} {dom[:-1]} 日に最も近い平日"
    return f"{every_month} {_items(dom, ' 日', ' 日', 1)}"


# ---- the time of day -----------------------------------------------------------------------------
def _listed_times(minute: str, hour: str) -> str:
    """'09:00' or '09:00、09:30' when the day has at most a few fire times, else ''."""
    minutes, hours = _values(minute, 0, 59), _values(hour, 0, 23)
    if len(minutes) * len(hours) > _MAX_LISTED:
        return ""
    return "、".join(f"{h:02d}:{m:02d}" for h in hours for m in minutes)


def _time_phrase(minute: str, hour: str) -> str:
    """'08:00～17:59 の間、15 分ごと', '毎時 30 分', '毎分' for a day with many fire times."""
    minutes = _minute_phrase(minute)
    if hour == "*":
        return minutes
    if "," not in hour and "/" not in hour and "-" in hour:
        first, _, last = hour.partition("-")
        return f"{int(first):02d}:00～{int(last):02d}:59 の間、{minutes}"
    base, slash, step = hour.partition("/")
    if minute.isdigit() and slash and "," not in hour and "-" not in base:
        start = 0 if base == "*" else int(base)
        return f"{start:02d}:{int(minute):02d} から {step} 時間ごと"
    hours = _items(hour, " 時", " 時間", 0)
    if minute.isdigit():
        return f"{hours}の {int(minute)} 分"
    return f"{hours}の各時台、{minutes}" if "/" in hour else f"{hours}台の{minutes.removeprefix('毎時 ')}"


def _minute_phrase(minute: str) -> str:
    """'毎分', '15 分ごと' (0/15: from the hour), '毎時 5 分から 15 分ごと', '毎時 0 分、30 分'."""
    if minute == "*":
        return "毎分"
    if "," not in minute and minute.split("/")[0] in ("0", "*") and "/" in minute:
        return f"{minute.split('/')[1]} 分ごと"
    return "毎時 " + _items(minute, " 分", " 分", 0, every="の毎分")

"""The kit's Japanese for schedule expressions (sfnecs.schedule.describe_ja) and the schedule tables in Japanese.

The table covers every field feature AWS documents for cron() in EventBridge Scheduler ("Schedule types
on EventBridge Scheduler", https://docs.aws.amazon.com/ja_jp/scheduler/latest/UserGuide/schedule-types.html:
six fields; `,` `-` `*` `/` in every field, `?` `L` `W` in day-of-month, `?` `L` `#` in day-of-week; month
and weekday names), rate() units, and at(). The expected Japanese is written by hand from the calendar
meaning of each expression, never produced by running the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sfnecs.exceptions import ValidationError
from sfnecs.i18n import localize, use_language
from sfnecs.schedule import describe, fire_table, misfires

JAPANESE = [
    # a single time, every day (AWS: "cron(0 10 * * ? *)  Run at 10:00 am (UTC+0) every day")
    ("cron(0 10 * * ? *)", "毎日 10:00"),
    ("cron(15 12 * * ? *)", "毎日 12:15"),
    ("cron(30 2 ? * * *)", "毎日 02:30"),  # '*' in day-of-week, '?' in day-of-month: also every day
    # day-of-week: names, a range, AWS numbers (SUN=1: 2-6 is Monday to Friday, 1-5 Sunday to Thursday)
    ("cron(0 18 ? * MON-FRI *)", "毎週月曜日～金曜日の 18:00"),
    ("cron(0 9 ? * 2-6 *)", "毎週月曜日～金曜日の 09:00"),
    ("cron(0 9 ? * 1-5 *)", "毎週日曜日～木曜日の 09:00"),
    ("cron(0 9 ? * mon-fri *)", "毎週月曜日～金曜日の 09:00"),  # names in any case
    ("cron(0 9 ? * FRI-MON *)", "毎週金曜日～月曜日の 09:00"),  # a range that wraps past Saturday
    ("cron(0,30 9 ? * MON,WED,FRI *)", "毎週月曜日、水曜日、金曜日の 09:00、09:30"),  # lists in two fields
    # day-of-week L and #: the last day of the week, the last Friday, the first Monday, the second Friday
    ("cron(0 9 ? * L *)", "毎週土曜日の 09:00"),
    ("cron(0 9 ? * 6L *)", "毎月最終金曜日の 09:00"),
    ("cron(0 9 ? * 2#1 *)", "毎月第 1 月曜日の 09:00"),
    ("cron(0 9 ? * FRI#2 *)", "毎月第 2 金曜日の 09:00"),
    # day-of-month: a value, a list, a range, a step, L, LW, nW
    ("cron(0 8 1 * ? *)", "毎月 1 日の 08:00"),
    ("cron(0 8 1,15 * ? *)", "毎月 1 日、15 日の 08:00"),
    ("cron(0 8 1-7 * ? *)", "毎月 1～7 日の 08:00"),
    ("cron(0 9 1/5 * ? *)", "毎月 1 日から 5 日ごとの 09:00"),
    ("cron(0 9 */5 * ? *)", "毎月 1 日から 5 日ごとの 09:00"),
    ("cron(0 18 L * ? *)", "毎月末日の 18:00"),
    ("cron(0 9 LW * ? *)", "毎月最終平日の 09:00"),
    ("cron(0 9 15W * ? *)", "毎月 15 日に最も近い平日の 09:00"),
    # month: names, a range, a list, a step
    ("cron(0 9 1,15 JAN-MAR ? *)", "1～3 月の 1 日、15 日の 09:00"),
    ("cron(0 9 * 4,10 ? *)", "4 月、10 月の毎日 09:00"),
    ("cron(0 9 L 1/3 ? *)", "1 月から 3 か月ごとの末日の 09:00"),
    ("cron(0 9 ? DEC 6L *)", "12 月の最終金曜日の 09:00"),
    # year: a value, a range, a step
    ("cron(0 9 ? * MON-FRI 2027)", "2027 年の毎週月曜日～金曜日の 09:00"),
    ("cron(15 10 ? * 6L 2027-2028)", "2027～2028 年の毎月最終金曜日の 10:15"),
    ("cron(0 9 1 1 ? 2027/2)", "2027 年から 2 年ごとの 1 月の 1 日の 09:00"),
    ("cron(0 9 1 1 ? 2027,2029)", "2027 年、2029 年の 1 月の 1 日の 09:00"),
    # minutes and hours: '*', steps from the hour and from a minute, ranges, lists, many times a day
    ("cron(* * * * ? *)", "毎分"),
    ("cron(0/15 * * * ? *)", "15 分ごと"),
    ("cron(*/10 * * * ? *)", "10 分ごと"),
    ("cron(5/15 * * * ? *)", "毎時 5 分から 15 分ごと"),
    ("cron(30 * * * ? *)", "毎時 30 分"),
    ("cron(0-29 * * * ? *)", "毎時 0～29 分の毎分"),
    ("cron(* 9 * * ? *)", "毎日 9 時台の毎分"),
    ("cron(0/10 * ? * MON-FRI *)", "毎週月曜日～金曜日、10 分ごと"),
    ("cron(0/5 8-17 ? * MON-FRI *)", "毎週月曜日～金曜日、08:00～17:59 の間、5 分ごと"),
    ("cron(0 8-17 * * ? *)", "毎日 08:00～17:59 の間、毎時 0 分"),
    ("cron(0 0/6 * * ? *)", "毎日 00:00、06:00、12:00、18:00"),  # few times a day: listed
    ("cron(15 1/5 * * ? *)", "毎日 01:15、06:15、11:15、16:15、21:15"),
    ("cron(0 0/2 * * ? *)", "毎日 00:00 から 2 時間ごと"),  # twelve a day: a phrase
    ("cron(0 1,3,5,7,9,11,13 * * ? *)", "毎日 1 時、3 時、5 時、7 時、9 時、11 時、13 時の 0 分"),
    ("cron(0 22-2 ? * * *)", "毎日 00:00、01:00、02:00、22:00、23:00"),  # an hour range that wraps midnight
    # rate(): minutes, hours, days, singular and plural (elapsed time from the start, not the wall clock)
    ("rate(1 minute)", "1 分ごと (スケジュールの開始日時、なければ作成時から数えて)"),
    ("rate(5 minutes)", "5 分ごと (スケジュールの開始日時、なければ作成時から数えて)"),
    ("rate(1 hour)", "1 時間ごと (スケジュールの開始日時、なければ作成時から数えて)"),
    ("rate(6 hours)", "6 時間ごと (スケジュールの開始日時、なければ作成時から数えて)"),
    ("rate(1 day)", "1 日ごと (スケジュールの開始日時、なければ作成時から数えて)"),
    ("rate(7 days)", "7 日ごと (スケジュールの開始日時、なければ作成時から数えて)"),
    # at(): one time
    ("at(2027-04-01T09:00:00)", "2027-04-01 09:00:00 に 1 回だけ"),
]


@pytest.mark.parametrize(("expression", "japanese"), JAPANESE)
def test_each_expression_reads_in_the_kits_japanese(expression: str, japanese: str) -> None:
    with use_language("ja"):
        assert describe(expression) == japanese


def test_every_documented_cron_wildcard_is_in_the_table() -> None:
    crons = [e[len("cron(") : -1].split() for e, _ in JAPANESE if e.startswith("cron(")]
    for index, wildcards in enumerate([", - * /", ", - * /", ", - * ? / L W", ", - * /", ", - * ? L #", ", - * /"]):
        seen = "".join(fields[index] for fields in crons)
        assert all(w in seen for w in wildcards.split()), (index, wildcards)
    assert any(f[2] == "LW" for f in crons) and any(f[4].endswith("L") and f[4] != "L" for f in crons)
    assert {"minute", "minutes", "hour", "hours", "day", "days"} == {
        e.split()[1][:-1] for e, _ in JAPANESE if e.startswith("rate(")
    }


def test_the_time_zone_follows_the_description_and_english_stays_the_default() -> None:
    with use_language("ja"):
        assert describe("cron(0 9 ? * MON-FRI *)", "Asia/Tokyo") == "毎週月曜日～金曜日の 09:00 (Asia/Tokyo)"
    assert describe("cron(0 9 ? * MON-FRI *)") == "At 09:00, Monday through Friday"
    with use_language("en"):
        assert describe("rate(6 hours)").startswith("Every 6 hours")


def test_a_bad_expression_is_refused_in_japanese_too() -> None:
    with use_language("ja"), pytest.raises(ValidationError) as err:
        describe("cron(0 9 ? * 0-4 *)")
    assert err.value.parameter == "expression"


def test_the_fire_table_shows_japanese_headers_and_weekdays_and_keeps_its_english_data() -> None:
    table = fire_table("cron(30 2 * * ? *)", 2, datetime(2027, 3, 10, tzinfo=UTC), "Asia/Tokyo")
    assert list(table.columns) == ["local", "day", "zone", "UTC", "hours since previous"]
    assert list(table["day"]) == ["Thu", "Fri"]
    shown = localize(table, "ja")
    assert list(shown.columns) == ["現地時刻", "曜日", "タイムゾーン", "UTC", "前回からの時間数"]
    assert list(shown["曜日"]) == ["木", "金"]


def test_misfires_speak_japanese() -> None:
    start = datetime(2027, 3, 10, tzinfo=UTC)
    with use_language("ja"):
        lines = misfires(
            "cron(45 11 ? * MON-FRI *)",
            "UTC",
            at="06:45",
            days="MON-FRI",
            zone="America/New_York",
            start=start,
            weeks=4,
        )
    assert lines[:2] == [
        "2027-03-15 06:45 EDT (月) に発火しません",
        "2027-03-15 07:45 EDT (月) に発火しますが、これは望む時刻ではありません",
    ]
    assert lines[-1] == "... ほか 28 件"

"""Audit a stack's recent runs: success rate, duration percentiles, overlaps, duplicates, failures by
category, and whether its jobs outlast the schedule's interval.

Why: the questions after a week of a scheduled job ("how often does it fail, and why? did two runs
ever overlap? did one scheduled time run twice? is the job getting longer than its interval?") are
all answered from the run list. `summarize` is pure (a DataFrame in, an `Audit` out) so every rule
is unit-tested; `collect` is the thin AWS part (ListExecutions / DescribeExecution, DescribeTasks,
and `sfnecs.diagnose` for each failed run).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sfnecs.checks import check_int, check_positive
from sfnecs.deploy.alerting_resources import alarm_states
from sfnecs.diagnose import diagnose
from sfnecs.diagnose.result import CATEGORY_WORDS
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, localize, prepare_plot_text, tr
from sfnecs.model.console import stack_links
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target
from sfnecs.runs.plot import overlaps, timeline
from sfnecs.runs.reading import executions
from sfnecs.schedule import parse_expression

__all__ = ["Audit", "audit", "collect", "duplicates", "schedule_interval", "summarize"]

RUN_COLUMNS = ["name", "arn", "kind", "status", "start", "stop", "seconds", "scheduled_time", "category"]
FINISHED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
PERCENTILES = (50, 90, 99)
#: how many fire times to look at when finding a cron schedule's shortest gap (covers every weekday
#: pattern of a daily or more frequent schedule; a sparser one is at most this many fires ahead)
INTERVAL_SAMPLE = 64
#: the category of a failed run that was not diagnosed (beyond `diagnose_limit`)
NOT_DIAGNOSED = N_("not diagnosed")


@dataclass
class Audit:
    """What the runs of one stack show over a period (results are data: see `to_dict`)."""

    stack: str
    since: datetime
    runs: Any  # DataFrame, RUN_COLUMNS, newest first
    schedule: str = ""
    timezone: str = "UTC"
    interval_seconds: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    success_rate: float | None = None
    percentiles: dict[str, float | None] = field(default_factory=dict)
    overlaps: list[tuple[datetime, datetime]] = field(default_factory=list)
    duplicates: dict[str, list[str]] = field(default_factory=dict)
    failures_by_category: dict[str, int] = field(default_factory=dict)
    outlasting: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # console pages of the stack (schedule, state machine)
    alarms: dict[str, dict[str, str]] = field(default_factory=dict)  # {alarm name: {state, reason, since}}

    def to_frame(self) -> Any:
        """The headline figures as a two-column table (metric, value)."""
        import pandas as pd

        # N_: the metric names stay English in the frame (select by them); the display translates them
        rows = [
            (N_("runs"), self.counts.get("total", 0)),
            (N_("succeeded"), self.counts.get("SUCCEEDED", 0)),
            (N_("failed"), sum(self.counts.get(s, 0) for s in FINISHED[1:])),
            (N_("running"), self.counts.get("RUNNING", 0)),
            (N_("success rate"), "-" if self.success_rate is None else f"{self.success_rate:.0%}"),
        ]
        rows += [
            (tr("duration p{percentile} (s)", percentile=p), _fmt(self.percentiles.get(f"p{p}"))) for p in PERCENTILES
        ]
        rows += [
            (N_("longest (s)"), _fmt(self.percentiles.get("max"))),
            (N_("schedule interval (s)"), _fmt(self.interval_seconds)),
            (N_("runs longer than the interval"), len(self.outlasting)),
            (N_("overlap intervals"), len(self.overlaps)),
            (N_("scheduled times run twice or more"), len(self.duplicates)),
            (N_("alarms in ALARM"), sum(a.get("state") == "ALARM" for a in self.alarms.values())),
        ]
        rows += [(tr("failures: {category}", category=_category(k)), v) for k, v in self.failures_by_category.items()]
        return pd.DataFrame(rows, columns=[N_("metric"), N_("value")]).astype({"value": str})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (the audit runbook's result)."""
        return {
            "ok": True,
            "stack": self.stack,
            "since": self.since.isoformat(),
            "schedule": self.schedule,
            "timezone": self.timezone,
            "interval_seconds": self.interval_seconds,
            "counts": self.counts,
            "success_rate": self.success_rate,
            "percentiles": self.percentiles,
            "overlaps": [[a.isoformat(), b.isoformat()] for a, b in self.overlaps],
            "duplicates": self.duplicates,
            "failures_by_category": self.failures_by_category,
            "outlasting": self.outlasting,
            "links": self.links,
            "alarms": self.alarms,
            "flags": self.flags,
        }

    def _repr_html_(self) -> str:
        nothing = tr("nothing to flag")
        flags = "".join(f"<li>{html.escape(f)}</li>" for f in self.flags) or f"<li>{html.escape(nothing)}</li>"
        heading = tr(
            "stack <b>{stack}</b>, runs since {since} UTC, schedule <code>{schedule}</code> ({timezone})",
            stack=html.escape(self.stack),
            since=self.since.strftime("%Y-%m-%d %H:%M"),
            schedule=html.escape(self.schedule),
            timezone=html.escape(self.timezone),
        )
        return f"<p>{heading}</p><ul>{flags}</ul>" + localize(self.to_frame()).to_html(index=False)

    def plot(self) -> Any:
        """Runs on a time line (overlaps shaded) and each run's duration against the interval; returns the Figure."""
        import matplotlib.pyplot as plt

        prepare_plot_text()  # before any text is made: Japanese labels need the CJK font in the fallback chain
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 3.2 + 0.5 * min(len(self.runs), 20)))
        if len(self.runs):
            timeline(self.runs, ax=top)
        else:
            top.text(0.5, 0.5, tr("no runs in the period"), ha="center", va="center", transform=top.transAxes)
        done = self.runs[self.runs["seconds"].notna()].sort_values("start", ignore_index=True)
        colours = ["#2da44e" if s == "SUCCEEDED" else "#cf222e" for s in done["status"]]
        bottom.bar(range(len(done)), done["seconds"].astype(float), color=colours)
        bottom.set_xticks(range(len(done)), [str(n) for n in done["name"]], rotation=30, ha="right", fontsize="small")
        if self.interval_seconds and len(done) and done["seconds"].max() >= self.interval_seconds / 10:
            bottom.axhline(self.interval_seconds, color="#bf8700", ls="--", label=tr("schedule interval"))
            bottom.legend(loc="upper right", fontsize="small")
        bottom.set_ylabel(tr("duration (s)"))
        rate = "-" if self.success_rate is None else f"{self.success_rate:.0%}"
        bottom.set_title(tr("durations; success rate {rate}", rate=rate))
        fig.tight_layout()
        return fig


def _category(category: str) -> str:
    """A failure category in words, in the current language (the key itself when the kit has no words for it)."""
    return tr(CATEGORY_WORDS.get(category, category))


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


# ---- pure rules ------------------------------------------------------------------------------------
def schedule_interval(expression: str, tz: str = "UTC", now: datetime | None = None) -> float | None:
    """The shortest time between two fire times of the schedule, in seconds (None for a one-off at()).

    Why the shortest: a job that runs longer than the shortest gap overlaps the next run at least then
    (a `cron(0 9,10 ...)` job of 90 minutes collides every day although the day has 24 hours).
    """
    parsed = parse_expression(expression, parameter="schedule")
    if parsed.interval is not None:
        return parsed.interval.total_seconds()
    if parsed.kind == "at":
        return None
    times = parsed.next_fire_times(INTERVAL_SAMPLE, now or datetime.now(UTC), tz)
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    return min(gaps) if gaps else None


def duplicates(runs: Any) -> dict[str, list[str]]:
    """Scheduled times with more than one run: {scheduled_time: [run names]} (at-least-once delivery).

    Only runs that say which scheduled time they serve count (the schedule's input carries
    `<aws.scheduler.scheduled-time>`); manual runs have none.
    """
    out: dict[str, list[str]] = {}
    for _, row in runs.iterrows():
        when = row.get("scheduled_time")
        if isinstance(when, str) and when:
            out.setdefault(when, []).append(str(row["name"]))
    return {k: sorted(v) for k, v in sorted(out.items()) if len(v) > 1}


def summarize(
    runs: Any,
    *,
    stack: str,
    since: datetime,
    schedule: str = "",
    tz: str = "UTC",
    interval_seconds: float | None = None,
) -> Audit:
    """The audit of a run table (columns RUN_COLUMNS; `category` filled for diagnosed failures)."""
    import pandas as pd

    missing = set(RUN_COLUMNS) - set(getattr(runs, "columns", []))
    if missing:
        raise ValidationError(
            "runs",
            type(runs).__name__,
            tr(
                "a DataFrame with columns {columns}; missing {missing}",
                columns=", ".join(RUN_COLUMNS),
                missing=sorted(missing),
            ),
        )
    statuses = runs["status"].value_counts().to_dict()
    counts = {"total": len(runs), **{str(k): int(v) for k, v in statuses.items()}}
    finished = runs[runs["status"].isin(FINISHED)]
    rate = float((finished["status"] == "SUCCEEDED").mean()) if len(finished) else None
    seconds = pd.to_numeric(finished["seconds"], errors="coerce").dropna()
    pct: dict[str, float | None] = {
        f"p{p}": (round(float(seconds.quantile(p / 100)), 3) if len(seconds) else None) for p in PERCENTILES
    }
    pct["max"] = round(float(seconds.max()), 3) if len(seconds) else None
    failed = finished[finished["status"] != "SUCCEEDED"]
    categories = {str(k): int(v) for k, v in failed["category"].fillna(NOT_DIAGNOSED).value_counts().items()}
    longer = runs[pd.to_numeric(runs["seconds"], errors="coerce") > interval_seconds] if interval_seconds else runs[:0]
    report = Audit(
        stack,
        since,
        runs,
        schedule,
        tz,
        interval_seconds,
        counts,
        rate,
        pct,
        overlaps(runs),
        duplicates(runs),
        categories,
        [str(n) for n in longer["name"]],
    )
    report.flags = _flags(report)
    return report


def _flags(a: Audit) -> list[str]:
    out = []
    if a.outlasting:
        out.append(
            tr(
                "{count} run(s) lasted longer than the schedule's interval ({interval} s): {names}: the next run "
                "starts before they end; lengthen the interval, speed the job up, or keep the overlap guard on",
                count=len(a.outlasting),
                interval=format(a.interval_seconds, "g"),
                names=", ".join(a.outlasting[:5]),
            )
        )
    if a.overlaps:
        out.append(
            tr(
                "{count} interval(s) with two or more runs at once: .sync does not prevent overlaps "
                "(a guard in the state machine does)",
                count=len(a.overlaps),
            )
        )
    if a.duplicates:
        out.append(
            tr(
                "{count} scheduled time(s) ran more than once (at-least-once delivery): {times}",
                count=len(a.duplicates),
                times=", ".join(a.duplicates)[:300],
            )
        )
    if a.failures_by_category:
        out.append(
            tr(
                "{count} failed run(s): {categories}",
                count=sum(a.failures_by_category.values()),
                categories=", ".join(f"{_category(k)} x{v}" for k, v in a.failures_by_category.items()),
            )
        )
    for name, alarm in a.alarms.items():
        if alarm.get("state") == "ALARM":
            out.append(
                tr(
                    "alarm {name} is in ALARM since {since}: {reason}",
                    name=name,
                    since=alarm.get("since"),
                    reason=alarm.get("reason"),
                )
            )
    return out


# ---- reading the runs from AWS ---------------------------------------------------------------------
def collect(target: Target, spec: StackSpec, since: datetime, *, limit: int = 100, diagnose_limit: int = 20) -> Any:
    """The stack's runs since `since` as a RUN_COLUMNS DataFrame: executions(), plus each execution's
    scheduled time (DescribeExecution) and the diagnosed category of up to `diagnose_limit` failures."""
    check_int("diagnose_limit", diagnose_limit, 0, 1000)
    runs = executions(target, spec, since, limit=limit)
    runs["scheduled_time"] = [
        _scheduled_time(target, arn) if kind == "execution" else None
        for arn, kind in zip(runs["arn"], runs["kind"], strict=True)
    ]
    categories: list[str | None] = []
    for arn, status in zip(runs["arn"], runs["status"], strict=True):
        wanted = status in FINISHED[1:] and len([c for c in categories if c]) < diagnose_limit
        categories.append(diagnose(target, arn).category if wanted else None)
    runs["category"] = categories
    return runs[RUN_COLUMNS]


def _scheduled_time(target: Target, arn: str) -> str | None:
    described = target.client("stepfunctions").describe_execution(executionArn=arn)
    try:
        value = json.loads(described.get("input") or "{}").get("scheduled_time")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def audit(target: Target, spec: StackSpec, *, hours: float = 24.0, limit: int = 100) -> Audit:
    """Audit the stack's runs of the last `hours` (at most `limit`, newest first)."""
    check_positive("hours", hours, 24 * 90, "hours")
    since = datetime.now(UTC) - timedelta(hours=hours)
    runs = collect(target, spec, since, limit=limit)
    report = summarize(
        runs,
        stack=spec.name,
        since=since,
        schedule=spec.schedule_expression,
        tz=spec.timezone,
        interval_seconds=schedule_interval(spec.schedule_expression, spec.timezone),
    )
    report.links = stack_links(spec)
    report.alarms = alarm_states(target, spec)
    report.flags = _flags(report)
    return report

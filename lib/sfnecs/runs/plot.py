"""Runs on a time line: a Gantt chart of `executions()` with the intervals where runs overlapped.

Why: "did two runs ever overlap?" is the question a schedule with a guard must answer, and a
picture answers it at a glance; `overlaps` gives the same intervals as data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sfnecs.exceptions import ValidationError

_STATUS_COLOURS = {
    "SUCCEEDED": "#2da44e",
    "FAILED": "#cf222e",
    "TIMED_OUT": "#bf8700",
    "ABORTED": "#8c959f",
    "RUNNING": "#0969da",
}


def overlaps(df: Any) -> list[tuple[datetime, datetime]]:
    """The intervals in which two or more runs of `df` (start, stop columns) were active at once."""
    edges: list[tuple[datetime, int]] = []
    now = _latest(df)
    for _, row in df.iterrows():
        if row["start"] is None or _missing(row["start"]):
            continue
        stop = now if _missing(row["stop"]) else row["stop"]
        edges += [(row["start"], 1), (stop, -1)]
    out, active, opened = [], 0, None
    for t, step in sorted(edges, key=lambda e: (e[0], e[1])):
        active += step
        if active >= 2 and opened is None:
            opened = t
        elif active < 2 and opened is not None:
            if t > opened:
                out.append((opened, t))
            opened = None
    return out


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def _latest(df: Any) -> datetime:
    times = [t for col in ("start", "stop") for t in df[col] if not _missing(t)]
    return max(times) if times else datetime.now(UTC)


def timeline(df: Any, *, ax: Any = None, title: str | None = None) -> Any:
    """A Gantt chart of runs (one bar per row of `executions()`), overlaps shaded red; returns the Figure."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    missing = {"name", "status", "start", "stop"} - set(getattr(df, "columns", []))
    if missing:
        raise ValidationError(
            "df",
            type(df).__name__,
            f"a DataFrame with columns name, status, start, stop (from executions()); missing {sorted(missing)}",
        )
    rows = df[[not _missing(s) for s in df["start"]]].sort_values("start", ignore_index=True)
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, max(2.0, 0.35 * len(rows) + 1.2)))
    else:
        fig = ax.figure
    now = _latest(rows) if len(rows) else datetime.now(UTC)
    for i, row in rows.iterrows():
        stop = now if _missing(row["stop"]) else row["stop"]
        start_num, stop_num = mdates.date2num(row["start"]), mdates.date2num(stop)
        ax.barh(
            i,
            max(stop_num - start_num, 1e-6),
            left=start_num,
            height=0.6,
            color=_STATUS_COLOURS.get(row["status"], "#6e7781"),
            hatch="//" if _missing(row["stop"]) else None,
        )
    for a, b in overlaps(rows):
        ax.axvspan(mdates.date2num(a), mdates.date2num(b), color="#cf222e", alpha=0.15, lw=0)
    ax.set_yticks(range(len(rows)), [str(n) for n in rows["name"]])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
    ax.set_xlabel("time (UTC)")
    ax.set_title(title or f"{len(rows)} runs, {len(overlaps(rows))} overlap interval(s)")
    statuses = sorted(set(rows["status"]))
    ax.legend(
        handles=[Patch(color=_STATUS_COLOURS.get(s, "#6e7781"), label=s) for s in statuses]
        + [Patch(color="#cf222e", alpha=0.15, label="overlap")],
        loc="upper right",
        fontsize="small",
    )
    fig.tight_layout()
    return fig

"""Runs on a time line: a Gantt chart of `executions()` with the intervals where runs overlapped.

Why: "did two runs ever overlap?" is the question a schedule with a guard must answer, and a
picture answers it at a glance; `overlaps` gives the same intervals as data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, prepare_plot_text, tr

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


#: how a run that ended without a bar is marked: skipped by the guard, or over in no time
SKIPPED_STYLE: dict[str, Any] = {
    "marker": "D",
    "color": "#8250df",
    "label": N_("skipped by the overlap guard (no task)"),
}
POINT_STYLE: dict[str, Any] = {"marker": "o", "label": N_("no task ran (a point in time)")}
OVERLAP_STYLE: dict[str, Any] = {
    "color": "#cf222e",
    "alpha": 0.3,
    "hatch": "xx",
    "label": N_("overlap: 2+ runs at once"),
}


def timeline(df: Any, *, ax: Any = None, title: str | None = None, tz: str = "UTC", clock: str = "") -> Any:
    """A Gantt chart of runs, one row each, on `tz`'s clock: bars coloured by status, skipped runs
    and instant ones as markers on top, overlaps shaded; returns the Figure.

    `df` has name, status, start, stop (e.g. `executions()` or `on_task_clock()`), and optionally
    `label` (the row's name on the axis) and `skipped`. `clock` names the clock the times were read
    on (e.g. "sandbox clock"); the axis says it with the time zone.
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    missing = {"name", "status", "start", "stop"} - set(getattr(df, "columns", []))
    if missing:
        raise ValidationError(
            "df",
            type(df).__name__,
            tr(
                "a DataFrame with columns name, status, start, stop (from executions()); missing {missing}",
                missing=sorted(missing),
            ),
        )
    zone = _zone(tz)
    rows = df[[not _missing(s) for s in df["start"]]].sort_values("start", ignore_index=True)
    prepare_plot_text()  # before any text is made: Japanese labels need the CJK font in the fallback chain
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, max(2.4, 0.42 * len(rows) + 1.6)))
    else:
        fig = ax.figure
    now = _latest(rows) if len(rows) else datetime.now(UTC)
    spans = overlaps(rows[[not _skipped(r) for _, r in rows.iterrows()]]) if len(rows) else []
    for a, b in spans:
        ax.axvspan(mdates.date2num(a), mdates.date2num(b), facecolor=OVERLAP_STYLE["color"],
                   alpha=OVERLAP_STYLE["alpha"], hatch=OVERLAP_STYLE["hatch"], edgecolor=OVERLAP_STYLE["color"],
                   lw=1.0, zorder=1)  # fmt: skip
    points: dict[str, list[tuple[float, int, str]]] = {"skipped": [], "instant": []}
    for i, row in rows.iterrows():
        stop = now if _missing(row["stop"]) else row["stop"]
        start_num, stop_num = mdates.date2num(row["start"]), mdates.date2num(stop)
        colour = _STATUS_COLOURS.get(row["status"], "#6e7781")
        if _skipped(row):
            points["skipped"].append((start_num, i, colour))
        elif stop_num <= start_num:
            points["instant"].append((start_num, i, colour))
        else:
            ax.barh(i, stop_num - start_num, left=start_num, height=0.6, color=colour,
                    hatch="//" if _missing(row["stop"]) else None, zorder=2)  # fmt: skip
    # markers last and above everything, never clipped at the axes' edge
    for kind, style in (("skipped", SKIPPED_STYLE), ("instant", POINT_STYLE)):
        if points[kind]:
            xs, ys, colours = zip(*points[kind], strict=True)
            ax.scatter(xs, ys, marker=style["marker"], s=70, zorder=5, clip_on=False, edgecolors="#1f2328",
                       c=[style.get("color", c) for c in colours], gid=kind)  # fmt: skip
    labels = [str(r.get("label") or r["name"]) if "label" in rows else str(r["name"]) for _, r in rows.iterrows()]
    ax.set_yticks(range(len(rows)), labels)
    ax.set_ylim(len(rows) - 0.4, -0.6)  # first run on top
    if len(rows):
        lo = min(mdates.date2num(t) for t in rows["start"])
        hi = max(lo, *(mdates.date2num(now if _missing(t) else t) for t in rows["stop"]))
        pad = max((hi - lo) * 0.04, 30 / 86400)  # room so a marker at either end shows whole
        ax.set_xlim(lo - pad, hi + pad)
        span_minutes = (hi - lo) * 24 * 60
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(tz=zone, minticks=4, maxticks=9))
        ax.xaxis.set_major_formatter(
            mdates.DateFormatter("%H:%M" if span_minutes > 20 else "%H:%M:%S", tz=zone)
            if span_minutes < 20 * 60
            else mdates.DateFormatter("%m-%d %H:%M", tz=zone)
        )
    ax.set_xlabel(_axis_label(rows, zone, clock))
    ax.set_ylabel(tr("run"))
    ax.grid(axis="x", color="#d0d7de", lw=0.6, zorder=0)
    skipped = sum(len(v) for k, v in points.items() if k == "skipped")
    counts = tr(
        "{runs} runs, {spans} overlap interval(s), {skipped} skipped", runs=len(rows), spans=len(spans), skipped=skipped
    )
    ax.set_title(title or counts)
    statuses = sorted({str(r["status"]) for _, r in rows.iterrows() if not _skipped(r)})
    handles: list[Any] = [Patch(color=_STATUS_COLOURS.get(s, "#6e7781"), label=s.lower()) for s in statuses]
    if points["skipped"]:
        handles.append(Line2D([], [], ls="", marker=SKIPPED_STYLE["marker"], color=SKIPPED_STYLE["color"],
                              markeredgecolor="#1f2328", markersize=8, label=tr(SKIPPED_STYLE["label"])))  # fmt: skip
    if points["instant"]:
        handles.append(Line2D([], [], ls="", marker=POINT_STYLE["marker"], color="#6e7781",
                              markeredgecolor="#1f2328", markersize=8, label=tr(POINT_STYLE["label"])))  # fmt: skip
    handles.append(Patch(facecolor=OVERLAP_STYLE["color"], alpha=OVERLAP_STYLE["alpha"], hatch=OVERLAP_STYLE["hatch"],
                         edgecolor=OVERLAP_STYLE["color"],
                         label=tr(OVERLAP_STYLE["label"]) if spans else tr("overlap: none")))  # fmt: skip
    # outside the axes, so the legend never covers a bar or a marker
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    fig.tight_layout()
    return fig


def _skipped(row: Any) -> bool:
    return bool(row.get("skipped")) if "skipped" in row and not _missing(row.get("skipped")) else False


def _zone(tz: str) -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValidationError("tz", tz, N_("an IANA time zone name such as 'UTC' or 'Asia/Tokyo'")) from None


def _axis_label(rows: Any, zone: Any, clock: str) -> str:
    """'sandbox clock, Asia/Tokyo (JST)': which clock and zone the x axis reads."""
    when = rows["start"].iloc[0] if len(rows) else datetime.now(UTC)
    abbrev = when.astimezone(zone).tzname()
    where = str(zone) if abbrev == str(zone) else f"{zone} ({abbrev})"
    return tr("time on the {clock}, {where}", clock=clock, where=where) if clock else tr("time, {where}", where=where)

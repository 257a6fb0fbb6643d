"""A Gantt chart of the first ticks' task runs, one panel per variant, simulated or replayed live.

Why: overlaps and duplicate launches are easiest to believe when seen. Readable at a glance: the x axis
is minutes since the first scheduled run with a tick at every scheduled time (or every few), each
stopped delivery has its own marker (two at the same minute are stacked, never drawn over each other),
and the legend names every colour and marker.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sfnecs.checks import check_int
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, prepare_plot_text, tr
from sfnecs.patterns.results import SimulationResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_RUN_COLOURS = {"run": "#4c72b0", "overlapping": "#dd8452", "duplicate": "#c44e52"}
#: the legend's words for a run's kind and a delivery's disposition (translated where drawn)
_LABELS = {
    "run": N_("run"),
    "overlapping": N_("overlapping"),
    "duplicate": N_("duplicate"),
    "launch_failed": N_("launch failed"),
    "skipped_by_guard": N_("skipped by guard"),
    "deduplicated_running": N_("deduplicated running"),
    "already_exists": N_("already exists"),
}
#: disposition of a delivery that launched no task -> (marker, colour); each scatter is labelled with it
MARKERS = {
    "launch_failed": ("X", "#000000"),
    "skipped_by_guard": ("v", "#2ca02c"),
    "deduplicated_running": ("o", "#8172b3"),
    "already_exists": ("s", "#937860"),
}
#: at most this many labelled x ticks: the step is the smallest multiple of the interval that keeps to it
MAX_X_TICKS = 13
_MARKER_ROW, _MARKER_STEP = -0.8, 0.55  # y of a tick's first stopped delivery, and the step to the next


def _lanes(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The first free lane for each run (runs in start order), so overlapping runs stack."""
    lane_end: list[float] = []
    lanes = np.empty(start.size, np.int64)
    for i, (s, e) in enumerate(zip(start.tolist(), end.tolist(), strict=True)):
        free = next((k for k, busy in enumerate(lane_end) if busy <= s), len(lane_end))
        if free == len(lane_end):
            lane_end.append(e)
        lane_end[free] = e
        lanes[i] = free
    return lanes


def tick_step(interval_minutes: float, ticks: int) -> float:
    """Minutes between labelled x ticks: the interval, or the smallest multiple of it that keeps to MAX_X_TICKS."""
    return interval_minutes * max(1, math.ceil((ticks + 1) / MAX_X_TICKS))


def _interval(runs: pd.DataFrame, deliveries: pd.DataFrame | None) -> float | None:
    """The schedule's interval read back from the first copies' times (tick k arrives k intervals in)."""
    for frame, column in ((deliveries, "delivered_minute"), (runs, "start_minute")):
        if frame is not None and len(frame) and (frame["tick"] > 0).any():
            later = frame[frame["tick"] > 0]
            return float(np.min(later[column].to_numpy(float) / later["tick"].to_numpy(float)))
    return None


def _stopped_rows(shown: pd.DataFrame) -> np.ndarray:
    """The marker row of each stopped delivery: a tick's second one goes below its first, and so on."""
    order = shown.sort_values("delivered_minute", kind="stable")
    stack = order.groupby("tick").cumcount().reindex(shown.index).to_numpy()
    return _MARKER_ROW - _MARKER_STEP * stack


def _panel(ax: Axes, rows: pd.DataFrame, stopped: pd.DataFrame | None) -> int:
    """Draw one variant's runs (bars in lanes) and stopped deliveries (markers); returns the lane count."""
    rows = rows.sort_values("start_minute", kind="stable")
    start, end = rows["start_minute"].to_numpy(float), rows["end_minute"].to_numpy(float)
    lanes = _lanes(start, end)
    kind = (
        np.where(rows["duplicate"], "duplicate", np.where(rows["overlapping"], "overlapping", "run"))
        if {"duplicate", "overlapping"} <= set(rows)
        else np.full(len(rows), "run")
    )
    failed = rows["failed"].to_numpy() if "failed" in rows else np.zeros(len(rows), bool)
    for lane, s, e, k, f in zip(lanes, start, end, kind, failed, strict=True):
        ax.barh(lane, e - s, left=s, height=0.7, color=_RUN_COLOURS[k], edgecolor="black", linewidth=0.5,
                hatch="//" if f else None, zorder=2)  # fmt: skip
    lowest = _MARKER_ROW
    if stopped is not None and len(stopped):
        y = _stopped_rows(stopped)
        lowest = min(lowest, float(y.min()))
        for disposition, (marker, colour) in MARKERS.items():
            mine = (stopped["disposition"] == disposition).to_numpy()
            if mine.any():
                ax.scatter(stopped.loc[mine, "delivered_minute"], y[mine], marker=marker, color=colour, s=55,
                           edgecolors="white", linewidths=0.6, zorder=4, label=disposition)  # fmt: skip
    n_lanes = int(lanes.max()) + 1 if lanes.size else 1
    ax.set_ylim(lowest - 0.6, n_lanes - 0.3)
    ax.set_yticks([_MARKER_ROW, *range(n_lanes)], [tr("stopped"), *(str(k + 1) for k in range(n_lanes))])
    ax.grid(axis="x", color="#bbbbbb", linestyle=":", linewidth=0.7, zorder=0)
    ax.set_axisbelow(True)
    return n_lanes


def scenario_timeline(
    source: SimulationResult | pd.DataFrame,
    ticks: int = 12,
    variants: Sequence[str] | None = None,
    *,
    deliveries: pd.DataFrame | None = None,
    title: str | None = None,
) -> Figure:
    """A Gantt chart of the first `ticks` ticks' task runs, one panel per variant.

    Why: overlaps and duplicate launches are easiest to believe when seen. Overlapping runs stack in
    lanes (the y axis counts tasks running at once); colours mark normal, overlapping and duplicate
    runs; failed jobs are hatched. Markers on the "stopped" row show the deliveries that launched no
    task (launch failed, skipped by the guard, absorbed by the execution name): from a
    `SimulationResult` itself, or from `deliveries` (variant, tick, delivered_minute, disposition)
    beside a runs DataFrame, e.g. a live replay's `LiveRun.deliveries`.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MultipleLocator

    check_int("ticks", ticks, 1, 10_000)
    if isinstance(source, SimulationResult):
        runs, deliveries = source.runs, source.deliveries
    elif isinstance(source, pd.DataFrame) and {"variant", "tick", "start_minute", "end_minute"} <= set(source):
        runs = source
    else:
        raise ValidationError("source", type(source).__name__, "a SimulationResult or its runs DataFrame")
    if deliveries is not None and not {"variant", "tick", "delivered_minute", "disposition"} <= set(deliveries):
        raise ValidationError(
            "deliveries", sorted(deliveries.columns), "a DataFrame with variant, tick, delivered_minute, disposition"
        )
    names = list(dict.fromkeys(runs["variant"])) if variants is None else list(variants)
    if not names:
        raise ValidationError("variants", variants, "at least one variant with runs")
    runs = runs[runs["tick"] < ticks]
    if deliveries is not None:
        deliveries = deliveries[(deliveries["tick"] < ticks) & deliveries["disposition"].isin(list(MARKERS))]
    interval = _interval(runs, deliveries)
    prepare_plot_text()
    fig = Figure(figsize=(10, 1.3 + 1.5 * len(names)), layout="constrained")
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, names, strict=True):
        stopped = None if deliveries is None else deliveries[deliveries["variant"] == name]
        _panel(ax, runs[runs["variant"] == name], stopped)
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontweight="bold")
        if interval:
            ax.xaxis.set_major_locator(MultipleLocator(tick_step(interval, ticks)))
    ends = runs["end_minute"].to_numpy(float)
    right = max(interval * ticks if interval else 0.0, float(ends[np.isfinite(ends)].max(initial=0.0)))
    axes[0].set_xlim(-0.02 * right, right * 1.02 or 1.0)
    every = tr(" (one every {interval} min)", interval=format(interval, "g")) if interval else ""
    axes[-1].set_xlabel(tr("minutes since the first scheduled run") + every)
    fig.supylabel(tr("tasks running at once"), fontsize="small")
    handles: list[Any] = [Patch(facecolor=c, edgecolor="black", label=tr(_LABELS[k])) for k, c in _RUN_COLOURS.items()]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch="//", label=tr("job failed")))
    handles += [
        Line2D([], [], marker=m, color=c, linestyle="", markersize=8, label=tr(_LABELS[k]))
        for k, (m, c) in MARKERS.items()
    ]
    fig.legend(handles=handles, loc="outside upper center", ncols=4, fontsize="small",
               title=title, title_fontsize="medium")  # fmt: skip
    return fig

"""A Gantt chart of the first ticks' task runs, one panel per variant, simulated or replayed live.

Why: overlaps and duplicate launches are easiest to believe when seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sfnecs.checks import check_int
from sfnecs.exceptions import ValidationError
from sfnecs.patterns.results import SimulationResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_RUN_COLOURS = {"run": "#4c72b0", "overlapping": "#dd8452", "duplicate": "#c44e52"}
_MARKERS = {
    "launch_failed": ("x", "#000000"),
    "skipped_by_guard": ("|", "#55a868"),
    "deduplicated_running": ("o", "#8172b3"),
    "already_exists": ("s", "#937860"),
}


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


def scenario_timeline(
    source: SimulationResult | pd.DataFrame, ticks: int = 12, variants: Sequence[str] | None = None
) -> Figure:
    """A Gantt chart of the first `ticks` ticks' task runs, one panel per variant.

    Why: overlaps and duplicate launches are easiest to believe when seen. Overlapping runs stack
    in lanes; colours mark normal, overlapping and duplicate runs; failed jobs are hatched; with a
    `SimulationResult`, markers show launch failures, guard skips and deduplicated deliveries.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    check_int("ticks", ticks, 1, 10_000)
    if isinstance(source, SimulationResult):
        runs, deliveries, interval = source.runs, source.deliveries, source.scenario.interval_minutes
    elif isinstance(source, pd.DataFrame) and {"variant", "tick", "start_minute", "end_minute"} <= set(source):
        runs, deliveries, interval = source, None, None
    else:
        raise ValidationError("source", type(source).__name__, "a SimulationResult or its runs DataFrame")
    names = list(dict.fromkeys(runs["variant"])) if variants is None else list(variants)
    if not names:
        raise ValidationError("variants", variants, "at least one variant with runs")
    runs = runs[runs["tick"] < ticks]
    fig = Figure(figsize=(10, 1.0 + 1.3 * len(names)), layout="constrained")
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, names, strict=True):
        rows = runs[runs["variant"] == name].sort_values("start_minute", kind="stable")
        start, end = rows["start_minute"].to_numpy(), rows["end_minute"].to_numpy()
        lanes = _lanes(start, end)
        kind = (
            np.where(rows["duplicate"], "duplicate", np.where(rows["overlapping"], "overlapping", "run"))
            if {"duplicate", "overlapping"} <= set(rows)
            else np.full(len(rows), "run")
        )
        failed = rows["failed"].to_numpy() if "failed" in rows else np.zeros(len(rows), bool)
        for lane, s, e, k, f in zip(lanes, start, end, kind, failed, strict=True):
            ax.barh(
                lane,
                e - s,
                left=s,
                height=0.7,
                color=_RUN_COLOURS[k],
                edgecolor="black",
                linewidth=0.5,
                hatch="//" if f else None,
            )
        if deliveries is not None:
            shown = deliveries[(deliveries["variant"] == name) & (deliveries["tick"] < ticks)]
            for disposition, (marker, colour) in _MARKERS.items():
                at = shown.loc[shown["disposition"] == disposition, "delivered_minute"]
                if len(at):
                    ax.scatter(at, np.full(len(at), -0.8), marker=marker, color=colour, s=60, linewidths=1.5, zorder=3)
        if interval:
            for t in range(ticks):
                ax.axvline(t * interval, color="grey", linestyle=":", linewidth=0.6)
        ax.set_ylim(-1.4, max(int(lanes.max()) + 1 if lanes.size else 1, 1))
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
    axes[-1].set_xlabel("minutes since the first tick")
    handles: list[Any] = [Patch(facecolor=c, edgecolor="black", label=k) for k, c in _RUN_COLOURS.items()]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch="//", label="job failed"))
    handles += [
        Line2D([], [], marker=m, color=c, linestyle="", label=k.replace("_", " ")) for k, (m, c) in _MARKERS.items()
    ]
    fig.legend(handles=handles, loc="outside upper center", ncols=4, fontsize="small")
    return fig

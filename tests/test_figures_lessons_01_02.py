"""What the figures of lessons 01 and 02 draw: labelled axes, a legend, every marker visible, sensible ticks.

Lesson 01 draws `patterns.scenario_timeline` three times (the simulation of section 3, the live replay of
section 5 and the live exercise); lesson 02 draws no figure (its evidence is tables). The figures are built
here from the lessons' own scenarios and their matplotlib artists read back: the markers are counted against
the simulated (or live) counts, and no two markers, nor a marker and a bar, share a place.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.patches import Rectangle

from sfnecs.evidence import simulation_check
from sfnecs.exceptions import ValidationError
from sfnecs.patterns import VARIANTS, Scenario, scenario_timeline, simulate_variants
from sfnecs.patterns.plot import MARKERS, MAX_X_TICKS, tick_step

ROOT = Path(__file__).resolve().parent.parent
#: lesson 01, section 3: ten hourly ticks, 90-minute jobs, ticks 2 and 5 delivered twice
BY_HAND = Scenario(horizon="10h", interval_minutes=60, duration_minutes=90.0, duplicates=(2, 5))
#: lesson 01, section 5 (its default parameters): six ticks every 10 minutes, 25-minute jobs
LIVE = Scenario(horizon="60min", interval_minutes=10, duration_minutes=25.0, duplicates=(1, 4))


def _markers(ax) -> dict[str, np.ndarray]:
    """The marker positions of one panel, by disposition (each scatter is labelled with its disposition)."""
    return {c.get_label(): c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)}


def _bars(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def _assert_readable(fig, variants, interval: float, ticks: int) -> None:
    """Axis labels in real units, a legend naming every colour and marker, ticks on the schedule's times."""
    axes = fig.axes
    assert [ax.get_ylabel() for ax in axes] == list(variants)
    assert axes[-1].get_xlabel() == f"minutes since the first scheduled run (one every {interval:g} min)"
    assert fig.get_supylabel() == "tasks running at once"
    labels = {t.get_text() for legend in fig.legends for t in legend.get_texts()}
    assert {"run", "overlapping", "duplicate", "job failed"} | {k.replace("_", " ") for k in MARKERS} <= labels
    step = tick_step(interval, ticks)
    left, right = axes[-1].get_xlim()
    shown = [x for x in axes[-1].get_xticks() if left <= x <= right]
    assert len(shown) <= MAX_X_TICKS
    assert np.allclose(np.diff(shown), step) and all(x % interval == 0 for x in shown)  # on scheduled times
    assert right >= interval * (ticks - 1)  # every tick's delivery is inside the axes
    for ax in axes:
        assert [t.get_text() for t in ax.get_yticklabels()][0] == "stopped"


def _assert_markers_visible(ax) -> None:
    """No two markers share a place, none sits on a bar, and all are inside the axes."""
    points = np.concatenate([p for p in _markers(ax).values()] or [np.empty((0, 2))])
    assert len({(round(x, 6), round(y, 6)) for x, y in points}) == len(points), "a marker hides another"
    bottom = min((b.get_y() for b in _bars(ax)), default=0.0)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for x, y in points:
        assert y < bottom and y0 < y < y1 and x0 <= x <= x1


def test_section_3_draws_every_run_and_every_stopped_delivery_of_the_simulation():
    sim = simulate_variants(BY_HAND, VARIANTS)
    fig = scenario_timeline(sim, ticks=10)
    _assert_readable(fig, VARIANTS, 60, 10)
    for ax, variant in zip(fig.axes, VARIANTS, strict=True):
        result = sim[variant]
        assert len(_bars(ax)) == result.task_launches  # one bar per task
        markers = _markers(ax)
        assert len(markers.get("skipped_by_guard", [])) == result.skipped_by_guard
        assert len(markers.get("deduplicated_running", [])) == result.deduplicated_running
        assert len(markers.get("already_exists", [])) == result.already_exists
        _assert_markers_visible(ax)
    # the case: tick 5 and its duplicate, both skipped at minute 300, drawn one below the other
    at_300 = [y for x, y in _markers(fig.axes[VARIANTS.index("B+guard")])["skipped_by_guard"] if round(x) == 300]
    assert len(at_300) == 2 and at_300[0] != at_300[1]


def test_ticks_stay_few_and_on_scheduled_times_for_long_stretches():
    assert tick_step(60, 10) == 60 and tick_step(10, 6) == 10
    five_minutely = Scenario(horizon="4h", interval_minutes=5, duration_minutes=7.0)
    fig = scenario_timeline(simulate_variants(five_minutely, ["B", "B+guard"]), ticks=48)
    _assert_readable(fig, ["B", "B+guard"], 5, 48)
    assert tick_step(5, 48) == 20  # a tick every 4th run: 13 at most


def test_a_runs_frame_with_its_deliveries_draws_the_same_markers():
    sim = simulate_variants(BY_HAND, ["B+guard"])
    fig = scenario_timeline(sim.runs, ticks=10, deliveries=sim.deliveries)
    assert len(_markers(fig.axes[0])["skipped_by_guard"]) == sim["B+guard"].skipped_by_guard
    with pytest.raises(ValidationError, match="deliveries"):
        scenario_timeline(sim.runs, deliveries=pd.DataFrame({"tick": [1]}))


@pytest.mark.slow
def test_section_5_draws_the_live_runs_with_the_skips_the_sandbox_made(target):
    live = {
        v: simulation_check.replay(target, LIVE, v, name="figures-" + v.replace("+", "-").lower())
        for v in simulation_check.LIVE_VARIANTS
    }
    fig = scenario_timeline(
        pd.concat([r.runs for r in live.values()]), ticks=6, deliveries=pd.concat([r.deliveries for r in live.values()])
    )
    _assert_readable(fig, simulation_check.LIVE_VARIANTS, 10, 6)
    sim = simulate_variants(LIVE, simulation_check.LIVE_VARIANTS)
    for ax, (variant, run) in zip(fig.axes, live.items(), strict=True):
        assert len(_bars(ax)) == run.counts["task_launches"] == sim[variant].task_launches
        skips = _markers(ax).get("skipped_by_guard", [])
        assert len(skips) == run.counts["skipped_by_guard"] == sim[variant].skipped_by_guard
        _assert_markers_visible(ax)
    # the guard's skips arrive at the scheduled times (minutes 10, 20, 40, 50; 10 and 40 twice)
    guard = _markers(fig.axes[-1])["skipped_by_guard"]
    assert sorted(np.round(guard[:, 0]).tolist()) == [10, 10, 20, 40, 40, 50]


def test_lesson_figures_come_from_the_checked_timeline():
    """Every figure a stored lesson 01 or 02 shows is drawn by a cell that calls scenario_timeline."""
    drawn = {}
    for lesson in ("01_compare_patterns", "02_iam_policies"):
        cells = json.loads((ROOT / "notebooks" / f"{lesson}.ipynb").read_text())["cells"]
        with_image = [
            "".join(c["source"])
            for c in cells
            if c["cell_type"] == "code" and any("image/png" in o.get("data", {}) for o in c.get("outputs", []))
        ]
        assert all("scenario_timeline(" in s for s in with_image), lesson
        drawn[lesson] = len(with_image)
    assert drawn == {"01_compare_patterns": 3, "02_iam_policies": 0}

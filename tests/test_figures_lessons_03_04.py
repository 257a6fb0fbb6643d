"""What the figures of lessons 03 and 04 draw: every label whole and inside the picture, markers
counted and on top, skipped runs told apart from succeeded ones, times on the story's clock.

Lesson 03 draws state machine diagrams (SVG: read back from the stored lesson too); lesson 04 draws
the night a manual run met a scheduled one (matplotlib: read from the Figure's artists).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import matplotlib
import matplotlib.text
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from sfnecs import runs, statemachine
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import use_language
from sfnecs.model import StackSpec
from sfnecs.runs.plot import _STATUS_COLOURS, OVERLAP_STYLE, SKIPPED_STYLE
from sfnecs.statemachine.diagram import _LABEL_CHAR_W, text_columns

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"
Box = tuple[float, float, float, float]


# ---- lesson 03: the diagrams -------------------------------------------------------------------------
def _lesson03_definitions() -> dict[str, dict]:
    """The definitions lesson 03 draws: step 1 (no switches) and the whole machine, in both languages."""
    spec = StackSpec("nightly-report", task_timeout_seconds=3, launch_retry_attempts=1)
    core = spec.replace(guard=False, notify_failure=False, launch_retry_attempts=0)
    return {
        "step 1": statemachine.build_definition(core),
        "JSONata": statemachine.build_definition(spec),
        "JSONPath": statemachine.build_definition(spec.replace(query_language="JSONPath")),
        "retry job failures": statemachine.build_definition(spec.replace(retry_job_failures=1)),
    }


def _labels(svg: str) -> tuple[Box, list[tuple[str, Box]]]:
    """The viewBox, and each edge label's whole text with the box it covers (estimated as the layout does)."""
    root = ElementTree.fromstring(svg)
    x0, y0, w, h = (float(v) for v in root.get("viewBox", "").split())
    found = []
    for text in root.iter(f"{SVG}text"):
        if text.get("class") != "label":
            continue
        lines = [t.text or "" for t in text.iter(f"{SVG}tspan")] or [text.text or ""]
        width = _LABEL_CHAR_W * max(text_columns(line) for line in lines)  # a wide (CJK) character: two
        x, y = float(text.get("x", "0")), float(text.get("y", "0"))
        left = {"start": x, "end": x - width}.get(text.get("text-anchor", "middle"), x - width / 2)
        found.append((" ".join(lines), (left, y - 10, left + width, y + 3 + 12 * (len(lines) - 1))))
    return (x0, y0, w, h), found


def _inside(box: Box, view: Box) -> bool:
    x0, y0, w, h = view
    return x0 <= box[0] and box[2] <= x0 + w and y0 <= box[1] and box[3] <= y0 + h


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("name", ["step 1", "JSONata", "JSONPath", "retry job failures"])
def test_every_diagram_label_is_whole_inside_the_picture_and_alone(name, lang):
    with use_language(lang):
        picture = statemachine.diagram(_lesson03_definitions()[name])
    view, labels = _labels(picture.to_svg())
    wanted = sorted(e.label for e in picture.edges if e.label)
    assert sorted(text for text, _ in labels) == wanted  # every edge's label drawn, none cut short
    assert not any("\u2026" in text for text in wanted)
    for text, box in labels:
        assert _inside(box, view), (text, box, view)
    for i, (a, box_a) in enumerate(labels):
        for b, box_b in labels[i + 1 :]:
            assert not _overlap(box_a, box_b), (a, b)


def test_the_guards_choice_shows_its_whole_condition():
    definition = _lesson03_definitions()["JSONata"]
    condition = definition["States"]["AlreadyRunning?"]["Choices"][0]["Condition"]
    _, labels = _labels(statemachine.diagram(definition).to_svg())
    drawn = " ".join(text for text, _ in labels)
    assert condition.removeprefix("{%").removesuffix("%}").strip() in drawn


@pytest.mark.parametrize("edition", ["03_state_machine.ipynb", "ja/03_state_machine.ipynb"])
def test_the_stored_lesson_03_diagrams_keep_their_labels_inside(edition):
    notebook = json.loads((ROOT / "notebooks" / edition).read_text(encoding="utf-8"))
    svgs = []
    for cell in notebook["cells"]:
        for out in cell.get("outputs", []):
            svg = out.get("data", {}).get("image/svg+xml")
            if svg:
                svgs.append("".join(svg) if isinstance(svg, list) else svg)
    assert len(svgs) >= 2  # step 1 and the whole machine
    drawn = [_labels(svg) for svg in svgs]
    assert sum(len(labels) for _, labels in drawn) >= 7  # the whole machine's retries, catches and choices
    for view, labels in drawn:
        assert all(_inside(box, view) and "\u2026" not in text for text, box in labels), labels


# ---- lesson 04: the night a manual run met the 02:30 firing ------------------------------------------
FIRE = datetime(2026, 12, 6, 17, 30, tzinfo=UTC)  # 02:30 JST


def _story(with_overlap: bool = False) -> pd.DataFrame:
    """The shape `runs.on_task_clock` returns for lesson 04's section 7 (times on the sandbox clock)."""
    rows = [
        {
            "name": "manual-long-run",
            "label": "manual-long-run",
            "status": "SUCCEEDED",
            "skipped": False,
            "start": FIRE - timedelta(seconds=50),
            "stop": FIRE + timedelta(minutes=29, seconds=15),
        },
        {
            "name": "3f1c2b0e-0000-4000-8000-000000000000",
            "label": "scheduled 02:30 JST",
            "status": "SUCCEEDED",
            "skipped": True,
            "start": FIRE,
            "stop": FIRE,
        },
    ]
    if with_overlap:  # the guard off: the scheduled run's task runs beside the manual one
        rows[1].update(skipped=False, stop=FIRE + timedelta(minutes=2))
    return pd.DataFrame(rows)


def _texts_inside(fig) -> None:
    """Every text the figure shows lies inside the figure: nothing cut off at its edge."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    for text in fig.findobj(matplotlib.text.Text):
        if text.get_visible() and text.get_text().strip():
            box = text.get_window_extent(renderer)
            assert frame.x0 - 1 <= box.x0 and box.x1 <= frame.x1 + 1, text.get_text()
            assert frame.y0 - 1 <= box.y0 and box.y1 <= frame.y1 + 1, text.get_text()


def test_lesson_04_timeline_reads_the_story_clock_with_labels_and_a_visible_skip():
    fig = runs.timeline(_story(), tz="Asia/Tokyo", clock="sandbox clock")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "time on the sandbox clock, Asia/Tokyo (JST)"
    assert ax.get_ylabel() == "run"
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "02:30" in ticks and all(len(t) == 5 for t in ticks)  # minutes on Tokyo's clock, not UTC seconds
    assert [t.get_text() for t in ax.get_yticklabels()] == ["manual-long-run", "scheduled 02:30 JST"]
    # the skipped run is one marker, purple, above the bar and inside the axes; never a green bar
    markers = [c for c in ax.collections if c.get_gid() == "skipped"]
    assert len(markers) == 1 and len(markers[0].get_offsets()) == 1
    assert to_hex(markers[0].get_facecolors()[0]) == SKIPPED_STYLE["color"] != _STATUS_COLOURS["SUCCEEDED"]
    assert markers[0].get_zorder() > max(p.get_zorder() for p in ax.patches)
    (x, y), (lo, hi) = markers[0].get_offsets()[0], ax.get_xlim()
    assert lo < x < hi and y == 1
    bars = [p for p in ax.patches if to_hex(p.get_facecolor()) == _STATUS_COLOURS["SUCCEEDED"]]
    assert len(bars) == 1  # the manual run only
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["succeeded", SKIPPED_STYLE["label"], "overlap: none"]
    _texts_inside(fig)


def test_an_overlap_is_shaded_so_it_shows():
    fig = runs.timeline(_story(with_overlap=True), tz="Asia/Tokyo", clock="sandbox clock")
    ax = fig.axes[0]
    shaded = [p for p in ax.patches if p.get_hatch() == OVERLAP_STYLE["hatch"]]
    assert len(shaded) == 1 and shaded[0].get_alpha() >= 0.25
    assert "1 overlap interval(s)" in ax.get_title()
    assert OVERLAP_STYLE["label"] in [t.get_text() for t in ax.get_legend().get_texts()]
    _texts_inside(fig)


def test_a_run_without_a_task_is_a_marker_not_an_invisible_bar():
    story = _story()
    story.loc[1, ["skipped", "status"]] = [False, "FAILED"]  # a launch that failed: no task, no time
    ax = runs.timeline(story, tz="Asia/Tokyo", clock="sandbox clock").axes[0]
    points = [c for c in ax.collections if c.get_gid() == "instant"]
    assert len(points) == 1 and to_hex(points[0].get_facecolors()[0]) == _STATUS_COLOURS["FAILED"]


def test_a_bad_time_zone_is_named():
    with pytest.raises(ValidationError, match="tz='Asia/Tokio'"):
        runs.timeline(_story(), tz="Asia/Tokio")

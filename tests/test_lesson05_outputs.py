"""What the stored lesson 05 shows: no figure that only repeats its table, a run table that tells a pull
failure from an exec failure, the builder table, both readings of the note's sentence, and its header.

The lesson's one figure was a timeline of six runs a few real seconds apart (a tick label repeated, no
information the table beside it lacked); it is gone, and the table says where each run stopped.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from sfnecs.model.sources import cited_ids

ROOT = Path(__file__).resolve().parent.parent
LESSON = ROOT / "notebooks" / "05_diagnose_exec_format_error.ipynb"


#: the run table's row labels, as the lesson names its six runs
LABELS = (
    "case 1: X86_64 task, arm64 image",
    "case 2: ARM64 task, amd64 image",
    "case 3: X86_64 task, arm64 index",
    "fix 1: ARM64 task, arm64 image",
    "fix 2: X86_64 task, index of both",
    "fix 2: ARM64 task, index of both",
)


def _lesson() -> nbformat.NotebookNode:
    return nbformat.read(LESSON, as_version=4)


def _markdown() -> str:
    return "\n".join(c.source for c in _lesson().cells if c.cell_type == "markdown")


def test_the_lesson_draws_no_figure_and_no_timeline():
    cells = [c for c in _lesson().cells if c.cell_type == "code"]
    assert not [c.source for c in cells if "timeline(" in c.source or "plt." in c.source]
    drawn = [
        (i, kind)
        for i, c in enumerate(cells)
        for o in c.outputs
        for kind in o.get("data", {})
        if kind.startswith("image/")
    ]
    assert drawn == []


def test_the_run_table_tells_where_each_run_stopped():
    tables = [
        o["data"]["text/plain"]
        for c in _lesson().cells
        if c.cell_type == "code" and "case 3: X86_64 task, arm64 index" in c.source
        for o in c.outputs
        if "text/plain" in o.get("data", {})
    ]
    assert len(tables) == 1
    rows: dict[str, str] = {}  # pandas wraps wide tables into blocks: join each row's pieces
    for line in tables[0].splitlines():
        label = next((k for k in LABELS if line.startswith(k)), None)
        if label:
            rows[label] = rows.get(label, "") + line[len(label) :]
    assert len(rows) == 6, rows
    assert re.search(r"FAILED\s+1\b", rows["case 1: X86_64 task, arm64 image"])
    assert re.search(r"FAILED\s+1\b", rows["case 2: ARM64 task, amd64 image"])
    assert re.search(r"FAILED\s+None\b", rows["case 3: X86_64 task, arm64 index"])
    assert sum("SUCCEEDED" in row for row in rows.values()) == 3
    assert "CannotPullContainerError" in tables[0] and "exec /app/job: exec format error" in tables[0]


def test_the_builder_table_names_which_error_each_builder_gives():
    text = _markdown()
    table = [line for line in text.splitlines() if line.startswith("| `docker")]
    classic = [row for row in table if "classic image store" in row or "--provenance=false" in row]
    indexed = [
        row for row in table if "containerd image store" in row or row.startswith("| `docker buildx build --push`")
    ]
    assert len(classic) == 2 and all("exec format error" in row for row in classic)
    assert len(indexed) == 2 and all("CannotPullContainerError" in row for row in indexed)
    assert {"buildx-default-attestation-index", "docker-desktop-containerd-store"} <= set(cited_ids(text)[0])


def test_the_note_sentence_gets_both_readings_and_is_not_called_inverted():
    text = _markdown()
    assert "inverted" not in text.lower()
    assert "(fact: correction-apple-silicon-sentence)" in text
    assert "*The ECS task* is `linux/amd64` by default. True" in text
    assert "*The build* is `linux/amd64` by default. False" in text


def test_the_header_gives_prerequisites_duration_and_cost():
    first = _lesson().cells[0].source
    for label in ("**Prerequisites:**", "**Duration:**", "**Cost:**"):
        assert label in first
    cost = first[first.index("**Cost:**") :]
    assert "sandbox, none" in cost and "$0.002" in cost and "(fact: sfn-standard-price)" in cost

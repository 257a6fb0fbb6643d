"""The lessons' exercises: the checker's verdicts, and each lesson run with the solution and a wrong answer.

Stored lessons show their exercises unanswered ("Your turn"); here papermill injects an answer through
the lesson's parameters cell and the check cell's printed verdict is read back (sfnecs.evidence.exercises).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest

from sfnecs.evidence.exercises import Verdict, check

ROOT = Path(__file__).resolve().parent.parent


# ---- the checker -----------------------------------------------------------------------------------
def test_no_answer_is_your_turn_and_names_what_is_missing():
    assert check("retriers", None, [1]).status == "your turn"
    partial = check("counts", {"overlaps": 5, "skipped": None}, {"overlaps": 5, "skipped": 3})
    assert (partial.status, partial.message) == ("your turn", "still missing: skipped")


def test_a_wrong_answer_shows_both_values_and_the_hint():
    verdict = check("interval", 10, 12, hint="an overlap needs the job to outlast the interval")
    assert verdict == Verdict(
        "interval", "not quite", "the kit computes 12, you wrote 10. an overlap needs the job to outlast the interval"
    )
    assert str(verdict).startswith("Not quite (interval): ")


def test_a_right_answer_is_correct_whatever_container_papermill_used():
    assert check("sids", ["b", "a"], {"a", "b"}, unordered=True).correct
    assert check("path", ["A", "B"], ("A", "B")).correct  # a JSON list is the same answer as a tuple
    assert not check("path", ["B", "A"], ("A", "B")).correct  # order matters unless told otherwise
    assert check("counts", {"x": [1, 2]}, {"x": (1, 2)}, why="because").message == "because"


# ---- each lesson, answered right and wrong ----------------------------------------------------------------
#: lesson -> (parameters that answer every exercise right, parameters that answer them wrong). Each
#: lesson's exercises print their verdict with `print(check(...))` in the cell after the answer cell.
LESSONS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}


def _verdicts(notebook: Path) -> list[str]:
    """The verdict lines the executed lesson printed, in order."""
    lines = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") or output.get("data", {}).get("text/plain", "")
            lines += [
                line for line in text.splitlines() if line.startswith(("Your turn (", "Not quite (", "Correct ("))
            ]
    return lines


@pytest.mark.slow
@pytest.mark.parametrize("lesson", sorted(LESSONS))
@pytest.mark.parametrize("answered", ["right", "wrong"])
def test_each_lesson_accepts_the_solution_and_rejects_a_wrong_answer(lesson, answered, tmp_path, monkeypatch):
    monkeypatch.setenv("SFNECS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    right, wrong = LESSONS[lesson]
    out = tmp_path / f"{lesson}.ipynb"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / f"{lesson}.ipynb"),
        str(out),
        parameters=right if answered == "right" else wrong,
        kernel_name="sfnecs",
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
    )
    verdicts = _verdicts(out)
    assert verdicts, "the lesson printed no verdict"
    wanted = "Correct (" if answered == "right" else "Not quite ("
    assert all(v.startswith(wanted) for v in verdicts), verdicts


def test_stored_lessons_show_their_exercises_unanswered():
    for lesson in LESSONS:
        verdicts = _verdicts(ROOT / "notebooks" / f"{lesson}.ipynb")
        assert verdicts and all(v.startswith("Your turn (") for v in verdicts), (lesson, verdicts)

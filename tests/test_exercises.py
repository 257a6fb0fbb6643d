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
LESSONS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # 12-minute jobs every 10 minutes: 5 overlaps in B, 3 guard skips, 12 minutes the shortest safe interval;
    # live, tick 2 delivered twice (25-minute jobs every 10 minutes, 6 ticks): A launches 7 tasks, the
    # guard runs 2 and skips 5 deliveries
    "01_compare_patterns": (
        {
            "prediction": {"B overlapping launches": 5, "B+guard skipped runs": 3},
            "shortest_interval": 12,
            "live_prediction": {"A task launches": 7, "B+guard task launches": 2, "B+guard skipped runs": 5},
        },
        {
            "prediction": {"B overlapping launches": 6, "B+guard skipped runs": 3},
            "shortest_interval": 11,
            "live_prediction": {"A task launches": 6, "B+guard task launches": 2, "B+guard skipped runs": 4},
        },
    ),
    # without states:ListExecutions the guard's first state fails: no task, an access denial; guard and
    # notification off take their two statements away
    "02_iam_policies": (
        {
            "drill_prediction": {"run fails": True, "task started": False, "diagnosis": "access_denied"},
            "disappearing_sids": ["PublishRunNotifications", "GuardListsOwnExecutions"],
        },
        {
            "drill_prediction": {"run fails": False, "task started": True, "diagnosis": "none"},
            "disappearing_sids": ["PublishRunNotifications"],
        },
    ),
    # lesson 03: launch errors first, then States.TaskFailed; the guard's path; a hung job without a SIGTERM
    # handler times out like any other (States.Timeout) and is SIGKILLed after stopTimeout: 137
    "03_state_machine": (
        {
            "my_retriers": [["ECS.AmazonECSException", "AmazonECS.Unknown"], ["States.TaskFailed"]],
            "my_skipped_path": ["CheckRunning", "AlreadyRunning?", "SkippedOverlap"],
            "my_no_handler_run": {"status": "FAILED", "error": "States.Timeout", "exit_code": 137},
        },
        {
            "my_retriers": [["States.TaskFailed"], ["ECS.AmazonECSException", "AmazonECS.Unknown"]],
            "my_skipped_path": ["CheckRunning", "SkippedOverlap"],
            "my_no_handler_run": {"status": "FAILED", "error": "States.Timeout", "exit_code": 143},
        },
    ),
    # lesson 04: a firing delivered twice runs one task (the guard skips the other); 06:45 New York needs
    # the zone; 08:00 JST on weekdays is 23:00 UTC Sunday to Thursday on a legacy rule
    "04_schedule_and_run": (
        {
            "MY_DUPLICATE": {"tasks": 1, "skipped": 1},
            "ANSWER_EXPRESSION": "cron(45 6 ? * MON-FRI *)",
            "ANSWER_TIMEZONE": "America/New_York",
            "ANSWER_UTC_RULE": "cron(0 23 ? * SUN-THU *)",
        },
        {
            "MY_DUPLICATE": {"tasks": 2, "skipped": 0},
            "ANSWER_EXPRESSION": "cron(45 11 ? * MON-FRI *)",
            "ANSWER_TIMEZONE": "UTC",
            "ANSWER_UTC_RULE": "cron(0 23 ? * MON-FRI *)",
        },
    ),
    # the mystery image of seed 7 is arm64: ARM64 runs it, X86_64 meets exec format error
    "05_diagnose_exec_format_error": ({"MYSTERY_ANSWER": "ARM64"}, {"MYSTERY_ANSWER": "X86_64"}),
}


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

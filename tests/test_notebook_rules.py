"""House rules for notebooks and runbooks: short cells, no logic, a parameters cell, a named kernel."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
RUNBOOKS = sorted((ROOT / "runbooks").glob("*.ipynb"))
MAX_CODE_LINES = 15
#: a parameters cell holds declarations only (one `name = default  # help` a line), never logic
MAX_PARAMETER_LINES = 21  # 21: the deploy runbook's 20 stack and job settings, then `lang` as in every runbook


def code_lines(source: str) -> int:
    return sum(1 for line in source.splitlines() if line.strip() and not line.strip().startswith("#"))


@pytest.mark.parametrize("path", NOTEBOOKS + RUNBOOKS, ids=lambda p: p.name)
def test_cells_are_short_and_hold_no_logic(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(
            "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        )
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            assert all(isinstance(n, (ast.Assign, ast.AnnAssign)) for n in tree.body), (
                f"{path.name} cell {i}: a parameters cell holds assignments only"
            )
            assert code_lines(cell.source) <= MAX_PARAMETER_LINES, f"{path.name} cell {i}: too many parameters"
            continue
        assert code_lines(cell.source) <= MAX_CODE_LINES, f"{path.name} cell {i}: more than {MAX_CODE_LINES} lines"
        defs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        assert not defs, f"{path.name} cell {i} defines {defs[0].name}: logic belongs in lib/sfnecs"


@pytest.mark.parametrize("path", NOTEBOOKS + RUNBOOKS, ids=lambda p: p.name)
def test_parameters_cell_and_kernel(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: exactly one cell tagged parameters"
    assert nb.metadata["kernelspec"]["name"] == "sfnecs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lessons_have_goal_misconceptions_and_exercise(path):
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown").lower()
    assert "## goal" in text and "## try it" in text and "misconception" in text
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")


def test_the_five_lessons_exist():
    assert [p.stem for p in NOTEBOOKS] == [
        "01_compare_patterns",
        "02_iam_policies",
        "03_state_machine",
        "04_schedule_and_run",
        "05_diagnose_exec_format_error",
    ]

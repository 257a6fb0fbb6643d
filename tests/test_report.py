"""bench/report.py: the `ratio:` and `faults:` lines it collects, goals met or missed, BENCHMARKS.md."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def report():
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "bench" / "report.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_report"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def test_every_benchmark_prints_a_ratio_line_the_report_can_read(report):
    scripts = report.benches()
    assert "report.py" not in scripts and "faults.py" in scripts and "simulate.py" in scripts
    for script in scripts:
        text = (ROOT / "bench" / script).read_text()
        assert "ratio: " in text or "faults: " in text or "summarize(frame).line()" in text, script


def test_ratio_and_fault_lines_are_parsed_and_judged(report):
    run = report.parse(
        report.BenchRun(
            "x.py",
            0,
            stdout="\n".join(
                [
                    "clock: 576 firings in 3.2 s",
                    "ratio: clock = 12.5 (goal <= 20)",
                    "ratio: simulate = 262.71 (goal <= 5)",
                    "ratio: runbooks = 1.61 (goal <= 1.5) -- GOAL MISSED",
                    "info: not a ratio = 3 (goal <= 1)",
                    "ratio: broken = n/a (goal <= 1)",
                    "faults: 45 tried, 33 handled, 0 lost (12 documented limitations)",
                ]
            ),
        )
    )
    assert [(r.name, r.value, r.goal, r.met) for r in run.ratios] == [
        ("clock", 12.5, 20.0, True),
        ("simulate", 262.71, 5.0, False),
        ("runbooks", 1.61, 1.5, False),
    ]
    assert run.faults.startswith("faults: 45 tried, 33 handled, 0 lost")


def test_the_markdown_names_each_command_and_every_missed_goal(report):
    ok = report.parse(report.BenchRun("clock.py", 0, 1.0, "ratio: clock = 12.5 (goal <= 20)"))
    slow = report.parse(report.BenchRun("simulate.py", 0, 1.0, "ratio: simulate = 262.7 (goal <= 5)"))
    matrix = report.parse(
        report.BenchRun(
            "faults.py",
            1,
            1.0,
            "      fault variant verdict\n  oom  A  lost\n"
            "faults: 2 tried, 1 handled, 1 lost (0 documented limitations)",
        )
    )
    text = report.render([ok, slow, matrix], datetime(2026, 1, 1, tzinfo=UTC), ["wait_calls.py"])
    assert "| clock.py | clock | 12.5 | <= 20 | met | `.venv/bin/python bench/clock.py` |" in text
    assert "| simulate.py | simulate | 263 | <= 5 | **missed** |" in text
    assert "`simulate` = 263 misses its goal (<= 5)" in text
    assert "| faults.py | faults lost | 1 of 2 | = 0 | **missed** (exit status 1) |" in text
    assert "## Fault matrix" in text and "oom  A  lost" in text
    assert "| wait_calls.py | - | - | - | not run this time |" in text

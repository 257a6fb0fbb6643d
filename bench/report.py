"""Run every benchmark in bench/ and write BENCHMARKS.md: each ratio against its goal, and the fault matrix.

  .venv/bin/python bench/report.py                  # every bench/*.py but this one -> BENCHMARKS.md
  .venv/bin/python bench/report.py clock simulate   # only these (the others' rows say "not run")

Every benchmark prints its figures as `ratio: <name> = <value> (goal <= <goal>)` lines, measured
against a baseline taken in the same run; bench/faults.py ends with `faults: N tried, N handled, N
lost (...)` and prints the matrix. This script runs each in its own interpreter, one after another,
collects those lines, and writes them with the command that reproduces each figure and whether its
goal was met. A goal missed is reported as missed: the table is evidence, not a scoreboard.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RATIO = re.compile(r"^ratio: (?P<name>[\w.-]+) = (?P<value>[-+\w.]+) \(goal (?P<op><=|>=|<|>) (?P<goal>[-+\w.]+)")
FAULTS = re.compile(r"^faults: (?P<tried>\d+) tried, (?P<handled>\d+) handled, (?P<lost>\d+) lost(?P<rest>.*)$")
#: seconds one benchmark may take before it is stopped and reported as such
TIMEOUT = 1800


@dataclass
class Ratio:
    """One `ratio:` line: its name, value and goal."""

    name: str
    value: float
    op: str
    goal: float

    @property
    def met(self) -> bool:
        return {
            "<=": self.value <= self.goal,
            "<": self.value < self.goal,
            ">=": self.value >= self.goal,
            ">": self.value > self.goal,
        }[self.op]


@dataclass
class BenchRun:
    """What running one bench/*.py gave: its ratios, its fault line, its output and exit status."""

    script: str
    returncode: int | None = None  # None: not run
    seconds: float = 0.0
    stdout: str = ""
    stderr: str = ""
    ratios: list[Ratio] = field(default_factory=list)
    faults: str = ""

    @property
    def command(self) -> str:
        return f".venv/bin/python bench/{self.script}"


def parse(run: BenchRun) -> BenchRun:
    """Fill `ratios` and `faults` from the printed lines (a line that does not parse is left out)."""
    for line in run.stdout.splitlines():
        if m := RATIO.match(line.strip()):
            try:
                run.ratios.append(Ratio(m["name"], float(m["value"]), m["op"], float(m["goal"])))
            except ValueError:
                continue
        elif m := FAULTS.match(line.strip()):
            run.faults = line.strip()
    return run


def benches(only: list[str] | None = None) -> list[str]:
    """bench/*.py but this report, sorted; `only` (names with or without .py) picks some."""
    names = sorted(p.name for p in BENCH.glob("*.py") if p.name != Path(__file__).name)
    if only:
        wanted = {o if o.endswith(".py") else f"{o}.py" for o in only}
        unknown = wanted - set(names)
        if unknown:
            raise SystemExit(f"report: no benchmark {', '.join(sorted(unknown))} in bench/ (have {', '.join(names)})")
        names = [n for n in names if n in wanted]
    return names


def run_bench(script: str, timeout: float = TIMEOUT) -> BenchRun:
    run = BenchRun(script)
    t0 = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, str(BENCH / script)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        run.returncode, run.stdout, run.stderr = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        run.returncode = -1
        run.stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        run.stderr = f"stopped after {timeout:g} s"
    run.seconds = time.perf_counter() - t0
    return parse(run)


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def matrix_block(stdout: str) -> str:
    """The matrix bench/faults.py printed: its table and what follows, up to the faults line."""
    lines = stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("fault ")), None)
    return "\n".join(lines[start:]) if start is not None else stdout


def render(runs: list[BenchRun], started: datetime, skipped: list[str]) -> str:
    """BENCHMARKS.md: environment, the ratio table, notes on goals missed, the fault matrix, raw outputs."""
    rows, notes = [], []
    for run in runs:
        status = "" if run.returncode == 0 else f" (exit status {run.returncode})"
        if not run.ratios and not run.faults:
            rows.append(f"| {run.script} | - | - | - | no ratio printed{status} | `{run.command}` |")
        for r in run.ratios:
            verdict = "met" if r.met else "**missed**"
            rows.append(
                f"| {run.script} | {r.name} | {_fmt(r.value)} | {r.op} {_fmt(r.goal)} | {verdict}{status} | "
                f"`{run.command}` |"
            )
            if not r.met:
                notes.append(
                    f"- `{r.name}` = {_fmt(r.value)} misses its goal ({r.op} {_fmt(r.goal)}); see its output below."
                )
        if run.faults:
            m = FAULTS.match(run.faults)
            verdict = "met" if m and m["lost"] == "0" else "**missed**"
            rows.append(
                f"| {run.script} | faults lost | {m['lost'] if m else '?'} of {m['tried'] if m else '?'} | "
                f"= 0 | {verdict}{status} | `{run.command}` |"
            )
    for script in skipped:
        rows.append(f"| {script} | - | - | - | not run this time | `.venv/bin/python bench/{script}` |")
    cpu = os.cpu_count()
    out = [
        "# Benchmarks",
        "",
        f"Generated by `.venv/bin/python bench/report.py` on {started:%Y-%m-%d %H:%M} UTC "
        f"(Python {platform.python_version()}, {platform.system()} {platform.machine()}, {cpu} CPUs). "
        "Each ratio is measured against a baseline taken in the same run, on the same machine; absolute "
        "times mean little, and a busy machine moves the ratios. Re-run a line with its command.",
        "",
        "| benchmark | figure | value | goal | result | command |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    if notes:
        out += ["## Goals missed", "", *notes, ""]
    faults = next((r for r in runs if r.faults), None)
    if faults:
        out += [
            "## Fault matrix",
            "",
            "Every fault injected into pattern A and pattern B with and without the overlap guard, each cell "
            "a fresh stack (`sfnecs.evidence.fault_matrix`). *handled*: what the design promises happened; "
            "*limitation*: the behaviour AWS documents for that pattern (pattern A's silent failures, "
            "duplicates without the guard); *lost*: anything else, including anything left after teardown.",
            "",
            f"**{faults.faults}**",
            "",
            "```",
            matrix_block(faults.stdout).rstrip(),
            "```",
            "",
        ]
    out += ["## Outputs", ""]
    for run in runs:
        out += [
            f"<details><summary>{run.script}: {run.seconds:.0f} s, exit status {run.returncode}</summary>",
            "",
            "```",
            (run.stdout.rstrip() or "(no output)"),
            "```",
        ]
        if run.returncode != 0 and run.stderr.strip():
            out += ["", "stderr (last lines):", "", "```", "\n".join(run.stderr.strip().splitlines()[-15:]), "```"]
        out += ["", "</details>", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/report.py", description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"), help="where to write (default BENCHMARKS.md)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds per benchmark")
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    chosen = benches(args.only)
    runs = []
    for script in chosen:
        print(f"running bench/{script} ...", flush=True)
        run = run_bench(script, args.timeout)
        for r in run.ratios:
            print(f"  {r.name} = {_fmt(r.value)} (goal {r.op} {_fmt(r.goal)}): {'met' if r.met else 'MISSED'}")
        if run.faults:
            print(f"  {run.faults}")
        print(f"  {run.seconds:.0f} s, exit status {run.returncode}", flush=True)
        runs.append(run)
    skipped = [s for s in benches() if s not in chosen]
    Path(args.output).write_text(render(runs, started, skipped))
    print(f"wrote {args.output}")
    return 0 if all(r.returncode == 0 for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""The runbook chain's wall time against papermill executing as many empty notebooks, in this run.

  ratio = median(chain wall time) / median(wall time of N empty notebooks run one after another
          with papermill on the same kernel), N = the chain's length; goal <= 1.5.

The chain is `sfnecs.ops.chain.demo_steps()` (deploy, run_now, diagnose, deploy, run_now, audit,
teardown), each through `sfnecs.ops.runbook.run`, as `make demo` runs it (with warm kernels: the next
runbook's kernel boots while one runs); it is also timed without them. The empty notebook holds
only a parameters cell, so its time is a kernel start plus papermill's own work: the floor every
cold runbook pays. All run against one background sandbox started first (its start is printed on
its own line), interleaved, so drift in machine load hits them alike.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

GOAL = 1.5


def empty_notebook(path: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "sfnecs", "display_name": "Python (sfnecs)", "language": "python"}
    cell = nbformat.v4.new_code_cell('stack = "demo"')
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nbformat.write(nb, path)
    return path


def baseline(notebook: Path, n: int, out: Path) -> float:
    import papermill

    t0 = time.perf_counter()
    for i in range(n):
        papermill.execute_notebook(
            str(notebook),
            str(out / f"empty-{i}.ipynb"),
            parameters={"stack": "bench"},
            progress_bar=False,
            request_save_on_cell_execute=True,
        )
    return time.perf_counter() - t0


def chain(out: Path, warm: bool) -> tuple[float, float, bool]:
    """(wall time, seconds spent in the runbooks' own cells, every step as meant)."""
    import nbformat

    from sfnecs.ops.chain import demo_steps, run_chain

    t0 = time.perf_counter()
    report = run_chain(demo_steps("bench"), out, warm_kernels=warm)
    wall = time.perf_counter() - t0
    cells = sum(
        c.metadata.get("papermill", {}).get("duration") or 0.0
        for o in report.outcomes
        for c in nbformat.read(o.result.notebook, as_version=4).cells
        if c.cell_type == "code"
    )
    return wall, cells, report.ok


def main(repeats: int = 2) -> int:
    work = Path(tempfile.mkdtemp(prefix="sfnecs-bench-runbooks-"))
    try:
        return measure(work, repeats)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(work: Path, repeats: int) -> int:
    os.environ["SFNECS_HOME"] = str(work / "home")  # our own sandbox, never a user's
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(var, None)
    os.environ.setdefault("MPLBACKEND", "Agg")
    from sfnecs.ops.chain import demo_steps, shared_sandbox
    from sfnecs.ops.runbook import SANDBOX_SPEED

    n = len(demo_steps())
    notebook = empty_notebook(work / "empty.ipynb")
    t0 = time.perf_counter()
    runs: dict[str, list[float]] = {"base": [], "warm": [], "cold": [], "cells": []}
    ok = True
    with shared_sandbox(SANDBOX_SPEED):
        started = time.perf_counter() - t0
        for r in range(repeats + 1):  # round 0 warms disk caches and the sandbox: not counted
            b = baseline(notebook, n, work)
            w, cells, ok_w = chain(work / f"warm-{r}", True)
            c, _, ok_c = chain(work / f"cold-{r}", False)
            ok = ok and ok_w and ok_c
            if r:
                for key, value in (("base", b), ("warm", w), ("cold", c), ("cells", cells)):
                    runs[key].append(value)
            print(
                f"round {r}{' (warm-up)' if not r else ''}: chain {w:.1f} s (without warm kernels {c:.1f} s), "
                f"{n} empty notebooks {b:.1f} s",
                flush=True,
            )
    base, warm, cold, cells = (statistics.median(runs[k]) for k in ("base", "warm", "cold", "cells"))
    ratio = warm / base
    print(
        f"sandbox start (not in the ratio): {started:.1f} s; load average now {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs"
    )
    print(
        f"chain of {n} runbooks: {warm:.1f} s, of which {cells:.1f} s in the runbooks' own cells (AWS calls "
        f"into the sandbox, plots); {n} empty notebooks: {base:.1f} s (medians of {repeats})"
    )
    print(
        f"without warm kernels (each runbook starts its kernel when it begins): {cold:.1f} s, ratio {cold / base:.2f}"
    )
    print(f"ratio: runbooks = {ratio:.2f} (goal <= {GOAL}){'' if ratio <= GOAL else ' -- GOAL MISSED'}")
    if not ok:
        print("error: a chain step did not end as meant", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

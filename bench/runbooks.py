"""The runbook chain's wall time against papermill executing as many empty notebooks, in this run.

  ratio = median(chain wall time) / median(wall time of N empty notebooks run one after another
          with papermill on the same kernel), N = the chain's length; goal <= 1.5.

The chain is `sfnecs.chain.demo_steps()` (deploy, run_now, diagnose, deploy, run_now, audit,
teardown), each through `sfnecs.runbook.run`, as `make demo` runs it. The empty notebook holds only
a parameters cell, so its time is a kernel start plus papermill's own work: the floor every runbook
pays. Both run against one background sandbox started first (its start is printed on its own line),
interleaved, so drift in machine load hits both alike.
"""

from __future__ import annotations

import os
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
        papermill.execute_notebook(str(notebook), str(out / f"empty-{i}.ipynb"), parameters={"stack": "bench"},
                                   progress_bar=False, request_save_on_cell_execute=True)
    return time.perf_counter() - t0


def chain(out: Path) -> tuple[float, bool]:
    from sfnecs.chain import demo_steps, run_chain

    t0 = time.perf_counter()
    report = run_chain(demo_steps("bench"), out)
    return time.perf_counter() - t0, report.ok


def main(repeats: int = 2) -> int:
    work = Path(tempfile.mkdtemp(prefix="sfnecs-bench-runbooks-"))
    os.environ["SFNECS_HOME"] = str(work / "home")  # our own sandbox, never a user's
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(var, None)
    os.environ.setdefault("MPLBACKEND", "Agg")
    from sfnecs.chain import demo_steps, shared_sandbox
    from sfnecs.runbook import SANDBOX_SPEED

    n = len(demo_steps())
    notebook = empty_notebook(work / "empty.ipynb")
    t0 = time.perf_counter()
    with shared_sandbox(SANDBOX_SPEED):
        started = time.perf_counter() - t0
        chains, bases, ok = [], [], True
        for r in range(repeats + 1):  # the first round warms disk caches and the sandbox; not counted
            b = baseline(notebook, n, work)
            c, passed = chain(work / f"chain-{r}")
            ok = ok and passed
            if r:
                bases.append(b)
                chains.append(c)
            print(f"round {r}{' (warm-up)' if not r else ''}: chain {c:.1f} s, {n} empty notebooks {b:.1f} s",
                  flush=True)
    c, b = statistics.median(chains), statistics.median(bases)
    ratio = c / b
    print(f"sandbox start (not in the ratio): {started:.1f} s")
    print(f"chain of {n} runbooks: {c:.1f} s; {n} empty notebooks: {b:.1f} s (median of {repeats})")
    print(f"ratio: runbooks = {ratio:.2f} (goal <= {GOAL}){'' if ratio <= GOAL else ' -- GOAL MISSED'}")
    if not ok:
        print("error: a chain step did not end as meant", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

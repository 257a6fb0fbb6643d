"""The fault matrix: every fault x pattern A / B+guard / B-guard, injected in a fresh sandbox.

Prints one row per cell (tasks run, retried, noticed, notified, diagnosis, duplicate/overlap, what
teardown left, verdict against the design's promise), the mismatches if any, and ends with
  faults: N tried, N handled, N lost (N documented limitations)
"handled": the kit did what it promises (pattern A alerting as AWS recommends: its failed tasks are
noticed and notified by the EventBridge rule on task state change events); "limitation": the outcome AWS
documents for that pattern (A's RunTask `failures` that start no task, its hung task, duplicates; B's
duplicates with the guard off); "lost": anything else. The exit
status is 1 when any cell is lost. Launch retries wait on the sandbox clock; the hang cells wait
their Task TimeoutSeconds in real seconds; the whole matrix takes a few minutes.
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from sfnecs.deploy.target import connect
from sfnecs.evidence import fault_matrix
from sfnecs.sandbox import Sandbox

SPEED = 50.0


def main() -> int:
    t0 = time.perf_counter()
    with Sandbox(speed=SPEED, export=False) as sb:
        target = connect("sandbox", endpoint_url=sb.endpoint)
        frame = fault_matrix.run_matrix(target, restart=fault_matrix.restart_in_process(sb))
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_colwidth", 48):
        print(fault_matrix.table(frame).to_string(index=False))
    lost = frame[frame["verdict"] == "lost"]
    for row in lost.itertuples():
        print(f"LOST {row.fault} / {row.variant}: {row.mismatch} | {row.detail}")
    print(f"settings: {frame.attrs['settings']}; {time.perf_counter() - t0:.0f} s")
    print(fault_matrix.summarize(frame).line())
    return 1 if len(lost) else 0


if __name__ == "__main__":
    sys.exit(main())

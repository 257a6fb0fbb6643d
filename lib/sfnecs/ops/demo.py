"""`make demo`: the runbook chain in the sandbox for a sample job, with one deliberate failure.

deploy (an arm64 image on an X86_64 task) -> run_now (fails: exec format error) -> diagnose (says
why and how to fix it) -> deploy (the fix: ARM64) -> run_now (succeeds) -> audit -> teardown. Each
step is a papermill runbook; the executed notebooks, their results and `index.html` land in runs/.
"""

from __future__ import annotations

import argparse
import sys

from sfnecs.exceptions import SfnecsError
from sfnecs.ops.chain import StepOutcome, demo_steps, run_chain, write_index
from sfnecs.ops.runbook import SANDBOX_SPEED


def _progress(outcome: StepOutcome) -> None:
    mark = "ok" if outcome.result.ok else "FAILED"
    meant = "" if outcome.as_expected else "  <- not as meant"
    print(f"  {outcome.step.runbook:<9} {mark:<6} {outcome.seconds:5.1f} s  {outcome.step.note}{meant}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sfnecs.ops.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="runs", help="where the executed runbooks go (default runs/)")
    parser.add_argument("--stack", default="demo", help="the sample stack's name (default demo)")
    parser.add_argument(
        "--speed",
        type=float,
        default=SANDBOX_SPEED,
        help="virtual seconds per real second of the sandbox, if the demo starts one",
    )
    args = parser.parse_args(argv)
    steps = demo_steps(args.stack)
    print(f"sfnecs demo: {len(steps)} runbooks against the sandbox (stack {args.stack}); a kernel starts for each")
    try:
        report = run_chain(steps, args.output, speed=args.speed, on_step=_progress)
        index = write_index(report, title=f"sfnecs demo: stack {args.stack}")
    except SfnecsError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 1
    print()
    print(report.table())
    print(
        f"\n{'every step ended as meant' if report.ok else 'SOME STEPS DID NOT END AS MEANT'}; "
        f"{report.seconds:.1f} s; sandbox {'started for the demo and stopped' if report.sandbox_started else 'reused'}"
    )
    print(f"executed notebooks, results and HTML: {index}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

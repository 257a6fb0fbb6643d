"""The `prove` suite's wall time against running the same paths as live executions in the sandbox.

  ratio = wall time of sfnecs.proofs.prove (every path, TestState, no task)
          / wall time of live executions taking the same paths on the same deployed stack in this run
          (success, job fails, launch retried then success, launch retries exhausted, timeout, guard skip)
Goal <= 0.2: a proof must be much cheaper than a run. Both are measured after the stack is deployed;
the live runs use the sandbox's faults, its clock at SPEED and the lesson's short TimeoutSeconds.
"""

from __future__ import annotations

import sys
import time

from sfnecs import runs
from sfnecs.deploy import stack
from sfnecs.deploy.target import connect
from sfnecs.images.sample import push_sample_image
from sfnecs.model import StackSpec
from sfnecs.proofs import prove
from sfnecs.sandbox import Sandbox

SPEED = 50.0
GOAL = 0.2
FAST = runs.Backoff(initial=0.1, factor=1.5, cap=0.5)


def _live(target, spec) -> float:
    """Seconds to run every path as an execution (faults steer each run down its path)."""
    family = spec.family
    faults = {
        "success": [],
        "job fails": [{"kind": "exit_code", "exit_code": 3}],
        "launch retried, then success": [{"kind": "runtask_failure", "reason": "RESOURCE:MEMORY", "count": 1}],
        "launch retries exhausted": [
            {"kind": "runtask_failure", "reason": "RESOURCE:MEMORY", "count": spec.launch_retry_attempts + 1}
        ],
    }
    started = time.perf_counter()
    for name, injected in faults.items():
        for fault in injected:
            target.control("POST", "faults", {**fault, "family": family})
        result = runs.wait(
            target, runs.start(target, spec, name=name.replace(" ", "-").replace(",", "")), progress=False, backoff=FAST
        )
        print(f"live {name}: {result.status} in {time.perf_counter() - started:.1f} s (cumulative)")
    # timeout and guard skip in one go, as lesson 03 runs them: a hung job and an overlapping start
    target.control("POST", "faults", {"kind": "hang", "family": family})
    hung = runs.start(target, spec, name="hangs")
    overlapping = runs.start(target, spec, name="overlapping")
    for run in (hung, overlapping):
        runs.wait(target, run, progress=False, backoff=FAST)
    return time.perf_counter() - started


def main() -> int:
    with Sandbox(speed=SPEED, export=False) as sb:
        target = connect("sandbox", endpoint_url=sb.endpoint)
        subnets, groups = stack.default_network(target)
        spec = StackSpec(
            "bench-prove",
            region=target.region,
            account=target.account,
            subnets=subnets[:2],
            security_groups=groups,
            assign_public_ip=True,
            task_timeout_seconds=3,
            launch_retry_attempts=1,
            schedule_expression="cron(0 3 * * ? *)",
            environment=(("SFNECS_DURATION", "60"),),
        )
        stack.apply(target, spec)
        push_sample_image(target, spec.repository, "amd64")
        live = _live(target, spec)
        t = time.perf_counter()
        report = prove(target, spec)
        proof = time.perf_counter() - t
        print(report.summary())
    ratio = proof / live
    print(f"prove: {proof:.2f} s for {len(report.steps)} TestState steps; live executions: {live:.2f} s")
    print(f"ratio: prove_vs_live = {ratio:.3f} (goal <= {GOAL})")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())

"""API calls to wait for a 60 s job: `runs.wait` (exponential backoff) vs polling every second.

  ratio = (calls runs.wait makes, its final reads of history and logs included)
          / (DescribeExecution calls of a loop polling once per second until the execution ends)
Goal <= 0.25.

Both wait for the same pattern B stack, one execution each, side by side in one sandbox run. The
sandbox clock runs SPEED times faster than real time, so both pollers are scaled by the same factor
(`Backoff.scaled`, and 1/SPEED s for the naive loop): the counts are those of a real-time wait.
The sandbox's own call log is read too, to show that `RunResult.api_calls` counts every call.
"""

from __future__ import annotations

import sys
import time

from sfnecs import runs
from sfnecs.deploy import stack
from sfnecs.deploy.target import connect
from sfnecs.images.sample import push_sample_image
from sfnecs.model import StackSpec
from sfnecs.runs import Backoff
from sfnecs.sandbox import Sandbox

SPEED = 10.0
JOB_SECONDS = 60
GOAL = 0.25


#: the calls a waiter makes; the state machine's own calls (ListExecutions for its overlap guard,
#: RunTask and the `.sync` DescribeTasks polling) also reach the sandbox and are left out
WAITER_CALLS = ("states.DescribeExecution", "states.GetExecutionHistory", "logs.GetLogEvents")


def _calls(sb: Sandbox) -> int:
    """Waiter calls in the sandbox's call log since it was last cleared."""
    counts = sb.control("GET", "calls", {})["calls"]
    return sum(counts.get(k, 0) for k in WAITER_CALLS)


def main() -> int:
    with Sandbox(speed=SPEED, export=False) as sb:
        target = connect("sandbox", endpoint_url=sb.endpoint)
        subnets, groups = stack.default_network(target)
        # run by hand only (schedule disabled); JSONPath, as the sandbox evaluates JSONata only with Java
        spec = StackSpec(
            "bench",
            region=target.region,
            account=target.account,
            subnets=subnets[:1],
            security_groups=groups,
            assign_public_ip=True,  # the default VPC: no NAT gateway, the public IP is the path to the registry
            environment={"SFNECS_DURATION": str(JOB_SECONDS)},
            schedule_enabled=False,
            query_language="JSONPath",
        )
        stack.apply(target, spec)
        push_sample_image(target, spec.repository, "amd64")
        sfn = target.client("stepfunctions")

        naive_run = runs.start(target, spec, name="naive")
        sb.control("DELETE", "calls", {})
        naive, t0 = 0, time.monotonic()
        while True:
            naive += 1
            time.sleep(max(0.0, t0 + naive / SPEED - time.monotonic()))  # a fixed 1 s (virtual) cadence
            if sfn.describe_execution(executionArn=naive_run.arn)["status"] != "RUNNING":
                break
        naive_logged = _calls(sb)

        started = runs.start(target, spec, name="backoff")
        sb.control("DELETE", "calls", {})
        result = runs.wait(target, started, progress=False, backoff=Backoff().scaled(SPEED))
        backoff_logged = _calls(sb)
        stack.teardown(target, spec, delete_logs=True, delete_images=True)

    ratio = result.api_calls / naive
    print(f"wait_calls: a {JOB_SECONDS} s job ({result.status}, ran {result.run_seconds:.0f} s virtual) at x{SPEED:g}")
    print(f"  naive 1 s polling : {naive:3d} DescribeExecution calls (sandbox log: {naive_logged})")
    print(
        f"  runs.wait backoff : {result.api_calls:3d} calls, final reads included (sandbox log: {backoff_logged}); "
        f"{Backoff()}"
    )
    print(f"ratio: wait_calls = {ratio:.2f} (goal <= {GOAL})")
    ok = result.ok and result.api_calls == backoff_logged and ratio <= GOAL
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

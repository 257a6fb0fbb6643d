"""A day of a 5-minute schedule through the sandbox clock: wall time per firing vs one StartExecution.

  ratio = (wall time to fire and deliver 288 firings, both patterns, emulated tasks) / 288 / 2
          divided by the median wall time of one bare StartExecution call (Pass machine) in this run.
Goal <= 20.
"""

from __future__ import annotations

import json
import statistics
import time

from sfnecs.sandbox import Sandbox

DAY_STEPS = 24 * 12
ROLE = "arn:aws:iam::123456789012:role/bench"


def main() -> int:
    # the roles here are made up: this bench measures the clock, not IAM (sfnecs.sandbox.enforcement)
    with Sandbox(export=False, enforce_iam=False) as sb:
        sfn, ecs, sched = sb.client("stepfunctions"), sb.client("ecs"), sb.client("scheduler")
        subnet = sb.client("ec2").describe_subnets()["Subnets"][0]["SubnetId"]
        ecs.create_cluster(clusterName="bench")
        td = ecs.register_task_definition(
            family="bench",
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[
                {"name": "job", "image": "busybox", "environment": [{"name": "SFNECS_DURATION", "value": "60"}]}
            ],
        )["taskDefinition"]["taskDefinitionArn"]
        pass_sm = sfn.create_state_machine(
            name="bare",
            roleArn=ROLE,
            definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        )["stateMachineArn"]
        bare = []
        for _ in range(50):
            t = time.perf_counter()
            sfn.start_execution(stateMachineArn=pass_sm, input="{}")
            bare.append(time.perf_counter() - t)
        sync_sm = sfn.create_state_machine(
            name="sync",
            roleArn=ROLE,
            definition=json.dumps(
                {
                    "StartAt": "Run",
                    "States": {
                        "Run": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::ecs:runTask.sync",
                            "End": True,
                            "Parameters": {
                                "LaunchType": "FARGATE",
                                "Cluster": "bench",
                                "TaskDefinition": "bench",
                                "NetworkConfiguration": {
                                    "AwsvpcConfiguration": {"Subnets": [subnet], "AssignPublicIp": "ENABLED"}
                                },
                            },
                        }
                    },
                }
            ),
        )["stateMachineArn"]
        cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/bench"
        sb.clock.pause()
        for name, target in (
            ("b", {"Arn": sync_sm, "RoleArn": ROLE}),
            (
                "a",
                {
                    "Arn": cluster,
                    "RoleArn": ROLE,
                    "EcsParameters": {
                        "TaskDefinitionArn": td,
                        "LaunchType": "FARGATE",
                        "NetworkConfiguration": {
                            "awsvpcConfiguration": {"Subnets": [subnet], "AssignPublicIp": "ENABLED"}
                        },
                    },
                },
            ),
        ):
            sched.create_schedule(
                Name=name, ScheduleExpression="cron(0/5 * * * ? *)", FlexibleTimeWindow={"Mode": "OFF"}, Target=target
            )
        sb.tick()
        t0 = time.perf_counter()
        for _ in range(DAY_STEPS):  # a day in 5-minute steps
            sb.clock.advance(minutes=5)
            sb.tick()
        wall = time.perf_counter() - t0
        firings = sum(d.outcome == "delivered" for d in sb.scheduler.deliveries)
        if firings != 2 * DAY_STEPS:
            from collections import Counter

            print(
                "deliveries:",
                Counter((d.target_arn.rsplit(":", 1)[-1], d.outcome) for d in sb.scheduler.deliveries),
                "pending:",
                sb.scheduler.summary()["pending"],
            )
    per_firing = wall / max(firings, 1)
    ratio = per_firing / statistics.median(bare)
    print(f"clock: {firings} firings in {wall:.2f} s; one StartExecution {statistics.median(bare) * 1000:.1f} ms")
    print(f"ratio: clock = {ratio:.1f} (goal <= 20)")
    return 0 if firings == 2 * DAY_STEPS else 1


if __name__ == "__main__":
    raise SystemExit(main())

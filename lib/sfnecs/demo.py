"""`make demo`: a sample scheduled job deployed to the sandbox and run once through Step Functions.

Why plain boto3 here: the demo shows that ordinary AWS code works against the sandbox unchanged.
"""

from __future__ import annotations

import json
import sys
import time

from sfnecs.sandbox import Sandbox

ACCOUNT, REGION = "123456789012", "us-east-1"


def main() -> int:
    with Sandbox(speed=20) as sb:
        print(f"sandbox running at {sb.endpoint} (clock x20)")
        import boto3

        ec2, ecs, logs, sfn, sched = (boto3.client(s, region_name=REGION)
                                      for s in ("ec2", "ecs", "logs", "stepfunctions", "scheduler"))
        subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
        ecs.create_cluster(clusterName="demo")
        logs.create_log_group(logGroupName="/ecs/demo")
        ecs.register_task_definition(
            family="demo-job", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
            containerDefinitions=[{"name": "job", "image": "public.ecr.aws/docker/library/busybox:latest",
                                   "command": ["sh", "-c", "echo nightly report started; sleep 30; echo done; exit 0"],
                                   "logConfiguration": {"logDriver": "awslogs", "options": {
                                       "awslogs-group": "/ecs/demo", "awslogs-region": REGION,
                                       "awslogs-stream-prefix": "demo"}}}])
        definition = {"StartAt": "RunJob", "States": {"RunJob": {
            "Type": "Task", "Resource": "arn:aws:states:::ecs:runTask.sync", "End": True,
            "Parameters": {"LaunchType": "FARGATE", "Cluster": "demo", "TaskDefinition": "demo-job",
                           "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": [subnet]}}}}}}
        sm = sfn.create_state_machine(name="demo", definition=json.dumps(definition),
                                      roleArn=f"arn:aws:iam::{ACCOUNT}:role/demo-sfn")["stateMachineArn"]
        sched.create_schedule(Name="demo", ScheduleExpression="cron(0 9 * * ? *)",
                              ScheduleExpressionTimezone="Asia/Tokyo", FlexibleTimeWindow={"Mode": "OFF"},
                              Target={"Arn": sm, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/demo-scheduler"})
        print("deployed: cluster demo, task definition demo-job, state machine demo, schedule cron(0 9 * * ? *) Tokyo")
        arn = sfn.start_execution(stateMachineArn=sm, name="demo-run-1", input="{}")["executionArn"]
        deadline = time.monotonic() + 60
        while (d := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
            if time.monotonic() > deadline:
                print("the run did not finish within 60 s", file=sys.stderr)
                return 1
            time.sleep(0.2)
        task = json.loads(d.get("output") or "{}")
        print(f"execution {d['name']}: {d['status']}")
        if task:
            print(f"  exit code {task['Containers'][0].get('ExitCode')}, stop code {task.get('StopCode')}, "
                  f"ran {(task['StoppingAt'] - task['StartedAt']) / 1000:.0f} s (virtual)")
            stream = f"demo/job/{task['TaskArn'].rsplit('/', 1)[1]}"
            for e in logs.get_log_events(logGroupName="/ecs/demo", logStreamName=stream)["events"]:
                print(f"  log: {e['message']}")
        return 0 if d["status"] == "SUCCEEDED" else 1


if __name__ == "__main__":
    raise SystemExit(main())

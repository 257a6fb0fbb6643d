"""`sfnecs plan|apply|verify|teardown|run` (sfnecs.cli.stack) end to end in the sandbox, through `sfnecs.cli.main`.

Changing commands must show their plan and change nothing without --confirm; every command's
exit status says whether it worked; bad arguments are refused before any AWS call.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from tests.test_stack import make_spec, mutating_calls, tagged_resources

from sfnecs.cli import main
from sfnecs.deploy import stack
from sfnecs.images.sample import push_sample_image

#: a nightly cron: an enabled rate() schedule would fire at creation and start a run of its own
QUIET = ["--schedule", "cron(0 3 * * ? *)"]


def sfnecs(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """Run the `sfnecs` command in-process; (exit status, stdout, stderr)."""
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.sandbox
def test_apply_without_confirm_shows_the_plan_and_changes_nothing(target, sandbox, capsys):
    sandbox.control("DELETE", "calls", {})
    code, out, _ = sfnecs(capsys, "apply", "--stack", "cli-dry", "--pattern", "A", *QUIET)
    assert code == 0
    assert "AWS::Scheduler::Schedule" in out and "create" in out and "re-run with --confirm" in out
    assert mutating_calls(sandbox) == {}
    assert tagged_resources(target, "cli-dry") == []
    code, out, _ = sfnecs(capsys, "teardown", "--stack", "cli-dry", "--pattern", "A", "--confirm")
    assert code == 0 and "(nothing)" in out


@pytest.mark.sandbox
def test_plan_apply_verify_run_and_teardown_a_pattern_b_stack(target, sandbox, capsys):
    name = "cli-b"
    code, out, _ = sfnecs(capsys, "plan", "--stack", name, *QUIET)
    assert code == 0 and "AWS::StepFunctions::StateMachine" in out and "no-op" not in out

    code, out, _ = sfnecs(capsys, "apply", "--stack", name, *QUIET, "--confirm")
    assert code == 0 and "True" in out  # the `done` column
    spec = make_spec(target, name).replace(subnets=stack.default_network(target)[0])  # all subnets, as the CLI
    assert set(stack.plan(target, spec).to_frame()["action"]) == {"no-op"}  # the CLI built the same spec as the library
    code, out, _ = sfnecs(capsys, "plan", "--stack", name, *QUIET)
    assert code == 0 and "create" not in out and "update" not in out

    # no image pushed yet: verify fails (exit 1) and names the fix
    code, out, _ = sfnecs(capsys, "verify", "--stack", name, *QUIET)
    assert code == 1 and "image exists" in out and "fail" in out
    push_sample_image(target, spec.repository, "amd64")
    code, out, _ = sfnecs(capsys, "verify", "--stack", name, *QUIET)
    # no row's status is fail (alarm names such as <stack>-executions-failed may say "fail")
    assert code == 0 and not re.search(r"\s+fail\s{2,}", out.split("status", 1)[1])
    # the image is amd64: an ARM64 stack fails the platform check
    code, out, _ = sfnecs(capsys, "verify", "--stack", name, *QUIET, "--cpu-architecture", "ARM64")
    assert code == 1 and "image platform matches runtimePlatform" in out

    # an intended time (not the wall clock) names the run: the rerun below is in the same minute for sure
    at = ["--at", "2030-01-31T09:00:10Z"]
    code, out, _ = sfnecs(capsys, "run", "--stack", name, *QUIET, *at, "--wait", "--timeout", "60")
    started, report = out.split("\n", 1)
    assert code == 0 and started.startswith("started: arn:aws:states:")
    result = json.loads(report)
    assert result["status"] == "SUCCEEDED" and result["exit_code"] == 0 and result["ok"] is True
    # again in the same minute: the same execution (deduplicated by its name), not a second run
    code, out, _ = sfnecs(capsys, "run", "--stack", name, *QUIET, "--at", "2030-01-31T09:00:50Z")
    assert code == 0 and out.startswith(f"already started: {started.split(': ', 1)[1]}")
    assert started.endswith(":run-20300131T0900Z")

    sandbox.control("DELETE", "calls", {})
    code, out, _ = sfnecs(capsys, "teardown", "--stack", name, *QUIET)
    assert code == 0 and "delete" in out and "nothing deleted" in out
    assert mutating_calls(sandbox) == {} and tagged_resources(target, name)
    code, out, _ = sfnecs(capsys, "teardown", "--stack", name, *QUIET, "--confirm")
    # the log groups and the repository stay unless asked, each with how to remove it
    left = tagged_resources(target, name)
    wanted = (f"/ecs/{name}", f"/aws/vendedlogs/states/{name}", f"repository/{name}")
    assert code == 0 and len(left) == 3 and all(any(x.endswith(w) for x in left) for w in wanted), left
    assert f"/ecs/{name}: kept: the logs of past runs; remove with delete_logs=True" in out
    code, out, _ = sfnecs(capsys, "teardown", "--stack", name, *QUIET, "--confirm", "--delete-logs", "--delete-images")
    assert code == 0 and tagged_resources(target, name) == []


@pytest.mark.sandbox
def test_run_a_pattern_a_stack_reports_a_failed_job_with_exit_status_1(target, sandbox, capsys):
    name = "cli-a"
    assert sfnecs(capsys, "apply", "--stack", name, "--pattern", "A", *QUIET, "--confirm")[0] == 0
    spec = make_spec(target, name, pattern="A")
    push_sample_image(target, spec.repository, "amd64")
    try:
        sandbox.control("POST", "faults", {"kind": "exit_code", "exit_code": 4, "family": spec.family})
        code, out, _ = sfnecs(capsys, "run", "--stack", name, "--pattern", "A", *QUIET, "--timeout", "60")
        result = json.loads(out)
        assert code == 1 and result["status"] == "FAILED" and result["exit_code"] == 4
        assert result["log_tail"][-1] == "job failed: exiting with code 4"
    finally:
        sandbox.control("DELETE", "faults", {})
        sfnecs(
            capsys,
            "teardown",
            "--stack",
            name,
            "--pattern",
            "A",
            *QUIET,
            "--confirm",
            "--delete-logs",
            "--delete-images",
        )
    assert tagged_resources(target, name) == []


@pytest.mark.sandbox
def test_capacity_provider_flag_runs_the_task_on_fargate_spot(target, sandbox, capsys):
    name, spot = "cli-spot", ["--pattern", "A", *QUIET, "--capacity-provider", "FARGATE_SPOT"]
    assert sfnecs(capsys, "apply", "--stack", name, *spot, "--confirm")[0] == 0
    spec = make_spec(target, name, pattern="A")
    push_sample_image(target, spec.repository, "amd64")
    try:
        assert sfnecs(capsys, "verify", "--stack", name, *spot)[0] == 0
        code, out, _ = sfnecs(capsys, "run", "--stack", name, *spot, "--timeout", "60")
        assert code == 0, out
        task = target.client("ecs").describe_tasks(cluster=spec.cluster, tasks=[json.loads(out)["task_arn"]])
        assert task["tasks"][0]["capacityProviderName"] == "FARGATE_SPOT"
    finally:
        sfnecs(capsys, "teardown", "--stack", name, *spot, "--confirm", "--delete-logs", "--delete-images")
    assert tagged_resources(target, name) == []


@pytest.mark.sandbox
@pytest.mark.parametrize(
    "argv, message",
    [
        (["plan", "--stack", "Bad_Name"], "name='Bad_Name'"),
        (["apply", "--stack", "cli-v", "--schedule", "every hour", "--confirm"], "schedule_expression='every hour'"),
        (["run", "--stack", "cli-v", "--timezone", "Mars/Olympus"], "timezone='Mars/Olympus'"),
        (
            ["run", "--stack", "cli-v", "--at", "2030-01-31T09:00"],
            "at='2030-01-31T09:00' is not valid: an ISO 8601 time with an offset",
        ),
        (
            ["plan", "--stack", "cli-v", "--capacity-provider", "SPOT"],
            "capacity_provider_strategy capacityProvider='SPOT' is not valid: use FARGATE or FARGATE_SPOT",
        ),
        (
            ["plan", "--stack", "cli-v", "--capacity-provider", "FARGATE_SPOT:lots"],
            "capacity_provider_strategy weight of FARGATE_SPOT='lots' is not valid",
        ),
        (["plan", "--stack", "cli-v", "--capacity-provider", "FARGATE:1:0:9"], "capacity_provider='FARGATE:1:0:9'"),
    ],
)
def test_bad_arguments_are_refused_before_any_aws_call(sandbox, capsys, argv, message):
    sandbox.control("DELETE", "calls", {})
    code, _, err = sfnecs(capsys, *argv)
    assert code == 2 and message in err and err.startswith("sfnecs: error: ")
    assert sandbox.control("GET", "calls", {})["total"] == 0

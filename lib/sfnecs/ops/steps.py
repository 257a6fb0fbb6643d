"""The operator's steps the runbooks take: build a stack from runbook parameters, find a deployed
stack, run it once, pick the run to diagnose, and turn each outcome into the runbook's result.

Why a module: a runbook cell calls one or two of these, so the steps are unit-tested and shared by
the notebooks, `sfnecs.ops.chain` (make demo) and the tests, instead of living in cells.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sfnecs.checks import check_name
from sfnecs.deploy.job_settings import with_job
from sfnecs.deploy.network import network_fields
from sfnecs.deploy.stack import ChangeSet, Verification, schedule_group
from sfnecs.exceptions import RunbookError, StackError, ValidationError
from sfnecs.i18n import tr
from sfnecs.images.sample import push_sample_image
from sfnecs.model.console import execution_link, links_markdown, run_links, stack_links, task_link
from sfnecs.model.fargate import check_capacity_provider_strategy
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target
from sfnecs.patterns.monthly_cost import monthly_cost
from sfnecs.runs import Backoff, RunResult, executions, run_direct, start, wait
from sfnecs.statemachine import RUN_JOB

__all__ = [
    "bare_spec",
    "deploy_result",
    "deploy_spec",
    "deployed_spec",
    "diagnose_result",
    "manual_run_name",
    "poll_backoff",
    "push_sample",
    "raise_if_failed",
    "show_links",
    "run_once",
    "run_result",
    "run_to_diagnose",
    "teardown_result",
]

FAILED_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")


def deploy_spec(
    target: Target,
    stack: str,
    *,
    pattern: str = "B",
    architecture: str = "X86_64",
    image: str = "",
    command: list[str] | tuple[str, ...] = (),
    schedule: str = "cron(0 3 * * ? *)",
    timezone: str = "UTC",
    schedule_enabled: bool = True,
    subnets: list[str] | tuple[str, ...] = (),
    security_groups: list[str] | tuple[str, ...] = (),
    capacity_provider: str = "",
    assign_public_ip: bool | None = None,
    **job: Any,
) -> StackSpec:
    """The StackSpec the deploy runbook applies: the target's region and account, the default VPC's
    subnets and default security group with the public IP on unless subnets are given (see
    sfnecs.deploy.network.network_fields); `capacity_provider` (e.g. FARGATE_SPOT) runs every task on
    that provider instead of launchType FARGATE. `job`: the job settings by name (cpu, memory, environment and
    secrets as NAME=VALUE, ...: sfnecs.deploy.job_settings.JOB_SETTINGS; None keeps the default)."""
    network = network_fields(target, subnets, security_groups, assign_public_ip)
    spec = StackSpec(
        stack,
        pattern=pattern,  # type: ignore[arg-type]  # checked by StackSpec (A or B), typed str by the runbook
        region=target.region,
        account=target.account,
        cpu_architecture=architecture,
        image=image,
        command=tuple(command),
        schedule_expression=schedule,
        timezone=timezone,
        schedule_enabled=schedule_enabled,
        capacity_provider_strategy=check_capacity_provider_strategy(capacity_provider) if capacity_provider else (),
        **network,
    )
    return with_job(spec, job)


def bare_spec(target: Target, stack: str) -> StackSpec:
    """A spec naming only the stack: every resource name derives from it (enough for teardown)."""
    return StackSpec(check_name("stack", stack, "stack"), region=target.region, account=target.account)


def deployed_spec(target: Target, stack: str) -> StackSpec:
    """The spec of a stack the deploy runbook created, read back from its schedule and task definition.

    Why read it back: run_now, diagnose and audit take only the stack's name; its pattern (the
    schedule's target is a state machine or a cluster), network, schedule and job come from AWS,
    so they cannot disagree with what is deployed.
    """
    base = bare_spec(target, stack)
    scheduler = target.client("scheduler")
    try:
        found = scheduler.get_schedule(Name=base.schedule_name, GroupName=schedule_group(base))
    except scheduler.exceptions.ResourceNotFoundException:
        raise StackError(
            f"stack {stack!r} is not deployed on target {target.name} in {target.region} (no schedule "
            f"{base.schedule_name} in group {schedule_group(base)}): run the deploy runbook first"
        ) from None
    changes: dict[str, Any] = {
        "schedule_expression": found["ScheduleExpression"],
        "timezone": found.get("ScheduleExpressionTimezone") or "UTC",
        "schedule_enabled": found.get("State", "ENABLED") == "ENABLED",
    }
    goal = found["Target"]
    if goal["Arn"].split(":")[2] == "states":
        changes["pattern"] = "B"
        run_job = json.loads(
            target.client("stepfunctions").describe_state_machine(stateMachineArn=goal["Arn"])["definition"]
        )["States"].get(RUN_JOB, {})
        strategy = (run_job.get("Arguments") or run_job.get("Parameters") or {}).get("CapacityProviderStrategy", [])
    else:
        vpc = goal["EcsParameters"]["NetworkConfiguration"]["awsvpcConfiguration"]
        changes.update(
            pattern="A",
            subnets=tuple(vpc["Subnets"]),
            security_groups=tuple(vpc.get("SecurityGroups", ())),
            assign_public_ip=vpc.get("AssignPublicIp") == "ENABLED",
        )
        strategy = goal["EcsParameters"].get("CapacityProviderStrategy", [])
    # items are camelCase in the Scheduler's EcsParameters, PascalCase in the state machine's RunJob
    changes["capacity_provider_strategy"] = tuple(
        (
            i.get("capacityProvider", i.get("CapacityProvider")),
            i.get("weight", i.get("Weight", 0)),
            i.get("base", i.get("Base", 0)),
        )
        for i in strategy
    )
    definition = target.client("ecs").describe_task_definition(taskDefinition=base.family)["taskDefinition"]
    container = next(
        (c for c in definition["containerDefinitions"] if c["name"] == base.container_name),
        definition["containerDefinitions"][0],
    )
    changes.update(
        container_name=container["name"],
        image=container["image"],
        command=tuple(container.get("command", ())),
        environment=tuple((e["name"], e["value"]) for e in container.get("environment", ())),
        secrets=tuple((e["name"], e["valueFrom"]) for e in container.get("secrets", ())),
        cpu=int(definition["cpu"]),
        memory=int(definition["memory"]),
        cpu_architecture=(definition.get("runtimePlatform") or {}).get("cpuArchitecture", "X86_64"),
    )
    return base.replace(**changes)


def push_sample(target: Target, spec: StackSpec, architecture: str, *, dry_run: bool = False) -> str | None:
    """Push a sample image for `architecture` to the stack's repository, when the stack uses it.

    Nothing is pushed for '' , in a dry run (the repository may not exist yet), or when the spec
    names an image of its own.
    """
    if not architecture or dry_run or spec.image_uri != bare_spec(target, spec.name).image_uri:
        return None
    ecr = target.client("ecr")
    try:
        return push_sample_image(target, spec.repository, architecture)
    except ecr.exceptions.ImageAlreadyExistsException:
        # ECR refuses PutImage of the very manifest a tag already names: the image is there as asked
        return spec.image_uri


def manual_run_name(now: datetime | None = None) -> str:
    """`manual-20240131T090012345Z`: unique per start, so two runs in one minute stay two runs.

    (The scheduler's runs are named after their minute, so that duplicates deduplicate; an operator
    who runs a job twice means two runs.)
    """
    now = now or datetime.now(UTC)
    return f"manual-{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z"


def run_once(
    target: Target,
    spec: StackSpec,
    *,
    name: str = "",
    timeout: float = 600.0,
    log_lines: int = 20,
    progress: bool = True,
) -> RunResult:
    """Run the stack's job now and wait for it: a state machine execution (B) or RunTask (A).

    The input `{"manual": true}` carries no `scheduled_time`, so an audit never counts a manual run
    as a duplicate of a scheduled one.
    """
    name = name or manual_run_name()
    backoff = poll_backoff(target)
    if spec.pattern == "A":
        return run_direct(
            target, spec, client_token=name, timeout=timeout, progress=progress, log_lines=log_lines, backoff=backoff
        )
    run = start(target, spec, {"manual": True}, name)
    return wait(target, run, timeout=timeout, progress=progress, log_lines=log_lines, backoff=backoff)


def poll_backoff(target: Target) -> Backoff:
    """The default poll delays, made `speed` times shorter when the target's clock runs `speed`x.

    Why: the sandbox's virtual clock runs a 10-minute job in seconds; polling it at AWS pace would
    make the waiting, not the job, the run time. AWS's clock has speed 1 (no control API).
    """
    speed = target.control("GET", "clock").get("speed", 1.0) if getattr(target, "is_sandbox", False) else 1.0
    return Backoff().scaled(min(speed, 50.0)) if speed > 1 else Backoff()  # 50x: polls 10 ms apart at most


def run_to_diagnose(target: Target, stack: str, run_arn: str = "", *, hours: float = 24.0) -> str | None:
    """`run_arn` if given, else the ARN of the stack's newest failed run in the last `hours` (None if none)."""
    if run_arn:
        return run_arn
    spec = deployed_spec(target, stack)
    frame = executions(target, spec, datetime.now(UTC) - timedelta(hours=hours))
    failed = frame[frame["status"].isin(FAILED_STATUSES)]
    return None if failed.empty else str(failed.iloc[0]["arn"])


# ---- results: what each runbook hands to save_result() ------------------------------------------
def _counts(changes: ChangeSet | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in changes.changes if changes else []:
        out[c.action] = out.get(c.action, 0) + 1
    return out


def deploy_result(
    spec: StackSpec,
    plan: Any,
    applied: ChangeSet | None,
    checks: Verification,
    image: str | None = None,
    *,
    strict: bool = False,
) -> dict[str, Any]:
    """The deploy runbook's result: the plan, what was changed, the verify checks; failing only when
    `strict` and a check fails (a failed check predicts a failed run; the run itself is run_now's)."""
    failed = [f"{c.check} ({c.resource}): {c.detail}" for c in checks.failed]
    ok = not (strict and failed)
    cost = monthly_cost(spec)
    return {
        "ok": ok,
        "stack": spec.name,
        "pattern": spec.pattern,
        "dry_run": applied is None,
        "plan": {str(k): int(v) for k, v in plan["action"].value_counts().items()},
        "applied": _counts(applied),
        "image": image or spec.image_uri,
        "verified": checks.ok,
        "checks": [{"check": c.check, "resource": c.resource, "status": c.status} for c in checks.checks],
        "failed_checks": failed,
        "links": stack_links(spec),
        "estimated_monthly_usd": round(cost.total, 2),
        "cost_assumptions": list(cost.assumptions),
        "error": None if ok else f"stack {spec.name}: {len(failed)} verify check(s) failed: {failed[0]}",
    }


def run_result(spec: StackSpec, result: RunResult) -> dict[str, Any]:
    """The run_now runbook's result: the RunResult, and a one-line error when the job did not succeed."""
    run = result.to_dict()
    # `error` is the runbook's one line (what the runner prints); the run's own error name stays as run_error
    out = {
        "ok": result.ok,
        "stack": spec.name,
        **{k: v for k, v in run.items() if k not in ("ok", "error")},
        "run_error": run["error"],
        "links": run_links(spec, result.execution_arn, result.task_arn),
        "error": None,
    }
    if not result.ok:
        parts = [
            f"exit code {result.exit_code}" if result.exit_code is not None else None,
            result.stopped_reason,
            (result.cause or "")[:200] if not result.task_arn else None,
            f"last log line: {result.log_tail[-1]}" if result.log_tail else None,
        ]
        out["error"] = f"job of stack {spec.name} {result.status}: " + "; ".join(p for p in parts if p)
    return out


def no_failed_run(stack: str, hours: float) -> str:
    """The diagnose runbook's line when there is nothing to diagnose (in the reader's language)."""
    return tr(
        "no failed run of stack {stack} in the last {hours} hours: nothing to diagnose",
        stack=stack,
        hours=format(hours, "g"),
    )


def diagnosis_headline(diagnosis: Any) -> str:
    """The diagnose runbook's headline: the verdict, then the summary (in the reader's language)."""
    return tr("{verdict}: {summary}", verdict=diagnosis.verdict, summary=diagnosis.summary) if diagnosis else ""


def diagnose_result(stack: str, run_arn: str | None, diagnosis: Any) -> dict[str, Any]:
    """The diagnose runbook's result: the category, summary, evidence and fix (or that nothing failed)."""
    if diagnosis is None:
        summary = tr("no failed run to diagnose")
        return {"ok": True, "stack": stack, "run_arn": None, "category": None, "summary": summary}
    links = {"execution": execution_link(run_arn or ""), "task": task_link(run_arn or "")}
    return {
        "ok": True,
        "stack": stack,
        "run_arn": run_arn,
        **diagnosis.to_dict(),
        "links": {k: v for k, v in links.items() if v},
    }


def teardown_result(planned: ChangeSet, done: ChangeSet | None) -> dict[str, Any]:
    """The teardown runbook's result: what was (or, in a dry run, would be) deleted and what was kept."""
    final = done or planned
    return {
        "ok": True,
        "stack": final.stack,
        "dry_run": done is None,
        "deleted": [f"{c.type} {c.resource}" for c in final.changes if c.action == "delete" and c.done],
        "would_delete": [f"{c.type} {c.resource}" for c in planned.changes if c.action == "delete"],
        "kept": [f"{c.type} {c.resource}: {c.reason}" for c in final.changes if c.action == "no-op"],
    }


def raise_if_failed(result: dict[str, Any]) -> dict[str, Any]:
    """End a runbook: raise RunbookError with the result's one-line error when it is not ok.

    Why raise: papermill then marks the notebook failed and the runner exits 1 with this line.
    """
    if not isinstance(result, dict):
        raise ValidationError("result", result, "the dict a runbook passed to save_result()")
    if result.get("ok") is False:
        raise RunbookError(str(result.get("error") or "the runbook's result says ok=false"))
    return result


def show_links(links: dict[str, str]) -> None:
    """Show the console links of a result as clickable Markdown in the notebook (a runbook's last cell),
    before any failure is raised: the links are where the operator looks next."""
    from IPython.display import Markdown, display  # IPython is there whenever a notebook runs this

    display(Markdown(links_markdown(links)))

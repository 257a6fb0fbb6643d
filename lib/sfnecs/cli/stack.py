"""`sfnecs plan|apply|verify|teardown|run`: the stack and run commands (a thin layer over stack.py and runs.py).

Why its own module: sfnecs.cli stays thin; it calls `register(subparsers)` to add these.
Changing commands (apply, teardown) show the plan and change nothing unless --confirm is given.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from sfnecs.cli.tables import show
from sfnecs.deploy.job_settings import JOB_SETTINGS, with_job
from sfnecs.deploy.network import network_fields
from sfnecs.deploy.target import connect
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import tr
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target


def spec_from_args(args: argparse.Namespace, target: Target) -> StackSpec:
    """The StackSpec the command line describes, in the target's region and account.

    Without --subnet, the target's default VPC supplies subnets and its default security group, with
    the public IP on unless --no-assign-public-ip (see sfnecs.deploy.network.network_fields).
    """
    values: dict[str, Any] = {
        "name": args.stack,
        "pattern": args.pattern,
        "region": target.region,
        "account": target.account,
    }
    if args.subnet:
        values["subnets"] = tuple(args.subnet)
    if args.security_group:
        values["security_groups"] = tuple(args.security_group)
    if args.assign_public_ip is not None:
        values["assign_public_ip"] = args.assign_public_ip
    for key in ("image", "cpu_architecture", "schedule_expression", "timezone"):
        if getattr(args, key, None) is not None:
            values[key] = getattr(args, key)
    if getattr(args, "capacity_provider", None):
        values["capacity_provider_strategy"] = tuple(_strategy_item(text) for text in args.capacity_provider)
    # every argument is validated here, before the first AWS call
    spec = with_job(StackSpec(**values), {key: getattr(args, key, None) for key in JOB_SETTINGS})
    if args.subnet:
        return spec
    return spec.replace(**network_fields(target, (), args.security_group or (), args.assign_public_ip))


def _strategy_item(text: str) -> tuple[str, Any, Any]:
    """`--capacity-provider NAME[:WEIGHT[:BASE]]` as (name, weight, base); StackSpec checks each part.

    Weight defaults to 1 (the provider alone takes every task), base to 0, as in the API.
    """
    parts = text.split(":")
    if not 1 <= len(parts) <= 3 or not parts[0]:
        raise ValidationError(
            "capacity_provider", text, "NAME[:WEIGHT[:BASE]], e.g. FARGATE_SPOT or FARGATE_SPOT:3 or FARGATE:1:1"
        )
    weight = parts[1] if len(parts) > 1 else "1"
    base = parts[2] if len(parts) > 2 else "0"
    return parts[0], int(weight) if weight.isdigit() else weight, int(base) if base.isdigit() else base


def _connect(args: argparse.Namespace) -> Any:
    return connect(args.target, region=args.region)


def _show(frame: Any) -> None:
    show(frame)  # in the CLI's language (sfnecs.cli.tables)


def _plan(args: argparse.Namespace) -> int:
    from sfnecs.deploy import stack  # lazy: pulls pandas (via sfnecs.iam), ~0.4 s on every `sfnecs` command

    target = _connect(args)
    _show(stack.plan(target, spec_from_args(args, target), email=args.email).to_frame())
    return 0


def _apply(args: argparse.Namespace) -> int:
    from sfnecs.deploy import stack  # lazy: pulls pandas (via sfnecs.iam), ~0.4 s on every `sfnecs` command

    target = _connect(args)
    spec = spec_from_args(args, target)
    if not args.confirm:
        _show(stack.plan(target, spec, email=args.email).to_frame())
        print(tr("nothing changed: re-run with --confirm to apply this plan"))
        return 0
    _show(stack.apply(target, spec, email=args.email).to_frame())
    return 0


def _teardown(args: argparse.Namespace) -> int:
    from sfnecs.deploy import stack  # lazy: pulls pandas (via sfnecs.iam), ~0.4 s on every `sfnecs` command

    target = _connect(args)
    spec = spec_from_args(args, target)
    result = stack.teardown(
        target, spec, dry_run=not args.confirm, delete_logs=args.delete_logs, delete_images=args.delete_images
    )
    _show(result.to_frame())
    if not args.confirm:
        print(tr("nothing deleted: re-run with --confirm to delete these resources"))
    for kept in result.kept:
        print(f"{kept.resource}: {kept.reason}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from sfnecs.deploy import stack  # lazy: pulls pandas (via sfnecs.iam), ~0.4 s on every `sfnecs` command

    target = _connect(args)
    result = stack.verify(target, spec_from_args(args, target), inspect_binary=args.inspect_binary)
    _show(result.to_frame())
    return 0 if result.ok else 1


def _run(args: argparse.Namespace) -> int:
    from sfnecs import runs  # lazy: pulls pandas (via sfnecs.deploy.stack), ~0.4 s on every `sfnecs` command

    at = _instant(args.at)  # checked before any call
    target = _connect(args)
    spec = spec_from_args(args, target)
    if spec.pattern == "A":
        result = runs.run_direct(target, spec, at=at, timeout=args.timeout)
    else:
        started = runs.start(target, spec, at=at)
        print(
            tr("already started: {arn}", arn=started.arn)
            if started.deduplicated
            else tr("started: {arn}", arn=started.arn)
        )
        if not args.wait:
            return 0
        result = runs.wait(target, started, timeout=args.timeout)
    print(json.dumps(result.to_dict(), indent=2, default=str))
    return 0 if result.ok else 1


def _instant(text: str | None) -> datetime | None:
    """`--at`: an ISO 8601 time with its offset (without one, the minute would depend on the reader)."""
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise ValidationError(
            "at", text, "an ISO 8601 time with an offset, e.g. 2030-01-31T09:00Z or 2030-01-31T18:00+09:00"
        )
    return at


def add_stack_arguments(p: argparse.ArgumentParser) -> None:
    """The stack flags every stack command shares (plan, apply, verify, teardown, run, export)."""
    p.add_argument("--stack", required=True, help="the stack name (1-32: lowercase letters, digits, '-')")
    p.add_argument(
        "--pattern", choices=("A", "B"), default="B", help="A: schedule -> RunTask; B: via Step Functions (default)"
    )
    p.add_argument("--target", choices=("sandbox", "aws"), default="sandbox", help="where (default: sandbox)")
    p.add_argument("--region", help="AWS region (target aws; default AWS_REGION)")
    p.add_argument("--subnet", action="append", help="subnet id (repeat); default: the default VPC's subnets")
    p.add_argument(
        "--security-group",
        action="append",
        dest="security_group",
        help="security group id (repeat); "
        "default: none with --subnet (the VPC's default group), else the default VPC's default group",
    )
    p.add_argument(
        "--assign-public-ip",
        action=argparse.BooleanOptionalAction,
        dest="assign_public_ip",
        help="give the task a public IP (needed to reach ECR from a public subnet without a NAT gateway); "
        "default: on with the default VPC's subnets, off with --subnet",
    )
    p.add_argument("--image", help="image URI (default: the stack's ECR repository, tag latest)")
    p.add_argument("--cpu-architecture", dest="cpu_architecture", choices=("X86_64", "ARM64"))
    p.add_argument("--schedule", dest="schedule_expression", help="e.g. 'cron(0 9 * * ? *)' or 'rate(1 hour)'")
    p.add_argument("--timezone", help="IANA time zone of the schedule, e.g. Asia/Tokyo")
    p.add_argument(
        "--capacity-provider",
        action="append",
        dest="capacity_provider",
        metavar="NAME[:WEIGHT[:BASE]]",
        help="run on a Fargate capacity provider instead of launchType FARGATE (repeat for a "
        "strategy), e.g. FARGATE_SPOT, or FARGATE_SPOT:3 --capacity-provider FARGATE:1:1",
    )
    _job_options(p)


def _job_options(p: argparse.ArgumentParser) -> None:
    """The job settings (sfnecs.deploy.job_settings.JOB_SETTINGS); omitted: StackSpec's defaults."""
    p.add_argument("--cpu", type=int, help="task CPU units, e.g. 256 (default), 1024")
    p.add_argument("--memory", type=int, help="task memory in MiB, e.g. 512 (default), 2048")
    p.add_argument(
        "--env",
        action="append",
        dest="environment",
        metavar="NAME=VALUE",
        help="a container environment variable (repeat)",
    )
    p.add_argument(
        "--secret",
        action="append",
        dest="secrets",
        metavar="NAME=ARN",
        help="a Secrets Manager secret ARN or SSM parameter ARN whose value the container gets as NAME "
        "(repeat); the execution role may read exactly these",
    )
    p.add_argument(
        "--task-policy-arn",
        action="append",
        dest="task_policy_arns",
        metavar="ARN",
        help="a managed policy attached to the task role (repeat)",
    )
    p.add_argument(
        "--task-timeout",
        type=int,
        dest="task_timeout_seconds",
        metavar="SECONDS",
        help="the longest one run of the job may take (default 3600)",
    )
    p.add_argument(
        "--retry-job-failures",
        type=int,
        dest="retry_job_failures",
        metavar="N",
        help="pattern B: run a failed job again up to N times (default 0)",
    )
    p.add_argument(
        "--guard",
        action=argparse.BooleanOptionalAction,
        help="pattern B: skip a run while the previous one runs (default on)",
    )
    p.add_argument("--platform-version", dest="platform_version", help="Fargate platform version (default LATEST)")
    p.add_argument(
        "--log-retention-days",
        type=int,
        dest="log_retention_days",
        metavar="DAYS",
        help="CloudWatch Logs retention of the job's logs (default 30; 0: forever)",
    )
    p.add_argument(
        "--notify-email",
        dest="notify_email",
        metavar="ADDRESS",
        help="subscribe this address to the alert topic (the recipient confirms by e-mail)",
    )
    p.add_argument(
        "--notify-topic-arn",
        dest="notify_topic_arn",
        metavar="ARN",
        help="send alerts to this existing SNS topic instead of the stack's own",
    )


def register(subparsers: Any) -> None:
    """Add plan, apply, verify, teardown and run to the `sfnecs` command."""
    specs = {
        "plan": (_plan, "show what apply would change (reads only)"),
        "apply": (_apply, "create or update the stack's resources (with --confirm)"),
        "verify": (_verify, "pre-flight checks: cluster, roles, image platform, log group, network, schedule"),
        "teardown": (_teardown, "delete the resources tagged for the stack (with --confirm)"),
        "run": (_run, "run the job once (pattern B: start an execution; A: RunTask) and report"),
    }
    for name, (func, help_text) in specs.items():
        p = subparsers.add_parser(name, help=help_text, description=help_text)
        add_stack_arguments(p)
        if name in ("plan", "apply"):
            p.add_argument("--email", help="subscribe this address to the alert topic (as --notify-email)")
        if name == "verify":
            p.add_argument(
                "--inspect-binary",
                action="store_true",
                dest="inspect_binary",
                help="also download the image's layers and read the entrypoint's ELF header (slower)",
            )
        if name in ("apply", "teardown"):
            p.add_argument("--confirm", action="store_true", help="make the changes (without it: show them only)")
        if name == "teardown":
            p.add_argument("--delete-logs", action="store_true", help="also delete the log groups (kept by default)")
            p.add_argument(
                "--delete-images",
                action="store_true",
                help="also delete the ECR repository and its images (kept by default)",
            )
        if name == "run":
            p.add_argument("--wait", action="store_true", help="pattern B: wait for the execution to end")
            p.add_argument("--timeout", type=float, default=7200.0, help="seconds to wait (default 7200)")
            p.add_argument(
                "--at",
                help="the run's intended time, e.g. 2030-01-31T09:00Z (default "
                "now): a second run for the same minute is the same run, not a new one",
            )
        p.set_defaults(func=func)


__all__ = ["add_stack_arguments", "register", "spec_from_args"]

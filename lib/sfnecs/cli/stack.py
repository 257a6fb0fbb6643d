"""`sfnecs plan|apply|verify|teardown|run`: the stack and run commands (a thin layer over stack.py and runs.py).

Why its own module: cli.py stays thin; it calls `register_cli(subparsers)` to add these.
Changing commands (apply, teardown) show the plan and change nothing unless --confirm is given.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from sfnecs.exceptions import ValidationError


def spec_from_args(args: argparse.Namespace, target: Any) -> Any:
    """The StackSpec the command line describes, in the target's region and account.

    Without --subnet, the target's default VPC supplies subnets and its default security group.
    """
    from sfnecs.model.spec import StackSpec
    from sfnecs.deploy.stack import default_network

    values: dict[str, Any] = {"name": args.stack, "pattern": args.pattern, "region": target.region,
                              "account": target.account}
    if args.subnet:
        values["subnets"] = tuple(args.subnet)
        values["security_groups"] = tuple(args.security_group or ())
    for key in ("image", "cpu_architecture", "schedule_expression", "timezone"):
        if getattr(args, key, None) is not None:
            values[key] = getattr(args, key)
    if getattr(args, "capacity_provider", None):
        values["capacity_provider_strategy"] = tuple(_strategy_item(text) for text in args.capacity_provider)
    spec = StackSpec(**values)  # every argument is validated here, before the first AWS call
    if args.subnet:
        return spec
    subnets, groups = default_network(target)
    return spec.replace(subnets=subnets, security_groups=groups)


def _strategy_item(text: str) -> tuple[str, Any, Any]:
    """`--capacity-provider NAME[:WEIGHT[:BASE]]` as (name, weight, base); StackSpec checks each part.

    Weight defaults to 1 (the provider alone takes every task), base to 0, as in the API.
    """
    parts = text.split(":")
    if not 1 <= len(parts) <= 3 or not parts[0]:
        raise ValidationError("capacity_provider", text, "NAME[:WEIGHT[:BASE]], e.g. FARGATE_SPOT or FARGATE_SPOT:3 "
                              "or FARGATE:1:1")
    weight = parts[1] if len(parts) > 1 else "1"
    base = parts[2] if len(parts) > 2 else "0"
    return parts[0], int(weight) if weight.isdigit() else weight, int(base) if base.isdigit() else base


def _connect(args: argparse.Namespace) -> Any:
    from sfnecs.deploy.target import connect

    return connect(args.target, region=args.region)


def _show(frame: Any) -> None:
    import pandas as pd

    with pd.option_context("display.max_colwidth", 80, "display.width", 200):
        print(frame.to_string(index=False) if len(frame) else "(nothing)")


def _plan(args: argparse.Namespace) -> int:
    from sfnecs.deploy import stack

    target = _connect(args)
    _show(stack.plan(target, spec_from_args(args, target), email=args.email))
    return 0


def _apply(args: argparse.Namespace) -> int:
    from sfnecs.deploy import stack

    target = _connect(args)
    spec = spec_from_args(args, target)
    if not args.confirm:
        _show(stack.plan(target, spec, email=args.email))
        print("nothing changed: re-run with --confirm to apply this plan")
        return 0
    _show(stack.apply(target, spec, email=args.email).to_frame())
    return 0


def _teardown(args: argparse.Namespace) -> int:
    from sfnecs.deploy import stack

    target = _connect(args)
    spec = spec_from_args(args, target)
    result = stack.teardown(target, spec, dry_run=not args.confirm)
    _show(result.to_frame())
    if not args.confirm:
        print("nothing deleted: re-run with --confirm to delete these resources")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from sfnecs.deploy import stack

    target = _connect(args)
    result = stack.verify(target, spec_from_args(args, target), inspect_binary=args.inspect_binary)
    _show(result.to_frame())
    return 0 if result.ok else 1


def _run(args: argparse.Namespace) -> int:
    from sfnecs import runs

    at = _instant(args.at)  # checked before any call
    target = _connect(args)
    spec = spec_from_args(args, target)
    if spec.pattern == "A":
        result = runs.run_direct(target, spec, at=at, timeout=args.timeout)
    else:
        started = runs.start(target, spec, at=at)
        print(f"{'already started' if started.deduplicated else 'started'}: {started.arn}")
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
        raise ValidationError("at", text, "an ISO 8601 time with an offset, e.g. 2030-01-31T09:00Z or "
                              "2030-01-31T18:00+09:00")
    return at


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stack", required=True, help="the stack name (1-32: lowercase letters, digits, '-')")
    p.add_argument("--pattern", choices=("A", "B"), default="B", help="A: schedule -> RunTask; B: via Step "
                   "Functions (default)")
    p.add_argument("--target", choices=("sandbox", "aws"), default="sandbox", help="where (default: sandbox)")
    p.add_argument("--region", help="AWS region (target aws; default AWS_REGION)")
    p.add_argument("--subnet", action="append", help="subnet id (repeat); default: the default VPC's subnets")
    p.add_argument("--security-group", action="append", dest="security_group", help="security group id (repeat)")
    p.add_argument("--image", help="image URI (default: the stack's ECR repository, tag latest)")
    p.add_argument("--cpu-architecture", dest="cpu_architecture", choices=("X86_64", "ARM64"))
    p.add_argument("--schedule", dest="schedule_expression", help="e.g. 'cron(0 9 * * ? *)' or 'rate(1 hour)'")
    p.add_argument("--timezone", help="IANA time zone of the schedule, e.g. Asia/Tokyo")
    p.add_argument("--capacity-provider", action="append", dest="capacity_provider", metavar="NAME[:WEIGHT[:BASE]]",
                   help="run on a Fargate capacity provider instead of launchType FARGATE (repeat for a "
                   "strategy), e.g. FARGATE_SPOT, or FARGATE_SPOT:3 --capacity-provider FARGATE:1:1")


def register_cli(subparsers: Any) -> None:
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
        _common(p)
        if name in ("plan", "apply"):
            p.add_argument("--email", help="subscribe this address to the alert topic (pattern B)")
        if name == "verify":
            p.add_argument("--inspect-binary", action="store_true", dest="inspect_binary",
                           help="also download the image's layers and read the entrypoint's ELF header (slower)")
        if name in ("apply", "teardown"):
            p.add_argument("--confirm", action="store_true", help="make the changes (without it: show them only)")
        if name == "run":
            p.add_argument("--wait", action="store_true", help="pattern B: wait for the execution to end")
            p.add_argument("--timeout", type=float, default=7200.0, help="seconds to wait (default 7200)")
            p.add_argument("--at", help="the run's intended time, e.g. 2030-01-31T09:00Z (default "
                           "now): a second run for the same minute is the same run, not a new one")
        p.set_defaults(func=func)


__all__ = ["register_cli", "spec_from_args"]

"""The `sfnecs` command: a thin layer over the library (papermill's cli.py style).

Errors print one line to stderr and exit non-zero: 2 for bad usage or parameters, 1 for failures.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

from sfnecs import __version__
from sfnecs.exceptions import SfnecsError, ValidationError


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


# ---- sandbox ------------------------------------------------------------------------------------
def _sandbox_start(args: argparse.Namespace) -> int:
    from sfnecs.sandbox import process

    record = process.start(port=args.port, speed=args.speed)
    print(f"sandbox running (pid {record['pid']}); log: {record['log']}")
    print("use it from any shell with:  export AWS_ENDPOINT_URL=" + record["endpoint"])
    print(record["endpoint"])  # last line: the endpoint, for scripts
    return 0


def _sandbox_status(args: argparse.Namespace) -> int:
    from sfnecs.sandbox import process

    _print(process.status())
    return 0


def _sandbox_stop(args: argparse.Namespace) -> int:
    from sfnecs.sandbox import process

    state = process.stop()
    print(f"sandbox at {state['endpoint']} (pid {state['pid']}) stopped")
    return 0


def _sandbox_reset(args: argparse.Namespace) -> int:
    from sfnecs.sandbox import process

    process.reset()
    print("sandbox reset: every resource, task, fault and blob forgotten")
    return 0


def _running_endpoint() -> str:
    from sfnecs.sandbox import process

    endpoint = process.find_endpoint()
    if endpoint is None:
        raise SfnecsError("no sandbox is running: start one with `sfnecs sandbox start`")
    return endpoint


def _sandbox_clock(args: argparse.Namespace) -> int:
    from sfnecs.sandbox.process import control_request

    payload: dict[str, Any] = {}
    if args.speed is not None:
        payload["speed"] = args.speed
    if args.advance is not None:
        payload["advance_seconds"] = args.advance
    if args.pause:
        payload["pause"] = True
    if args.resume:
        payload["pause"] = False
    _print(control_request(_running_endpoint(), "POST" if payload else "GET", "clock", payload or None))
    return 0


def _sandbox_fault(args: argparse.Namespace) -> int:
    from sfnecs.sandbox.process import control_request

    endpoint = _running_endpoint()
    if args.clear:
        _print(control_request(endpoint, "DELETE", "faults"))
    elif args.kind:
        payload = {"kind": args.kind, "count": args.count}
        for key in ("family", "reason", "exit_code", "message", "seconds"):
            if getattr(args, key) is not None:
                payload[key] = getattr(args, key)
        _print(control_request(endpoint, "POST", "faults", payload))
    else:
        _print(control_request(endpoint, "GET", "faults"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from sfnecs.sandbox.faults import FAULT_KINDS

    parser = argparse.ArgumentParser(prog="sfnecs", description="Run Amazon ECS tasks on a schedule, and learn how.")
    parser.add_argument("--version", action="version", version=f"sfnecs {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sb = sub.add_parser("sandbox", help="the embedded local AWS (start, status, stop, reset, clock, fault)")
    sbs = sb.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sbs.add_parser("start", help="start a sandbox in the background; prints its endpoint last")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free port)")
    p.add_argument("--speed", type=float, default=1.0, help="virtual seconds per real second (default 1)")
    p.set_defaults(func=_sandbox_start)
    sbs.add_parser("status", help="show the running sandbox").set_defaults(func=_sandbox_status)
    sbs.add_parser("stop", help="stop the running sandbox").set_defaults(func=_sandbox_stop)
    sbs.add_parser("reset", help="forget every resource in the running sandbox").set_defaults(func=_sandbox_reset)
    p = sbs.add_parser("clock", help="show or change the virtual clock")
    p.add_argument("--speed", type=float, help="virtual seconds per real second, e.g. 600")
    p.add_argument("--advance", type=float, metavar="SECONDS", help="jump forward by SECONDS")
    p.add_argument("--pause", action="store_true", help="stop time (only --advance moves it)")
    p.add_argument("--resume", action="store_true", help="let time run again")
    p.set_defaults(func=_sandbox_clock)
    p = sbs.add_parser("fault", help="inject a fault into the next launches, list or clear them",
                       description="kinds: " + "; ".join(f"{k}: {v}" for k, v in FAULT_KINDS.items()))
    p.add_argument("kind", nargs="?", choices=sorted(FAULT_KINDS), help="what to inject (omit to list)")
    p.add_argument("--count", type=int, default=1, help="how many launches it applies to (default 1)")
    p.add_argument("--family", help="only launches of this task definition family")
    p.add_argument("--reason", help="runtask_failure reason, e.g. RESOURCE:MEMORY")
    p.add_argument("--exit-code", type=int, dest="exit_code", help="exit_code: the code")
    p.add_argument("--message", help="pull_error: the CannotPullContainerError text")
    p.add_argument("--seconds", type=float, help="spot_interruption: seconds into the run (default 5)")
    p.add_argument("--clear", action="store_true", help="remove every pending fault")
    p.set_defaults(func=_sandbox_fault)

    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands() -> list[Callable[[Any], None]]:
    """Other modules' commands (each module owns its own), keeping this file thin."""
    from sfnecs.cli import runbook as cli_runbook, stack as cli_stack

    return [cli_runbook.register, cli_stack.register_cli]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ValidationError as exc:
        print(f"sfnecs: error: {exc}", file=sys.stderr)
        return 2
    except SfnecsError as exc:
        print(f"sfnecs: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sfnecs: interrupted", file=sys.stderr)
        return 130


"""`sfnecs sandbox start|status|stop|reset|clock|fault`: the CLI face of the embedded local AWS.

Why its own module: each command group owns its parser and handlers, so `sfnecs.cli` stays thin.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from sfnecs.exceptions import SfnecsError
from sfnecs.i18n import tr
from sfnecs.sandbox.faults import FAULT_KINDS


def _process() -> Any:
    """The sandbox's process control, imported when a sandbox command runs (moto's botocore set-up takes
    ~0.15 s: `sfnecs --help` and the other commands do not pay it)."""
    from sfnecs.sandbox import process  # lazy: start-up time of every other `sfnecs` command

    return process


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def _start(args: argparse.Namespace) -> int:
    record = _process().start(port=args.port, speed=args.speed)
    print(tr("sandbox running (pid {pid}); log: {log}", pid=record["pid"], log=record["log"]))
    print(tr("use it from any shell with:  {command}", command="export AWS_ENDPOINT_URL=" + record["endpoint"]))
    print(record["endpoint"])  # last line: the endpoint, for scripts
    return 0


def _status(args: argparse.Namespace) -> int:
    _print(_process().status())
    return 0


def _stop(args: argparse.Namespace) -> int:
    state = _process().stop()
    print(tr("sandbox at {endpoint} (pid {pid}) stopped", endpoint=state["endpoint"], pid=state["pid"]))
    return 0


def _reset(args: argparse.Namespace) -> int:
    _process().reset()
    print(tr("sandbox reset: every resource, task, fault and blob forgotten"))
    return 0


def _running_endpoint() -> str:
    endpoint = _process().find_endpoint()
    if endpoint is None:
        raise SfnecsError(tr("no sandbox is running: start one with `sfnecs sandbox start`"))
    return endpoint


def _clock(args: argparse.Namespace) -> int:
    payload: dict[str, Any] = {}
    if args.speed is not None:
        payload["speed"] = args.speed
    if args.advance is not None:
        payload["advance_seconds"] = args.advance
    if args.pause:
        payload["pause"] = True
    if args.resume:
        payload["pause"] = False
    _print(_process().control_request(_running_endpoint(), "POST" if payload else "GET", "clock", payload or None))
    return 0


def _fault(args: argparse.Namespace) -> int:
    endpoint = _running_endpoint()
    if args.clear:
        _print(_process().control_request(endpoint, "DELETE", "faults"))
    elif args.kind:
        payload = {"kind": args.kind, "count": args.count}
        for key in ("family", "reason", "exit_code", "message", "seconds"):
            if getattr(args, key) is not None:
                payload[key] = getattr(args, key)
        _print(_process().control_request(endpoint, "POST", "faults", payload))
    else:
        _print(_process().control_request(endpoint, "GET", "faults"))
    return 0


def register(sub: Any) -> None:
    """Add `sandbox` and its actions to the `sfnecs` command."""
    sb = sub.add_parser("sandbox", help="the embedded local AWS (start, status, stop, reset, clock, fault)")
    sbs = sb.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sbs.add_parser("start", help="start a sandbox in the background; prints its endpoint last")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free port)")
    p.add_argument("--speed", type=float, default=1.0, help="virtual seconds per real second (default 1)")
    p.set_defaults(func=_start)
    sbs.add_parser("status", help="show the running sandbox").set_defaults(func=_status)
    sbs.add_parser("stop", help="stop the running sandbox").set_defaults(func=_stop)
    sbs.add_parser("reset", help="forget every resource in the running sandbox").set_defaults(func=_reset)
    p = sbs.add_parser("clock", help="show or change the virtual clock")
    p.add_argument("--speed", type=float, help="virtual seconds per real second, e.g. 600")
    p.add_argument("--advance", type=float, metavar="SECONDS", help="jump forward by SECONDS")
    p.add_argument("--pause", action="store_true", help="stop time (only --advance moves it)")
    p.add_argument("--resume", action="store_true", help="let time run again")
    p.set_defaults(func=_clock)
    p = sbs.add_parser(
        "fault",
        help="inject a fault into the next launches, list or clear them",
        description="kinds: " + "; ".join(f"{k}: {v}" for k, v in FAULT_KINDS.items()),
    )
    p.add_argument("kind", nargs="?", choices=sorted(FAULT_KINDS), help="what to inject (omit to list)")
    p.add_argument("--count", type=int, default=1, help="how many launches it applies to (default 1)")
    p.add_argument("--family", help="only launches of this task definition family")
    p.add_argument("--reason", help="runtask_failure reason, e.g. RESOURCE:MEMORY")
    p.add_argument("--exit-code", type=int, dest="exit_code", help="exit_code: the code")
    p.add_argument("--message", help="pull_error: the CannotPullContainerError text")
    p.add_argument("--seconds", type=float, help="spot_interruption: seconds into the run (default 5)")
    p.add_argument("--clear", action="store_true", help="remove every pending fault")
    p.set_defaults(func=_fault)

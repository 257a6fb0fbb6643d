"""`sfnecs prove`: every path of a deployed stack's state machine, proven with TestState (no task runs).

Why its own module: sfnecs.cli stays thin; it calls `register(subparsers)` to add the command, which
takes the same stack flags as plan/apply (sfnecs.cli.stack.add_stack_arguments).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from sfnecs.cli.stack import add_stack_arguments, spec_from_args
from sfnecs.cli.tables import show
from sfnecs.deploy.target import connect


def _prove(args: argparse.Namespace) -> int:
    from sfnecs.proofs import prove  # lazy: pulls pandas (reports), ~0.4 s on every `sfnecs` command

    target = connect(args.target, region=args.region)
    report = prove(target, spec_from_args(args, target), paths=args.path)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        columns = ["path", "state", "expected", "got", "ok", "why"]
        show(report.to_frame()[columns], max_colwidth=60, width=220)  # in the CLI's language
        print(report.summary())
    return 0 if report.passed else 1


def register(subparsers: Any) -> None:
    """Add `prove` to the `sfnecs` command."""
    help_text = "prove every path of the deployed state machine with Step Functions TestState (no task runs)"
    p = subparsers.add_parser("prove", help=help_text, description=help_text)
    add_stack_arguments(p)
    p.add_argument("--path", action="append", help="prove only this path (repeat), e.g. timeout")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_prove)


__all__ = ["register"]

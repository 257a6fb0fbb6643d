"""`sfnecs export`: the stack as Terraform or CloudFormation files (a thin layer over sfnecs.export).

Why its own module: sfnecs.cli stays thin; the stack flags are `plan`'s and `apply`'s
(sfnecs.cli.stack.add_stack_arguments), so the files describe exactly the stack those commands deploy.
"""

from __future__ import annotations

import argparse
from typing import Any

from sfnecs.cli.stack import add_stack_arguments, spec_from_args
from sfnecs.deploy.target import connect
from sfnecs.exceptions import ValidationError

__all__ = ["register"]

FORMAT_NAMES = ("terraform", "cloudformation")


def _export(args: argparse.Namespace) -> int:
    from sfnecs.deploy.verify import check_spec  # lazy: pulls pandas (via sfnecs.iam), as `plan` does
    from sfnecs.export import export_stack  # lazy: same

    if args.format not in FORMAT_NAMES:  # checked before anything connects or is written
        raise ValidationError("format", args.format, "terraform or cloudformation")
    target = connect(args.target, region=args.region)
    spec = check_spec(target, spec_from_args(args, target), args.email)
    print(export_stack(spec, args.format, args.out, force=args.force, existing_cluster=args.existing_cluster,
                       email=args.email or ""))  # fmt: skip
    return 0


def register(subparsers: Any) -> None:
    """Add `export` to the `sfnecs` command."""
    help_text = "write the stack as Terraform or CloudFormation files (changes nothing in AWS)"
    p = subparsers.add_parser("export", help=help_text, description=help_text)
    add_stack_arguments(p)
    # no argparse `choices`: a bad format is one line and exit 2 like every other bad value
    p.add_argument("--format", required=True, metavar="FORMAT", help="terraform or cloudformation")
    p.add_argument("--out", required=True, metavar="DIR", help="the folder to write (created if missing)")
    p.add_argument("--force", action="store_true", help="write even if the folder holds other files")
    p.add_argument("--email", help="subscribe this address to the alert topic (as plan and apply)")
    p.add_argument(
        "--existing-cluster",
        action="store_true",
        dest="existing_cluster",
        help="refer to an existing cluster of the stack's name instead of creating it",
    )
    p.set_defaults(func=_export)

"""`sfnecs runbook list|show|run`: the CLI face of sfnecs.ops.runbook."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from sfnecs.exceptions import RunbookError, ValidationError
from sfnecs.i18n import current_language, tr
from sfnecs.ops import runbook


def _dir(args: argparse.Namespace) -> Path | None:
    return Path(args.dir) if args.dir else None


def _list(args: argparse.Namespace) -> int:
    for name in runbook.list_runbooks(_dir(args)):
        print(name)
    return 0


def _show(args: argparse.Namespace) -> int:
    params = runbook.describe(args.name, _dir(args))
    width = max((len(p.name) for p in params), default=4)
    for p in params:
        print(f"{p.name:<{width}}  {p.type:<5}  default {p.default!r:<24}  {p.help}")
    return 0


def _run(args: argparse.Namespace) -> int:
    params: dict[str, Any] = {}
    if args.file:
        loaded = yaml.safe_load(Path(args.file).read_text()) or {}
        if not isinstance(loaded, dict):
            raise ValidationError("-f", args.file, "a YAML file holding a mapping of parameter names to values")
        params.update(loaded)
    params.update({k: v for k, v in args.param or []})
    if "lang" not in params and any(p.name == "lang" for p in runbook.describe(args.name, _dir(args))):
        params["lang"] = current_language()  # the CLI's: SFNECS_LANG, else the locale (sfnecs.cli._language)
    result = runbook.run(
        args.name,
        params,
        output_dir=args.output,
        directory=_dir(args),
        kernel_name=args.kernel,
        cell_timeout=args.timeout,
        log_output=args.log_output,
    )
    if result.sandbox_started:
        print(
            tr(
                "started a background sandbox at {endpoint}: the next runbooks use it too "
                "(`sfnecs sandbox stop` ends it)",
                endpoint=result.sandbox,
            )
        )
    print(tr("notebook: {path}", path=result.notebook))
    print(tr("result:   {path}", path=result.result_path))
    if not result.ok:
        raise RunbookError(f"runbook {args.name} failed: {result.error}")
    return 0


def register(sub: Any) -> None:
    rb = sub.add_parser("runbook", help="list, show and run the papermill runbooks")
    rbs = rb.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, func, help_text in (
        ("list", _list, "list the runbooks"),
        ("show", _show, "a runbook's parameters: type, default, help"),
        ("run", _run, "execute a runbook; writes runs/<time>-<name>.ipynb and .result.json"),
    ):
        p = rbs.add_parser(name, help=help_text)
        if name != "list":
            p.add_argument("name")
        p.add_argument("--dir", help=argparse.SUPPRESS)
        if name == "run":
            p.add_argument(
                "-p",
                "--param",
                nargs=2,
                action="append",
                metavar=("KEY", "VALUE"),
                help="a parameter (repeatable); values are read as YAML",
            )
            p.add_argument("-f", "--file", help="a YAML file of parameters")
            p.add_argument("--output", default="runs", help="where to write (a folder or an s3:// URL)")
            p.add_argument("--kernel", help="kernel name (default: the runbook's own)")
            p.add_argument("--timeout", type=int, default=runbook.DEFAULT_CELL_TIMEOUT, help="per-cell timeout (s)")
            p.add_argument("--log-output", action="store_true", help="stream cell output to the terminal")
        p.set_defaults(func=func)

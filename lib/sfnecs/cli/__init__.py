"""The `sfnecs` command: a thin layer over the library (papermill's cli.py style).

Each command group lives in its own module (sandbox, runbook, stack, export, prove) and adds its parsers here.
Errors print one line to stderr and exit non-zero: 2 for bad usage or parameters, 1 for failures.
"""

from __future__ import annotations

import argparse
import os
import sys

from sfnecs import __version__
from sfnecs.cli import export, prove, runbook, sandbox, stack
from sfnecs.exceptions import SfnecsError, ValidationError
from sfnecs.i18n import LANGUAGES, language_from_environment, use_language


def build_parser() -> argparse.ArgumentParser:
    """The `sfnecs` parser with every command group's subcommands (each handler is its `func` default)."""
    parser = argparse.ArgumentParser(prog="sfnecs", description="Run Amazon ECS tasks on a schedule, and learn how.")
    parser.add_argument("--version", action="version", version=f"sfnecs {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in (sandbox.register, runbook.register, stack.register, export.register, prove.register):
        register(sub)
    return parser


def _language() -> str:
    """The CLI's language: SFNECS_LANG, else the POSIX locale (LC_ALL, LC_MESSAGES, LANG), else English."""
    try:
        return language_from_environment()
    except ValueError:
        raise ValidationError("SFNECS_LANG", os.environ.get("SFNECS_LANG"), "use " + " or ".join(LANGUAGES)) from None


def main(argv: list[str] | None = None) -> int:
    """Run one `sfnecs` command; returns the exit code (errors become one line on stderr, not a traceback)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with use_language(_language()):
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

"""Tables printed by the CLI, in the reader's language (SFNECS_LANG, else the locale).

Why one place: every command that prints a table (plan, apply, teardown, verify, prove) prints it
the same way, through `sfnecs.i18n.table_text`: the frame keeps its English columns (commands select
by them), the catalog's words are translated as it is shown, and wide characters line up.
"""

from __future__ import annotations

from typing import Any

from sfnecs.i18n import N_, table_text


def show(frame: Any, *, max_colwidth: int = 80, width: int = 200) -> None:
    """Print `frame` without its index, in the current language; '(nothing)' when it is empty."""
    print(table_text(frame, empty=N_("(nothing)"), max_colwidth=max_colwidth, width=width))


__all__ = ["show", "table_text"]

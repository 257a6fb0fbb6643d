"""Tables printed by the CLI, in the reader's language (SFNECS_LANG, else the locale).

Why one place: every command that prints a table (plan, apply, teardown, verify, prove) prints it
the same way: the frame keeps its English columns (commands select by them), `sfnecs.i18n.localize`
translates the catalog's words as it is shown, and Japanese characters count two columns wide so
the columns line up in a terminal.
"""

from __future__ import annotations

from typing import Any

from sfnecs.i18n import current_language, localize, tr


def table_text(frame: Any, *, max_colwidth: int = 80, width: int = 200) -> str:
    """`frame` as the terminal shows it (no index), in the current language; '(nothing)' when empty."""
    if not len(frame):
        return tr("(nothing)")
    import pandas as pd  # lazy: pandas loads only when a command prints a table

    wide = current_language() == "ja"  # count East Asian wide characters as two columns
    with pd.option_context(
        "display.max_colwidth", max_colwidth, "display.width", width, "display.unicode.east_asian_width", wide
    ):
        return str(localize(frame).to_string(index=False))


def show(frame: Any, *, max_colwidth: int = 80, width: int = 200) -> None:
    """Print `frame` as `table_text` renders it."""
    print(table_text(frame, max_colwidth=max_colwidth, width=width))


__all__ = ["show", "table_text"]

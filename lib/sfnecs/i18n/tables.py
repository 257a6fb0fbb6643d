"""Tables shown in the chosen language: the frame keeps its English, what a person sees is translated.

Why at display: lessons and runbooks select columns by their English names (`runs["exit_code"]`),
and tests compare values in English, so a frame's labels and values stay as built. When a frame is
shown (a notebook's rich display), every header, index label and text cell that is a catalog msgid
(marked with `N_` where the table is built) is shown in the current language; anything else (AWS
names, ARNs, log lines, numbers) is shown as it is. Text built with fields is translated where it is
made, with `tr`.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from sfnecs.i18n.catalog import tr, translations
from sfnecs.i18n.language import LANGUAGES, current_language, on_language_chosen

if TYPE_CHECKING:
    import pandas as pd

#: IPython shells whose display already shows tables through `localize`
_INSTALLED: set[int] = set()


def _words(lang: str | None) -> dict[str, str]:
    return translations(lang or current_language())


def word(value: object, lang: str | None = None) -> object:
    """`value` in `lang` when it is a text the catalog knows, else `value` unchanged."""
    return _words(lang).get(value, value) if isinstance(value, str) else value


def localize(table: pd.DataFrame | pd.Series, lang: str | None = None) -> pd.DataFrame | pd.Series:
    """A copy of `table` with the catalog's words translated (labels, label names, text cells); same data otherwise."""
    words = _words(lang)
    if not words:
        return table

    def one(value: object) -> object:
        return words.get(value, value) if isinstance(value, str) else value

    shown = table.rename(index=one, columns=one) if table.ndim == 2 else table.rename(index=one)
    shown.index = shown.index.set_names([one(n) for n in shown.index.names])
    if table.ndim == 2:
        shown.columns = shown.columns.set_names([one(n) for n in shown.columns.names])
        for i in range(shown.shape[1]):  # by position: labels may repeat
            shown.isetitem(i, _text_cells(shown.iloc[:, i], one))
        return shown
    return _text_cells(shown, one).rename(one(shown.name))


def _text_cells(column: pd.Series, one: Any) -> pd.Series:
    """`column` with `one` applied to each cell when it can hold text, its dtype kept otherwise.

    Why not `.map`: it infers a new dtype, so an object column kept on purpose (ints beside floats,
    e.g. `Prices.to_frame()["value"]`) would turn float and print as 4.000000e+03.
    """
    import pandas as pd  # lazy: pandas loads only when a table is shown

    if column.dtype == object:
        return pd.Series([one(v) for v in column], index=column.index, name=column.name, dtype=object)
    if pd.api.types.is_string_dtype(column.dtype) or isinstance(column.dtype, pd.CategoricalDtype):
        return pd.Series([one(v) for v in column], index=column.index, name=column.name)
    return column  # numbers, booleans, times: never a catalog's text


def table_text(table: pd.DataFrame, *, empty: str = "", index: bool = False, **options: Any) -> str:
    """`table` as plain text in the current language (a terminal, a runbook's printed lines): labels and
    the catalog's words translated, Japanese characters counted two columns wide so columns line up.

    `empty`: what an empty table prints as (a catalog text, translated here). `options`: pandas display
    options without their "display." prefix (e.g. max_colwidth=80, width=200).
    """
    if not len(table) and empty:
        return tr(empty)
    import pandas as pd  # lazy: pandas loads only when a table is printed

    settings = [("display.unicode.east_asian_width", current_language() == "ja")]
    settings += [(f"display.{name}", value) for name, value in options.items()]
    with pd.option_context(*(item for pair in settings for item in pair)):
        return str(localize(table).to_string(index=index))


def _plain(table: Any, printer: Any, cycle: bool) -> None:
    import pandas as pd  # lazy: pandas loads only when a table is shown

    with pd.option_context("display.unicode.east_asian_width", current_language() == "ja"):
        printer.text(repr(localize(table)))


def _html(table: Any) -> str | None:
    shown = localize(table)
    return shown._repr_html_() if hasattr(shown, "_repr_html_") else None


def install_display(lang: str) -> bool:
    """Show pandas tables through `localize` in the running IPython kernel (a no-op elsewhere or in English).

    Returns whether the display now localizes (True also when it already did).
    """
    if lang == "en" or "IPython" not in sys.modules:
        return False
    from IPython import get_ipython  # lazy: only inside a kernel

    shell = get_ipython()
    if shell is None:
        return False
    if id(shell) not in _INSTALLED:
        import pandas as pd  # lazy: pandas loads only in a kernel that shows tables

        formatters = shell.display_formatter.formatters
        for kind in (pd.DataFrame, pd.Series):
            formatters["text/plain"].for_type(kind, _plain)
            formatters["text/html"].for_type(kind, _html)
        _INSTALLED.add(id(shell))
    return True


def follow_environment() -> bool:
    """Show tables in SFNECS_LANG's language in a kernel started with it (a notebook that never calls
    set_language: its library text already follows SFNECS_LANG, its tables should too)."""
    lang = os.environ.get("SFNECS_LANG", "")
    return lang in LANGUAGES and install_display(lang)


on_language_chosen(install_display)
follow_environment()

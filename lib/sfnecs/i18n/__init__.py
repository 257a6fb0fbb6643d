"""The kit in more than one language: English by default, Japanese on request.

Why a package at the bottom of the stack: every layer's text for people goes through it. Its
modules: `language` (which language: `lang`, SFNECS_LANG, the locale), `catalog` (`tr`, the
library's `.po` catalogs), `pofiles` (read, merge and write `.po`), `extract` (rebuild the library's
catalogs from the code), `glossary` (AWS's Japanese terms, checked on catalogs), `fonts` (a CJK
font for plots), `tables` (tables shown in the chosen language). The lessons' editions are built
from the same catalogs by `sfnecs.ops.editions`.
"""

from sfnecs.i18n.catalog import N_, tr
from sfnecs.i18n.fonts import MissingFontError, cjk_font, missing_glyphs, prepare_plot_text, use_cjk_font
from sfnecs.i18n.glossary import Term, glossary, glossary_problems
from sfnecs.i18n.language import (
    LANGUAGES,
    check_language,
    current_language,
    language_from_environment,
    set_language,
    use_language,
)
from sfnecs.i18n.tables import install_display, localize, table_text

__all__ = [
    "LANGUAGES",
    "MissingFontError",
    "N_",
    "Term",
    "check_language",
    "cjk_font",
    "current_language",
    "glossary",
    "glossary_problems",
    "install_display",
    "language_from_environment",
    "localize",
    "missing_glyphs",
    "prepare_plot_text",
    "set_language",
    "table_text",
    "tr",
    "use_cjk_font",
    "use_language",
]

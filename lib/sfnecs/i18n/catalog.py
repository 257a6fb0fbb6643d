"""The library's message catalog: English text in the code, its Japanese in locale/ja.po (gettext).

Why gettext `.po` read with Babel: translators and their tools know the format, the English stays
the msgid (so the code reads as before and English needs no catalog), and one `.po` per language
holds everything people read from the library. `tr("...{field}...", field=value)` looks the text
up in the current language and fills `str.format` fields after translation, so the Japanese may
put them in its own order. `N_` marks text defined before the language is known (tables of rules):
it returns the text unchanged, extraction finds it, and `tr` translates it where it is shown.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from sfnecs.i18n.language import check_language, current_language

#: where each language's library catalog lives (package data)
LOCALE = Path(__file__).with_name("locale")
#: the call names extraction looks for (sfnecs.i18n.extract)
KEYWORDS = {"tr": None, "N_": None}


def catalog_path(lang: str) -> Path:
    """The `.po` file of `lang`'s library messages."""
    return LOCALE / f"{check_language('lang', lang)}.po"


@cache
def translations(lang: str) -> dict[str, str]:
    """msgid -> translation for `lang`: only entries translated and not fuzzy (a stale one reads as English)."""
    if lang == "en":
        return {}
    from sfnecs.i18n.pofiles import read_catalog, translated  # lazy: Babel loads only when a translation is read

    return {msgid: string for msgid, string, _ in translated(read_catalog(catalog_path(lang), lang))}


def tr(msgid: str, lang: str | None = None, **fields: Any) -> str:
    """`msgid` in `lang` (default: the current language), with `fields` filled in; English when untranslated."""
    text = translations(lang or current_language()).get(msgid, msgid)
    return text.format(**fields) if fields else text


def N_(msgid: str) -> str:  # noqa: N802 (gettext's name for "mark, translate later")
    """Mark `msgid` for extraction without translating it now (it is translated by `tr` where shown)."""
    return msgid
